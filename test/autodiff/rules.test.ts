// The suite's own guarantees: every registered rule has a finite-difference case, a wrong
// rule fails, a missing rule gives a clear error, and ops off the gradient path need none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGradient } from '../../src/engine/autodiff/builder';
import { baseRules, supportedOps } from '../../src/engine/autodiff/registry';
import { GradRule } from '../../src/engine/autodiff/types';
import { AttrLensError } from '../../src/engine/core/errors';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { checkCase, FdCase, fixedGradients, makeModel, opsOf } from './fd';
import { Tensor } from '../../src/engine/core/tensor';
import { activationCases } from './cases/activation';
import { convCases } from './cases/conv';
import { elementwiseCases } from './cases/elementwise';
import { matmulCases } from './cases/matmul';
import { normCases } from './cases/norm';
import { poolCases } from './cases/pool';
import { reduceCases } from './cases/reduce';
import { resizeCases, shapeCases } from './cases/shape';
import { softmaxCases } from './cases/softmax';

const allCases = [activationCases, convCases, elementwiseCases, matmulCases, normCases, poolCases, reduceCases, shapeCases, resizeCases, softmaxCases].flat();

/** Swaps rules in the shared table for the duration of `body` (the table is a Map behind a ReadonlyMap type). */
async function withRules(changes: Record<string, GradRule | undefined>, body: () => Promise<void>): Promise<void> {
  const table = baseRules as Map<string, GradRule>;
  const saved = new Map(Object.keys(changes).map((k) => [k, table.get(k)]));
  try {
    for (const [k, r] of Object.entries(changes)) {
      if (r) table.set(k, r);
      else table.delete(k);
    }
    await body();
  } finally {
    for (const [k, r] of saved) {
      if (r) table.set(k, r);
      else table.delete(k);
    }
  }
}

test('every registered rule has at least one finite-difference case', () => {
  const covered = new Set(allCases.filter((c) => !c.todo).flatMap(opsOf));
  const missing = supportedOps().filter((op) => !covered.has(op));
  assert.deepEqual(missing, [], `ops with a gradient rule but no FD case: ${missing.join(', ')}`);
  assert.ok(supportedOps().length >= 60, `only ${supportedOps().length} ops registered`);
});

const sigmoid: FdCase = { name: 'Sigmoid (rule under test)', inputs: { x: { dims: [1, 4, 3], lo: -3, hi: 3 } }, build: (b, x) => b.op('Sigmoid', [x.x]) };

test('a deliberately wrong rule (Sigmoid with dY*Y) fails the finite-difference check', async () => {
  const wrong: GradRule = { grad: (ctx) => [ctx.b.op('Mul', [ctx.dY0(), ctx.node.output[0]])] };
  await withRules({ Sigmoid: wrong }, async () => {
    await assert.rejects(checkCase(sigmoid), (e: Error) => /finite differences give/.test(e.message));
  });
  // restored: the real rule passes again
  await checkCase(sigmoid);
});

test('a wrong broadcast reduction (Add without unbroadcast) fails the check', async () => {
  const wrong: GradRule = { grad: (ctx) => [ctx.dY0(), ctx.b.reshape(ctx.b.op('ReduceMean', [ctx.dY0()], { axes: attr.ints([2, 3]), keepdims: attr.int(1) }), ctx.b.shape(ctx.node.input[1]))] };
  const add: FdCase = { name: 'Add (rule under test)', inputs: { a: { dims: [1, 2, 3, 3] }, b: { dims: [1, 2, 1, 1] } }, build: (b, x) => b.op('Add', [x.a, x.b]) };
  await withRules({ Add: wrong }, async () => {
    await assert.rejects(checkCase(add), /finite differences give/);
  });
  await checkCase(add);
});

for (const op of ['LpNormalization', 'Einsum']) {
  test(`an op without a rule on the gradient path (${op}) names the op and node and suggests gradient-free methods`, async () => {
    const c: FdCase = {
      name: op,
      opset: 13,
      inputs: { x: { dims: [1, 3, 4] } },
      build: (b, x) => b.op('Relu', [op === 'Einsum' ? b.op('Einsum', [x.x], { equation: attr.str('nij->nji') }) : b.op('LpNormalization', [x.x])]),
    };
    const { model, output } = makeModel(c);
    const node = model.graph.node.find((n) => n.opType === op)!;
    const lm = await LoadedModel.fromModel(model);
    const shapes = await lm.shapes(lm.exampleFeeds(1));
    assert.throws(
      () => buildGradient(lm.forwardModel, { output, wrt: ['x'] }, shapes),
      (e: Error) => {
        assert.ok(e instanceof AttrLensError, 'an AttrLensError');
        assert.equal((e as AttrLensError).code, 'ENOGRADRULE');
        for (const part of [`op ${op}`, `'${node.name}'`, 'Conv, ConvTranspose', 'occlusion', 'feature-ablation']) assert.ok(e.message.includes(part), `message lacks "${part}": ${e.message}`);
        return true;
      },
    );
  });
}

