import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { Tensor, concatRows, sizeOf, sliceRows } from '../engine/core/tensor';
import { LoadedInputs, loadInputs } from '../engine/inputs';
import { encodeNpy } from '../engine/inputs/npy';
import { defaultGradientBatch, oneHotSeed, runGradients } from '../engine/gradients/run';
import { LoadedModel } from '../engine/model/loadedModel';
import { firstNaN } from '../engine/onnx/guard';
import { resolveParams } from '../engine/methods/params';
import { activationOf } from '../engine/methods/probability';
import { attribute, getMethod, labelsOf, predictionsFrom } from '../engine/methods/registry';
import { Prediction } from '../engine/methods/types';
import { outputKindOf } from '../engine/targets/env';
import { renderAttribution } from './render';

const IMAGE = /\.(png|jpe?g|webp|gif|tiff?|avif|npy)$/i;

export interface BatchOptions {
  lm: LoadedModel;
  dir: string;
  outDir: string;
  method: string;
  target?: number | string;
  params: Record<string, unknown>;
  png: boolean;
  signal: AbortSignal;
  print: (s: string) => void;
  progress: (done: number, total: number, phase?: string) => void;
}

/**
 * Methods whose map is the input's gradient changed element by element: the folder run
 * batches them across images (one run per batch), others go image by image. Each must give
 * exactly what the method's own run gives for one image.
 */
const BATCHED: Record<string, (grad: Float32Array, x: Float32Array, params: Record<string, unknown>) => void> = {
  saliency: (g, _x, p) => {
    if (p.abs) for (let i = 0; i < g.length; i++) g[i] = Math.abs(g[i]);
  },
  'input-x-gradient': (g, x) => {
    for (let i = 0; i < g.length; i++) g[i] *= x[i];
  },
};

interface Item {
  index: number;
  file: string;
  stem: string;
}

interface Result {
  target: number;
  targetLabel?: string;
  predictions: Prediction[];
  delta?: number;
  seconds: number;
  attr: Tensor;
}

/**
 * Attributes every image in a folder, one result (.npy + .json, optional .png) per image.
 * A result whose .json records the same request is kept, so a stopped run resumes.
 * Gradient methods in BATCHED run images of the same preprocessed size together, the next
 * images decoding while a batch runs; their results equal those of one image at a time.
 */
