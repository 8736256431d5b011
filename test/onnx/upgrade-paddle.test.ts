// The opset upgrade on real opset-9 exports (PaddleOCR's classifier and recogniser, written by
// Paddle2ONNX): the upgraded graphs compute what the originals compute, and the classifier's
// input gradient from the backward graph matches central finite differences of the original.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runGradients } from '../../src/engine/gradients/run';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { OnnxModel } from '../../src/engine/onnx/model';
import { modelOrigin } from '../../src/engine/onnx/origin';
import { GRADIENT_OPSET, upgradeOpset } from '../../src/engine/onnx/upgrade';
import { Session } from '../../src/engine/runtime/session';
import { Tensor } from '../../src/engine/core/tensor';
import { rng } from '../autodiff/fd';
import { runBytes } from './helpers';
import { PADDLE_ASSETS } from '../paddle';

const ASSETS = PADDLE_ASSETS;
const CLS = path.join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const REC = path.join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');

/** Pixels as the classifier sees them: (x/255 - 0.5)/0.5, uniform in [-1, 1]. */
function image(w: number, seed: string): Tensor {
  const r = rng(seed);
  return { dtype: 'float32', dims: [1, 3, 48, w], data: Float32Array.from({ length: 3 * 48 * w }, () => r() * 2 - 1) };
}

async function sameOutputs(file: string, x: Tensor): Promise<number> {
  const m = OnnxModel.load(file);
  assert.equal(m.opset(), 9);
  const up = upgradeOpset(m.clone());
  assert.equal(up.opset(), GRADIENT_OPSET);
  const out = m.graph.output[0].name!;
  const [a, b] = [(await runBytes(m.toBytes(), { x }))[out], (await runBytes(up.toBytes(), { x }))[out]];
  assert.deepEqual(b.dims, a.dims);
  const va = a.data as Float32Array, vb = b.data as Float32Array;
  let worst = 0;
  const peak = va.reduce((p, v) => Math.max(p, Math.abs(v)), 0);
  for (let i = 0; i < va.length; i++) {
    // relative to the value, with a floor far below anything a softmax output shows (1e-6 of its peak)
    const rel = Math.abs(va[i] - vb[i]) / Math.max(Math.abs(va[i]), 1e-6 * peak);
    worst = Math.max(worst, rel);
  }
  assert.ok(worst <= 1e-5, `${path.basename(file)}: upgraded outputs differ by ${worst.toExponential(2)} relative`);
  return worst;
}

test('PaddleOCR classifier (opset 9): the upgraded graph gives the original outputs', async () => {
  await sameOutputs(CLS, image(192, 'cls'));
  await sameOutputs(CLS, image(100, 'cls-narrow')); // another width: nothing is fixed to 192
});

test('PaddleOCR recogniser (opset 9, 6625 classes per step): the upgraded graph gives the original outputs', async () => {
  await sameOutputs(REC, image(320, 'rec'));
});

test('PaddleOCR models carry no producer_name: the origin is read from Paddle\'s tensor names', () => {
  const o = modelOrigin(OnnxModel.load(CLS));
  assert.deepEqual([o.exporter, o.guessed], ['paddle2onnx', true]);
});

test('PaddleOCR classifier: the input gradient matches central finite differences of the original', async () => {
  const lm = await LoadedModel.fromModel(OnnxModel.load(CLS));
  const x = image(192, 'cls-grad');
  const out = lm.outputs[0].name;
  const target = 1;
  const seed: Tensor = { dtype: 'float32', dims: [1, 2], data: Float32Array.from([0, 1]) };
  const grad = (await runGradients(lm, { x }, { output: out, wrt: ['x'] }, seed)).grads.x.data as Float32Array;
  // Finite differences on the original, un-upgraded model in its own session.
  const s = await Session.create(OnnxModel.load(CLS).toBytes());
  try {
    const f = async (data: Float32Array) => ((await s.run({ x: { ...x, data } }, [out]))[out].data as Float32Array)[target];
    const r = rng('pixels');
    const byMagnitude = Array.from(grad.keys()).sort((i, j) => Math.abs(grad[j]) - Math.abs(grad[i]));
    const picks = [...byMagnitude.slice(0, 4), ...Array.from({ length: 4 }, () => byMagnitude[Math.floor(r() * 2000)])];
    const h = 1e-2;
    const base = x.data as Float32Array;
    const scale = Math.abs(grad[byMagnitude[0]]);
    for (const i of picks) {
      const plus = base.slice(), minus = base.slice();
      plus[i] += h;
      minus[i] -= h;
      const fd = ((await f(plus)) - (await f(minus))) / (2 * h);
      assert.ok(Math.abs(fd - grad[i]) <= 0.02 * Math.abs(fd) + 0.002 * scale, `pixel ${i}: gradient ${grad[i].toExponential(4)}, finite differences ${fd.toExponential(4)}`);
    }
  } finally {
    await s.release();
  }
});
