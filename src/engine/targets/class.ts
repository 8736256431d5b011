import { AttrLensError, closest } from '../core/errors';
import { sizeOf } from '../core/tensor';
import { linearScore } from './reduce';
import { TargetKind } from './types';

/**
 * A bare output index or label: output[:, index] of the flattened row, as Captum's integer
 * target (any output kind; on a classifier it is the class).
 */
export const classKind: TargetKind<number> = {
  name: 'class',
  syntax: 'INDEX or LABEL',
  fits: () => true,
  parse(arg, env) {
    const size = sizeOf(env.kind.dims.slice(1));
    if (/^-?\d+$/.test(arg)) {
      const t = Number(arg);
      if (t < 0 || t >= size) throw new AttrLensError(`target ${arg} is outside the output's range 0..${size - 1} of ${env.lm.label}: give an index in 0..${size - 1} or a label`);
      return t;
    }
    const idx = env.labels?.findIndex((l) => l.toLowerCase() === arg.toLowerCase()) ?? -1;
    if (idx < 0) {
      if (!env.labels) throw new AttrLensError(`target '${arg}' is not a number and ${env.lm.label} has no labels (add labels.txt beside the model)`);
      throw new AttrLensError(`target '${arg}' is not a label of ${env.lm.label}; closest: ${closest(arg, env.labels).join(', ')}`);
    }
    return idx;
  },
  summary: (env) => `class: an index in 0..${sizeOf(env.kind.dims.slice(1)) - 1}${env.labels ? ' or a label' : ''}`,
  resolve(index, env) {
    const weights = new Float32Array(sizeOf(env.kind.dims.slice(1)));
    weights[index] = 1;
    return {
      kind: 'class',
      text: String(index),
      index,
      label: env.labels?.[index],
      output: env.output,
      weights,
      score: (outs) => linearScore(outs[env.output], weights),
    };
  },
};
