import * as fs from 'fs';
import * as path from 'path';
import type { LoadedInputs } from '../engine/inputs';
import { Tensor } from '../engine/core/tensor';
import { VisualizeOptions, visualizeImageAttr } from '../shared/visualize';

/** Encodes RGBA pixels as PNG with sharp (loaded lazily). */
export async function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } }).png().toBuffer();
}

/** Renders an attribution over the model's view of the image with Captum's visualisation. */
export async function renderAttribution(attr: Tensor, image: NonNullable<LoadedInputs['image']>, opts: VisualizeOptions = {}): Promise<{ png: Buffer; threshold: number; min: number; max: number }> {
  const v = visualizeImageAttr(attr.data as Float32Array, attr.dims, { width: image.width, height: image.height, data: image.rgba }, opts);
  return { png: await encodePng(v.rgba, v.width, v.height), threshold: v.threshold, min: v.min, max: v.max };
}

export function writeFileSafe(file: string, data: Buffer | string): string {
  const abs = path.resolve(file);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
  return abs;
}
