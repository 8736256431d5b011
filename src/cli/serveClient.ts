// The launcher's side of `attrlens serve`: hands a command to a running server and relays its
// output and exit code. Anything short of an accepted request (no socket, refused, busy, another
// protocol, build or environment) answers undefined and the launcher runs the command itself.
import * as fs from 'fs';
import * as net from 'net';
import { PROTOCOL, ServeMessage, ServeRequest, attrlensEnv, bundleId, socketPath } from './serveProtocol';
import { cacheDir } from '../engine/runtime/optimizedCache';

/** How long a server may take to start a request (busy with another, or just slow) before this process runs it itself. */
const ACCEPT_MS = 500;

/** The command's exit code when a server ran it; undefined: run it here. */
export function forward(argv: string[], bundle: string): Promise<number | undefined> {
  if (process.env.ATTRLENS_SERVE === 'off') return Promise.resolve(undefined);
  let sock: string | undefined;
  try {
    sock = socketPath();
  } catch {
    return Promise.resolve(undefined);
  }
  if (!sock || !fs.existsSync(sock)) return Promise.resolve(undefined);
  const request: ServeRequest = {
    v: PROTOCOL,
    argv,
    cwd: process.cwd(),
    env: attrlensEnv(process.env),
    cache: cacheDir()!,
    bundle: bundleId(bundle),
    stdoutTTY: !!process.stdout.isTTY,
    stderrTTY: !!process.stderr.isTTY,
    color: !!process.stdout.isTTY && !process.env.NO_COLOR,
  };
  return new Promise((resolve) => {
    let accepted = false;
    let settled = false;
    let buf = '';
    let interrupts = 0;
    const conn = net.createConnection(sock!);
    const onSigint = () => {
      // the first Ctrl-C cancels the server's run (which answers 130); a second stops waiting
      if (++interrupts === 1 && conn.writable) conn.write(`${JSON.stringify({ t: 'cancel' })}\n`);
      else finish(130);
    };
    const finish = (code: number | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.removeListener('SIGINT', onSigint);
      conn.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => finish(undefined), ACCEPT_MS);
    conn.on('connect', () => conn.write(`${JSON.stringify(request)}\n`));
    // after an accept, 'close' (which always follows) says what happened
    conn.on('error', () => accepted || finish(undefined));
    conn.on('close', () => {
      if (!accepted) return finish(undefined);
      // the server went away mid-run: say so rather than exit 0 silently
      if (!settled) process.stderr.write('attrlens: error: the attrlens server stopped during this command\n');
      finish(1);
    });
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while (!settled && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: ServeMessage;
        try {
          m = JSON.parse(line) as ServeMessage;
        } catch {
          m = { t: 'reject', why: 'malformed answer' };
        }
        if (!accepted) {
          if (m.t !== 'accept') return finish(undefined);
          accepted = true;
          clearTimeout(timer);
          process.on('SIGINT', onSigint);
        } else if (m.t === 'out') process.stdout.write(m.d);
        else if (m.t === 'err') process.stderr.write(m.d);
        else if (m.t === 'exit') return finish(m.code);
      }
    });
  });
}
