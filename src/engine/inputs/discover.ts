// Where a model's preprocessing comes from when the user wrote none: the files its exporter
// left beside it, or its own metadata. Each reader returns a partial config with the keys it
// found, the source to show, and the source's own key names for error messages.
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import type { OnnxModel } from '../onnx/model';
import { PADDLE_OCR_CLASSIFIER_WIDTH, PADDLE_OCR_LINE_HEIGHT, PADDLE_OCR_SOURCE, paddleOcrRole } from '../onnx/paddleocr';
import type { Interpolation, PreprocessConfig } from './preprocess';

export interface Discovered {
  config: Partial<PreprocessConfig>;
  /** shown to the user: "preprocessor_config.json (ViTImageProcessor)" */
  source: string;
  /** named in errors: "preprocessor_config.json", "ONNX metadata_props" */
  file: string;
  /** our key → the source's key, for errors about a value the model contradicts */
  keys: Partial<Record<keyof PreprocessConfig, string>>;
  /** what the source could not express exactly */
  note?: string;
}

const IMAGENET_STANDARD = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const OPENAI_CLIP = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };

/** PIL resampling codes as transformers writes them: BOX and HAMMING have no sharp kernel; bilinear is closest. */
const PIL_RESAMPLE: Record<number, Interpolation> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'bilinear', 5: 'bilinear' };

interface ProcessorDefaults {
  size?: unknown;
  resample: number;
  crop?: unknown;
  norm?: { mean: number[]; std: number[] };
  /** an int `size` means the short side (else a square) */
  shortestEdge: boolean;
}

// The constructor defaults of transformers' image processors (models/*/image_processing_*.py),
// used for keys a file leaves out. Swin uses ViT's processor, ResNet ConvNeXt's.
const PROCESSORS: Record<string, ProcessorDefaults> = {
  ViT: { size: { height: 224, width: 224 }, resample: 2, norm: IMAGENET_STANDARD, shortestEdge: false },
  DeiT: { size: { height: 256, width: 256 }, resample: 3, crop: { height: 224, width: 224 }, norm: IMAGENET_STANDARD, shortestEdge: false },
  Beit: { size: { height: 256, width: 256 }, resample: 3, crop: { height: 224, width: 224 }, norm: IMAGENET_STANDARD, shortestEdge: false },
  CLIP: { size: { shortest_edge: 224 }, resample: 3, crop: { height: 224, width: 224 }, norm: OPENAI_CLIP, shortestEdge: true },
  ConvNext: { size: { shortest_edge: 384 }, resample: 2, norm: IMAGENET_STANDARD, shortestEdge: true },
};
const GENERIC: ProcessorDefaults = { resample: 2, shortestEdge: false };

/** The first source that exists beside the model and applies, in the documented order; an exporter's convention last. */
export function discoverPreprocess(model: OnnxModel): Discovered | undefined {
  const dir = model.file ? path.dirname(model.file) : undefined;
  return (dir && (fromPreprocessorConfig(dir) ?? fromTimmConfig(dir))) || fromOnnxMetadata(model) || fromPaddleOcrConvention(model);
}

/**
 * PaddleOCR's own preprocessing (tools/infer/predict_{cls,det,rec}.py) for a Paddle2ONNX export
 * it recognises: images as cv2 reads them (BGR) and cv2.resize's bilinear kernel.
 */
export function fromPaddleOcrConvention(model: OnnxModel): Discovered | undefined {
  const role = paddleOcrRole(model);
  if (!role) return undefined;
  const base = { file: PADDLE_OCR_SOURCE[role], source: PADDLE_OCR_SOURCE[role], keys: {} };
  const line = { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], channels: 'BGR', interpolation: 'bilinear' } as const;
  switch (role) {
    case 'classifier':
      // height 48 keeping the aspect ratio, at most 192 wide, the rest of the width zeros
      return { ...base, config: { ...line, mean: [...line.mean], std: [...line.std], size: [PADDLE_OCR_LINE_HEIGHT, PADDLE_OCR_CLASSIFIER_WIDTH], resize: 'height' } };
    case 'recogniser': {
      const w = model.declaredShape(model.realInputs()[0]).dims[3];
      // a fixed width: height 48 keeping the aspect ratio, padded with zeros, as PaddleOCR pads to its width
      if (typeof w === 'number' && w > 0) return { ...base, config: { ...line, mean: [...line.mean], std: [...line.std], size: [PADDLE_OCR_LINE_HEIGHT, w], resize: 'height' } };
      // else the width follows the line's aspect ratio (the input's height is 48)
      return { ...base, config: { ...line, mean: [...line.mean], std: [...line.std], resize: 'stretch' }, note: 'lines narrower than 320 at height 48 are not padded to 320 as PaddleOCR pads them' };
    }
    case 'detector':
      // both sides follow the image, rounded to multiples of 32; ImageNet's mean and std on x/255
      return { ...base, config: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channels: 'BGR', interpolation: 'bilinear', resize: 'stretch' }, note: "the long side is limited to 1024, not PaddleOCR's 960" };
  }
}

