// Every message from the webview passes here before the panel acts on it (vscode-free, tested with
// forged messages): the protocol's shape check, then what only the host knows — the engine's
// methods and their parameters, the model's number of outputs, where `.npy` parameters may be read
// from, and whether an exported "PNG" really is one. A refused message never reaches the engine.
import * as path from 'path';
import type { MethodInfo } from '../../engine';
import { type FromWebview, type ParamValues, type ToWebview, isFromWebview } from '../../shared/protocol';
import { pngFromDataUrl } from '../exportFormats';

export interface GateContext {
  /** the engine's methods */
  methods: readonly MethodInfo[];
  /** how many outputs the panel's model has (targets are 0 … classes-1), when known */
  classes?: number;
}

export type GateVerdict =
  | { ok: true; msg: FromWebview }
  /** `reply` is the one-line answer for the webview; without it the message is dropped */
  | { ok: false; log: string; reply?: ToWebview };

/** Image-run messages whose `target` indexes the model's outputs. */
const TARGETED = new Set(['runAttribution', 'retarget', 'compare', 'runSanity']);
/** Messages whose `params` must be the method's own parameters (text runs add text options). */
const OWN_PARAMS_ONLY = new Set(['runAttribution', 'changeMethod', 'compare', 'runSanity']);

export function gateFromWebview(raw: unknown, ctx: GateContext): GateVerdict {
  if (!isFromWebview(raw)) return { ok: false, log: `ignored a malformed message from the panel: ${preview(raw)}` };
  const msg = raw;
  const requestId = 'requestId' in msg ? msg.requestId : undefined;
  const refuse = (message: string): GateVerdict => {
    const reply: ToWebview = msg.type === 'export' ? { type: 'exportDone', requestId: msg.requestId, ok: false, message } : { type: 'error', requestId, message };
    return { ok: false, log: `refused a '${msg.type}' message from the panel: ${message}`, reply };
  };

  // Every method named must be one of the engine's, with parameters it knows.
  const named: Array<{ method: string; params?: ParamValues }> = [];
  if ('methods' in msg && Array.isArray(msg.methods)) {
    const per = 'params' in msg ? (msg.params as Record<string, ParamValues> | undefined) : undefined;
    for (const m of msg.methods) named.push({ method: m, params: per?.[m] });
  } else if ('method' in msg && typeof msg.method === 'string') {
    named.push({ method: msg.method, params: 'params' in msg ? (msg.params as ParamValues | undefined) : undefined });
  }
  for (const { method, params } of named) {
    const info = ctx.methods.find((m) => m.id === method);
    if (!info) return refuse(`unknown method '${method}': choose one of the ${ctx.methods.length} methods the panel lists`);
    for (const [name, value] of Object.entries(params ?? {})) {
      const spec = info.params.find((p) => p.name === name);
      if (!spec && OWN_PARAMS_ONLY.has(msg.type)) return refuse(`${info.captumName} has no parameter '${name}'`);
      const outside = fileNames(value, spec?.kind).find((f) => !isInsideModelFolder(f));
      if (outside !== undefined) {
        return refuse(`parameter '${name}': '${outside.slice(0, 80)}' is outside the model's folder: put the .npy beside the model and give its name`);
      }
    }
  }

  if (TARGETED.has(msg.type) && 'target' in msg && typeof msg.target === 'number' && ctx.classes !== undefined && msg.target >= ctx.classes) {
    return refuse(`target ${msg.target} is out of range: the model has ${ctx.classes} outputs (0 to ${ctx.classes - 1})`);
  }

  if (msg.type === 'export' && msg.format === 'png') {
    try {
      pngFromDataUrl(msg.pngDataUrl ?? '');
    } catch (e) {
      return refuse(`cannot export: ${(e as Error).message}`);
    }
  }
  return { ok: true, msg };
}

/** Strings of a parameter the engine may open as files: tensor parameters, `.npy` names, and those inside JSON parameters (noise tunnel's baseParams). */
function fileNames(value: unknown, kind: string | undefined): string[] {
  if (typeof value !== 'string') return [];
  if (kind === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return []; // the engine refuses it as not JSON
    }
    const found: string[] = [];
    // parameters are at most 4096 characters, so the nesting is bounded too
    const walk = (v: unknown): void => {
      if (typeof v === 'string') found.push(...fileNames(v, undefined));
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk(parsed);
    return found;
  }
  return kind === 'baseline' || kind === 'tensor' || /\.npy$/i.test(value) ? [value] : [];
}

/**
 * A `.npy` parameter resolves against the model's folder (engineProcess's baseDir): only plain
 * relative names below it are allowed — no absolute paths, drive letters, URIs, `~` or `..`.
 */
export function isInsideModelFolder(value: string): boolean {
  if (value === '' || value.includes('\0') || value.includes(':') || value.startsWith('~')) return false;
  if (path.posix.isAbsolute(value) || path.win32.isAbsolute(value)) return false;
  return !value.split(/[\\/]+/).includes('..');
}

export interface ReceiveIo {
  /** the panel's own handling of a message that passed the gate */
  handle(msg: FromWebview): Promise<void>;
  /** posts a one-line answer to the webview */
  reply(msg: ToWebview): void;
  log(line: string): void;
}

/** Gate, then handle: what the panel does with everything the webview posts. */
export async function receiveFromWebview(raw: unknown, context: () => Promise<GateContext>, io: ReceiveIo): Promise<boolean> {
  const verdict = gateFromWebview(raw, await context());
  if (!verdict.ok) {
    io.log(verdict.log);
    if (verdict.reply) io.reply(verdict.reply);
    return false;
  }
  await io.handle(verdict.msg);
  return true;
}

/** Outputs of a model's first output per example (product of the non-batch dims), when all are known. */
export function classCount(outputs: ReadonlyArray<{ dims: ReadonlyArray<number | string | null> }> | undefined): number | undefined {
  const dims = outputs?.[0]?.dims;
  if (!dims || dims.length < 2) return undefined;
  let n = 1;
  for (const d of dims.slice(1)) {
    if (typeof d !== 'number' || d <= 0) return undefined;
    n *= d;
  }
  return n;
}

function preview(raw: unknown): string {
  try {
    return (JSON.stringify(raw) ?? String(raw)).slice(0, 200);
  } catch {
    return String(raw).slice(0, 200);
  }
}
