// Gradient-free methods where the answer is known beyond linear models, where any weighting is
// exact: Kernel SHAP on a product of two features converges to its Shapley values, and RISE's
// normalisation by N·p at the default p = 0.5.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { close, feed, linear, model, run, values } from './perturb-models';

/** f(x) = x0·x1 + x2 as (N, 1): an interaction between x0 and x1. */
const product = () =>
  model([3], (b) => {
    const col = (i: number) => b.slice('x', [i], [i + 1], [1]);
    const out = b.op('Add', [b.op('Mul', [col(0), col(1)]), col(2)]);
    return b.op('Identity', [out]);
  });

test('kernel-shap on x0·x1 + x2 converges to the Shapley values (x0x1/2, x0x1/2, x2) by enumeration', async () => {
  const lm = await product();
  const x = [1.5, -2, 0.75];
  // Shapley values with baseline 0, from all 3! orders: x0 and x1 share their product, x2 is alone
  const v = (s: Set<number>) => (s.has(0) && s.has(1) ? x[0] * x[1] : 0) + (s.has(2) ? x[2] : 0);
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  const phi = [0, 0, 0];
  for (const o of orders) {
    const s = new Set<number>();
    for (const i of o) {
      const before = v(s);
      s.add(i);
      phi[i] += (v(s) - before) / orders.length;
    }
  }
  close(phi, [-1.5, -1.5, 0.75], 1e-12, 'enumeration');
  const err = async (nSamples: number) => {
    const got = values(await run(lm, feed([1, 3], x), 'kernel-shap', 0, { nSamples, seed: 11, baselines: 0 }));
    return Math.max(...got.map((g, i) => Math.abs(g - phi[i])));
  };
  const [few, many] = [await err(100), await err(3000)];
  assert.ok(many < 0.06, `kernel-shap with 3000 samples is ${many} from the Shapley values`);
  assert.ok(many < few / 3, `error ${few} at 100 samples, ${many} at 3000: it converges`);
  // LIME's default kernel on the same samples does not split the interaction evenly: the check can fail
  const lime = values(await run(lm, feed([1, 3], x), 'lime', 0, { nSamples: 3000, seed: 11, baselines: 0, alpha: 0 }));
  assert.ok(Math.max(...lime.map((l, i) => Math.abs(l - phi[i]))) > 0.1, `lime ${lime} should differ from the Shapley values`);
});

test("kernel-shap meets the ends as Captum's 1e6 weights make it: the attributions sum to f(x) − f(baseline) with few samples", async () => {
  const lm = await product();
  const x = [1.5, -2, 0.75];
  for (const [nSamples, seed] of [[12, 1], [25, 2], [40, 3]]) {
    const got = values(await run(lm, feed([1, 3], x), 'kernel-shap', 0, { nSamples, seed, baselines: 0 }));
    const sum = got.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - (x[0] * x[1] + x[2])) < 1e-3, `${nSamples} samples: Σ = ${sum}, f(x) − f(0) = ${x[0] * x[1] + x[2]}`);
  }
});

test('rise at the default p = 0.5: a model blind to its input gives its probability everywhere (Σ p·M / (N·p))', async () => {
  // logits (0.4, −0.3) whatever the input: p(target 0) = σ(0.7) for every mask
  const lm = await linear([1, 8, 8], [new Array<number>(64).fill(0), new Array<number>(64).fill(0)], [0.4, -0.3]);
  const p = 1 / (1 + Math.exp(-0.7));
  const map = values(await run(lm, feed([1, 1, 8, 8], new Array<number>(64).fill(1)), 'rise', 0, { nMasks: 2000, seed: 5 }));
  // each pixel's mean mask value over 2000 masks is 0.5 ± 0.011 (one σ): 8 % is over 3.5 σ
  const mean = map.reduce((a, b) => a + b, 0) / map.length;
  assert.ok(Math.abs(mean - p) < 0.02 * p, `mean ${mean} vs ${p}`);
  for (const [i, m] of map.entries()) assert.ok(Math.abs(m - p) < 0.08 * p, `pixel ${i}: ${m} vs ${p}`);
});
