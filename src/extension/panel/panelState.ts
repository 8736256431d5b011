// The Attribution panel's state as the host holds it, and its transitions as pure functions
// (vscode-free, unit-tested in test/extension/panelState.test.ts). The host is the one source of
// truth: it sends the whole state (`HostPanelState`, src/shared/protocol.ts) and the webview
// renders from it. Fields may be added freely; every transition copies the state it is given.
import { defaultStructuredTarget, structuredName } from '../../shared/targets';
import { isStructuredTarget, isViewSettings, type HostPanelState, type PanelTarget, type StructuredTargets, type MethodInfo, type ModelSummary, type ParamValue, type ParamValues, type Prediction, type ViewSettings } from '../../shared/protocol';

export type { HostPanelState };
export { defaultStructuredTarget, structuredName };

/** A method is cheap when one run takes at most this many forward/backward passes. */
export const CHEAP_PASSES = 64;

/** The parameters that multiply a method's passes (Captum's n_steps, n_samples, …). */
const PASS_PARAMS = ['nSteps', 'nSamples', 'nMasks', 'ntSamples'] as const;
/** CAMs that run the model once per channel: as slow as perturbation methods. */
const SLOW_CAMS = new Set(['score-cam', 'ablation-cam']);
/** Perturbation methods whose pass count is a sample-count parameter; the others scale with the input. */
const SAMPLED_PERTURBATION = new Set(['rise', 'lime', 'kernel-shap', 'shapley-value-sampling', 'feature-permutation']);
/** Layer and neuron methods that run the model once per feature: as slow as perturbation methods. */
const PER_FEATURE = new Set(['layer-feature-ablation', 'layer-feature-permutation', 'neuron-feature-ablation']);

/** A parameter's value with the method's own default filled in; null and '' mean "the default". */
function valueOf(info: MethodInfo | undefined, params: ParamValues, name: string): ParamValue | undefined {
  const v = params[name];
  if (v !== undefined && v !== null && v !== '') return v;
  return info?.params.find((p) => p.name === name)?.default as ParamValue | undefined;
}

/**
 * Roughly how many passes one run takes: 1 for gradient methods with one backward pass and for
 * CAMs, the step or sample count for path and sampling methods, Infinity when it grows with the
 * input (occlusion, feature ablation, Score-CAM) or is unknown.
 */
export function passes(info: MethodInfo | undefined, params: ParamValues): number {
  if (!info) return Infinity;
  if (info.id === 'noise-tunnel') {
    const n = Number(valueOf(info, params, 'ntSamples') ?? 5);
    const base = String(valueOf(info, params, 'baseMethod') ?? 'saliency');
    return base === 'integrated-gradients' ? n * 50 : n;
  }
  if (info.family === 'cam') return SLOW_CAMS.has(info.id) ? Infinity : 1;
  if (info.family === 'perturbation' && !SAMPLED_PERTURBATION.has(info.id)) return Infinity;
  if (PER_FEATURE.has(info.id)) return Infinity;
  let n = 1;
  for (const name of PASS_PARAMS) {
    if (!info.params.some((p) => p.name === name)) continue;
    const v = Number(valueOf(info, params, name));
    n *= Number.isFinite(v) && v > 0 ? v : 50;
  }
  return n;
}

/** Cheap enough to run without being asked: a changed method or target re-runs at once, a new image may repeat it. */
export function isCheap(info: MethodInfo | undefined, params: ParamValues): boolean {
  return passes(info, params) <= CHEAP_PASSES;
}

/** Parameters compared by meaning: defaults filled in, null/'' the same as absent. */
export function sameParams(info: MethodInfo | undefined, a: ParamValues, b: ParamValues): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b), ...(info?.params.map((p) => p.name) ?? [])]);
  for (const n of names) if (JSON.stringify(valueOf(info, a, n) ?? null) !== JSON.stringify(valueOf(info, b, n) ?? null)) return false;
  return true;
}

export function methodName(methods: readonly MethodInfo[], id: string): string {
  return methods.find((m) => m.id === id)?.captumName ?? id;
}

export function targetName(target: PanelTarget, summary: ModelSummary | undefined, predictions: readonly Prediction[], structured?: StructuredTargets): string {
  if (typeof target === 'string') return structuredName(target, structured, summary);
  return summary?.labels?.[target] ?? predictions.find((p) => p.index === target)?.label ?? `output ${target}`;
}

