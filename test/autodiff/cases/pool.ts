import { FdCase } from '../fd';
import { attr } from './util';

const pool = (op: string, name: string, dims: number[], attrs: Record<string, ReturnType<typeof attr.int>>, distinct = false): FdCase => ({
  name: `${op} ${name}`,
  inputs: { x: distinct ? { dims, step: 0.05 } : { dims } },
  build: (b, x) => b.op(op, [x.x], attrs),
});
const k = (n: number[]) => ({ kernel_shape: attr.ints(n) });

// Max pooling inputs are distinct grid values, so argmaxes survive the finite-difference step.
export const poolCases: FdCase[] = [
  pool('MaxPool', '3x3 stride 2 overlapping', [1, 2, 7, 7], { ...k([3, 3]), strides: attr.ints([2, 2]) }, true),
  pool('MaxPool', '3x3 stride 2 pads 1 ceil_mode', [1, 2, 8, 6], { ...k([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), ceil_mode: attr.int(1) }, true),
  pool('MaxPool', '2x2 dilation 2 asymmetric pads', [1, 1, 7, 8], { ...k([2, 2]), dilations: attr.ints([2, 2]), pads: attr.ints([1, 0, 0, 1]) }, true),
  pool('MaxPool', '1-D kernel 3 stride 2 SAME_UPPER', [1, 2, 9], { ...k([3]), strides: attr.ints([2]), auto_pad: attr.str('SAME_UPPER') }, true),
  pool('AveragePool', '3x3 stride 2 pads 1 count_include_pad 0', [1, 2, 7, 6], { ...k([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }),
  pool('AveragePool', '3x3 stride 2 pads 1 count_include_pad 1', [1, 2, 7, 6], { ...k([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), count_include_pad: attr.int(1) }),
  pool('AveragePool', '2x2 stride 2 ceil_mode', [1, 2, 7, 5], { ...k([2, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) }),
  pool('AveragePool', '3x2 ceil_mode pads [0,1,1,0] count_include_pad 1', [1, 1, 8, 7], { ...k([3, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1), pads: attr.ints([0, 1, 1, 0]), count_include_pad: attr.int(1) }),
  pool('AveragePool', '1-D kernel 3 SAME_LOWER', [1, 2, 8], { ...k([3]), strides: attr.ints([2]), auto_pad: attr.str('SAME_LOWER') }),
  pool('GlobalAveragePool', '(small map: spread by Conv)', [1, 3, 4, 5], {}),
  pool('GlobalAveragePool', '(large map: Expand)', [1, 2, 9, 8], {}),
  pool('GlobalMaxPool', '', [1, 3, 4, 5], {}, true),
];
