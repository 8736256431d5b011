// Weight randomisation for the sanity check: which layers, in which order, with which values, and
// that nothing but the chosen layers' initializers changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { OnnxModel } from '../../src/engine/onnx/model';
import { tensorFromProto } from '../../src/engine/onnx/tensorProto';
import { parametrisedLayers, randomizedModel } from '../../src/engine/sanity/randomize';

const MODEL = path.resolve(__dirname, '..', '..', 'samples', 'shapes', 'model.onnx');
const values = (m: OnnxModel, name: string) => Array.from(tensorFromProto(m.initializerMap().get(name)!).data as Float32Array);

describe('parametrised layers', () => {
  it('lists the shapes model from the output back to the input, with PyTorch fan-ins', () => {
    const layers = parametrisedLayers(OnnxModel.load(MODEL));
    assert.deepEqual(layers.map((l) => l.name), ['classifier.fc', 'features.conv2', 'features.conv1']);
    assert.deepEqual(layers.map((l) => l.op), ['Gemm', 'Conv', 'Conv']);
    // fc: Linear(8 → 4), weight (4, 8) with transB: fan-in 8; conv2: 4 channels × 3 × 3 = 36; conv1: 3 × 3 × 3 = 27
    const fanIns = layers.map((l) => l.params.map((p) => (p.init.kind === 'uniform' ? p.init.fanIn : p.init.kind)));
    assert.deepEqual(fanIns, [[8, 8], [36, 36], [27, 27]]);
    assert.deepEqual(layers[0].params.map((p) => p.name), ['classifier.fc.weight', 'classifier.fc.bias']);
  });
});

describe('randomised copies', () => {
  const model = OnnxModel.load(MODEL);
  const layers = parametrisedLayers(model);

  it('change only the chosen layers: the others keep the very same tensors', () => {
    const m = randomizedModel(model, layers.slice(0, 1), 5);
    const before = model.initializerMap();
    const after = m.initializerMap();
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
    assert.deepEqual(changed, ['classifier.fc.bias', 'classifier.fc.weight']);
    for (const k of changed) assert.notDeepEqual(values(m, k), values(model, k));
    // the original model is left as it was
    assert.equal(model.initializerMap().get('classifier.fc.weight'), before.get('classifier.fc.weight'));
  });

  it('draw U(−1/√fan-in, 1/√fan-in) for weights and biases', () => {
    const m = randomizedModel(model, layers, 5);
    for (const l of layers) {
      for (const p of l.params) {
        const b = 1 / Math.sqrt((p.init as { fanIn: number }).fanIn);
        const v = values(m, p.name);
        assert.ok(v.every((x) => Math.abs(x) <= b), `${p.name} within ±${b}`);
        // spread over the range, not a constant: the largest |value| is past half the bound
        assert.ok(Math.max(...v.map(Math.abs)) > b / 2, p.name);
        assert.ok(v.some((x) => x < 0) && v.some((x) => x > 0), `${p.name} has both signs`);
      }
    }
  });

  it('are deterministic for a seed, differ between seeds, and keep a layer\'s draw along the cascade', () => {
    const a = randomizedModel(model, layers.slice(0, 2), 11);
    const b = randomizedModel(model, layers.slice(0, 2), 11);
    const c = randomizedModel(model, layers.slice(0, 2), 12);
    const deeper = randomizedModel(model, layers, 11);
    for (const name of ['classifier.fc.weight', 'features.conv2.weight', 'features.conv2.bias']) {
      assert.deepEqual(values(a, name), values(b, name));
      assert.notDeepEqual(values(a, name), values(c, name));
      assert.deepEqual(values(deeper, name), values(a, name));
    }
    assert.equal(Buffer.compare(Buffer.from(a.toBytes()), Buffer.from(b.toBytes())), 0);
  });

  it('carry a content hash of their own: never the original\'s, the same for the same weights', () => {
    const a = randomizedModel(model, layers.slice(0, 1), 3);
    const b = randomizedModel(model, layers.slice(0, 1), 3);
    const c = randomizedModel(model, layers.slice(0, 2), 3);
    assert.ok(model.contentHash && a.contentHash);
    assert.notEqual(a.contentHash, model.contentHash);
    assert.equal(a.contentHash, b.contentHash);
    assert.notEqual(c.contentHash, a.contentHash);
  });

  it('refuses a seed that is not a 32-bit whole number', () => {
    assert.throws(() => randomizedModel(model, layers, -1), /seed -1 must be an integer/);
    assert.throws(() => randomizedModel(model, layers, 1.5), /seed 1.5 must be an integer/);
  });
});