export async function attributeFolder(o: BatchOptions): Promise<{ done: number; skipped: number; failed: number }> {
  const files = fs.readdirSync(o.dir).filter((f) => IMAGE.test(f) && !f.endsWith('.mask.png')).sort();
  if (files.length === 0) throw new AttrLensError(`${o.dir} holds no images (png, jpg, webp, gif, tiff, avif) or .npy files`);
  fs.mkdirSync(o.outDir, { recursive: true });
  const request = { model: o.lm.model.contentHash, method: o.method, target: o.target ?? null, params: o.params };
  const key = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 16);
  let done = 0, skipped = 0, failed = 0, seen = 0;
  const started = performance.now();
  const todo: Item[] = [];
  for (const [i, f] of files.entries()) {
    const stem = path.join(o.outDir, `${f.replace(/\.[^.]+$/, '')}.${o.method}`);
    if (isDone(`${stem}.json`, key)) {
      skipped++;
      o.progress(++seen, files.length, 'resumed');
    } else todo.push({ index: i, file: f, stem });
  }

  const writes = new Set<Promise<void>>();
  const fail = (it: Item, e: unknown): void => {
    failed++;
    o.print(`${it.file}: ${(e as Error).message.split('\n')[0]}`);
  };
  const step = (): void => {
    const rate = (performance.now() - started) / 1000 / Math.max(1, seen + 1 - skipped);
    o.progress(++seen, files.length, `${rate.toFixed(2)} s/image`);
  };
  // Written in the background; the summary goes last: its presence marks the image as done.
  const save = async (it: Item, res: Result, loaded: LoadedInputs): Promise<void> => {
    let png: Buffer | undefined;
    let npy: Uint8Array;
    try {
      png = o.png && loaded.image ? (await renderAttribution(res.attr, loaded.image, { sign: 'all' })).png : undefined;
      npy = encodeNpy(res.attr);
    } catch (e) {
      // one image's rendering failing must not stop the folder
      fail(it, e);
      return;
    }
    const summary = JSON.stringify({ request: key, image: it.file, method: o.method, target: res.target, targetLabel: res.targetLabel, predictions: res.predictions, delta: res.delta, seconds: res.seconds, shape: res.attr.dims }, null, 1);
    const w = (async () => {
      await fs.promises.writeFile(`${it.stem}.npy`, npy);
      if (png) await fs.promises.writeFile(`${it.stem}.png`, png);
      await fs.promises.writeFile(`${it.stem}.json`, summary);
      done++;
    })().catch((e: unknown) => fail(it, e));
    writes.add(w);
    void w.finally(() => writes.delete(w));
    // bounded: a slow disk holds the run back instead of filling memory
    if (writes.size > 64) await Promise.race(writes);
  };
  const decode = async (it: Item): Promise<LoadedInputs | undefined> => {
    try {
      return await loadInputs(o.lm, path.join(o.dir, it.file));
    } catch (e) {
      if (!o.signal.aborted) {
        fail(it, e);
        step();
      }
      return undefined;
    }
  };
  // one image through attribute(), as an image alone
  const single = async (it: Item, loaded?: LoadedInputs): Promise<void> => {
    if (o.signal.aborted) return;
    try {
      const inputs = loaded ?? (await loadInputs(o.lm, path.join(o.dir, it.file)));
      const res = await attribute(o.lm, inputs.feeds, { method: o.method, target: o.target, params: o.params }, { signal: o.signal });
      await save(it, { ...res, attr: Object.values(res.attributions)[0] }, inputs);
    } catch (e) {
      if (o.signal.aborted) return;
      fail(it, e);
    }
    step();
  };

  const plan = batchPlan(o);
  if (!plan) {
    for (const it of todo) await single(it);
  } else {
    // images of one preprocessed size run together; the next chunk decodes meanwhile
    const buckets = new Map<string, Array<[Item, LoadedInputs]>>();
    let size = 0;
    const flush = async (all: boolean): Promise<void> => {
      for (const [k, list] of buckets) {
        while (list.length >= size || (all && list.length > 0)) {
          if (o.signal.aborted) return;
          await runBatch(o, plan, list.splice(0, size), save, single, step);
        }
        if (list.length === 0) buckets.delete(k);
      }
    };
    // the first image alone tells the batch size; then two batches' worth decode ahead: a
    // decode takes several steps on this thread, which a running batch holds, so one chunk
    // ahead would still be mid-way when its batch is due
    const decodeChunk = (from: number, n: number) => Promise.all(todo.slice(from, from + n).map(async (it) => [it, await decode(it)] as const));
    const ahead: Array<ReturnType<typeof decodeChunk>> = [];
    let queued = 0;
    const refill = (): void => {
      while (ahead.length < (size ? 2 : 1) && queued < todo.length && !o.signal.aborted) {
        const n = Math.min(size || 1, todo.length - queued);
        ahead.push(decodeChunk(queued, n));
        queued += n;
      }
    };
    refill();
    while (ahead.length) {
      const got = await ahead.shift()!;
      for (const [it, loaded] of got) {
        if (!loaded) continue;
        const x = loaded.feeds[plan.input];
        if (!size) {
          try {
            size = Math.max(1, Math.min(todo.length, defaultGradientBatch(o.lm, await o.lm.shapes(loaded.feeds))));
          } catch {
            // this image does not fit the model: reported alone, the next one sets the batch size
            await single(it, loaded);
            continue;
          }
        }
        const k = x.dims.join('x');
        if (!buckets.has(k)) buckets.set(k, []);
        buckets.get(k)!.push([it, loaded]);
      }
      refill();
      if (size) await flush(false);
      if (o.signal.aborted) break;
    }
    await flush(true);
  }
  await Promise.all(writes);
  o.print(`${done} attributed, ${skipped} already done, ${failed} failed; results in ${o.outDir}`);
  return { done, skipped, failed };
}

