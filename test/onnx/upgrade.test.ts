// upgradeOpset: opset-11 graphs raised to 16 keep their outputs exactly, including the old
// Softmax semantics (flatten from `axis` on) that opset 13 changed. Opsets 7-10: upgrade-legacy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrLensError } from '../../src/engine/core/errors';
import { attr } from '../../src/engine/onnx/attributes';
import { OnnxModel } from '../../src/engine/onnx/model';
import { valueInfo } from '../../src/engine/onnx/builder';
import { AttrType } from '../../src/engine/onnx/proto';
import { GRADIENT_OPSET, upgradeOpset } from '../../src/engine/onnx/upgrade';
import { buildModel, close, f32, runBytes } from './helpers';

const X = f32([2, 2, 3], (i) => Math.sin(i * 1.3) * 2 + i * 0.1);

function opset11(): OnnxModel {
  return buildModel(11, [2, 2, 3], (b, x) => {
    const u = b.unsqueeze(x, [1]); // [2,1,2,3]
    const s = b.squeeze(u, [1]); // [2,2,3]
    const rs = b.reduceSum(s, [2]); // [2,2,1]
    const [p0, p1] = b.split(x, [1, 2], 2); // [2,2,1], [2,2,2]
    const sm = b.op('Softmax', [x], { axis: attr.int(1) });
    const lsm = b.op('LogSoftmax', [x], { axis: attr.int(2) });
    const dr = b.op('Dropout', [x], { ratio: attr.float(0.3) });
    const mean = b.reduce('ReduceMean', x, [1, 2], false);
    return [s, rs, p0, p1, sm, lsm, dr, mean];
  });
}

test('upgradeOpset 11 → 16 keeps every output identical', async () => {
  const m = opset11();
  const outs = m.graph.output.map((o) => o.name!);
  const before = await runBytes(m.toBytes(), { x: X });
  const up = upgradeOpset(m);
  assert.equal(up.opset(), GRADIENT_OPSET);
  for (const n of up.graph.node) {
    if (['Squeeze', 'Unsqueeze', 'ReduceSum'].includes(n.opType)) assert.ok(!n.attribute?.some((a) => a.name === 'axes'), `${n.opType} still has axes`);
    if (n.opType === 'Split') assert.ok(!n.attribute?.some((a) => a.name === 'split'));
    if (n.opType === 'Dropout') assert.ok(!n.attribute?.some((a) => a.name === 'ratio'));
  }
  const after = await runBytes(up.toBytes(), { x: X });
  for (const o of outs) {
    assert.deepEqual(after[o].dims, before[o].dims, o);
    close(Array.from(after[o].data as Float32Array), Array.from(before[o].data as Float32Array), 1e-6);
  }
});

test('old Softmax(axis=1) on rank 3 normalises over the flattened trailing axes, before and after', async () => {
  const m = opset11();
  const sm = m.graph.node.find((n) => n.opType === 'Softmax')!.output[0];
  // Hand-computed: each batch row's 6 values share one normalisation.
  const x = X.data as Float32Array;
  const expected: number[] = [];
  for (let b = 0; b < 2; b++) {
    const row = Array.from(x.subarray(b * 6, b * 6 + 6));
    const mx = Math.max(...row);
    const e = row.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, c) => a + c, 0);
    expected.push(...e.map((v) => v / s));
  }
  const before = await runBytes(m.toBytes(), { x: X }, [sm]);
  close(Array.from(before[sm].data as Float32Array), expected, 1e-6);
  upgradeOpset(m);
  const after = await runBytes(m.toBytes(), { x: X }, [sm]);
  assert.deepEqual(after[sm].dims, [2, 2, 3]);
  close(Array.from(after[sm].data as Float32Array), expected, 1e-6);
  // Sanity: opset-13 semantics (normalise along axis 1 only) would give something else.
  const perAxis = buildModel(16, [2, 2, 3], (b, xx) => [b.op('Softmax', [xx], { axis: attr.int(1) })]);
  const r = await runBytes(perAxis.toBytes(), { x: X });
  const other = Array.from(Object.values(r)[0].data as Float32Array);
  assert.ok(other.some((v, i) => Math.abs(v - expected[i]) > 1e-3));
});

test('upgradeOpset leaves opset ≥ 16 alone and refuses opset < 7 in one line', () => {
  const m17 = buildModel(17, [2], (b, x) => [b.op('Relu', [x])]);
  const before = m17.toBytes();
  assert.equal(upgradeOpset(m17), m17);
  assert.deepEqual(m17.toBytes(), before);
  const m6 = buildModel(6, [2], (b, x) => [b.op('Relu', [x])]);
  assert.throws(() => upgradeOpset(m6), (e: unknown) => e instanceof AttrLensError && /opset 6; gradients need opset 7 or newer: .*convert_version.*gradient-free methods/.test(e.message) && !e.message.includes('\n'));
});

test('upgradeOpset rewrites nodes inside If branches too', async () => {
  const branch = (name: string, neg: boolean) => ({
    name,
    node: [
      ...(neg ? [{ opType: 'Neg', name: `${name}_neg`, input: ['x'], output: [`${name}_n`] }] : []),
      { opType: 'Unsqueeze', name: `${name}_unsq`, input: [neg ? `${name}_n` : 'x'], output: [`${name}_out`], attribute: [{ name: 'axes', type: AttrType.INTS, ints: [0] }] },
    ],
    input: [],
    output: [valueInfo(`${name}_out`, 1, [1, 3])],
    initializer: [],
    valueInfo: [],
  });
  const m = buildModel(11, [3], (b, x) => {
    const sum = b.reduceSum(x, [0], false);
    const cond = b.op('Greater', [sum, b.f32(0)]);
    return b.add('If', [cond], { then_branch: { type: AttrType.GRAPH, g: branch('then', false) }, else_branch: { type: AttrType.GRAPH, g: branch('else', true) } }, ['y']);
  });
  const pos = f32([3], [1, 2, 3]), neg = f32([3], [-1, -2, 1]);
  const before = [await runBytes(m.toBytes(), { x: pos }), await runBytes(m.toBytes(), { x: neg })];
  assert.deepEqual(Array.from(before[0].y.data as Float32Array), [1, 2, 3]);
  assert.deepEqual(Array.from(before[1].y.data as Float32Array), [1, 2, -1]);
  upgradeOpset(m);
  const ifNode = m.graph.node.find((n) => n.opType === 'If')!;
  for (const a of ifNode.attribute!) {
    const u = a.g!.node.find((n) => n.opType === 'Unsqueeze')!;
    assert.equal(u.input.length, 2, `${a.name} Unsqueeze takes axes as input`);
    assert.ok(!u.attribute?.some((x) => x.name === 'axes'));
  }
  const after = [await runBytes(m.toBytes(), { x: pos }), await runBytes(m.toBytes(), { x: neg })];
  assert.deepEqual(after[0].y.dims, [1, 3]);
  assert.deepEqual(Array.from(after[0].y.data as Float32Array), [1, 2, 3]);
  assert.deepEqual(Array.from(after[1].y.data as Float32Array), [1, 2, -1]);
});
