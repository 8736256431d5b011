// Text attributions for display and export: tokens, words or the whole sentence as pieces,
// shading normalised by the largest |score|, and the CSV/JSON files the panel exports.
import type { TextAttributionPayload } from './protocol';

/** What one chip stands for. */
export type TextUnit = 'token' | 'word' | 'sentence';

export interface ScoredPiece {
  text: string;
  score: number;
  special: boolean;
  /** indices into the payload's tokens */
  tokens: number[];
}

type Scored = Pick<TextAttributionPayload, 'text' | 'tokens' | 'words' | 'sentenceScore'>;

/**
 * The pieces of a result in reading order: every token; or every word (a word's score is the
 * sum of its tokens', special tokens stay as they are); or the sentence as one piece.
 */
export function textPieces(r: Scored, unit: TextUnit): ScoredPiece[] {
  if (unit === 'sentence') return [{ text: r.text, score: r.sentenceScore, special: false, tokens: r.tokens.map((_, i) => i) }];
  if (unit === 'token') return r.tokens.map((t, i) => ({ text: t.text, score: t.score, special: t.special, tokens: [i] }));
  const wordAt = new Map<number, number>();
  r.words.forEach((w, wi) => w.tokenIndices.forEach((ti) => wordAt.set(ti, wi)));
  const out: ScoredPiece[] = [];
  const seen = new Set<number>();
  r.tokens.forEach((t, i) => {
    const wi = wordAt.get(i);
    if (wi === undefined) out.push({ text: t.text, score: t.score, special: t.special, tokens: [i] });
    else if (!seen.has(wi)) {
      seen.add(wi);
      const w = r.words[wi];
      out.push({ text: w.text, score: w.score, special: false, tokens: [...w.tokenIndices] });
    }
  });
  return out;
}

export function maxAbsScore(pieces: readonly { score: number }[]): number {
  let m = 0;
  for (const p of pieces) if (Number.isFinite(p.score)) m = Math.max(m, Math.abs(p.score));
  return m;
}

/**
 * Display value in [-1, 1]: the score divided by the largest |score|, then |v|^gamma with the
 * sign kept (gamma < 1 brings faint pieces up, > 1 pushes them down; 1 is Captum's linear view).
 */
export function shade(score: number, maxAbs: number, gamma = 1): number {
  if (!(maxAbs > 0) || !Number.isFinite(score) || score === 0) return 0;
  const v = Math.min(1, Math.abs(score) / maxAbs);
  return Math.sign(score) * Math.pow(v, gamma > 0 ? gamma : 1);
}

function csvField(v: string | number | boolean): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per token: index, token, token_id, special, word_index, word, score. */
export function textCsv(r: Pick<TextAttributionPayload, 'tokens' | 'words'>): string {
  const wordAt = new Map<number, number>();
  r.words.forEach((w, wi) => w.tokenIndices.forEach((ti) => wordAt.set(ti, wi)));
  const rows = [['index', 'token', 'token_id', 'special', 'word_index', 'word', 'score'].join(',')];
  r.tokens.forEach((t, i) => {
    const wi = wordAt.get(i);
    rows.push([i, t.text, t.id, t.special, wi ?? '', wi === undefined ? '' : r.words[wi].text, t.score].map((f) => csvField(f)).join(','));
  });
  return rows.join('\n') + '\n';
}

/** The result as a JSON document, with where it came from. */
export function textJson(r: TextAttributionPayload, extra: { model: string; source?: string }): string {
  const { text, method, target, targetLabel, trueLabel, predictions, tokens, words, sentenceScore, delta, layer, granularity, baselineToken, truncated, params, seconds } = r;
  return JSON.stringify({
    model: extra.model, source: extra.source, text, method, target, targetLabel, trueLabel, predictions,
    tokens, words, sentenceScore, delta, layer, granularity, baselineToken, truncated, params, seconds,
  }, null, 2) + '\n';
}
