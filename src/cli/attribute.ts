import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { ResolvedPreprocess, loadInputs } from '../engine/inputs';
import { writeNpy } from '../engine/inputs/npy';
import { LoadedModel } from '../engine/model/loadedModel';
import { attribute } from '../engine/methods/registry';
import { AttributionResult } from '../engine/methods/types';
import { ParsedArgs, checkFlags, flag, requireFlag } from './args';
import { attributeFolder } from './batch';
import { renderAttribution, writeFileSafe } from './render';

export interface AttributeSummary {
  model: string;
  method: string;
  /** the explained class index (for a structured target, the class it is about) */
  target: number;
  targetLabel?: string;
  /** the explained target as text (`region:1@0,0,8,8`, `step:3=12`, or the index) and its kind */
  targetSpec?: AttributionResult['targetSpec'];
  /** classification, dense, sequence, detection, other */
  outputKind?: string;
  /** what can be targeted (dense, sequence and detection outputs): regions, steps, detections */
  regions?: unknown[];
  steps?: unknown[];
  detections?: unknown[];
  predictions: AttributionResult['predictions'];
  attributionShape: number[];
  seconds: number;
  delta?: number;
  /** per-sample deltas, where Captum returns them (GradientShap) */
  deltas?: number[];
  layer?: string;
  /** how the image was preprocessed, and the source of that (absent for tensor inputs) */
  preprocessing?: ResolvedPreprocess;
  out?: string;
  png?: string;
}

export function parseParams(args: ParsedArgs): Record<string, unknown> {
  const raw = flag(args, 'params');
  let params: Record<string, unknown> = {};
  if (raw) {
    try {
      const v = JSON.parse(raw) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      params = v as Record<string, unknown>;
    } catch (e) {
      throw new AttrLensError(`--params must be a JSON object such as '{"nSteps": 32}' (${(e as Error).message})`);
    }
  }
  const layer = flag(args, 'layer');
  if (layer) params.layer = layer;
  return params;
}

/** `attrlens attribute`: one attribution of one input, to stdout and optional files. */
export async function attributeCommand(args: ParsedArgs, print: (s: string) => void, signal: AbortSignal, progress?: (done: number, total: number, phase?: string) => void): Promise<AttributeSummary | undefined> {
  checkFlags(args, ['model', 'input', 'method', 'target', 'layer', 'params', 'out', 'png', 'json', 'view', 'sign', 'threads', 'ep', 'out-dir']);
  const modelFile = requireFlag(args, 'model', 'M.onnx (the model to explain)');
  const inputs = args.flags.get('input');
  if (!inputs?.length) throw new AttrLensError('missing --input FILE (an image or a .npy tensor; NAME=FILE for models with several inputs)');
  const method = requireFlag(args, 'method', 'METHOD (e.g. integrated-gradients, saliency, gradcam, occlusion; `attrlens methods` lists them)');
  const threads = flag(args, 'threads');
  const ep = flag(args, 'ep');
  const lm = await LoadedModel.open(modelFile, { ...(threads ? { threads: Number(threads) } : {}), ...(ep ? { executionProvider: ep } : {}) });
  const target = flag(args, 'target');
  const parsedTarget = target === undefined ? undefined : /^\d+$/.test(target) ? Number(target) : target;
  if (inputs.length === 1 && fs.existsSync(inputs[0]) && fs.statSync(inputs[0]).isDirectory()) {
    await attributeFolder({
      lm,
      dir: inputs[0],
      outDir: flag(args, 'out-dir') ?? path.join(inputs[0], 'attributions'),
      method,
      target: parsedTarget,
      params: parseParams(args),
      png: !!flag(args, 'png'),
      signal,
      print,
      progress: progress ?? (() => undefined),
    });
    return undefined;
  }
  const spec = inputs.length === 1 && !inputs[0].includes('=') ? inputs[0] : Object.fromEntries(inputs.map((s) => splitNamed(s, lm)));
  const loaded = await loadInputs(lm, spec);
  const res = await attribute(
    lm,
    loaded.feeds,
    { method, target: parsedTarget, params: parseParams(args) },
    { signal, onProgress: (p) => progress?.(p.done, p.total, p.phase) },
  );
  const attr = Object.values(res.attributions)[0];
  const summary: AttributeSummary = {
    model: path.resolve(modelFile),
    method: res.method,
    target: res.target,
    targetLabel: res.targetLabel,
    targetSpec: res.targetSpec,
    outputKind: res.outputKind,
    ...res.targets,
    predictions: res.predictions,
    attributionShape: attr.dims,
    seconds: res.seconds,
    delta: res.delta,
    ...(res.deltas ? { deltas: res.deltas } : {}),
    layer: res.layer,
    preprocessing: loaded.preprocess,
  };
  const out = flag(args, 'out');
  if (out) {
    writeFileSafe(out, '');
    writeNpy(path.resolve(out), attr);
    summary.out = path.resolve(out);
  }
  const png = flag(args, 'png');
  if (png) {
    if (!loaded.image) throw new AttrLensError('--png needs an image input (this input is a tensor); use --out to save the raw values');
    const r = await renderAttribution(attr, loaded.image, { method: (flag(args, 'view') as never) ?? 'blended_heat_map', sign: (flag(args, 'sign') as never) ?? (res.method === 'saliency' ? 'absolute_value' : 'all') });
    summary.png = writeFileSafe(png, r.png);
  }
  if (flag(args, 'json')) print(JSON.stringify(summary));
  else print(formatSummary(summary));
  return summary;
}

