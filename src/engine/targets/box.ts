/**
 * `box:K` — detection K of a detector's output (after decoding, the score threshold and
 * class-wise NMS, by descending score).
 *
 * Gradient methods differentiate box K's confidence at its own row (anchor) of the output: the
 * class score (YOLOv8), objectness × class probability (YOLOv5: a product, so the seed is taken
 * at each row's forward value), or a post-NMS output's score. `box:K+iou` multiplies by the IoU
 * of the row's box with box K as first decoded (pytorch-grad-cam's FasterRCNNBoxScoreTarget
 * adds the IoU to the score; a product keeps the target's value the box's score on the clean
 * input, where the IoU is 1), so the map also explains where the box is.
 *
 * Perturbation methods re-decode each perturbed output and match box K by IoU: the score is
 * the largest confidence × IoU(box, box K) over the perturbed output's boxes of K's class
 * (every anchor of a raw head, before the threshold and NMS, so the score falls smoothly as
 * the object fades; the post-NMS rows of other outputs). On the clean input it is box K's score.
 */
import { AttrLensError } from '../core/errors';
import { LoadedModel } from '../model/loadedModel';
import { discoverLabels } from '../onnx/labels';
import { outputActivation } from '../onnx/outputKind';
import { Tensor, asFloat32, sizeOf } from '../core/tensor';
import {
  Box,
  Candidate,
  DETECTION_FORMATS,
  DEFAULT_IOU_THRESHOLD,
  DEFAULT_SCORE_THRESHOLD,
  DecodeOptions,
  DetectionFormat,
  RawFormat,
  RawLayout,
  decodeEnd2End,
  decodeNms,
  decodeRaw,
  decodeSelected,
  guessRawFormat,
  iou,
  iouGradXywh,
  rawLayout,
  xywhToXyxy,
} from './detections';
import { OutputKind, OutputSettings, Target, TargetEnv, TargetItem, TargetKind } from './types';

// ---------------------------------------------------------------- recognising

function metadataOf(lm: LoadedModel): Map<string, string> {
  return new Map((lm.model.proto.metadataProps ?? []).map((p) => [(p.key ?? '').toLowerCase(), p.value ?? '']));
}

/** The graph outputs of a post-NMS detector: boxes [1?, N, 4], scores [1?, N], labels [1?, N]. */
interface NmsOutputs {
  boxes: string;
  scores: string;
  labels?: string;
  /** an ONNX NonMaxSuppression's selected_indices [K, 3], when its boxes and scores inputs are outputs too */
  selected?: string;
  centerPointBox?: number;
}

function findNmsOutputs(lm: LoadedModel): NmsOutputs | undefined {
  const outs = lm.outputs;
  const dimsOf = (o: (typeof outs)[number]) => o.dims.map((d) => (typeof d === 'number' ? d : -1));
  // a NonMaxSuppression node whose output and inputs are all graph outputs
  for (const n of lm.model.graph.node) {
    if (n.opType !== 'NonMaxSuppression') continue;
    const names = new Set(outs.map((o) => o.name));
    const [boxes, scores] = n.input;
    if (names.has(n.output[0]) && names.has(boxes) && names.has(scores)) {
      const cpb = n.attribute?.find((a) => a.name === 'center_point_box');
      return { boxes, scores, selected: n.output[0], centerPointBox: Number(cpb?.i ?? 0) };
    }
  }
  // by name (boxes / scores / labels, as torchvision and most NMS exports call them), else by
  // declared shape; declared dims, when there are any, must agree: boxes [.., N, 4], scores and labels [.., N]
  const known = (o: (typeof outs)[number]) => o.dims.length > 0;
  const byName = (re: RegExp) => outs.find((o) => re.test(o.name));
  const boxes = byName(/box/i) ?? outs.find((o) => o.dtype === 'float32' && [2, 3].includes(o.dims.length) && o.dims[o.dims.length - 1] === 4);
  if (!boxes || (known(boxes) && (dimsOf(boxes)[boxes.dims.length - 1] !== 4 || ![2, 3].includes(boxes.dims.length)))) return undefined;
  const rank = known(boxes) ? boxes.dims.length - 1 : undefined;
  const fits = (o: (typeof outs)[number] | undefined) => !!o && o !== boxes && (!known(o) || rank === undefined || o.dims.length === rank);
  const scores = byName(/score|conf/i) ?? outs.find((o) => o !== boxes && o.dtype === 'float32' && rank !== undefined && o.dims.length === rank);
  if (!scores || !fits(scores) || scores.dtype !== 'float32') return undefined;
  const labels = byName(/label|class/i) ?? outs.find((o) => o !== boxes && o !== scores && rank !== undefined && o.dims.length === rank);
  if (rank !== undefined && known(scores)) {
    const n = dimsOf(boxes)[rank - 1], m = dimsOf(scores)[rank - 1];
    if (n > 0 && m > 0 && n !== m) return undefined;
  }
  return { boxes: boxes.name, scores: scores.name, labels: labels && labels !== scores && fits(labels) ? labels.name : undefined };
}

