import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noisyInputs } from '../../src/engine/methods/noiseTunnel';
import { Rng } from '../../src/engine/methods/rng';
import { close, feed, linearModel, mlpModel, reluFlatModel, run, values } from './grad-models';

const W1 = [[0.5, -1, 0.25, 2], [1.5, 0.5, -0.5, 0], [-1, 1, 1, 0.5]];
const B1 = [0.1, -0.2, 0.3];
const W2 = [[1, -2, 0.5], [0.25, 1, -1]];
const X = [0.8, -0.3, 1.2, 0.4];
const mlp = () => mlpModel(W1, B1, W2);

/** mean / mean of squares / variance over per-sample attribution vectors */
function moments(samples: number[][], type: string): number[] {
  const n = samples.length;
  return samples[0].map((_, i) => {
    const mean = samples.reduce((s, a) => s + a[i], 0) / n;
    const sq = samples.reduce((s, a) => s + a[i] * a[i], 0) / n;
    return type === 'smoothgrad' ? mean : type === 'smoothgrad_sq' ? sq : sq - mean * mean;
  });
}

test('noise-tunnel smoothgrad of input-x-gradient with stdevs 0 equals input-x-gradient', async () => {
  const lm = await mlp();
  const plain = values(await run(lm, feed([1, 4], X), 'input-x-gradient', 1));
  const nt = values(await run(lm, feed([1, 4], X), 'noise-tunnel', 1, { baseMethod: 'input-x-gradient', stdevs: 0, ntSamples: 3 }));
  close(nt, plain, 1e-6);
  // and it is not trivially zero: x * W2[1]·diag(relu')·W1 by hand
  const h = W1.map((r, j) => r.reduce((s, w, i) => s + w * X[i], B1[j]));
  const g = X.map((_, i) => W2[1].reduce((s, w2, j) => s + (h[j] > 0 ? w2 * W1[j][i] : 0), 0));
  close(plain, X.map((x, i) => x * g[i]), 1e-5);
});

test('noise-tunnel over integrated-gradients with stdevs 0 equals integrated-gradients, delta included', async () => {
  const lm = await mlp();
  const ig = await run(lm, feed([1, 4], X), 'integrated-gradients', 0, { nSteps: 20 });
  const nt = await run(lm, feed([1, 4], X), 'noise-tunnel', 0, { baseMethod: 'integrated-gradients', baseParams: '{"nSteps": 20}', stdevs: 0, ntSamples: 2 });
  close(values(nt), values(ig), 1e-6);
  assert.ok(ig.delta !== undefined && nt.delta !== undefined);
  assert.ok(Math.abs(nt.delta - ig.delta) < 1e-6);
});

test('noise-tunnel vargrad with stdevs 0 is 0 (one-gradient and generic paths)', async () => {
  const lm = await mlp();
  for (const baseMethod of ['saliency', 'integrated-gradients']) {
    const v = values(await run(lm, feed([1, 4], X), 'noise-tunnel', 0, { baseMethod, ntType: 'vargrad', stdevs: 0, ntSamples: 4 }));
    assert.deepEqual(v, [0, 0, 0, 0], baseMethod);
  }
});

test('noise-tunnel on a linear model: the gradient ignores noise, so smoothgrad = w, smoothgrad_sq = w², vargrad = 0', async () => {
  const w = [[2, -3, 0.5], [1, 1, -1]];
  const lm = await linearModel(w, [0.3, -0.1]);
  const x = feed([1, 3], [0.4, 1.1, -0.7]);
  close(values(await run(lm, x, 'noise-tunnel', 0, { baseParams: '{"abs": false}', stdevs: 1.5, ntSamples: 7 })), w[0], 1e-6);
  close(values(await run(lm, x, 'noise-tunnel', 0, { stdevs: 1.5, ntSamples: 7 })), [2, 3, 0.5], 1e-6, 'abs (saliency default)');
  close(values(await run(lm, x, 'noise-tunnel', 0, { ntType: 'smoothgrad_sq', stdevs: 1.5 })), [4, 9, 0.25], 1e-6);
  close(values(await run(lm, x, 'noise-tunnel', 0, { ntType: 'vargrad', stdevs: 1.5 })), [0, 0, 0], 1e-6);
});

test('noise-tunnel of input-x-gradient on a linear model approaches w·x; vargrad approaches w²σ²', async () => {
  const w = [[2, -3, 0.5]];
  const lm = await linearModel(w);
  const xs = [0.4, 1.1, -0.7];
  const n = 4000, sd = 0.5;
  const mean = values(await run(lm, feed([1, 3], xs), 'noise-tunnel', 0, { baseMethod: 'input-x-gradient', stdevs: sd, ntSamples: n, seed: 3 }));
  xs.forEach((x, i) => assert.ok(Math.abs(mean[i] - w[0][i] * x) < (5 * Math.abs(w[0][i]) * sd) / Math.sqrt(n), `mean[${i}] ${mean[i]}`));
  const v = values(await run(lm, feed([1, 3], xs), 'noise-tunnel', 0, { baseMethod: 'input-x-gradient', ntType: 'vargrad', stdevs: sd, ntSamples: n, seed: 3 }));
  w[0].forEach((wi, i) => assert.ok(Math.abs(v[i] / (wi * wi * sd * sd) - 1) < 0.1, `vargrad[${i}] ${v[i]}`));
});

