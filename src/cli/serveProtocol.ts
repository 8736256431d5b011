// What the launcher (client) and `attrlens serve` (server) share. Imported by the launcher, so
// nothing heavy: no onnxruntime, sharp or engine code beyond the cache folder's name.
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir } from '../engine/runtime/optimizedCache';

/** Bumped whenever a message changes: a client and server that differ run locally. */
export const PROTOCOL = 1;
/** The commands that build sessions: the ones a warm server saves time on. */
export const SESSION_COMMANDS = ['attribute', 'conformance', 'evaluate', 'sanity', 'dataset', 'demo'];
/** Larger requests are refused (argv and a few variables never come near it). */
export const MAX_REQUEST = 1 << 20;
/** sun_path is 108 bytes on Linux, with the terminating NUL */
const MAX_SOCKET_PATH = 107;

/** Client → server, one JSON line. */
export interface ServeRequest {
  v: number;
  argv: string[];
  cwd: string;
  /** ATTRLENS_* (but ATTRLENS_SERVE) of the client: the server serves only the same */
  env: Record<string, string>;
  /** the client's resolved cache folder */
  cache: string;
  /** the bundle the client would run: path, size, time (a rebuilt CLI is not served by an old server) */
  bundle: string;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  color: boolean;
}

/**
 * Server → client, JSON lines: `accept` when the request starts (the client runs locally
 * instead when it does not come soon, or on `reject`), then output and the exit code.
 */
export type ServeMessage = { t: 'accept' } | { t: 'reject'; why: string } | { t: 'out'; d: string } | { t: 'err'; d: string } | { t: 'exit'; code: number };

/** The server's socket: `<cacheDir>/serve.sock`; undefined with no disk cache. Throws when the path is too long for a socket. */
export function socketPath(): string | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  const p = path.join(dir, 'serve.sock');
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) throw new Error(`the socket path ${p} is longer than ${MAX_SOCKET_PATH} bytes (set ATTRLENS_CACHE_DIR to a shorter folder)`);
  return p;
}

/** The ATTRLENS_* variables that change what a command does (ATTRLENS_SERVE only says where it runs). */
export function attrlensEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) if (k.startsWith('ATTRLENS_') && k !== 'ATTRLENS_SERVE' && env[k] !== undefined) out[k] = env[k]!;
  return out;
}

/** Which bundle this is: a server started before a rebuild must not answer for the new one. */
export function bundleId(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${path.resolve(file)}|${st.size}|${st.mtimeMs}`;
  } catch {
    return path.resolve(file);
  }
}
