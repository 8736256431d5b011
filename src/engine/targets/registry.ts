import { AttrLensError, closest } from '../core/errors';
import { allTargetKinds } from './all';
import { Target, TargetEnv, TargetItem, TargetKind } from './types';

// built on first use: kind files import this module's helpers, so all.ts may still be loading
let table: Map<string, TargetKind> | undefined;
const kinds = {
  get map(): Map<string, TargetKind> {
    if (!table) {
      table = new Map();
      for (const k of allTargetKinds) {
        if (table.has(k.name)) throw new Error(`target kind '${k.name}' registered twice`);
        table.set(k.name, k);
      }
    }
    return table;
  },
  has: (n: string) => kinds.map.has(n),
  get: (n: string) => kinds.map.get(n),
  keys: () => kinds.map.keys(),
  values: () => kinds.map.values(),
};

export function listTargetKinds(): TargetKind[] {
  return [...kinds.values()];
}

export function getTargetKind(name: string): TargetKind {
  const k = kinds.get(name);
  if (!k) throw new AttrLensError(`unknown target kind '${name}'; did you mean ${closest(name, kinds.keys(), 1)[0]}? (kinds: ${[...kinds.values()].map((x) => x.syntax).join(', ')})`);
  return k;
}

/** `region:1@0,0,8,8` → ['region', '1@0,0,8,8']; a bare index or label → ['class', text]. */
export function splitTarget(text: string, labels?: string[]): [string, string] {
  const m = /^([A-Za-z][\w-]*):(.*)$/s.exec(text.trim());
  if (!m || labels?.some((l) => l.toLowerCase() === text.trim().toLowerCase())) return ['class', text.trim()];
  return [m[1].toLowerCase(), m[2].trim()];
}

/** True when the target text names a structured kind (not a bare class index or label). */
export function isStructuredTarget(target: number | string | undefined, labels?: string[]): boolean {
  return typeof target === 'string' && splitTarget(target, labels)[0] !== 'class';
}

/** Kinds that fit the env's output, `class` last unless it is the output's own kind. */
function fitting(env: TargetEnv): TargetKind[] {
  return [...kinds.values()].filter((k) => k.fits(env.kind));
}

/** One line: what can be targeted on this output ("regions: 0 ... ; steps: ..."). */
export function targetableLine(env: TargetEnv): string {
  const parts = fitting(env).map((k) => k.summary?.(env) ?? k.syntax);
  return `${env.kind.kind} output '${env.output}' [${env.kind.dims}] takes ${fitting(env).map((k) => k.syntax).join(', ')}; ${parts.join('; ')}`;
}

/** Throws the one-line bad-target error: what is wrong, then what can be targeted. */
export function badTarget(env: TargetEnv, what: string): never {
  throw new AttrLensError(`${what}; ${targetableLine(env)}`, 'EBADTARGET');
}

/** Resolves target text (or a class index) on the env's output; one-line errors list what fits. */
export function resolveTargetText(text: string | number, env: TargetEnv): Target {
  const [name, arg] = splitTarget(String(text), env.labels);
  if (!kinds.has(name)) badTarget(env, `unknown target kind '${name}' in '${text}' (kinds: ${[...kinds.values()].map((x) => x.syntax).join(', ')})`);
  const kind = kinds.get(name)!;
  if (!kind.fits(env.kind)) badTarget(env, `target '${text}' does not fit: ${kind.syntax} needs ${name === 'step' ? 'a sequence' : name === 'region' ? 'a dense' : 'another'} output`);
  return kind.resolve(kind.parse(arg, env), env);
}

/** What can be targeted, by list ('regions', 'steps', 'detections'), for kinds that fit. */
export function listTargets(env: TargetEnv): Record<string, TargetItem[]> {
  const out: Record<string, TargetItem[]> = {};
  for (const k of fitting(env)) if (k.listKey && k.list) out[k.listKey] = k.list(env);
  return out;
}

export { linearScore, targetSeed } from './reduce';
