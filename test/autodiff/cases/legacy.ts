import { FdCase } from '../fd';
import { attr, randConst } from './util';

// Gradients through graphs written at opsets 7-10: the backward pass is built on the upgraded
// graph (Upsample as Resize, attributes as inputs, ...) and checked against the original's
// forward run in onnxruntime, which differentiates the adapters along with the rules.
const X = [1, 2, 4, 3];

export const legacyCases: FdCase[] = [
  { name: 'Upsample-7 nearest scales [1,1,2,3]', opset: 7, inputs: { x: { dims: X } }, build: (b, x) => b.op('Upsample', [x.x], { scales: attr.floats([1, 1, 2, 3]) }) },
  { name: 'Upsample-9 linear, scales input [1,1,2,1.5]', opset: 9, inputs: { x: { dims: X } }, build: (b, x) => b.op('Upsample', [x.x, b.f32([1, 1, 2, 1.5], [4])], { mode: attr.str('linear') }) },
  { name: 'Resize-10 nearest, one axis up and one down', opset: 10, inputs: { x: { dims: [1, 2, 3, 6] } }, build: (b, x) => b.op('Resize', [x.x, b.f32([1, 1, 2, 0.5], [4])]) },
  { name: 'Resize-10 linear down', opset: 10, inputs: { x: { dims: [1, 2, 6, 5] } }, build: (b, x) => b.op('Resize', [x.x, b.f32([1, 1, 0.5, 0.8], [4])], { mode: attr.str('linear') }) },
  {
    name: 'Clip-6 min/max attributes, HardSwish as Paddle writes it (opset 9)',
    opset: 9,
    inputs: { x: { dims: X, lo: -4, hi: 4, avoid: [-3, 3] } },
    build: (b, x) => b.op('Div', [b.op('Mul', [x.x, b.op('Clip', [b.op('Add', [x.x, b.f32(3)])], { min: attr.float(0), max: attr.float(6) })]), b.f32(6)]),
  },
  { name: 'Clip-6 max only', opset: 7, inputs: { x: { dims: X, avoid: [0.3] } }, build: (b, x) => b.op('Clip', [x.x], { max: attr.float(0.3) }) },
  { name: 'Slice-1 attributes with negative ends', opset: 9, inputs: { x: { dims: X } }, build: (b, x) => b.op('Slice', [x.x], { starts: attr.ints([1, 0]), ends: attr.ints([-1, 2]), axes: attr.ints([2, 3]) }) },
  { name: 'Pad-2 constant value 0.5', opset: 9, inputs: { x: { dims: X } }, build: (b, x) => b.op('Pad', [x.x], { pads: attr.ints([0, 0, 1, 0, 0, 0, 2, 1]), value: attr.float(0.5) }) },
  { name: 'Pad-2 reflect', opset: 10, inputs: { x: { dims: X } }, build: (b, x) => b.op('Pad', [x.x], { pads: attr.ints([0, 0, 1, 2, 0, 0, 2, 1]), mode: attr.str('reflect') }) },
  {
    name: 'BatchNormalization-7 spatial=0 (statistics per activation)',
    opset: 7,
    inputs: { x: { dims: X } },
    build: (b, x) => b.op('BatchNormalization', [x.x, randConst(b, [2, 4, 3], 's7'), randConst(b, [2, 4, 3], 'b7'), randConst(b, [2, 4, 3], 'm7'), randConst(b, [2, 4, 3], 'v7', 0.3, 2)], { spatial: attr.int(0) }),
  },
  {
    name: 'BatchNormalization-7 spatial=1, Dropout-7 and LRN (a Caffe2 block)',
    opset: 7,
    inputs: { x: { dims: [1, 5, 2, 3], lo: -2, hi: 2 } },
    build: (b, x) => {
      const bn = b.op('BatchNormalization', [x.x, randConst(b, [5], 's'), randConst(b, [5], 'b'), randConst(b, [5], 'm'), randConst(b, [5], 'v', 0.5, 2)], { spatial: attr.int(1), epsilon: attr.float(1e-3) });
      const d = b.op('Dropout', [bn], { ratio: attr.float(0.5) });
      return b.op('LRN', [d], { size: attr.int(3), alpha: attr.float(0.3), beta: attr.float(0.75) });
    },
  },
  { name: 'Softmax-1 axis 1 on rank 3 (flattened rows)', opset: 9, inputs: { x: { dims: [1, 3, 4] } }, build: (b, x) => b.op('Softmax', [x.x], { axis: attr.int(1) }) },
  { name: 'LogSoftmax-1 default axis on rank 4', opset: 8, inputs: { x: { dims: X } }, build: (b, x) => b.op('LogSoftmax', [x.x]) },
  { name: 'ImageScaler (Caffe2 preprocessing)', opset: 8, inputs: { x: { dims: X } }, build: (b, x) => b.op('ImageScaler', [x.x], { scale: attr.float(0.5), bias: attr.floats([1, -2]) }) },
  { name: 'Squeeze/Unsqueeze/ReduceSum attributes (opset 10)', opset: 10, inputs: { x: { dims: X } }, build: (b, x) => b.op('Squeeze', [b.op('ReduceSum', [b.op('Unsqueeze', [x.x], { axes: attr.ints([2]) })], { axes: attr.ints([4]) })], { axes: attr.ints([2]) }) },
  {
    name: 'Gemm-7 and Flatten after MaxPool-8 (a classic classifier head)',
    opset: 8,
    inputs: { x: { dims: [1, 2, 4, 4], step: 0.05 } },
    build: (b, x) => {
      const p = b.op('MaxPool', [x.x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
      return b.op('Gemm', [b.op('Flatten', [p]), randConst(b, [3, 8], 'gw'), randConst(b, [3], 'gb')], { transB: attr.int(1) });
    },
  },
];
