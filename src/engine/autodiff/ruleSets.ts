import { deepliftMaxPoolRules, deepliftRules } from './rules/deeplift';
import { guidedRules } from './rules/guided';
import { lrpRules } from './rules/lrp';
import { GradRule, RuleTable } from './types';

export type RuleSetName = 'default' | 'guided-backprop' | 'deconvolution' | 'deeplift' | 'deeplift-maxpool' | 'lrp';

/** What a rule set may depend on besides the ops: the request it serves. */
export interface RuleSetRequest {
  /** tensors differentiated with respect to */
  wrt: readonly string[];
  /** LRP rule overrides by node output tensor name (see rules/lrp) */
  lrpRules?: Record<string, unknown>;
  /** outputs of nodes that keep their ordinary gradient in the DeepLift sets (see rules/deeplift) */
  plainRules?: string[];
}

const overlays: Record<RuleSetName, (req: RuleSetRequest, base: RuleTable) => Record<string, GradRule>> = {
  default: () => ({}),
  'guided-backprop': () => guidedRules.guided,
  deconvolution: () => guidedRules.deconvolution,
  deeplift: (req) => deepliftRules(req.wrt, req.plainRules),
  'deeplift-maxpool': () => deepliftMaxPoolRules,
  lrp: (req, base) => lrpRules(req.lrpRules ?? {}, base),
};

/** Base rules with a method's overrides layered on top (only the ops it changes). */
export function ruleSet(name: RuleSetName, base: RuleTable, req: RuleSetRequest = { wrt: [] }): RuleTable {
  const overlay = overlays[name];
  if (!overlay) throw new Error(`unknown rule set '${name}'; known: ${Object.keys(overlays).join(', ')}`);
  const m = new Map(base);
  for (const [op, r] of Object.entries(overlay(req, base))) m.set(op, r);
  return m;
}
