import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError, closest } from '../errors';
import type { IOInfo, LoadedModel } from '../loaded';

export type Layout = 'NCHW' | 'NHWC';
export type ResizeMode = 'stretch' | 'cover' | 'contain';
export type Channels = 'RGB' | 'BGR' | 'grayscale';

/** How an image becomes a model tensor: value = (pixel * scale - mean[c]) / std[c]. */
export interface PreprocessConfig {
  layout: Layout;
  /** [height, width] the image is resized to */
  size: [number, number];
  resize: ResizeMode;
  channels: Channels;
  scale: number;
  mean: number[];
  std: number[];
  /** the model input the image feeds */
  input: string;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** Spatial size used when the model's height or width is symbolic. */
export const DEFAULT_SIZE = 224;

const LAYOUTS: readonly Layout[] = ['NCHW', 'NHWC'];
const RESIZES: readonly ResizeMode[] = ['stretch', 'cover', 'contain'];
const CHANNELS: readonly Channels[] = ['RGB', 'BGR', 'grayscale'];
const KEYS = ['layout', 'size', 'resize', 'channels', 'scale', 'mean', 'std', 'input'] as const;

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
 * The preprocessing for one image input: overrides, then `<model>.attrlens.json` (when it
 * applies to this input), then defaults inferred from the input's dims.
 */
export function resolvePreprocess(model: LoadedModel, inputName: string, overrides: Partial<PreprocessConfig> = {}): PreprocessConfig {
  const label = model.label;
  const info = model.inputs.find((i) => i.name === inputName);
  if (!info) throw new AttrLensError(`${label} has no input '${inputName}'; its inputs are: ${model.inputs.map((i) => i.name).join(', ')}`);
  let fromFile = model.file ? readPreprocessFile(model.file) : undefined;
  if (fromFile?.input !== undefined && !model.inputs.some((i) => i.name === fromFile!.input)) {
    throw new AttrLensError(`${path.basename(configPathFor(model.file!))}: "input" is '${fromFile.input}', but the model's inputs are: ${model.inputs.map((i) => i.name).join(', ')}`);
  }
  if (fromFile?.input !== undefined && fromFile.input !== inputName) fromFile = undefined;
  const given = { ...fromFile, ...validatePreprocess(overrides, 'preprocessing settings') };
  const cfg = withDefaults(info, given, label);
  checkConsistent(cfg, info, label, fromFile ? path.basename(configPathFor(model.file!)) : 'preprocessing settings');
  return cfg;
}

function withDefaults(info: IOInfo, given: Partial<PreprocessConfig>, label: string): PreprocessConfig {
  const dims = info.dims;
  if (dims.length !== 4) {
    throw new AttrLensError(`${label}: input '${info.name}' has dims [${dims.map(showDim)}], not an image (N, C, H, W or N, H, W, C): pass a .npy tensor for it`);
  }
  const layout = given.layout ?? inferLayout(dims);
  const [c, h, w] = layout === 'NCHW' ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]];
  const size: [number, number] = given.size ?? [fixed(h) ?? DEFAULT_SIZE, fixed(w) ?? DEFAULT_SIZE];
  const channels = given.channels ?? (c === 1 ? 'grayscale' : 'RGB');
  const nc = channels === 'grayscale' ? 1 : 3;
  const imagenet = nc === 3 && size.every((s) => s >= 160 && s <= 320);
  return {
    layout,
    size,
    resize: given.resize ?? 'stretch',
    channels,
    scale: given.scale ?? 1 / 255,
    mean: given.mean ?? (imagenet ? [...IMAGENET_MEAN] : new Array<number>(nc).fill(0)),
    std: given.std ?? (imagenet ? [...IMAGENET_STD] : new Array<number>(nc).fill(1)),
    input: info.name,
  };
}

/** Channel dim of size 1 or 3 at position 1 → NCHW; at the end → NHWC; else NCHW. */
export function inferLayout(dims: ReadonlyArray<number | string | null>): Layout {
  const isC = (d: number | string | null): boolean => d === 1 || d === 3;
  if (isC(dims[1])) return 'NCHW';
  if (isC(dims[3])) return 'NHWC';
  return 'NCHW';
}

function checkConsistent(cfg: PreprocessConfig, info: IOInfo, label: string, source: string): void {
  const nc = cfg.channels === 'grayscale' ? 1 : 3;
  const d = info.dims;
  const [c, h, w] = cfg.layout === 'NCHW' ? [d[1], d[2], d[3]] : [d[3], d[1], d[2]];
  if (typeof c === 'number' && c !== nc) {
    const want = c === 1 ? '"grayscale"' : c === 3 ? '"RGB" or "BGR"' : undefined;
    throw new AttrLensError(
      want
        ? `${source}: "channels" is "${cfg.channels}" (${nc} channel${nc > 1 ? 's' : ''}), but ${label} input '${info.name}' has ${c} in layout ${cfg.layout}: set "channels" to ${want}`
        : `${label}: input '${info.name}' has ${c} channels in layout ${cfg.layout}; images give 1 or 3: pass a .npy tensor, or set "layout" if the channel axis is elsewhere`,
    );
  }
  if ((typeof h === 'number' && h !== cfg.size[0]) || (typeof w === 'number' && w !== cfg.size[1])) {
    throw new AttrLensError(`${source}: "size" is [${cfg.size}], but ${label} input '${info.name}' needs height ${showDim(h)} and width ${showDim(w)}: fix "size" or remove it`);
  }
  for (const key of ['mean', 'std'] as const) {
    const n = cfg[key].length;
    if (n !== 1 && n !== nc) throw new AttrLensError(`${source}: "${key}" has ${n} values, but the input takes ${nc} channel${nc > 1 ? 's' : ''}: give ${nc === 1 ? '1 value' : '1 or 3 values'}`);
  }
}

function fixed(d: number | string | null): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

export function showDim(d: number | string | null | undefined): string {
  return d === null || d === undefined ? '?' : String(d);
}
