import { FdCase } from '../fd';
import { attr, randConst } from './util';

const gemm = (tA: number, tB: number, c: 'none' | 'N' | '1N' | 'MN', alpha = 1, beta = 1): FdCase => ({
  name: `Gemm transA=${tA} transB=${tB} C=${c} alpha=${alpha} beta=${beta} (fixed)`,
  fixed: true,
  inputs: {
    a: { dims: tA ? [4, 2] : [2, 4] },
    b: { dims: tB ? [3, 4] : [4, 3] },
    ...(c === 'none' ? {} : { c: { dims: c === 'N' ? [3] : c === '1N' ? [1, 3] : [2, 3] } }),
  },
  build: (g, x) => g.op('Gemm', [x.a, x.b, ...(x.c ? [x.c] : [])], { transA: attr.int(tA), transB: attr.int(tB), alpha: attr.float(alpha), beta: attr.float(beta) }),
});

export const matmulCases: FdCase[] = [
  gemm(0, 0, 'N'),
  gemm(0, 1, '1N', 0.5, 2),
  gemm(1, 0, 'none', 1.5),
  gemm(1, 1, 'MN', 1, 0.3),
  {
    name: 'Gemm batched input with weight transB=1 and bias [N]',
    inputs: { x: { dims: [1, 5] } },
    build: (b, x) => b.op('Gemm', [x.x, randConst(b, [3, 5], 'gw'), randConst(b, [3], 'gb')], { transB: attr.int(1) }),
  },
  { name: 'MatMul 2-D (fixed)', fixed: true, inputs: { a: { dims: [3, 4] }, b: { dims: [4, 2] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul batched 3-D x 3-D', inputs: { a: { dims: [1, 3, 4] }, b: { dims: [1, 4, 2] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul batched 4-D with broadcast head axis', inputs: { a: { dims: [1, 2, 3, 4] }, b: { dims: [1, 1, 4, 5] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul [B,n,k] x [k,m] (fixed)', fixed: true, inputs: { a: { dims: [2, 3, 4] }, b: { dims: [4, 5] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul [N,n,k] x constant [k,m]', inputs: { a: { dims: [1, 3, 4] } }, build: (b, x) => b.op('MatMul', [x.a, randConst(b, [4, 5], 'mw')]) },
  { name: 'MatMul [k,m] x [B,m,n] (fixed)', fixed: true, inputs: { a: { dims: [3, 4] }, b: { dims: [2, 4, 5] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul 1-D x 2-D (fixed)', fixed: true, inputs: { a: { dims: [4] }, b: { dims: [4, 3] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul 2-D x 1-D (fixed)', fixed: true, inputs: { a: { dims: [3, 4] }, b: { dims: [4] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul 1-D x 1-D (fixed)', fixed: true, inputs: { a: { dims: [4] }, b: { dims: [4] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul 1-D x 3-D (fixed)', fixed: true, inputs: { a: { dims: [4] }, b: { dims: [2, 4, 3] } }, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
  { name: 'MatMul 3-D x 1-D', inputs: { a: { dims: [1, 3, 4] }, b: { dims: [4] } }, fixed: true, build: (b, x) => b.op('MatMul', [x.a, x.b]) },
];
