// The exported figure (Export PNG): the view as drawn, scaled up with nearest neighbour, the
// original beside it when asked, a colour bar with the raw value scale and a title — what
// Captum's visualize_image_attr_multiple puts in a matplotlib figure, as RGBA bytes, for Node and
// the browser alike (text comes from a bitmap font, so no canvas is needed).
import { colormapFor, getColormap } from './colormaps';
import { FONT_FIRST, FONT_GLYPHS, FONT_HEIGHT, FONT_WIDTH } from './figureFont';
import type { ViewSettings } from './protocol';
import type { RgbaImage, Visualization } from './visualize';

/** The long side of a figure's map is at least this many pixels. */
export const FIGURE_MIN_SIZE = 512;

/** A colour bar: its colours left to right (RGB triples) and the labels under it. */
export interface Colorbar {
  /** n × 3 bytes, the colour at the left end first */
  lut: Uint8Array;
  /** evenly spaced under the bar, the first at its left end, the last at its right end */
  ticks: string[];
  /** one line under the ticks (what the values are) */
  label?: string;
}

export interface FigureOptions {
  /** the view as drawn (what the panel shows) */
  map: RgbaImage;
  /** the image as the model saw it, drawn left of the map */
  original?: RgbaImage;
  title: string;
  colorbar?: Colorbar;
  /** minimum long side of each picture; default FIGURE_MIN_SIZE */
  minSize?: number;
}

const BG = [255, 255, 255];
const INK = [30, 30, 30];
const MARGIN = 16;
const GAP = 16;
const BAR_HEIGHT = 18;

/** The integer nearest-neighbour factor that brings w×h to at least `min` on the long side. */
export function figureScale(width: number, height: number, min = FIGURE_MIN_SIZE): number {
  return Math.max(1, Math.ceil(min / Math.max(1, width, height)));
}

/** Short display of a raw value (as the panel's legend shows it). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  const s = v.toPrecision(3);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/**
 * The colour bar of a view: the colormap for heat maps; black to white for masked_image (0
 * blacks the pixel out, the top of the scale keeps it whole); light to dark for alpha_scaling
 * (transparent to opaque over a light page). undefined for original_image.
 */
export function colorbarFor(view: ViewSettings, vis: Pick<Visualization, 'threshold' | 'colormap'>): Colorbar | undefined {
  if (view.method === 'original_image') return undefined;
  const t = Math.abs(vis.threshold);
  let lut: Uint8Array;
  if (view.method === 'heat_map' || view.method === 'blended_heat_map') {
    lut = (vis.colormap ? getColormap(vis.colormap as Parameters<typeof getColormap>[0]) : colormapFor(view.sign, view.colormap)).lut;
  } else {
    const gray = getColormap('gray').lut;
    lut = view.method === 'masked_image' ? gray : reversedLut(gray);
  }
  const ticks = view.sign === 'all' ? [formatValue(-t), '0', formatValue(t)] : view.sign === 'negative' ? ['0', formatValue(-t)] : ['0', formatValue(t)];
  const what = view.sign === 'absolute_value' ? '|attribution|' : view.sign === 'positive' ? 'positive attribution'
    : view.sign === 'negative' ? 'negative attribution' : 'attribution';
  return { lut, ticks, label: `${what}, top ${view.outlierPerc}% clipped` };
}

function reversedLut(lut: Uint8Array): Uint8Array {
  const n = lut.length / 3;
  const out = new Uint8Array(lut.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = lut[(n - 1 - i) * 3 + c];
  return out;
}

/** Characters the font lacks, in ASCII. */
function asciiText(s: string): string {
  return s.replace(/[·•]/g, '-').replace(/[×]/g, 'x').replace(/[–—−]/g, '-').replace(/…/g, '...').replace(/[‘’]/g, "'").replace(/[“”]/g, '"')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** Width in pixels of `s` in the figure font. */
export function textWidth(s: string): number {
  return asciiText(s).length * FONT_WIDTH;
}

/** `s` cut with "..." to fit `width` pixels. */
function fitText(s: string, width: number): string {
  const a = asciiText(s);
  const max = Math.floor(width / FONT_WIDTH);
  return a.length <= max ? a : max <= 3 ? a.slice(0, Math.max(0, max)) : `${a.slice(0, max - 3)}...`;
}

class Canvas {
  readonly data: Uint8ClampedArray<ArrayBuffer>;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      this.data[i * 4] = BG[0]; this.data[i * 4 + 1] = BG[1]; this.data[i * 4 + 2] = BG[2]; this.data[i * 4 + 3] = 255;
    }
  }

  private put(x: number, y: number, r: number, g: number, b: number, a = 255): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    if (a === 255) {
      this.data[o] = r; this.data[o + 1] = g; this.data[o + 2] = b;
    } else {
      // over the opaque page
      const k = a / 255;
      this.data[o] = Math.round(r * k + this.data[o] * (1 - k));
      this.data[o + 1] = Math.round(g * k + this.data[o + 1] * (1 - k));
      this.data[o + 2] = Math.round(b * k + this.data[o + 2] * (1 - k));
    }
  }

  /** `img` at (x0, y0), each pixel an s×s block. */
  image(img: RgbaImage, x0: number, y0: number, s: number): void {
    for (let y = 0; y < img.height * s; y++) {
      const sy = Math.floor(y / s);
      for (let x = 0; x < img.width * s; x++) {
        const o = (sy * img.width + Math.floor(x / s)) * 4;
        this.put(x0 + x, y0 + y, img.data[o], img.data[o + 1], img.data[o + 2], img.data[o + 3]);
      }
    }
  }

  text(s: string, x0: number, y0: number): void {
    for (let i = 0; i < s.length; i++) {
      const glyph = FONT_GLYPHS[s.charCodeAt(i) - FONT_FIRST];
      if (!glyph) continue;
      for (let y = 0; y < FONT_HEIGHT; y++) {
        const bits = parseInt(glyph.slice(y * 3, y * 3 + 3), 16);
        for (let x = 0; x < FONT_WIDTH; x++) if (bits & (1 << x)) this.put(x0 + i * FONT_WIDTH + x, y0 + y, INK[0], INK[1], INK[2]);
      }
    }
  }

  bar(lut: Uint8Array, x0: number, y0: number, w: number, h: number): void {
    const n = lut.length / 3;
    for (let x = 0; x < w; x++) {
      const k = Math.min(n - 1, Math.round((x / Math.max(1, w - 1)) * (n - 1))) * 3;
      for (let y = 0; y < h; y++) this.put(x0 + x, y0 + y, lut[k], lut[k + 1], lut[k + 2]);
    }
    this.frame(x0 - 1, y0 - 1, w + 2, h + 2);
  }

  frame(x0: number, y0: number, w: number, h: number): void {
    for (let x = x0; x < x0 + w; x++) { this.put(x, y0, INK[0], INK[1], INK[2]); this.put(x, y0 + h - 1, INK[0], INK[1], INK[2]); }
    for (let y = y0; y < y0 + h; y++) { this.put(x0, y, INK[0], INK[1], INK[2]); this.put(x0 + w - 1, y, INK[0], INK[1], INK[2]); }
  }
}

