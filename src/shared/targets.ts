// Structured targets (`box:K`, `region:CLASS`, `step:T`) by what they are, for captions, the
// run bar and the export figure's title; shared by the host (panelState.ts) and the webview.
import type { ModelSummary, PanelTarget, StructuredTargets } from './protocol';

const pct = (v: number): string => (Math.round(v * 100) / 100).toFixed(2);

/**
 * A structured target by what it is: "box 0 (red, 0.97)", "region 1 (circle, 812 px)",
 * "step 3 (k, 0.98)"; without the lists, the target as written ("box 0").
 */
export function structuredName(target: string, structured: StructuredTargets | undefined, summary?: Pick<ModelSummary, 'labels'>): string {
  const [kind, arg = ''] = target.split(':');
  const n = Number.parseInt(arg, 10);
  const label = (cls: number, own?: string): string => own ?? summary?.labels?.[cls] ?? `class ${cls}`;
  if (kind === 'box') {
    const d = structured?.detections?.find((x) => x.index === n);
    return `box ${n}${d ? ` (${label(d.class, d.label)}, ${pct(d.score)})` : ''}${arg.endsWith('+iou') ? ' × IoU' : ''}`;
  }
  if (kind === 'region') {
    const r = structured?.regions?.find((x) => x.class === n);
    const within = arg.includes('@') ? ` in ${arg.slice(arg.indexOf('@') + 1)}` : '';
    return `region ${n}${r ? ` (${label(r.class, r.label)}, ${r.pixels} px)` : ''}${within}`;
  }
  if (kind === 'step') {
    const cls = arg.includes('=') ? Number.parseInt(arg.slice(arg.indexOf('=') + 1), 10) : undefined;
    const s = structured?.steps?.find((x) => x.step === n);
    if (cls !== undefined && (!s || s.index !== cls)) return `step ${n} (class ${cls})`;
    return `step ${n}${s ? ` (${JSON.stringify(label(s.index, s.label))}, ${pct(s.probability)})` : ''}`;
  }
  return target;
}

/** The default target of a structured output: the first box, the largest region (not background), the first decoded step. */
export function defaultStructuredTarget(structured: StructuredTargets | undefined): string | undefined {
  if (!structured) return undefined;
  if (structured.kind === 'detection') return structured.detections?.[0]?.target;
  if (structured.kind === 'dense') {
    // as the engine's default (methods/registry.ts): background (class 0) only when nothing else is predicted
    const regions = structured.regions ?? [];
    const objects = regions.length > 1 ? regions.filter((r) => r.class !== 0) : regions;
    if (objects.length === 0) return undefined;
    return objects.reduce((a, b) => (b.pixels > a.pixels ? b : a)).target;
  }
  return structured.steps?.[0]?.target ?? 'step:0';
}


/** The export figure's title for a structured target: "box 0: red 0.97". */
export function structuredTitle(target: string, structured: StructuredTargets | undefined, summary?: Pick<ModelSummary, 'labels'>): string {
  return structuredName(target, structured, summary).replace(/ \((.*), ([^,]*)\)/, ': $1 $2');
}

/** The target in words: a class by its label, a structured one by what it is. */
export function targetWords(target: PanelTarget, structured: StructuredTargets | undefined, labels?: string[]): string {
  if (typeof target === 'string') return structuredName(target, structured, { labels });
  return labels?.[target] ?? `output ${target}`;
}
