import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, model, run, values } from './grad-models';

/** x (1, C, 2, 2) ≥ 0 → Relu = act (= x) → GlobalAveragePool → Gemm: EigenCAM sees act = x. */
const gapModel = (c: number) =>
  model([c, 2, 2], (b) => {
    const a = b.add('Relu', ['x'], {}, ['act'])[0];
    const f = b.op('Flatten', [b.op('GlobalAveragePool', [a])], { axis: attr.int(1) });
    return gemm(b, f, [Array.from({ length: c }, (_, i) => i + 1), Array.from({ length: c }, (_, i) => 1 - i)], undefined, 'out');
  });

/** Activations A_c(p) = sum_k u_k[c] s_k(p) + offset, channel-major (C, 4). */
function acts(parts: Array<[number[], number[]]>, offset: number): number[] {
  const c = parts[0][0].length;
  return Array.from({ length: c * 4 }, (_, i) => parts.reduce((s, [u, sp]) => s + u[Math.floor(i / 4)] * sp[i % 4], offset));
}

test('eigen-cam of rank-one activations is |u| (s - mean s), for more pixels than channels and more channels than pixels', async () => {
  const s = [3, -1, 0, 2]; // mean 1
  for (const u of [[1, 2, -0.5], [1, 2, -0.5, 0.5, 1]]) {
    const lm = await gapModel(u.length);
    const x = feed([1, u.length, 2, 2], acts([[u, s]], 5));
    const norm = Math.hypot(...u);
    const expected = s.map((v) => norm * (v - 1));
    const r = await run(lm, x, 'eigen-cam', 0, { reluAttributions: false });
    assert.equal(r.layer, 'act');
    assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 1, 2, 2]);
    close(values(r), expected, 1e-5, `C=${u.length}`);
    close(values(await run(lm, x, 'eigen-cam', 0)), expected.map((v) => Math.max(0, v)), 1e-5, 'ReLU by default');
  }
});

test('eigen-cam takes the first principal direction of rank-two activations', async () => {
  const s1 = [3, -3, 1.5, -1.5], s2 = [0.5, 0.5, -0.5, -0.5]; // centred, orthogonal, |s1| > |s2|
  const lm = await gapModel(3);
  const x = feed([1, 3, 2, 2], acts([[[0.6, 0.8, 0], s1], [[0, 0, 1], s2]], 4));
  close(values(await run(lm, x, 'eigen-cam', 0, { reluAttributions: false })), s1, 1e-5);
});

test('eigen-cam points where the activations are strong and ignores the target', async () => {
  // channels rise where s falls: the map must be high where s is low
  const s = [3, -1, 0, 2];
  const u = [-1, -2];
  const lm = await gapModel(2);
  const x = feed([1, 2, 2, 2], acts([[u, s]], 7));
  const expected = s.map((v) => -Math.hypot(...u) * (v - 1));
  const r0 = values(await run(lm, x, 'eigen-cam', 0, { reluAttributions: false }));
  close(r0, expected, 1e-5);
  assert.deepEqual(values(await run(lm, x, 'eigen-cam', 1, { reluAttributions: false })), r0);
});
