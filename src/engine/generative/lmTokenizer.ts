import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import type { LoadedModel } from '../model/loadedModel';
import { OnnxModel } from '../onnx/model';
import { tokenizerFor } from '../text/attributeText';
import { Encoded, TextTokenizer } from '../text/tokenizer';
import type { CausalLmIO } from './causalLm';

/** What generation needs beyond the tokenizer: special ids and limits from the config files. */
export interface LmConfig {
  bosId?: number;
  /** every id that ends generation (config.json may list several) */
  eosIds: number[];
  padId?: number;
  /** tokenizer_config.json add_bos_token: prepend the BOS when the tokenizer does not */
  addBos: boolean;
  /** the longest sequence (prompt + continuation) the model takes */
  maxPositions?: number;
  /** tokenizer_config.json has a chat template (not applied: the prompt is taken as it is) */
  chatTemplate: boolean;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  if (!fs.existsSync(file)) return {};
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    return v && typeof v === 'object' ? (v as Json) : {};
  } catch (e) {
    throw new AttrLensError(`cannot read ${file}: ${(e as Error).message}; it must be valid JSON`);
  }
}

const tokenName = (v: unknown): string | undefined => (typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as Json).content === 'string' ? ((v as Json).content as string) : undefined);
const ids = (v: unknown): number[] => (typeof v === 'number' ? [v] : Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

/** Reads tokenizer_config.json and config.json beside the model (ids in config.json win over token names). */
export function lmConfig(dir: string, tk: TextTokenizer, model?: OnnxModel, io?: CausalLmIO): LmConfig {
  const tc = readJson(path.join(dir, 'tokenizer_config.json'));
  const cfg = readJson(path.join(dir, 'config.json'));
  const gen = readJson(path.join(dir, 'generation_config.json'));
  const byName = (key: string): number | undefined => tk.idOf(tokenName(tc[key]));
  const bosId = ids(cfg.bos_token_id)[0] ?? byName('bos_token');
  const eosIds = [...new Set([...ids(gen.eos_token_id), ...ids(cfg.eos_token_id), ...[byName('eos_token')].filter((x): x is number => x !== undefined)])];
  const padId = ids(cfg.pad_token_id)[0] ?? byName('pad_token') ?? tk.padId;
  const fromCfg = [cfg.max_position_embeddings, cfg.n_positions, cfg.n_ctx, cfg.seq_length].find((x): x is number => typeof x === 'number' && x > 0);
  const fromTk = typeof tc.model_max_length === 'number' && tc.model_max_length > 0 && tc.model_max_length < 1e6 ? tc.model_max_length : undefined;
  return {
    bosId,
    eosIds,
    padId,
    addBos: tc.add_bos_token === true,
    maxPositions: fromCfg ?? fromTk ?? (model && io ? positionTableSize(model, io) : undefined),
    chatTemplate: typeof tc.chat_template === 'string' || Array.isArray(tc.chat_template),
  };
}

/** Rows of the table gathered by position_ids, when the graph has one: the positions the model knows. */
function positionTableSize(model: OnnxModel, io: CausalLmIO): number | undefined {
  if (!io.positions) return undefined;
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name ?? '', t]));
  for (const n of g.node) {
    if (n.opType !== 'Gather' || n.input[1] !== io.positions.name) continue;
    const d = inits.get(n.input[0])?.dims;
    if (d && d.length === 2) return Number(d[0]);
  }
  return undefined;
}

/** A causal LM's tokenizer with its config. */
export interface LmTokenizer {
  tk: TextTokenizer;
  config: LmConfig;
  /** the prompt's ids: the tokenizer's special tokens, plus the BOS when add_bos_token asks for it */
  encodePrompt(text: string): Encoded;
  /** a continuation's ids, without special tokens */
  encodeTarget(text: string): Encoded;
  /** one token's readable text (Ġ / ▁ markers shown as spaces, as Captum's pretty tokens) */
  pretty(id: number): string;
}

export function lmTokenizerFor(lm: LoadedModel, io: CausalLmIO): LmTokenizer {
  const tk = tokenizerFor(lm);
  const config = lmConfig(lm.dir!, tk, lm.model, io);
  return {
    tk,
    config,
    encodePrompt(text) {
      const e = tk.encode(text);
      if (config.addBos && config.bosId !== undefined && e.ids[0] !== config.bosId) {
        return { ids: [config.bosId, ...e.ids], tokens: [tk.tokenOf(config.bosId) ?? '<s>', ...e.tokens], special: [true, ...e.special], wordOf: [-1, ...e.wordOf] };
      }
      // a BOS that is not in the added tokens' special list is still not a feature
      return { ...e, special: e.ids.map((id, i) => e.special[i] || id === config.bosId) };
    },
    encodeTarget(text) {
      return tk.encode(text, false);
    },
    pretty(id) {
      const t = tk.tokenOf(id) ?? String(id);
      return t.replace(/^[Ġ▁]/, ' ').replace(/Ċ/g, '\n');
    },
  };
}
