import { AttrLensError } from '../core/errors';

export type Approximation = 'gausslegendre' | 'riemann_left' | 'riemann_right' | 'riemann_middle' | 'riemann_trapezoid';

/**
 * Points along the path (alphas in [0, 1]) and their weights, as Captum defines them.
 * Riemann weights are 1/n each (the trapezoid halves both ends, so they sum to (n-1)/n, as in
 * Captum); Gauss–Legendre maps the nodes and weights from [-1, 1] to [0, 1].
 */
export function integrationPoints(method: Approximation, n: number): { alphas: Float64Array; weights: Float64Array } {
  const alphas = new Float64Array(n);
  const weights = new Float64Array(n);
  if (method === 'gausslegendre') {
    const [x, w] = gaussLegendre(n);
    for (let i = 0; i < n; i++) {
      alphas[i] = 0.5 * (x[i] + 1);
      weights[i] = 0.5 * w[i];
    }
    return { alphas, weights };
  }
  if (method === 'riemann_trapezoid' && n < 2) throw new AttrLensError('riemann_trapezoid needs nSteps >= 2');
  const lin = (a: number, b: number) => {
    for (let i = 0; i < n; i++) alphas[i] = n === 1 ? a : a + ((b - a) * i) / (n - 1);
  };
  weights.fill(1 / n);
  switch (method) {
    case 'riemann_trapezoid':
      lin(0, 1);
      weights[0] /= 2;
      weights[n - 1] /= 2;
      break;
    case 'riemann_left':
      lin(0, 1 - 1 / n);
      break;
    case 'riemann_right':
      lin(1 / n, 1);
      break;
    case 'riemann_middle':
      lin(1 / (2 * n), 1 - 1 / (2 * n));
      break;
    default:
      throw new AttrLensError(`unknown approximation method '${method as string}'`);
  }
  return { alphas, weights };
}

/** Gauss–Legendre nodes (ascending) and weights on [-1, 1], by Newton's method on P_n. */
export function gaussLegendre(n: number): [Float64Array, Float64Array] {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? z : p1;
      const pn1 = n === 1 ? 1 : p0;
      dp = (n * (z * pn - pn1)) / (z * z - 1);
      const dz = pn / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    if (n === 1) {
      x[0] = 0;
      w[0] = 2;
      break;
    }
    // recompute derivative at the converged root for the weight
    let p0 = 1, p1 = z;
    for (let k = 2; k <= n; k++) {
      const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = (n * (z * p1 - p0)) / (z * z - 1);
    const wi = 2 / ((1 - z * z) * dp * dp);
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = wi;
    w[n - 1 - i] = wi;
  }
  return [x, w];
}
