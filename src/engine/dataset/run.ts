// `attrlens dataset`: batched predictions over a labelled dataset, the scores, and attributions
// for the items worth looking at (mistakes first, then the least confident).
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError, CancelledError, closest, throwIfAborted } from '../core/errors';
import { loadInputs, LoadedInputs } from '../inputs';
import { writeNpy } from '../inputs/npy';
import { PreprocessConfig, resolvePreprocess, validatePreprocess } from '../inputs/preprocess';
import { LoadedModel } from '../model/loadedModel';
import { activationOf } from '../methods/probability';
import { attribute, getMethod, labelsOf, predictionsFrom } from '../methods/registry';
import { resolveParams } from '../methods/params';
import { outputKindOf } from '../targets/env';
import { Tensor, concatRows, sizeOf, sliceRows } from '../core/tensor';
import { visualizeImageAttr } from '../../shared/visualize';
import { writeHtmlReport } from './html';
import { Journal, fileKey, hashOf, itemStem } from './journal';
import { DatasetEntry, readDataset } from './read';
import { countItems, score, sortItems, summaryLine } from './summary';
import type { DatasetItem, DatasetOptions, DatasetProgress, DatasetReport, Shard } from './types';

export const DEFAULT_ATTRIBUTE_TOP = 16;
const DEFAULT_BATCH = 32;
/** a probability of 0 would make the loss infinite (not JSON): clamp it */
const MIN_PROBABILITY = 1e-12;

export function checkShard(shard: Shard | undefined): void {
  if (!shard) return;
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new AttrLensError(`shard ${index}/${count} is not a shard: the index runs from 0 to count - 1 (the CLI's --shard i/n from 1 to n)`);
  }
}

