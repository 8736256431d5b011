// The panel's Sanity check, host side, with the real engine process: the engine process's `sanity` call
// gives the in-process engine's numbers with progress per model, the host's session turns it into
// the strip's messages and cancels; the protocol and the gate accept only well-formed requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadInputs, openModel } from '../../src/engine';
import { sanityCheck } from '../../src/engine/sanity';
import { EngineClient, type EngineProgress } from '../../src/extension/engine/engineClient';
import { SanitySession } from '../../src/extension/panel/sanitySession';
import { gateFromWebview } from '../../src/extension/panel/webviewGate';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';
import { base64ToFloat32 } from '../../src/shared/base64';
import { isFromWebview, type MethodInfo, type ToWebview } from '../../src/shared/protocol';
import { ROOT, bundleEngine } from '../extension/engineBundle';

const MODEL = join(ROOT, 'samples', 'shapes', 'model.onnx');
const IMAGE = join(ROOT, 'samples', 'shapes', 'images', 'red-circle.png');
const ref: ModelRef = { file: MODEL, runtime: { threads: 1, executionProvider: 'cpu' } };
const input = { file: IMAGE, options: { preprocess: {} } };
let client: EngineClient;

before(async () => {
  client = new EngineClient(await bundleEngine('test-sanity-engine'), () => undefined);
});
after(() => client?.dispose());

test('the engine process runs the cascade as the engine does, with progress per model', async () => {
  const progress: EngineProgress[] = [];
  const r = await client.call('sanity', { model: ref, input, request: { method: 'saliency', seed: 2 } }, (p) => progress.push(p)).promise;
  const lm = await openModel(MODEL, { threads: 1 });
  const { feeds } = await loadInputs(lm, IMAGE);
  const direct = await sanityCheck(lm, feeds, { method: 'saliency', seed: 2 });
  assert.equal(r.verdict, 'pass');
  assert.deepEqual(r.steps.map((s) => [s.kind, s.spearmanAbs, s.ssim]), direct.steps.map((s) => [s.kind, s.spearmanAbs, s.ssim]));
  // original, three cascade steps, the fully randomised model: counted to 5 of 5
  assert.equal(progress[progress.length - 1].done, 5);
  assert.ok(progress.every((p) => p.total === 5));
  assert.ok(progress.some((p) => p.phase === 'randomised 2/3: features.conv2'));
});

test('the host session posts progress then the strip: one wire map per model, titled', async () => {
  const posted: ToWebview[] = [];
  const session = new SanitySession(client, (m) => posted.push(m), () => undefined);
  await session.run('s1', { model: ref, input, request: { method: 'integrated-gradients', params: { nSteps: 8 }, target: 2, layers: 1 } }, 'input');
  const end = posted[posted.length - 1];
  assert.equal(end.type, 'sanityResult');
  if (end.type !== 'sanityResult') return;
  assert.ok(posted.slice(0, -1).every((m) => m.type === 'sanityProgress' && m.requestId === 's1'));
  const r = end.result;
  assert.equal(r.target, 2);
  assert.equal(r.targetLabel, 'blue');
  assert.deepEqual(r.steps.map((s) => s.title), ['original', '+ classifier.fc (Gemm)', 'fully randomised (3 layers)']);
  for (const s of r.steps) {
    assert.deepEqual(s.map?.dims, [1, 3, 64, 64]);
    const v = base64ToFloat32(s.map!.data);
    assert.equal(v.length, 3 * 64 * 64);
    assert.equal(s.map!.max, Math.max(...v));
  }
  assert.equal(r.layerCount, 3);
  assert.equal(r.image, 'red-circle.png');
});

test('the host session: a cancelled check ends as cancelled, an engine error as one line', async () => {
  const posted: ToWebview[] = [];
  const session = new SanitySession(client, (m) => posted.push(m), () => undefined);
  const running = session.run('s2', { model: ref, input, request: { method: 'integrated-gradients', params: { nSteps: 64 } } }, 'input');
  session.cancel('other'); // another request's cancel leaves it running
  session.cancel('s2');
  await running;
  assert.deepEqual(posted[posted.length - 1], { type: 'sanityEnded', requestId: 's2', cancelled: true });
  posted.length = 0;
  await session.run('s3', { model: ref, input, request: { method: 'saliency', target: 9 } }, 'input');
  const end = posted[posted.length - 1];
  assert.equal(end.type, 'sanityEnded');
  assert.match((end as { message: string }).message, /^target 9 is outside the output's range 0\.\.3/);
});

test('runSanity: the protocol and the gate accept the panel\'s request and nothing looser', () => {
  const ok = { type: 'runSanity', requestId: 'sanity-1', method: 'saliency', target: 2, params: { abs: true } };
  assert.ok(isFromWebview(ok));
  assert.ok(isFromWebview({ ...ok, layers: 3, seed: 7 }));
  assert.ok(isFromWebview({ ...ok, target: 'box:0' }));
  for (const bad of [
    { ...ok, layers: 0 }, { ...ok, layers: 1.5 }, { ...ok, seed: -1 }, { ...ok, seed: 2 ** 32 }, { ...ok, extra: 1 },
    { ...ok, method: 'Saliency!' }, { ...ok, target: -1 }, { ...ok, target: 'file:/etc/passwd' }, { ...ok, params: { __proto__x: 1, a: {} } },
  ]) assert.equal(isFromWebview(bad), false, JSON.stringify(bad));
  const methods = [{ id: 'saliency', captumName: 'Saliency', family: 'gradient', needsGradients: true, description: '', params: [{ name: 'abs', kind: 'boolean', description: '' }] }] as MethodInfo[];
  assert.equal(gateFromWebview(ok, { methods, classes: 4 }).ok, true);
  const outOfRange = gateFromWebview({ ...ok, target: 4 }, { methods, classes: 4 });
  assert.equal(outOfRange.ok, false);
  const unknown = gateFromWebview({ ...ok, params: { nSteps: 5 } }, { methods, classes: 4 });
  assert.equal(unknown.ok, false);
  assert.match((unknown as { log: string }).log, /Saliency has no parameter 'nSteps'/);
});
