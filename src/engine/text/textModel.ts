import { AttrLensError } from '../core/errors';
import type { IOInfo, LoadedModel } from '../model/loadedModel';
import { NodeProto } from '../onnx/proto';
import { Tensor } from '../core/tensor';

/** The graph inputs of a text model, by role. */
export interface TextInputs {
  ids: IOInfo;
  mask?: IOInfo;
  tokenTypes?: IOInfo;
  positions?: IOInfo;
  /** the sequence length when the model fixes it (dims [1, 12]); undefined when symbolic */
  seqLen?: number;
}

const INT_TYPES = new Set(['int64', 'int32']);
const ROLES: Array<[keyof Omit<TextInputs, 'ids' | 'seqLen'>, RegExp]> = [
  ['mask', /attention_?mask|input_?mask|^mask$/i],
  ['tokenTypes', /token_?type|segment/i],
  ['positions', /position_?ids/i],
];
const IDS = /(^|[_.])input_?ids$|^ids$|^tokens?$|token_?ids$/i;

/**
 * Recognises a text model: an integer input of token ids (named like `input_ids`, or the only
 * integer input) and optional attention mask, token type and position inputs; every other
 * input makes it something else. Undefined when it is not a text model.
 */
export function textInputsOf(lm: LoadedModel): TextInputs | undefined {
  const ints = lm.inputs.filter((i) => i.dtype && INT_TYPES.has(i.dtype));
  if (!ints.length) return undefined;
  const roleOf = (i: IOInfo) => ROLES.find(([, re]) => re.test(i.name))?.[0];
  const ids = ints.find((i) => IDS.test(i.name)) ?? (ints.filter((i) => !roleOf(i)).length === 1 ? ints.find((i) => !roleOf(i)) : undefined);
  if (!ids) return undefined;
  const out: TextInputs = { ids };
  for (const i of lm.inputs) {
    if (i === ids) continue;
    const role = roleOf(i);
    if (!role || out[role]) return undefined;
    out[role] = i;
  }
  const d = ids.dims;
  if (d.length !== 2 || (typeof d[0] === 'number' && d[0] !== 1)) return undefined;
  if (typeof d[1] === 'number' && d[1] > 0) out.seqLen = d[1];
  return out;
}

/** Like textInputsOf, with an error that says why the model is not taken for a text model. */
export function requireTextInputs(lm: LoadedModel): TextInputs {
  const ti = textInputsOf(lm);
  if (ti) return ti;
  const desc = lm.inputs.map((i) => `${i.name} ${i.dtype ?? i.elemType} [${i.dims.map((x) => x ?? '?').join(', ')}]`).join(', ');
  throw new AttrLensError(
    `${lm.label} is not a text model: it needs an integer token-id input of shape [1, sequence] (named like input_ids) and at most attention_mask, token_type_ids and position_ids besides; its inputs are ${desc}`,
  );
}

function intTensor(info: IOInfo, values: number[]): Tensor {
  const dims = [1, values.length];
  switch (info.dtype) {
    case 'int64':
      return { dtype: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
    case 'int32':
      return { dtype: 'int32', dims, data: Int32Array.from(values) };
    case 'float32':
      return { dtype: 'float32', dims, data: Float32Array.from(values) };
    case 'bool':
    case 'uint8':
      return { dtype: info.dtype, dims, data: Uint8Array.from(values) };
    default:
      throw new AttrLensError(`input '${info.name}' has type ${info.dtype ?? info.elemType}, which a text model's ${info.name} cannot have; expected int64 or int32`);
  }
}

/**
 * Batch-1 feeds for token ids of which the first `real` are text (the rest padding):
 * attention mask 1 on real tokens and 0 on padding, token types 0, positions 0..L-1.
 */
export function textFeeds(ti: TextInputs, ids: number[], real: number): Record<string, Tensor> {
  const L = ids.length;
  const feeds: Record<string, Tensor> = { [ti.ids.name]: intTensor(ti.ids, ids) };
  if (ti.mask) feeds[ti.mask.name] = intTensor(ti.mask, ids.map((_, i) => (i < real ? 1 : 0)));
  if (ti.tokenTypes) feeds[ti.tokenTypes.name] = intTensor(ti.tokenTypes, new Array<number>(L).fill(0));
  if (ti.positions) feeds[ti.positions.name] = intTensor(ti.positions, ids.map((_, i) => i));
  return feeds;
}

export interface WordEmbedding {
  /** the Gather's output: the layer attributed to */
  layer: string;
  node: string;
  /** the embedding table initializer */
  table: string;
  vocabSize: number;
  dim: number;
}

// Ops that pass token ids (or a table) through without changing which values they hold.
const PASS_THROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten']);

/**
 * The word-embedding lookup: the Gather whose data is a float initializer (the table) and
 * whose indices come from the token ids; positional and segment embeddings gather by other
 * indices and are left alone. With several candidates, the largest table wins.
 */
export function findWordEmbedding(lm: LoadedModel, ti: TextInputs): WordEmbedding {
  const g = lm.model.graph;
  const producer = new Map<string, NodeProto>();
  for (const n of g.node) for (const o of n.output) if (o) producer.set(o, n);
  const inits = new Map(g.initializer.map((t) => [t.name ?? '', t]));
  const source = (name: string): string => {
    for (let hops = 0; hops < 16; hops++) {
      const p = producer.get(name);
      if (!p || !PASS_THROUGH.has(p.opType)) return name;
      name = p.input[0];
    }
    return name;
  };
  const candidates: WordEmbedding[] = [];
  for (const n of g.node) {
    if (n.opType !== 'Gather' || source(n.input[1]) !== ti.ids.name) continue;
    const table = inits.get(source(n.input[0]));
    if (!table || ![1, 10, 11, 16].includes(table.dataType ?? 0) || (table.dims ?? []).length !== 2) continue;
    const axis = Number(n.attribute?.find((a) => a.name === 'axis')?.i ?? 0);
    if (axis !== 0) continue;
    const [v, d] = (table.dims ?? []).map(Number);
    candidates.push({ layer: n.output[0], node: n.name ?? n.output[0], table: table.name ?? '', vocabSize: v, dim: d });
  }
  if (!candidates.length) {
    throw new AttrLensError(
      `${lm.label}: found no word-embedding lookup (a Gather of a float table by '${ti.ids.name}'); name the embedding output with params.layer (attrlens inspect lists the layers)`,
    );
  }
  candidates.sort((a, b) => b.vocabSize - a.vocabSize);
  return candidates[0];
}