/** Hugging Face `preprocessor_config.json` of an image processor (or its older feature extractor). */
export function fromPreprocessorConfig(dir: string): Discovered | undefined {
  const file = 'preprocessor_config.json';
  const j = readJson(dir, file);
  if (!j) return undefined;
  if (!['size', 'crop_size', 'image_mean', 'image_std', 'do_resize'].some((k) => k in j)) return undefined; // audio, text: not ours
  const type = str(j.image_processor_type) ?? str(j.feature_extractor_type) ?? '';
  const family = type.replace(/(ImageProcessor|FeatureExtractor)(Fast)?$/, '');
  const d = PROCESSORS[family] ?? GENERIC;
  const cfg: Partial<PreprocessConfig> = {};
  const keys: Discovered['keys'] = {};
  let note: string | undefined;
  const bool = (k: string, dflt: boolean): boolean => (typeof j[k] === 'boolean' ? (j[k] as boolean) : dflt);

  if (bool('do_resize', true)) {
    const size = sizeDict(j.size ?? d.size, d.shortestEdge, file, 'size');
    const crop = bool('do_center_crop', d.crop !== undefined) ? cropDict(j.crop_size ?? d.crop, file) : undefined;
    const resample = j.resample ?? d.resample;
    if (typeof resample !== 'number' || !(resample in PIL_RESAMPLE)) fail(file, 'resample', resample, 'a PIL code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic');
    cfg.interpolation = PIL_RESAMPLE[resample as number];
    keys.interpolation = 'resample';
    if (family === 'ConvNext' && size && 'shortest_edge' in size) {
      // ConvNeXt: below 384, short side to shortest_edge / crop_pct, then the centre square
      const s = size.shortest_edge;
      cfg.size = [s, s];
      if (s < 384) {
        cfg.resize = 'cover';
        cfg.cropPct = j.crop_pct === undefined || j.crop_pct === null ? 224 / 256 : fraction(j.crop_pct, file, 'crop_pct');
        keys.cropPct = 'crop_pct';
      } else cfg.resize = 'stretch';
      keys.size = 'size';
    } else if (size && 'height' in size) {
      cfg.resize = 'stretch';
      cfg.size = [size.height, size.width];
      keys.size = 'size';
      if (crop && (crop.height < size.height || crop.width < size.width)) {
        // DeiT, BEiT: resize to size, then centre-crop crop_size
        cfg.size = [crop.height, crop.width];
        cfg.cropPct = crop.height / size.height;
        keys.size = keys.cropPct = 'crop_size';
        if (Math.abs(crop.width / size.width - cfg.cropPct) > 1e-6) note = `crop_size ${crop.width / size.width} of the width, read as ${cfg.cropPct} like the height`;
      }
    } else if (size && 'shortest_edge' in size) {
      // CLIP, ResNet-style: short side to shortest_edge, then the centre crop
      cfg.resize = 'cover';
      if (crop) {
        cfg.size = [crop.height, crop.width];
        cfg.cropPct = Math.min(1, Math.min(crop.height, crop.width) / size.shortest_edge);
        keys.size = 'crop_size';
        keys.cropPct = 'size';
      } else {
        cfg.size = [size.shortest_edge, size.shortest_edge];
        keys.size = 'size';
        note = 'no centre crop: the image is cropped to a square of shortest_edge';
      }
    }
  }
  if (bool('do_rescale', true)) {
    cfg.scale = j.rescale_factor === undefined ? 1 / 255 : positive(j.rescale_factor, file, 'rescale_factor');
    keys.scale = 'rescale_factor';
  } else cfg.scale = 1;
  if (bool('do_normalize', true)) {
    const mean = j.image_mean ?? d.norm?.mean;
    const std = j.image_std ?? d.norm?.std;
    if (mean !== undefined) cfg.mean = numbers(mean, file, 'image_mean');
    if (std !== undefined) cfg.std = numbers(std, file, 'image_std', true);
    keys.mean = 'image_mean';
    keys.std = 'image_std';
  } else {
    cfg.mean = [0];
    cfg.std = [1];
  }
  return { config: cfg, source: `${file}${type ? ` (${type}${PROCESSORS[family] ? '' : ', read as a generic processor'})` : ''}`, file, keys, note };
}

