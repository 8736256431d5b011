import { AttrLensError } from '../engine/core/errors';

export interface ParsedArgs {
  command: string;
  positional: string[];
  /** --flag values; repeated flags keep every value */
  flags: Map<string, string[]>;
}

const BOOLEAN = new Set(['json', 'help', 'h', 'quiet', 'no-progress', 'resume', 'info', 'trim']);

/** Minimal GNU-style parsing: `--key value`, `--key=value`, boolean `--json`. */
export function parseArgs(argv: string[]): ParsedArgs {
  const [command = 'help', ...rest] = argv;
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.replace(/^--?/, '').slice(0, eq > 0 ? eq - (a.startsWith('--') ? 2 : 1) : undefined);
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (BOOLEAN.has(key)) value = 'true';
    else {
      if (i + 1 >= rest.length) throw new AttrLensError(`option --${key} needs a value`);
      value = rest[++i];
    }
    flags.set(key, [...(flags.get(key) ?? []), value]);
  }
  return { command, positional, flags };
}

export function flag(args: ParsedArgs, key: string): string | undefined {
  const v = args.flags.get(key);
  return v ? v[v.length - 1] : undefined;
}

export function requireFlag(args: ParsedArgs, key: string, what: string): string {
  const v = flag(args, key);
  if (!v) throw new AttrLensError(`missing --${key} ${what}`);
  return v;
}

export function checkFlags(args: ParsedArgs, allowed: string[]): void {
  for (const k of args.flags.keys()) {
    if (!allowed.includes(k)) throw new AttrLensError(`unknown option --${k} for '${args.command}'; options: ${allowed.map((a) => `--${a}`).join(' ')}`);
  }
}
