import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError, closest } from '../core/errors';
import type { IOInfo, LoadedModel } from '../model/loadedModel';
import { Tensor } from '../core/tensor';
import { imageSize, imageToTensor } from './image';
import { readNpy } from './npy';
import { PreprocessConfig, ResolvedPreprocess, resolvePreprocessFor, showDim } from './preprocess';

export { MAX_PIXELS, imageToTensor } from './image';
export type { DecodedImage, DisplayImage } from './image';
export { encodeNpy, parseNpy, readNpy, writeNpy } from './npy';
export { configPathFor, inferLayout, readPreprocessFile, resolvePreprocess, validatePreprocess } from './preprocess';
export type { PreprocessConfig, ResolvedPreprocess } from './preprocess';

export interface LoadedInputs {
  feeds: Record<string, Tensor>;
  /** the decoded image as the model sees it (the first image input) */
  image?: { width: number; height: number; rgba: Uint8Array; source: string };
  /** input name → absolute path of the file it was read from */
  files: Record<string, string>;
  /** the preprocessing that produced `image`, with its source */
  preprocess?: ResolvedPreprocess;
}

export interface LoadInputsOptions {
  preprocess?: Partial<PreprocessConfig>;
}

/**
 * Feeds for every model input. `spec` is one file for a single-input model (an image or a
 * .npy), `NAME=FILE`, or a map from input name to a file path or a tensor.
 */
export async function loadInputs(model: LoadedModel, spec: string | Record<string, string | Tensor>, opts: LoadInputsOptions = {}): Promise<LoadedInputs> {
  const named = typeof spec === 'string' ? nameSingle(model, spec) : spec;
  const byName = new Map(model.inputs.map((i) => [i.name, i]));
  for (const k of Object.keys(named)) {
    if (!byName.has(k)) {
      throw new AttrLensError(`${model.label} has no input '${k}' (did you mean '${closest(k, byName.keys(), 1)[0]}'?); its inputs are: ${[...byName.keys()].join(', ')}`);
    }
  }
  const missing = model.inputs.filter((i) => !(i.name in named)).map((i) => i.name);
  if (missing.length > 0) {
    throw new AttrLensError(`${model.label}: no value for input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: give each as NAME=FILE`);
  }

  const out: LoadedInputs = { feeds: {}, files: {} };
  for (const info of model.inputs) {
    const v = named[info.name];
    if (typeof v !== 'string') {
      out.feeds[info.name] = fitTensor(v, info, model.label, `the tensor for '${info.name}'`);
      continue;
    }
    const file = path.resolve(v);
    out.files[info.name] = file;
    if (/\.npy$/i.test(file)) {
      out.feeds[info.name] = fitTensor(readNpy(file), info, model.label, path.basename(file));
      continue;
    }
    if (info.integerUse) throw new AttrLensError(`${model.label}: ${info.integerUse} (${path.basename(file)} is not one)`);
    if (info.dtype !== 'float32') {
      throw new AttrLensError(`${model.label}: input '${info.name}' takes ${info.dtype ?? 'an unsupported type'}, not an image: give a .npy file for it (${path.basename(file)} is not one)`);
    }
    const cfg = await resolvePreprocessFor(model, info.name, opts.preprocess ?? {}, () => imageSize(file));
    const img = await imageToTensor(file, cfg);
    out.feeds[info.name] = img.tensor;
    if (!out.preprocess) {
      // made when first asked for: a folder run without pictures never needs it
      let image: LoadedInputs['image'];
      Object.defineProperty(out, 'image', { enumerable: true, configurable: true, get: () => (image ??= { ...img.display, source: file }) });
      out.preprocess = cfg;
    }
  }
  return out;
}

/** A single file, or `NAME=FILE`, becomes a one-entry map. */
function nameSingle(model: LoadedModel, spec: string): Record<string, string> {
  const eq = spec.indexOf('=');
  if (eq > 0 && model.inputs.some((i) => i.name === spec.slice(0, eq)) && !fs.existsSync(spec)) {
    return { [spec.slice(0, eq)]: spec.slice(eq + 1) };
  }
  if (model.inputs.length !== 1) {
    throw new AttrLensError(`${model.label} has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}): name the file for each as NAME=FILE`);
  }
  return { [model.inputs[0].name]: spec };
}

/**
 * Checks a tensor against the model input: dtype (float64 → float32 and int32 → int64 are
 * widened or narrowed as numpy users expect; an input promoted from integers takes its
 * integers as the floats its Cast made of them), rank (a missing batch axis is added), fixed
 * dims, and batch 1.
 */
function fitTensor(t: Tensor, info: IOInfo, label: string, what: string): Tensor {
  const want = info.dtype;
  let x = t;
  if (want && t.dtype !== want) {
    const widen = t.dtype === 'float64' || (info.promotedFrom !== undefined && t.dtype !== 'bool' && t.dtype !== 'float16');
    if (want === 'float32' && widen) x = { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as ArrayLike<number | bigint>, Number) };
    else if (want === 'int64' && t.dtype === 'int32') x = { dtype: 'int64', dims: t.dims, data: BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v)) };
    else throw new AttrLensError(`${what} has dtype ${t.dtype}, but ${label} input '${info.name}' expects ${info.promotedFrom ?? want}: convert it with a.astype('${info.promotedFrom ?? want}')`);
  }
  const dims = info.dims;
  if (dims.length === 0) return x; // shape not declared (or scalar): onnxruntime checks at run time
  if (x.dims.length === dims.length - 1) x = { ...x, dims: [1, ...x.dims] };
  const expected = `(${dims.map(showDim).join(', ')})`;
  const got = `(${t.dims.join(', ')})`;
  if (x.dims.length !== dims.length) {
    throw new AttrLensError(`${what} has shape ${got}, but ${label} input '${info.name}' expects ${expected} (${dims.length} dims, got ${t.dims.length})`);
  }
  if (x.dims[0] !== 1) throw new AttrLensError(`${what} has shape ${got}: batch dimension ${x.dims[0]}, but one sample is explained at a time; expected ${expected} with batch 1`);
  for (let i = 1; i < dims.length; i++) {
    const d = dims[i];
    if (typeof d === 'number' && d > 0 && x.dims[i] !== d) {
      throw new AttrLensError(`${what} has shape ${got}, but ${label} input '${info.name}' expects ${expected}: dimension ${i} is ${x.dims[i]}, expected ${d}`);
    }
  }
  return x;
}
