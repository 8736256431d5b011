import { AttrLensError, throwIfAborted } from '../core/errors';
import { Rng } from '../methods/rng';
import { Tensor, asFloat32 } from '../core/tensor';

export interface SensitivityOptions {
  /** the perturbed input (default: the first float feed) */
  input?: string;
  /** half-width of the uniform L∞ perturbation (Captum's default_perturb_func) */
  perturbRadius?: number;
  nPerturbSamples?: number;
  /** norm of the flattened explanation difference: 'fro' (= 2), 'inf', or p */
  normOrd?: 'fro' | 'inf' | number;
  seed?: number;
  signal?: AbortSignal;
}

function norm(v: ArrayLike<number>, ord: 'fro' | 'inf' | number): number {
  if (ord === 'inf') {
    let m = 0;
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
    return m;
  }
  const p = ord === 'fro' ? 2 : ord;
  let acc = 0;
  for (let i = 0; i < v.length; i++) acc += Math.abs(v[i]) ** p;
  return acc ** (1 / p);
}

/**
 * Yeh et al. 2019, https://arxiv.org/abs/1901.09392 (Captum's sensitivity_max):
 * max over inputs x' uniformly within perturbRadius of x of ‖φ(x') − φ(x)‖ / ‖φ(x)‖
 * (a zero ‖φ(x)‖ counts as 1, as in Captum).
 */
export async function sensitivityMax(explain: (feeds: Record<string, Tensor>) => Promise<Tensor>, feeds: Record<string, Tensor>, o: SensitivityOptions = {}): Promise<number> {
  const input = o.input ?? Object.keys(feeds).find((k) => feeds[k].dtype === 'float32');
  if (!input || !feeds[input]) throw new AttrLensError('sensitivity-max perturbs a float input, but none was given');
  const x = asFloat32(feeds[input]);
  const r = o.perturbRadius ?? 0.02;
  const n = o.nPerturbSamples ?? 10;
  const ord = o.normOrd ?? 'fro';
  const rng = new Rng(o.seed ?? 0);
  const phi0 = asFloat32(await explain(feeds));
  const base = norm(phi0, ord) || 1;
  let worst = 0;
  for (let s = 0; s < n; s++) {
    throwIfAborted(o.signal);
    const xp = Float32Array.from(x, (v) => v + (2 * rng.next() - 1) * r);
    const phi = asFloat32(await explain({ ...feeds, [input]: { ...feeds[input], data: xp } }));
    if (phi.length !== phi0.length) throw new AttrLensError(`sensitivity-max: the explanation changed size (${phi0.length} → ${phi.length}) under perturbation`);
    const diff = Float64Array.from(phi, (v, i) => v - phi0[i]);
    worst = Math.max(worst, norm(diff, ord) / base);
  }
  return worst;
}
