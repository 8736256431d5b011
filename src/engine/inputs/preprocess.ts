import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError, closest } from '../core/errors';
import type { IOInfo, LoadedModel } from '../model/loadedModel';
import { inputStride, roundToStride } from '../onnx/stride';
import { Discovered, discoverPreprocess } from './discover';
import { validateOutputSettings } from '../targets/settings';
import type { OutputSettings } from '../targets/types';

export type Layout = 'NCHW' | 'NHWC';
export type ResizeMode = 'stretch' | 'cover' | 'contain' | 'height';
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';
export type Channels = 'RGB' | 'BGR' | 'grayscale';

/** How an image becomes a model tensor: value = (pixel * scale - mean[c]) / std[c]. */
export interface PreprocessConfig {
  layout: Layout;
  /** [height, width] of the tensor */
  size: [number, number];
  /**
   * stretch: to size, ignoring the aspect ratio; cover: scale to fill, crop the centre;
   * contain: scale to fit, pad with black; height: keep the aspect ratio at height size[0],
   * at most size[1] wide, the rest of the width 0 after normalisation (PaddleOCR's text lines)
   */
  resize: ResizeMode;
  /** stretch and cover: resize to size / cropPct first, then crop the centre `size` (timm, transformers' crop_pct); 1 when absent */
  cropPct?: number;
  /** resampling kernel; absent: sharp's default (Lanczos 3) */
  interpolation?: Interpolation;
  channels: Channels;
  scale: number;
  mean: number[];
  std: number[];
  /** the model input the image feeds */
  input: string;
  /** how to read the explained output (kind, threshold, CTC decoding, dictionary): see targets/outputs.ts */
  output?: OutputSettings;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** Spatial size shown for symbolic dims when no image is given (rounded to the model's stride). */
export const DEFAULT_SIZE = 224;
/** Images fed to symbolic dims are scaled down to this longest side first. */
export const MAX_AUTO_SIDE = 1024;

/** The preprocessing for one input, with where it came from. */
export interface ResolvedPreprocess extends PreprocessConfig {
  /** "model.attrlens.json", "preprocessor_config.json (ViTImageProcessor)", "config.json pretrained_cfg (timm)", "ONNX metadata (ultralytics)", "guessed"; "+ settings" when overridden */
  source: string;
  /** for a guessed config: how to set it; else what the source could not express */
  note?: string;
}

const LAYOUTS: readonly Layout[] = ['NCHW', 'NHWC'];
const RESIZES: readonly ResizeMode[] = ['stretch', 'cover', 'contain', 'height'];
const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];
const CHANNELS: readonly Channels[] = ['RGB', 'BGR', 'grayscale'];
const KEYS = ['layout', 'size', 'resize', 'cropPct', 'interpolation', 'channels', 'scale', 'mean', 'std', 'input', 'output'] as const;

/** `model.onnx` → `model.attrlens.json` beside it. */
export function configPathFor(modelFile: string): string {
  return path.join(path.dirname(modelFile), `${path.basename(modelFile, path.extname(modelFile))}.attrlens.json`);
}

/** Reads and validates the config file beside a model; undefined when there is none. */
export function readPreprocessFile(modelFile: string): Partial<PreprocessConfig> | undefined {
  const file = configPathFor(modelFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AttrLensError(`cannot read ${path.basename(file)}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AttrLensError(`${path.basename(file)} is not valid JSON (${(e as Error).message}): fix the file or delete it`);
  }
  return validatePreprocess(json, path.basename(file));
}

/** Checks a (partial) config object; errors name the key and the allowed values. */
export function validatePreprocess(json: unknown, label: string): Partial<PreprocessConfig> {
  const fail = (msg: string): never => {
    throw new AttrLensError(`${label}: ${msg}`);
  };
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('must be a JSON object such as {"layout": "NCHW", "size": [224, 224]}');
  const out: Partial<PreprocessConfig> = {};
  for (const [key, v] of Object.entries(json as Record<string, unknown>)) {
    if (v === undefined || v === null || key === '$schema') continue; // null: use the default
    switch (key) {
      case 'layout':
        out.layout = oneOf(v, LAYOUTS, key, fail);
        break;
      case 'resize':
        out.resize = oneOf(v, RESIZES, key, fail);
        break;
      case 'channels':
        out.channels = oneOf(v, CHANNELS, key, fail);
        break;
      case 'interpolation':
        out.interpolation = oneOf(v, INTERPOLATIONS, key, fail);
        break;
      case 'cropPct':
        if (typeof v !== 'number' || !(v > 0 && v <= 1)) fail(`"cropPct" must be a number in (0, 1] such as 0.875 (resize to size / 0.875, then crop the centre) (got ${JSON.stringify(v)})`);
        out.cropPct = v as number;
        break;
      case 'size':
        if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1 && x <= 8192)) {
          fail(`"size" must be [height, width], two whole numbers from 1 to 8192 (got ${JSON.stringify(v)})`);
        }
        out.size = [(v as number[])[0], (v as number[])[1]];
        break;
      case 'scale':
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`"scale" must be a positive number such as 0.00392156862745098 (1/255) (got ${JSON.stringify(v)})`);
        out.scale = v as number;
        break;
      case 'mean':
      case 'std':
        if (!Array.isArray(v) || v.length < 1 || v.length > 4 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
          fail(`"${key}" must be a list of 1 or 3 numbers, one per channel (got ${JSON.stringify(v)})`);
        }
        if (key === 'std' && (v as number[]).some((x) => x === 0)) fail('"std" must not contain 0 (it divides)');
        out[key] = [...(v as number[])];
        break;
      case 'input':
        if (typeof v !== 'string' || v === '') fail(`"input" must be the name of a model input (got ${JSON.stringify(v)})`);
        out.input = v as string;
        break;
      case 'output':
        out.output = validateOutputSettings(v, fail);
        break;
      default:
        fail(`unknown key "${key}" (did you mean "${closest(key, KEYS, 1)[0]}"?); allowed keys: ${KEYS.join(', ')}`);
    }
  }
  return out;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], key: string, fail: (m: string) => never): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  return fail(`"${key}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${JSON.stringify(v)})`);
}

/**
 * The preprocessing for one image input: `overrides` (the extension's settings) over the first
 * source found beside the model (`<model>.attrlens.json`, then what the exporter left: see
 * discover.ts), else guessed from the input's dims. Symbolic spatial dims take their size from
 * the source, else from `image` (rounded to the model's stride), never a size the model rejects.
 */
export function resolvePreprocess(model: LoadedModel, inputName: string, overrides: Partial<PreprocessConfig> = {}, image?: { width: number; height: number }): ResolvedPreprocess {
  return resolveFrom(model, sourcesOf(model, inputName, overrides), image);
}

/**
 * resolvePreprocess for an image file: `sizeOf` (one more decoder call) reads the image's size
 * only where the model's size follows it, a symbolic side and no size set.
 */
export async function resolvePreprocessFor(model: LoadedModel, inputName: string, overrides: Partial<PreprocessConfig>, sizeOf: () => Promise<{ width: number; height: number } | undefined>): Promise<ResolvedPreprocess> {
  const src = sourcesOf(model, inputName, overrides);
  const [, h, w] = spatial(src.info.dims, src.given.layout ?? inferLayout(src.info.dims));
  const follows = !src.given.size && (fixed(h) === undefined || fixed(w) === undefined);
  return resolveFrom(model, src, follows ? await sizeOf() : undefined);
}

interface Sources {
  info: IOInfo;
  found: Discovered | undefined;
  settings: Partial<PreprocessConfig>;
  /** the settings over the source found */
  given: Partial<PreprocessConfig>;
}

function sourcesOf(model: LoadedModel, inputName: string, overrides: Partial<PreprocessConfig>): Sources {
  const label = model.label;
  const info = model.inputs.find((i) => i.name === inputName);
  if (!info) throw new AttrLensError(`${label} has no input '${inputName}'; its inputs are: ${model.inputs.map((i) => i.name).join(', ')}`);
  imageDims(info, label);
  const found = findSource(model, inputName);
  const settings = validatePreprocess(overrides, 'preprocessing settings');
  return { info, found, settings, given: { ...found?.config, ...settings } };
}

function resolveFrom(model: LoadedModel, { info, found, settings, given }: Sources, image?: { width: number; height: number }): ResolvedPreprocess {
  const label = model.label;
  const stride = inputStride(model.model, info.name);
  const cfg = withDefaults(info, given, label, stride, image);
  // errors name the key where the value came from: the settings, the source file, or the model
  const where = (key: keyof PreprocessConfig): { file: string; key: string } =>
    key in settings ? { file: 'preprocessing settings', key } : found && key in found.config ? { file: found.file, key: found.keys[key] ?? key } : { file: label, key };
  checkConsistent(cfg, info, label, stride, where);
  const source = `${found?.source ?? 'guessed'}${Object.keys(settings).length ? ' + settings' : ''}`;
  const out: ResolvedPreprocess = { ...cfg, source };
  const note = found ? found.note : guessedNote(model, cfg, info, image !== undefined);
  if (note) out.note = note;
  return out;
}

/** `<model>.attrlens.json` when it applies to this input, else what the exporter left. */
function findSource(model: LoadedModel, inputName: string): Discovered | undefined {
  const fromFile = model.file ? readPreprocessFile(model.file) : undefined;
  if (fromFile) {
    const name = path.basename(configPathFor(model.file!));
    if (fromFile.input !== undefined && !model.inputs.some((i) => i.name === fromFile.input)) {
      throw new AttrLensError(`${name}: "input" is '${fromFile.input}', but the model's inputs are: ${model.inputs.map((i) => i.name).join(', ')}`);
    }
    if (fromFile.input === undefined || fromFile.input === inputName) return { config: fromFile, source: name, file: name, keys: {} };
    return undefined;
  }
  return discoverPreprocess(model.model);
}

/**
 * The size to probe a symbolic image input at: the source's when it gives one, else
 * undefined (the caller picks a small multiple of the stride). Never throws: a bad config is
 * reported when an image is loaded, not when the model opens.
 */
export function configuredSize(model: LoadedModel, inputName: string): [number, number] | undefined {
  try {
    const found = findSource(model, inputName);
    if (!found?.config.size) return undefined;
    return resolvePreprocess(model, inputName).size;
  } catch {
    return undefined;
  }
}

function guessedNote(model: LoadedModel, cfg: PreprocessConfig, info: IOInfo, fromImage: boolean): string {
  const name = model.file ? path.basename(configPathFor(model.file)) : '<model>.attrlens.json';
  const [, h, w] = spatial(info.dims, cfg.layout);
  const symbolic = fixed(h) === undefined || fixed(w) === undefined;
  const example = JSON.stringify({ ...(symbolic ? {} : { size: cfg.size }), resize: cfg.resize, scale: Number(cfg.scale.toFixed(8)), mean: cfg.mean, std: cfg.std });
  const size = symbolic ? `; the size follows ${fromImage ? 'the' : 'each'} image, rounded to the model's stride` : '';
  return `no ${name}, preprocessor_config.json, timm config.json or ONNX metadata beside the model${size}; to set it, write ${name}, e.g. ${example}`;
}

function imageDims(info: IOInfo, label: string): void {
  const dims = info.dims;
  if (dims.length !== 4) {
    throw new AttrLensError(`${label}: input '${info.name}' has dims [${dims.map(showDim)}], not an image (N, C, H, W or N, H, W, C): pass a .npy tensor for it`);
  }
}

function spatial<T>(dims: readonly T[], layout: Layout): [T, T, T] {
  return layout === 'NCHW' ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]];
}

function withDefaults(info: IOInfo, given: Partial<PreprocessConfig>, label: string, stride: [number, number], image?: { width: number; height: number }): PreprocessConfig {
  const dims = info.dims;
  imageDims(info, label);
  const layout = given.layout ?? inferLayout(dims);
  const [c, h, w] = spatial(dims, layout);
  const size: [number, number] = given.size ?? autoSize(fixed(h), fixed(w), stride, image);
  const channels = given.channels ?? (c === 1 ? 'grayscale' : 'RGB');
  const nc = channels === 'grayscale' ? 1 : 3;
  // an integer pixel input (promoted to float at its Cast) normalises inside the graph: raw 0..255
  const raw = info.promotedFrom !== undefined;
  const imagenet = !raw && nc === 3 && size.every((s) => s >= 160 && s <= 320);
  const cfg: PreprocessConfig = {
    layout,
    size,
    resize: given.resize ?? 'stretch',
    channels,
    scale: given.scale ?? (raw ? 1 : 1 / 255),
    mean: given.mean ?? (imagenet ? [...IMAGENET_MEAN] : new Array<number>(nc).fill(0)),
    std: given.std ?? (imagenet ? [...IMAGENET_STD] : new Array<number>(nc).fill(1)),
    input: info.name,
  };
  if (given.cropPct !== undefined) cfg.cropPct = given.cropPct;
  if (given.interpolation !== undefined) cfg.interpolation = given.interpolation;
  return cfg;
}

/**
 * [height, width] for an input with symbolic sides: a fixed side stays; the other follows the
 * image's aspect ratio; both are rounded to the stride (large images scaled down first).
 */
function autoSize(h: number | undefined, w: number | undefined, stride: [number, number], image?: { width: number; height: number }): [number, number] {
  if (h !== undefined && w !== undefined) return [h, w];
  if (!image) return [h ?? roundToStride(DEFAULT_SIZE, stride[0]), w ?? roundToStride(DEFAULT_SIZE, stride[1])];
  const k = h !== undefined ? h / image.height : w !== undefined ? w / image.width : Math.min(1, MAX_AUTO_SIDE / Math.max(image.width, image.height));
  return [h ?? roundToStride(image.height * k, stride[0]), w ?? roundToStride(image.width * k, stride[1])];
}

/** Channel dim of size 1 or 3 at position 1 → NCHW; at the end → NHWC; else NCHW. */
export function inferLayout(dims: ReadonlyArray<number | string | null>): Layout {
  const isC = (d: number | string | null): boolean => d === 1 || d === 3;
  if (isC(dims[1])) return 'NCHW';
  if (isC(dims[3])) return 'NHWC';
  return 'NCHW';
}

type Where = (key: keyof PreprocessConfig) => { file: string; key: string };

function checkConsistent(cfg: PreprocessConfig, info: IOInfo, label: string, stride: [number, number], where: Where): void {
  const nc = cfg.channels === 'grayscale' ? 1 : 3;
  const [c, h, w] = spatial(info.dims, cfg.layout);
  if (typeof c === 'number' && c !== nc) {
    const want = c === 1 ? '"grayscale"' : c === 3 ? '"RGB" or "BGR"' : undefined;
    const at = where('channels');
    throw new AttrLensError(
      want
        ? `${at.file}: "${at.key}" gives ${nc} channel${nc > 1 ? 's' : ''} ("${cfg.channels}"), but ${label} input '${info.name}' has ${c} in layout ${cfg.layout}: set "channels" to ${want}`
        : `${label}: input '${info.name}' has ${c} channels in layout ${cfg.layout}; images give 1 or 3: pass a .npy tensor, or set "layout" if the channel axis is elsewhere`,
    );
  }
  const at = where('size');
  if ((typeof h === 'number' && h !== cfg.size[0]) || (typeof w === 'number' && w !== cfg.size[1])) {
    throw new AttrLensError(`${at.file}: "${at.key}" gives [${cfg.size}], but ${label} input '${info.name}' needs height ${showDim(h)} and width ${showDim(w)}: fix it or remove it`);
  }
  const off = [0, 1].filter((a) => [h, w][a] === null || typeof [h, w][a] === 'string').filter((a) => cfg.size[a] % stride[a] !== 0);
  if (off.length) {
    const fixedSize = cfg.size.map((s, a) => (off.includes(a) ? roundToStride(s, stride[a]) : s));
    throw new AttrLensError(`${at.file}: "${at.key}" gives [${cfg.size}], but ${label} input '${info.name}' needs ${stride[0] === stride[1] ? `sides that are multiples of ${stride[0]}` : `a height that is a multiple of ${stride[0]} and a width that is a multiple of ${stride[1]}`} (its feature maps are down-sampled, then up-sampled and merged): use [${fixedSize}]`);
  }
  for (const key of ['mean', 'std'] as const) {
    const n = cfg[key].length;
    const k = where(key);
    if (n !== 1 && n !== nc) throw new AttrLensError(`${k.file}: "${k.key}" has ${n} values, but ${label} input '${info.name}' takes ${nc} channel${nc > 1 ? 's' : ''}: give ${nc === 1 ? '1 value' : '1 or 3 values'}`);
  }
  if (cfg.cropPct !== undefined && cfg.resize !== 'cover' && cfg.resize !== 'stretch') {
    const k = where('cropPct');
    throw new AttrLensError(`${k.file}: "${k.key}" applies to "resize": "cover" or "stretch", not "${cfg.resize}": remove it`);
  }
}

function fixed(d: number | string | null): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

export function showDim(d: number | string | null | undefined): string {
  return d === null || d === undefined ? '?' : String(d);
}
