import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { AttrLensError } from '../engine/core/errors';
import { loadInputs } from '../engine/inputs';
import { LoadedModel } from '../engine/model/loadedModel';
import { deletionInsertion, pointingGame } from '../engine/metrics';
import { attribute, getMethod, labelsOf, predict } from '../engine/methods/registry';
import { ImageLayout, imageLayout } from '../engine/methods/spatial';
import { Tensor } from '../engine/core/tensor';

export interface EvaluateOptions {
  model: string;
  /** folder with manifest.json */
  images: string;
  /** method ids; empty = the default set */
  methods: string[];
  /** explain the true label (default) or the predicted class */
  target?: 'true' | 'predicted';
  json?: boolean;
  log: (line: string) => void;
}

export interface ImageScore {
  image: string;
  target: number;
  hit: boolean;
  deletionAuc: number;
  insertionAuc: number;
  seconds: number;
}

export interface MethodScore {
  method: string;
  params: Record<string, unknown>;
  /** images whose attribution maximum lies on the object */
  hits: number;
  n: number;
  /** mean over images; lower is better */
  deletionAuc: number;
  /** mean over images; higher is better */
  insertionAuc: number;
  /** total attribution time */
  seconds: number;
  images: ImageScore[];
  error?: string;
}

export interface EvaluateReport {
  model: string;
  images: number;
  target: 'true' | 'predicted';
  steps: number;
  methods: MethodScore[];
}

interface ManifestEntry {
  image: string;
  mask: string;
  label?: string;
  labelIndex?: number;
}

export const DEFAULT_EVALUATE_METHODS = ['saliency', 'integrated-gradients', 'gradcam', 'occlusion', 'feature-ablation'];
const STEPS = 20;
// Methods whose cost grows with the number of features get the patch grid as featureMask.
const FEATURE_METHODS = new Set(['feature-ablation', 'feature-permutation', 'shapley-value-sampling', 'lime', 'kernel-shap']);

function readManifest(dir: string): { labels?: string[]; images: ManifestEntry[] } {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw new AttrLensError(`${file} not found: --images must be a folder with manifest.json ({ "images": [{ "image", "mask", "labelIndex" }] })`);
  let m: { labels?: string[]; images?: ManifestEntry[] };
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof m;
  } catch (e) {
    throw new AttrLensError(`${file} is not valid JSON (${(e as Error).message}); fix the file`);
  }
  if (!Array.isArray(m.images) || m.images.length === 0 || !m.images.every((e) => typeof e.image === 'string' && typeof e.mask === 'string')) {
    throw new AttrLensError(`${file} needs "images": a non-empty list of { "image": FILE, "mask": FILE, "labelIndex": N }`);
  }
  return { labels: m.labels, images: m.images };
}