/** A target as it can be restored: a class index or a structured target in the engine's grammar. */
export function isPanelTarget(v: unknown): v is PanelTarget {
  return (typeof v === 'number' && Number.isInteger(v) && v >= 0) || isStructuredTarget(v);
}

/** A layer's name as the Models view shows it (its module path), else the graph's tensor name. */
export function layerDisplayName(summary: ModelSummary | undefined, layer: string): string {
  const l = summary?.layers?.find((x) => x.name === layer);
  return l?.module || layer;
}

/**
 * What a neuron run explains, from its parameters: the layer, the channel and the position
 * (Captum's neuron_selector: an index per axis without the batch axis, or a flat index).
 */
export function neuronSubject(summary: ModelSummary | undefined, params: ParamValues): string | undefined {
  const layer = typeof params.layer === 'string' ? params.layer : undefined;
  const sel = params.neuronSelector;
  if (!layer || sel === undefined || sel === null || sel === '') return undefined;
  const dims = summary?.layers?.find((x) => x.name === layer)?.dims.slice(1);
  let coords: number[] | undefined = Array.isArray(sel) ? sel : undefined;
  if (typeof sel === 'number' && dims && dims.length > 0) {
    coords = [];
    let rest = sel;
    for (let a = dims.length - 1; a >= 0; a--) {
      coords.unshift(rest % dims[a]);
      rest = Math.floor(rest / dims[a]);
    }
  }
  const name = layerDisplayName(summary, layer);
  if (!coords) return `neuron ${String(sel)} of ${name}`;
  if (coords.length >= 3) return `channel ${coords[0]} of ${name} at (${coords.slice(1).join(', ')})`;
  if (coords.length === 2) return `unit ${coords[1]} of ${name} at token ${coords[0]}`;
  return `unit ${coords[0]} of ${name}`;
}

export interface CaptionContext {
  methods: readonly MethodInfo[];
  summary?: ModelSummary;
  predictions: readonly Prediction[];
  /** what can be targeted on a structured output (names `box:0` as "box 0 (red, 0.97)") */
  structured?: StructuredTargets;
}

/** "IntegratedGradients for red"; neuron runs name the neuron instead of the class. */
export function caption(c: CaptionContext, method: string, params: ParamValues, target: PanelTarget): string {
  const info = c.methods.find((m) => m.id === method);
  const subject = info?.family === 'neuron' ? neuronSubject(c.summary, params) : undefined;
  return `${methodName(c.methods, method)} for ${subject ?? targetName(target, c.summary, c.predictions, c.structured)}`;
}

/** The parameters that shape a result, briefly ("nSteps 50, layer …"): what a stale map was made with. */
export function paramsBrief(info: MethodInfo | undefined, params: ParamValues): string {
  const parts: string[] = [];
  for (const p of info?.params ?? []) {
    const v = valueOf(info, params, p.name);
    if (v === undefined || v === null || v === '' || p.kind === 'boolean') continue;
    const s = Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
    if (s.length <= 40) parts.push(`${p.name} ${s}`);
  }
  return parts.join(', ');
}

export function freshPanelState(method: string): HostPanelState {
  return { predictions: [], method, params: {}, target: 0 };
}

/**
 * A new image (or model): its predictions, the top one as target (a structured output: the first
 * box, the largest region (not background), the first decoded step); the old map and run no longer apply.
 */
export function withImage(s: HostPanelState, modelFile: string, imageFile: string, predictions: Prediction[], structured?: StructuredTargets): HostPanelState {
  const same = s.modelFile === modelFile && s.imageFile === imageFile;
  return {
    ...s, modelFile, imageFile, predictions, structured,
    target: same ? s.target : defaultStructuredTarget(structured) ?? predictions[0]?.index ?? 0,
    shown: same ? s.shown : undefined,
    note: same ? s.note : undefined,
  };
}

/** The picker chose a method, or its parameters changed. */
export function withMethod(s: HostPanelState, method: string, params: ParamValues): HostPanelState {
  return { ...s, method, params: { ...s.params, [method]: params } };
}

export function withTarget(s: HostPanelState, target: PanelTarget): HostPanelState {
  return { ...s, target };
}

export function withRunStarted(s: HostPanelState, run: NonNullable<HostPanelState['run']>): HostPanelState {
  return { ...s, run };
}

/** A run ended; `shown` is what produced the map now shown (absent when the run failed or was cancelled). */
export function withRunEnded(s: HostPanelState, requestId: string, shown?: HostPanelState['shown']): HostPanelState {
  const run = s.run?.requestId === requestId ? undefined : s.run;
  return { ...s, run, shown: shown ?? s.shown };
}

