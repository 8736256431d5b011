// Colormaps as 256-entry lookup tables, built like matplotlib's LinearSegmentedColormap:
// linear interpolation between control points, lookup index = floor(v * 256) clipped to 255.
// Control points: ColorBrewer's 9-class sequential schemes (what matplotlib's Blues/Greens/Reds
// are made from), Captum's "RdWhGn" (red, white, green), and 11 samples of viridis/inferno.
import type { ColormapName, VisualizeSign } from './protocol';

export const LUT_SIZE = 256;

/** RGB bytes, LUT_SIZE * 3 */
export interface Colormap {
  name: string;
  lut: Uint8Array;
}

type Channel = Array<[x: number, y: number]>;

/** Equally spaced hex colours → per-channel control points. */
function fromHex(colours: string[]): [Channel, Channel, Channel] {
  const chans: [Channel, Channel, Channel] = [[], [], []];
  colours.forEach((hex, i) => {
    const x = colours.length === 1 ? 0 : i / (colours.length - 1);
    for (let c = 0; c < 3; c++) chans[c].push([x, parseInt(hex.slice(1 + 2 * c, 3 + 2 * c), 16) / 255]);
  });
  return chans;
}

function interp(ch: Channel, x: number): number {
  if (x <= ch[0][0]) return ch[0][1];
  for (let i = 1; i < ch.length; i++) {
    const [x1, y1] = ch[i];
    if (x <= x1) {
      const [x0, y0] = ch[i - 1];
      return x1 === x0 ? y1 : y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return ch[ch.length - 1][1];
}

function build(name: string, chans: [Channel, Channel, Channel]): Colormap {
  const lut = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = i / (LUT_SIZE - 1);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(interp(chans[c], x) * 255);
  }
  return { name, lut };
}

const DEFINITIONS: Record<string, () => [Channel, Channel, Channel]> = {
  // Captum: LinearSegmentedColormap.from_list("RdWhGn", ["red", "white", "green"]); matplotlib's green is #008000
  RdWhGn: () => fromHex(['#ff0000', '#ffffff', '#008000']),
  Blues: () => fromHex(['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b']),
  Greens: () => fromHex(['#f7fcf5', '#e5f5e0', '#c7e9c0', '#a1d99b', '#74c476', '#41ab5d', '#238b45', '#006d2c', '#00441b']),
  Reds: () => fromHex(['#fff5f0', '#fee0d2', '#fcbba1', '#fc9272', '#fb6a4a', '#ef3b2c', '#cb181d', '#a50f15', '#67000d']),
  viridis: () => fromHex(['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725']),
  inferno: () => fromHex(['#000004', '#160b39', '#420a68', '#6a176e', '#932667', '#bc3754', '#dd513a', '#f37819', '#fca50a', '#f6d746', '#fcffa4']),
  // matplotlib's jet segment data
  jet: () => [
    [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
    [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
    [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
  ],
  gray: () => fromHex(['#000000', '#ffffff']),
};

const cache = new Map<string, Colormap>();

export type BuiltinColormap = 'RdWhGn' | 'Blues' | 'Greens' | 'Reds' | 'viridis' | 'inferno' | 'jet' | 'gray';

export function getColormap(name: BuiltinColormap): Colormap {
  let cm = cache.get(name);
  if (!cm) {
    const def = DEFINITIONS[name];
    if (!def) throw new Error(`unknown colormap "${name}"`);
    cm = build(name, def());
    cache.set(name, cm);
  }
  return cm;
}

/** Captum's default colormap for a sign, or the user's choice. */
export function colormapFor(sign: VisualizeSign, choice: ColormapName = 'auto'): Colormap {
  if (choice !== 'auto') return getColormap(choice);
  switch (sign) {
    case 'all': return getColormap('RdWhGn');
    case 'positive': return getColormap('Greens');
    case 'negative': return getColormap('Reds');
    case 'absolute_value': return getColormap('Blues');
  }
}

/** LUT index for v in [vmin, vmax], matplotlib's rule (v == vmax maps to the last entry). */
export function lutIndex(v: number, vmin: number, vmax: number): number {
  const t = (v - vmin) / (vmax - vmin);
  if (!(t > 0)) return 0; // also NaN
  const i = Math.floor(t * LUT_SIZE);
  return i >= LUT_SIZE ? LUT_SIZE - 1 : i;
}

/** CSS linear-gradient stops for a legend bar. */
export function cssGradient(cm: Colormap, stops = 16): string {
  const parts: string[] = [];
  for (let s = 0; s <= stops; s++) {
    const i = Math.round((s / stops) * (LUT_SIZE - 1));
    parts.push(`rgb(${cm.lut[i * 3]}, ${cm.lut[i * 3 + 1]}, ${cm.lut[i * 3 + 2]}) ${((s / stops) * 100).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}
