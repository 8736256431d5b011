import { FdCase } from '../fd';
import { attr, randConst } from './util';

const binaryCases = (op: string, b: { lo?: number; hi?: number } = {}): FdCase[] => [
  {
    name: `${op} [N,C,H,W] with [N,C,1,1]`,
    inputs: { a: { dims: [1, 3, 4, 4] }, b: { dims: [1, 3, 1, 1], ...b } },
    build: (g, x) => g.op(op, [x.a, x.b]),
  },
  {
    name: `${op} [C,1,1] with [N,C,H,W] (fixed)`,
    fixed: true,
    inputs: { b: { dims: [3, 1, 1], ...b }, a: { dims: [2, 3, 4, 4] } },
    build: (g, x) => g.op(op, op === 'Sub' || op === 'Div' ? [x.a, x.b] : [x.b, x.a]),
  },
  {
    name: `${op} [4,1] with [1,5] (fixed, both broadcast)`,
    fixed: true,
    inputs: { a: { dims: [4, 1] }, b: { dims: [1, 5], ...b } },
    build: (g, x) => g.op(op, [x.a, x.b]),
  },
  {
    name: `${op} with a [1,C,1,1] constant over the batch`,
    inputs: { a: { dims: [1, 3, 2, 2] } },
    build: (g, x) => g.op(op, [x.a, randConst(g, [1, 3, 1, 1], `${op}-const`, 0.5, 1.5)]),
  },
];

const unary = (op: string, spec: { lo?: number; hi?: number; avoid?: number[] } = {}): FdCase => ({
  name: op,
  inputs: { x: { dims: [1, 2, 6], ...spec } },
  build: (b, x) => b.op(op, [x.x]),
});

export const elementwiseCases: FdCase[] = [
  ...binaryCases('Add'),
  ...binaryCases('Sub'),
  ...binaryCases('Mul'),
  ...binaryCases('Div', { lo: 0.5, hi: 2 }),
  {
    name: 'Pow with constant exponent 2.5',
    inputs: { a: { dims: [1, 3, 4], lo: 0.5, hi: 2 } },
    build: (b, x) => b.op('Pow', [x.a, b.f32(2.5)]),
  },
  {
    name: 'Pow with a broadcast exponent input (not differentiated)',
    inputs: { a: { dims: [1, 3, 4], lo: 0.5, hi: 2 }, p: { dims: [1, 3, 1], lo: 1, hi: 3 } },
    wrt: ['a'],
    build: (b, x) => b.op('Pow', [x.a, x.p]),
  },
  {
    name: 'Where with broadcasting (condition from an input)',
    inputs: { c: { dims: [1, 3, 4], avoid: [0] }, a: { dims: [1, 3, 4] }, b: { dims: [1, 1, 4] } },
    build: (b, x) => b.op('Where', [b.op('Greater', [x.c, b.f32(0)]), x.a, x.b]),
  },
  {
    name: 'Where with a constant mask and [C,1] operand (fixed)',
    fixed: true,
    inputs: { a: { dims: [2, 3, 4] }, b: { dims: [3, 1] } },
    build: (b, x) => b.op('Where', [b.constant({ dtype: 'bool', dims: [1, 4], data: Uint8Array.from([1, 0, 0, 1]) }), x.a, x.b]),
  },
  unary('Exp'),
  unary('Log', { lo: 0.3, hi: 3 }),
  unary('Sqrt', { lo: 0.3, hi: 3 }),
  unary('Reciprocal', { lo: 0.5, hi: 2 }),
  unary('Neg'),
  unary('Abs', { avoid: [0] }),
  unary('Identity'),
  unary('Dropout'),
  {
    name: 'Dropout (opset 11, ratio attribute) before Tanh',
    opset: 11,
    inputs: { x: { dims: [1, 2, 6] } },
    build: (b, x) => b.op('Tanh', [b.op('Dropout', [x.x], { ratio: attr.float(0.3) })]),
  },
  {
    name: 'Max of three with broadcasting',
    inputs: { a: { dims: [1, 3, 4], step: 0.05 }, b: { dims: [1, 1, 4], step: 0.05, shift: 0.5 }, c: { dims: [1, 3, 1], step: 0.05, shift: 0.25 } },
    build: (b, x) => b.op('Max', [x.a, x.b, x.c]),
  },
  {
    name: 'Min of two with broadcasting',
    inputs: { a: { dims: [1, 3, 4], step: 0.05 }, b: { dims: [1, 1, 4], step: 0.05, shift: 0.5 } },
    build: (b, x) => b.op('Min', [x.a, x.b]),
  },
  {
    name: 'Sum of three with broadcasting',
    inputs: { a: { dims: [1, 3, 4] }, b: { dims: [1, 1, 4] }, c: { dims: [1, 3, 1] } },
    build: (b, x) => b.op('Sum', [x.a, x.b, x.c]),
  },
  {
    name: 'Cast float -> double -> Mul -> float',
    inputs: { x: { dims: [1, 2, 5] } },
    build: (b, x) => {
      const d = b.op('Cast', [x.x], { to: attr.int(11) });
      return b.op('Cast', [b.op('Mul', [d, d])], { to: attr.int(1) });
    },
  },
  {
    name: 'Cast float -> float',
    inputs: { x: { dims: [1, 2, 5] } },
    build: (b, x) => b.op('Tanh', [b.op('Cast', [x.x], { to: attr.int(1) })]),
  },
];