/** timm's `config.json`: `pretrained_cfg` (input_size, interpolation, crop_pct, crop_mode, mean, std). */
export function fromTimmConfig(dir: string): Discovered | undefined {
  const file = 'config.json';
  const j = readJson(dir, file);
  const pc = j && obj(j.pretrained_cfg);
  if (!pc || !('input_size' in pc || 'mean' in pc)) return undefined;
  const cfg: Partial<PreprocessConfig> = {};
  const keys: Discovered['keys'] = {};
  let note: string | undefined;
  const key = (k: string): string => `pretrained_cfg.${k}`;
  if (pc.input_size !== undefined) {
    const s = pc.input_size;
    if (!Array.isArray(s) || s.length !== 3 || !s.every((x) => Number.isInteger(x) && x > 0)) fail(file, key('input_size'), s, '[channels, height, width]');
    const [c, h, w] = s as number[];
    cfg.size = [h, w];
    if (c === 1) cfg.channels = 'grayscale';
    keys.size = key('input_size');
    keys.channels = key('input_size');
  }
  const mode = str(pc.crop_mode) ?? 'center';
  // timm's eval transform: short side to floor(size / crop_pct), then the centre crop ("squash": both sides)
  cfg.resize = mode === 'squash' ? 'stretch' : mode === 'border' ? 'contain' : 'cover';
  if (mode === 'border') note = 'crop_mode "border" is read as "contain"';
  if (cfg.resize !== 'contain') {
    cfg.cropPct = pc.crop_pct === undefined || pc.crop_pct === null ? 0.875 : fraction(pc.crop_pct, file, key('crop_pct'));
    keys.cropPct = key('crop_pct');
  }
  const interp = str(pc.interpolation);
  if (interp) {
    cfg.interpolation = (['nearest', 'bilinear', 'bicubic', 'lanczos'] as const).find((k) => k === interp) ?? 'bilinear';
    keys.interpolation = key('interpolation');
  }
  cfg.scale = 1 / 255;
  if (pc.mean !== undefined) cfg.mean = numbers(pc.mean, file, key('mean'));
  if (pc.std !== undefined) cfg.std = numbers(pc.std, file, key('std'), true);
  keys.mean = key('mean');
  keys.std = key('std');
  return { config: cfg, source: 'config.json pretrained_cfg (timm)', file, keys, note };
}

