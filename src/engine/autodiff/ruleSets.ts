import { deepliftMaxPoolRules, deepliftRules } from './rules/deeplift';
import { guidedRules } from './rules/guided';
import { GradRule, RuleTable } from './types';

export type RuleSetName = 'default' | 'guided-backprop' | 'deconvolution' | 'deeplift' | 'deeplift-maxpool';

const overlays: Record<RuleSetName, Record<string, GradRule>> = {
  default: {},
  'guided-backprop': guidedRules.guided,
  deconvolution: guidedRules.deconvolution,
  deeplift: deepliftRules,
  'deeplift-maxpool': deepliftMaxPoolRules,
};

/** Base rules with a method's overrides layered on top (only the ops it changes). */
export function ruleSet(name: RuleSetName, base: RuleTable): RuleTable {
  const overlay = overlays[name];
  if (!overlay) throw new Error(`unknown rule set '${name}'; known: ${Object.keys(overlays).join(', ')}`);
  const m = new Map(base);
  for (const [op, r] of Object.entries(overlay)) m.set(op, r);
  return m;
}
