import { buildGradient } from '../autodiff/builder';
import { AttrLensError } from '../core/errors';
import { IOInfo, LoadedModel } from './loadedModel';
import { discoverLabels } from '../onnx/labels';
import { num } from '../onnx/proto';
import { ResolvedPreprocess, resolvePreprocess } from '../inputs/preprocess';
import { Tensor } from '../core/tensor';
import { outputKindOf } from '../targets/env';

export interface LayerInfo {
  name: string;
  dims: number[];
  op: string;
  /** module path from the producing node's name: `/layer4/layer4.1/conv2/Conv` → `layer4.layer4.1.conv2` */
  module: string;
}

export interface ModelInspection {
  file?: string;
  irVersion: number;
  opset: number;
  producer: string;
  /** `note` says how an integer input is taken: as float pixels in place of its Cast, or why not */
  inputs: Array<IOInfo & { note?: string }>;
  /** `kind` (classification, dense, sequence, detection, other) and how it was recognised */
  outputs: Array<IOInfo & { kind?: string; kindWhy?: string }>;
  opCounts: Record<string, number>;
  labels?: string[];
  labelSource?: string;
  layers: LayerInfo[];
  batchable: boolean;
  gradients: { supported: boolean; unsupportedOps: string[]; message?: string };
  /** how an image becomes the first image input, and where that came from */
  preprocessing?: { config: ResolvedPreprocess; source: string };
  /** why the preprocessing found beside the model cannot be used */
  preprocessingError?: string;
}

export function modulePath(nodeName: string | undefined, op: string): string {
  if (!nodeName) return '';
  const parts = nodeName.split('/').filter(Boolean);
  if (parts.length && (parts[parts.length - 1] === op || parts[parts.length - 1].startsWith(`${op}_`))) parts.pop();
  return parts.join('.');
}

/** Everything a user wants to know before attributing: I/O, opset, ops, labels, layers, gradient support. */
export async function inspectModel(lmOrFile: LoadedModel | string, feeds?: Record<string, Tensor>): Promise<ModelInspection> {
  const lm = typeof lmOrFile === 'string' ? await LoadedModel.open(lmOrFile) : lmOrFile;
  const m = lm.model;
  const opCounts: Record<string, number> = {};
  for (const n of m.graph.node) {
    const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    opCounts[k] = (opCounts[k] ?? 0) + 1;
  }
  const producer = new Map<string, { name?: string; opType: string }>();
  for (const n of m.graph.node) for (const o of n.output) producer.set(o, n);
  const example = feeds ?? lm.exampleFeeds(1);
  let layers: LayerInfo[] = [];
  try {
    layers = (await lm.layers(example)).map((l) => ({ ...l, module: modulePath(producer.get(l.name)?.name, l.op) }));
  } catch (e) {
    if (!(e instanceof AttrLensError)) throw e;
  }
  const labels = discoverLabels(m);
  const outputs = await outputKinds(lm, example);
  const pre = firstImagePreprocessing(lm);
  return {
    file: m.file,
    irVersion: num(m.proto.irVersion),
    opset: m.opset(''),
    producer: [m.proto.producerName, m.proto.producerVersion].filter(Boolean).join(' '),
    inputs: lm.inputs.map((i) => ({ ...i, ...(i.promotedFrom ? { note: `${i.promotedFrom}, differentiated after its Cast` } : i.integerUse ? { note: i.integerUse } : {}) })),
    outputs,
    opCounts,
    labels: labels?.labels,
    labelSource: labels?.source,
    layers,
    batchable: lm.maxBatch > 1,
    gradients: await gradientSupport(lm, example),
    ...pre,
  };
}

/** Each output with its kind, recognised from its shape at the example feeds (targets/outputs.ts). */
async function outputKinds(lm: LoadedModel, feeds: Record<string, Tensor>): Promise<ModelInspection['outputs']> {
  let dims: Map<string, number[]> | undefined;
  try {
    dims = (await lm.shapes(feeds)).dims;
  } catch (e) {
    if (!(e instanceof AttrLensError)) throw e;
  }
  return lm.outputs.map((o) => {
    const d = dims?.get(o.name) ?? (o.dims.every((x) => typeof x === 'number') ? (o.dims as number[]) : undefined);
    if (!d) return o;
    try {
      const k = outputKindOf(lm, o.name, d);
      return { ...o, kind: k.kind, kindWhy: k.why };
    } catch (e) {
      if (!(e instanceof AttrLensError)) throw e;
      return { ...o, kindWhy: e.message };
    }
  });
}

/** The preprocessing of the first float input shaped like an image (4 dims, 1 or 3 channels). */
function firstImagePreprocessing(lm: LoadedModel): Pick<ModelInspection, 'preprocessing' | 'preprocessingError'> {
  const input = lm.inputs.find((i) => i.dims.length === 4 && i.dtype === 'float32' && [1, 3].some((c) => i.dims[1] === c || i.dims[3] === c));
  if (!input) return {};
  try {
    const config = resolvePreprocess(lm, input.name);
    return { preprocessing: { config, source: config.source } };
  } catch (e) {
    if (!(e instanceof AttrLensError)) throw e;
    return { preprocessingError: e.message };
  }
}

async function gradientSupport(lm: LoadedModel, feeds: Record<string, Tensor>): Promise<ModelInspection['gradients']> {
  const floatInputs = lm.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name);
  const integerUse = lm.inputs.find((i) => i.integerUse)?.integerUse;
  if (floatInputs.length === 0) return { supported: false, unsupportedOps: [], message: integerUse ?? 'no float input: use layer methods on an embedding, or perturbation methods' };
  try {
    const shapes = await lm.shapes(feeds);
    buildGradient(lm.forwardModel, { output: lm.outputs[0].name, wrt: floatInputs }, shapes);
    return { supported: true, unsupportedOps: [] };
  } catch (e) {
    if (e instanceof AttrLensError && e.code === 'ENOGRADRULE') {
      const op = /no gradient rule for op (\S+)/.exec(e.message)?.[1];
      return { supported: false, unsupportedOps: op ? [op] : [], message: e.message };
    }
    return { supported: false, unsupportedOps: [], message: (e as Error).message };
  }
}