function checkFormat(format: string): DetectionFormat {
  if (!DETECTION_FORMATS.includes(format as DetectionFormat)) {
    throw new AttrLensError(`"output.format" ${JSON.stringify(format)} is not a detection format; use one of ${DETECTION_FORMATS.map((f) => `"${f}"`).join(', ')}`);
  }
  return format as DetectionFormat;
}

/**
 * Claims a detection output: from the config (`"output": {"kind": "detection", "format": ...}`),
 * Ultralytics' metadata (`task` detect or segment: the first output is the raw head), or a
 * post-NMS set of outputs (boxes, scores, labels; or a NonMaxSuppression's selection).
 */
function recognise(lm: LoadedModel, output: string, dims: number[], settings: OutputSettings): OutputKind | undefined {
  const meta = metadataOf(lm);
  const task = meta.get('task');
  const made = (format: DetectionFormat, why: string): OutputKind => ({
    kind: 'detection',
    output,
    dims,
    activation: outputActivation(lm.model, output),
    why,
    settings: { ...settings, kind: 'detection', format, iou: settings.iou ?? DEFAULT_IOU_THRESHOLD, threshold: settings.threshold ?? DEFAULT_SCORE_THRESHOLD },
  });
  const classes = discoverLabels(lm.model)?.labels.length;
  const configured = settings.kind === 'detection' || settings.format !== undefined;
  if (settings.format) {
    const f = checkFormat(settings.format);
    if ((f === 'yolov8' || f === 'yolov8-rows' || f === 'yolov5') && dims.length !== 3) {
      throw new AttrLensError(`${lm.label}: the config says output '${output}' is a ${f} head, but it has shape [${dims}]; raw heads are [1, 4+C, N] (yolov8), [1, N, 4+C] (yolov8-rows) or [1, N, 5+C] (yolov5)`);
    }
    return made(f, 'model.attrlens.json');
  }
  const nmsOut = findNmsOutputs(lm);
  if (nmsOut && [nmsOut.boxes, nmsOut.scores, nmsOut.labels, nmsOut.selected].includes(output)) return made('nms', nmsOut.selected ? 'a NonMaxSuppression node' : 'post-NMS outputs (boxes, scores, labels)');
  const ultralytics = (task === 'detect' || task === 'segment') && output === lm.outputs[0].name;
  // without metadata, a head whose channels are 4 + the labels' count (and many more anchors) is one
  const byShape =
    !task && classes !== undefined && dims.length === 3 && dims[0] === 1 && classes !== dims[2] &&
    ((dims[1] === 4 + classes && dims[2] >= 8 * dims[1]) || (dims[1] >= 8 * dims[2] && (dims[2] === 4 + classes || dims[2] === 5 + classes)));
  if (!ultralytics && !configured && !byShape) return undefined;
  const why = configured ? 'model.attrlens.json' : ultralytics ? `Ultralytics metadata (task ${task})` : `${classes} labels`;
  if (dims.length === 3 && dims[2] >= 6 && dims[2] <= 7 && /true/i.test(meta.get('end2end') ?? '')) return made('end2end', `${why}, end2end`);
  const f = guessRawFormat(dims, classes);
  if (!f) {
    if (configured) throw new AttrLensError(`${lm.label}: output '${output}' [${dims}] is not a detection head; set "output.format" to one of ${DETECTION_FORMATS.join(', ')}`);
    return undefined;
  }
  return made(f, `${why}, shape [${dims}] as ${f}`);
}

