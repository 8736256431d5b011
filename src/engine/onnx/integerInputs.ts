import { createHash } from 'crypto';
import { isFloatCode, ONNX_DTYPE_NAME, Tensor } from '../core/tensor';
import { OnnxModel } from './model';
import { AttrType, GraphProto, NodeProto, ValueInfoProto, num } from './proto';

export interface IntegerInputs {
  /** the model with each promoted input made float32 in place of its Cast (the same model when none is) */
  model: OnnxModel;
  /** promoted input → the integer type it had ('uint8', 'int32', ...) */
  promoted: Map<string, string>;
  /** integer inputs that are cast to float but also used as integers: why they stay as they are */
  refused: Map<string, string>;
}

const INTEGER = new Set([2, 3, 4, 5, 6, 7, 12, 13]);
// Ops that move an integer input's values without reading them as integers: they run on float alike.
const MOVES = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Slice']);
// Ops that read only a tensor's shape.
const SHAPE_OF = new Set(['Shape', 'Size']);
// Ops whose integer operand at this index selects entries: token ids into an embedding.
const INDEXES: Record<string, number> = { Gather: 1, GatherElements: 1, GatherND: 1, OneHot: 0 };
const CAST_NAMES: Record<string, number> = { FLOAT: 1, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 };

interface Uses {
  /** the input and the tensors that move its values unchanged */
  carriers: string[];
  casts: NodeProto[];
  /** uses that read the values as integers */
  integer: string[];
  indexes: boolean;
}

/**
 * TF-style exports take uint8 (or int) pixels and Cast them to float inside the graph, so
 * there is no float input to differentiate. Each integer input whose every use is such a Cast
 * (through shape-only ops) becomes a float32 input of the same shape in the Cast's place:
 * gradients are then in pixels, in the input's own layout, as Captum's would be for the same
 * function of float pixels, and the model sees exactly the float values given. A Cast to
 * float16/double stays (now from float32). A model whose integer inputs index an embedding
 * (token ids) is left as it is: its masks and ids are the text path's.
 */
export function promoteIntegerInputs(model: OnnxModel): IntegerInputs {
  const g = model.graph;
  const promoted = new Map<string, string>();
  const refused = new Map<string, string>();
  const ints = model.realInputs().filter((i) => INTEGER.has(i.type?.tensorType?.elemType ?? 0));
  if (!ints.length) return { model, promoted, refused };

  const consumers = new Map<string, Array<[NodeProto, number]>>();
  g.node.forEach((n) => n.input.forEach((t, i) => t && (consumers.get(t) ?? consumers.set(t, []).get(t)!).push([n, i])));
  const outputs = new Set(g.output.map((o) => o.name ?? ''));
  const inSubgraphs = subgraphReads(g);
  const uses = new Map(ints.map((i) => [i.name ?? '', usesOf(i.name ?? '', consumers, outputs, inSubgraphs)]));
  if ([...uses.values()].some((u) => u.indexes)) return { model, promoted, refused };

  const m = model.clone();
  const index = new Map(g.node.map((n, i) => [n, i]));
  const drop = new Set<number>();
  const rename = new Map<string, string>();
  const float = new Set<string>();
  for (const [name, u] of uses) {
    if (!u.casts.length) continue;
    const type = ONNX_DTYPE_NAME[m.graph.input.find((i) => i.name === name)?.type?.tensorType?.elemType ?? 0];
    if (u.integer.length) {
      refused.set(name, `input '${name}' (${type}) is cast to float but also used as integers by ${u.integer.slice(0, 3).join(', ')}, so it cannot take an image or be differentiated: give it a .npy of ${type} values`);
      continue;
    }
    promoted.set(name, type);
    u.carriers.forEach((t) => float.add(t));
    for (const c of u.casts) {
      if (castTo(c) !== 1) continue; // a Cast to float16/double stays: it now casts from float32
      const i = index.get(c)!;
      const out = c.output[0];
      if (outputs.has(out) || inSubgraphs.has(out)) m.graph.node[i] = { ...m.graph.node[i], opType: 'Identity', attribute: [] };
      else {
        drop.add(i);
        rename.set(out, c.input[0]);
      }
    }
  }
  if (!promoted.size) return { model, promoted, refused };

  m.graph.node = m.graph.node.filter((_, i) => !drop.has(i));
  for (const n of m.graph.node) n.input = n.input.map((t) => rename.get(t) ?? t);
  const asFloat = (v: ValueInfoProto): ValueInfoProto => {
    const tt = v.type?.tensorType;
    return float.has(v.name ?? '') && tt ? { ...v, type: { tensorType: { ...tt, elemType: 1 } } } : v;
  };
  m.graph.input = m.graph.input.map(asFloat);
  m.graph.valueInfo = (m.graph.valueInfo ?? []).filter((v) => !rename.has(v.name ?? '')).map(asFloat);
  if (model.contentHash) m.contentHash = createHash('sha256').update(`${model.contentHash}|float inputs ${[...promoted.keys()].join(',')}`).digest('hex');
  return { model: m, promoted, refused };
}

/** Feeds with integer tensors for promoted inputs turned into the float32 values their Cast made of them. */
export function floatFeeds(inputs: ReadonlyArray<{ name: string; promotedFrom?: string }>, feeds: Record<string, Tensor>): Record<string, Tensor> {
  let out = feeds;
  for (const i of inputs) {
    const t = feeds[i.name];
    if (!i.promotedFrom || !t || t.dtype === 'float32' || t.dtype === 'bool' || t.dtype === 'float16') continue;
    if (out === feeds) out = { ...feeds };
    out[i.name] = { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as ArrayLike<number | bigint>, Number) };
  }
  return out;
}

function usesOf(input: string, consumers: Map<string, Array<[NodeProto, number]>>, outputs: Set<string>, inSubgraphs: Set<string>): Uses {
  const u: Uses = { carriers: [input], casts: [], integer: [], indexes: false };
  for (let k = 0; k < u.carriers.length; k++) {
    const t = u.carriers[k];
    if (outputs.has(t)) u.integer.push('a model output');
    if (inSubgraphs.has(t)) u.integer.push('a subgraph');
    for (const [n, i] of consumers.get(t) ?? []) {
      const std = !n.domain || n.domain === 'ai.onnx';
      if (std && n.opType === 'Cast' && isFloatCode(castTo(n))) u.casts.push(n);
      else if (std && MOVES.has(n.opType) && i === 0) u.carriers.push(n.output[0]);
      else if (std && SHAPE_OF.has(n.opType)) continue;
      else {
        u.integer.push(`${n.opType} '${n.name || n.output[0]}'`);
        if (std && INDEXES[n.opType] === i) u.indexes = true;
      }
    }
  }
  return u;
}

/** Cast's target type code; opsets 1-5 name it as a string. */
function castTo(n: NodeProto): number {
  const a = n.attribute?.find((x) => x.name === 'to');
  if (!a) return 0;
  if (a.type === AttrType.STRING || (a.s && a.i === undefined)) return CAST_NAMES[new TextDecoder().decode(a.s).toUpperCase()] ?? 0;
  return num(a.i);
}

/** Names read inside If/Loop/Scan bodies (outer-scope values among them). */
function subgraphReads(g: GraphProto, into = new Set<string>(), nested = false): Set<string> {
  for (const n of g.node) {
    if (nested) n.input.forEach((t) => into.add(t));
    for (const a of n.attribute ?? []) for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) subgraphReads(sg, into, true);
  }
  return into;
}
