import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { LoadedModel } from '../engine/model/loadedModel';
import { Granularity, TextAttributionResult, attributeText } from '../engine/text';
import { formatPredictions } from './attribute';

export interface TextCommandOptions {
  model: string;
  text: string;
  method?: string;
  /** an output index or a label */
  target?: string;
  params?: Record<string, unknown>;
  json?: boolean;
  /** rows of the human table (and the unit lime / kernel-shap / feature-ablation switch off) */
  granularity?: Granularity;
}

/** `attrlens attribute --model M.onnx --text "..."`: token and word attributions of a text classifier. */
export async function attributeTextCommand(
  opts: TextCommandOptions,
  print: (s: string) => void,
  signal: AbortSignal,
  progress?: (done: number, total: number, phase?: string) => void,
): Promise<TextAttributionResult> {
  if (!opts.text.trim()) throw new AttrLensError('--text is empty; give the sentence to explain, e.g. --text "The movie was great."');
  if (opts.granularity && opts.granularity !== 'token' && opts.granularity !== 'word') throw new AttrLensError(`--granularity must be token or word, not '${opts.granularity}'`);
  const lm = await LoadedModel.open(opts.model);
  const target = opts.target === undefined ? undefined : /^\d+$/.test(opts.target) ? Number(opts.target) : opts.target;
  const res = await attributeText(
    lm,
    opts.text,
    { method: opts.method, target, params: opts.params, granularity: opts.granularity },
    { signal, onProgress: (p) => progress?.(p.done, p.total, p.phase) },
  );
  if (opts.json) print(JSON.stringify({ model: path.resolve(opts.model), text: opts.text, ...res }));
  else print(formatText(res, opts.model, opts.granularity ?? 'token'));
  return res;
}

const BAR = 20;

/** A bar of up to BAR '-' left of the axis for negative scores, '+' right of it for positive ones. */
export function scoreBar(score: number, max: number): string {
  const n = max > 0 ? Math.round((Math.abs(score) / max) * BAR) : 0;
  const left = score < 0 ? ' '.repeat(BAR - n) + '-'.repeat(n) : ' '.repeat(BAR);
  const right = score > 0 ? '+'.repeat(n) : '';
  return `${left}|${right}`;
}

export function formatText(r: TextAttributionResult, model: string, rows: Granularity): string {
  const items = rows === 'word' ? r.words.map((w) => ({ text: w.text, score: w.score })) : r.tokens.map((t) => ({ text: t.text, score: t.score }));
  const max = Math.max(0, ...items.map((i) => Math.abs(i.score)));
  const width = Math.min(24, Math.max(5, ...items.map((i) => [...i.text].length)));
  const lines = [
    `${model}${r.tokenizer ? ` (tokenizer ${shortPath(r.tokenizer)})` : ''}`,
    'top predictions:',
    formatPredictions(r.predictions),
    `${r.method} for target ${r.target}${r.targetLabel ? ` (${r.targetLabel})` : ''}${r.layer ? ` at ${r.layer}` : ''}; baseline token ${r.baselineToken.text}; ${r.seconds.toFixed(3)} s`,
  ];
  if (r.truncated) lines.push(`note: the model takes ${r.tokens.length} tokens; the last ${r.truncated} of the text were cut`);
  lines.push(`${'#'.padStart(4)}  ${(rows === 'word' ? 'word' : 'token').padEnd(width)}  ${'score'.padStart(10)}`);
  items.forEach((it, i) => {
    const text = [...it.text].length > width ? `${[...it.text].slice(0, width - 1).join('')}…` : it.text;
    lines.push(`${String(i).padStart(4)}  ${text.padEnd(width)}  ${fmt(it.score).padStart(10)}  ${scoreBar(it.score, max)}`);
  });
  lines.push(`sentence score ${fmt(r.sentenceScore)}${r.delta !== undefined ? `; convergence delta ${r.delta.toExponential(2)}` : ''}`);
  return lines.join('\n');
}

function shortPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function fmt(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
}
