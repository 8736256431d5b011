// One name for a layer everywhere (Models view, .onnx editor, panel pickers and summaries), and
// which layers a method can take. Host and webview both import this; it imports nothing.

/** A layer as inspectModel lists it. */
export interface LayerLike {
  /** tensor name, e.g. `/features/conv2/Conv_output_0` */
  name: string;
  /** the engine's module path from the producing node's name, e.g. `features.conv2` (may be '') */
  module?: string;
  op: string;
  dims: readonly number[];
}

/** TensorFlow op names tf2onnx keeps at the end of a node name (`…/conv2d/BiasAdd`). */
const TF_OP = /^(BiasAdd|Conv2D|Conv2DBackpropInput|DepthwiseConv2dNative|MatMul|BatchMatMul(V2)?|FusedBatchNorm(V[23])?|Relu6?|Elu|Selu|Sigmoid|Tanh|Softmax|Add(V2|N)?|Mul|Sub|RealDiv|Mean|Sum|Max|Squeeze|Reshape|Transpose|ConcatV2|Pad|MaxPool|AvgPool|Tensordot|Identity|Cast|Shape|StridedSlice|Pack|Rsqrt|Square|ExpandDims|Erf|Pow|Gelu)(_\d+)?$/;
/** Function wrappers tf2onnx keeps at the start of a node name. */
const TF_WRAPPER = /^(StatefulPartitionedCall|PartitionedCall|__inference_.*)(_\d+)?$/;

/** The node part of a tensor name: `_output_0` (torch) and `:0` (TensorFlow) dropped. */
function nodePart(name: string): string {
  return name.replace(/:\d+$/, '').replace(/_output_\d+$/, '');
}

/**
 * The module path a node or tensor name encodes, as the framework's users write it:
 * torch `/layer4/layer4.1/conv2/Conv` → `layer4.1.conv2` (a child of a Sequential is written
 * `parent.index`, repeating its parent), tf2onnx `StatefulPartitionedCall/model/conv2d/BiasAdd`
 * → `model.conv2d`, Paddle `conv2d_53.tmp_0` → `conv2d_53`. The op at the end is dropped;
 * a name with no module (`/Flatten`, `logits`, `onnx::Gemm_12`) gives ''. `dotted`: the name is
 * the engine's module path (node-name parts joined by dots), where one word is a module.
 */
export function modulePathOf(name: string, op: string, opts: { dotted?: boolean } = {}): string {
  const node = nodePart(name.trim());
  if (!node) return '';
  let parts: string[];
  if (node.includes('/')) {
    parts = node.split('/').filter(Boolean);
  } else {
    const paddle = /^([A-Za-z_][\w]*?)\.tmp_\d+$/.exec(node);
    if (paddle) return paddle[1];
    // paddle2onnx names nodes `p2o.Conv.3`; torch's legacy exporter `onnx::Conv_12` or `input.4`
    if (/^p2o\./.test(node) || node.includes('::') || /^(input\.)?\d+$/.test(node)) return '';
    // the engine's dotted form: a numeric part belongs to the segment before it
    parts = [];
    for (const p of node.split('.')) {
      if (!p) continue;
      if (/^\d+$/.test(p) && parts.length > 0) parts[parts.length - 1] += `.${p}`;
      else parts.push(p);
    }
    // one plain word is a tensor's own name (`logits`), not a module path, unless it came from a node
    if (parts.length < 2 && !opts.dotted) return '';
  }
  while (parts.length > 0 && TF_WRAPPER.test(parts[0])) parts.shift();
  const last = parts[parts.length - 1];
  // op '' (not known): an ONNX op's name is PascalCase, a module's an attribute name
  const isOp = (p: string) => (op ? p === op || p.startsWith(`${op}_`) : /^[A-Z][A-Za-z0-9]*(_\d+)?$/.test(p)) || TF_OP.test(p);
  if (last !== undefined && isOp(last)) parts.pop();
  // torch repeats the parent: [layer4, layer4.1, conv2] → layer4.1.conv2
  let path = '';
  let prev = '';
  for (const p of parts) {
    if (prev && p.startsWith(`${prev}.`)) path += p.slice(prev.length);
    else path += (path ? '.' : '') + p;
    prev = p;
  }
  return path;
}

/** A layer's module path: from the engine's (node-name) module, else from its tensor name. */
export function layerModulePath(layer: LayerLike): string {
  return (layer.module ? modulePathOf(layer.module, layer.op, { dotted: true }) : '') || modulePathOf(layer.name, layer.op);
}