function isDone(summaryFile: string, key: string): boolean {
  if (!fs.existsSync(summaryFile)) return false;
  try {
    return (JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as { request?: string }).request === key;
  } catch {
    return false; // an unreadable summary is redone
  }
}

interface Plan {
  input: string;
  output: string;
  params: Record<string, unknown>;
  /** the explicit class, or undefined: each image's predicted class */
  target?: number;
  post: (typeof BATCHED)[string];
}

/** How the folder batches, or undefined when each image goes through attribute() alone. */
function batchPlan(o: BatchOptions): Plan | undefined {
  const post = BATCHED[o.method];
  const lm = o.lm;
  const [input] = lm.inputs;
  const [output] = lm.outputs;
  if (!post || lm.inputs.length !== 1 || input.dtype !== 'float32' || input.promotedFrom || input.integerUse || output.dtype !== 'float32') return undefined;
  if (typeof input.dims[0] === 'number' && input.dims[0] !== 1) return undefined;
  if (o.target !== undefined && !(typeof o.target === 'number' && Number.isInteger(o.target) && o.target >= 0)) return undefined;
  let params: Record<string, unknown>;
  try {
    params = resolveParams(o.method, getMethod(o.method).info.params, o.params);
  } catch {
    return undefined; // each image reports the error
  }
  return { input: input.name, output: output.name, params, target: o.target, post };
}

/**
 * One forward+backward run for a batch of same-sized images; rows that this path cannot
 * answer as attribute() would (NaN, a structured output, a target out of range, a failed
 * run) go through attribute() one by one, which also words their errors.
 */
async function runBatch(
  o: BatchOptions,
  plan: Plan,
  batch: Array<[Item, LoadedInputs]>,
  save: (it: Item, r: Result, loaded: LoadedInputs) => Promise<void>,
  single: (it: Item, loaded?: LoadedInputs) => Promise<void>,
  step: () => void,
): Promise<void> {
  const lm = o.lm;
  const t0 = performance.now();
  const xs = batch.map(([, l]) => l.feeds[plan.input]);
  let res;
  try {
    const outDims = (await lm.shapes({ [plan.input]: xs[0] })).dims.get(plan.output) ?? [];
    const kind = outputKindOf(lm, plan.output, outDims).kind;
    const inRange = plan.target === undefined || plan.target < sizeOf(outDims.slice(1));
    if ((kind !== 'classification' && kind !== 'other') || !inRange) throw new Error('not batched');
    const req = plan.target === undefined ? { output: plan.output, wrt: [plan.input], seedFromArgmax: true } : { output: plan.output, wrt: [plan.input] };
    const target = plan.target;
    res = await runGradients(lm, { [plan.input]: concatRows(xs) }, req, target === undefined ? undefined : (n, d) => oneHotSeed(d, n, target), { signal: o.signal });
  } catch {
    if (o.signal.aborted) return;
    for (const [it, loaded] of batch) await single(it, loaded);
    return;
  }
  const seconds = (performance.now() - t0) / 1000 / batch.length;
  const labels = labelsOf(lm);
  const activation = activationOf(lm, plan.output);
  const grads = res.grads[plan.input];
  for (const [r, [it, loaded]] of batch.entries()) {
    const out = sliceRows(res.output, r, r + 1);
    // in place: each row of the run's own gradient buffer is one image's map
    const attr = sliceRows(grads, r, r + 1);
    plan.post(attr.data as Float32Array, xs[r].data as Float32Array, plan.params);
    if (firstNaN(out) >= 0 || firstNaN(attr) >= 0) {
      await single(it, loaded);
      continue;
    }
    const predictions = predictionsFrom(out, labels, 5, activation);
    // attribute()'s default target: the first of the top predictions (the graph's seed picked the same)
    const target = plan.target ?? predictions[0].index;
    await save(it, { target, targetLabel: labels?.[target], predictions, seconds, attr }, loaded);
    step();
  }
}
