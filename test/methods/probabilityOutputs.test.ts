// Models that end in Softmax, Sigmoid or LogSoftmax: predictions show the model's own
// probabilities, targets explain the output the model has, and the probability paths (RISE,
// deletion/insertion) use those probabilities instead of a softmax over them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { predict } from '../../src/engine/methods/registry';
import { resolveIO, rowsFrom, targetOf } from '../../src/engine/metrics/common';
import { runBytes } from '../onnx/helpers';
import { close, feed, gemm, model, run, values } from './perturb-models';
import { PADDLE_ASSETS } from '../paddle';

const CLS = path.join(PADDLE_ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

// z = (k · Σ of the top-right 4×4 quarter of an 8×8 image − 2, 0, 0.5 · Σ of the first row − 1)
const region = (p: number) => Math.floor(p / 8) < 4 && p % 8 >= 4;
const W = [Array.from({ length: 64 }, (_, p) => (region(p) ? 0.25 : 0)), new Array<number>(64).fill(0), Array.from({ length: 64 }, (_, p) => (p < 8 ? 0.5 : 0))];
const BIAS = [-2, 0, -1];
const ONES = feed([1, 1, 8, 8], new Array<number>(64).fill(1));
const Z = [2, 0, 3]; // z at ONES
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const softmax = (v: number[]) => v.map((x) => Math.exp(x) / v.reduce((a, y) => a + Math.exp(y), 0));

/** z followed by `tail`: an activation, possibly behind a shape-only op. */
const ending = (tail: 'Sigmoid' | 'Softmax' | 'LogSoftmax' | 'Softmax+Reshape' | 'Softmax+Flatten' | 'none') =>
  model([1, 8, 8], (b) => {
    const z = gemm(b, 'x', W, BIAS, 'z');
    switch (tail) {
      case 'none':
        return z;
      case 'Softmax+Reshape':
        return b.op('Reshape', [b.op('Softmax', [z], { axis: attr.int(1) }), b.i64([-1, 3])]);
      case 'Softmax+Flatten':
        return b.op('Flatten', [b.unsqueeze(b.op('Softmax', [z], { axis: attr.int(1) }), [2])], { axis: attr.int(1) });
      default:
        return b.op(tail, [z], tail === 'Sigmoid' ? {} : { axis: attr.int(1) });
    }
  });

describe('outputs that are probabilities', () => {
  it('predictions are the model\'s own probabilities: sigmoid ones independent, log-softmax exponentiated', async () => {
    const cases: Array<[Parameters<typeof ending>[0], number[], boolean]> = [
      ['Sigmoid', Z.map(sigmoid), true],
      ['Softmax', softmax(Z), false],
      ['Softmax+Reshape', softmax(Z), false],
      ['Softmax+Flatten', softmax(Z), false],
      ['LogSoftmax', softmax(Z), false],
      ['none', softmax(Z), false],
    ];
    for (const [tail, probs, independent] of cases) {
      const lm = await ending(tail);
      const raw = Array.from((await lm.forward(ONES))[lm.outputs[0].name].data as Float32Array);
      const preds = await predict(lm, ONES, 3);
      assert.deepEqual(preds.map((p) => p.index), [2, 0, 1], tail);
      close(preds.map((p) => p.probability), [probs[2], probs[0], probs[1]], 1e-6, `${tail} probabilities`);
      close(preds.map((p) => p.logit), [raw[2], raw[0], raw[1]], 0, `${tail} logits are the raw outputs`);
      assert.ok(preds.every((p) => (p.independent ?? false) === independent), `${tail}: independent ${independent}`);
    }
  });

  it('a target explains the sigmoid output itself: the gradient is σ\'(z) W, as Captum gives', async () => {
    const lm = await ending('Sigmoid');
    const s = sigmoid(Z[0]);
    close(values(await run(lm, ONES, 'saliency', 0, { abs: false })), W[0].map((w) => s * (1 - s) * w), 1e-6);
  });

  it('rise with probability 1 gives the model\'s own probability everywhere, not a softmax of it', async () => {
    for (const [tail, want] of [['Sigmoid', sigmoid(Z[0])], ['Softmax+Reshape', softmax(Z)[0]], ['LogSoftmax', softmax(Z)[0]], ['none', softmax(Z)[0]]] as const) {
      const lm = await ending(tail);
      close(values(await run(lm, ONES, 'rise', 0, { nMasks: 5, probability: 1 })), new Array(64).fill(want), 1e-6, tail);
    }
  });

  it('deletion/insertion scores sigmoid outputs as they are', async () => {
    const lm = await ending('Sigmoid');
    const io = resolveIO(lm, ONES, { target: 0 }, 'test');
    // rows: the image, then the top-right quarter zeroed (z0 = −2)
    const rows = rowsFrom(io.x, 2, (i, row) => i === 1 && row.forEach((_, p) => region(p) && (row[p] = 0)));
    close(Array.from(await targetOf(lm, ONES, io, rows, { target: 0 }, true)), [sigmoid(2), sigmoid(-2)], 1e-6);
  });

  it('the PaddleOCR direction classifier (Softmax, opset 9): predictions are its own outputs', async () => {
    const lm = await LoadedModel.open(CLS);
    const x = { dtype: 'float32' as const, dims: [1, 3, 48, 192], data: Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.01)) };
    const want = Object.values(await runBytes(fs.readFileSync(CLS), { x }))[0].data as Float32Array;
    const preds = await predict(lm, { x }, 2);
    close(preds.map((p) => p.probability), [...want].sort((a, b) => b - a), 1e-5);
  });
});
