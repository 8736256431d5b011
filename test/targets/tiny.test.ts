// Region and step targets on tiny models built here, against gradients and scores worked out by
// hand: a region's saliency is the gradient of the masked sum, a step's equals the one-hot case,
// occlusion and feature ablation score the same reduction, and bad targets get one line.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { OnnxModel } from '../../src/engine/onnx/model';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { decodeSteps } from '../../src/engine/targets/step';
import { TargetEnv } from '../../src/engine/targets/types';
import { outputKindOf } from '../../src/engine/targets/env';
import { tmpDir } from '../onnx/helpers';
import { close, feed, model, values } from '../methods/helpers';

// 4×4 one-channel input; channel 0 = w ⊙ x, channel 1 = x ⊙ x (a two-class map, no activation)
const W = Array.from({ length: 16 }, (_, i) => 0.5 + 0.25 * (i % 5));
const X = [0.2, 1.5, -0.7, 2.0, 0.9, -1.2, 0.4, 1.1, -0.3, 0.6, 1.8, -2.1, 0.05, 1.3, -0.9, 0.7];
const segmenter = () =>
  model([1, 4, 4], (b) => {
    const w = b.param('w', [1, 1, 4, 4], W);
    return b.op('Concat', [b.op('Mul', ['x', w]), b.op('Mul', ['x', 'x'])], { axis: attr.int(1) });
  });
/** class 1 where x² > w·x (argmax over the two channels; ties to class 0) */
const isOne = (i: number) => X[i] * X[i] > W[i] * X[i];

test('region:CLASS: saliency is |d/dx| of the class channel summed over its argmax mask', async () => {
  const lm = await segmenter();
  for (const cls of [0, 1]) {
    const r = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'saliency', target: `region:${cls}` });
    const expected = X.map((x, i) => (isOne(i) === (cls === 1) ? Math.abs(cls === 1 ? 2 * x : W[i]) : 0));
    close(values(r), expected, 1e-6, `region:${cls}`);
    assert.equal(r.targetSpec?.kind, 'region');
    assert.equal(r.outputKind, 'dense');
    const pixels = X.filter((_, i) => isOne(i) === (cls === 1)).length;
    assert.equal((r.targetSpec?.info as { pixels: number }).pixels, pixels);
    const regions = r.targets?.regions as unknown as Array<{ class: number; pixels: number }>;
    assert.deepEqual(regions.map((x) => [x.class, x.pixels]), [[0, X.filter((_, i) => !isOne(i)).length], [1, X.filter((_, i) => isOne(i)).length]]);
  }
  // input × gradient keeps the sign: x · 2x on the class-1 pixels
  const r = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'input-x-gradient', target: 'region:1' });
  close(values(r), X.map((x, i) => (isOne(i) ? 2 * x * x : 0)), 1e-6);
});

test('region:CLASS@x0,y0,x1,y1 keeps only the mask inside the box (input pixels, scaled to a smaller map)', async () => {
  const lm = await segmenter();
  // columns 1..2, rows 0..2 of the 4×4 map
  const r = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'input-x-gradient', target: 'region:1@1,0,3,3' });
  const inBox = (i: number) => i % 4 >= 1 && i % 4 < 3 && Math.floor(i / 4) < 3;
  close(values(r), X.map((x, i) => (isOne(i) && inBox(i) ? 2 * x * x : 0)), 1e-6);
  assert.equal(r.targetSpec?.text, 'region:1@1,0,3,3');
  // a 2×2 map (2×2 average pool) of an 8×8 input, one channel, logits: the mask is > 0 and a box
  // of input pixels [4, 0, 8, 4) is the map's cell (row 0, column 1)
  const pooled = await model([1, 8, 8], (b) => b.op('AveragePool', ['x'], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([4, 4]) }));
  const x8 = Array.from({ length: 64 }, (_, i) => (i % 8 < 4 ? -1 : 1) * (1 + (i % 3)));
  const whole = await attribute(pooled, feed([1, 1, 8, 8], x8), { method: 'saliency', target: 'region:0' });
  close(values(whole), x8.map((_, i) => (i % 8 >= 4 ? 1 / 16 : 0)), 1e-6, 'cells > 0 (the right half)');
  const boxed = await attribute(pooled, feed([1, 1, 8, 8], x8), { method: 'saliency', target: 'region:0@4,0,8,4' });
  close(values(boxed), x8.map((_, i) => (i % 8 >= 4 && i < 32 ? 1 / 16 : 0)), 1e-6, 'the top-right cell');
  assert.deepEqual((boxed.targets?.regions as unknown as Array<{ box: number[] }>)[0].box, [4, 0, 8, 8]);
});

