import { FdCase } from '../fd';
import { attr } from './util';

const sm = (op: string, opset: number, axis: number | undefined, fixed = false, dims = fixed ? [2, 3, 4, 2] : [1, 3, 4, 2]): FdCase => ({
  name: `${op} opset ${opset} axis ${axis ?? 'default'} on [${dims}]${fixed ? ' (fixed)' : ''}`,
  opset,
  fixed,
  inputs: { x: { dims, lo: -2, hi: 2 } },
  build: (b, x) => b.op(op, [x.x], axis === undefined ? {} : { axis: attr.int(axis) }),
});

export const softmaxCases: FdCase[] = [
  sm('Softmax', 13, -1),
  sm('Softmax', 13, 1),
  sm('Softmax', 17, undefined),
  sm('Softmax', 11, undefined), // old semantics: flattened from axis 1 on
  sm('Softmax', 11, 2),
  sm('Softmax', 11, -1),
  sm('LogSoftmax', 13, -1),
  sm('LogSoftmax', 13, 2),
  sm('LogSoftmax', 11, 1),
  sm('LogSoftmax', 12, 2),
  sm('Softmax', 11, undefined, true),
  sm('Softmax', 11, 2, true),
  sm('LogSoftmax', 12, 1, true),
];
