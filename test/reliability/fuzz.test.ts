// Fuzzing: mutated bytes of the conformance models (or the sample model when ../shared is
// absent) go through parse, load, inspect and attribute in child processes. Every failure must
// be a clean AttrLensError; a non-AttrLensError, a child dying (native crash) or a mutant
// running past the time bound is a crash. Seeded (default 20261126; FUZZ_SEED=N or =random),
// FUZZ_MUTANTS and FUZZ_FROM override.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT, SAMPLE_MODEL } from './corpus';
import type { FuzzJob, Outcome, WorkerMessage } from './fuzzWorker';

const CONF_MODELS = path.resolve(ROOT, '..', 'shared', 'conformance', 'models');
// Small models only: mobilenet_v3_small (6 MB) costs ~20x as much per mutant.
const SMALL = ['tiny_cnn', 'sigmoid_net', 'mini_resnet', 'tiny_text', 'tiny_vit'];
const MUTANT_SECONDS = 5;
const BATCH = 250;
const LANES = Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}

interface Crash {
  i: number;
  model: string;
  ops: string[];
  what: string;
}

interface Tally {
  tried: number;
  loaded: number;
  attributed: number;
  rejected: number;
  crashes: Crash[];
  hangs: Crash[];
  /** clean errors by kind (numbers and names blanked), to see what the mutants hit */
  reasons: Map<string, number>;
}

/**
 * Runs mutants [from, to) in child processes, `BATCH` per child. A child that dies or goes
 * silent past the time bound is killed; its current mutant is recorded and a new child takes
 * the rest.
 */
function runLane(models: string[], seed: number, from: number, to: number, tally: Tally): Promise<void> {
  const worker = path.join(__dirname, 'fuzzWorker.ts');
  return new Promise((resolve, reject) => {
    let next = from;
    const spawnBatch = (): void => {
      if (next >= to) return resolve();
      const job: FuzzJob = { models, seed, from: next, to: Math.min(to, next + BATCH) };
      const child: ChildProcess = fork(worker, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, ATTRLENS_CACHE_DIR: 'off' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      let current: { i: number; model: string; ops: string[] } | undefined;
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const arm = (ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (current) {
            tally.tried++;
            tally.hangs.push({ ...current, what: `no result within ${MUTANT_SECONDS} s` });
          }
          finished = true;
          child.kill('SIGKILL');
          next = current ? current.i + 1 : job.to;
          spawnBatch();
        }, ms);
      };
      arm(30_000); // start-up (tsx, onnxruntime) before the first mutant
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'start') {
          current = { i: m.i, model: m.model, ops: m.ops };
          arm(MUTANT_SECONDS * 1000);
        } else if (m.type === 'done') {
          tally.tried++;
          count(tally, m.outcome, current!, m.stage, m.detail);
          current = undefined;
          next = m.i + 1;
          arm(30_000);
        } else {
          finished = true;
          clearTimeout(timer);
          child.kill();
          next = job.to;
          spawnBatch();
        }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const last = stderr.trim().split('\n').slice(-3).join(' | ');
        if (current) {
          tally.tried++;
          tally.crashes.push({ ...current, what: `child process died (code ${code}, signal ${signal}): ${last}` });
          next = current.i + 1;
        } else {
          tally.crashes.push({ i: next, model: '?', ops: [], what: `child process died between mutants (code ${code}, signal ${signal}): ${last}` });
          next = next + 1;
        }
        spawnBatch();
      });
      child.send(job);
    };
    spawnBatch();
  });
}

function count(t: Tally, outcome: Outcome, cur: { i: number; model: string; ops: string[] }, stage: string, detail?: string): void {
  if (outcome === 'attributed') {
    t.loaded++;
    t.attributed++;
  } else if (outcome === 'loaded' || outcome === 'rejected') {
    if (outcome === 'loaded') t.loaded++;
    t.rejected++;
    const why = `${stage}: ${(detail ?? '').replace(/'[^']*'|\([^)]*\)|\[[^\]]*\]|\d+/g, '_').slice(0, 70)}`;
    t.reasons.set(why, (t.reasons.get(why) ?? 0) + 1);
  } else {
    t.crashes.push({ ...cur, what: `at ${stage}: ${detail}` });
  }
}

test('fuzz: mutated models never crash or hang parse, load, inspect or attribute', { timeout: 600_000 }, async () => {
  const shared = SMALL.map((n) => path.join(CONF_MODELS, `${n}.onnx`)).filter((f) => fs.existsSync(f));
  const models = shared.length > 0 ? shared : [SAMPLE_MODEL];
  // A fixed default keeps CI reproducible; FUZZ_SEED=random explores new mutants.
  const seed = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : envInt('FUZZ_SEED', 20261126);
  const total = envInt('FUZZ_MUTANTS', 2000);
  const from = envInt('FUZZ_FROM', 0);
  console.log(`fuzz: seed ${seed} (FUZZ_SEED=${seed} FUZZ_FROM=${from} FUZZ_MUTANTS=${total} reproduces), ${total} mutants of ${models.map((m) => path.basename(m)).join(', ')}${shared.length ? '' : ' (../shared absent: fuzzing the sample model)'}`);
  const tally: Tally = { tried: 0, loaded: 0, attributed: 0, rejected: 0, crashes: [], hangs: [], reasons: new Map() };
  const started = performance.now();
  const per = Math.ceil(total / LANES);
  await Promise.all(Array.from({ length: LANES }, (_, k) => runLane(models, seed, from + k * per, from + Math.min(total, (k + 1) * per), tally)));
  const seconds = (performance.now() - started) / 1000;
  console.log(`fuzz: ${tally.tried} mutants tried, ${tally.loaded} loaded, ${tally.attributed} attributed, ${tally.rejected} rejected with a clear error, ${tally.crashes.length} crashes, ${tally.hangs.length} hangs (seed ${seed}, ${seconds.toFixed(1)} s)`);
  const top = [...tally.reasons].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(`fuzz: most frequent clean errors: ${top.map(([k, v]) => `${v}× ${k}`).join(' | ')}`);
  for (const c of [...tally.crashes, ...tally.hangs]) console.log(`fuzz: FAIL mutant ${c.i} (FUZZ_SEED=${seed} FUZZ_FROM=${c.i} FUZZ_MUTANTS=1) of ${c.model} [${c.ops.join(', ')}]: ${c.what}`);
  assert.equal(tally.tried, total, 'every mutant ran');
  assert.deepEqual(tally.crashes.map((c) => c.i), [], 'crashes');
  assert.deepEqual(tally.hangs.map((c) => c.i), [], 'hangs');
  // The fuzzer must reach the deep paths too, not only the parser.
  assert.ok(tally.attributed > total * 0.05, `only ${tally.attributed} mutants got as far as an attribution`);
});
