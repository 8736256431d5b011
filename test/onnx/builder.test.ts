// GraphBuilder's opset-aware emitters: at opsets 11, 13 and 18 each writes the form that
// opset expects (axes as attribute or input), onnxruntime accepts it, and values are right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel, f32, runBytes } from './helpers';

// x = [[1, 2, 3], [4, 5, 6]]
const X = f32([2, 3], [1, 2, 3, 4, 5, 6]);

interface Expect { dims: number[]; values: number[] }

function nodeOf(m: OnnxModel, op: string) {
  const n = m.graph.node.find((x) => x.opType === op);
  assert.ok(n, `no ${op} node`);
  return n;
}

async function check(m: OnnxModel, expected: Expect[]): Promise<void> {
  const r = await runBytes(m.toBytes(), { x: X });
  const outs = m.graph.output.map((o) => o.name!);
  assert.equal(outs.length, expected.length);
  outs.forEach((o, i) => {
    assert.deepEqual(r[o].dims, expected[i].dims, `${o} dims`);
    assert.deepEqual(Array.from(r[o].data as Float32Array), expected[i].values, `${o} values`);
  });
}

for (const opset of [11, 13, 18]) {
  const axesAsInput = opset >= 13;

  test(`unsqueeze and squeeze at opset ${opset}`, async () => {
    const m = buildModel(opset, [2, 3], (b, x) => {
      const u = b.unsqueeze(x, [0, 3]);
      return [u, b.squeeze(u, [0])];
    });
    const u = nodeOf(m, 'Unsqueeze');
    const s = nodeOf(m, 'Squeeze');
    for (const n of [u, s]) {
      assert.equal(n.input.length, axesAsInput ? 2 : 1, `${n.opType} inputs at ${opset}`);
      assert.equal(n.attribute!.some((a) => a.name === 'axes'), !axesAsInput, `${n.opType} axes attribute at ${opset}`);
    }
    await check(m, [
      { dims: [1, 2, 3, 1], values: [1, 2, 3, 4, 5, 6] },
      { dims: [2, 3, 1], values: [1, 2, 3, 4, 5, 6] },
    ]);
  });

  test(`reduceSum at opset ${opset}`, async () => {
    const m = buildModel(opset, [2, 3], (b, x) => {
      assert.equal(b.reduceSum(x, []), x, 'empty axes must be a no-op');
      return [b.reduceSum(x, [1]), b.reduceSum(x, [0], false), b.reduceSum(x, [0, 1], false)];
    });
    for (const n of m.graph.node) assert.equal(n.input.length, axesAsInput ? 2 : 1);
    await check(m, [
      { dims: [2, 1], values: [6, 15] },
      { dims: [3], values: [5, 7, 9] },
      { dims: [], values: [21] },
    ]);
  });

  test(`split at opset ${opset}`, async () => {
    const m = buildModel(opset, [2, 3], (b, x) => b.split(x, [1, 2], 1));
    const n = nodeOf(m, 'Split');
    assert.equal(n.input.length, axesAsInput ? 2 : 1);
    assert.equal(n.attribute!.some((a) => a.name === 'split'), !axesAsInput);
    await check(m, [
      { dims: [2, 1], values: [1, 4] },
      { dims: [2, 2], values: [2, 3, 5, 6] },
    ]);
  });

  test(`reduce (Mean, Max, Min, Prod) at opset ${opset}`, async () => {
    const m = buildModel(opset, [2, 3], (b, x) => [
      b.reduce('ReduceMean', x, [1]),
      b.reduce('ReduceMax', x, [0], false),
      b.reduce('ReduceMin', x, [1], false),
      b.reduce('ReduceProd', x, [0]),
      b.reduce('ReduceSum', x, [1], false),
    ]);
    const mean = nodeOf(m, 'ReduceMean');
    // Everything but ReduceSum took axes as an input only from opset 18.
    assert.equal(mean.input.length, opset >= 18 ? 2 : 1);
    assert.equal(nodeOf(m, 'ReduceSum').input.length, opset >= 13 ? 2 : 1);
    await check(m, [
      { dims: [2, 1], values: [2, 5] },
      { dims: [3], values: [4, 5, 6] },
      { dims: [2], values: [1, 4] },
      { dims: [1, 3], values: [4, 10, 18] },
      { dims: [2], values: [6, 15] },
    ]);
  });
}

test('slice, pad, reshape and zerosLike give hand-computed values', async () => {
  const m = buildModel(17, [2, 3], (b, x) => [
    b.slice(x, [1], [3], [1]),
    b.slice(x, [2], [-4], [1], [-2]),
    b.pad(x, [0, 1, 0, 0], 9),
    b.reshape(x, [3, 2]),
    b.zerosLike(x),
  ]);
  await check(m, [
    { dims: [2, 2], values: [2, 3, 5, 6] },
    { dims: [2, 2], values: [3, 1, 6, 4] },
    { dims: [2, 4], values: [9, 1, 2, 3, 9, 4, 5, 6] },
    { dims: [3, 2], values: [1, 2, 3, 4, 5, 6] },
    { dims: [2, 3], values: [0, 0, 0, 0, 0, 0] },
  ]);
});

test('fresh names never collide with existing tensors and small constants are shared', () => {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 'p');
  b.addInput('/p/Relu_0', 1, [1]);
  const out = b.op('Relu', ['/p/Relu_0']);
  assert.notEqual(out, '/p/Relu_0');
  assert.equal(b.i64([1, 2]), b.i64([1, 2]));
  assert.notEqual(b.i64([1, 2]), b.i64([2, 1]));
  assert.notEqual(b.f32(1), b.i64([1]));
  assert.equal(m.graph.initializer.length, 4);
  const b2 = new GraphBuilder(m, 'p');
  const names = new Set([...m.graph.node.flatMap((n) => [...n.output, n.name]), ...m.graph.initializer.map((t) => t.name)]);
  for (let i = 0; i < 20; i++) assert.ok(!names.has(b2.fresh('Relu')));
});
