// Turns the host's PanelImage into RGBA pixels for visualize.ts.
import { base64ToBytes } from '../../src/shared/base64';
import type { PanelImage } from '../../src/shared/protocol';
import type { RgbaImage } from '../../src/shared/visualize';

export async function loadPanelImage(img: PanelImage): Promise<RgbaImage> {
  if (img.encoding === 'rgba8-base64') {
    const data = base64ToBytes(img.data);
    if (data.length !== img.width * img.height * 4) {
      throw new Error(`image data has ${data.length} bytes, ${img.width}×${img.height} RGBA needs ${img.width * img.height * 4}`);
    }
    return { width: img.width, height: img.height, data };
  }
  const el = new Image();
  el.crossOrigin = 'anonymous';
  el.src = img.uri;
  await el.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('cannot draw the image: no 2D canvas');
  ctx.drawImage(el, 0, 0, img.width, img.height);
  try {
    return { width: img.width, height: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
  } catch {
    throw new Error('cannot read the image pixels (cross-origin URI); the host should send the image as rgba8-base64');
  }
}

/** A mid-grey stand-in when there is no image, so maps can still be drawn. */
export function blankImage(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4).fill(128);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, data };
}