test('the same op off the gradient path (it only feeds a Shape) needs no rule', async () => {
  const c: FdCase = {
    name: 'LpNormalization off path',
    inputs: { x: { dims: [1, 3, 4] } },
    build: (b, x) => b.op('Reshape', [b.op('Tanh', [x.x]), b.shape(b.op('LpNormalization', [x.x]))]),
  };
  await checkCase(c);
});

test('shape arithmetic, integer Cast and Equal masks need no rules (Gather/Concat/Cast/Unsqueeze rules removed)', async () => {
  const c: FdCase = {
    name: 'off-path shape arithmetic',
    opset: 17,
    // kinks of Cast(3x, int64) at multiples of 1/3
    inputs: { x: { dims: [1, 3, 4], avoid: [-2 / 3, -1 / 3, 0, 1 / 3, 2 / 3] } },
    build: (b, x) => {
      const n = b.op('Gather', [b.shape(x.x), b.i64([0], [])], { axis: attr.int(0) });
      const shape = b.op('Concat', [b.unsqueeze(n, [0]), b.i64([-1])], { axis: attr.int(0) });
      const t = b.reshape(b.op('Tanh', [x.x]), shape);
      const xi = b.op('Cast', [b.op('Mul', [x.x, b.f32(3)])], { to: attr.int(7) });
      const mask = b.reshape(b.op('Equal', [xi, b.i64([0], [])]), shape);
      return b.op('Where', [mask, t, b.op('Mul', [t, b.f32(0.5)])]);
    },
  };
  await withRules({ Gather: undefined, Concat: undefined, Cast: undefined, Unsqueeze: undefined }, () => checkCase(c).then(() => undefined));
});

test('BatchNormalization with scale computed from the input is refused clearly', async () => {
  const c: FdCase = {
    name: 'BN scale from input',
    fixed: true,
    inputs: { x: { dims: [2, 3] }, s: { dims: [3] } },
    build: (b, x) => b.op('BatchNormalization', [x.x, x.s, b.f32([0, 0, 0]), b.f32([0, 0, 0]), b.f32([1, 1, 1])]),
  };
  await assert.rejects(checkCase(c), /BatchNormalization parameters computed from the input are not supported/);
});

test('ReduceMax and ReduceMin share the gradient evenly between tied elements (as torch.amax)', async () => {
  const x: Tensor = { dtype: 'float32', dims: [2, 3], data: Float32Array.from([1, 3, 3, 2, 0, 2]) };
  const seed: Tensor = { dtype: 'float32', dims: [2], data: Float32Array.from([4, -2]) };
  const max: FdCase = { name: 'max ties', fixed: true, opset: 18, inputs: { x: { dims: [2, 3] } }, build: (b, i) => b.op('ReduceMax', [i.x, b.i64([1])], { keepdims: attr.int(0) }) };
  const gmax = await fixedGradients(max, { x }, seed);
  assert.deepEqual(Array.from(gmax.x.data as Float32Array, (v) => v + 0), [0, 2, 2, -1, 0, -1]);
  const min: FdCase = { ...max, name: 'min ties', build: (b, i) => b.op('ReduceMin', [i.x], { axes: attr.ints([0]), keepdims: attr.int(1) }), opset: 13 };
  const gmin = await fixedGradients(min, { x: { ...x, data: Float32Array.from([1, 0, 3, 1, 0, 2]) } }, { dtype: 'float32', dims: [1, 3], data: Float32Array.from([6, 8, 1]) });
  assert.deepEqual(Array.from(gmin.x.data as Float32Array, (v) => v + 0), [3, 4, 0, 3, 4, 1]);
});

test('Relu on image tensors passes dY exactly where Y > 0, however small Y is, and nothing at Y = 0', async () => {
  const vals = [1e-30, 0, -1e-30, 3e38, -5, 2 ** -126, 7, -0];
  const x: Tensor = { dtype: 'float32', dims: [1, 2, 2, 2], data: Float32Array.from(vals) };
  const seed: Tensor = { dtype: 'float32', dims: [1, 2, 2, 2], data: Float32Array.from([3, 5, 7, 11, 13, 17, 19, 23]) };
  const c: FdCase = { name: 'relu mask', fixed: true, inputs: { x: { dims: [1, 2, 2, 2] } }, build: (b, i) => b.op('Relu', [i.x]) };
  const g = await fixedGradients(c, { x }, seed);
  assert.deepEqual(Array.from(g.x.data as Float32Array, (v) => v + 0), vals.map((v, i) => (v > 0 ? (seed.data as Float32Array)[i] : 0)));
});
