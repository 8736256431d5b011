import { asFloat32, softmax } from '../core/tensor';
import { linearScore } from './reduce';
import { badTarget } from './registry';
import { TargetEnv, TargetItem, TargetKind } from './types';

export interface StepArg {
  step: number;
  /** the class at that step; absent: the step's top class */
  cls?: number;
}

/** One decoded step: the greedy (or CTC) decode of the clean output. */
export interface DecodedStep {
  step: number;
  index: number;
  label?: string;
  probability: number;
  /** CTC: the steps [from, to] the character spans (repeats collapsed) */
  from: number;
  to: number;
}

/** Per-step probabilities [T][V] of a [1,T,V] output: its values for softmax outputs, exp for log-softmax, else a softmax per step. */
function stepProbabilities(env: TargetEnv): Float64Array[] {
  const [, t, v] = env.kind.dims;
  const o = asFloat32(env.clean[env.output]);
  const rows: Float64Array[] = [];
  for (let s = 0; s < t; s++) {
    const row = Array.from(o.subarray(s * v, (s + 1) * v), Number);
    const act = env.kind.activation;
    rows.push(act === 'softmax' || act === 'sigmoid' ? Float64Array.from(row) : act === 'logsoftmax' ? Float64Array.from(row, Math.exp) : softmax(row));
  }
  return rows;
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * The greedy decode: each step's top class, or for CTC the characters left when blanks are
 * dropped and repeats collapsed, each at the step of its run where it is most probable.
 */
export function decodeSteps(env: TargetEnv): DecodedStep[] {
  const probs = stepProbabilities(env);
  const top = probs.map(argmax);
  const label = (i: number) => (env.labels?.[i] !== undefined ? { label: env.labels[i] } : {});
  if (env.kind.settings.decode !== 'ctc') return top.map((index, step) => ({ step, index, ...label(index), probability: probs[step][index], from: step, to: step }));
  const blank = env.kind.settings.blank ?? 0;
  const out: DecodedStep[] = [];
  for (let s = 0; s < top.length; ) {
    let e = s;
    while (e + 1 < top.length && top[e + 1] === top[s]) e++;
    if (top[s] !== blank) {
      let best = s;
      for (let k = s + 1; k <= e; k++) if (probs[k][top[s]] > probs[best][top[s]]) best = k;
      out.push({ step: best, index: top[s], ...label(top[s]), probability: probs[best][top[s]], from: s, to: e });
    }
    s = e + 1;
  }
  return out;
}

/** `step:T` (step T's top class) or `step:T=CLASS` (a class index or label): output[0, T, CLASS]. */
export const stepKind: TargetKind<StepArg> = {
  name: 'step',
  syntax: 'step:T[=CLASS]',
  listKey: 'steps',
  fits: (k) => k.kind === 'sequence',
  parse(arg, env) {
    const m = /^(\d+)\s*(?:=\s*(.+))?$/s.exec(arg);
    if (!m) badTarget(env, `malformed target 'step:${arg}': write step:T or step:T=CLASS (a class index or label)`);
    const [, t, v] = env.kind.dims;
    const step = Number(m[1]);
    if (step >= t) badTarget(env, `step ${step} is outside the output's ${t} steps (0..${t - 1})`);
    if (m[2] === undefined) return { step };
    const c = m[2];
    let cls = /^\d+$/.test(c) && !env.labels?.includes(c) ? Number(c) : (env.labels?.indexOf(c) ?? -1);
    if (cls < 0) cls = env.labels?.findIndex((l) => l.toLowerCase() === c.toLowerCase()) ?? -1;
    if (cls < 0) badTarget(env, `'${c}' in 'step:${arg}' is not a class index${env.labels ? ' or a label' : ''} of the output`);
    if (cls >= v) badTarget(env, `class ${cls} in 'step:${arg}' is outside the output's ${v} classes (0..${v - 1})`);
    return { step, cls };
  },
  list(env) {
    return decodeSteps(env).map((d): TargetItem => ({ target: `step:${d.step}`, ...d }));
  },
  summary(env) {
    const d = decodeSteps(env);
    const t = env.kind.dims[1];
    const text = d.map((s) => s.label ?? `[${s.index}]`).join('');
    return `steps 0..${t - 1}; decoded${env.kind.settings.decode === 'ctc' ? ' (CTC)' : ''} ${JSON.stringify(text)} at steps ${d.map((s) => `${s.step}${s.label !== undefined ? `=${s.label}` : ''}`).join(', ') || 'none'}`;
  },
  resolve({ step, cls }, env) {
    const [, , v] = env.kind.dims;
    const index = cls ?? argmax(stepProbabilities(env)[step]);
    const weights = new Float32Array(env.kind.dims[1] * v);
    weights[step * v + index] = 1;
    const label = env.labels?.[index];
    return {
      kind: 'step',
      text: `step:${step}=${index}`,
      index,
      label,
      output: env.output,
      weights,
      score: (outs) => linearScore(outs[env.output], weights),
      info: { step, class: index, ...(label !== undefined ? { label } : {}), probability: stepProbabilities(env)[step][index] },
    };
  },
};
