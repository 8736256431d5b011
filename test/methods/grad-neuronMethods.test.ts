import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, model, run, values } from './grad-models';

// x (1, 1, 5, 5) → Conv 3×3 (3 output channels, no padding) = conv (1, 3, 3, 3) → Relu = act → Flatten → Gemm = out
// (neurons are picked with indices >= 1 through attribute(): see the todo test at the end)
const K = [
  [0.5, -1, 0.25, 2, 1.5, 0.5, -0.5, 0.1, 0.3],
  [-1, 1, 1, 0.5, -0.2, 0.7, 0.9, -1.3, 0.4],
  [0.2, 0.6, -0.8, 1.1, -0.4, 0.3, 0.7, 0.5, -1.2],
];
const BIAS = [0.5, -0.25, 0.1];
const X = [0.8, -0.3, 1.2, 0.4, 0.1, 0.9, -1.1, 0.6, -0.7, 0.2, 1.5, -0.4, 0.3, -0.8, 0.05, 1, -0.6, 0.7, 0.25, -1.2, 0.45, 1.3, -0.15, 0.35, -0.9];
const N = 25;
const DIMS = [1, 1, 5, 5];
const convModel = () =>
  model([1, 5, 5], (b) => {
    const c = b.add('Conv', ['x', b.f32(K.flat(), [3, 1, 3, 3]), b.f32(BIAS, [3])], { kernel_shape: attr.ints([3, 3]) }, ['conv'])[0];
    const a = b.add('Relu', [c], {}, ['act'])[0];
    return gemm(b, b.op('Flatten', [a], { axis: attr.int(1) }), [Array.from({ length: 27 }, (_, i) => Math.sin(i + 1))], undefined, 'out');
  });

/** d conv[ch, i, j] / dx: the kernel placed at the neuron's 3×3 receptive field of the 5×5 input. */
function receptive(ch: number, i: number, j: number): number[] {
  const g = new Array<number>(N).fill(0);
  for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) g[(i + u) * 5 + (j + v)] = K[ch][u * 3 + v];
  return g;
}
const convValue = (x: number[], ch: number, i: number, j: number) => receptive(ch, i, j).reduce((s, k, p) => s + k * x[p], BIAS[ch]);

test('neuron-gradient of a Conv output neuron is the kernel placed at its receptive field', async () => {
  const lm = await convModel();
  for (const [ch, i, j] of [[1, 1, 2], [2, 2, 1], [1, 1, 1]]) {
    const r = await run(lm, feed(DIMS, X), 'neuron-gradient', 0, { layer: 'conv', neuronSelector: [ch, i, j] });
    assert.equal(r.layer, 'conv');
    assert.deepEqual(Object.values(r.attributions)[0].dims, DIMS);
    close(values(r), receptive(ch, i, j), 1e-6, `neuron ${[ch, i, j]}`);
  }
  // a flat index selects the same neuron: (2, 1, 2) → 2·9 + 1·3 + 2 = 23
  close(values(await run(lm, feed(DIMS, X), 'neuron-gradient', 0, { layer: 'conv', neuronSelector: [23] })), receptive(2, 1, 2), 1e-6);
});

test('neuron-gradient after the Relu is the kernel where the Conv value is positive and 0 where it is not', async () => {
  const lm = await convModel();
  const seen = new Set<boolean>();
  for (const [ch, i, j] of [[1, 1, 2], [2, 2, 1], [1, 1, 1], [2, 1, 1], [1, 2, 2], [2, 2, 2]]) {
    const on = convValue(X, ch, i, j) > 0;
    seen.add(on);
    const r = values(await run(lm, feed(DIMS, X), 'neuron-gradient', 0, { layer: 'act', neuronSelector: [ch, i, j] }));
    close(r, on ? receptive(ch, i, j) : new Array(N).fill(0), 1e-6, `neuron ${[ch, i, j]}`);
    // the Relu's input is the Conv output: attributeToNeuronInput selects conv[ch, i, j]
    const toInput = await run(lm, feed(DIMS, X), 'neuron-gradient', 0, { layer: 'act', neuronSelector: [ch, i, j], attributeToNeuronInput: true });
    assert.equal(toInput.layer, 'conv');
    close(values(toInput), receptive(ch, i, j), 1e-6);
  }
  assert.equal(seen.size, 2, 'both active and inactive neurons were checked');
});

test('neuron-integrated-gradients of a Conv neuron is (x - b) times the kernel at its receptive field', async () => {
  const lm = await convModel();
  const b = 0.3;
  for (const method of ['gausslegendre', 'riemann_middle']) {
    const r = values(await run(lm, feed(DIMS, X), 'neuron-integrated-gradients', 0, { layer: 'conv', neuronSelector: [1, 2, 1], baselines: b, nSteps: 8, method }));
    close(r, receptive(1, 2, 1).map((k, p) => k * (X[p] - b)), 1e-5, method);
  }
  const g = values(await run(lm, feed(DIMS, X), 'neuron-integrated-gradients', 0, { layer: 'conv', neuronSelector: [1, 2, 1], multiplyByInputs: false }));
  close(g, receptive(1, 2, 1), 1e-5, 'without multiplying by the inputs');
});

test('neuron-integrated-gradients of a Relu neuron is complete: its total is act(x) - act(baseline)', async () => {
  const lm = await convModel();
  const base = X.map((v) => -v);
  let crossed = 0; // neurons that switch on or off along the path
  for (const [ch, i, j] of [[1, 1, 1], [2, 2, 1], [1, 2, 2], [2, 1, 2]]) {
    const on = Math.max(0, convValue(X, ch, i, j)), off = Math.max(0, convValue(base, ch, i, j));
    if ((on > 0) === (off > 0)) continue;
    crossed++;
    const r = values(await run(lm, feed(DIMS, X), 'neuron-integrated-gradients', 0, { layer: 'act', neuronSelector: [ch, i, j], baselines: [[[0, 1, 2, 3, 4].map((r) => base.slice(r * 5, r * 5 + 5))]], nSteps: 300 }));
    const total = r.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(total - (on - off)) < 1e-2 * Math.max(1, Math.abs(on - off)), `total ${total} vs ${on - off}`);
  }
  assert.ok(crossed >= 2, `${crossed} neurons crossed their kink`);
});

test('neuronSelector errors say what fits', async () => {
  const lm = await convModel();
  const x = feed(DIMS, X);
  await assert.rejects(run(lm, x, 'neuron-gradient', 0, { layer: 'conv', neuronSelector: [1, 1] }), /has 2 indices but 'conv' has 3 axes besides the batch \(\[3,3,3\]\)/);
  await assert.rejects(run(lm, x, 'neuron-gradient', 0, { layer: 'conv', neuronSelector: [1, 3, 1] }), /outside 'conv' \[3,3,3\]: index 1 must be below 3/);
  await assert.rejects(run(lm, x, 'neuron-gradient', 0, { layer: 'conv', neuronSelector: [27] }), /27 is outside 'conv', which has 27 neurons/);
  await assert.rejects(run(lm, x, 'neuron-integrated-gradients', 0, { layer: 'conv' }), /needs parameter 'neuronSelector'/);
});

test('neuron index 0 on an axis can be selected', async () => {
  const lm = await convModel();
  close(values(await run(lm, feed(DIMS, X), 'neuron-gradient', 0, { layer: 'conv', neuronSelector: [0, 0, 0] })), receptive(0, 0, 0), 1e-6);
});
