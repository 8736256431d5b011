// Model parameter randomisation (Adebayo et al. 2018, https://arxiv.org/abs/1810.03292): the
// parametrised layers from the output back to the input, and copies of the model with the top k
// of them re-initialised. Copies live in memory only; the user's file is never touched.
import { createHash } from 'crypto';
import { AttrLensError } from '../core/errors';
import { modulePath } from '../model/inspect';
import { attrInt } from '../onnx/attributes';
import { OnnxModel, topoOrder } from '../onnx/model';
import { NodeProto, TensorProto, num } from '../onnx/proto';
import { Rng } from '../methods/rng';
import { sizeOf } from '../core/tensor';

/**
 * How a parameter is re-initialised: `uniform` draws U(−1/√fanIn, 1/√fanIn), PyTorch's default for
 * Conv, ConvTranspose and Linear weights (kaiming_uniform with a = √5) and for their biases alike;
 * `ones`/`zeros` are a normalisation layer's defaults (scale 1, shift 0, running mean 0, variance 1),
 * which have no random init of their own.
 */
export type ParamInit = { kind: 'uniform'; fanIn: number } | { kind: 'ones' } | { kind: 'zeros' };

export interface ParamLayer {
  /** the node's name (or `Op#index` when it has none) */
  node: string;
  /** module path from the node name (`features.conv2`), '' when the name has none */
  module: string;
  /** what the layer is called in reports: its module path when no other layer shares it, else the node name */
  name: string;
  op: string;
  /** the initializers this layer owns, with how each is re-initialised */
  params: Array<{ name: string; role: string; dims: number[]; init: ParamInit }>;
}

const isFloatInit = (t: TensorProto | undefined): t is TensorProto => !!t && t.dataType === 1 && (t.dims ?? []).length > 0;

/**
 * The layers with float32 initializer weights, from the output back to the input (reverse
 * topological order): Conv, ConvTranspose, Gemm, MatMul (with the bias of an Add that alone reads
 * it), BatchNormalization, InstanceNormalization and LayerNormalization. A weight shared by several
 * nodes belongs to the topmost. Weights computed by nodes (Constant, quantised) are not randomised.
 */
export function parametrisedLayers(model: OnnxModel): ParamLayer[] {
  const g = model.graph;
  const inits = model.initializerMap();
  const order = topoOrder(g, model.name);
  const readers = new Map<string, NodeProto[]>();
  for (const n of g.node) for (const i of n.input) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const claimed = new Set<string>();
  const layers: ParamLayer[] = [];
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    const params: ParamLayer['params'] = [];
    const take = (name: string | undefined, role: string, init: (dims: number[]) => ParamInit): void => {
      const t = name ? inits.get(name) : undefined;
      if (!name || !isFloatInit(t) || claimed.has(name)) return;
      claimed.add(name);
      const dims = (t.dims ?? []).map(num);
      params.push({ name, role, dims, init: init(dims) });
    };
    const fan = (f: number) => (): ParamInit => ({ kind: 'uniform', fanIn: Math.max(1, f) });
    const w = (i: number) => (inits.has(n.input[i] ?? '') ? (inits.get(n.input[i])!.dims ?? []).map(num) : undefined);
    switch (n.opType) {
      case 'Conv':
      case 'ConvTranspose': {
        const d = w(1);
        if (!d || d.length < 3) break;
        // Conv weight (M, C/group, k...): fan-in C/group × k...; ConvTranspose's (C, M/group, k...):
        // PyTorch computes its fan-in from dims 1.. too
        const f = sizeOf(d.slice(1));
        take(n.input[1], 'weight', fan(f));
        take(n.input[2], 'bias', fan(f));
        break;
      }
      case 'Gemm': {
        const d = w(1);
        if (!d || d.length !== 2) break;
        const f = attrInt(n, 'transB', 0) ? d[1] : d[0];
        take(n.input[1], 'weight', fan(f));
        take(n.input[2], 'bias', fan(f));
        break;
      }
      case 'MatMul': {
        const d = w(1);
        if (!d || d.length < 2) break;
        const f = d[d.length - 2];
        take(n.input[1], 'weight', fan(f));
        // Linear exported as MatMul + Add(bias)
        const users = readers.get(n.output[0]) ?? [];
        if (users.length === 1 && users[0].opType === 'Add') {
          const bias = users[0].input.find((i) => i !== n.output[0]);
          const bd = bias && inits.get(bias)?.dims?.map(num);
          if (bd && bd.length === 1 && bd[0] === d[d.length - 1]) take(bias, 'bias', fan(f));
        }
        break;
      }
      case 'BatchNormalization':
        take(n.input[1], 'scale', () => ({ kind: 'ones' }));
        take(n.input[2], 'bias', () => ({ kind: 'zeros' }));
        take(n.input[3], 'mean', () => ({ kind: 'zeros' }));
        take(n.input[4], 'var', () => ({ kind: 'ones' }));
        break;
      case 'InstanceNormalization':
      case 'LayerNormalization':
        take(n.input[1], 'scale', () => ({ kind: 'ones' }));
        take(n.input[2], 'bias', () => ({ kind: 'zeros' }));
        break;
    }
    if (params.length) {
      const node = n.name || `${n.opType}#${g.node.indexOf(n)}`;
      layers.push({ node, module: modulePath(n.name, n.opType), name: node, op: n.opType, params });
    }
  }
  const uses = new Map<string, number>();
  for (const l of layers) uses.set(l.module, (uses.get(l.module) ?? 0) + 1);
  for (const l of layers) if (l.module && uses.get(l.module) === 1) l.name = l.module;
  return layers;
}

/** A 32-bit seed per (seed, parameter name): a layer gets the same weights at every cascade step. */
function paramSeed(seed: number, name: string): number {
  return createHash('sha256').update(`${seed >>> 0}|${name}`).digest().readUInt32LE(0);
}

/** The re-initialised values of one parameter. */
export function initValues(p: ParamLayer['params'][number], seed: number): Float32Array {
  const n = sizeOf(p.dims);
  const out = new Float32Array(n);
  if (p.init.kind === 'ones') return out.fill(1);
  if (p.init.kind === 'zeros') return out;
  const bound = 1 / Math.sqrt(p.init.fanIn);
  const rng = new Rng(paramSeed(seed, p.name));
  for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * bound;
  return out;
}

/**
 * A copy of `model` with the parameters of `layers` re-initialised (seeded). Other initializers
 * are shared with the original, not copied. The copy's content hash is derived from the original's
 * and the new bytes, so nothing keyed by content can take one model for the other.
 */
export function randomizedModel(model: OnnxModel, layers: readonly ParamLayer[], seed: number): OnnxModel {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new AttrLensError(`seed ${seed} must be an integer in 0..4294967295`);
  const m = model.clone();
  const fresh = new Map<string, TensorProto>();
  const hash = createHash('sha256').update(`${model.contentHash ?? 'unhashed'}|sanity`);
  for (const l of layers) {
    for (const p of l.params) {
      const data = initValues(p, seed);
      const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      hash.update(p.name).update(raw);
      fresh.set(p.name, { name: p.name, dataType: 1, dims: p.dims, rawData: raw });
    }
  }
  m.graph.initializer = m.graph.initializer.map((t) => fresh.get(t.name ?? '') ?? t);
  m.contentHash = hash.digest('hex');
  return m;
}
