import { AttrLensError } from '../core/errors';
import { ParamSpec } from './types';

/** `featureMask: "grid 4x4"`: rows × columns patches of an image input, every channel together (what the panel proposes for exact Shapley values). */
export const GRID_MASK = /^grid\s+(\d+)\s*[x×]\s*(\d+)$/i;

/** Applies defaults and checks every parameter against its spec; unknown names are errors. */
export function resolveParams(method: string, specs: readonly ParamSpec[], given: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Map(specs.map((s) => [s.name, s]));
  for (const k of Object.keys(given)) {
    if (!known.has(k)) {
      throw new AttrLensError(`${method} has no parameter '${k}'; its parameters are: ${specs.map((s) => s.name).join(', ') || '(none)'}`);
    }
  }
  for (const s of specs) {
    const v = given[s.name];
    if (v === undefined || v === null) {
      if (s.required) throw new AttrLensError(`${method} needs parameter '${s.name}' (${s.description})`);
      out[s.name] = s.default;
      continue;
    }
    out[s.name] = check(method, s, v);
  }
  return out;
}

function check(method: string, s: ParamSpec, v: unknown): unknown {
  const bad = (want: string) => new AttrLensError(`${method}: parameter '${s.name}' must be ${want}, got ${JSON.stringify(v)?.slice(0, 60)}`);
  switch (s.kind) {
    case 'int':
    case 'number': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw bad('a number');
      if (s.kind === 'int' && !Number.isInteger(n)) throw bad('a whole number');
      if (s.min !== undefined && n < s.min) throw bad(`at least ${s.min}`);
      if (s.max !== undefined && n > s.max) throw bad(`at most ${s.max}`);
      return n;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw bad('true or false');
    case 'enum':
      if (typeof v !== 'string' || !s.values?.includes(v)) throw bad(`one of ${s.values?.join(', ')}`);
      return v;
    case 'string':
    case 'layer':
      if (typeof v !== 'string' || v.length === 0) throw bad('a non-empty string');
      return v;
    case 'shape': {
      const arr = typeof v === 'number' ? [v] : v;
      const min = s.min ?? 1;
      if (!Array.isArray(arr) || arr.length === 0 || !arr.every((x) => Number.isInteger(x) && x >= min)) throw bad(`a list of whole numbers >= ${min}, e.g. [3, 15, 15]`);
      return arr;
    }
    case 'json': {
      if (typeof v === 'object' && !Array.isArray(v)) return v;
      if (typeof v === 'string') {
        try {
          const o = JSON.parse(v) as unknown;
          if (o && typeof o === 'object' && !Array.isArray(o)) return o;
        } catch {
          // falls through to the error below
        }
      }
      throw bad('a JSON object, e.g. {"abs": false}');
    }
    case 'baseline':
    case 'tensor':
      // numbers, nested arrays and Tensors pass; .npy paths are resolved by the caller
      if (typeof v === 'number' || typeof v === 'object' || (typeof v === 'string' && (s.kind === 'baseline' || v.endsWith('.npy') || (s.name === 'featureMask' && GRID_MASK.test(v.trim()))))) return v;
      throw bad(s.name === 'featureMask' ? 'a number, an array, a .npy file or "grid 4x4"' : 'a number, an array or a .npy file');
  }
}
