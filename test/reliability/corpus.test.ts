// Every file of the bad-input corpus, through the engine API and through the built CLI: a
// clear AttrLensError naming the file and what to do (engine), one `attrlens: error:` line,
// no stack, a non-zero exit within a time bound (CLI). Accepted odd images decode to the
// pixel values they hold. External data never makes anything read outside the model's folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import { AttrLensError } from '../../src/engine/core/errors';
import { inspectModel } from '../../src/engine/model/inspect';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Corpus, Expect, ROOT, makeCorpus } from './corpus';
import { ProcessRun, runNode } from '../onnx/helpers';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const CLI_SECONDS = 10;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-rel-'));
const cacheDir = path.join(tmp, 'cache');
process.env.ATTRLENS_CACHE_DIR = cacheDir;
let corpus: Corpus;
const figures = { cases: 0, engineChecks: 0, cliChecks: 0 };

before(async () => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  corpus = await makeCorpus(path.join(tmp, 'corpus'));
  figures.cases = corpus.models.length + corpus.inputs.length;
});

after(() => {
  console.log(`reliability corpus: ${figures.cases} cases, ${figures.engineChecks} engine checks, ${figures.cliChecks} CLI checks`);
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Run = ProcessRun;

function cli(args: string[], extraNodeArgs: string[] = [], timeoutMs = 30_000): Promise<Run> {
  return runNode([...extraNodeArgs, CLI, ...args], { cwd: tmp, env: { ...process.env, ATTRLENS_CACHE_DIR: cacheDir }, timeoutMs });
}

function assertCliError(r: Run, pattern: RegExp): void {
  figures.cliChecks++;
  assert.notEqual(r.code, null, 'killed after the time bound (hang)');
  assert.ok(r.seconds < CLI_SECONDS, `took ${r.seconds.toFixed(1)} s`);
  assert.notEqual(r.code, 0, 'exit code');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `stderr has ${lines.length} lines:\n${r.stderr}`);
  assert.match(lines[0], /^attrlens: error: /);
  assert.match(lines[0], pattern);
}

function assertCliOk(r: Run): void {
  figures.cliChecks++;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.seconds < CLI_SECONDS, `took ${r.seconds.toFixed(1)} s`);
}

