import { FdCase } from '../fd';
import { attr } from './util';

const X = [1, 3, 4, 2];
const kd = (k: number) => ({ keepdims: attr.int(k) });

/** A reduction with axes as the opset expects them (input for ReduceSum >= 13 and all >= 18). */
const red = (op: string, opset: number, axes: number[] | undefined, keep: number, spec: { step?: number; lo?: number; hi?: number; avoid?: number[] } = {}, extra = {}): FdCase => {
  const asInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  return {
    name: `${op} opset ${opset} axes ${axes ? `[${axes}]` : 'none'} keepdims ${keep}${Object.keys(extra).length ? ' ' + Object.keys(extra).join(',') : ''}`,
    opset,
    inputs: { x: { dims: X, ...spec } },
    build: (b, x) => {
      if (!axes) return b.op(op, [x.x], { ...kd(keep), ...extra });
      return asInput ? b.op(op, [x.x, b.i64(axes)], { ...kd(keep), ...extra }) : b.op(op, [x.x], { ...kd(keep), axes: attr.ints(axes), ...extra });
    },
  };
};

export const reduceCases: FdCase[] = [
  red('ReduceSum', 13, [1], 0),
  red('ReduceSum', 18, [-1, 2], 1),
  red('ReduceSum', 11, [2], 0),
  red('ReduceSum', 13, [], 1, {}, { noop_with_empty_axes: attr.int(1) }),
  red('ReduceMean', 13, [2, 3], 1),
  red('ReduceMean', 17, [-1], 0),
  red('ReduceMean', 18, [1], 0),
  red('ReduceMean', 18, [1, 3], 1),
  red('ReduceMax', 13, [1], 0, { step: 0.05 }),
  red('ReduceProd', 13, [1], 0, { lo: -1.5, hi: 1.5, avoid: [0] }),
  red('ReduceProd', 9, [1, 3], 1, { lo: -1.5, hi: 1.5, avoid: [0] }),
  red('ReduceProd', 18, [2], 1, { lo: 0.3, hi: 1.5 }),
  red('ReduceLogSum', 13, [1, 2], 0, { lo: 0.2, hi: 2 }),
  red('ReduceLogSum', 18, [3], 1, { lo: 0.2, hi: 2 }),
  red('ReduceMax', 18, [-1, 1], 1, { step: 0.05 }),
  red('ReduceMin', 13, [2], 1, { step: 0.05 }),
  red('ReduceMin', 18, [3], 0, { step: 0.05 }),
  red('ReduceL1', 18, [1], 0, { avoid: [0] }),
  red('ReduceL2', 13, [2, 3], 1),
  red('ReduceL2', 18, [1], 0),
  red('ReduceSumSquare', 18, [2], 0),
  red('ReduceLogSumExp', 13, [1, 2], 0),
  { name: 'ReduceSum over all axes keepdims 0 (fixed)', fixed: true, opset: 13, inputs: { x: { dims: [2, 3, 2] } }, build: (b, x) => b.op('ReduceSum', [x.x], kd(0)) },
  { name: 'ReduceMean over all axes (fixed)', fixed: true, opset: 17, inputs: { x: { dims: [2, 3, 2] } }, build: (b, x) => b.op('ReduceMean', [x.x], kd(1)) },
  { name: 'ReduceMean over the batch axis (fixed)', fixed: true, opset: 18, inputs: { x: { dims: [3, 2, 2] } }, build: (b, x) => b.op('ReduceMean', [x.x, b.i64([0])], kd(0)) },
  { name: 'ReduceMax over all axes (fixed)', fixed: true, opset: 18, inputs: { x: { dims: [2, 3, 2], step: 0.05 } }, build: (b, x) => b.op('ReduceMax', [x.x], kd(0)) },
];
