// `attrlens dataset` as a user runs it (the built dist/cli.js): --json on the shapes sample
// gives the folder's known accuracy and confusion; the human output; shards and --merge; bad
// options are one line on stderr.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import type { DatasetReport } from '../../src/engine/dataset';
import { ProcessRun, runNode, tmpDir } from '../onnx/helpers';
import { MIXED, MODEL, ROOT, expectedConfusion, shapesFolder } from './shared';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const dir = tmpDir('dataset-cli');
const data = path.join(dir, 'data');
const pairs = shapesFolder(data, MIXED);
fs.mkdirSync(path.join(data, 'purple'));
fs.copyFileSync(path.join(data, 'red', 'red-circle.png'), path.join(data, 'purple', 'x.png'));

function cli(args: string[], timeoutMs = 30_000): Promise<ProcessRun> {
  return runNode([CLI, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs });
}

function userError(r: ProcessRun, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code ${r.code}; stderr ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^attrlens: error: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
}

before(() => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed: ${b.stderr}`);
});

test('--json: one object with the right accuracy and confusion', async () => {
  const r = await cli(['dataset', '--model', MODEL, '--data', data, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as DatasetReport;
  assert.deepEqual(rep.classes, ['red', 'green', 'blue', 'yellow']);
  assert.deepEqual(rep.confusion, expectedConfusion(pairs));
  assert.equal(rep.accuracy, 8 / 12);
  assert.equal(rep.items.length, 13);
  assert.equal(rep.items[0].correct, false);
  assert.equal(rep.items[12].path, 'purple/x.png');
});

test('human output: accuracy, the per-class table, the confusion matrix, the worst items, the summary, where the report is', async () => {
  const out = path.join(dir, 'out');
  const r = await cli(['dataset', '--model', MODEL, '--data', data, '--out-dir', out, '--method', 'saliency', '--top', '2']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'accuracy 66.7% (8/12)');
  assert.ok(lines.includes('red         66.7%   66.7%        3'), r.stdout);
  assert.ok(lines.includes('yellow      66.7%   50.0%        4'), r.stdout);
  assert.ok(lines.includes('confusion (rows: true, columns: predicted):'));
  const row = (label: string) => lines.find((l) => l.startsWith(`${label}  `) && !l.includes('%'))!.trim().split(/\s+/).slice(1).map(Number);
  const want = expectedConfusion(pairs);
  ['red', 'green', 'blue', 'yellow'].forEach((c, i) => assert.deepEqual(row(c), want[i], c));
  assert.match(r.stdout, /\n {2}wrong {2}\S+ {2}\w+ → \w+ \d+\.\d%  loss \d+\.\d{3}  maps\/\S+\.saliency\.png\n/);
  assert.match(r.stdout, /purple\/x\.png: label purple is not one of the model's labels/);
  assert.match(r.stdout, /\n13 items: 12 predicted \(0 resumed\), 1 error \(1 unknown label\); accuracy 66\.7%; 2 attributed \(0 resumed\)\n/);
  assert.ok(r.stdout.trimEnd().endsWith(`report: ${path.join(out, 'report.html')} (report.json, thumbs/, maps/ beside it)`));
  const again = await cli(['dataset', '--model', MODEL, '--data', data, '--out-dir', out, '--method', 'saliency', '--top', '2']);
  assert.match(again.stdout, /12 predicted \(12 resumed\).*2 attributed \(2 resumed\)/);
});

test('--shard i/n counts from 1; --merge of the shards gives the one-run numbers', async () => {
  const outs = [1, 2, 3].map((i) => path.join(dir, `s${i}`));
  for (const [k, o] of outs.entries()) {
    const r = await cli(['dataset', '--model', MODEL, '--data', data, '--shard', `${k + 1}/3`, '--out-dir', o, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as DatasetReport).shard, { index: k, count: 3 });
  }
  const m = await cli(['dataset', '--merge', ...outs, '--out-dir', path.join(dir, 'merged'), '--json']);
  assert.equal(m.code, 0, m.stderr);
  const rep = JSON.parse(m.stdout) as DatasetReport;
  assert.deepEqual(rep.confusion, expectedConfusion(pairs));
  assert.equal(rep.accuracy, 8 / 12);
  assert.equal(rep.items.length, 13);
  const human = await cli(['dataset', '--merge', outs[0], outs[1]]);
  assert.match(human.stdout, /merged from 2 reports \(shards 3\/3 missing\)/);
});

test('Ctrl+C stops the run between batches (exit 130); the same command then resumes the journal', async () => {
  const big = path.join(dir, 'big');
  for (const [label, p] of pairs) {
    fs.mkdirSync(path.join(big, label), { recursive: true });
    for (let k = 0; k < 60; k++) fs.copyFileSync(path.join(data, label, p), path.join(big, label, `${k}-${p}`));
  }
  const out = path.join(dir, 'big-out');
  const args = [CLI, 'dataset', '--model', MODEL, '--data', big, '--out-dir', out, '--batch-size', '8'];
  // without the huge-page restart, the signal goes to the process that runs
  const env = { ...process.env, ATTRLENS_HUGE_PAGES: '0' };
  const child = spawn(process.execPath, args, { cwd: dir, env });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const journal = path.join(out, 'journal.jsonl');
  const lines = () => (fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean).length : 0);
  const started = Date.now();
  while (lines() < 16 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGINT');
  const signalled = Date.now();
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.ok(Date.now() - signalled < 3000, `stopped ${Date.now() - signalled} ms after the signal`);
  assert.equal(code, 130, stderr);
  assert.equal(stderr.trim(), 'attrlens: cancelled');
  const done = lines();
  assert.ok(done >= 16 && done < 720, `${done} of 720 done before the signal`);
  assert.ok(!fs.existsSync(path.join(out, 'report.json')));
  const again = spawnSync(process.execPath, [...args.slice(0, -2), '--json'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  const rep = JSON.parse(again.stdout) as DatasetReport;
  assert.deepEqual([rep.counts?.resumed, rep.counts?.predicted], [done, 720]);
  assert.deepEqual(rep.confusion, expectedConfusion(pairs).map((row) => row.map((n) => n * 60)));
});

test('bad options: one line each', async () => {
  const base = ['dataset', '--model', MODEL, '--data', data];
  userError(await cli([...base, '--shard', '0/4']), /--shard 0\/4: write i\/n with 1 ≤ i ≤ n.*JOB_COMPLETION_INDEX/);
  userError(await cli([...base, '--shard', '5/4']), /--shard 5\/4/);
  userError(await cli([...base, '--shard', 'half']), /--shard half/);
  userError(await cli([...base, '--top', '-1']), /--top must be a whole number ≥ 0/);
  userError(await cli([...base, '--batch-size', '0']), /--batch-size must be a whole number ≥ 1/);
  userError(await cli([...base, '--method', 'saliency']), /give an output folder \(--out-dir D\)/);
  userError(await cli([...base, '--params', '{"nSteps": 4}']), /--params and --layer go with --method/);
  userError(await cli([...base, '--target', '1']), /unknown option --target for 'dataset'/);
  userError(await cli(['dataset', '--model', MODEL]), /missing --data DIR/);
  userError(await cli(['dataset', '--data', data]), /missing --model M\.onnx/);
  userError(await cli(['dataset', '--merge', path.join(dir, 'nowhere')]), /has no report\.json/);
});
