import { AttrLensError } from '../../../core/errors';

/** Captum's propagation rules (captum/attr/_utils/lrp_rules.py). */
export type LrpRuleName = 'epsilon' | 'gamma' | 'alpha1beta0' | 'identity';

export interface LrpRuleSpec {
  rule: LrpRuleName;
  /** added to the layer's output, with its sign, before dividing by it (Captum's STABILITY_FACTOR) */
  epsilon: number;
  /** gamma rule: weights become W + gamma * max(W, 0) */
  gamma: number;
  /** gamma and alpha1beta0: the layer's bias set to zero */
  setBiasToZero: boolean;
}

/** Captum's defaults: EpsilonRule(epsilon=1e-9), GammaRule(gamma=0.25), every rule's stability factor 1e-9. */
export const DEFAULT_RULE: LrpRuleSpec = { rule: 'epsilon', epsilon: 1e-9, gamma: 0.25, setBiasToZero: false };

const NAMES: Record<string, LrpRuleName> = {
  epsilon: 'epsilon',
  z: 'epsilon',
  gamma: 'gamma',
  alpha1beta0: 'alpha1beta0',
  'alpha-beta': 'alpha1beta0',
  'alpha1-beta0': 'alpha1beta0',
  alphabeta: 'alpha1beta0',
  identity: 'identity',
};

const USAGE = 'a rule name (epsilon, gamma, alpha1beta0, identity) or an object like {"rule": "gamma", "gamma": 0.5, "setBiasToZero": true} or {"rule": "epsilon", "epsilon": 0.25}';

/** One entry of the `rules` parameter: a rule name or {rule, epsilon?, gamma?, setBiasToZero?}. */
export function parseLrpRule(value: unknown, layer: string): LrpRuleSpec {
  const bad = (why: string) => new AttrLensError(`rules['${layer}']: ${why}; give ${USAGE}`);
  const obj = typeof value === 'string' ? { rule: value } : value;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw bad(`${JSON.stringify(value)} is not a rule`);
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['rule', 'epsilon', 'gamma', 'setBiasToZero'].includes(k)) throw bad(`unknown key '${k}'`);
  const rule = NAMES[String(o.rule ?? '').toLowerCase().replace(/_/g, '')];
  if (!rule) throw bad(`unknown rule ${JSON.stringify(o.rule)}`);
  const num = (k: 'epsilon' | 'gamma', min: number): number => {
    const v = o[k] ?? DEFAULT_RULE[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw bad(`${k} must be a number >= ${min}`);
    return v;
  };
  const setBiasToZero = o.setBiasToZero ?? false;
  if (typeof setBiasToZero !== 'boolean') throw bad('setBiasToZero must be true or false');
  return { rule, epsilon: num('epsilon', 0), gamma: num('gamma', 0), setBiasToZero };
}

/** The `rules` parameter, checked: tensor name → rule. */
export function parseLrpRules(rules: Record<string, unknown>): Map<string, LrpRuleSpec> {
  return new Map(Object.entries(rules).map(([k, v]) => [k, parseLrpRule(v, k)]));
}
