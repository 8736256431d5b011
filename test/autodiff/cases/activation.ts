import { FdCase } from '../fd';
import { attr } from './util';

const X = [1, 3, 5];
const unary = (name: string, op: string, spec: { lo?: number; hi?: number; avoid?: number[] } = {}, attrs = {}, opset?: number): FdCase => ({
  name,
  opset,
  inputs: { x: { dims: X, ...spec } },
  build: (b, x) => b.op(op, [x.x], attrs),
});

// Inputs stay 0.05 away from every kink (h = 1e-2 moves them by at most 0.01).
export const activationCases: FdCase[] = [
  unary('Relu', 'Relu', { avoid: [0] }),
  { name: 'Relu on an image tensor (mask as depthwise Conv+Clip)', inputs: { x: { dims: [1, 3, 4, 5], avoid: [0] } }, build: (b, x) => b.op('Relu', [x.x]) },
  unary('LeakyRelu alpha 0.2', 'LeakyRelu', { avoid: [0] }, { alpha: attr.float(0.2) }),
  {
    name: 'PRelu with a per-channel slope (opset 9 through the upgrade)',
    opset: 9,
    inputs: { x: { dims: [1, 3, 4, 2], avoid: [0] } },
    build: (b, x) => b.op('PRelu', [x.x, b.f32([0.25, -0.5, 1.5], [3, 1, 1])]),
  },
  {
    name: 'PRelu with slope gradient (fixed)',
    fixed: true,
    inputs: { x: { dims: [2, 3, 4], avoid: [0] }, s: { dims: [4] } },
    build: (b, x) => b.op('PRelu', [x.x, x.s]),
  },
  unary('Elu alpha 0.7', 'Elu', { lo: -2, hi: 2, avoid: [0] }, { alpha: attr.float(0.7) }),
  unary('Selu', 'Selu', { lo: -2, hi: 2, avoid: [0] }),
  unary('Sigmoid', 'Sigmoid', { lo: -3, hi: 3 }),
  unary('Tanh', 'Tanh', { lo: -2, hi: 2 }),
  unary('Softplus', 'Softplus', { lo: -3, hi: 3 }),
  unary('HardSigmoid default (kinks at -2.5, 2.5)', 'HardSigmoid', { lo: -3.5, hi: 3.5, avoid: [-2.5, 2.5] }),
  unary('HardSigmoid alpha 0.5 beta 0.3', 'HardSigmoid', { lo: -2, hi: 2, avoid: [-0.6, 1.4] }, { alpha: attr.float(0.5), beta: attr.float(0.3) }),
  unary('HardSwish', 'HardSwish', { lo: -4.5, hi: 4.5, avoid: [-3, 3] }),
  unary('Erf', 'Erf', { lo: -2, hi: 2 }),
  {
    // torch.onnx.export's GELU: x · 0.5 · (1 + erf(x / √2)), as BERT exports carry it
    name: 'GELU in its Erf form',
    inputs: { x: { dims: [2, 3, 4], lo: -3, hi: 3 } },
    build: (b, x) => b.op('Mul', [b.op('Mul', [x.x, b.op('Add', [b.op('Erf', [b.op('Div', [x.x, b.f32(Math.SQRT2)])]), b.f32(1)])]), b.f32(0.5)]),
  },
  unary('Gelu (opset 20)', 'Gelu', { lo: -3, hi: 3 }, {}, 20),
  unary('Gelu tanh (opset 20)', 'Gelu', { lo: -3, hi: 3 }, { approximate: attr.str('tanh') }, 20),
  {
    name: 'Clip min/max inputs',
    inputs: { x: { dims: X, lo: -2, hi: 2, avoid: [-0.5, 0.8] } },
    build: (b, x) => b.op('Clip', [x.x, b.f32(-0.5), b.f32(0.8)]),
  },
  {
    name: 'Clip max only',
    inputs: { x: { dims: X, lo: -2, hi: 2, avoid: [0.3] } },
    build: (b, x) => b.op('Clip', [x.x, '', b.f32(0.3)]),
  },
  {
    name: 'Clip min only',
    inputs: { x: { dims: X, lo: -2, hi: 2, avoid: [-0.3] } },
    build: (b, x) => b.op('Clip', [x.x, b.f32(-0.3)]),
  },
  unary('Clip without bounds', 'Clip'),
];