/**
 * Why the shown map is not what the panel is set to (method, parameters, target, image), as one
 * line naming what the map was computed with; undefined when it is current or nothing is shown.
 */
export function staleReason(s: HostPanelState, c: CaptionContext): string | undefined {
  const shown = s.shown;
  if (!shown || s.run) return undefined;
  const info = c.methods.find((m) => m.id === s.method);
  const params = s.params[s.method] ?? {};
  const changes: string[] = [];
  if (shown.imageFile !== s.imageFile) changes.push('image');
  if (shown.method !== s.method) changes.push('method');
  else if (!sameParams(info, shown.params, params)) changes.push('parameters');
  if (shown.target !== s.target && info?.family !== 'neuron') changes.push('target');
  if (changes.length === 0) return undefined;
  const shownInfo = c.methods.find((m) => m.id === shown.method);
  const brief = paramsBrief(shownInfo, shown.params);
  return `Stale: this map is ${shown.caption}${brief ? ` (${brief})` : ''}; the ${joinWords(changes)} changed since. Run to update it.`;
}

function joinWords(w: string[]): string {
  return w.length <= 1 ? w.join('') : `${w.slice(0, -1).join(', ')} and ${w[w.length - 1]}`;
}

/** What a gesture (a method, parameter or target change) does: run at once when cheap, else mark the map stale. */
export function gestureRuns(info: MethodInfo | undefined, params: ParamValues): boolean {
  return isCheap(info, params);
}

export interface NewImageChoice {
  method: string;
  /** true: the default method with the settings' parameters; false: the last method again */
  isDefault: boolean;
  note?: string;
}

/**
 * Which method a new image runs: the last one only when it is cheap (and then the panel says so),
 * else the configured default.
 */
export function methodForNewImage(methods: readonly MethodInfo[], last: { method: string; params: ParamValues } | undefined, defaultMethod: string): NewImageChoice {
  const known = methods.some((m) => m.id === defaultMethod) ? defaultMethod : methods[0]?.id ?? defaultMethod;
  if (!last || last.method === known) return { method: known, isDefault: true };
  const info = methods.find((m) => m.id === last.method);
  // neuron runs belong to the neuron picked for them, not to every image
  if (info && info.family !== 'neuron' && isCheap(info, last.params)) {
    return { method: last.method, isDefault: false, note: `Ran ${methodName(methods, last.method)} again, the last method; the default is ${methodName(methods, known)}.` };
  }
  return {
    method: known, isDefault: true,
    note: info ? `Ran the default method, ${methodName(methods, known)}; ${methodName(methods, last.method)} (the last one) is slow: pick it and Run to use it.` : undefined,
  };
}

/** What survives a window reload (workspaceState): everything but the predictions (fetched again) and the run. */
export interface PersistedPanelState {
  version: 1;
  modelFile: string;
  imageFile: string;
  method: string;
  params: Record<string, ParamValues>;
  /** a class index, or (since structured targets) `box:K`, `region:C`, `step:T` */
  target: PanelTarget;
  shown?: HostPanelState['shown'];
  view?: ViewSettings;
}

export function persisted(s: HostPanelState): PersistedPanelState | undefined {
  if (!s.modelFile || !s.imageFile) return undefined;
  return { version: 1, modelFile: s.modelFile, imageFile: s.imageFile, method: s.method, params: s.params, target: s.target, shown: s.shown, view: s.view };
}

/** The saved state, checked: anything malformed is dropped rather than trusted. */
export function fromPersisted(v: unknown): PersistedPanelState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Partial<PersistedPanelState>;
  if (p.version !== 1 || typeof p.modelFile !== 'string' || typeof p.imageFile !== 'string' || typeof p.method !== 'string') return undefined;
  if (typeof p.params !== 'object' || p.params === null || !isPanelTarget(p.target)) return undefined;
  const shown = p.shown && isPanelTarget(p.shown.target) ? p.shown : undefined;
  return { version: 1, modelFile: p.modelFile, imageFile: p.imageFile, method: p.method, params: p.params, target: p.target, shown, view: isViewSettings(p.view) ? p.view : undefined };
}

/** A restored state: the saved choices, the predictions still to fetch, nothing running. */
export function restoredState(p: PersistedPanelState): HostPanelState {
  return { predictions: [], modelFile: p.modelFile, imageFile: p.imageFile, method: p.method, params: { ...p.params }, target: p.target, shown: p.shown, view: p.view };
}
