// Engine results → the panel protocol's plain data (vscode-free).
import type { AttributionResult, ModelInspection, Tensor } from '../engine';
import { asFloat32 } from '../engine/core/tensor';
import { bytesToBase64, float32ToBase64 } from '../shared/base64';
import { cleanRegionMask } from '../shared/regionMask';
import type { AttributionMap, AttributionPayload, DetectionItem, ModelSummary, PanelImage, ParamValue, RegionItem, StepItem, StructuredTargets } from '../shared/protocol';
import type { ImagePixels } from './engine/engineProtocol';

export function toAttributionMap(t: Tensor, input?: string): AttributionMap {
  const values = asFloat32(t);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  return { dims: [...t.dims], data: float32ToBase64(values), min, max, input };
}

export function toPanelImage(img: ImagePixels, input?: string): PanelImage {
  return { encoding: 'rgba8-base64', width: img.width, height: img.height, data: bytesToBase64(img.rgba), input };
}

export function toModelSummary(ins: ModelInspection, name: string): ModelSummary {
  const io = (x: ModelInspection['inputs'][number]) => ({ name: x.name, dims: [...x.dims], dtype: x.dtype });
  return {
    name,
    inputs: ins.inputs.map(io),
    outputs: ins.outputs.map(io),
    labels: ins.labels,
    layers: ins.layers.map((l) => ({ name: l.name, module: l.module, op: l.op, dims: [...l.dims] })),
    gradientsSupported: ins.gradients.supported,
  };
}

/** The attribution of the image input (else the first input). */
export function primaryAttribution(res: AttributionResult, preferInput?: string): { input: string; tensor: Tensor } {
  const names = Object.keys(res.attributions);
  if (names.length === 0) throw new Error(`${res.method} returned no attribution`);
  const input = preferInput && names.includes(preferInput) ? preferInput : names[0];
  return { input, tensor: res.attributions[input] };
}

export function toPayload(res: AttributionResult, preferInput?: string): AttributionPayload {
  const { input, tensor } = primaryAttribution(res, preferInput);
  return {
    method: res.method,
    target: res.target,
    targetLabel: res.targetLabel,
    map: toAttributionMap(tensor, input),
    delta: res.delta,
    seconds: res.seconds,
    layer: res.layer,
    params: plainParams(res.params),
    ...(res.targetSpec && res.targetSpec.kind !== 'class' ? { spec: res.targetSpec.text } : {}),
    ...(structuredTargets(res.outputKind, res.targets) ? { structured: structuredTargets(res.outputKind, res.targets) } : {}),
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const box = (v: unknown): number[] => (Array.isArray(v) ? v.slice(0, 4).map(num) : [0, 0, 0, 0]);

/** The engine's `targets` lists for a detection, dense or sequence output, as the panel draws them. */
export function structuredTargets(kind: string | undefined, targets: Record<string, Array<Record<string, unknown> & { target: string }>> | undefined): StructuredTargets | undefined {
  if (!targets || (kind !== 'detection' && kind !== 'dense' && kind !== 'sequence')) return undefined;
  const out: StructuredTargets = { kind };
  if (targets.detections) {
    out.detections = targets.detections.map((d): DetectionItem => ({ target: d.target, index: num(d.index), box: box(d.box), class: num(d.class), label: str(d.label), score: num(d.score) }));
  }
  if (targets.regions) {
    out.regions = targets.regions.map((r): RegionItem => ({ target: r.target, class: num(r.class), label: str(r.label), pixels: num(r.pixels), box: box(r.box), ...(cleanRegionMask(r.mask) ? { mask: cleanRegionMask(r.mask) } : {}) }));
  }
  if (targets.steps) {
    out.steps = targets.steps.map((t): StepItem => ({ target: t.target, step: num(t.step), index: num(t.index), label: str(t.label), probability: num(t.probability) }));
  }
  return out;
}

/** Parameters as the panel can show them: tensors and other objects become a short description. */
export function plainParams(params: Record<string, unknown>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') out[k] = v;
    else if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : String(v);
    else if (Array.isArray(v) && v.length <= 64 && v.every((x) => typeof x === 'number')) out[k] = v as number[];
    else if (v && typeof v === 'object' && 'dims' in v && Array.isArray((v as Tensor).dims)) out[k] = `tensor [${(v as Tensor).dims.join(', ')}]`;
    else if (v !== undefined) out[k] = JSON.stringify(v)?.slice(0, 200) ?? String(v);
  }
  return out;
}
