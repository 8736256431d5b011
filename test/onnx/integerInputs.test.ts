// Integer pixel inputs (TF-style exports: uint8 NHWC → Cast → Transpose → normalise) made float
// in place of their Cast: outputs unchanged, maps equal to the float-input model's, gradients
// against finite differences, refusals for inputs also used as integers, token models untouched.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { oneHotSeed, runGradients } from '../../src/engine/gradients/run';
import { inspectModel } from '../../src/engine/model/inspect';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { promoteIntegerInputs } from '../../src/engine/onnx/integerInputs';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Tensor } from '../../src/engine/core/tensor';
import { close, runBytes } from './helpers';
import { C, H, K, W, pixelModel, pixels, rand } from './pixelModels';

const f32 = (t: Tensor) => Array.from(t.data as Float32Array);

describe('integer pixel inputs', () => {
  it('become float32 in place of their Cast, with the forward outputs of the original on integers', async () => {
    const orig = pixelModel({ elemType: 2, cast: true });
    const { model, promoted } = promoteIntegerInputs(orig);
    assert.deepEqual([...promoted], [['x', 'uint8']]);
    assert.equal(model.graph.input[0].type?.tensorType?.elemType, 1);
    assert.ok(!model.graph.node.some((n) => n.opType === 'Cast'), 'the Cast is gone');
    assert.equal(orig.graph.input[0].type?.tensorType?.elemType, 2, 'the original model is not changed');
    const lm = await LoadedModel.fromModel(orig);
    assert.equal(lm.inputs[0].dtype, 'float32');
    assert.equal(lm.inputs[0].promotedFrom, 'uint8');
    assert.ok(lm.maxBatch > 1, 'the promoted model still batches');
    const { u8, f } = pixels(3, 7);
    const want = (await runBytes(orig.toBytes(), { x: u8 })).logits;
    const got = (await lm.forward({ x: f })).logits;
    close(f32(got), f32(want), 1e-6);
  });

  it('give the float-input model\'s saliency, input × gradient and integrated gradients', async () => {
    const lm = await LoadedModel.fromModel(pixelModel({ elemType: 2, cast: true }));
    const ref = await LoadedModel.fromModel(pixelModel({ elemType: 1 }));
    const { f } = pixels(1, 11);
    for (const method of ['saliency', 'input-x-gradient', 'integrated-gradients']) {
      for (const target of [0, 2]) {
        const a = await attribute(lm, { x: f }, { method, target });
        const r = await attribute(ref, { x: f }, { method, target });
        assert.deepEqual(a.attributions.x.dims, [1, H, W, C], `${method}: NHWC stays NHWC`);
        close(f32(a.attributions.x), f32(r.attributions.x), 1e-5);
      }
    }
  });

  it('take the model\'s own integers as feeds to attribute and predict', async () => {
    const lm = await LoadedModel.fromModel(pixelModel({ elemType: 2, cast: true }));
    const { u8, f } = pixels(1, 13);
    const a = await attribute(lm, { x: u8 }, { method: 'input-x-gradient', target: 1 });
    const b = await attribute(lm, { x: f }, { method: 'input-x-gradient', target: 1 });
    close(f32(a.attributions.x), f32(b.attributions.x), 0);
    close(a.predictions.map((p) => p.logit), b.predictions.map((p) => p.logit), 0);
  });

  it('have gradients in pixels that match finite differences', async () => {
    for (const o of [{ elemType: 2, cast: true }, { elemType: 6, cast: true, extraUse: 'brightness' as const }, { elemType: 2, double: true }]) {
      const lm = await LoadedModel.fromModel(pixelModel(o));
      assert.equal(lm.inputs[0].dtype, 'float32');
      const { f } = pixels(1, 5);
      const target = 1;
      const g = f32((await runGradients(lm, { x: f }, { output: 'logits', wrt: ['x'] }, (rows, dims) => oneHotSeed(dims, rows, target))).grads.x);
      const r = rand(99);
      const at = async (x: Float32Array) => ((await lm.forward({ x: { ...f, data: x } })).logits.data as Float32Array)[target];
      const h = 0.05; // pixels: the network sees h / 64
      for (let k = 0; k < 3; k++) {
        const u = Float32Array.from(g, () => r() * 2 - 1);
        const x = f.data as Float32Array;
        const fd = ((await at(x.map((v, i) => v + h * u[i]))) - (await at(x.map((v, i) => v - h * u[i])))) / (2 * h);
        const analytic = g.reduce((s, gi, i) => s + gi * u[i], 0);
        const scale = g.reduce((s, gi, i) => s + Math.abs(gi * u[i]), 0);
        assert.ok(Math.abs(fd - analytic) <= 1e-2 * Math.abs(fd) + 1e-3 * scale, `elemType ${o.elemType}: <g, u> ${analytic} vs finite differences ${fd}`);
      }
    }
  });

  it('keeps a Cast to double (now from float32) and removes every Cast of several to float', () => {
    const d = promoteIntegerInputs(pixelModel({ elemType: 2, double: true })).model;
    const casts = d.graph.node.filter((n) => n.opType === 'Cast');
    assert.equal(casts.length, 2, 'the Cast to double and the one back stay');
    assert.equal(casts[0].input[0], 'x');
    const two = promoteIntegerInputs(pixelModel({ elemType: 6, cast: true, extraUse: 'brightness' }));
    assert.deepEqual([...two.promoted], [['x', 'int32']]);
    assert.ok(!two.model.graph.node.some((n) => n.opType === 'Cast'));
  });

  it('refuses an input also used as integers, in one line naming it and the use', async () => {
    const lm = await LoadedModel.fromModel(pixelModel({ elemType: 6, cast: true, extraUse: 'equal' }));
    assert.equal(lm.inputs[0].dtype, 'int32');
    assert.equal(lm.inputs[0].promotedFrom, undefined);
    assert.match(lm.inputs[0].integerUse ?? '', /^input 'x' \(int32\) is cast to float but also used as integers by Equal '[^']+', so it cannot take an image or be differentiated: give it a \.npy of int32 values$/);
    const info = await inspectModel(lm);
    assert.equal(info.gradients.supported, false);
    assert.equal(info.gradients.message, lm.inputs[0].integerUse);
    // the model still runs on its integers; gradient methods say what to use instead
    const { u8 } = pixels(1, 3);
    const x: Tensor = { ...u8, dtype: 'int32', data: Int32Array.from(u8.data as Uint8Array) };
    assert.equal((await lm.forward({ x })).logits.dims[1], K);
    await assert.rejects(attribute(lm, { x }, { method: 'saliency', target: 0 }), /needs gradients with respect to a float input, but 'x' is int32: .*occlusion/);
  });

  it('leaves token models (integer ids into an embedding) as they are, mask included', async () => {
    const file = path.resolve(__dirname, '..', '..', 'samples', 'text', 'model.onnx');
    const orig = OnnxModel.load(file);
    const r = promoteIntegerInputs(orig);
    assert.equal(r.model, orig);
    assert.equal(r.promoted.size, 0);
    const lm = await LoadedModel.open(file);
    assert.deepEqual(lm.inputs.map((i) => [i.name, i.dtype, i.promotedFrom]), [['input_ids', 'int64', undefined], ['attention_mask', 'int64', undefined]]);
  });

  it('shows in inspect that the input was uint8 and is differentiated after its Cast', async () => {
    const info = await inspectModel(await LoadedModel.fromModel(pixelModel({ elemType: 2, cast: true })));
    assert.equal(info.inputs[0].note, 'uint8, differentiated after its Cast');
    assert.equal(info.gradients.supported, true);
  });
});
