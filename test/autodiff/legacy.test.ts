// Gradients through opset 7-10 graphs (checked on the upgraded graph against the original), and
// ReduceProd's gradient where the product has zeros (hand-computed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr } from '../../src/engine/onnx/attributes';
import { checkCase, FdCase, fixedGradients } from './fd';
import { legacyCases } from './cases/legacy';

for (const c of legacyCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));

test('ReduceProd gradient with zeros: the product of the others, exactly', async () => {
  const c: FdCase = { name: 'ReduceProd zeros', fixed: true, inputs: { x: { dims: [3, 3] } }, build: (b, x) => b.op('ReduceProd', [x.x], { axes: attr.ints([1]), keepdims: attr.int(0) }) };
  // rows: no zero, one zero, two zeros
  const x = Float32Array.from([2, -3, 0.5, 4, 0, -2, 0, 5, 0]);
  const seed = Float32Array.from([1, 2, -1]);
  const g = await fixedGradients(c, { x: { dtype: 'float32', dims: [3, 3], data: x } }, { dtype: 'float32', dims: [3], data: seed });
  const expected = [-3 * 0.5, 2 * 0.5, 2 * -3, 0, 2 * (4 * -2), 0, 0, 0, 0];
  assert.deepEqual(Array.from(g.x.data as Float32Array, (v) => v + 0), expected); // + 0: -0 as 0
});
