import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { GenerationAttributionResult, GenerationRequest, TemplateSpec, attributeGeneration, causalLmOf } from '../engine/generative';
import { LoadedModel } from '../engine/model/loadedModel';
import { ParsedArgs, checkFlags, flag, requireFlag } from './args';
import { parseParams } from './attribute';
import { scoreBar } from './text';

const GENERATION_FLAGS = ['generate', 'target-text', 'template', 'values', 'baselines'];

/**
 * True for `attribute` runs that explain a generation: a generation flag is given, or --text
 * goes to a causal LM (its logits [batch, sequence, vocab] are no classifier's output).
 */
export async function isGenerationRequest(args: ParsedArgs): Promise<boolean> {
  if (GENERATION_FLAGS.some((f) => args.flags.has(f))) return true;
  const model = flag(args, 'model');
  if (flag(args, 'text') === undefined || !model) return false;
  try {
    return typeof causalLmOf(await LoadedModel.open(model)) !== 'string';
  } catch {
    return false; // the text path reports what is wrong with the model
  }
}

function parseJsonFlag(args: ParsedArgs, name: string, example: string): unknown {
  const raw = flag(args, name);
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new AttrLensError(`--${name} must be JSON, e.g. --${name} '${example}' (${(e as Error).message})`);
  }
  const strings = (o: object) => Object.values(o).every((x) => typeof x === 'string');
  if (!v || typeof v !== 'object' || !strings(v)) throw new AttrLensError(`--${name} must be a JSON list (or object) of strings, e.g. --${name} '${example}'`);
  return v;
}

/** The engine request an `attribute` command line asks for. */
export function generationRequest(args: ParsedArgs): GenerationRequest {
  checkFlags(args, ['model', 'text', 'method', 'params', 'json', 'granularity', ...GENERATION_FLAGS]);
  const text = flag(args, 'text');
  const template = flag(args, 'template');
  if (text !== undefined && template !== undefined) throw new AttrLensError('give either --text or --template with --values, not both');
  if (text === undefined && template === undefined) throw new AttrLensError('missing --text "PROMPT" (or --template "{} lives in {}" --values \'["Dave","Palm Coast"]\')');
  if (text !== undefined && !text.trim()) throw new AttrLensError('--text is empty; give the prompt the model should continue, e.g. --text "alice paris , bob rome ? bob"');
  let spec: TemplateSpec | undefined;
  if (template !== undefined) {
    const values = parseJsonFlag(args, 'values', '["Dave","Palm Coast"]');
    if (values === undefined) throw new AttrLensError('--template needs --values: a JSON list with one text per {} of the template');
    spec = { template, values: values as TemplateSpec['values'], baselines: parseJsonFlag(args, 'baselines', '["Sam",""]') as TemplateSpec['baselines'] };
  } else if (args.flags.has('values') || args.flags.has('baselines')) throw new AttrLensError('--values and --baselines go with --template');
  const gen = flag(args, 'generate');
  if (gen !== undefined && !/^\d+$/.test(gen)) throw new AttrLensError(`--generate must be a whole number of tokens, not '${gen}'`);
  const granularity = flag(args, 'granularity');
  if (granularity !== undefined && granularity !== 'token' && granularity !== 'word') throw new AttrLensError(`--granularity must be token or word, not '${granularity}'`);
  return {
    text,
    template: spec,
    generate: gen === undefined ? undefined : Number(gen),
    targetText: flag(args, 'target-text'),
    method: flag(args, 'method'),
    granularity,
    params: parseParams(args),
  };
}

/** `attrlens attribute --model LM.onnx --text PROMPT [--generate N | --target-text T]` */
export async function generateCommand(args: ParsedArgs, print: (s: string) => void, signal: AbortSignal, progress?: (done: number, total: number, phase?: string) => void, color = false): Promise<GenerationAttributionResult> {
  const request = generationRequest(args);
  const model = requireFlag(args, 'model', 'LM.onnx (a causal language model)');
  const lm = await LoadedModel.open(model);
  const res = await attributeGeneration(lm, request, { signal, onProgress: (p) => progress?.(p.done, p.total, p.phase) });
  if (flag(args, 'json')) print(JSON.stringify({ model: path.resolve(model), ...res }));
  else print(formatGeneration(res, model, color));
  return res;
}

