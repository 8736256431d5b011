// `attrlens serve`: a long-lived process that runs the session commands of `attrlens` processes
// started while it runs (the launcher's serveClient.ts hands them over a Unix socket), so the
// models, onnxruntime sessions and the memory they touched stay warm between commands. One
// command at a time, each with its client's argv, working directory and output streams.
import * as fs from 'fs';
import * as net from 'net';
import { flushDiskCache } from '../engine/model/diskCache';
import { trimOpenModels } from '../engine/model/loadedModel';
import { cacheDir } from '../engine/runtime/optimizedCache';
import { AttrLensError } from '../engine/core/errors';
import { checkFlags, flag, parseArgs } from './args';
import type { CommandIO } from './main';
import { MAX_REQUEST, PROTOCOL, SESSION_COMMANDS, ServeMessage, ServeRequest, attrlensEnv, bundleId, socketPath } from './serveProtocol';

type Run = (argv: string[], io: CommandIO) => Promise<number>;

/** Models whose sessions a server keeps between commands (least recently used released first). */
const KEEP_MODELS = 4;
/** the commands that accept --threads (when they open an image model) */
const THREADED = new Set(['attribute', 'sanity', 'dataset']);
const TEXT_FLAGS = ['text', 'template', 'values', 'baselines', 'generate', 'target-text'];

interface Job {
  conn: net.Socket;
  req: ServeRequest;
  abort: AbortController;
}

const send = (conn: net.Socket, m: ServeMessage) => {
  if (conn.writable) conn.write(`${JSON.stringify(m)}\n`);
};

/** The request's fields checked one by one: anything else is malformed. */
function parseRequest(line: string): ServeRequest {
  const r = JSON.parse(line) as Partial<ServeRequest>;
  const strings = (a: unknown) => Array.isArray(a) && a.every((x) => typeof x === 'string');
  const ok =
    r !== null &&
    typeof r === 'object' &&
    typeof r.v === 'number' &&
    strings(r.argv) &&
    typeof r.cwd === 'string' &&
    typeof r.cache === 'string' &&
    typeof r.bundle === 'string' &&
    typeof r.env === 'object' &&
    r.env !== null &&
    Object.values(r.env).every((x) => typeof x === 'string') &&
    typeof r.stdoutTTY === 'boolean' &&
    typeof r.stderrTTY === 'boolean' &&
    typeof r.color === 'boolean';
  if (!ok) throw new Error('fields missing or of the wrong type');
  return r as ServeRequest;
}

const withoutCacheDir = (env: Record<string, string>) => JSON.stringify({ ...env, ATTRLENS_CACHE_DIR: undefined });