async function assertEngineError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  figures.engineChecks++;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AttrLensError, `not an AttrLensError: ${(e as Error)?.stack ?? e}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    assert.match(e.message, pattern);
    return true;
  });
}

const OCCLUSION_4 = { slidingWindowShapes: [1] };
const OCCLUSION_IMG = { slidingWindowShapes: [3, 16, 16], strides: [3, 16, 16] };

/** Open, inspect, read the input and attribute: the whole path a user takes. */
async function fullPath(model: string, input: string, method = 'occlusion', params: Record<string, unknown> = OCCLUSION_4) {
  const lm = await LoadedModel.open(model);
  await inspectModel(lm);
  const inp = await loadInputs(lm, input);
  return attribute(lm, inp.feeds, { method, params });
}

const methodFor = (id: string): string => (id === 'no-gradient-op' ? 'saliency' : 'occlusion');

function expectText(e: Expect): RegExp {
  return e.kind === 'ok' ? /./ : e.message;
}

describe('bad models, through the engine', () => {
  it('every model case fails with its one-line AttrLensError (inspect works where it should)', async (t) => {
    for (const c of corpus.models) {
      await t.test(c.id, async () => {
        if (c.expect.kind === 'error') {
          await assertEngineError(fullPath(c.file, c.input), c.expect.message);
        } else if (c.expect.kind === 'inspect-only') {
          const info = await inspectModel(await LoadedModel.open(c.file));
          assert.equal(info.inputs[0].name, 'x');
          assert.deepEqual(info.inputs[0].dims, [1, 4]);
          const m = methodFor(c.id);
          await assertEngineError(fullPath(c.file, c.input, m, m === 'occlusion' ? OCCLUSION_4 : {}), c.expect.message);
        }
      });
    }
  });

  it("an unknown op domain: inspect lists the op; onnxruntime's load error is one clear line", async () => {
    const c = corpus.models.find((m) => m.id === 'unknown-domain')!;
    const info = await inspectModel(await LoadedModel.open(c.file));
    assert.deepEqual(info.opCounts, { 'com.example.Foo': 1 });
    await assertEngineError(fullPath(c.file, c.input), /does not provide: export it with standard ONNX operators/);
  });

  it('an op without a gradient rule: inspect says which; gradient methods name it; occlusion gives sin(x_i) * W[i, target]', async () => {
    const c = corpus.models.find((m) => m.id === 'no-gradient-op')!;
    const lm = await LoadedModel.open(c.file);
    const info = await inspectModel(lm);
    assert.equal(info.gradients.supported, false);
    assert.deepEqual(info.gradients.unsupportedOps, ['Sin']);
    for (const m of ['integrated-gradients', 'input-x-gradient']) {
      await assertEngineError(fullPath(c.file, c.input, m, {}), /no gradient rule for op Sin .*occlusion, feature-ablation/);
    }
    const res = await fullPath(c.file, c.input);
    // y = sin(x) @ W with W = [[.5,-1,2],[.25,1,1],[-.5,3,0],[2,-2,1]] and x = [1,2,3,4]:
    // y = [sin1*.5 + sin2*.25 - sin3*.5 + sin4*2, ...]; occluding x_i (baseline 0) removes sin(x_i) * W[i, t].
    const W = [[0.5, -1, 2], [0.25, 1, 1], [-0.5, 3, 0], [2, -2, 1]];
    const y = [0, 1, 2].map((j) => [1, 2, 3, 4].reduce((s, x, i) => s + Math.sin(x) * W[i][j], 0));
    const t = y.indexOf(Math.max(...y));
    assert.equal(res.target, t);
    const got = Array.from(res.attributions.x.data as Float32Array);
    [1, 2, 3, 4].forEach((x, i) => assert.ok(Math.abs(got[i] - Math.sin(x) * W[i][t]) < 1e-5, `x${i}: ${got[i]}`));
  });

  it('absurd declared shapes are refused in milliseconds, before any allocation', async () => {
    for (const id of ['huge-input', 'huge-initializer', 'lying-initializer']) {
      const c = corpus.models.find((m) => m.id === id)!;
      const rss = process.memoryUsage().rss;
      const t0 = performance.now();
      assert.throws(() => OnnxModel.load(c.file), AttrLensError);
      assert.ok(performance.now() - t0 < 500, `${id} took ${(performance.now() - t0).toFixed(0)} ms`);
      assert.ok(process.memoryUsage().rss - rss < 64 * 2 ** 20, `${id} grew RSS`);
    }
  });

  it('a model whose output is NaN: attribution errors (no NaN map), for every method family', async () => {
    const c = corpus.models.find((m) => m.id === 'nan-output')!;
    for (const [m, p] of [['occlusion', OCCLUSION_4], ['saliency', {}], ['integrated-gradients', {}], ['feature-ablation', {}]] as const) {
      await assertEngineError(fullPath(c.file, c.input, m, p), /the model's output 'y' is NaN for this input/);
    }
  });
});

describe('bad models, through the CLI', () => {
  it('every model case: one error line, non-zero exit, no stack, within the time bound', async (t) => {
    for (const c of corpus.models) {
      await t.test(c.id, async () => {
        const m = methodFor(c.id);
        const args = ['attribute', '--model', c.file, '--input', c.input, '--method', m, '--json'];
        if (m === 'occlusion') args.push('--params', JSON.stringify(OCCLUSION_4));
        assertCliError(await cli(args), expectText(c.expect));
        if (c.expect.kind === 'inspect-only') assertCliOk(await cli(['inspect', '--model', c.file]));
        else assertCliError(await cli(['inspect', '--model', c.file]), expectText(c.expect));
      });
    }
  });

  it('the model with an op lacking a gradient rule still attributes with occlusion', async () => {
    const c = corpus.models.find((m) => m.id === 'no-gradient-op')!;
    const r = await cli(['attribute', '--model', c.file, '--input', c.input, '--method', 'occlusion', '--params', JSON.stringify(OCCLUSION_4), '--json']);
    assertCliOk(r);
    assert.deepEqual(JSON.parse(r.stdout).attributionShape, [1, 4]);
  });
});

describe('bad and odd inputs', () => {
  it('engine: every input case is refused clearly or decodes to the pixels it holds', async (t) => {
    for (const c of corpus.inputs) {
      await t.test(c.id, async () => {
        const lm = await LoadedModel.open(c.model);
        if (c.expect.kind !== 'ok') {
          const t0 = performance.now();
          await assertEngineError(loadInputs(lm, c.file), c.expect.message);
          // refused from the header: no decoding of 400 megapixels or 40 TB of tensor
          if (c.id === 'huge-image' || c.id === 'npy-huge-claim') assert.ok(performance.now() - t0 < 1000, `${c.id} took ${(performance.now() - t0).toFixed(0)} ms`);
          return;
        }
        figures.engineChecks++;
        const inp = await loadInputs(lm, c.file);
        const x = inp.feeds.input;
        assert.deepEqual(x.dims, [1, 3, 64, 64]);
        const d = x.data as Float32Array;
        for (let ch = 0; ch < 3; ch++) {
          for (let p = 0; p < 64 * 64; p += 97) {
            const v = d[ch * 4096 + p] * 255;
            assert.ok(Math.abs(v - c.rgb![ch]) <= (c.tol ?? 0) + 1e-3, `${c.id}: channel ${ch} pixel ${p} is ${v}, expected ${c.rgb![ch]}`);
          }
        }
      });
    }
  });

  it('CLI: every input case gives one error line, or attributes (exit 0)', async (t) => {
    for (const c of corpus.inputs) {
      await t.test(c.id, async () => {
        const image = c.model.endsWith('model.onnx') && !c.file.endsWith('.npy');
        const args = ['attribute', '--model', c.model, '--input', c.file, '--method', 'occlusion', '--params', JSON.stringify(image ? OCCLUSION_IMG : OCCLUSION_4), '--json'];
        const r = await cli(args);
        if (c.expect.kind === 'ok') {
          assertCliOk(r);
          assert.deepEqual(JSON.parse(r.stdout).attributionShape, [1, 3, 64, 64]);
        } else {
          assertCliError(r, c.expect.message);
        }
      });
    }
  });
});

/**
 * Records every path opened or read through `fs` while `fn` runs (the engine reads files only
 * through `fs`; onnxruntime and sharp get bytes, never paths).
 */
async function recordReads(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  // the CommonJS module object itself (the ES namespace is read-only); the engine reads through it
  const cjsFs = createRequire(__filename)('fs') as typeof fs;
  const m = cjsFs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const p = cjsFs.promises as unknown as Record<string, (...a: unknown[]) => unknown>;
  const wrap = (obj: Record<string, (...a: unknown[]) => unknown>, name: string) => {
    const orig = obj[name];
    obj[name] = function (this: unknown, ...a: unknown[]) {
      if (typeof a[0] === 'string' || a[0] instanceof URL || Buffer.isBuffer(a[0])) seen.push(String(a[0]));
      return orig.apply(this, a);
    };
    return () => (obj[name] = orig);
  };
  const restore = [
    ...['openSync', 'readFileSync', 'open', 'readFile', 'createReadStream'].map((n) => wrap(m, n)),
    ...['open', 'readFile'].map((n) => wrap(p, n)),
  ];
  try {
    await fn().catch(() => undefined);
  } finally {
    restore.forEach((r) => r());
  }
  return seen;
}

/** `file`, with links resolved where it exists. */
function real(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function inside(file: string, dir: string): boolean {
  const rel = path.relative(real(dir), real(file));
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

describe('external data never reads outside the model folder', () => {
  it('engine: load, open and attribute open only files inside the model folder', async () => {
    for (const id of ['ext-dotdot', 'ext-absolute', 'ext-symlink']) {
      const c = corpus.models.find((m) => m.id === id)!;
      const dir = path.dirname(c.file);
      const seen = await recordReads(async () => {
        await assertEngineError(fullPath(c.file, c.input), expectText(c.expect));
        assert.throws(() => OnnxModel.load(c.file), AttrLensError);
      });
      assert.ok(seen.length > 0, 'the recorder saw the model being read');
      const outside = seen.filter((f) => !inside(f, dir));
      assert.deepEqual(outside, [], `${id} opened files outside ${dir}`);
      for (const o of corpus.outside) assert.ok(!seen.some((f) => real(f) === real(o)), `${id} opened ${o}`);
      figures.engineChecks++;
    }
  });

  it('CLI: inspect and attribute never open the outside file nor anything else outside the model folder', async () => {
    // A preload that logs every path the CLI process opens through fs (module loading included).
    const log = path.join(tmp, 'opened.log');
    const preload = path.join(tmp, 'record-opens.cjs');
    fs.writeFileSync(preload, `
