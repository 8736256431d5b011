import * as fs from 'fs';
import * as path from 'path';
import type { KernelEnum, Metadata, SharpOptions } from 'sharp';
import { AttrLensError } from '../core/errors';
import { Tensor } from '../core/tensor';
import type { Interpolation, PreprocessConfig } from './preprocess';

// sharp loads lazily, like onnxruntime: the extension activates without paying for it.
type SharpFn = typeof import('sharp').default;
let sharpModule: SharpFn | undefined;
function sharp(): SharpFn {
  if (!sharpModule) sharpModule = require('sharp') as SharpFn;
  return sharpModule;
}

/** Images above this many pixels are refused before decoding. */
export const MAX_PIXELS = 40_000_000;
/** Image files above this size are refused before reading them. */
const MAX_FILE_BYTES = 512 * 2 ** 20;

/** The pixels the model sees, as RGBA, so a heatmap can be overlaid 1:1. */
export interface DisplayImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export interface DecodedImage {
  tensor: Tensor & { data: Float32Array };
  display: DisplayImage;
}

/** Decodes an image file and turns it into a float32 batch-1 tensor per `cfg`. */
export async function imageToTensor(file: string, cfg: PreprocessConfig, maxPixels = MAX_PIXELS): Promise<DecodedImage> {
  const name = path.basename(file);
  let bytes: Buffer;
  try {
    const size = (await fs.promises.stat(file)).size;
    if (size > MAX_FILE_BYTES) throw new AttrLensError(`${name} is ${(size / 2 ** 20).toFixed(0)} MiB, too large for an image input: downscale it first`);
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    if (e instanceof AttrLensError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new AttrLensError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}; check the path`);
  }
  const rgb = await decodeRgb(bytes, name, cfg, maxPixels);
  let display: DisplayImage | undefined;
  return {
    tensor: toTensor(rgb, cfg),
    get display() {
      return (display ??= toDisplay(rgb, cfg));
    },
  };
}

interface Rgb {
  /** the resized image, cfg.size[1] wide or narrower ("height": the rest is padding) */
  width: number;
  height: number;
  /** 3 bytes per pixel, row-major */
  data: Buffer;
}

async function decodeRgb(bytes: Buffer, name: string, cfg: PreprocessConfig, maxPixels: number): Promise<Rgb> {
  if (isSvg(bytes, name)) {
    throw new AttrLensError(`${name} is an SVG drawing, which is not decoded (it could load external files and has no fixed pixel size): export it as PNG first`);
  }
  const opts: SharpOptions = { limitInputPixels: maxPixels, failOn: 'error', pages: 1, page: 0, autoOrient: true };
  let meta: Metadata;
  try {
    meta = await sharp()(bytes, { ...opts, limitInputPixels: false }).metadata(); // header only: the limit is checked below
  } catch (e) {
    throw decodeError(e, name, bytes);
  }
  if (meta.format === 'svg') throw new AttrLensError(`${name} is an SVG drawing, which is not decoded: export it as PNG first`);
  const h = meta.pageHeight ?? meta.height;
  if (meta.width * h > maxPixels) {
    const mp = (meta.width * h) / 1e6;
    throw new AttrLensError(`${name} is ${meta.width}x${h} (${mp.toFixed(1)} megapixels), above the ${limitText(maxPixels)} limit: downscale it first`);
  }
  const src = sourceSize(meta);
  const [outH, outW] = cfg.size;
  const kernel = cfg.interpolation ? KERNELS[cfg.interpolation] : undefined;
  try {
    // autoOrient (EXIF) → sRGB 8-bit (CMYK, 16-bit, grey all land here) → alpha on white → resize
    let img = sharp()(bytes, opts).toColourspace('srgb').flatten({ background: { r: 255, g: 255, b: 255 } });
    let width = outW;
    if (cfg.resize === 'contain' || (cfg.resize === 'cover' && cfg.cropPct === undefined)) {
      img = img.resize(outW, outH, { fit: cfg.resize, position: 'centre', background: { r: 0, g: 0, b: 0, alpha: 1 }, kernel });
    } else if (cfg.resize === 'height') {
      width = Math.min(outW, Math.max(1, Math.ceil((outH * src.width) / src.height)));
      img = img.resize(width, outH, { fit: 'fill', kernel });
    } else {
      const [h, w] = resizedSize(src, cfg);
      img = img.resize(w, h, { fit: 'fill', kernel });
      if (h !== outH || w !== outW) img = img.extract({ left: Math.floor((w - outW) / 2), top: Math.floor((h - outH) / 2), width: outW, height: outH });
    }
    const { data, info } = await img.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== width || info.height !== outH || data.length !== width * outH * 3) {
      throw new AttrLensError(`${name} decoded to ${info.width}x${info.height} with ${info.channels} channels, not ${width}x${outH} RGB: convert it to an 8-bit RGB PNG`);
    }
    return { width, height: outH, data };
  } catch (e) {
    if (e instanceof AttrLensError) throw e;
    throw decodeError(e, name, bytes);
  }
}

const KERNELS: Record<Interpolation, keyof KernelEnum> = { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic', lanczos: 'lanczos3' };

/** Width and height as displayed: EXIF orientation applied, the first page of a multi-page file. */
function sourceSize(meta: Metadata): { width: number; height: number } {
  const o = meta.autoOrient ?? { width: meta.width, height: meta.height };
  return { width: o.width, height: meta.pageHeight ?? o.height };
}

/**
 * The size before the centre crop of "stretch" and "cover" with `cropPct`: size / cropPct,
 * rounded down as timm and transformers do (`int(224 / 0.875)` = 256); "cover" keeps the
 * aspect ratio, the long side also rounded down (`int(256 * long / short)`).
 */
export function resizedSize(src: { width: number; height: number }, cfg: Pick<PreprocessConfig, 'size' | 'resize' | 'cropPct'>): [number, number] {
  const p = cfg.cropPct ?? 1;
  const th = Math.floor(cfg.size[0] / p + 1e-6), tw = Math.floor(cfg.size[1] / p + 1e-6);
  if (cfg.resize !== 'cover') return [th, tw];
  if (th / src.height >= tw / src.width) return [th, Math.max(tw, Math.floor((src.width * th) / src.height + 1e-6))];
  return [Math.max(th, Math.floor((src.height * tw) / src.width + 1e-6)), tw];
}

/** An image file's displayed size from its header (undefined when it cannot be read: decoding reports why). */
export async function imageSize(file: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const meta = await sharp()(file, { limitInputPixels: false, pages: 1, page: 0 }).metadata();
    return meta.width && meta.height ? sourceSize(meta) : undefined;
  } catch {
    return undefined;
  }
}

function isSvg(bytes: Buffer, name: string): boolean {
  if (/\.svgz?$/i.test(name)) return true;
  const head = bytes.subarray(0, 512).toString('utf8').trimStart();
  return /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head);
}

function decodeError(e: unknown, name: string, bytes: Buffer): AttrLensError {
  const msg = (e as Error).message.split('\n')[0];
  const bmp = bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
  if (/unsupported image format/i.test(msg) && bmp) return new AttrLensError(`${name} is a BMP image, which the bundled decoder (sharp) cannot read: convert it to PNG first`);
  if (/unsupported image format/i.test(msg)) return new AttrLensError(`${name} is not an image format that can be decoded (PNG, JPEG, WebP, GIF, TIFF, AVIF): convert it to PNG`);
  if (/pixel limit/i.test(msg)) return new AttrLensError(`${name} is above the pixel limit: downscale it first`);
  return new AttrLensError(`${name} cannot be decoded (${msg}): the file may be damaged; re-save it as PNG`);
}

function limitText(n: number): string {
  return n >= 1e6 ? `${n / 1e6}-megapixel` : `${n}-pixel`;
}

/** Luma as PIL's convert('L') computes it (ITU-R 601-2 in 16-bit fixed point, rounded), as torchvision pipelines get it. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

function toTensor(img: Rgb, cfg: PreprocessConfig): Tensor & { data: Float32Array } {
  const { width: iw, height: h, data } = img;
  const w = cfg.size[1]; // columns from iw on are padding: 0 after normalisation
  const hw = w * h;
  const grey = cfg.channels === 'grayscale';
  const nc = grey ? 1 : 3;
  const out = new Float32Array(hw * nc);
  // channel c of the tensor reads source channel src[c]: BGR swaps red and blue
  const src = cfg.channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  // a byte has 256 values: each channel's normalised values are computed once, with the same
  // arithmetic as per pixel, so the tensor is the same to the bit and the loops only copy
  const luts = Array.from({ length: nc }, (_, c) => {
    const m = cfg.mean[cfg.mean.length === 1 ? 0 : c];
    const s = cfg.std[cfg.std.length === 1 ? 0 : c];
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = (v * cfg.scale - m) / s;
    return lut;
  });
  if (grey) {
    const lut = luts[0];
    for (let y = 0; y < h; y++) for (let x = 0, q = y * iw * 3, p = y * w; x < iw; x++, q += 3, p++) out[p] = lut[luma(data[q], data[q + 1], data[q + 2])];
  } else if (cfg.layout === 'NCHW') {
    for (let c = 0; c < 3; c++) {
      const lut = luts[c];
      const sc = src[c];
      for (let y = 0; y < h; y++) for (let x = 0, q = y * iw * 3 + sc, p = c * hw + y * w; x < iw; x++, q += 3, p++) out[p] = lut[data[q]];
    }
  } else {
    const [l0, l1, l2] = luts;
    const [s0, s1, s2] = src;
    for (let y = 0; y < h; y++)
      for (let x = 0, q = y * iw * 3, p = y * w * 3; x < iw; x++, q += 3, p += 3) {
        out[p] = l0[data[q + s0]];
        out[p + 1] = l1[data[q + s1]];
        out[p + 2] = l2[data[q + s2]];
      }
  }
  const dims = cfg.layout === 'NCHW' ? [1, nc, h, w] : [1, h, w, nc];
  return { dtype: 'float32', dims, data: out };
}

/** What the model sees, as RGBA; padding shows as the pixel whose normalised value is 0 (mean / scale). */
function toDisplay(img: Rgb, cfg: PreprocessConfig): DisplayImage {
  const { width: iw, height, data } = img;
  const width = cfg.size[1];
  const rgba = new Uint8Array(width * height * 4);
  const grey = cfg.channels === 'grayscale';
  const zero = (c: number): number => Math.max(0, Math.min(255, Math.round(cfg.mean[cfg.mean.length === 1 ? 0 : c] / cfg.scale)));
  // display channel c (RGB) is tensor channel c, or 2 - c in BGR
  const [z0, z1, z2] = grey ? [zero(0), zero(0), zero(0)] : [0, 1, 2].map((c) => zero(cfg.channels === 'BGR' ? 2 - c : c));
  for (let y = 0; y < height; y++) {
    let p = y * width * 4;
    for (let x = 0, q = y * iw * 3; x < iw; x++, q += 3, p += 4) {
      if (grey) {
        const l = luma(data[q], data[q + 1], data[q + 2]);
        rgba[p] = rgba[p + 1] = rgba[p + 2] = l;
      } else {
        rgba[p] = data[q];
        rgba[p + 1] = data[q + 1];
        rgba[p + 2] = data[q + 2];
      }
      rgba[p + 3] = 255;
    }
    for (let x = iw; x < width; x++, p += 4) {
      rgba[p] = z0;
      rgba[p + 1] = z1;
      rgba[p + 2] = z2;
      rgba[p + 3] = 255;
    }
  }
  return { width, height, rgba };
}
