// node --import tsx scripts/bench/cold.ts [--model M.onnx] [--image I.png] [--threads 2] [--repeat 5] [--cli dist/cli.js]
// What a fresh `attrlens attribute` process costs over the same attribution in a process that
// has already run it, with the disk cache populated by one earlier run (issue: ≤ 0.5 s). Cold:
// wall time of `node dist/cli.js attribute …` from spawn to exit (median); warm: the same
// input loaded and attributed again in this process (median). Saliency and IG with 50 steps.
// Served: the same fresh process while `attrlens serve` runs (same cache folder and threads,
// warmed by one request of each kind), which it hands the command to, alternating with warm
// runs again (served − warm subtracts those); cold and warm run with ATTRLENS_SERVE=off and no
// server.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadInputs } from '../../src/engine/inputs';
import { attribute } from '../../src/engine/methods/registry';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { withHugePages } from '../../src/engine/runtime/hugePages';

const ROOT = path.join(__dirname, '..', '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const CASES: Array<{ name: string; method: string; params?: Record<string, unknown> }> = [
  { name: 'saliency', method: 'saliency' },
  { name: 'integrated-gradients, 50 steps', method: 'integrated-gradients', params: { nSteps: 50 } },
];

/** The environment a user's shell would give the CLI: without the huge-page tunable this benchmark added to itself. */
function childEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ATTRLENS_CACHE_DIR: cache };
  if ('ATTRLENS_BENCH_TUNABLES' in env) {
    if (env.ATTRLENS_BENCH_TUNABLES) env.GLIBC_TUNABLES = env.ATTRLENS_BENCH_TUNABLES;
    else delete env.GLIBC_TUNABLES;
    delete env.ATTRLENS_BENCH_TUNABLES;
  }
  return env;
}

/** `attrlens serve` on this cache folder, once it listens; stop() ends it (and it removes its socket). */
async function startServer(cli: string, threads: number, env: NodeJS.ProcessEnv): Promise<{ stop: () => Promise<string> }> {
  const p = spawn(process.execPath, [cli, 'serve', '--threads', String(threads)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve();
    });
    void exited.then(() => reject(new Error(`attrlens serve exited: ${err.trim()}`)));
  });
  return {
    stop: async () => {
      p.kill('SIGTERM');
      await exited;
      return err;
    },
  };
}

/** Seconds from spawn to exit of one CLI process; throws with its stderr when it fails. */
function timeProcess(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const s = (performance.now() - t) / 1000;
      if (code === 0) resolve(s);
      else reject(new Error(`${path.basename(cli)} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').pop()}`));
    });
  });
}

export interface ColdRow {
  name: string;
  cold: number;
  warm: number;
  /** a fresh process while `attrlens serve` runs */
  served: number;
  /** warm again, alternating with the served runs */
  servedWarm: number;
}

/** Seconds of `repeat` fresh processes and as many warm in-process runs, alternating so a drift in the machine's speed hits both alike. */
async function alternate(repeat: number, fresh: () => Promise<number>, once: () => Promise<unknown>): Promise<{ fresh: number[]; warm: number[] }> {
  const out = { fresh: [] as number[], warm: [] as number[] };
  for (let i = 0; i < repeat; i++) {
    out.fresh.push(await fresh());
    const t = performance.now();
    await once();
    out.warm.push((performance.now() - t) / 1000);
  }
  return out;
}