function splitNamed(s: string, lm: LoadedModel): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new AttrLensError(`--input '${s}': with several inputs write NAME=FILE; inputs: ${lm.inputs.map((i) => i.name).join(', ')}`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

export function formatPredictions(preds: AttributionResult['predictions']): string {
  // a model that outputs probabilities has no logit to show; a sigmoid's are not a distribution
  const note = (p: AttributionResult['predictions'][number]): string => (p.independent ? '  (sigmoid: independent)' : p.logit === p.probability ? '' : `  (logit ${p.logit.toFixed(3)})`);
  return preds.map((p, i) => `  ${i + 1}. ${String(p.index).padStart(4)}  ${(p.label ?? '').padEnd(24)} ${(p.probability * 100).toFixed(1).padStart(5)}%${note(p)}`).join('\n');
}

/** Two lines: the preprocessing's values, then its source (and how to set it when guessed). */
export function formatPreprocessing(p: ResolvedPreprocess): string {
  const resize = `${p.resize}${p.cropPct !== undefined && p.cropPct !== 1 ? ` (crop ${p.cropPct})` : ''}${p.interpolation ? `, ${p.interpolation}` : ''}`;
  const nums = (a: number[]): string => `[${a.map((v) => Number(v.toFixed(6))).join(', ')}]`;
  return [
    `  preprocessing: ${p.input} ${p.layout} ${p.channels} ${p.size[0]}x${p.size[1]} ${resize}; x*${Number(p.scale.toFixed(8))}, mean ${nums(p.mean)}, std ${nums(p.std)}`,
    `    ${p.source === 'guessed' ? 'guessed' : `from ${p.source}`}${p.note ? ` (${p.note})` : ''}`,
  ].join('\n');
}

function formatSummary(s: AttributeSummary): string {
  // a detection head's, a map's or a sequence's largest flat values mean nothing: its lists below say what it predicts
  const flat = !s.outputKind || s.outputKind === 'classification' || s.outputKind === 'other';
  const lines = [
    ...(flat ? [`top predictions:`, formatPredictions(s.predictions)] : []),
    `${s.method} for target ${s.targetSpec && s.targetSpec.kind !== 'class' ? s.targetSpec.text : s.target}${s.targetLabel ? ` (${s.targetLabel})` : ''}${s.layer ? ` at layer ${s.layer}` : ''}: attribution [${s.attributionShape.join(', ')}] in ${s.seconds.toFixed(3)} s`,
  ];
  if (s.regions) lines.push(`regions: ${s.regions.map((r) => (r as { target: string }).target).join(' ') || 'none'}`);
  if (s.detections) lines.push(`detections: ${(s.detections as Array<{ target: string; label?: string; class: number; score: number }>).map((d) => `${d.target} ${d.label ?? d.class} ${d.score.toFixed(2)}`).join(', ') || 'none'}`);
  if (s.steps) lines.push(`steps: ${(s.steps as Array<{ step: number; label?: string; index: number }>).map((t) => `step:${t.step} ${JSON.stringify(t.label ?? t.index)}`).join(', ') || 'none'}`);
  if (s.delta !== undefined) lines.push(`convergence delta: ${s.delta.toExponential(3)}${s.deltas ? ` (mean of ${s.deltas.length} samples: ${s.deltas.map((d) => d.toExponential(2)).join(', ')})` : ''}`);
  if (s.preprocessing) lines.push(formatPreprocessing(s.preprocessing).trimStart());
  if (s.out) lines.push(`raw values: ${s.out}`);
  if (s.png) lines.push(`heatmap: ${s.png}`);
  return lines.join('\n');
}