export async function runDataset(opts: DatasetOptions, onProgress?: DatasetProgress, signal?: AbortSignal, given?: LoadedModel): Promise<DatasetReport> {
  checkShard(opts.shard);
  const top = opts.attributeTop ?? DEFAULT_ATTRIBUTE_TOP;
  if (!Number.isInteger(top) || top < 0) throw new AttrLensError(`attributeTop must be a whole number ≥ 0 (got ${top})`);
  // 0 (the extension's "automatic" setting) or absent: the default
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize >= 0)) throw new AttrLensError(`the batch size must be a whole number ≥ 1 (got ${opts.batchSize})`);
  let params: Record<string, unknown> = {};
  if (opts.method) {
    const m = getMethod(opts.method);
    // bad parameters fail now, not after the whole dataset was predicted
    resolveParams(m.info.id, m.info.params, opts.params);
    params = opts.params ?? {};
    if (!opts.outDir) throw new AttrLensError(`attributions are written as files: give an output folder (--out-dir D) with the method ${opts.method}`);
  }
  // bad override keys fail now, in one line, not once per item
  const overrides = opts.preprocess && Object.keys(opts.preprocess).length ? validatePreprocess(opts.preprocess, 'preprocessing settings') : undefined;
  const outDir = opts.outDir ? path.resolve(opts.outDir) : undefined;
  const listing = readDataset(opts.data, { exclude: outDir ? [outDir] : [] });
  const lm = given ?? (await LoadedModel.open(opts.model));
  if (lm.inputs.length !== 1) {
    throw new AttrLensError(`${lm.label} has ${lm.inputs.length} inputs (${lm.inputs.map((i) => i.name).join(', ')}): a dataset run feeds one image per item, so the model must take one input`);
  }
  const input = lm.inputs[0].name;
  const output = lm.outputs[0].name;
  const classes = await classesOf(lm, output);
  const activation = activationOf(lm, output);
  const pre = lm.inputs[0].dtype === 'float32' ? safe(() => resolvePreprocess(lm, input, overrides)) : undefined;
  // the overrides key the journal too (a run without them keeps its earlier key)
  const run = hashOf(lm.model.contentHash ?? lm.file, output, classes, pre && { ...pre, note: undefined }, ...(overrides ? [overrides] : []));

  const mine = opts.shard ? listing.entries.filter((_, k) => k % opts.shard!.count === opts.shard!.index) : listing.entries;
  const journal = new Journal(outDir, run);
  if (outDir) fs.mkdirSync(outDir, { recursive: true });

  const items: DatasetItem[] = [];
  const todo: Array<{ entry: DatasetEntry & { file: string }; label: string | null; key: string | undefined }> = [];
  let resumed = 0;
  for (const e of mine) {
    if (e.error || !e.file) {
      items.push(errorItem(e.path, e.label, e.error ?? 'no file', e.errorKind ?? 'missing'));
      continue;
    }
    const label = e.label === null ? null : matchLabel(e.label, classes, !labelsOf(lm));
    if (label instanceof AttrLensError) {
      items.push(errorItem(e.path, e.label, label.message, 'label'));
      continue;
    }
    const key = fileKey(e.path, e.file, label);
    const done = key ? journal.predictions.get(key) : undefined;
    if (done && (!done.thumb || (outDir && fs.existsSync(path.join(outDir, done.thumb))))) {
      items.push({ ...done, path: e.path });
      resumed++;
      continue;
    }
    todo.push({ entry: e as DatasetEntry & { file: string }, label, key });
  }
  // the total at once, before the first batch (a view shows 0 of N while the first images decode)
  onProgress?.(resumed, resumed + todo.length, resumed ? 'resumed' : 'predict');

  const batch = opts.batchSize || (lm.maxBatch > 1 ? DEFAULT_BATCH : 1);
  for (let start = 0; start < todo.length; start += batch) {
    throwIfAborted(signal);
    const chunk = todo.slice(start, start + batch);
    const loaded = await Promise.all(chunk.map((t) => loadInputs(lm, t.entry.file, { preprocess: overrides }).catch((e: unknown) => e as Error)));
    throwIfAborted(signal);
    // one forward pass per input shape (images of one size batch together)
    const groups = new Map<string, number[]>();
    loaded.forEach((l, k) => {
      if (l instanceof Error) {
        items.push(errorItem(chunk[k].entry.path, chunk[k].label, oneLine(l), 'unreadable'));
        return;
      }
      const shape = l.feeds[input].dims.join('x');
      groups.set(shape, [...(groups.get(shape) ?? []), k]);
    });
    for (const ks of groups.values()) {
      const rows = await forwardRows(lm, input, output, ks.map((k) => (loaded[k] as LoadedInputs).feeds[input]), signal);
      for (const [j, k] of ks.entries()) {
        const t = chunk[k];
        const row = rows[j];
        if (row instanceof Error) {
          items.push(errorItem(t.entry.path, t.label, oneLine(row), 'failed'));
          continue;
        }
        const item = predictionItem(t.entry.path, t.label, row, classes, activation);
        const img = (loaded[k] as LoadedInputs).image;
        if (outDir && img) {
          item.thumb = `thumbs/${itemStem(t.entry.path)}.png`;
          await fs.promises.mkdir(path.join(outDir, 'thumbs'), { recursive: true });
          await fs.promises.writeFile(path.join(outDir, item.thumb), await encodePng(img.rgba, img.width, img.height));
        }
        items.push(item);
        if (t.key) journal.addPrediction(t.key, item);
      }
    }
    onProgress?.(resumed + Math.min(todo.length, start + batch), resumed + todo.length, 'predict');
  }

  sortItems(items);
  let attributedResumed = 0;
  if (opts.method && outDir && top > 0) {
    const chosen = items.filter((it) => !it.error && it.predictedIndex !== null).slice(0, top);
    const files = new Map(mine.map((e) => [e.path, e.file]));
    for (const [i, it] of chosen.entries()) {
      throwIfAborted(signal);
      const file = files.get(it.path)!;
      const key = hashOf(fileKey(it.path, file, it.label), opts.method, params);
      const done = journal.attributions.get(key);
      if (done && fs.existsSync(path.join(outDir, done.npy))) {
        it.attribution = done;
        attributedResumed++;
      } else {
        try {
          it.attribution = await attributeItem(lm, file, it, opts.method, params, outDir, overrides, signal);
          journal.addAttribution(key, it.attribution);
        } catch (e) {
          if (e instanceof CancelledError || signal?.aborted) throw e instanceof CancelledError ? e : new CancelledError();
          it.attributionError = oneLine(e as Error);
        }
      }
      onProgress?.(i + 1, chosen.length, 'attribute');
    }
  }

  const scores = score(items, classes);
  const counts = countItems(items, resumed, attributedResumed);
  const failed = items.filter((it) => it.attributionError);
  const note = failed.length ? `; ${failed.length} attribution${failed.length === 1 ? '' : 's'} failed (${failed[0].path}: ${failed[0].attributionError})` : '';
  const report: DatasetReport = {
    model: path.resolve(opts.model),
    data: listing.source === 'folder' ? listing.root : path.resolve(opts.data),
    classes,
    ...scores,
    items,
    summary: summaryLine(counts, scores.accuracy, outDir !== undefined) + note,
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.shard ? { shard: opts.shard } : {}),
    ...(lm.model.contentHash ? { modelHash: lm.model.contentHash } : {}),
    counts,
  };
  if (outDir) await writeReport(report, outDir);
  return report;
}

