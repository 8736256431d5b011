import { FdCase } from '../fd';
import { attr, randConst } from './util';

export const normCases: FdCase[] = [
  {
    name: 'BatchNormalization 4-D (inference)',
    inputs: { x: { dims: [1, 3, 4, 4] } },
    build: (b, x) => b.op('BatchNormalization', [x.x, randConst(b, [3], 's'), randConst(b, [3], 'b'), randConst(b, [3], 'm'), randConst(b, [3], 'v', 0.5, 2)], { epsilon: attr.float(1e-3) }),
  },
  {
    name: 'BatchNormalization 2-D (opset 11)',
    opset: 11,
    inputs: { x: { dims: [1, 5] } },
    build: (b, x) => b.op('BatchNormalization', [x.x, randConst(b, [5], 's2'), randConst(b, [5], 'b2'), randConst(b, [5], 'm2'), randConst(b, [5], 'v2', 0.5, 2)]),
  },
  {
    name: 'LayerNormalization axis -1 with constant scale and bias',
    inputs: { x: { dims: [1, 3, 6] } },
    build: (b, x) => b.op('LayerNormalization', [x.x, randConst(b, [6], 'ls'), randConst(b, [6], 'lb')], { epsilon: attr.float(1e-5) }),
  },
  {
    name: 'LayerNormalization axis -2, no bias',
    inputs: { x: { dims: [1, 2, 3, 4] } },
    build: (b, x) => b.op('LayerNormalization', [x.x, randConst(b, [3, 4], 'ls2')], { axis: attr.int(-2) }),
  },
  {
    name: 'LayerNormalization axis 1, scale and bias gradients (fixed)',
    fixed: true,
    inputs: { x: { dims: [2, 3, 4] }, s: { dims: [3, 4] }, b: { dims: [4] } },
    build: (b, x) => b.op('LayerNormalization', [x.x, x.s, x.b], { axis: attr.int(1) }),
  },
  {
    name: 'LayerNormalization opset 18 axis -1, scale gradient (fixed)',
    fixed: true,
    opset: 18,
    inputs: { x: { dims: [3, 5] }, s: { dims: [5] } },
    build: (b, x) => b.op('LayerNormalization', [x.x, x.s]),
  },
  {
    name: 'InstanceNormalization 4-D',
    inputs: { x: { dims: [1, 3, 4, 3] } },
    build: (b, x) => b.op('InstanceNormalization', [x.x, randConst(b, [3], 'is'), randConst(b, [3], 'ib')], { epsilon: attr.float(1e-4) }),
  },
  {
    name: 'InstanceNormalization 3-D with scale and bias gradients (fixed)',
    fixed: true,
    inputs: { x: { dims: [2, 3, 5] }, s: { dims: [3] }, b: { dims: [3] } },
    build: (b, x) => b.op('InstanceNormalization', [x.x, x.s, x.b]),
  },
  {
    name: 'LRN size 5 (AlexNet, opset 9 through the upgrade)',
    opset: 9,
    inputs: { x: { dims: [1, 7, 3, 4], lo: -2, hi: 2 } },
    build: (b, x) => b.op('LRN', [x.x], { size: attr.int(5), alpha: attr.float(0.5), beta: attr.float(0.75), bias: attr.float(1) }),
  },
  {
    // onnxruntime runs LRN on 4-D inputs with an odd size only
    name: 'LRN size 3, bias 2, beta 1.3, 2 channels fewer than the window reaches',
    inputs: { x: { dims: [1, 2, 3, 4], lo: -2, hi: 2 } },
    build: (b, x) => b.op('LRN', [x.x], { size: attr.int(3), alpha: attr.float(0.8), beta: attr.float(1.3), bias: attr.float(2) }),
  },
  {
    name: 'LRN size 7 with default alpha, beta, bias',
    inputs: { x: { dims: [1, 9, 2, 2], lo: -3, hi: 3 } },
    build: (b, x) => b.op('LRN', [x.x], { size: attr.int(7) }),
  },
];
