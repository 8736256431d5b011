// Method parameters ⇄ form text, driven only by ParamSpec so new engine methods need no UI work.
import { layerChoices, layerDetail, layerDisplayNames, type LayerLike } from '../../src/shared/layerNames';
import type { MethodInfo, ParamSpec, ParamValue, ParamValues } from '../../src/shared/protocol';

/** A default as it goes on the wire, or undefined when it cannot be sent (or there is none). */
export function wireValue(v: unknown): ParamValue | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v.slice() as number[];
  return undefined;
}

/** The method's defaults, as `runAttribution` sends them when the user changed nothing. */
export function defaultParams(info: MethodInfo): ParamValues {
  const out: ParamValues = {};
  for (const p of info.params) {
    const v = wireValue(p.default);
    if (v !== undefined) out[p.name] = v;
  }
  return out;
}

/** Decimal places of a number as written (1e-6 → 6, 0.25 → 2, 3 → 0). */
function decimals(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return 0;
  const [mant, exp] = v.toExponential().split('e');
  return Math.max(0, (mant.split('.')[1]?.length ?? 0) - Number(exp));
}

/**
 * The `step` of a number field: 1 for whole numbers; for fractional parameters the finest
 * decimal step the spec's default and bounds need (0.5 in [0, 1] → 0.1), or `any` when that
 * would be finer than 0.001 (RISE's probability, min 1e-6): a browser marks a value that is not
 * min + k·step as invalid, and without a step the step is 1.
 */
export function numberStep(p: ParamSpec): number | 'any' | undefined {
  if (p.kind === 'int') return 1;
  if (p.kind !== 'number') return undefined;
  const nums = [p.default, p.min, p.max].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const d = Math.max(1, ...nums.map(decimals));
  return d > 3 ? 'any' : Number((10 ** -d).toFixed(d));
}

/** Text shown in a field for a value. */
export function formatParam(value: ParamValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

function bounds(spec: ParamSpec, v: number): string | undefined {
  if (spec.min !== undefined && v < spec.min) return `${spec.name} must be at least ${spec.min}`;
  if (spec.max !== undefined && v > spec.max) return `${spec.name} must be at most ${spec.max}`;
  return undefined;
}

function numberList(text: string): number[] | undefined {
  const inner = text.trim().replace(/^[[(]\s*|\s*[\])]$/g, '');
  if (inner === '') return undefined;
  const parts = inner.split(/\s*[,x×\s]\s*/);
  const nums = parts.map(Number);
  return nums.every((n, i) => parts[i] !== '' && Number.isFinite(n)) ? nums : undefined;
}

export interface Parsed {
  /** undefined = leave the parameter out (the engine's default applies) */
  value?: ParamValue;
  error?: string;
}

/** Parses a field's text (or a checkbox's state) by the parameter's kind. */
export function parseParam(spec: ParamSpec, input: string | boolean): Parsed {
  if (spec.kind === 'boolean') {
    return typeof input === 'boolean' ? { value: input } : { error: `${spec.name} must be true or false` };
  }
  const text = String(input).trim();
  if (text === '') return spec.required ? { error: `${spec.name} is required: ${spec.description}` } : {};
  switch (spec.kind) {
    case 'int': {
      const v = Number(text);
      if (!Number.isInteger(v)) return { error: `${spec.name} must be a whole number, got "${text}"` };
      const e = bounds(spec, v);
      return e ? { error: e } : { value: v };
    }
    case 'number': {
      const v = Number(text);
      if (!Number.isFinite(v)) return { error: `${spec.name} must be a number, got "${text}"` };
      const e = bounds(spec, v);
      return e ? { error: e } : { value: v };
    }
    case 'enum':
      return spec.values && !spec.values.includes(text)
        ? { error: `${spec.name} must be one of ${spec.values.join(', ')}` }
        : { value: text };
    case 'shape': {
      const list = numberList(text);
      const min = spec.min ?? 1;
      if (!list || !list.every((n) => Number.isInteger(n) && n >= min)) {
        return { error: `${spec.name} must be whole numbers >= ${min} like "3, 15, 15", got "${text}"` };
      }
      return { value: list };
    }
    case 'tensor':
    case 'baseline': {
      // a number, a list of numbers, or text the engine interprets (a file, "blur", …)
      const n = Number(text);
      if (Number.isFinite(n)) return { value: n };
      return { value: numberList(text) ?? text };
    }
    case 'json': {
      // checked here so a typo is reported at the field; sent as text, the engine parses it
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        o = undefined;
      }
      if (!o || typeof o !== 'object' || Array.isArray(o)) return { error: `${spec.name} must be a JSON object like {"key": "value"}, got "${text.slice(0, 60)}"` };
      return { value: text };
    }
    default:
      return { value: text };
  }
}

/** Parameters that are required but missing. */
export function missingRequired(info: MethodInfo, params: ParamValues): string[] {
  return info.params.filter((p) => p.required && (params[p.name] === undefined || params[p.name] === '')).map((p) => p.name);
}

export interface ChoiceOption {
  value: string;
  label: string;
  /** secondary text: the dropdown shows it for the highlighted option */
  description?: string;
  disabled?: boolean;
}

/**
 * A layer parameter's choices for this method: the layers that apply (CAM: spatial ones only),
 * named as everywhere else, with the tensor name as secondary text. The empty value leaves the
 * layer to the method ("(method default: features.relu2)") or, when it is required, asks for one.
 * A current value outside the list stays offered, marked, so the field shows what will run.
 */
export function layerOptions(info: MethodInfo, spec: ParamSpec, layers: readonly LayerLike[], current: string): ChoiceOption[] {
  const names = layerDisplayNames(layers);
  const { layers: fit, defaultLayer } = layerChoices(info.family, layers);
  const first: ChoiceOption = spec.required
    ? { value: '', label: '(choose a layer)' }
    : { value: '', label: defaultLayer ? `(method default: ${names.get(defaultLayer) ?? defaultLayer})` : '(method default)', description: defaultLayer };
  const out: ChoiceOption[] = [first, ...fit.map((l) => ({
    value: l.name,
    label: `${names.get(l.name) ?? l.name} · ${layerDetail(l)}`,
    description: l.name,
  }))];
  if (current && !fit.some((l) => l.name === current)) {
    const l = layers.find((x) => x.name === current);
    out.push({ value: current, label: `${l ? names.get(current) : current} (not a ${info.family === 'cam' ? 'spatial ' : ''}layer for ${info.captumName})`, description: current });
  }
  return out;
}

/** Family order and titles of the method picker's groups. */
export const METHOD_FAMILIES: ReadonlyArray<{ family: string; title: string }> = [
  { family: 'gradient', title: 'Gradient' },
  { family: 'cam', title: 'CAM' },
  { family: 'layer', title: 'Layer' },
  { family: 'neuron', title: 'Neuron' },
  { family: 'perturbation', title: 'Perturbation' },
];

/** Methods grouped by family (in METHOD_FAMILIES' order, unknown families last, each kept in the engine's order). */
export function groupMethods(methods: readonly MethodInfo[]): Array<{ family: string; title: string; methods: MethodInfo[] }> {
  const known = METHOD_FAMILIES.map((f) => f.family);
  const families = [...known, ...new Set(methods.map((m) => m.family).filter((f) => !known.includes(f)))];
  return families
    .map((family) => ({
      family,
      title: METHOD_FAMILIES.find((f) => f.family === family)?.title ?? family,
      methods: methods.filter((m) => m.family === family),
    }))
    .filter((g) => g.methods.length > 0);
}
