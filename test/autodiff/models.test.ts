// Whole models: gradients through the backward graph against Captum's saliency and
// input-x-gradient (conformance cases), and a finite-difference check on ResNet-18.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { oneHotSeed, runGradients } from '../../src/engine/gradients/run';
import { readNpy } from '../../src/engine/inputs/npy';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { asFloat32, Tensor } from '../../src/engine/core/tensor';
import { rng } from './fd';

import { CONF, RESNET, confAbsent as absent, sharedAbsent } from '../onnx/helpers';

interface Case {
  id: string;
  model: string;
  inputs: Record<string, string>;
  method: string;
  target: number;
  params: { abs?: boolean };
  expected: string;
  tolerance: number;
}

const cases: Case[] = absent ? [] : (JSON.parse(fs.readFileSync(path.join(CONF, 'cases.json'), 'utf8')).cases as Case[]).filter((c) => ['saliency', 'input-x-gradient'].includes(c.method));

/** Gradient of logits[0, target] with respect to the model's single float input. */
async function gradientOf(c: Case): Promise<{ x: Tensor; g: Float32Array }> {
  const lm = await LoadedModel.open(path.join(CONF, c.model));
  const [name] = Object.keys(c.inputs);
  const x = readNpy(path.join(CONF, c.inputs[name]));
  const output = lm.outputs[0].name;
  const res = await runGradients(lm, { [name]: x }, { output, wrt: [name] }, (rows, dims) => oneHotSeed(dims, rows, c.target));
  return { x, g: asFloat32(res.grads[name]) };
}

test('conformance models have float-input saliency and input-x-gradient cases', { skip: absent || false }, () => {
  const models = new Set(cases.map((c) => path.basename(c.model, '.onnx')));
  for (const m of ['tiny_cnn', 'sigmoid_net', 'mini_resnet', 'mobilenet_v3_small', 'tiny_vit']) assert.ok(models.has(m), `no case for ${m}`);
});

for (const c of cases) {
  test(`${c.id} matches Captum through the backward graph`, async () => {
    const { x, g } = await gradientOf(c);
    const expected = asFloat32(readNpy(path.join(CONF, c.expected)));
    const xs = asFloat32(x);
    assert.equal(g.length, expected.length, 'gradient and expected sizes differ');
    const actual = c.method === 'saliency' ? g.map((v) => (c.params.abs === false ? v : Math.abs(v))) : g.map((v, i) => v * xs[i]);
    let maxDiff = 0, maxExp = 0;
    for (let i = 0; i < actual.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
      maxExp = Math.max(maxExp, Math.abs(expected[i]));
    }
    assert.ok(maxExp > 0, 'expected attribution is all zeros');
    assert.ok(maxDiff <= c.tolerance * maxExp, `${c.id}: max|actual-expected| = ${maxDiff.toExponential(3)} > ${c.tolerance} * ${maxExp.toExponential(3)}`);
  });
}

const resnet = RESNET;
test('resnet18: <J^T v, u> along random directions and 24 single gradient entries match finite differences (batch of 2)', { skip: sharedAbsent(resnet) }, async () => {
  const lm = await LoadedModel.open(resnet);
  const rand = rng('resnet18');
  const per = 3 * 224 * 224;
  const x: Tensor = { dtype: 'float32', dims: [2, 3, 224, 224], data: new Float32Array(2 * per).map(() => rand() * 2 - 1) };
  const v: Tensor = { dtype: 'float32', dims: [2, 1000], data: new Float32Array(2000).map(() => rand() * 2 - 1) };
  const { grads, output } = await runGradients(lm, { input: x }, { output: 'logits', wrt: ['input'] }, v);
  const g = asFloat32(grads.input);
  // Millions of ReLU/MaxPool kinks: finite differences converge only linearly in h here
  // (measured: 15% off at h=1e-3, 2.6% at 1e-4), so a small step and a 5% tolerance.
  const h = 1e-4;
  for (let s = 0; s < 2; s++) {
    const u = new Float32Array(2 * per);
    for (let i = s * per; i < (s + 1) * per; i++) u[i] = rand() * 2 - 1;
    const shifted = (sign: number): Tensor => ({ ...x, data: (x.data as Float32Array).map((xi, i) => xi + sign * h * u[i]) });
    const [yp, ym] = [await lm.forward({ input: shifted(1) }), await lm.forward({ input: shifted(-1) })].map((r) => asFloat32(r.logits));
    let fd = 0, analytic = 0;
    for (let i = 0; i < 2000; i++) fd += ((yp[i] - ym[i]) / (2 * h)) * (v.data as Float32Array)[i];
    for (let i = 0; i < g.length; i++) analytic += g[i] * u[i];
    assert.ok(Math.abs(fd - analytic) <= 5e-2 * Math.abs(analytic), `sample ${s}: <J^T v, u> = ${analytic} but finite differences give ${fd}`);
  }
  assert.deepEqual(output.dims, [2, 1000]);
  assert.ok(lm.maxBatch > 1, 'resnet18 should batch after the batch rewrite');

  // Entry by entry: the 12 largest |∂(v·y)/∂x_i| of sample 0 and 12 random pixels, each against
  // a central difference in that one pixel (+h and −h fed as one batch of 2). One pixel moves few
  // ReLU/MaxPool kinks; float32 round-off in v·y (~1e-5) sets h (measured on the top entries:
  // within 1.1 % of max |g| at h = 1e-2, 2.5 % at 1e-3, 18 % at 1e-4). A kink crossed now and then
  // costs a few per cent on one entry; a wrong rule costs tens of per cent on most.
  const g0 = g.subarray(0, per);
  const v0 = (v.data as Float32Array).subarray(0, 1000);
  let gmax = 0;
  for (const gi of g0) gmax = Math.max(gmax, Math.abs(gi));
  const top = Array.from(g0.keys()).sort((a, b) => Math.abs(g0[b]) - Math.abs(g0[a])).slice(0, 12);
  const picked = [...top, ...Array.from({ length: 12 }, () => Math.floor(rand() * per))];
  const hp = 1e-2;
  let worst = 0, sum = 0;
  for (const i of picked) {
    const pair = new Float32Array(2 * per);
    pair.set((x.data as Float32Array).subarray(0, per), 0);
    pair.set((x.data as Float32Array).subarray(0, per), per);
    pair[i] += hp;
    pair[per + i] -= hp;
    const y = asFloat32((await lm.forward({ input: { dtype: 'float32', dims: [2, 3, 224, 224], data: pair } })).logits);
    let fd = 0;
    for (let k = 0; k < 1000; k++) fd += ((y[k] - y[1000 + k]) / (2 * hp)) * v0[k];
    worst = Math.max(worst, Math.abs(fd - g0[i]) / gmax);
    sum += Math.abs(fd - g0[i]) / gmax;
    assert.ok(Math.abs(fd - g0[i]) <= 5e-2 * gmax, `pixel ${i}: ∂/∂x = ${g0[i]} but finite differences give ${fd} (max |g| ${gmax})`);
  }
  assert.ok(sum / picked.length <= 1e-2, `mean error ${((sum / picked.length) * 100).toFixed(2)} % of max |g|`);
  console.log(`resnet18: 24 gradient entries against finite differences: worst ${(worst * 100).toFixed(2)} %, mean ${((sum / picked.length) * 100).toFixed(2)} % of max |g|`);
});
