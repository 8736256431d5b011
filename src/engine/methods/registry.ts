import { AttrLensError, closest, throwIfAborted } from '../core/errors';
import { firstNaN } from '../onnx/guard';
import { LoadedModel } from '../model/loadedModel';
import { floatFeeds } from '../onnx/integerInputs';
import { discoverLabels } from '../onnx/labels';
import { OutputActivation } from '../onnx/outputKind';
import { Tensor, sizeOf, softmax, topK } from '../core/tensor';
import { Method, MethodContext, pick } from './base';
import { resolveParams } from './params';
import { AttributeOptions, AttributeRequest, AttributionResult, MethodInfo, Prediction } from './types';
import { allMethods } from './all';
import { activationOf, looksLikeProbabilities } from './probability';
import { outputKindOf, targetEnv } from '../targets/env';
import { isStructuredTarget, listTargets, resolveTargetText } from '../targets/registry';
import { Target, TargetEnv, TargetItem } from '../targets/types';

const registry = new Map<string, Method>();
for (const m of allMethods) {
  if (registry.has(m.info.id)) throw new Error(`method '${m.info.id}' registered twice`);
  registry.set(m.info.id, m);
}

export function listMethods(): MethodInfo[] {
  return [...registry.values()].map((m) => m.info);
}

export function getMethod(id: string): Method {
  const m = registry.get(id);
  if (!m) throw new AttrLensError(`unknown method '${id}'; did you mean ${closest(id, registry.keys()).join(', ')}? (all: ${[...registry.keys()].join(', ')})`);
  return m;
}

const labelCache = new WeakMap<LoadedModel, { labels?: string[] }>();

export function labelsOf(lm: LoadedModel): string[] | undefined {
  let c = labelCache.get(lm);
  if (!c) labelCache.set(lm, (c = { labels: discoverLabels(lm.model)?.labels }));
  return c.labels;
}

/** Top-k predictions for batch-1 feeds: the model's probabilities when it ends in a softmax or sigmoid, else softmax over the output row. */
export async function predict(lm: LoadedModel, feeds: Record<string, Tensor>, k = 5, output?: string): Promise<Prediction[]> {
  const out = output ?? lm.outputs[0].name;
  const res = await lm.forward(floatFeeds(lm.inputs, feeds), [out]);
  return predictionsFrom(res[out], labelsOf(lm), k, activationOf(lm, out));
}

/**
 * `logit` is the output's own value (what a target explains); `probability` is that value for
 * softmax and sigmoid outputs, exp of it for log-softmax, and a softmax over the row for
 * outputs the graph says nothing about, unless the row already looks like probabilities.
 */
export function predictionsFrom(out: Tensor, labels: string[] | undefined, k = 5, activation: OutputActivation = 'none'): Prediction[] {
  const per = sizeOf(out.dims.slice(1));
  const logits = Array.from(out.data.subarray(0, per) as Float32Array, Number);
  const probs =
    activation === 'softmax' || activation === 'sigmoid' || (activation === 'none' && looksLikeProbabilities(logits))
      ? Float64Array.from(logits)
      : activation === 'logsoftmax'
        ? Float64Array.from(logits, Math.exp)
        : softmax(logits);
  const independent = activation === 'sigmoid' ? { independent: true } : {};
  return topK(logits, Math.min(k, logits.length)).map((i) => ({ index: i, label: labels?.[i], probability: probs[i], logit: logits[i], ...independent }));
}

/** The first detection, else the largest region (background 0 only when nothing else is predicted), else the first decoded step. */
export function defaultStructuredTarget(lists: Record<string, TargetItem[]>): string | undefined {
  const [box] = lists.detections ?? [];
  if (box) return box.target;
  const regions = [...(lists.regions ?? [])].sort((a, b) => Number(b.pixels) - Number(a.pixels));
  const region = regions.length > 1 ? regions.find((r) => r.class !== 0) : regions[0];
  if (region) return region.target;
  return lists.steps?.[0]?.target;
}

function resolveTarget(target: number | string | undefined, labels: string[] | undefined, classes: number, fallback: number, label: string): number {
  if (target === undefined || target === null || target === '') return fallback;
  if (typeof target === 'number' || /^-?\d+$/.test(String(target))) {
    const t = Number(target);
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw new AttrLensError(`target ${target} is outside the output's range 0..${classes - 1} of ${label}: give an index in 0..${classes - 1} or a label`);
    return t;
  }
  const idx = labels?.findIndex((l) => l.toLowerCase() === String(target).toLowerCase()) ?? -1;
  if (idx < 0) {
    if (!labels) throw new AttrLensError(`target '${target}' is not a number and ${label} has no labels (add labels.txt beside the model)`);
    throw new AttrLensError(`target '${target}' is not a label of ${label}; closest: ${closest(String(target), labels).join(', ')}`);
  }
  return idx;
}

/**
 * The public entry: validates the request, runs the method and shapes the result as Captum
 * returns it. Used by the extension's engine process, the CLI and library users alike.
 */
