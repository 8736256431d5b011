import { AttrLensError } from '../core/errors';
import type { LmTokenizer } from './lmTokenizer';

export type PromptGranularity = 'token' | 'word' | 'segment';

/**
 * The prompt's interpretable features (Captum's InterpretableInput): present (1) or replaced by
 * their baseline (0). Tokens and words replace token ids by the baseline token (TextTokenInput,
 * special tokens such as the BOS left out as skip_tokens do); template segments replace the
 * segment's text by its baseline text and tokenise the prompt again (TextTemplateInput).
 */
export interface PromptFeatures {
  granularity: PromptGranularity;
  /** the prompt's text (a template filled with its values) */
  text: string;
  /** each feature's text */
  labels: string[];
  /** the unperturbed prompt's ids */
  ids: number[];
  /** the prompt's ids with the absent features replaced by their baselines */
  build(present: Uint8Array): number[];
  /** token and word features: the prompt positions each covers */
  positions?: number[][];
  /** token and word features: the baseline token id */
  baselineId?: number;
}

export interface TemplateSpec {
  /** Python str.format style: `{}` in order, `{0}` by index, `{name}` by key; `{{` and `}}` are braces */
  template: string;
  values: string[] | Record<string, string>;
  /** per segment; default "" (Captum's default) */
  baselines?: string[] | Record<string, string>;
}

/** Token or word features over an encoded prompt. */
export function tokenFeatures(tok: LmTokenizer, text: string, granularity: 'token' | 'word', baselineId: number): PromptFeatures {
  const enc = tok.encodePrompt(text);
  const positions: number[][] = [];
  const byWord = new Map<number, number[]>();
  enc.ids.forEach((_, i) => {
    if (enc.special[i]) return;
    if (granularity === 'token') positions.push([i]);
    else {
      const w = enc.wordOf[i];
      let g = byWord.get(w);
      if (!g) {
        g = [];
        byWord.set(w, g);
        positions.push(g);
      }
      g.push(i);
    }
  });
  if (!positions.length) throw new AttrLensError('the prompt has no tokens to attribute (it is empty, or only special tokens); give the text the model should continue');
  return {
    granularity,
    text,
    labels: positions.map((ps) => (granularity === 'token' ? tok.pretty(enc.ids[ps[0]]) : tok.tk.decode(ps.map((i) => enc.ids[i])))),
    ids: enc.ids,
    positions,
    baselineId,
    build(present) {
      const out = [...enc.ids];
      positions.forEach((ps, f) => {
        if (!present[f]) for (const i of ps) out[i] = baselineId;
      });
      return out;
    },
  };
}

type Part = { literal: string } | { slot: number | string };

function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let auto = 0;
  let lit = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      lit += c;
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw new AttrLensError(`--template has an unclosed '{' at character ${i + 1}; write {} for a segment and {{ for a literal brace`);
      const name = template.slice(i + 1, end).trim();
      if (lit) parts.push({ literal: lit });
      lit = '';
      parts.push({ slot: name === '' ? auto++ : /^\d+$/.test(name) ? Number(name) : name });
      i = end;
    } else if (c === '}') {
      throw new AttrLensError(`--template has a '}' without '{' at character ${i + 1}; write }} for a literal brace`);
    } else lit += c;
  }
  if (lit) parts.push({ literal: lit });
  return parts;
}

/** Segment features from a template and its values (Captum's TextTemplateInput). */
export function templateFeatures(tok: LmTokenizer, spec: TemplateSpec): PromptFeatures {
  const parts = parseTemplate(spec.template);
  const keys = Array.isArray(spec.values) ? spec.values.map((_, i) => i) : Object.keys(spec.values);
  const values = keys.map((k) => String((spec.values as Record<string | number, string>)[k]));
  if (!values.length) throw new AttrLensError('--values is empty; give one value per {} of --template, e.g. --values \'["Dave","Palm Coast"]\'');
  const baselines = spec.baselines === undefined ? values.map(() => '') : keys.map((k) => (spec.baselines as Record<string | number, string>)[k]);
  if (baselines.some((b) => typeof b !== 'string')) throw new AttrLensError(`--baselines must give one text per segment (${values.length}), as --values does; "" removes the segment`);
  const slotIndex = (slot: number | string): number => {
    const i = keys.findIndex((k) => String(k) === String(slot));
    if (i < 0) throw new AttrLensError(`--template names segment {${slot}}, which --values does not give (it gives ${keys.map((k) => `{${k}}`).join(', ')})`);
    return i;
  };
  const slots = parts.map((p) => ('slot' in p ? slotIndex(p.slot) : -1));
  const used = new Set(slots.filter((s) => s >= 0));
  if (used.size !== values.length) throw new AttrLensError(`--values gives ${values.length} segments but --template uses ${used.size}; give one value per {} of the template`);
  const render = (present: Uint8Array) => parts.map((p, i) => ('literal' in p ? p.literal : present[slots[i]] ? values[slots[i]] : baselines[slots[i]])).join('');
  const full = render(new Uint8Array(values.length).fill(1));
  const ids = tok.encodePrompt(full).ids;
  return {
    granularity: 'segment',
    text: full,
    labels: values,
    ids,
    build: (present) => tok.encodePrompt(render(present)).ids,
  };
}
