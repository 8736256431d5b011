// Finite-difference harness for the gradient rules: one small model per case, the backward
// graph's J^T v against central differences of the forward model along random directions.
import assert from 'node:assert/strict';
import { buildGradient, SEED } from '../../src/engine/autodiff/builder';
import { runGradients } from '../../src/engine/gradients/run';
import { LoadedModel, ShapeInfo } from '../../src/engine/model/loadedModel';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { upgradeOpset } from '../../src/engine/onnx/upgrade';
import { ONNX_DTYPE } from '../../src/engine/core/tensor';
import { Session } from '../../src/engine/runtime/session';
import { Tensor, sizeOf } from '../../src/engine/core/tensor';

/** How one float input is drawn. Default: uniform in [-1, 1]. */
export interface Spec {
  /** dims at batch 1 (dimension 0 is the batch axis unless the case is `fixed`) */
  dims: number[];
  lo?: number;
  hi?: number;
  /** kinks to stay at least 0.05 away from */
  avoid?: number[];
  /** distinct values on a grid of this spacing (max pooling, max/min reductions, ...) */
  step?: number;
  /** grid offset in steps (0.5 puts a second input between the first one's values) */
  shift?: number;
}

export interface FdCase {
  name: string;
  opset?: number;
  inputs: Record<string, Spec>;
  /** adds the nodes under test; returns the output tensor */
  build: (b: GraphBuilder, x: Record<string, string>) => string;
  /** inputs have no batch axis: checked at their exact dims only, without the batch rewrite */
  fixed?: boolean;
  /** the batch rewrite is expected not to verify (samples then run one at a time) */
  unbatched?: boolean;
  /** inputs to differentiate (default: all) */
  wrt?: string[];
  h?: number;
  /** a known engine gap: the case runs but a failure does not fail the suite */
  todo?: string;
}

/** Deterministic PRNG (mulberry32) seeded from a string. */
export function rng(seed: string): () => number {
  let a = 0;
  for (let i = 0; i < seed.length; i++) a = (Math.imul(a ^ seed.charCodeAt(i), 2654435761) + i) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function draw(spec: Spec, n: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  if (spec.step !== undefined) {
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const mid = Math.floor(n / 2);
    for (let i = 0; i < n; i++) out[i] = (perm[i] - mid + (spec.shift ?? 0)) * spec.step + (spec.lo ?? 0);
    return out;
  }
  const lo = spec.lo ?? -1, hi = spec.hi ?? 1;
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = lo + (hi - lo) * rand();
    while ((spec.avoid ?? []).some((k) => Math.abs(v - k) < 0.05));
    out[i] = v;
  }
  return out;
}

const irFor = (opset: number) => (opset >= 21 ? 10 : opset >= 19 ? 9 : 8);

/** The case's model: graph inputs with fixed dims, constants as initializers, one output. */
export function makeModel(c: FdCase): { model: OnnxModel; output: string } {
  const opset = c.opset ?? 17;
  const model = OnnxModel.empty(opset, irFor(opset));
  const b = new GraphBuilder(model, 'case');
  const names: Record<string, string> = {};
  for (const [k, s] of Object.entries(c.inputs)) {
    b.addInput(k, 1, s.dims);
    names[k] = k;
  }
  const output = c.build(b, names);
  b.addOutput(output, 1);
  return { model, output };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const absDot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] * b[i]);
  return s;
};
const f32 = (t: Tensor) => {
  assert.ok(t.data instanceof Float32Array, `expected float32, got ${t.dtype}`);
  return t.data as Float32Array;
};

type Forward = (feeds: Record<string, Tensor>) => Promise<Tensor>;
type Backward = (feeds: Record<string, Tensor>, seed: Tensor) => Promise<Record<string, Tensor>>;

/**
 * Checks <J^T v, u> against (f(x+hu)·v - f(x-hu)·v) / 2h for each sample separately, with u
 * non-zero in that sample's rows only. Returns the worst relative error seen.
 */
async function compare(c: FdCase, rows: number, feeds: Record<string, Tensor>, wrt: string[], forward: Forward, backward: Backward, batched: boolean): Promise<number> {
  const rand = rng(`${c.name}|dirs|${rows}`);
  const y = await forward(feeds);
  const v = new Float32Array(y.data.length).map(() => rand() * 2 - 1);
  const seed: Tensor = { dtype: 'float32', dims: y.dims, data: v };
  const grads = await backward(feeds, seed);
  const h = c.h ?? 1e-2;
  let worst = 0;
  for (let s = 0; s < rows; s++) {
    const plus: Record<string, Tensor> = { ...feeds }, minus: Record<string, Tensor> = { ...feeds };
    let analytic = 0, scale = 0;
    for (const name of wrt) {
      const x = f32(feeds[name]);
      const g = f32(grads[name]);
      assert.deepEqual(grads[name].dims, feeds[name].dims, `${c.name}: gradient of '${name}' has dims [${grads[name].dims}], the input [${feeds[name].dims}]`);
      const per = batched ? x.length / rows : x.length;
      const u = new Float32Array(x.length);
      for (let i = s * per; i < (s + 1) * per; i++) u[i] = rand() * 2 - 1;
      analytic += dot(g, u);
      scale += absDot(g, u);
      plus[name] = { ...feeds[name], data: x.map((xi, i) => xi + h * u[i]) };
      minus[name] = { ...feeds[name], data: x.map((xi, i) => xi - h * u[i]) };
    }
    const yp = f32(await forward(plus)), ym = f32(await forward(minus));
    const fd = (dot(yp, v) - dot(ym, v)) / (2 * h);
    const size = (absDot(yp, v) + absDot(ym, v)) / 2;
    const err = Math.abs(fd - analytic);
    const allowed = 1e-2 * Math.max(Math.abs(fd), Math.abs(analytic)) + 1e-3 * scale + (5e-7 / h) * size + 1e-6;
    assert.ok(
      err <= allowed && Number.isFinite(analytic),
      `${c.name} (batch ${rows}, sample ${s}): <J^T v, u> = ${analytic.toPrecision(7)} but finite differences give ${fd.toPrecision(7)} (|diff| ${err.toExponential(2)} > ${allowed.toExponential(2)})`,
    );
    worst = Math.max(worst, err / Math.max(Math.abs(fd), 1e-12));
  }
  return worst;
}

