// The cascading randomisation check on models whose answer is known: the shapes sample's maps
// must change (pass); a designed model whose saliency cannot depend on its weights must fail; and
// Guided Backprop on a random ReLU net keeps its map while the top layers are randomised, as
// Adebayo et al. (2018) found, where Saliency's map changes at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// before anything opens a DiskCache: this file's cache is its own, to count what is written
const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-sanity-cache-'));
process.env.ATTRLENS_CACHE_DIR = CACHE;

import { flushDiskCache } from '../../src/engine/model/diskCache';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { Rng } from '../../src/engine/methods/rng';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { SANITY_THRESHOLDS, sanityCheck } from '../../src/engine/sanity';
import { Tensor } from '../../src/engine/core/tensor';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'shapes');
const IMAGE = path.join(SAMPLE, 'images', 'red-circle.png');

async function shapes(): Promise<{ lm: LoadedModel; feeds: Record<string, Tensor> }> {
  const lm = await LoadedModel.open(path.join(SAMPLE, 'model.onnx'));
  return { lm, feeds: (await loadInputs(lm, IMAGE)).feeds };
}

describe('sanity check on the shapes sample', () => {
  for (const method of ['saliency', 'integrated-gradients']) {
    it(`${method}: the map changes once the weights are random → passes`, async () => {
      const { lm, feeds } = await shapes();
      const r = await sanityCheck(lm, feeds, { method, seed: 0 });
      assert.equal(r.verdict, 'pass', r.summary);
      assert.equal(r.target, 0, 'red');
      assert.deepEqual(r.steps.map((s) => s.kind), ['original', 'cascade', 'cascade', 'cascade', 'random']);
      assert.deepEqual(r.steps.slice(1, 4).map((s) => s.layer?.name), ['classifier.fc', 'features.conv2', 'features.conv1']);
      // every layer random (cascade end) and the independent draw: unlike the original by both measures
      for (const s of [r.steps[3], r.steps[4]]) {
        assert.ok(s.spearmanAbs !== null && s.spearmanAbs < SANITY_THRESHOLDS.spearmanAbs, `${s.kind} Spearman ${s.spearmanAbs}`);
        assert.ok(s.ssim < SANITY_THRESHOLDS.ssim, `${s.kind} SSIM ${s.ssim}`);
        assert.equal(s.similar, false);
      }
      assert.match(r.summary, new RegExp(`^${method} passes`));
      // the original step's map is the method's own map on the original model
      const own = await attribute(lm, feeds, { method, target: 0 });
      assert.deepEqual(Array.from(r.steps[0].attribution!.data as Float32Array), Array.from(Object.values(own.attributions)[0].data as Float32Array));
    });
  }

  it('keeps the target resolved on the original model for every randomised one', async () => {
    const { lm, feeds } = await shapes();
    const r = await sanityCheck(lm, feeds, { method: 'saliency', target: 'blue', layers: 1 });
    assert.equal(r.target, 2);
    assert.equal(r.targetText, '2');
    // --layers 1: one cascade step, then the fully randomised model
    assert.deepEqual(r.steps.map((s) => s.kind), ['original', 'cascade', 'random']);
    assert.equal(r.steps[2].randomized, 3);
  });

  it('is deterministic for a seed', async () => {
    const { lm, feeds } = await shapes();
    const a = await sanityCheck(lm, feeds, { method: 'saliency', seed: 4 });
    const b = await sanityCheck(lm, feeds, { method: 'saliency', seed: 4 });
    const c = await sanityCheck(lm, feeds, { method: 'saliency', seed: 5 });
    assert.deepEqual(a.steps.map((s) => [s.spearmanAbs, s.ssim]), b.steps.map((s) => [s.spearmanAbs, s.ssim]));
    assert.notDeepEqual(a.steps.map((s) => s.ssim), c.steps.map((s) => s.ssim));
  });

  it('writes nothing for the randomised models into the disk cache', async () => {
    // a model object of its own (not the shared open() one), and its map once before counting
    const lm = await LoadedModel.fromModel(OnnxModel.load(path.join(SAMPLE, 'model.onnx')));
    const { feeds } = await loadInputs(lm, IMAGE);
    await attribute(lm, feeds, { method: 'saliency' });
    await flushDiskCache(); // the original's backward graph is written in the background
    const before = fs.readdirSync(CACHE).sort();
    assert.ok(before.length > 0, 'the original model is cached');
    const r = await sanityCheck(lm, feeds, { method: 'saliency' });
    assert.equal(r.steps.length, 5);
    await flushDiskCache();
    assert.deepEqual(fs.readdirSync(CACHE).sort(), before);
  });

  it('says what is wrong with a bad request, in one line', async () => {
    const { lm, feeds } = await shapes();
    await assert.rejects(sanityCheck(lm, feeds, { method: 'salency' }), /unknown method 'salency'/);
    await assert.rejects(sanityCheck(lm, feeds, { method: 'saliency', layers: 0 }), /layers must be a whole number ≥ 1 \(the model has 3/);
    await assert.rejects(sanityCheck(lm, feeds, { method: 'saliency', seed: -2 }), /seed -2 must be an integer/);
  });
});

/**
 * x (1, 1, 6, 6) → x·x → Conv 1×1 (weight s, bias c) → GlobalAveragePool → Gemm (1 → 3).
 * Output k = w_k (s·mean(x²) + c) + b_k, so ∂y_k/∂x = w_k·s·2x/36: |saliency| is |x| times a
 * constant whatever the weights, and its ranks and min-max normalised map never change.
 */
async function weightBlindModel(): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 'blind');
  b.addInput('x', 1, ['N', 1, 6, 6]);
  const sq = b.add('Mul', ['x', 'x'], {}, ['/square/Mul_output_0'])[0];
  const conv = b.exported('/scale', 'Conv', [sq, b.param('scale.weight', [1, 1, 1, 1], [0.7]), b.param('scale.bias', [1], [0.1])]);
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [conv])], { axis: attr.int(1) });
  b.exported('/head', 'Gemm', [pooled, b.param('head.weight', [3, 1], [1.5, -2, 0.5]), b.param('head.bias', [3], [0, 0.2, 0.1])], { transB: attr.int(1) }, 'out');
  b.addOutput('out', 1);
  return LoadedModel.fromModel(m);
}

