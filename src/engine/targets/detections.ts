/**
 * Detection outputs: decoding raw YOLO-style heads and post-NMS outputs into boxes in input
 * pixels, the score threshold and class-wise non-maximum suppression.
 *
 * Raw heads (Ultralytics, see ../shared/notes/model-conventions.md):
 *  - 'yolov8':      [1, 4+C, N]  cx, cy, w, h, then C class scores in 0..1 (no objectness);
 *  - 'yolov8-rows': [1, N, 4+C]  the same, one row per anchor;
 *  - 'yolov5':      [1, N, 5+C]  cx, cy, w, h, objectness, C class probabilities; a box's
 *                                confidence is objectness × class probability.
 * Post-NMS outputs:
 *  - 'end2end':     [1, N, 6] or [N, 6] rows of x0, y0, x1, y1, score, class (YOLOv10, end2end exports);
 *  - 'nms':         separate boxes [1?, N, 4] (x0, y0, x1, y1), scores [1?, N], labels [1?, N].
 */
import { Tensor, asFloat32, sizeOf } from '../core/tensor';

export type Box = [number, number, number, number];
export type RawFormat = 'yolov8' | 'yolov8-rows' | 'yolov5';
export type DetectionFormat = RawFormat | 'end2end' | 'nms';
export const DETECTION_FORMATS: readonly DetectionFormat[] = ['yolov8', 'yolov8-rows', 'yolov5', 'end2end', 'nms'];

export interface DecodeOptions {
  /** confidence below which candidates are dropped (Ultralytics' default 0.25) */
  scoreThreshold?: number;
  /** class-wise NMS IoU threshold (default 0.45) */
  iouThreshold?: number;
  /** at most this many detections (default 300, as Ultralytics) */
  maxDetections?: number;
}
export const DEFAULT_SCORE_THRESHOLD = 0.25;
export const DEFAULT_IOU_THRESHOLD = 0.45;

/** One candidate box of a head: its row (anchor) and what it says. */
export interface Candidate {
  /** anchor index of a raw head, or row of a post-NMS output */
  row: number;
  /** x0, y0, x1, y1 in input pixels */
  box: Box;
  class: number;
  /** confidence: the class score (× objectness for YOLOv5 heads) */
  score: number;
  /** YOLOv5 heads' objectness */
  objectness?: number;
  /** the row's class scores (probabilities), for D-RISE's similarity */
  probs?: Float32Array;
}

/** Where a raw head's values are: element offset of (anchor, channel) in the batch-1 row. */
export interface RawLayout {
  format: RawFormat;
  classes: number;
  anchors: number;
  /** channels per anchor: 4 + C, or 5 + C with objectness */
  channels: number;
  objectness: boolean;
  at(anchor: number, channel: number): number;
}

/** The layout of a raw head of batch-1 dims [1, A, B] in `format`. */
export function rawLayout(dims: number[], format: RawFormat): RawLayout {
  if (dims.length !== 3) throw new Error(`a ${format} head is [1, channels, anchors] or [1, anchors, channels], not [${dims}]`);
  const [, a, b] = dims;
  if (format === 'yolov8') return { format, classes: a - 4, anchors: b, channels: a, objectness: false, at: (n, j) => j * b + n };
  const objectness = format === 'yolov5';
  return { format, classes: b - (objectness ? 5 : 4), anchors: a, channels: b, objectness, at: (n, j) => n * b + j };
}

/**
 * The raw format of dims [1, A, B]: channels first when there are fewer channels than anchors
 * (YOLOv8 and later); else rows of 4 + C (when C is known and fits) or 5 + C (YOLOv5).
 */
export function guessRawFormat(dims: number[], classes?: number): RawFormat | undefined {
  if (dims.length !== 3 || dims[0] !== 1) return undefined;
  const [, a, b] = dims;
  if (a < b) return a > 4 ? 'yolov8' : undefined;
  if (classes !== undefined && b === 4 + classes) return 'yolov8-rows';
  return b > 5 ? 'yolov5' : undefined;
}