function feedsFor(c: FdCase, rows: number, batched: boolean): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const [k, s] of Object.entries(c.inputs)) {
    const dims = batched ? [s.dims[0] * rows, ...s.dims.slice(1)] : s.dims;
    const per = sizeOf(s.dims);
    const data = new Float32Array(sizeOf(dims));
    for (let r = 0; r < (batched ? rows : 1); r++) data.set(draw(s, per, rng(`${c.name}|${k}|${rows}|${r}`)), r * per);
    feeds[k] = { dtype: 'float32', dims, data };
  }
  return feeds;
}

/** Every intermediate tensor's dims and dtype from one run (for fixed-shape cases). */
async function probeFixed(model: OnnxModel, feeds: Record<string, Tensor>): Promise<ShapeInfo> {
  // Probe the upgraded graph, so tensors the opset upgrade introduces have shapes too.
  const m = upgradeOpset(model.clone());
  const outs = new Set(m.graph.output.map((o) => o.name));
  for (const n of m.graph.node) for (const o of n.output) if (o && !outs.has(o)) {
    m.graph.output.push({ name: o });
    outs.add(o);
  }
  const s = await Session.create(m.toBytes());
  try {
    const res = { ...feeds, ...(await s.run(feeds)) };
    const info: ShapeInfo = { dims: new Map(), dtype: new Map() };
    for (const [k, t] of Object.entries(res)) {
      info.dims.set(k, t.dims);
      info.dtype.set(k, t.dtype);
    }
    for (const t of m.graph.initializer) {
      info.dims.set(t.name ?? '', (t.dims ?? []).map(Number));
      const dt = ONNX_DTYPE[t.dataType ?? 0];
      if (dt) info.dtype.set(t.name ?? '', dt);
    }
    return info;
  } finally {
    await s.release();
  }
}

/** Gradients of sum(seed * output) for a fixed-shape case at given feeds (no finite differences). */
export async function fixedGradients(c: FdCase, feeds: Record<string, Tensor>, seed: Tensor): Promise<Record<string, Tensor>> {
  const { model, output } = makeModel(c);
  const wrt = c.wrt ?? Object.keys(c.inputs);
  const prog = buildGradient(model, { output, wrt }, await probeFixed(model, feeds));
  const s = await Session.create(prog.model.toBytes());
  try {
    const r = await s.run({ ...feeds, [SEED]: seed }, wrt.map((w) => prog.grads[w]));
    return Object.fromEntries(wrt.map((w) => [w, r[prog.grads[w]]]));
  } finally {
    await s.release();
  }
}

export interface CaseResult {
  batchable: boolean;
  worst: number;
}

/** Runs one case: at batch 1 and 2 through runGradients, or once at fixed dims. */
export async function checkCase(c: FdCase): Promise<CaseResult> {
  const { model, output } = makeModel(c);
  const wrt = c.wrt ?? Object.keys(c.inputs);
  if (c.fixed) {
    const feeds = feedsFor(c, 1, false);
    const shapes = await probeFixed(model, feeds);
    const prog = buildGradient(model, { output, wrt }, shapes);
    const fwd = await Session.create(model.toBytes());
    const bwd = await Session.create(prog.model.toBytes());
    try {
      const forward: Forward = async (f) => (await fwd.run(f, [output]))[output];
      const backward: Backward = async (f, seed) => {
        const r = await bwd.run({ ...f, [SEED]: seed }, wrt.map((w) => prog.grads[w]));
        return Object.fromEntries(wrt.map((w) => [w, r[prog.grads[w]]]));
      };
      return { batchable: false, worst: await compare(c, 1, feeds, wrt, forward, backward, false) };
    } finally {
      await fwd.release();
      await bwd.release();
    }
  }
  const lm = await LoadedModel.fromModel(model);
  const batchable = lm.maxBatch > 1;
  assert.equal(batchable, !c.unbatched, `${c.name}: the batch rewrite ${batchable ? 'verified' : 'did not verify'}, expected the opposite`);
  let worst = 0;
  for (const rows of [1, 2]) {
    const feeds = feedsFor(c, rows, true);
    const forward: Forward = async (f) => (await lm.forward(f, [output]))[output];
    const backward: Backward = async (f, seed) => (await runGradients(lm, f, { output, wrt }, seed)).grads;
    worst = Math.max(worst, await compare(c, rows, feeds, wrt, forward, backward, true));
  }
  return { batchable, worst };
}

/** Op types of a case's forward graph. */
export function opsOf(c: FdCase): string[] {
  return [...new Set(makeModel(c).model.graph.node.map((n) => n.opType))];
}
