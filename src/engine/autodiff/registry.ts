import { activationRules } from './rules/activation';
import { convRules } from './rules/conv';
import { elementwiseRules } from './rules/elementwise';
import { matmulRules } from './rules/matmul';
import { normRules } from './rules/norm';
import { poolRules } from './rules/pool';
import { reduceRules } from './rules/reduce';
import { shapeRules } from './rules/shape';
import { softmaxRules } from './rules/softmax';
import { GradRule, RuleTable } from './types';

function build(families: Array<Record<string, GradRule>>): Map<string, GradRule> {
  const m = new Map<string, GradRule>();
  for (const f of families) {
    for (const [op, rule] of Object.entries(f)) {
      if (m.has(op)) throw new Error(`gradient rule for ${op} registered twice`);
      m.set(op, rule);
    }
  }
  return m;
}

/** Base rules: the ordinary gradient of every supported op, one file per op family. */
export const baseRules: RuleTable = build([
  activationRules,
  convRules,
  elementwiseRules,
  matmulRules,
  normRules,
  poolRules,
  reduceRules,
  shapeRules,
  softmaxRules,
]);

export function supportedOps(): string[] {
  return [...baseRules.keys()].sort();
}
