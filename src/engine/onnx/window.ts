// The window geometry of Conv and pooling nodes: read by the model layer (locality of a
// change) and by the gradient rules alike.
import { AttrLensError } from '../core/errors';
import { attrInts, attrString } from './attributes';
import { NodeProto } from './proto';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** explicit pads [begin..., end...] (auto_pad resolved against the static input size) */
  pads: number[];
}

/** Kernel geometry of a Conv/Pool node over spatial input dims `xs`. */
export function windowOf(node: NodeProto, xs: number[], kernel: number[]): Window {
  const r = xs.length;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const out = Math.ceil(xs[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - xs[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i];
    }
  } else if (autoPad === 'VALID') {
    pads = new Array(2 * r).fill(0);
  } else if (autoPad !== 'NOTSET') {
    throw new AttrLensError(`node '${node.name}': unknown auto_pad '${autoPad}'`);
  }
  return { kernel, strides, dilations, pads };
}
