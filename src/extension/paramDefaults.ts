// Values for parameters Captum requires but users rarely want to think about (vscode-free):
// an occlusion window of about 1/8 of the image on each side, over all channels, moved by half a window.
import type { MethodInfo } from '../engine';
import type { ParamValues } from '../shared/protocol';

/** Fills required window/stride shapes left unset, for an image input of `dims` (NCHW or NHWC). */
export function withSuggestedDefaults(method: MethodInfo | undefined, params: ParamValues, dims: ReadonlyArray<number | string | null> | undefined): ParamValues {
  if (!method || !dims || dims.length !== 4 || !dims.every((d) => typeof d === 'number' && d > 0)) return params;
  const [, a, b, c] = dims as number[];
  const nhwc = c <= 4 && a > 4;
  const [ch, h, w] = nhwc ? [c, a, b] : [a, b, c];
  const out = { ...params };
  const window = (p: { name: string }) => /window/i.test(p.name);
  const win = [ch, Math.max(1, Math.ceil(h / 8)), Math.max(1, Math.ceil(w / 8))];
  const order = (s: number[]) => (nhwc ? [s[1], s[2], s[0]] : s);
  let filled = false;
  for (const p of method.params) {
    if (p.kind === 'shape' && p.required && window(p) && (out[p.name] === undefined || out[p.name] === null)) {
      out[p.name] = order(win);
      filled = true;
    }
  }
  if (filled) {
    for (const p of method.params) {
      if (p.kind === 'shape' && /stride/i.test(p.name) && (out[p.name] === undefined || out[p.name] === null)) {
        out[p.name] = order([ch, Math.max(1, Math.ceil(win[1] / 2)), Math.max(1, Math.ceil(win[2] / 2))]);
      }
    }
  }
  return out;
}