/** The ground-truth mask as one 0/1 per input pixel (white = object), resized to the input. */
async function readMask(file: string, image: ImageLayout): Promise<Uint8Array> {
  if (!fs.existsSync(file)) throw new AttrLensError(`mask ${file} not found: fix manifest.json`);
  const data = await sharp(file).greyscale().resize(image.w, image.h, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
  return Uint8Array.from(data.subarray(0, image.w * image.h), (v) => (v > 127 ? 1 : 0));
}

/** Window / patch side for an image: about an eighth of the shorter side. */
export function patchSize(image: ImageLayout): number {
  return Math.max(1, Math.round(Math.min(image.h, image.w) / 8));
}

/** A featureMask of square patches (ids row by row), shaped to broadcast over the channels. */
export function patchMask(image: ImageLayout, k: number): Tensor {
  const cols = Math.ceil(image.w / k);
  const data = new Float32Array(image.h * image.w);
  for (let y = 0; y < image.h; y++) for (let x = 0; x < image.w; x++) data[y * image.w + x] = Math.floor(y / k) * cols + Math.floor(x / k);
  return { dtype: 'float32', dims: image.channelsLast ? [1, image.h, image.w, 1] : [1, 1, image.h, image.w], data };
}

/** Parameters that make a method usable on a whole image without the user choosing them. */
export function defaultParams(method: string, image: ImageLayout): Record<string, unknown> {
  const k = patchSize(image);
  if (method === 'occlusion') {
    const s = Math.max(1, Math.floor(k / 2));
    return image.channelsLast
      ? { slidingWindowShapes: [k, k, image.c], strides: [s, s, image.c] }
      : { slidingWindowShapes: [image.c, k, k], strides: [image.c, s, s] };
  }
  if (FEATURE_METHODS.has(method)) return { featureMask: patchMask(image, k) };
  return {};
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/**
 * `attrlens evaluate`: runs each method on every image of the manifest and scores it with the
 * pointing game (against the mask) and the deletion / insertion AUCs of the target probability.
 */
export async function runEvaluate(opts: EvaluateOptions): Promise<EvaluateReport> {
  const methods = opts.methods.length ? opts.methods : DEFAULT_EVALUATE_METHODS;
  for (const m of methods) getMethod(m);
  const target = opts.target ?? 'true';
  if (target !== 'true' && target !== 'predicted') throw new AttrLensError(`--target must be 'true' or 'predicted', got '${String(target)}'`);
  const manifest = readManifest(opts.images);
  const lm = await LoadedModel.open(opts.model);
  const labels = labelsOf(lm) ?? manifest.labels;
  const scores: MethodScore[] = methods.map((method) => ({ method, params: {}, hits: 0, n: 0, deletionAuc: NaN, insertionAuc: NaN, seconds: 0, images: [] }));

  for (const entry of manifest.images) {
    const file = path.join(opts.images, entry.image);
    const { feeds } = await loadInputs(lm, file);
    const input = (lm.inputs.find((i) => i.dtype === 'float32') ?? lm.inputs[0]).name;
    const dims = feeds[input].dims;
    const image = imageLayout(dims, 'evaluate');
    const mask = await readMask(path.join(opts.images, entry.mask), image);
    let t: number;
    if (target === 'predicted') t = (await predict(lm, feeds, 1))[0].index;
    else if (entry.labelIndex !== undefined) t = entry.labelIndex;
    else if (entry.label !== undefined && labels?.includes(entry.label)) t = labels.indexOf(entry.label);
    else throw new AttrLensError(`${entry.image}: manifest.json gives no labelIndex (or known label) for it; add one or use --target predicted`);

    for (const s of scores) {
      if (s.error) continue;
      const params = defaultParams(s.method, image);
      s.params = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, k === 'featureMask' ? `${patchSize(image)}×${patchSize(image)} patches` : v]));
      try {
        const res = await attribute(lm, feeds, { method: s.method, target: t, params, input });
        const attr = res.attributions[input];
        const pg = pointingGame(attr, mask, { inputDims: dims });
        const di = await deletionInsertion(lm, feeds, attr, { target: t, input, steps: STEPS });
        s.images.push({ image: entry.image, target: t, hit: pg.hit, deletionAuc: di.deletion.auc, insertionAuc: di.insertion.auc, seconds: res.seconds });
      } catch (e) {
        if (!(e instanceof AttrLensError)) throw e;
        s.error = e.message;
      }
    }
  }
  for (const s of scores) {
    s.n = s.images.length;
    s.hits = s.images.filter((i) => i.hit).length;
    s.deletionAuc = mean(s.images.map((i) => i.deletionAuc));
    s.insertionAuc = mean(s.images.map((i) => i.insertionAuc));
    s.seconds = s.images.reduce((a, i) => a + i.seconds, 0);
  }
  const report: EvaluateReport = { model: opts.model, images: manifest.images.length, target, steps: STEPS, methods: scores };
  if (opts.json) opts.log(JSON.stringify(report, null, 2));
  else for (const line of formatTable(report)) opts.log(line);
  return report;
}

export function formatTable(r: EvaluateReport): string[] {
  const head = ['method', 'pointing game', 'deletion AUC ↓', 'insertion AUC ↑', 'seconds'];
  const rows = r.methods.map((s) =>
    s.error
      ? [s.method, `error: ${s.error}`, '', '', '']
      : [s.method, `${s.hits}/${s.n}`, s.deletionAuc.toFixed(3), s.insertionAuc.toFixed(3), s.seconds.toFixed(2)],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((row) => row[2] !== '').map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ').trimEnd();
  return [
    `${r.images} images, target: ${r.target === 'true' ? 'the true label' : 'the predicted class'}; AUCs of the target probability over ${r.steps} steps (baseline 0)`,
    fmt(head),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.map((row) => (row[2] === '' ? `${row[0].padEnd(widths[0])} | ${row[1]}` : fmt(row))),
  ];
}