/** The last part of a tensor's node name: `/Flatten_output_0` → `Flatten`, `logits` → `logits`. */
function shortName(name: string): string {
  const node = nodePart(name);
  const parts = node.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? name;
}

/**
 * Display names for a model's layers, unique within the list: the module path
 * (`features.conv2`); with the op when several layers share one module or there is no module
 * (`layer4.1 · Add`, `Flatten`); the node's own suffix when even that repeats (`· Reshape_1`).
 */
export function layerDisplayNames(layers: readonly LayerLike[]): Map<string, string> {
  const base = layers.map((l) => layerModulePath(l));
  const count = new Map<string, number>();
  for (const b of base) count.set(b, (count.get(b) ?? 0) + 1);
  const first = layers.map((l, i) => {
    const b = base[i];
    if (!b) return shortName(l.name);
    return count.get(b) === 1 ? b : `${b} · ${l.op}`;
  });
  const again = new Map<string, number>();
  for (const f of first) again.set(f, (again.get(f) ?? 0) + 1);
  const out = new Map<string, string>();
  layers.forEach((l, i) => {
    let name = first[i];
    if ((again.get(name) ?? 0) > 1) {
      const suffix = shortName(l.name);
      name = base[i] ? `${base[i]} · ${suffix}` : l.name;
    }
    out.set(l.name, name);
  });
  return out;
}

/** The display name of one tensor, looked up among the model's layers when they are known. */
export function layerDisplayName(tensor: string, layers?: readonly LayerLike[]): string {
  const hit = layers?.find((l) => l.name === tensor);
  if (hit) return layerDisplayNames(layers!).get(tensor) ?? tensor;
  return modulePathOf(tensor, '') || tensor;
}

/** `Conv [1, 8, 32, 32]`: the secondary text beside a display name. */
export function layerDetail(layer: LayerLike): string {
  return `${layer.op} [${layer.dims.join(', ')}]`;
}

// ---- which layers a method takes ----------------------------------------------------------

/** Token count → patch grid (h, w) and whether a class token leads. */
export function tokenGrid(t: number): { h: number; w: number; cls: number } | undefined {
  for (const cls of [1, 0]) {
    const n = t - cls;
    const r = Math.round(Math.sqrt(n));
    if (n >= 4 && r * r === n) return { h: r, w: r, cls };
  }
  return undefined;
}

/** A CAM can use it: (1, C, H, W) with H and W > 1, or ViT tokens (1, 1+h·w, C) that fold to a grid. */
export function isSpatialLayer(l: LayerLike): boolean {
  if (l.dims[0] !== 1) return false;
  if (l.dims.length === 4) return l.dims[2] > 1 && l.dims[3] > 1;
  return l.dims.length === 3 && tokenGrid(l.dims[1]) !== undefined;
}

/**
 * The layer a CAM method uses when none is given (the engine's camLayer uses this): the last
 * (1,C,H,W) with H·W > 1 or the last token layer before the last attention Softmax, whichever
 * comes later. Layers come in graph order; dimension 0 must be the batch (1 in the probe), as
 * attention heads also make (2, 17, 17). For token layers, after the last attention Softmax only
 * the class token reaches the output, so patch tokens get no gradient (pytorch-grad-cam's advice:
 * the last block's first norm).
 */
export function defaultCamLayer(layers: readonly LayerLike[]): string | undefined {
  let lastSoftmax = layers.length;
  layers.forEach((l, i) => l.op === 'Softmax' && (lastSoftmax = i));
  let pick = -1;
  layers.forEach((l, i) => {
    if (l.dims[0] !== 1) return;
    if (l.dims.length === 4 && l.dims[2] * l.dims[3] > 1) pick = i;
    else if (l.dims.length === 3 && tokenGrid(l.dims[1]) !== undefined && i < lastSoftmax) pick = i;
  });
  return pick >= 0 ? layers[pick].name : undefined;
}

/** What a method's layer picker offers: the layers that apply, and the one used when none is chosen. */
export function layerChoices<L extends LayerLike>(family: string, layers: readonly L[]): { layers: L[]; defaultLayer?: string } {
  if (family === 'cam') return { layers: layers.filter(isSpatialLayer), defaultLayer: defaultCamLayer(layers) };
  // a neuron is an index into a layer without its batch axis: there must be one
  if (family === 'neuron') return { layers: layers.filter((l) => l.dims.length >= 2) };
  return { layers: layers.slice() };
}