test('one-channel probability maps: > 0.5, or the config\'s output.threshold', async () => {
  const dir = tmpDir('targets-threshold');
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', 1, 2, 2]);
  b.addOutput(b.op('Sigmoid', ['x']), 1);
  const file = path.join(dir, 'seg.onnx');
  fs.writeFileSync(file, m.toBytes());
  const x = [-1, 0.2, 0.6, 2]; // sigmoid: 0.27, 0.55, 0.65, 0.88
  const s = (v: number) => 1 / (1 + Math.exp(-v));
  const run = async () => attribute(await LoadedModel.open(file), feed([1, 1, 2, 2], x), { method: 'saliency', target: 'region:0' });
  close(values(await run()), x.map((v) => (s(v) > 0.5 ? s(v) * (1 - s(v)) : 0)), 1e-6, 'threshold 0.5');
  fs.writeFileSync(path.join(dir, 'seg.attrlens.json'), JSON.stringify({ output: { threshold: 0.7 } }));
  close(values(await run()), x.map((v) => (s(v) > 0.7 ? s(v) * (1 - s(v)) : 0)), 1e-6, 'threshold 0.7');
  fs.writeFileSync(path.join(dir, 'seg.attrlens.json'), JSON.stringify({ output: { treshold: 0.7 } }));
  await assert.rejects(run(), /seg\.attrlens\.json: unknown key "output\.treshold"; allowed keys in "output": kind, threshold/);
  fs.writeFileSync(path.join(dir, 'seg.attrlens.json'), JSON.stringify({ output: { kind: 'maps' } }));
  await assert.rejects(run(), /"output\.kind" must be one of "classification", "dense", "sequence"/);
});

test('occlusion and feature ablation score the region\'s reduction (hand-computed, 4×4 input, 2×2 windows)', async () => {
  const lm = await segmenter();
  // the mask is fixed from the clean prediction; the score is sum over it of channel 1 = x²
  const score = (x: number[]) => x.reduce((s, v, i) => s + (isOne(i) ? v * v : 0), 0);
  const win = (i: number) => Math.floor(Math.floor(i / 4) / 2) * 2 + Math.floor((i % 4) / 2);
  const expected = X.map((_, i) => score(X) - score(X.map((v, j) => (win(j) === win(i) ? 0 : v))));
  const occ = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'occlusion', target: 'region:1', params: { slidingWindowShapes: [1, 2, 2], strides: [1, 2, 2] } });
  close(values(occ), expected, 1e-5, 'occlusion');
  const mask = [X.map((_, i) => win(i))];
  const fa = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'feature-ablation', target: 'region:1', params: { featureMask: [[mask[0].slice(0, 4), mask[0].slice(4, 8), mask[0].slice(8, 12), mask[0].slice(12)]] } });
  close(values(fa), expected, 1e-5, 'feature-ablation');
  // region:0 scores w·x over its own mask
  const score0 = (x: number[]) => x.reduce((s, v, i) => s + (!isOne(i) ? W[i] * v : 0), 0);
  const occ0 = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'occlusion', target: 'region:0', params: { slidingWindowShapes: [1, 2, 2], strides: [1, 2, 2] } });
  close(values(occ0), X.map((_, i) => score0(X) - score0(X.map((v, j) => (win(j) === win(i) ? 0 : v)))), 1e-5, 'occlusion region:0');
});