const fmt = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
const clip = (s: string, w: number) => ([...s].length > w ? `${[...s].slice(0, w - 1).join('')}…` : s);
const shown = (s: string) => JSON.stringify(s).slice(1, -1);

// shades for |score| / max in (0, 1]: positive and negative (distinct without colour)
const POS = ['░', '▒', '▓', '█'];
const NEG = ['.', '-', '=', '≡'];

/** One heat-map cell (two characters) for a score relative to the matrix's largest |score|. */
export function heatCell(v: number, max: number, color = false): string {
  if (!(max > 0) || Math.abs(v) / max < 0.05) return ' ·';
  const level = Math.min(3, Math.floor((Math.abs(v) / max) * 4 - 1e-9));
  const ch = (v > 0 ? POS : NEG)[level].repeat(2);
  return color ? `\x1b[${v > 0 ? 32 : 31}m${ch}\x1b[0m` : ch;
}

/** The human report: the continuation, the sequence attribution as bars, the token × prompt heat map. */
export function formatGeneration(r: GenerationAttributionResult, model: string, color = false): string {
  const unit = r.granularity === 'segment' ? 'segment' : r.granularity;
  const lines = [
    model,
    `prompt: ${shown(r.prompt)}`,
    `continuation (${r.targetSource}, ${r.generated_tokens.length} token${r.generated_tokens.length === 1 ? '' : 's'}): ${shown(r.continuation)}   log p = ${r.sequenceLogprob.toFixed(4)}`,
    `${r.method} (${r.captumName}) over prompt ${unit}s${r.layer ? ` at ${r.layer}` : ''}; baseline ${r.baseline.segments ? r.baseline.segments.map((s) => JSON.stringify(s)).join(', ') : `token ${shown(r.baseline.token ?? '')}`}; ${r.seconds.toFixed(3)} s`,
  ];
  if (r.truncatedAt) lines.push(`note: generation stopped at the model's ${r.truncatedAt} positions`);
  if (r.chatTemplate) lines.push('note: the tokenizer has a chat template; the prompt was used as given (apply the template yourself for a chat model)');
  lines.push('generated tokens:');
  r.generated_tokens.forEach((g, k) => lines.push(`${String(k).padStart(4)}  ${shown(g.token).padEnd(12)}  log p ${g.logprob.toFixed(4)}`));
  const width = Math.min(24, Math.max(5, ...r.prompt_tokens.map((p) => [...shown(p.token)].length)));
  const max = Math.max(0, ...r.prompt_tokens.map((p) => Math.abs(p.score)));
  lines.push(`sequence attribution (log p of the whole continuation):`, `${'#'.padStart(4)}  ${unit.padEnd(width)}  ${'score'.padStart(10)}`);
  r.prompt_tokens.forEach((p, i) => lines.push(`${String(i).padStart(4)}  ${clip(shown(p.token), width).padEnd(width)}  ${fmt(p.score).padStart(10)}  ${scoreBar(p.score, max)}`));
  if (r.delta !== undefined) lines.push(`convergence delta ${r.delta.toExponential(2)}`);
  if (!r.matrix) {
    lines.push(`(${r.captumName} gives no token × prompt matrix, as in Captum: use feature-ablation, shapley-value-sampling or layer-integrated-gradients for it)`);
    return lines.join('\n');
  }
  const mmax = Math.max(0, ...r.matrix.flat().map(Math.abs));
  const rowW = Math.min(16, Math.max(...r.generated_tokens.map((g) => [...shown(g.token)].length)));
  lines.push(`token × prompt (rows: generated tokens; columns: the ${unit}s numbered above; ${POS.join('')} positive, ${NEG.join('')} negative, · under 5% of the largest |score| ${mmax.toFixed(4)}):`);
  lines.push(`${' '.repeat(rowW + 2)}${r.prompt_tokens.map((_, i) => String(i % 100).padStart(2)).join(' ')}`);
  r.matrix.forEach((row, k) => {
    lines.push(`${clip(shown(r.generated_tokens[k].token), rowW).padEnd(rowW)}  ${row.map((v) => heatCell(v, mmax, color)).join(' ')}`);
  });
  return lines.join('\n');
}
