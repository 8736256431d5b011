import * as fs from 'fs';
import * as path from 'path';
import type { FitEnum, Metadata, SharpOptions } from 'sharp';
import { AttrLensError } from '../errors';
import { Tensor } from '../tensor';
import { PreprocessConfig } from './preprocess';

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
  return { tensor: toTensor(rgb, cfg), display: toDisplay(rgb, cfg) };
}

interface Rgb {
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
  const [outH, outW] = cfg.size;
  const fit: Record<PreprocessConfig['resize'], keyof FitEnum> = { stretch: 'fill', cover: 'cover', contain: 'contain' };
  try {
    // autoOrient (EXIF) → sRGB 8-bit (CMYK, 16-bit, grey all land here) → alpha on white → resize
    const { data, info } = await sharp()(bytes, opts)
      .toColourspace('srgb')
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .resize(outW, outH, { fit: fit[cfg.resize], position: 'centre', background: { r: 0, g: 0, b: 0, alpha: 1 } })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== outW || info.height !== outH || data.length !== outW * outH * 3) {
      throw new AttrLensError(`${name} decoded to ${info.width}x${info.height} with ${info.channels} channels, not ${outW}x${outH} RGB: convert it to an 8-bit RGB PNG`);
    }
    return { width: outW, height: outH, data };
  } catch (e) {
    if (e instanceof AttrLensError) throw e;
    throw decodeError(e, name, bytes);
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
  const { width: w, height: h, data } = img;
  const hw = w * h;
  const grey = cfg.channels === 'grayscale';
  const nc = grey ? 1 : 3;
  const out = new Float32Array(hw * nc);
  // channel c of the tensor reads source channel src[c]: BGR swaps red and blue
  const src = cfg.channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const m = (c: number): number => cfg.mean[cfg.mean.length === 1 ? 0 : c];
  const s = (c: number): number => cfg.std[cfg.std.length === 1 ? 0 : c];
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < nc; c++) {
      const v = grey ? luma(data[p * 3], data[p * 3 + 1], data[p * 3 + 2]) : data[p * 3 + src[c]];
      const x = (v * cfg.scale - m(c)) / s(c);
      out[cfg.layout === 'NCHW' ? c * hw + p : p * nc + c] = x;
    }
  }
  const dims = cfg.layout === 'NCHW' ? [1, nc, h, w] : [1, h, w, nc];
  return { dtype: 'float32', dims, data: out };
}

function toDisplay(img: Rgb, cfg: PreprocessConfig): DisplayImage {
  const { width, height, data } = img;
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = [data[p * 3], data[p * 3 + 1], data[p * 3 + 2]];
    const y = cfg.channels === 'grayscale' ? luma(r, g, b) : -1;
    rgba[p * 4] = y >= 0 ? y : r;
    rgba[p * 4 + 1] = y >= 0 ? y : g;
    rgba[p * 4 + 2] = y >= 0 ? y : b;
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}