/** Where renderFigure put things (for tests and for callers that annotate). */
export interface FigureLayout {
  scale: number;
  title: { x: number; y: number; text: string };
  map: { x: number; y: number; width: number; height: number };
  original?: { x: number; y: number; width: number; height: number };
  bar?: { x: number; y: number; width: number; height: number };
}

/**
 * The figure: title on top; the original (if given) and the map side by side, each scaled up
 * with nearest neighbour to at least `minSize` on the long side and captioned; the colour bar
 * under the map with its ticks and label. White page, dark text.
 */
export function renderFigure(opts: FigureOptions): RgbaImage & { data: Uint8ClampedArray<ArrayBuffer>; layout: FigureLayout } {
  const { map, original, colorbar } = opts;
  if (map.data.length !== map.width * map.height * 4) throw new Error(`figure: map has ${map.data.length} bytes, ${map.width}×${map.height} RGBA needs ${map.width * map.height * 4}`);
  if (original && (original.width !== map.width || original.height !== map.height)) {
    throw new Error(`figure: the original is ${original.width}×${original.height} but the map ${map.width}×${map.height}`);
  }
  const s = figureScale(map.width, map.height, opts.minSize);
  const pw = map.width * s, ph = map.height * s;
  const lineH = FONT_HEIGHT;
  const width = MARGIN * 2 + (original ? pw + GAP : 0) + pw;
  const titleY = MARGIN;
  const captionY = titleY + lineH + 10;
  const picY = captionY + lineH + 4;
  const barY = picY + ph + 12;
  const height = colorbar ? barY + BAR_HEIGHT + 6 + lineH + (colorbar.label ? 4 + lineH : 0) + MARGIN : picY + ph + MARGIN;
  const c = new Canvas(width, height);
  const title = fitText(opts.title, width - 2 * MARGIN);
  c.text(title, MARGIN, titleY);
  const mapX = MARGIN + (original ? pw + GAP : 0);
  const layout: FigureLayout = { scale: s, title: { x: MARGIN, y: titleY, text: title }, map: { x: mapX, y: picY, width: pw, height: ph } };
  if (original) {
    c.text(fitText('Original', pw), MARGIN, captionY);
    c.image(original, MARGIN, picY, s);
    layout.original = { x: MARGIN, y: picY, width: pw, height: ph };
  }
  c.text(fitText('Attribution', pw), mapX, captionY);
  c.image(map, mapX, picY, s);
  if (colorbar && colorbar.lut.length >= 3) {
    c.bar(colorbar.lut, mapX, barY, pw, BAR_HEIGHT);
    layout.bar = { x: mapX, y: barY, width: pw, height: BAR_HEIGHT };
    const ty = barY + BAR_HEIGHT + 6;
    const n = colorbar.ticks.length;
    colorbar.ticks.forEach((t, i) => {
      const txt = asciiText(t);
      const w = txt.length * FONT_WIDTH;
      const at = n === 1 ? mapX : mapX + Math.round((i / (n - 1)) * pw);
      const x = i === 0 ? at : i === n - 1 ? at - w : at - Math.round(w / 2);
      c.text(txt, x, ty);
    });
    if (colorbar.label) c.text(fitText(colorbar.label, width - mapX - MARGIN), mapX, ty + lineH + 4);
  }
  return { width, height, data: c.data, layout };
}