export async function attribute(lm: LoadedModel, given: Record<string, Tensor>, request: AttributeRequest, opts: AttributeOptions = {}): Promise<AttributionResult> {
  const started = performance.now();
  // integers for an input promoted from them (the model's own dtype) are taken as its Cast took them
  const feeds = floatFeeds(lm.inputs, given);
  const method = getMethod(request.method);
  const unbatched = lm.inputs.find((i) => typeof i.dims[0] === 'number' && i.dims[0] !== 1);
  if (unbatched) {
    throw new AttrLensError(`${lm.label}: input '${unbatched.name}' has first dimension ${unbatched.dims[0]}, not a batch axis; attribution needs a leading batch dimension: re-export the model with inputs shaped (1, ...)`);
  }
  const missing = lm.inputs.filter((i) => !feeds[i.name]).map((i) => i.name);
  if (missing.length) throw new AttrLensError(`${lm.label} needs input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; pass --input NAME=FILE for each`);
  for (const [k, t] of Object.entries(feeds)) {
    if (t.dims[0] !== 1) throw new AttrLensError(`input '${k}' has batch ${t.dims[0]}; attribute one example at a time (batch 1)`);
  }
  const input = request.input ?? (lm.inputs.find((i) => i.dtype === 'float32') ?? lm.inputs[0]).name;
  if (!feeds[input]) throw new AttrLensError(`${lm.label} has no input '${input}'; inputs: ${lm.inputs.map((i) => i.name).join(', ')}`);
  const output = request.output ?? lm.outputs[0].name;
  if (!lm.outputs.some((o) => o.name === output)) throw new AttrLensError(`${lm.label} has no output '${output}'; outputs: ${lm.outputs.map((o) => o.name).join(', ')}`);
  const params = resolveParams(method.info.id, method.info.params, request.params);

  const labels = labelsOf(lm);
  // With an explicit target the method's own pass on the input yields the predictions; only
  // the default target (the top prediction) and structured targets (region:, step:, box:, whose
  // reduction comes from the clean output) need a forward pass first.
  const explicit = request.target !== undefined && request.target !== null && request.target !== '';
  let outputRow: Tensor | undefined;
  let env: TargetEnv | undefined;
  let spec: Target | undefined;
  if (isStructuredTarget(request.target, labels)) {
    env = await targetEnv(lm, feeds, input, output, labels, { signal: opts.signal });
    outputRow = env.clean[output];
    spec = resolveTargetText(String(request.target), env);
  }
  if (!explicit) {
    outputRow = (await lm.forward(feeds, [output], { signal: opts.signal }))[output];
    // detections, maps and sequences: by default the first box, the largest region, the first
    // decoded character — not the output's largest flat value
    const kind = outputKindOf(lm, output, outputRow.dims).kind;
    if (kind === 'detection' || kind === 'dense' || kind === 'sequence') {
      env = await targetEnv(lm, feeds, input, output, labels, { clean: lm.outputs.length === 1 ? { [output]: outputRow } : undefined, signal: opts.signal });
      const text = defaultStructuredTarget(listTargets(env));
      if (text) spec = resolveTargetText(text, env);
    }
  }
  const outDims = outputRow?.dims ?? (await lm.shapes(feeds)).dims.get(output) ?? [];
  const classes = sizeOf(outDims.slice(1));
  const target = spec ? spec.index : resolveTarget(request.target, labels, classes, outputRow ? predictionsFrom(outputRow, labels, 1, activationOf(lm, output))[0]?.index ?? 0 : 0, lm.label);

  const ctx: MethodContext = {
    lm,
    feeds,
    input,
    // a structured target may differentiate another output than the one it was read from
    // (post-NMS detectors: box K's score in `scores`, picked from `boxes`)
    output: spec?.output ?? output,
    target,
    spec,
    params,
    baseDir: request.baseDir ?? process.cwd(),
    signal: opts.signal,
    progress: (p) => opts.onProgress?.(p),
    sawOutput: (name, o) => {
      if (name === output && o.dims[0] === 1) outputRow ??= o;
    },
  };
  const out = await method.run(ctx);
  // an abort that arrives with the last batch still cancels: the caller has moved on
  throwIfAborted(opts.signal);
  if (!outputRow) outputRow = (await lm.forward(feeds, [output], { signal: opts.signal }))[output];
  // the method's own pass (an explicit target) saw the output unchecked: a NaN there, or in a
  // map, is an error to report, not a map to draw
  lm.checkOutputs({ [output]: outputRow });
  for (const [name, t] of Object.entries(out.attributions)) {
    if (firstNaN(t) >= 0) throw new AttrLensError(`${lm.label}: ${method.info.captumName}'s attribution for '${name}' holds NaN (the model's gradient or a perturbed output is undefined at this input): check the input's preprocessing, or try a gradient-free method`, 'ENANATTRIBUTION');
  }
  const predictions = predictionsFrom(outputRow, labels, 5, activationOf(lm, output));
  // dense, sequence and detection outputs: what can be targeted, from the clean output
  const kind = env?.kind ?? outputKindOf(lm, output, outputRow.dims);
  if (!env && kind.kind !== 'classification' && kind.kind !== 'other') {
    env = await targetEnv(lm, feeds, input, output, labels, { clean: lm.outputs.length === 1 ? { [output]: outputRow } : undefined, signal: opts.signal });
  }
  return {
    method: method.info.id,
    target,
    targetLabel: spec ? spec.label : labels?.[target],
    targetSpec: spec ? { text: spec.text, kind: spec.kind, ...(spec.info ? { info: spec.info } : {}) } : { text: String(target), kind: 'class' },
    outputKind: kind.kind,
    ...(env ? { targets: listTargets(env) } : {}),
    attributions: out.attributions,
    predictions,
    delta: out.delta,
    ...(out.deltas ? { deltas: out.deltas } : {}),
    layer: out.layer,
    seconds: (performance.now() - started) / 1000,
    params,
  };
}

export { pick };
