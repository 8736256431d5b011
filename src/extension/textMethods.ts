// The methods that can attribute a text model, with the parameters that make sense for token
// ids: what the engine fills in itself (word-embedding layer, token baselines, feature masks)
// is left out or optional, and the text-only `baselineToken` / `granularity` are added.
// vscode-free so it is tested directly.
import type { MethodInfo, ParamSpec, ParamValues } from '../shared/protocol';

/** In the order the panel offers them; the first is the default. */
export const TEXT_METHODS = ['layer-integrated-gradients', 'layer-gradient-x-activation', 'occlusion', 'feature-ablation', 'lime', 'kernel-shap'] as const;
export const DEFAULT_TEXT_METHOD = TEXT_METHODS[0];

/** Methods that switch off features given by a mask: they can work per token or per word. */
const MASKED = new Set(['feature-ablation', 'lime', 'kernel-shap']);
/** Surrogate models are fitted over words by default (the engine's default too). */
const WORD_DEFAULT = new Set(['lime', 'kernel-shap']);

const BASELINE_TOKEN: ParamSpec = {
  name: 'baselineToken',
  kind: 'string',
  default: '',
  description: 'token that replaces every non-special token in the baseline, e.g. [MASK], or a token id; empty = the pad token',
};

function granularity(method: string): ParamSpec {
  return {
    name: 'granularity',
    kind: 'enum',
    values: ['token', 'word'],
    default: WORD_DEFAULT.has(method) ? 'word' : 'token',
    description: 'what is switched off together: each token, or each word (its subword tokens at once)',
  };
}

function tailor(info: MethodInfo): MethodInfo {
  const params: ParamSpec[] = [];
  for (const p of info.params) {
    if (p.name === 'baselines' || p.name === 'featureMask') continue;
    if (p.kind === 'layer') {
      params.push({ ...p, required: false, default: undefined, description: `${p.description} (empty: the word-embedding output, found automatically)` });
    } else if (p.name === 'slidingWindowShapes') {
      params.push({ ...p, required: false, default: [1], description: 'tokens per occluded window (1 = one token at a time)' });
    } else if (p.name === 'strides' && info.id === 'occlusion') {
      params.push({ ...p, default: [1], description: 'tokens the window moves by' });
    } else params.push(p);
  }
  if (info.params.some((p) => p.name === 'baselines')) params.push(BASELINE_TOKEN);
  if (MASKED.has(info.id)) params.push(granularity(info.id));
  return { ...info, params };
}

/** The text-capable methods out of the engine's list, tailored, in TEXT_METHODS order. */
export function textMethodInfos(all: readonly MethodInfo[]): MethodInfo[] {
  return TEXT_METHODS.flatMap((id) => {
    const info = all.find((m) => m.id === id);
    return info ? [tailor(info)] : [];
  });
}

export function isTextMethod(id: string): boolean {
  return (TEXT_METHODS as readonly string[]).includes(id);
}

/** Panel parameters → the engine's text request: empty values mean "the default". */
export function textRequest(method: string, params: ParamValues): { method: string; params: Record<string, unknown>; granularity?: 'token' | 'word' } {
  const out: Record<string, unknown> = {};
  let gran: 'token' | 'word' | undefined;
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === '') continue;
    if (k === 'granularity') {
      if (MASKED.has(method) && (v === 'token' || v === 'word')) gran = v;
      continue;
    }
    out[k] = v;
  }
  return { method, params: out, granularity: gran };
}
