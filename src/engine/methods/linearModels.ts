/**
 * Weighted linear surrogates for Lime and KernelShap, fitted on binary interpretable samples
 * Z (n rows × m features, row-major 0/1) with an unpenalised intercept, as scikit-learn's
 * Lasso and LinearRegression do behind Captum's SkLearnLasso / SkLearnLinearRegression.
 * Returns the m coefficients.
 */

interface Centred {
  n: number;
  m: number;
  /** column-major copy of Z */
  zc: Uint8Array;
  /** weighted column means */
  mu: Float64Array;
  /** sqrt of the sample weights */
  s: Float64Array;
  /** centred, weight-scaled targets */
  yc: Float64Array;
}

function centre(z: Uint8Array, n: number, m: number, y: ArrayLike<number>, w: ArrayLike<number>): Centred {
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += w[i];
  if (!(wsum > 0)) wsum = 1;
  const mu = new Float64Array(m);
  const zc = new Uint8Array(n * m);
  let ybar = 0;
  for (let i = 0; i < n; i++) {
    ybar += w[i] * y[i];
    for (let j = 0; j < m; j++) {
      const v = z[i * m + j];
      zc[j * n + i] = v;
      if (v) mu[j] += w[i];
    }
  }
  ybar /= wsum;
  for (let j = 0; j < m; j++) mu[j] /= wsum;
  const s = Float64Array.from({ length: n }, (_, i) => Math.sqrt(w[i]));
  const yc = Float64Array.from({ length: n }, (_, i) => (y[i] - ybar) * s[i]);
  return { n, m, zc, mu, s, yc };
}

/** Σ_i X_ij v_i for the centred, scaled design X. */
function colDot(c: Centred, j: number, v: Float64Array): number {
  const { n, zc, mu, s } = c;
  const off = j * n;
  let acc = 0;
  for (let i = 0; i < n; i++) acc += (zc[off + i] - mu[j]) * s[i] * v[i];
  return acc;
}

/**
 * scikit-learn's Lasso objective (1 / 2n)·Σ w_i (y_i − b − z_i·β)² + alpha·‖β‖₁, weights
 * rescaled to sum to n, solved by cyclic coordinate descent with its duality-gap stop
 * (tol 1e-4, at most 1000 sweeps). alpha = 0 falls back to weighted least squares.
 */
export function fitLasso(z: Uint8Array, n: number, m: number, y: ArrayLike<number>, w: ArrayLike<number>, alpha: number, tol = 1e-4, maxIter = 1000): Float64Array {
  if (alpha <= 0) return fitLeastSquares(z, n, m, y, w);
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += w[i];
  const wn = Float64Array.from({ length: n }, (_, i) => (wsum > 0 ? (w[i] * n) / wsum : 1));
  const c = centre(z, n, m, y, wn);
  const l1 = alpha * n;
  const beta = new Float64Array(m);
  const r = Float64Array.from(c.yc);
  const norms = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const off = j * n;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const x = (c.zc[off + i] - c.mu[j]) * c.s[i];
      acc += x * x;
    }
    norms[j] = acc;
  }
  let yy = 0;
  for (let i = 0; i < n; i++) yy += c.yc[i] * c.yc[i];
  const gapTol = tol * yy;
  for (let it = 0; it < maxIter; it++) {
    let maxChange = 0;
    let maxCoef = 0;
    for (let j = 0; j < m; j++) {
      if (norms[j] === 0) continue;
      const old = beta[j];
      const rho = colDot(c, j, r) + norms[j] * old;
      const next = Math.sign(rho) * Math.max(Math.abs(rho) - l1, 0) / norms[j];
      if (next !== old) {
        const d = next - old;
        const off = j * n;
        for (let i = 0; i < n; i++) r[i] -= d * (c.zc[off + i] - c.mu[j]) * c.s[i];
        beta[j] = next;
      }
      maxChange = Math.max(maxChange, Math.abs(next - old));
      maxCoef = Math.max(maxCoef, Math.abs(next));
    }
    if (maxCoef === 0 || maxChange / maxCoef < tol || it === maxIter - 1) {
      let dual = 0;
      for (let j = 0; j < m; j++) dual = Math.max(dual, Math.abs(colDot(c, j, r)));
      let rr = 0, ry = 0, l1norm = 0;
      for (let i = 0; i < n; i++) {
        rr += r[i] * r[i];
        ry += r[i] * c.yc[i];
      }
      for (let j = 0; j < m; j++) l1norm += Math.abs(beta[j]);
      const k = dual > l1 ? l1 / dual : 1;
      const gap = (dual > l1 ? 0.5 * (rr + rr * k * k) : rr) + l1 * l1norm - k * ry;
      if (gap < gapTol) break;
    }
  }
  return beta;
}

/**
 * Weighted least squares with an intercept; when the samples do not determine every
 * coefficient it returns (to within a 1e-10 relative ridge) the minimum-norm solution, as
 * LinearRegression's lstsq does. Solves the smaller of the primal (m×m) and dual (n×n) systems.
 */
export function fitLeastSquares(z: Uint8Array, n: number, m: number, y: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const c = centre(z, n, m, y, w);
  const x = (i: number, j: number) => (c.zc[j * n + i] - c.mu[j]) * c.s[i];
  if (m <= n) {
    const g = new Float64Array(m * m);
    const b = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      b[j] = colDot(c, j, c.yc);
      for (let k = 0; k <= j; k++) {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += x(i, j) * x(i, k);
        g[j * m + k] = g[k * m + j] = acc;
      }
    }
    return solveSpd(g, b, m);
  }
  // dual: β = Xᵀ (X Xᵀ)⁻¹ y, reading the row-major Z so no dense n×m copy is made
  const k = new Float64Array(n * n);
  const di = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) di[j] = z[i * m + j] - c.mu[j];
    for (let l = 0; l <= i; l++) {
      let acc = 0;
      for (let j = 0; j < m; j++) acc += di[j] * (z[l * m + j] - c.mu[j]);
      k[i * n + l] = k[l * n + i] = acc * c.s[i] * c.s[l];
    }
  }
  const a = solveSpd(k, c.yc, n);
  const beta = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const f = a[i] * c.s[i];
    for (let j = 0; j < m; j++) beta[j] += (z[i * m + j] - c.mu[j]) * f;
  }
  return beta;
}

/** Solves (A + εI) x = b for a symmetric positive semi-definite A by Cholesky, ε = 1e-10·mean diagonal. */
function solveSpd(a: Float64Array, b: ArrayLike<number>, n: number): Float64Array {
  let tr = 0;
  for (let i = 0; i < n; i++) tr += a[i * n + i];
  const eps = Math.max(1e-10 * (tr / Math.max(1, n)), 1e-300);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] + (i === j ? eps : 0);
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(Math.max(sum, eps)) : sum / l[j * n + j];
    }
  }
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * t[k];
    t[i] = sum / l[i * n + i];
  }
  const out = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = t[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * out[k];
    out[i] = sum / l[i * n + i];
  }
  return out;
}
