import { Window } from '../../onnx/window';

/**
 * output_padding that makes ConvTranspose(dY) come back to exactly the input size `xs`,
 * given the forward output size `ys`; and the size ConvTranspose would produce otherwise.
 */
export function transposeFit(w: Window, xs: number[], ys: number[]): { outputPadding: number[]; crop: boolean } {
  const r = xs.length;
  const outputPadding: number[] = [];
  let crop = false;
  for (let i = 0; i < r; i++) {
    const full = w.strides[i] * (ys[i] - 1) + w.dilations[i] * (w.kernel[i] - 1) + 1 - w.pads[i] - w.pads[i + r];
    const extra = xs[i] - full;
    if (extra >= 0) outputPadding.push(extra);
    else {
      outputPadding.push(0);
      crop = true;
    }
  }
  return { outputPadding, crop };
}
