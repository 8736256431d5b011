// The launcher (dist/cli.js) compiles the CLI bundle from V8's code cache: the cache must follow
// the bundle's content, and a damaged cache file must never take the CLI down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

function run(dir: string, cache: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(dir, 'cli.js'), ...args], { encoding: 'utf8', env: { ...process.env, ATTRLENS_CACHE_DIR: cache } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const v8caches = (cache: string) => fs.readdirSync(cache).filter((f) => f.endsWith('.v8cache'));

test('launcher: a damaged code cache of the right size is ignored and rewritten', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-launcher-'));
  try {
    const first = run(DIST, cache, 'methods');
    assert.equal(first.status, 0, first.stderr);
    const [file] = v8caches(cache);
    assert.ok(file, 'the first run wrote a code cache');
    const raw = fs.readFileSync(path.join(cache, file));
    // flip bytes in the middle of the code data, keeping the size
    for (let i = raw.length >> 1; i < Math.min(raw.length, (raw.length >> 1) + 4000); i++) raw[i] ^= 0x5a;
    fs.writeFileSync(path.join(cache, file), raw);
    const again = run(DIST, cache, 'methods');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    assert.notDeepEqual(fs.readFileSync(path.join(cache, file)), raw, 'rewritten');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('launcher: a rebuilt bundle of the same size and time does not run the old code', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-launcher-'));
  // inside dist so that the copy resolves node_modules as the real one does
  const copy = fs.mkdtempSync(path.join(DIST, '.launcher-test-'));
  try {
    for (const f of ['cli.js', 'attrlens.js']) fs.copyFileSync(path.join(DIST, f), path.join(copy, f));
    const bundle = path.join(copy, 'attrlens.js');
    const before = run(copy, cache, '--help');
    assert.match(before.stdout, /explain ONNX model predictions/);
    const st = fs.statSync(bundle);
    fs.writeFileSync(bundle, fs.readFileSync(bundle, 'utf8').replace('explain ONNX model predictions', 'EXPLAIN onnx MODEL PREDICTIONS'));
    fs.utimesSync(bundle, st.atime, st.mtime);
    assert.equal(fs.statSync(bundle).size, st.size);
    const after = run(copy, cache, '--help');
    assert.match(after.stdout, /EXPLAIN onnx MODEL PREDICTIONS/);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('launcher: a reader that closes the pipe early (attrlens methods | head -1) ends the run quietly with the SIGPIPE status', async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-launcher-'));
  try {
    const child = spawn(process.execPath, [path.join(DIST, 'cli.js'), 'methods'], { env: { ...process.env, ATTRLENS_CACHE_DIR: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    // closed before the CLI writes: its first write meets a pipe without a reader
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.equal(stderr, '');
    assert.equal(status, 128 + os.constants.signals.SIGPIPE);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