// ---------------------------------------------------------------- decoding

/** How to decode an env's detection output, and which outputs it reads. */
export interface DetectionSetup {
  format: DetectionFormat;
  /** the differentiated output: the raw head, or the post-NMS scores */
  output: string;
  reads: string[];
  opts: DecodeOptions;
  layout?: RawLayout;
  nms?: NmsOutputs;
}

export function detectionSetup(lm: LoadedModel, kind: OutputKind, labels?: string[]): DetectionSetup {
  const format = checkFormat(kind.settings.format ?? guessRawFormat(kind.dims, labels?.length) ?? 'yolov8');
  const opts: DecodeOptions = { scoreThreshold: kind.settings.threshold ?? DEFAULT_SCORE_THRESHOLD, iouThreshold: kind.settings.iou ?? DEFAULT_IOU_THRESHOLD };
  if (format === 'nms') {
    const nms = findNmsOutputs(lm);
    if (!nms) throw new AttrLensError(`${lm.label}: no post-NMS outputs found (boxes [N, 4] with scores [N] and labels [N], or a NonMaxSuppression's selected indices with its boxes and scores as outputs)`);
    const reads = [nms.boxes, nms.scores, ...(nms.labels ? [nms.labels] : []), ...(nms.selected ? [nms.selected] : [])];
    return { format, output: nms.scores, reads, opts, nms };
  }
  if (format === 'end2end') return { format, output: kind.output, reads: [kind.output], opts };
  const layout = rawLayout(kind.dims, format as RawFormat);
  // Ultralytics segmentation heads append mask coefficients after the class scores
  if (labels && labels.length < layout.classes) layout.classes = labels.length;
  if (layout.classes < 1) throw new AttrLensError(`${lm.label}: output '${kind.output}' [${kind.dims}] has no class channels as a ${format} head`);
  return { format, output: kind.output, reads: [kind.output], opts, layout };
}

/** Batch row `r` of `t` (a post-NMS output without a batch axis is one row). */
function batchRow(t: Tensor, r: number, unbatchedRank: number): Tensor {
  if (t.dims.length === unbatchedRank) return t;
  const per = sizeOf(t.dims.slice(1));
  return { ...t, dims: [1, ...t.dims.slice(1)], data: t.data.subarray(r * per, (r + 1) * per) as Tensor['data'] };
}

/** Rows in a batch of outputs (1 for post-NMS outputs without a batch axis). */
export function detectionRows(setup: DetectionSetup, outs: Record<string, Tensor>): number {
  if (setup.nms?.selected) return outs[setup.nms.boxes].dims[0];
  const t = outs[setup.output];
  return setup.format === 'nms' && t.dims.length === 1 ? 1 : setup.format === 'end2end' && t.dims.length === 2 ? 1 : t.dims[0];
}

