// Messages between the generation view's webview (webview-ui/src/generation.ts) and its host
// (src/extension/generation/generationPanel.ts), and the view's pure helpers (colours, rows).
// One union per direction; the host checks every webview message with isFromGenerationView.
import type { GenerationAttributionResult } from '../engine/generative';

export type { GenerationAttributionResult };

export interface GenerationMethodInfo {
  id: string;
  captumName: string;
  /** the method gives a token × prompt matrix (Captum's token_attr) */
  perToken: boolean;
  description: string;
}

/** The methods the view offers, in Captum's order; the first is the default. */
export const GENERATION_METHODS: readonly GenerationMethodInfo[] = [
  { id: 'feature-ablation', captumName: 'FeatureAblation', perToken: true, description: 'log p drop when one prompt token is replaced by the baseline token' },
  { id: 'shapley-value-sampling', captumName: 'ShapleyValueSampling', perToken: true, description: 'Shapley values from 25 random orders of the prompt tokens' },
  { id: 'kernel-shap', captumName: 'KernelShap', perToken: false, description: 'linear regression on Shapley-kernel coalitions (sequence attribution only)' },
  { id: 'lime', captumName: 'Lime', perToken: false, description: 'Lasso surrogate on random on/off patterns (sequence attribution only)' },
  { id: 'layer-integrated-gradients', captumName: 'LayerIntegratedGradients', perToken: true, description: 'integrated gradients at the word embeddings, baseline the pad token' },
];

/** Longest continuation text and most new tokens the host accepts from the webview. */
export const MAX_TARGET_TEXT = 2000;
export const MAX_NEW_TOKENS = 256;

/** host → webview: what the view is about (sent on every `ready`). */
export interface GenerationInitMessage {
  type: 'init';
  /** the model's file as the user knows it */
  model: string;
  prompt: string;
  methods: readonly GenerationMethodInfo[];
  maxNewTokens: number;
}

/** host → webview: a run started or advanced. */
export interface GenerationProgressMessage {
  type: 'progress';
  method: string;
  done: number;
  total: number;
  phase?: string;
}

/** host → webview: a finished attribution. */
export interface GenerationResultMessage {
  type: 'result';
  result: GenerationAttributionResult;
}

/** host → webview: nothing to show, and why, in one line. */
export interface GenerationErrorMessage {
  type: 'error';
  message: string;
}

export interface GenerationCancelledMessage {
  type: 'cancelled';
}

export type ToGenerationView = GenerationInitMessage | GenerationProgressMessage | GenerationResultMessage | GenerationErrorMessage | GenerationCancelledMessage;

/** webview → host. */
export type FromGenerationView =
  /** the page is listening: send init and the current state */
  | { type: 'ready' }
  /** explain with `method`: a given continuation (`targetText`), else greedy decoding of up to `maxNewTokens` */
  | { type: 'run'; method: string; targetText?: string; maxNewTokens?: number }
  /** every method on the continuation shown, one after another */
  | { type: 'compare'; targetText: string }
  /** stop the running attribution */
  | { type: 'cancel' };

const isMethod = (m: unknown): m is string => typeof m === 'string' && GENERATION_METHODS.some((g) => g.id === m);
const isTarget = (t: unknown): t is string => typeof t === 'string' && t.trim().length > 0 && t.length <= MAX_TARGET_TEXT && !t.includes('\0');

/** A message the host acts on: a known type with exactly its keys and sane values. */
export function isFromGenerationView(m: unknown): m is FromGenerationView {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const r = m as Record<string, unknown>;
  const keys = Object.keys(r).filter((k) => k !== 'type');
  const only = (...allowed: string[]) => keys.every((k) => allowed.includes(k));
  switch (r.type) {
    case 'ready':
    case 'cancel':
      return keys.length === 0;
    case 'run':
      return (
        only('method', 'targetText', 'maxNewTokens') &&
        isMethod(r.method) &&
        (r.targetText === undefined || isTarget(r.targetText)) &&
        (r.maxNewTokens === undefined || (Number.isInteger(r.maxNewTokens) && (r.maxNewTokens as number) >= 1 && (r.maxNewTokens as number) <= MAX_NEW_TOKENS)) &&
        !(r.targetText !== undefined && r.maxNewTokens !== undefined)
      );
    case 'compare':
      return only('targetText') && isTarget(r.targetText);
    default:
      return false;
  }
}

/**
 * Captum's text colours: green for positive, red for negative, the strength |v| / max (clipped
 * to 1) as the alpha, so a row or a matrix is read on one scale.
 */
export function attrColor(v: number, max: number): string {
  const a = max > 0 && Number.isFinite(v) ? Math.min(1, Math.abs(v) / max) : 0;
  const alpha = Math.round(a * 0.85 * 100) / 100;
  return v >= 0 ? `rgba(46, 160, 67, ${alpha})` : `rgba(218, 54, 51, ${alpha})`;
}

/** The largest |value| of some rows (0 for none). */
export function maxAbs(rows: ReadonlyArray<ReadonlyArray<number>>): number {
  let m = 0;
  for (const r of rows) for (const v of r) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** The prompt scores to colour by: the sequence attribution, or one generated token's row of the matrix (hovered). */
export function promptRow(r: GenerationAttributionResult, generated: number | undefined): number[] {
  if (generated !== undefined && r.matrix && r.matrix[generated]) return r.matrix[generated];
  return r.prompt_tokens.map((p) => p.score);
}