export function xywhToXyxy(cx: number, cy: number, w: number, h: number): Box {
  w = Math.max(0, w);
  h = Math.max(0, h);
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

export function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * d IoU(box, fixed) / d (cx, cy, w, h) of `box` given as centre and size: the gradient a
 * box-score × IoU target seeds the head's box channels with.
 */
export function iouGradXywh(cx: number, cy: number, w: number, h: number, fixed: Box): [number, number, number, number] {
  const [x0, y0, x1, y1] = xywhToXyxy(cx, cy, w, h);
  const iw = Math.min(x1, fixed[2]) - Math.max(x0, fixed[0]);
  const ih = Math.min(y1, fixed[3]) - Math.max(y0, fixed[1]);
  if (iw <= 0 || ih <= 0 || w <= 0 || h <= 0) return [0, 0, 0, 0];
  const inter = iw * ih;
  const union = w * h + area(fixed) - inter;
  // d inter / d edge: an edge moves the intersection only where it is the binding one
  const dx0 = x0 > fixed[0] ? -ih : 0;
  const dx1 = x1 < fixed[2] ? ih : 0;
  const dy0 = y0 > fixed[1] ? -iw : 0;
  const dy1 = y1 < fixed[3] ? iw : 0;
  const dInter = [dx0 + dx1, dy0 + dy1, (dx1 - dx0) / 2, (dy1 - dy0) / 2];
  const dArea = [0, 0, h, w];
  return dInter.map((di, k) => (di * union - inter * (dArea[k] - di)) / (union * union)) as [number, number, number, number];
}

/** Every anchor of a raw head as a candidate: its box, best class and confidence. */
export function rawCandidates(row: Float32Array, layout: RawLayout, minScore = -Infinity, withProbs = false): Candidate[] {
  const { at, classes, objectness } = layout;
  const out: Candidate[] = [];
  for (let n = 0; n < layout.anchors; n++) {
    const obj = objectness ? row[at(n, 4)] : 1;
    const first = objectness ? 5 : 4;
    let best = 0, bestP = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = row[at(n, first + c)];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    const score = obj * bestP;
    if (!(score >= minScore)) continue;
    const box = xywhToXyxy(row[at(n, 0)], row[at(n, 1)], row[at(n, 2)], row[at(n, 3)]);
    const c: Candidate = { row: n, box, class: best, score };
    if (objectness) c.objectness = obj;
    if (withProbs) {
      const probs = new Float32Array(classes);
      for (let k = 0; k < classes; k++) probs[k] = row[at(n, first + k)];
      c.probs = probs;
    }
    out.push(c);
  }
  return out;
}

/** Class-wise greedy NMS: candidates by descending score, dropping any that overlaps a kept box of its class by more than `iouThreshold`. */
export function nms(cands: Candidate[], iouThreshold = DEFAULT_IOU_THRESHOLD, maxDetections = 300): Candidate[] {
  const sorted = [...cands].sort((a, b) => b.score - a.score || a.row - b.row);
  const kept: Candidate[] = [];
  for (const c of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => k.class === c.class && iou(k.box, c.box) > iouThreshold)) continue;
    kept.push(c);
  }
  return kept;
}

/** Detections of a raw head's batch-1 row: threshold, class-wise NMS, by descending score. */
export function decodeRaw(row: Float32Array, layout: RawLayout, opts: DecodeOptions = {}): Candidate[] {
  const cands = rawCandidates(row, layout, opts.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD, true);
  return nms(cands, opts.iouThreshold ?? DEFAULT_IOU_THRESHOLD, opts.maxDetections ?? 300);
}

/** Post-NMS tensors of one image (a leading batch axis of 1 is dropped). */
export interface NmsTensors {
  boxes: Tensor;
  scores: Tensor;
  labels?: Tensor;
}

function unbatched(t: Tensor, rank: number): { dims: number[]; data: Float32Array } {
  const dims = t.dims.length === rank + 1 && t.dims[0] === 1 ? t.dims.slice(1) : t.dims;
  if (dims.length !== rank) throw new Error(`expected a rank-${rank} tensor (or with a batch axis of 1), got [${t.dims}]`);
  return { dims, data: t.dtype === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number | bigint>, Number) };
}