/** ONNX `metadata_props`: Ultralytics' imgsz/stride, or generic image_mean/image_std/input_size keys. */
export function fromOnnxMetadata(model: OnnxModel): Discovered | undefined {
  const props = new Map((model.proto.metadataProps ?? []).map((p) => [(p.key ?? '').toLowerCase(), p.value ?? '']));
  const file = 'ONNX metadata_props';
  const cfg: Partial<PreprocessConfig> = {};
  const keys: Discovered['keys'] = {};
  const ultralytics = /ultralytics/i.test(`${props.get('author') ?? ''} ${props.get('description') ?? ''}`) || (props.has('imgsz') && props.has('stride'));
  const sizeKey = ['imgsz', 'input_size', 'image_size'].find((k) => props.has(k));
  if (sizeKey) {
    const v = parseLoose(props.get(sizeKey)!);
    const s = typeof v === 'number' ? [v, v] : Array.isArray(v) ? (v.length === 3 ? v.slice(1) : v) : undefined; // [C, H, W] → [H, W]
    if (!s || s.length !== 2 || !s.every((x) => Number.isInteger(x) && x > 0)) fail(file, sizeKey, props.get(sizeKey), '[height, width]');
    cfg.size = [s![0] as number, s![1] as number];
    keys.size = sizeKey;
  }
  for (const [ours, theirs] of [['mean', ['image_mean', 'mean']], ['std', ['image_std', 'std']]] as const) {
    const k = theirs.find((t) => props.has(t));
    if (!k) continue;
    cfg[ours] = numbers(parseLoose(props.get(k)!), file, k, ours === 'std');
    keys[ours] = k;
  }
  if (ultralytics) {
    // Ultralytics: RGB in [0, 1], letterboxed (detection) or centre-cropped (classify), no mean/std
    cfg.resize = props.get('task') === 'classify' ? 'cover' : 'contain';
    cfg.scale = 1 / 255;
    cfg.mean ??= [0];
    cfg.std ??= [1];
    return { config: cfg, source: 'ONNX metadata (ultralytics)', file, keys, note: cfg.resize === 'contain' ? 'letterbox padded with black, not grey 114' : undefined };
  }
  if (Object.keys(cfg).length === 0) return undefined;
  return { config: cfg, source: 'ONNX metadata', file, keys };
}

// ---- readers ----

/** A small JSON object from the model's own folder; undefined when absent. Python's NaN/Infinity are read as strings, for errors that name the key. */
function readJson(dir: string, name: string): Record<string, unknown> | undefined {
  const file = path.join(dir, name);
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > 4 << 20) return undefined;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let j: unknown;
  try {
    j = JSON.parse(text.replace(/(?<=[[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '"$1"'));
  } catch (e) {
    throw new AttrLensError(`${name} beside the model is not valid JSON (${(e as Error).message}): fix it, or write the preprocessing in an .attrlens.json file`);
  }
  return obj(j);
}

function parseLoose(v: string): unknown {
  // Python reprs: (640, 640), [0.5, 0.5, 0.5]
  const t = v.trim().replace(/^\((.*)\)$/s, '[$1]').replace(/,\s*\]$/, ']');
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function fail(file: string, key: string, got: unknown, want: string): never {
  throw new AttrLensError(`${file}: "${key}" must be ${want} (got ${JSON.stringify(got)}): fix it, or set the preprocessing in an .attrlens.json file beside the model`);
}

type SizeDict = { height: number; width: number } | { shortest_edge: number };

/** transformers' get_size_dict: an int is a square or the short side; dicts as written. */
function sizeDict(v: unknown, intIsShortest: boolean, file: string, key: string): SizeDict | undefined {
  if (v === undefined || v === null) return undefined;
  const ok = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0 && (x as number) <= 8192;
  if (ok(v)) return intIsShortest ? { shortest_edge: v } : { height: v, width: v };
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return { height: v[0] as number, width: v[1] as number };
  const o = obj(v);
  if (o && ok(o.height) && ok(o.width)) return { height: o.height, width: o.width };
  if (o && ok(o.shortest_edge)) return { shortest_edge: o.shortest_edge };
  if (o && ('longest_edge' in o || 'max_height' in o)) return undefined; // detection-style sizes: the model's dims decide
  return fail(file, key, v, '{"height": H, "width": W}, {"shortest_edge": S} or a whole number');
}

function cropDict(v: unknown, file: string): { height: number; width: number } | undefined {
  const d = sizeDict(v, false, file, 'crop_size');
  return d && 'shortest_edge' in d ? { height: d.shortest_edge, width: d.shortest_edge } : d;
}

function numbers(v: unknown, file: string, key: string, nonZero = false): number[] {
  const arr = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(arr) || arr.length < 1 || arr.length > 4 || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    fail(file, key, v, 'a list of finite numbers, one per channel');
  }
  if (nonZero && (arr as number[]).some((x) => x === 0)) fail(file, key, v, 'non-zero (it divides)');
  return [...(arr as number[])];
}

function positive(v: unknown, file: string, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(file, key, v, 'a positive number');
  return v as number;
}

function fraction(v: unknown, file: string, key: string): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) fail(file, key, v, 'a number in (0, 1]');
  return v as number;
}
