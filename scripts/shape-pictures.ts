// Pictures with several coloured shapes on a textured grey background, for the designed
// detector (scripts/make-detect-sample.ts) and segmenter (scripts/make-segment-sample.ts).
// The same kind of picture as samples/shapes (scripts/make-sample.ts), with two or three
// objects of different colours, and their ground truth: a box per object and a class map.
import * as fs from 'fs';
import sharp from 'sharp';
import { Rng } from '../src/engine/methods/rng';

export const COLOURS = ['red', 'green', 'blue', 'yellow'] as const;
export type Colour = (typeof COLOURS)[number];
export type Shape = 'circle' | 'square' | 'triangle';

/** Base colour of each class in [0, 1] RGB (as samples/shapes). */
export const RGB: Record<Colour, [number, number, number]> = {
  red: [0.85, 0.15, 0.15],
  green: [0.15, 0.75, 0.2],
  blue: [0.15, 0.25, 0.9],
  yellow: [0.92, 0.82, 0.12],
};

/**
 * Colour-opponent weights over (R, G, B), threshold and gain per class (as samples/shapes):
 * every weight row sums to 0, so a grey pixel of any brightness gives exactly 0, and the
 * gain maps the class's own colour to about 1 after the threshold.
 */
export const OPPONENT: Record<Colour, { w: [number, number, number]; t: number; gain: number }> = {
  red: { w: [1, -1, 0], t: 0.3, gain: 2.5 },
  green: { w: [-1, 1, 0], t: 0.3, gain: 10 / 3 },
  blue: { w: [-0.5, -0.5, 1], t: 0.3, gain: 2.5 },
  yellow: { w: [1, 1, -2], t: 1.0, gain: 2 },
};

export interface ObjectSpec {
  colour: Colour;
  shape: Shape;
}

export interface DrawnObject extends ObjectSpec {
  /** centre and size of the drawn shape (circumradius) */
  cx: number;
  cy: number;
  r: number;
  /** tight box of the object's pixels: [x0, y0, x1, y1] in input pixels, x1/y1 exclusive */
  box: [number, number, number, number];
  pixels: number;
}

/** Inside test for a shape centred at (cx, cy) with size r and rotation a. */
export function inside(shape: Shape, px: number, py: number, cx: number, cy: number, r: number, a: number): boolean {
  const dx = px - cx, dy = py - cy;
  const u = dx * Math.cos(a) + dy * Math.sin(a);
  const v = -dx * Math.sin(a) + dy * Math.cos(a);
  if (shape === 'circle') return u * u + v * v <= r * r;
  if (shape === 'square') return Math.abs(u) <= r * 0.8 && Math.abs(v) <= r * 0.8;
  for (let k = 0; k < 3; k++) {
    const t = (2 * Math.PI * k) / 3;
    if (u * Math.cos(t) + v * Math.sin(t) > r / 2) return false;
  }
  return true;
}

/**
 * A size×size picture of `objects` (different colours) at random places that keep them
 * `gap` pixels apart; `classMap` holds 1 + the colour's index on each object, 0 elsewhere.
 */
export function drawPicture(size: number, objects: ObjectSpec[], seed: number, gap = 6): { rgb: Buffer; classMap: Uint8Array; objects: DrawnObject[] } {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  const grey = 0.4 + 0.15 * rand();
  const period = 6 + 5 * rand();
  const angle = Math.PI * rand();
  const [sx, sy] = [Math.cos(angle), Math.sin(angle)];

  const placed: Array<DrawnObject & { rot: number; tint: number[] }> = [];
  for (const o of objects) {
    const r = o.shape === 'triangle' ? 12 + 3 * rand() : 9 + 3 * rand();
    const margin = r + 2;
    let cx = 0, cy = 0;
    for (let tries = 0; ; tries++) {
      if (tries > 1000) throw new Error(`cannot place ${objects.length} objects in ${size}×${size} (seed ${seed})`);
      cx = margin + (size - 2 * margin) * rand();
      cy = margin + (size - 2 * margin) * rand();
      if (placed.every((p) => Math.hypot(p.cx - cx, p.cy - cy) > p.r + r + gap)) break;
    }
    const tint = RGB[o.colour].map((c) => c + 0.08 * (rand() - 0.5));
    placed.push({ ...o, cx, cy, r, rot: 2 * Math.PI * rand(), tint, box: [size, size, 0, 0], pixels: 0 });
  }

  const rgb = Buffer.alloc(size * size * 3);
  const classMap = new Uint8Array(size * size);
  const byte = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const on = placed.find((o) => inside(o.shape, x + 0.5, y + 0.5, o.cx, o.cy, o.r, o.rot));
      let px: number[];
      if (on) {
        const shade = 0.06 * (rand() - 0.5); // luminance only: opponent filters ignore it
        px = on.tint.map((c) => c + shade);
        classMap[p] = 1 + COLOURS.indexOf(on.colour);
        on.box = [Math.min(on.box[0], x), Math.min(on.box[1], y), Math.max(on.box[2], x + 1), Math.max(on.box[3], y + 1)];
        on.pixels++;
      } else {
        const stripes = 0.1 * Math.sin((2 * Math.PI * (x * sx + y * sy)) / period);
        const lum = grey + stripes + 0.14 * (rand() - 0.5);
        px = [0, 1, 2].map(() => lum + 0.03 * (rand() - 0.5));
      }
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = byte(px[c]);
    }
  }
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    rgb,
    classMap,
    objects: placed.map(({ colour, shape, cx, cy, r, box, pixels }) => ({ colour, shape, cx: round(cx), cy: round(cy), r: round(r), box, pixels })),
  };
}

export async function writePng(file: string, data: Buffer | Uint8Array, size: number, channels: 1 | 3): Promise<void> {
  await sharp(Buffer.from(data), { raw: { width: size, height: size, channels } })
    .png({ compressionLevel: 9, palette: false })
    .toFile(file);
}

/** JSON with two-space indent, short arrays of numbers or strings kept on one line. */
export function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2).replace(/\[\s*([^[\]{}]*?)\s*\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`) + '\n';
}

export function writeText(file: string, text: string): void {
  fs.writeFileSync(file, text);
}

/** A picture's file name from its objects, e.g. `red-circle_blue-square`. */
export function pictureName(objects: ObjectSpec[]): string {
  return objects.map((o) => `${o.colour}-${o.shape}`).join('_');
}