/**
 * Detections of post-NMS outputs (boxes x0, y0, x1, y1 in input pixels): rows whose score
 * reaches the threshold (padded rows of end2end exports score 0), by descending score. The
 * model did the NMS; `row` is the index into its outputs.
 */
export function decodeNms(t: NmsTensors, opts: DecodeOptions = {}): Candidate[] {
  const boxes = unbatched(t.boxes, 2);
  const scores = unbatched(t.scores, 1);
  const labels = t.labels ? unbatched(t.labels, 1) : undefined;
  if (boxes.dims[1] !== 4 || boxes.dims[0] !== scores.dims[0] || (labels && labels.dims[0] !== scores.dims[0])) {
    throw new Error(`post-NMS outputs disagree: boxes [${t.boxes.dims}], scores [${t.scores.dims}]${t.labels ? `, labels [${t.labels.dims}]` : ''}`);
  }
  return collect(scores.dims[0], (n) => [boxes.data[4 * n], boxes.data[4 * n + 1], boxes.data[4 * n + 2], boxes.data[4 * n + 3]], (n) => scores.data[n], (n) => (labels ? labels.data[n] : 0), opts);
}

/** Detections of an end2end output [1?, N, 6]: x0, y0, x1, y1, score, class per row. */
export function decodeEnd2End(t: Tensor, opts: DecodeOptions = {}): Candidate[] {
  const { dims, data } = unbatched(t, 2);
  const k = dims[1];
  if (k < 6) throw new Error(`an end2end output has rows of x0, y0, x1, y1, score, class; got [${t.dims}]`);
  return collect(dims[0], (n) => [data[k * n], data[k * n + 1], data[k * n + 2], data[k * n + 3]], (n) => data[k * n + 4], (n) => data[k * n + 5], opts);
}

/**
 * Detections selected by an ONNX NonMaxSuppression node: `selected` [K, 3] rows of (batch,
 * class, box) into its inputs `boxes` [B, N, 4] and `scores` [B, C, N]; `centerPointBox` is the
 * node's attribute (1: boxes as cx, cy, w, h; 0: y0, x0, y1, x1, as the ONNX spec orders them).
 */
export function decodeSelected(selected: Tensor, boxes: Tensor, scores: Tensor, centerPointBox = 0, opts: DecodeOptions = {}): Candidate[] {
  const sel = Array.from(selected.data as ArrayLike<number | bigint>, Number);
  const b = asFloat32(boxes);
  const s = asFloat32(scores);
  const [, n] = boxes.dims;
  const classes = scores.dims[1];
  const count = sel.length / 3;
  const boxOf = (i: number): Box => {
    const [batch, , j] = [sel[3 * i], sel[3 * i + 1], sel[3 * i + 2]];
    const o = (batch * n + j) * 4;
    if (centerPointBox) return xywhToXyxy(b[o], b[o + 1], b[o + 2], b[o + 3]);
    const [y0, x0, y1, x1] = [b[o], b[o + 1], b[o + 2], b[o + 3]];
    return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
  };
  const scoreOf = (i: number) => s[(sel[3 * i] * classes + sel[3 * i + 1]) * n + sel[3 * i + 2]];
  return collect(count, boxOf, scoreOf, (i) => sel[3 * i + 1], opts).map((c) => ({ ...c, row: sel[3 * c.row + 2] }));
}

function collect(count: number, boxOf: (n: number) => Box, scoreOf: (n: number) => number, classOf: (n: number) => number, opts: DecodeOptions): Candidate[] {
  const min = opts.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
  const out: Candidate[] = [];
  for (let n = 0; n < count; n++) {
    const score = scoreOf(n);
    if (score >= min) out.push({ row: n, box: boxOf(n), class: Math.round(classOf(n)), score });
  }
  out.sort((a, b) => b.score - a.score || a.row - b.row);
  return out.slice(0, opts.maxDetections ?? 300);
}

/** The batch-1 row `r` of a batched tensor as float32. */
export function rowOf(t: Tensor, r: number): Float32Array {
  const per = sizeOf(t.dims.slice(1));
  return asFloat32(t).subarray(r * per, (r + 1) * per);
}