/** A 4-conv ReLU net (seeded He-uniform weights) with global pooling and a linear head. */
async function reluNet(): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 'net');
  b.addInput('x', 1, ['N', 3, 64, 64]);
  const rng = new Rng(7);
  const u = (n: number, fanIn: number) => Array.from({ length: n }, () => (2 * rng.next() - 1) * Math.sqrt(6 / fanIn));
  let x = 'x', c = 3;
  [16, 16, 32, 32].forEach((o, i) => {
    const w = b.param(`conv${i}.weight`, [o, c, 3, 3], u(o * c * 9, c * 9));
    const bias = b.param(`conv${i}.bias`, [o], new Array(o).fill(0.01));
    x = b.exported(`/conv${i}`, 'Conv', [x, w, bias], { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints(i % 2 ? [2, 2] : [1, 1]) });
    x = b.add('Relu', [x], {}, [`/relu${i}/Relu_output_0`])[0];
    c = o;
  });
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: attr.int(1) });
  b.exported('/fc', 'Gemm', [pooled, b.param('fc.weight', [10, c], u(10 * c, c))], { transB: attr.int(1) }, 'out');
  b.addOutput('out', 1);
  return LoadedModel.fromModel(m);
}

/**
 * x (1, 4) → Gemm (8 × 4, positive weights and biases) → Sqrt → Gemm (2 × 8) → out. On positive x
 * the hidden layer is positive; with random first-layer weights some hidden unit is negative and
 * its Sqrt, hence the output, is NaN.
 */