export async function benchCold(opts: { model: string; image?: string; threads: number; repeat: number; cli: string }): Promise<ColdRow[]> {
  const model = path.resolve(opts.model);
  const image = path.resolve(opts.image ?? path.join(ROOT, 'samples', 'shapes', 'images', 'red-circle.png'));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-cold-cache-'));
  // cold and warm: a fresh cache folder (no server listens there) and no client side either
  const env = { ...childEnv(cache), ATTRLENS_SERVE: 'off' };
  const savedCache = process.env.ATTRLENS_CACHE_DIR;
  process.env.ATTRLENS_CACHE_DIR = cache;
  const rows: ColdRow[] = [];
  const argsOf = (c: (typeof CASES)[number]) => ['attribute', '--model', model, '--input', image, '--method', c.method, '--threads', String(opts.threads), ...(c.params ? ['--params', JSON.stringify(c.params)] : [])];
  try {
    let lm: LoadedModel | undefined;
    const onceOf = (c: (typeof CASES)[number]) => async () => {
      const m = (lm ??= await LoadedModel.open(model, { threads: opts.threads }));
      return attribute(m, (await loadInputs(m, image)).feeds, { method: c.method, params: c.params });
    };
    for (const c of CASES) {
      const args = argsOf(c);
      // the run that populates the cache, then this process's warm-up
      const first = await timeProcess(opts.cli, args, env);
      const once = onceOf(c);
      await once();
      const { fresh: cold, warm } = await alternate(opts.repeat, () => timeProcess(opts.cli, args, env), once);
      rows.push({ name: c.name, cold: median(cold), warm: median(warm), served: NaN, servedWarm: NaN });
      console.log(`${c.name}: first process (empty cache) ${first.toFixed(2)} s; cold ${cold.map((x) => x.toFixed(2)).join(' ')}; warm ${warm.map((x) => x.toFixed(3)).join(' ')}`);
    }
    const served = childEnv(cache);
    delete served.ATTRLENS_SERVE;
    const server = await startServer(opts.cli, opts.threads, served);
    try {
      for (const [i, c] of CASES.entries()) {
        const args = argsOf(c);
        await timeProcess(opts.cli, args, served); // the server's first request of this kind
        const once = onceOf(c);
        const { fresh: times, warm } = await alternate(opts.repeat, () => timeProcess(opts.cli, args, served), once);
        rows[i].served = median(times);
        rows[i].servedWarm = median(warm);
        console.log(`${c.name}: fresh process, attrlens serve running ${times.map((x) => x.toFixed(3)).join(' ')}; warm ${warm.map((x) => x.toFixed(3)).join(' ')}`);
      }
    } finally {
      const log = await server.stop();
      // every timed run above must have gone to the server, or the column measures something else
      const n = log.split('\n').filter((l) => /^attrlens serve: #\d+ attribute .*exit 0/.test(l)).length;
      if (n !== CASES.length * (opts.repeat + 1)) throw new Error(`attrlens serve ran ${n} of ${CASES.length * (opts.repeat + 1)} requests: ${log.trim()}`);
    }
  } finally {
    if (savedCache === undefined) delete process.env.ATTRLENS_CACHE_DIR;
    else process.env.ATTRLENS_CACHE_DIR = savedCache;
    fs.rmSync(cache, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  // warm runs with huge pages, as the engine's processes have them; the CLI processes get the caller's environment
  const env = withHugePages(process.env);
  if (env !== process.env) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...env, ATTRLENS_BENCH_TUNABLES: process.env.GLIBC_TUNABLES ?? '' } });
    process.exit(r.status ?? 1);
  }
  const argv = process.argv.slice(2);
  const opt = (k: string, d?: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : d;
  };
  const cli = path.resolve(opt('cli', path.join(ROOT, 'dist', 'cli.js'))!);
  if (!fs.existsSync(cli)) {
    console.log(`${cli} not found: npm run build first`);
    process.exit(2);
  }
  void benchCold({
    model: opt('model', path.join(ROOT, '..', 'shared', 'models', 'resnet18.onnx'))!,
    image: opt('image'),
    threads: Number(opt('threads', '2')),
    repeat: Number(opt('repeat', '5')),
    cli,
  }).then(
    (rows) => {
      console.log('\n| method | cold process (s) | warm, in process (s) | cold − warm (s) | target | fresh process, `attrlens serve` running (s) | warm, alongside it (s) | served − warm (s) | target |');
      console.log('|---|---|---|---|---|---|---|---|---|');
      const target = (d: number) => `≤ 0.5 ${d <= 0.5 ? 'met' : 'not met'}`;
      for (const r of rows) console.log(`| ${r.name} | ${r.cold.toFixed(3)} | ${r.warm.toFixed(3)} | ${(r.cold - r.warm).toFixed(3)} | ${target(r.cold - r.warm)} | ${r.served.toFixed(3)} | ${r.servedWarm.toFixed(3)} | ${(r.served - r.servedWarm).toFixed(3)} | ${target(r.served - r.servedWarm)} |`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