/** The detections of batch row `r` of `outs`; `all` keeps every candidate (no threshold, no NMS). */
export function decodeRow(setup: DetectionSetup, outs: Record<string, Tensor>, r = 0, all = false): Candidate[] {
  const opts: DecodeOptions = all ? { scoreThreshold: -Infinity, iouThreshold: Infinity, maxDetections: Infinity } : setup.opts;
  if (setup.layout) {
    const t = outs[setup.output];
    const per = sizeOf(t.dims.slice(1));
    return decodeRaw(asFloat32(t).subarray(r * per, (r + 1) * per), setup.layout, opts);
  }
  if (setup.format === 'end2end') return decodeEnd2End(batchRow(outs[setup.output], r, 2), opts);
  const n = setup.nms!;
  if (n.selected) {
    // the selection's batch column picks the row
    const sel = outs[n.selected];
    const rows = Array.from(sel.data as ArrayLike<number | bigint>, Number);
    const mine: bigint[] = [];
    for (let i = 0; i < rows.length; i += 3) if (rows[i] === r) mine.push(0n, BigInt(rows[i + 1]), BigInt(rows[i + 2]));
    const selected: Tensor = { dtype: 'int64', dims: [mine.length / 3, 3], data: BigInt64Array.from(mine) };
    return decodeSelected(selected, batchRow(outs[n.boxes], r, 2), batchRow(outs[n.scores], r, 2), n.centerPointBox, opts);
  }
  return decodeNms({ boxes: batchRow(outs[n.boxes], r, 2), scores: batchRow(outs[n.scores], r, 1), labels: n.labels ? batchRow(outs[n.labels], r, 1) : undefined }, opts);
}

// ---------------------------------------------------------------- the target kind

/** What a resolved box target is about: for methods that need more than its score (D-RISE). */
export interface BoxDetails {
  setup: DetectionSetup;
  detection: Candidate;
  /** the class scores of box K's row (raw heads), else undefined */
  probs?: Float32Array;
}
const details = new WeakMap<Target, BoxDetails>();

/** The detection behind a `box:K` target, or undefined for other targets. */
export function boxDetails(t: Target | undefined): BoxDetails | undefined {
  return t ? details.get(t) : undefined;
}

export interface BoxArg {
  k: number;
  iou: boolean;
}

interface Detected {
  setup: DetectionSetup;
  dets: Candidate[];
}

