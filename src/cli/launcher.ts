// `attrlens` (dist/cli.js): a few lines that decide where the CLI (dist/attrlens.js) runs before
// loading it. glibc reads its huge-page tunable only at process start, and huge pages halve the
// first session builds of a model; once a model's optimised sessions are cached they save ~0.03 s
// while a second Node.js start costs ~0.1 s. So: a child with huge pages the first time this
// command meets this model (and this build), this same process afterwards. And the bundle is
// compiled from V8's code cache. When `attrlens serve` runs, session commands go to it instead
// (serveClient.ts): its models and sessions are warm, and this process loads none of the CLI.
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import Module, { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { markUsed } from '../engine/runtime/cacheTrim';
import { withHugePages } from '../engine/runtime/hugePages';
import { cacheDir } from '../engine/runtime/optimizedCache';
import { forward } from './serveClient';
import { SESSION_COMMANDS } from './serveProtocol';
/** flags naming inputs and outputs: other values of these do not change which sessions a run builds */
const IO_FLAGS = new Set(['--input', '--out', '--png', '--out-dir', '--data', '--images', '--image']);

const main = path.join(__dirname, 'attrlens.js');
const argv = process.argv.slice(2);

// `attrlens methods | head -1`: a reader that stops early ends the run quietly, with the status
// of a writer that SIGPIPE stopped (Node.js ignores the signal and raises EPIPE instead)
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(128 + os.constants.signals.SIGPIPE);
  });
}

/** The marker file saying this run's sessions are cached; undefined: always start with huge pages. */
function warmMarker(): string | undefined {
  const dir = cacheDir();
  const at = argv.indexOf('--model');
  if (!dir || at < 0 || !argv[at + 1]) return undefined;
  try {
    const model = path.resolve(argv[at + 1]);
    const st = fs.statSync(model);
    const self = fs.statSync(main);
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (IO_FLAGS.has(argv[i])) i++;
      else rest.push(argv[i]);
    }
    const key = JSON.stringify([model, st.size, st.mtimeMs, self.size, self.mtimeMs, rest]);
    return path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.warm`);
  } catch {
    return undefined;
  }
}

/** Whether a child process runs the command (this one exits with its code). */
function run(): boolean {
  if (argv[0] === 'serve') return serveWithHugePages();
  if (!SESSION_COMMANDS.includes(argv[0])) return false;
  const env = withHugePages(process.env);
  if (env === process.env) return false; // has them already, or cannot have them
  const marker = warmMarker();
  if (marker && fs.existsSync(marker)) {
    markUsed(marker);
    return false;
  }
  // this launcher again: with the tunable set it runs the CLI in process (and fills the code cache).
  // Ctrl-C reaches the child too (same process group): this process waits for its exit code.
  // The child does not ask a server again: this one just found none that would take the command.
  process.on('SIGINT', () => undefined);
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...argv], { stdio: 'inherit', env: { ...env, ATTRLENS_SERVE: 'off' } });
  if (r.error) return false; // could not start: go on here without
  if (r.status === 0 && marker) {
    try {
      fs.writeFileSync(marker, '');
    } catch {
      // read-only cache: the next run starts a child again
    }
  }
  process.exit(r.status ?? 128 + (r.signal ? (os.constants.signals[r.signal] ?? 0) : 0));
}

/** A server builds sessions for every model it meets: it runs with huge pages, in a child that gets this process's signals. */
function serveWithHugePages(): boolean {
  const env = withHugePages(process.env);
  if (env === process.env) return false;
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...argv], { stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('error', () => process.exit(1));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
  return true;
}

/**
 * Loads the CLI with V8's code cache (in the cache folder, keyed by the bundle's content and
 * Node.js version): compiling the 1 MB bundle and the functions a run calls costs ~0.1 s per
 * process. The cache is written at exit, so it holds the functions this kind of run compiled
 * lazily. V8 checks only the source's length, and damaged code data crashes it, so the file
 * starts with a sha256 of the data it holds.
 */
function loadWithCodeCache(): boolean {
  const dir = cacheDir();
  // the bundle's import() calls need Node.js's own loader (Node.js ≥ 20.17 offers it to vm scripts)
  const loader = (vm.constants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!dir || !loader) return false;
  let script: vm.Script;
  let file: string;
  let cached: Buffer | undefined;
  try {
    const text = fs.readFileSync(main, 'utf8');
    const key = JSON.stringify([createHash('sha256').update(text).digest('hex'), process.version, process.arch, process.execArgv]);
    file = path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.v8cache`);
    try {
      const raw = fs.readFileSync(file);
      const data = raw.subarray(32);
      if (raw.length > 32 && createHash('sha256').update(data).digest().equals(raw.subarray(0, 32))) {
        cached = data;
        markUsed(file);
      }
    } catch {
      // first run of this build
    }
    // the shebang would not parse inside the module wrapper
    const source = Module.wrap(text.replace(/^#!/, '//'));
    script = new vm.Script(source, { filename: main, cachedData: cached, importModuleDynamically: loader as never });
  } catch {
    return false;
  }
  process.once('exit', () => {
    if (cached && !script.cachedDataRejected) return;
    try {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      const data = script.createCachedData();
      fs.writeFileSync(tmp, Buffer.concat([createHash('sha256').update(data).digest(), data]));
      fs.renameSync(tmp, file);
    } catch {
      // read-only cache: the next run compiles again
    }
  });
  const fn = script.runInThisContext() as (exports: object, req: NodeJS.Require, mod: Module, filename: string, dirname: string) => void;
  const mod = new Module(main, module);
  mod.filename = main;
  fn.call(mod.exports, mod.exports, createRequire(main), mod, main, path.dirname(main));
  return true;
}

async function start(): Promise<void> {
  if (SESSION_COMMANDS.includes(argv[0])) {
    const code = await forward(argv, main);
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
  }
  if (run()) return;
  if (!loadWithCodeCache()) require(main);
}

void start();
