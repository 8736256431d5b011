// The seeded sampler behind every noisy method: a standard normal, reproducible per seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/methods/rng';

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

test('normal(): moments and the whole CDF match N(0, 1) over 2M draws (tails included)', () => {
  const rng = new Rng(20261126);
  const n = 2_000_000;
  const xs = new Float64Array(n);
  let s = 0, s2 = 0, s4 = 0;
  for (let i = 0; i < n; i++) {
    const v = (xs[i] = rng.normal());
    s += v;
    s2 += v * v;
    s4 += v ** 4;
  }
  const mean = s / n, variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean) < 5 * Math.sqrt(1 / n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
  assert.ok(Math.abs(s4 / n - 3) < 5 * Math.sqrt(96 / n), `fourth moment ${s4 / n}`);
  // Kolmogorov–Smirnov distance: 1.95/sqrt(n) is the 0.1% critical value
  xs.sort();
  let ks = 0;
  for (let i = 0; i < n; i += 7) ks = Math.max(ks, Math.abs(phi(xs[i]) - (i + 0.5) / n));
  assert.ok(ks < 1.95 / Math.sqrt(n) + 2e-7, `KS distance ${ks}`);
  // beyond the ziggurat's base strip (R = 3.44): P(|z| > 3.5) = 4.65e-4
  let tail = 0;
  for (let i = 0; i < n; i++) if (Math.abs(xs[i]) > 3.5) tail++;
  const p = 2 * (1 - phi(3.5));
  assert.ok(Math.abs(tail / n - p) < 5 * Math.sqrt(p / n), `tail ${tail / n} vs ${p}`);
});

test('normal(): the same seed gives the same draws, another seed others', () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const da = Array.from({ length: 1000 }, () => a.normal());
  assert.deepEqual(da, Array.from({ length: 1000 }, () => b.normal()));
  assert.notDeepEqual(da, Array.from({ length: 1000 }, () => c.normal()));
});

test('normal(): consecutive draws are uncorrelated, in value and in size (2M draws)', () => {
  const rng = new Rng(20261203);
  const n = 2_000_000;
  let prev = rng.normal();
  let sxy = 0, sax = 0, say = 0, saxy = 0, sax2 = 0, say2 = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    sxy += prev * v;
    const a = Math.abs(prev), b = Math.abs(v);
    sax += a;
    say += b;
    saxy += a * b;
    sax2 += a * a;
    say2 += b * b;
    prev = v;
  }
  // lag-1 correlation of N(0, 1) draws: standard error 1/sqrt(n)
  assert.ok(Math.abs(sxy / n) < 5 / Math.sqrt(n), `lag-1 correlation ${sxy / n}`);
  const cov = saxy / n - (sax / n) * (say / n);
  const r = cov / Math.sqrt((sax2 / n - (sax / n) ** 2) * (say2 / n - (say / n) ** 2));
  assert.ok(Math.abs(r) < 5 / Math.sqrt(n), `lag-1 correlation of |z| ${r}`);
});