export async function serve(argv: string[], run: Run): Promise<void> {
  const fail = (msg: string, code = 2) => {
    process.stderr.write(`attrlens: error: ${msg}\n`);
    process.exit(code);
  };
  let idleMs: number;
  let threads: string | undefined;
  let sock: string | undefined;
  try {
    const args = parseArgs(argv);
    checkFlags(args, ['idle', 'threads']);
    const idle = Number(flag(args, 'idle') ?? '15');
    if (!(idle > 0)) throw new AttrLensError(`--idle wants minutes greater than 0, not '${flag(args, 'idle')}'`);
    idleMs = idle * 60_000;
    threads = flag(args, 'threads');
    if (threads !== undefined && !/^[1-9]\d*$/.test(threads)) throw new AttrLensError(`--threads wants a positive whole number, not '${threads}'`);
    sock = socketPath();
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!sock) return fail('the disk cache is off (ATTRLENS_CACHE_DIR=off): attrlens serve has no folder for its socket');
  const where = sock;
  // commands chdir to their client's folder: a relative cache folder must not follow them
  const dir = cacheDir()!;
  if (process.env.ATTRLENS_CACHE_DIR) process.env.ATTRLENS_CACHE_DIR = dir;
  const env = withoutCacheDir(attrlensEnv(process.env));
  const bundle = bundleId(__filename);
  const home = process.cwd();
  fs.mkdirSync(dir, { recursive: true });

  // a socket file nobody answers on is left from a server that died: take it over
  if (fs.existsSync(where)) {
    const live = await new Promise<boolean | string>((resolve) => {
      const c = net.createConnection(where);
      c.on('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' || e.code === 'ENOTSOCK' ? false : `${e.code ?? e.message}`));
    });
    if (live === true) return fail(`an attrlens server already listens on ${where}; stop it first (kill it, or Ctrl-C where it runs)`, 1);
    if (typeof live === 'string') return fail(`cannot use the socket ${where}: ${live}`);
    try {
      fs.unlinkSync(where);
    } catch {
      // another server took it over just now: listen() says so
    }
  }

  const queue: Job[] = [];
  let running: Job | undefined;
  let served = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let ino = -1; // our socket's inode, once it listens

  const stop = (code: number) => {
    try {
      // only our own socket (a server started after ours was removed has another)
      if (fs.statSync(where).ino === ino) fs.unlinkSync(where);
    } catch {
      // gone already
    }
    process.exit(code);
  };
  const idle = () => {
    clearTimeout(idleTimer);
    if (running || queue.length) return;
    idleTimer = setTimeout(() => {
      process.stderr.write(`attrlens serve: idle for ${idleMs / 60_000} min, stopping\n`);
      stop(0);
    }, idleMs);
  };

  const next = async (): Promise<void> => {
    if (running) return;
    const job = queue.shift();
    if (!job) return idle();
    running = job;
    clearTimeout(idleTimer);
    const { conn, req } = job;
    const t = performance.now();
    send(conn, { t: 'accept' });
    const io: CommandIO = {
      out: (d) => send(conn, { t: 'out', d }),
      err: (d) => send(conn, { t: 'err', d }),
      stderrTTY: req.stderrTTY,
      color: req.color,
      signal: job.abort.signal,
    };
    let code: number;
    try {
      process.chdir(req.cwd);
      code = await run(withThreads(req.argv, threads), io);
    } catch (e) {
      // runCommand reports its own errors; this is chdir, or a bug
      io.err(`attrlens: error: ${(e as Error).message.split('\n')[0]}\n`);
      code = 1;
    } finally {
      process.chdir(home);
    }
    send(conn, { t: 'exit', code });
    conn.end();
    served++;
    process.stderr.write(`attrlens serve: #${served} ${req.argv[0]} in ${req.cwd}: exit ${code}, ${((performance.now() - t) / 1000).toFixed(2)} s\n`);
    // what a CLI process does at exit, and a bound on what stays in memory
    await flushDiskCache().catch(() => undefined);
    await trimOpenModels(KEEP_MODELS).catch(() => undefined);
    running = undefined;
    return next();
  };

  const server = net.createServer((conn) => {
    let buf = '';
    let job: Job | undefined;
    let refused = false;
    const refuse = (why: string) => {
      refused = true;
      send(conn, { t: 'reject', why });
      conn.end();
    };
    conn.setEncoding('utf8');
    conn.on('error', () => undefined);
    conn.on('close', () => {
      if (!job) return;
      const i = queue.indexOf(job);
      if (i >= 0) queue.splice(i, 1);
      else job.abort.abort(); // the client went away (or gave up waiting): its command stops
    });
    conn.on('data', (chunk: string) => {
      if (refused) return;
      buf += chunk;
      const end = buf.indexOf('\n');
      if (!job && buf.length > MAX_REQUEST && (end < 0 || end > MAX_REQUEST)) {
        process.stderr.write(`attrlens serve: refused a request over ${MAX_REQUEST} bytes\n`);
        return refuse(`request over ${MAX_REQUEST} bytes`);
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (job) {
          // after the request, only a cancel (Ctrl-C in the client)
          if (line.includes('"cancel"')) job.abort.abort();
          continue;
        }
        let req: ServeRequest;
        try {
          req = parseRequest(line);
        } catch (e) {
          process.stderr.write(`attrlens serve: refused a malformed request\n`);
          return refuse(`malformed request: ${(e as Error).message.split('\n')[0]}`);
        }
        // these clients run the command themselves, as if no server ran
        if (req.v !== PROTOCOL) return refuse(`protocol ${req.v}, this server speaks ${PROTOCOL}`);
        if (!SESSION_COMMANDS.includes(req.argv[0])) return refuse(`'${req.argv[0]}' is not served`);
        if (req.bundle !== bundle) return refuse('another build of attrlens');
        if (req.cache !== dir || withoutCacheDir(req.env) !== env) return refuse('another ATTRLENS_* environment');
        job = { conn, req, abort: new AbortController() };
        queue.push(job);
        void next();
      }
      // after the request a client sends at most a cancel
      if (buf.length > MAX_REQUEST) buf = '';
    });
  });

  server.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE') fail(`an attrlens server already listens on ${where}; stop it first (kill it, or Ctrl-C where it runs)`, 1);
    else fail(`cannot listen on ${where}: ${e.message}`);
  });
  // created 0600 (only this user may connect), chmod in case the umask did not apply
  const umask = process.umask(0o077);
  try {
    server.listen(where);
  } finally {
    process.umask(umask);
  }
  await new Promise<void>((resolve) => server.once('listening', resolve));
  fs.chmodSync(where, 0o600);
  ino = fs.statSync(where).ino;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(0));
  // a stray rejection in one command must not take the server down
  process.on('unhandledRejection', (e) => process.stderr.write(`attrlens serve: unhandled rejection: ${e instanceof Error ? e.message : String(e)}\n`));
  process.stdout.write(`attrlens serve: listening on ${where} (pid ${process.pid}); ${SESSION_COMMANDS.join(', ')} run here; stop with Ctrl-C or kill ${process.pid}, or it stops after ${idleMs / 60_000} idle min\n`);
  idle();
}

/** `--threads N` of the server for commands that take it and did not choose. */
function withThreads(argv: string[], threads: string | undefined): string[] {
  if (!threads || !THREADED.has(argv[0])) return argv;
  let args;
  try {
    args = parseArgs(argv);
  } catch {
    return argv; // the command says what is wrong, as it would locally
  }
  if (args.flags.has('threads') || TEXT_FLAGS.some((f) => args.flags.has(f))) return argv;
  return [argv[0], '--threads', threads, ...argv.slice(1)];
}