test('CAMs take the region\'s gradient: GradCAM of region:1 is the layer weighted by its mean gradient', async () => {
  // layer = the input itself (one channel): weight = mean over pixels of d(target)/dx = mean(2x on the mask)
  const lm = await segmenter();
  const r = await attribute(lm, feed([1, 1, 4, 4], X), { method: 'gradcam', target: 'region:1', params: { layer: 'x' } });
  const wgt = X.reduce((s, x, i) => s + (isOne(i) ? 2 * x : 0), 0) / 16;
  close(values(r), X.map((x) => wgt * x), 1e-5);
});

// x (6 values) → [N, 3 steps, 4 classes] through a fixed matrix and a softmax per step
const M = Array.from({ length: 6 * 12 }, (_, i) => Math.sin(i * 1.7) * 0.8);
const XS = [0.3, -1.1, 0.8, 1.4, -0.2, 0.6];
const sequencer = () =>
  model([6], (b) => {
    const m = b.param('m', [6, 12], M);
    return b.op('Softmax', [b.reshape(b.op('MatMul', ['x', m]), [-1, 3, 4])], { axis: attr.int(2) });
  });

test('step:T=CLASS equals the one-hot case on the flat index; step:T takes the step\'s top class', async () => {
  const lm = await sequencer();
  for (const method of ['saliency', 'integrated-gradients', 'occlusion']) {
    const params = method === 'occlusion' ? { slidingWindowShapes: [2], strides: [2] } : {};
    const step = await attribute(lm, feed([1, 6], XS), { method, target: 'step:1=2', params });
    const flat = await attribute(lm, feed([1, 6], XS), { method, target: 1 * 4 + 2, params });
    assert.deepEqual(values(step), values(flat), method);
    assert.equal(step.target, 2);
    if (step.delta !== undefined) assert.equal(step.delta, flat.delta);
  }
  const clean = (await lm.forward(feed([1, 6], XS), [lm.outputs[0].name]))[lm.outputs[0].name].data as Float32Array;
  for (let t = 0; t < 3; t++) {
    const row = Array.from(clean.subarray(t * 4, t * 4 + 4));
    const top = row.indexOf(Math.max(...row));
    const r = await attribute(lm, feed([1, 6], XS), { method: 'saliency', target: `step:${t}` });
    assert.equal(r.targetSpec?.text, `step:${t}=${top}`);
    const flat = await attribute(lm, feed([1, 6], XS), { method: 'saliency', target: t * 4 + top });
    assert.deepEqual(values(r), values(flat));
    // a per-token sequence (the input is not an image): every step is listed with its top class
    const steps = r.targets?.steps as unknown as Array<{ step: number; index: number; probability: number }>;
    assert.equal(steps.length, 3);
    assert.equal(steps[t].index, top);
    assert.ok(Math.abs(steps[t].probability - row[top]) < 1e-6);
  }
});

test('CTC decoding: blanks dropped, repeats collapsed, each character at its most probable step', async () => {
  const lm = await sequencer();
  // blank, a, a, blank, b, b, a over classes [blank, a, b]; probabilities written out
  const p = [
    [0.9, 0.05, 0.05],
    [0.2, 0.7, 0.1],
    [0.1, 0.8, 0.1],
    [0.6, 0.2, 0.2],
    [0.1, 0.1, 0.8],
    [0.3, 0.1, 0.6],
    [0.2, 0.5, 0.3],
  ];
  const env: TargetEnv = {
    lm,
    input: 'x',
    inputDims: [1, 6],
    output: 'o',
    kind: { kind: 'sequence', output: 'o', dims: [1, 7, 3], activation: 'softmax', why: 'test', settings: { decode: 'ctc', blank: 0 } },
    clean: { o: { dtype: 'float32', dims: [1, 7, 3], data: Float32Array.from(p.flat()) } },
    labels: ['<blank>', 'a', 'b'],
  };
  assert.deepEqual(
    decodeSteps(env).map((d) => [d.label, d.step, d.from, d.to, Number(d.probability.toFixed(6))]),
    [
      ['a', 2, 1, 2, 0.8],
      ['b', 4, 4, 5, 0.8],
      ['a', 6, 6, 6, 0.5],
    ],
  );
});