test('noise-tunnel equals the wrapped method run on each noisy sample (batched one-gradient path and per-sample path)', async () => {
  const lm = await mlp();
  const x = feed([1, 4], X);
  const n = 5, sd = 0.7, seed = 11;
  const rows = noisyInputs(x.x, n, sd, new Rng(seed)).data as Float32Array;
  const cases: Array<[string, Record<string, unknown>]> = [
    ['saliency', {}],
    ['input-x-gradient', {}],
    ['guided-backprop', {}],
    ['deconvolution', {}],
    ['integrated-gradients', { nSteps: 8 }],
  ];
  for (const [baseMethod, baseParams] of cases) {
    const samples: number[][] = [];
    for (let s = 0; s < n; s++) samples.push(values(await run(lm, feed([1, 4], Array.from(rows.subarray(s * 4, s * 4 + 4))), baseMethod, 1, baseParams)));
    for (const ntType of ['smoothgrad', 'smoothgrad_sq', 'vargrad']) {
      for (const ntSamplesBatchSize of [undefined, 2]) {
        const got = values(await run(lm, x, 'noise-tunnel', 1, { baseMethod, baseParams: JSON.stringify(baseParams), ntType, stdevs: sd, ntSamples: n, seed, ntSamplesBatchSize }));
        close(got, moments(samples, ntType), 1e-5, `${baseMethod} ${ntType} batch ${ntSamplesBatchSize}`);
      }
    }
  }
});

test('noise-tunnel draws baselines from the distribution per sample', async () => {
  // IG is exact on a linear model: (x - b)·w, so the result reveals the share p of samples that drew b = 2
  const w = [[2, -3, 0.5, 1]];
  const lm = await linearModel(w);
  const xs = [0.4, 1.1, -0.7, 0.2];
  const n = 200;
  const r = values(await run(lm, feed([1, 4], xs), 'noise-tunnel', 0, {
    baseMethod: 'integrated-gradients',
    baseParams: JSON.stringify({ baselines: [[0, 0, 0, 0], [2, 2, 2, 2]], nSteps: 4 }),
    drawBaselineFromDistrib: true,
    stdevs: 0,
    ntSamples: n,
    seed: 5,
  }));
  const p = xs.map((x, i) => (x - r[i] / w[0][i]) / 2);
  p.forEach((pi) => assert.ok(Math.abs(pi - p[0]) < 1e-4, `one draw per sample for the whole input: ${p}`));
  assert.ok(p[0] > 0.35 && p[0] < 0.65, `about half the samples draw each baseline: ${p[0]}`);
  assert.ok(Math.abs(p[0] * n - Math.round(p[0] * n)) < 1e-2, 'a whole number of samples');
});

test('noise-tunnel: same seed, same result; another seed, another result', async () => {
  const lm = await mlp();
  const p = { baseMethod: 'saliency', stdevs: 0.8, ntSamples: 4 };
  const a = values(await run(lm, feed([1, 4], X), 'noise-tunnel', 0, { ...p, seed: 1 }));
  const b = values(await run(lm, feed([1, 4], X), 'noise-tunnel', 0, { ...p, seed: 1 }));
  const c = values(await run(lm, feed([1, 4], X), 'noise-tunnel', 0, { ...p, seed: 2 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('noise-tunnel wraps a CAM method: layer-shaped result and layer name pass through', async () => {
  const w = [[1, -1, 2, 0.5, -0.5, 1, 0.25, 3]];
  const lm = await reluFlatModel([2, 2, 2], w);
  const x = feed([1, 2, 2, 2], [0.5, -1, 2, 0.3, 1, 0.2, -0.4, 0.9]);
  const cam = await run(lm, x, 'gradcam', 0);
  const nt = await run(lm, x, 'noise-tunnel', 0, { baseMethod: 'gradcam', stdevs: 0, ntSamples: 2 });
  assert.equal(nt.layer, 'act');
  assert.deepEqual(Object.values(nt.attributions)[0].dims, [1, 1, 2, 2]);
  close(values(nt), values(cam), 1e-6);
});

test('noise-tunnel errors name the problem', async () => {
  const lm = await mlp();
  const x = feed([1, 4], X);
  await assert.rejects(run(lm, x, 'noise-tunnel', 0, { baseMethod: 'noise-tunnel' }), /baseMethod' must be one of/);
  await assert.rejects(run(lm, x, 'noise-tunnel', 0, { baseMethod: 'salency' }), /must be one of .*saliency/);
  await assert.rejects(run(lm, x, 'noise-tunnel', 0, { baseParams: 'abs=false' }), /baseParams'? must be a JSON object/);
  await assert.rejects(run(lm, x, 'noise-tunnel', 0, { baseParams: '{"ab": false}' }), /saliency has no parameter 'ab'/);
  await assert.rejects(run(lm, x, 'noise-tunnel', 0, { baseParams: '{"abs": 3}' }), /parameter 'abs' must be true or false/);
  await assert.rejects(run(lm, x, 'noise-tunnel', 0, { baseMethod: 'saliency', drawBaselineFromDistrib: true }), /drawBaselineFromDistrib needs a method with baselines, and saliency has none/);
});