const cache = new WeakMap<TargetEnv, Detected>();
function detected(env: TargetEnv): Detected {
  let d = cache.get(env);
  if (!d) {
    const setup = detectionSetup(env.lm, env.kind, env.labels);
    cache.set(env, (d = { setup, dets: decodeRow(setup, env.clean) }));
  }
  return d;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

function itemOf(d: Candidate, k: number, labels?: string[]): TargetItem {
  return {
    target: `box:${k}`,
    index: k,
    box: d.box.map((v) => round(v, 1)),
    class: d.class,
    ...(labels?.[d.class] !== undefined ? { label: labels[d.class] } : {}),
    score: round(d.score, 4),
    ...(d.objectness !== undefined ? { objectness: round(d.objectness, 4) } : {}),
  };
}

function summary(env: TargetEnv): string {
  const { dets, setup } = detected(env);
  if (!dets.length) return `detections: none above the score threshold ${setup.opts.scoreThreshold}`;
  return `detections: ${dets.map((d, k) => `box:${k} ${env.labels?.[d.class] ?? `class ${d.class}`} ${d.score.toFixed(3)} [${d.box.map((v) => Math.round(v)).join(',')}]`).join(', ')}`;
}

/** The largest confidence × IoU with `box` over a raw head row's anchors of class `cls`. */
function rawMatch(row: Float32Array, layout: RawLayout, cls: number, box: Box): number {
  const { at, objectness } = layout;
  const ch = (objectness ? 5 : 4) + cls;
  let best = 0;
  for (let n = 0; n < layout.anchors; n++) {
    const conf = (objectness ? row[at(n, 4)] : 1) * row[at(n, ch)];
    if (!(conf > best)) continue;
    const v = conf * iou(xywhToXyxy(row[at(n, 0)], row[at(n, 1)], row[at(n, 2)], row[at(n, 3)]), box);
    if (v > best) best = v;
  }
  return best;
}

export const boxKind: TargetKind<BoxArg> = {
  name: 'box',
  syntax: 'box:K[+iou]',
  listKey: 'detections',
  recognise,
  fits: (kind) => kind.kind === 'detection',
  parse(arg) {
    const m = /^(\d+)(\+iou)?$/i.exec(arg.trim());
    if (!m) throw new AttrLensError(`box target 'box:${arg}' is not box:K or box:K+iou (K a detection's rank, 0 the highest score)`, 'EBADTARGET');
    return { k: Number(m[1]), iou: !!m[2] };
  },
  list: (env) => detected(env).dets.map((d, k) => itemOf(d, k, env.labels)),
  summary,
  resolve({ k, iou: withIou }, env) {
    const { setup, dets } = detected(env);
    if (k >= dets.length) {
      const found = dets.length ? `there ${dets.length === 1 ? 'is 1 detection' : `are ${dets.length} detections`} (box:0..box:${dets.length - 1})` : 'there are no detections';
      throw new AttrLensError(`box:${k} does not exist: ${found} on output '${env.output}' of ${env.lm.label}; ${summary(env)}`, 'EBADTARGET');
    }
    const d = dets[k];
    const label = env.labels?.[d.class];
    const outDims = env.clean[setup.output]?.dims ?? env.kind.dims;
    const per = sizeOf(outDims.slice(1));
    const target: Target = {
      kind: 'box',
      text: `box:${k}${withIou ? '+iou' : ''}`,
      index: d.class,
      label,
      output: setup.output,
      reads: setup.reads,
      info: { detection: itemOf(d, k, env.labels), match: 'max over boxes of the class of confidence × IoU with box K' },
      score(outs) {
        const rows = detectionRows(setup, outs);
        const r = new Float64Array(rows);
        for (let i = 0; i < rows; i++) {
          if (setup.layout) {
            const t = outs[setup.output];
            const p = sizeOf(t.dims.slice(1));
            r[i] = rawMatch(asFloat32(t).subarray(i * p, (i + 1) * p), setup.layout, d.class, d.box);
          } else {
            for (const c of decodeRow(setup, outs, i, true)) if (c.class === d.class) r[i] = Math.max(r[i], c.score * iou(c.box, d.box));
          }
        }
        return r;
      },
    };
    details.set(target, { setup, detection: d, probs: d.probs });
    const L = setup.layout;
    if (L) {
      const first = L.objectness ? 5 : 4;
      const cls = L.at(d.row, first + d.class);
      if (!L.objectness && !withIou) {
        target.weights = new Float32Array(per);
        target.weights[cls] = 1;
      } else {
        target.seedAt = (row) => {
          const g = new Float32Array(per);
          const obj = L.objectness ? row[L.at(d.row, 4)] : 1;
          const p = row[cls];
          const box = [0, 1, 2, 3].map((j) => row[L.at(d.row, j)]) as [number, number, number, number];
          const ov = withIou ? iou(xywhToXyxy(...box), d.box) : 1;
          g[cls] = obj * ov;
          if (L.objectness) g[L.at(d.row, 4)] = p * ov;
          if (withIou) iouGradXywh(...box, d.box).forEach((v, j) => (g[L.at(d.row, j)] = obj * p * v));
          return g;
        };
      }
    } else {
      if (withIou) throw new AttrLensError(`box:${k}+iou needs a raw detection head (yolov8, yolov5); output '${env.output}' is post-NMS (${setup.format}): use box:${k}`, 'EBADTARGET');
      target.weights = new Float32Array(per);
      if (setup.format === 'end2end') target.weights[d.row * outDims[outDims.length - 1] + 4] = 1;
      else if (setup.nms?.selected) target.weights[dets[k].class * (outDims[2] ?? 0) + d.row] = 1;
      else target.weights[d.row] = 1;
    }
    return target;
  },
};