export async function writeReport(report: DatasetReport, outDir: string): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = path.join(outDir, `report.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(report, null, 1));
  fs.renameSync(tmp, path.join(outDir, 'report.json'));
  writeHtmlReport(report, path.join(outDir, 'report.html'));
}

/** The model's labels, or the class indices as text when it has none. */
async function classesOf(lm: LoadedModel, output: string): Promise<string[]> {
  // the declared dims when only the batch axis is symbolic, else one probe run's
  const declared = lm.outputs[0].dims;
  let dims = declared.length > 1 && declared.slice(1).every((d) => typeof d === 'number' && d > 0) ? [1, ...(declared.slice(1) as number[])] : undefined;
  dims ??= (await lm.shapes(lm.exampleFeeds(1))).dims.get(output);
  if (!dims) throw new AttrLensError(`${lm.label}: the shape of output '${output}' is unknown; cannot tell its classes`);
  const kind = outputKindOf(lm, output, dims);
  if (kind.kind !== 'classification' && kind.kind !== 'other') {
    throw new AttrLensError(`${lm.label}: output '${output}' is a ${kind.kind} output, not one score per class: a dataset run scores classifiers (one label per image)`);
  }
  const n = sizeOf(dims.slice(1));
  if (n < 1) throw new AttrLensError(`${lm.label}: output '${output}' has shape [${dims.join(', ')}], no classes`);
  const labels = labelsOf(lm);
  return Array.from({ length: n }, (_, i) => labels?.[i] ?? String(i));
}

/** The class a folder or manifest label names, or why it names none. */
function matchLabel(label: string, classes: string[], indices: boolean): string | AttrLensError {
  if (classes.includes(label)) return label;
  if (indices && /^\d+$/.test(label) && Number(label) < classes.length) return String(Number(label));
  const folded = classes.filter((c) => c.toLowerCase() === label.toLowerCase());
  if (folded.length === 1) return folded[0];
  const list = classes.length <= 12 ? classes.join(', ') : `${classes.length} labels; closest: ${closest(label, classes).join(', ')}`;
  return new AttrLensError(
    indices
      ? `label ${label} is not one of the model's classes (it has no labels: name folders by class index 0..${classes.length - 1}, or put labels.txt beside the model)`
      : `label ${label} is not one of the model's labels (${list})`,
  );
}

/** The output rows for these batch-1 inputs; one at a time when the batch fails, so one bad item costs only itself. */
async function forwardRows(lm: LoadedModel, input: string, output: string, xs: Tensor[], signal?: AbortSignal): Promise<Array<Tensor | Error>> {
  try {
    const out = (await lm.forward({ [input]: concatRows(xs) }, [output], { signal }))[output];
    return xs.map((_, r) => sliceRows(out, r, r + 1));
  } catch (e) {
    if (e instanceof CancelledError || signal?.aborted) throw e instanceof CancelledError ? e : new CancelledError();
    if (xs.length === 1) return [e as Error];
    const rows: Array<Tensor | Error> = [];
    for (const x of xs) rows.push(...(await forwardRows(lm, input, output, [x], signal)));
    return rows;
  }
}

function predictionItem(p: string, label: string | null, row: Tensor, classes: string[], activation: ReturnType<typeof activationOf>): DatasetItem {
  // every class, so the true class's probability is there too (the same numbers predict() gives)
  const preds = predictionsFrom(row, classes, classes.length, activation);
  const best = preds[0];
  const t = label === null ? -1 : classes.indexOf(label);
  const pTrue = t >= 0 ? (preds.find((q) => q.index === t)?.probability ?? 0) : null;
  return {
    path: p,
    label,
    predicted: classes[best.index],
    predictedIndex: best.index,
    probability: best.probability,
    trueProbability: pTrue,
    loss: pTrue === null ? null : -Math.log(Math.max(pTrue, MIN_PROBABILITY)),
    correct: label === null ? null : best.index === t,
  };
}

function errorItem(p: string, label: string | null, error: string, kind: string): DatasetItem {
  return { path: p, label, predicted: null, predictedIndex: null, probability: null, trueProbability: null, loss: null, correct: null, error, errorKind: kind };
}

/** The predicted class's attribution: the raw map as .npy and a blended heat map as .png. */
async function attributeItem(lm: LoadedModel, file: string, it: DatasetItem, method: string, params: Record<string, unknown>, outDir: string, preprocess: Partial<PreprocessConfig> | undefined, signal?: AbortSignal): Promise<NonNullable<DatasetItem['attribution']>> {
  const inputs = await loadInputs(lm, file, { preprocess });
  const res = await attribute(lm, inputs.feeds, { method, target: it.predictedIndex!, params }, { signal });
  const attr = Object.values(res.attributions)[0];
  const stem = `maps/${itemStem(it.path)}.${method}`;
  fs.mkdirSync(path.join(outDir, 'maps'), { recursive: true });
  writeNpy(path.join(outDir, `${stem}.npy`), attr);
  const out: NonNullable<DatasetItem['attribution']> = { method, npy: `${stem}.npy`, ...(it.predicted !== null ? { target: it.predicted } : {}) };
  if (inputs.image && attr.dtype === 'float32') {
    try {
      const v = visualizeImageAttr(attr.data as Float32Array, attr.dims, { width: inputs.image.width, height: inputs.image.height, data: inputs.image.rgba }, { method: 'blended_heat_map', sign: method === 'saliency' ? 'absolute_value' : 'all' });
      fs.writeFileSync(path.join(outDir, `${stem}.png`), await encodePng(v.rgba, v.width, v.height));
      out.png = `${stem}.png`;
    } catch {
      // a map that is not image-shaped (a layer's) has its .npy only
    }
  }
  return out;
}

async function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } }).png().toBuffer();
}

function oneLine(e: Error): string {
  return (e.message ?? String(e)).split('\n')[0];
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