const fs = require('fs');
const append = fs.appendFileSync;
const LOG = ${JSON.stringify(log)};
for (const [obj, names] of [[fs, ['openSync', 'readFileSync', 'open', 'readFile', 'createReadStream']], [fs.promises, ['open', 'readFile']]]) {
  for (const n of names) {
    const orig = obj[n];
    obj[n] = function (...a) {
      if (typeof a[0] === 'string') append(LOG, a[0] + '\\n');
      return orig.apply(this, a);
    };
  }
}
`);
    for (const id of ['ext-dotdot', 'ext-absolute', 'ext-symlink']) {
      const c = corpus.models.find((m) => m.id === id)!;
      const dir = path.dirname(c.file);
      fs.writeFileSync(log, '');
      assertCliError(await cli(['inspect', '--model', c.file], ['--require', preload]), expectText(c.expect));
      assertCliError(await cli(['attribute', '--model', c.file, '--input', c.input, '--method', 'occlusion', '--params', JSON.stringify(OCCLUSION_4)], ['--require', preload]), expectText(c.expect));
      const opened = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      assert.ok(opened.some((f) => real(f) === real(c.file)), `the log saw the model being read: ${opened.join(', ')}`);
      // Besides the model folder, only the program's own code (module loading) and its own cache
      // (compiled code the launcher wrote) may be read.
      const unexpected = opened.filter((f) => !inside(f, dir) && !inside(f, ROOT) && !inside(f, path.dirname(process.execPath)) && !inside(f, cacheDir));
      assert.deepEqual(unexpected, [], `${id}: the CLI opened files outside ${dir}`);
      for (const o of corpus.outside) assert.ok(!opened.some((f) => real(f) === real(o)), `${id}: the CLI opened ${o}`);
    }
  });
});