test('output kinds from shapes: [1,C] classification, [1,C,H,W] dense, [1,T,V] sequence', async () => {
  const lm = await sequencer();
  assert.equal(outputKindOf(lm, 'o', [1, 10]).kind, 'classification');
  assert.equal(outputKindOf(lm, 'o', [1, 3, 8, 8]).kind, 'dense');
  assert.equal(outputKindOf(lm, 'o', [1, 1, 8, 8]).kind, 'dense');
  assert.equal(outputKindOf(lm, 'o', [1, 40, 6625]).kind, 'sequence');
  assert.equal(outputKindOf(lm, 'o', [1, 40, 6625]).settings.decode, 'argmax', 'the input is not an image: per token');
  assert.equal(outputKindOf(lm, 'o', [1, 2048, 1, 1]).kind, 'classification');
});

test('bad targets: one line saying what is wrong and what can be targeted', async () => {
  const seg = await segmenter();
  const seq = await sequencer();
  const cls = await model([3], (b) => b.op('MatMul', ['x', b.param('m', [3, 2], [1, 2, 3, 4, 5, 6])]));
  const cases: Array<[LoadedModel, number[], string, RegExp]> = [
    [cls, [1, 3], 'step:0', /^target 'step:0' does not fit: step:T\[=CLASS\] needs a sequence output; classification output '.*' \[1,2\] takes INDEX or LABEL; class: an index in 0\.\.1$/],
    [seq, [1, 6], 'step:3', /^step 3 is outside the output's 3 steps \(0\.\.2\); sequence output .* steps 0\.\.2; decoded .* at steps 0, 1, 2$/],
    [seq, [1, 6], 'step:1=9', /^class 9 in 'step:1=9' is outside the output's 4 classes \(0\.\.3\); .*steps 0\.\.2/],
    [seq, [1, 6], 'step:x', /^malformed target 'step:x': write step:T or step:T=CLASS .*; sequence output/],
    [seg, [1, 1, 4, 4], 'region:2', /^region class 2 is outside the map's 2 classes \(0\.\.1\); dense output .* regions: 0 \(\d+ px\), 1 \(\d+ px\)$/],
    [seg, [1, 1, 4, 4], 'region:1@0,0,0,2', /^the box in 'region:1@0,0,0,2' is empty/],
    [seg, [1, 1, 4, 4], 'region:', /^malformed target 'region:': write region:CLASS or region:CLASS@x0,y0,x1,y1/],
    [seg, [1, 1, 4, 4], 'box:0', /^unknown target kind 'box'|target 'box:0' does not fit/],
    [seg, [1, 1, 4, 4], 'bogus:1', /^unknown target kind 'bogus' in 'bogus:1' \(kinds: .*region:CLASS.*step:T.*\); dense output/],
  ];
  for (const [lm, dims, target, re] of cases) {
    const data = Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (dims.length === 4 ? X[i] : 0.1 * (i + 1)));
    await assert.rejects(attribute(lm, feed(dims, data), { method: 'saliency', target }), (e: Error) => {
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.match(e.message, re);
      return true;
    });
  }
  // a region class predicted nowhere: a map whose class 1 never wins
  const never = await model([1, 2, 2], (b) => b.op('Concat', ['x', b.op('Sub', ['x', b.param('one', [1], [1])])], { axis: attr.int(1) }));
  await assert.rejects(attribute(never, feed([1, 1, 2, 2], [1, 2, 3, 4]), { method: 'saliency', target: 'region:1' }), /^AttrLensError: region class 1 has no pixels: it is predicted nowhere in this output; dense output .* regions: 0 \(4 px\)$/);
});
