// The extension's engine process, through the host-side client, with the real engine and
// onnxruntime: results match the in-process engine, progress streams with partial maps, one
// queue, cancellation of running and queued calls, user errors kept as such, a crash contained.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { attribute, loadInputs, openModel } from '../../src/engine';
import { CallCancelledError, EngineClient, EngineError, type EngineProgress } from '../../src/extension/engine/engineClient';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';
import { ROOT, bundleEngine } from './engineBundle';

const MODEL = join(ROOT, 'samples', 'shapes', 'model.onnx');
const IMAGE = join(ROOT, 'samples', 'shapes', 'images', 'red-circle.png');
const ref: ModelRef = { file: MODEL, runtime: { threads: 1, executionProvider: 'cpu' } };
const input = { file: IMAGE, options: { preprocess: {} } };
let client: EngineClient;

before(async () => {
  client = new EngineClient(await bundleEngine('test-engine'), () => undefined);
});
after(() => client?.dispose());

test('Integrated Gradients in the engine process equals the in-process engine, with progress', async () => {
  const progress: EngineProgress[] = [];
  const { result, image } = await client.call('attribute', { model: ref, input, request: { method: 'integrated-gradients', params: { nSteps: 16 } } }, (p) => progress.push(p)).promise;
  assert.equal(result.target, 0);
  assert.equal(result.targetLabel, 'red');
  assert.deepEqual([image?.width, image?.height, image?.rgba.length], [64, 64, 64 * 64 * 4]);
  assert.ok(progress.length > 0 && progress[progress.length - 1].done === progress[progress.length - 1].total);

  const lm = await openModel(MODEL, { threads: 1 });
  const { feeds } = await loadInputs(lm, IMAGE);
  const direct = await attribute(lm, feeds, { method: 'integrated-gradients', params: { nSteps: 16 } });
  const a = result.attributions.input.data as Float32Array;
  const b = direct.attributions.input.data as Float32Array;
  assert.deepEqual(result.attributions.input.dims, [1, 3, 64, 64]);
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6 * (1 + Math.abs(b[i])), `value ${i}: ${a[i]} vs ${b[i]}`);
});

test('occlusion streams partial maps; cancelling it rejects, and the queue goes on', async () => {
  const partials: number[][] = [];
  let cancelAt = -1;
  // 1×1 windows over 64×64: thousands of evaluations, long enough to cancel midway.
  const slow = client.call('attribute', { model: ref, input, request: { method: 'occlusion', params: { slidingWindowShapes: [3, 1, 1], strides: [3, 1, 1] } } }, (p) => {
    if (p.partial) partials.push(p.partial.dims);
    if (cancelAt < 0 && p.done > 0) {
      cancelAt = p.done;
      slow.cancel();
    }
  });
  const queued = client.call('inspect', { file: MODEL });
  const dropped = client.call('predict', { model: ref, input });
  dropped.cancel(); // still queued: removed without running
  const droppedRejects = assert.rejects(dropped.promise, CallCancelledError);
  await assert.rejects(slow.promise, CallCancelledError);
  await droppedRejects;
  assert.ok(cancelAt > 0 && cancelAt < 4096, `cancelled after ${cancelAt} of 4096 windows`);
  assert.ok(partials.length >= 1);
  assert.deepEqual(partials[0], [1, 3, 64, 64]);
  const ins = await queued.promise;
  assert.deepEqual(ins.labels, ['red', 'green', 'blue', 'yellow']);
  assert.equal(client.busy, false);
});

test('engine errors reach the host as one-line user errors', async () => {
  const call = client.call('attribute', { model: ref, input, request: { method: 'integrated-gradient' } });
  await assert.rejects(call.promise, (e: unknown) => e instanceof EngineError && e.user && /unknown method 'integrated-gradient'.*integrated-gradients/.test(e.message));
  const missing = client.call('predict', { model: { ...ref, file: join(ROOT, 'nope.onnx') }, input });
  await assert.rejects(missing.promise, (e: unknown) => e instanceof EngineError && e.user && /nope\.onnx/.test(e.message));
});

test('a killed engine process fails its call, the host goes on, and the next call starts a new engine', async () => {
  let pid: number | undefined;
  const call = client.call('attribute', { model: ref, input, request: { method: 'occlusion', params: { slidingWindowShapes: [1, 1, 1], strides: 1 } } }, () => {
    if (pid === undefined) {
      pid = client.enginePid!;
      process.kill(pid, 'SIGKILL');
    }
  });
  await assert.rejects(call.promise, (e: unknown) => e instanceof EngineError && !e.user && /the engine stopped \(SIGKILL\); run the command again/.test(e.message));
  const methods = await client.call('methods', {}).promise;
  assert.ok(methods.some((m) => m.id === 'occlusion'));
  assert.ok(client.enginePid !== undefined && client.enginePid !== pid, 'a new engine process');
  if (process.platform === 'linux') {
    // started with glibc's huge pages, running below the host's priority
    const env = readFileSync(`/proc/${client.enginePid}/environ`, 'utf8').split('\0');
    assert.ok(env.some((v) => v.startsWith('GLIBC_TUNABLES=') && v.includes('glibc.malloc.hugetlb=1')), 'GLIBC_TUNABLES in the engine environment');
    assert.equal(getPriority(client.enginePid!), 10);
  }
});
