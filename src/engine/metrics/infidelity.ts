import { AttrLensError } from '../core/errors';
import { LoadedModel } from '../model/loadedModel';
import { Rng } from '../methods/rng';
import { Tensor, asFloat32 } from '../core/tensor';
import { MetricTarget, resolveIO, rowsFrom, targetOf } from './common';

export interface InfidelityOptions extends MetricTarget {
  /** 'gaussian': I ~ N(0, stdevs²) per element (Captum's documented example); or a function filling the perturbation I */
  perturbFunc?: 'gaussian' | ((x: Float32Array, noise: Float32Array, rng: Rng) => void);
  stdevs?: number;
  nPerturbSamples?: number;
  /** Captum's `normalize`: scale the attribution by the β minimising the error first */
  normalize?: boolean;
  seed?: number;
}

/**
 * Yeh et al. 2019, https://arxiv.org/abs/1901.09392 (Captum's infidelity):
 * E_I[(Iᵀφ − (f(x) − f(x − I)))²] over random perturbations I, f the target output.
 */
export async function infidelity(lm: LoadedModel, feeds: Record<string, Tensor>, attribution: Tensor, o: InfidelityOptions): Promise<number> {
  const io = resolveIO(lm, feeds, o, 'infidelity');
  const x = asFloat32(io.x);
  const phi = asFloat32(attribution);
  if (phi.length !== x.length) throw new AttrLensError(`infidelity needs an input-shaped attribution [${io.x.dims}], got [${attribution.dims}]`);
  const n = o.nPerturbSamples ?? 10;
  const stdevs = o.stdevs ?? 0.003;
  const rng = new Rng(o.seed ?? 0);
  const perturb = o.perturbFunc ?? 'gaussian';
  const noises: Float32Array[] = [];
  for (let s = 0; s < n; s++) {
    const noise = new Float32Array(x.length);
    if (perturb === 'gaussian') for (let i = 0; i < noise.length; i++) noise[i] = rng.normal() * stdevs;
    else perturb(x, noise, rng);
    noises.push(noise);
  }
  const rows = rowsFrom(io.x, n, (s, row) => {
    for (let i = 0; i < row.length; i++) row[i] -= noises[s][i];
  });
  const fx = (await targetOf(lm, feeds, io, io.x, o))[0];
  const fp = await targetOf(lm, feeds, io, rows, o);
  const dots = noises.map((noise) => {
    let acc = 0;
    for (let i = 0; i < noise.length; i++) acc += noise[i] * phi[i];
    return acc;
  });
  const deltas = Array.from(fp, (v) => fx - v);
  let beta = 1;
  if (o.normalize) {
    let num = 0, den = 0;
    for (let s = 0; s < n; s++) {
      num += dots[s] * deltas[s];
      den += dots[s] * dots[s];
    }
    beta = den > 0 ? num / den : 0;
  }
  let err = 0;
  for (let s = 0; s < n; s++) err += (beta * dots[s] - deltas[s]) ** 2;
  return err / n;
}