async function sqrtNet(): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 'sq');
  b.addInput('x', 1, ['N', 4]);
  const w1 = Array.from({ length: 32 }, (_, i) => 0.1 + (i % 5) * 0.1);
  const h = b.exported('/hidden', 'Gemm', ['x', b.param('hidden.weight', [8, 4], w1), b.param('hidden.bias', [8], new Array(8).fill(0.2))], { transB: attr.int(1) });
  const r = b.op('Sqrt', [h]);
  const w2 = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
  b.exported('/head', 'Gemm', [r, b.param('head.weight', [2, 8], w2)], { transB: attr.int(1) }, 'out');
  b.addOutput('out', 1);
  return LoadedModel.fromModel(m);
}

describe('sanity check on designed models', () => {
  it('a randomised model whose output is NaN is a failed step (one line); with no all-random model left there is no verdict', async () => {
    const lm = await sqrtNet();
    const feeds = { x: { dtype: 'float32' as const, dims: [1, 4], data: Float32Array.from([1, 2, 0.5, 3]) } };
    const progress: string[] = [];
    await assert.rejects(
      sanityCheck(lm, feeds, { method: 'saliency' }, { onProgress: (p) => p.step && progress.push(`${p.step.kind}${p.step.error ? ' failed' : ''}`) }),
      // the engine reports the NaN output itself (the model's output 'out' is NaN for this input)
      /^AttrLensError: saliency failed on the fully randomised model \([^)]*output 'out' is NaN for this input[^\n]*\): the check has no verdict$/,
    );
    // the head randomised alone runs; once the hidden layer is random the output is NaN
    assert.deepEqual(progress, ['original', 'cascade', 'cascade failed', 'random failed']);
  });


  it('a map that cannot depend on the weights fails, with Spearman and SSIM of 1 at every step', async () => {
    const lm = await weightBlindModel();
    const data = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
    const r = await sanityCheck(lm, { x: { dtype: 'float32', dims: [1, 1, 6, 6], data } }, { method: 'saliency', target: 1 });
    assert.equal(r.verdict, 'fail');
    assert.deepEqual(r.layers.map((l) => l.op), ['Gemm', 'Conv']);
    for (const s of r.steps) {
      assert.equal(s.spearmanAbs, 1, `${s.kind} ${s.layer?.name ?? ''}`);
      assert.ok(Math.abs(s.ssim - 1) < 1e-6, `${s.kind} SSIM ${s.ssim}`);
      assert.equal(s.similar, true);
    }
    assert.deepEqual(r.insensitiveTop, ['head', 'scale']);
    assert.match(r.summary, /^saliency fails the sanity check: its map stays similar/);
  });

  it('guided backprop keeps its map while the top layers are random; saliency does not', async () => {
    const lm = await reluNet();
    const { feeds } = await loadInputs(lm, IMAGE, { preprocess: { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] } });
    for (const seed of [0, 1, 2]) {
      const gbp = await sanityCheck(lm, feeds, { method: 'guided-backprop', seed });
      const sal = await sanityCheck(lm, feeds, { method: 'saliency', seed });
      const top = (r: typeof gbp) => r.steps[1];
      assert.equal(top(gbp).layer?.name, 'fc');
      // the head and the top conv randomised: guided backprop's map keeps its ranking…
      for (const s of gbp.steps.slice(1, 3)) assert.ok(s.spearmanAbs! >= 0.7, `seed ${seed} guided-backprop ${s.layer?.name}: Spearman ${s.spearmanAbs}`);
      assert.ok(gbp.insensitiveTop.length >= 2, `seed ${seed}: ${gbp.insensitiveTop}`);
      assert.match(gbp.summary, /fails|depends weakly on them/);
      // …while saliency's changes as soon as the head is random
      assert.ok(top(sal).spearmanAbs! < SANITY_THRESHOLDS.spearmanAbs && top(sal).ssim < SANITY_THRESHOLDS.ssim, `seed ${seed} saliency: ${top(sal).spearmanAbs}, ${top(sal).ssim}`);
      assert.deepEqual(sal.insensitiveTop, []);
      assert.equal(sal.verdict, 'pass');
    }
  });
});
