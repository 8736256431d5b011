// Issue 8, item 6: in Restricted Mode the engine client refuses every call before an engine process exists,
// so no model is parsed or run. A real engine process (a tiny script that leaves a marker file when
// it starts and echoes calls) shows when the engine process does start.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient, EngineError } from '../../src/extension/engine/engineClient';
import { type TrustGate, refusal, trustState } from '../../src/extension/trustGate';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';

const REASON = 'This workspace is in Restricted Mode, so Attribution Lens does not run models from it. Trust the workspace to run attributions.';
let dir: string;
let marker: string;
let engineFile: string;
let trusted = false;
const gate: TrustGate = { trusted: () => trusted, reason: () => REASON };
const ref: ModelRef = { file: '/ws/model.onnx', runtime: { threads: 1, executionProvider: 'cpu' } };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'attrlens-trust-'));
  marker = join(dir, 'engine-started');
  engineFile = join(dir, 'engine.js');
  writeFileSync(engineFile, `
require('fs').writeFileSync(${JSON.stringify(marker)}, 'started');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.type === 'call') process.send({ type: 'result', id: m.id, value: { served: m.method, file: m.args.file ?? m.args.model?.file } });
});
`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('untrusted: every engine call is refused with the one-line reason and no engine process starts', async () => {
  trusted = false;
  const client = new EngineClient(engineFile, () => undefined, gate);
  try {
    const calls = [
      client.call('inspect', { file: ref.file }),
      client.call('predict', { model: ref, input: { file: '/ws/image.png' } }),
      client.call('attribute', { model: ref, input: { file: '/ws/image.png' }, request: { method: 'saliency' } }),
      client.call('methods', {}),
    ];
    for (const c of calls) {
      await assert.rejects(c.promise, (e: unknown) => e instanceof EngineError && e.user && e.message === REASON);
      c.cancel(); // harmless after a refusal
    }
    assert.equal(client.busy, false, 'nothing pending');
    // give an engine process that was (wrongly) started the time to write its marker
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existsSync(marker), false, 'the engine process was started');
  } finally {
    client.dispose();
  }
});

test('trust granted: the same client starts the engine process and calls go through; revoked: refused again', async () => {
  trusted = false;
  const client = new EngineClient(engineFile, () => undefined, gate);
  try {
    await assert.rejects(client.call('inspect', { file: ref.file }).promise, EngineError);
    trusted = true; // asked at every call, so granting trust needs no restart
    assert.deepEqual(await client.call('inspect', { file: ref.file }).promise, { served: 'inspect', file: ref.file });
    assert.equal(existsSync(marker), true, 'the engine process started once trusted');
    trusted = false;
    await assert.rejects(client.call('attribute', { model: ref, input: { file: '/ws/image.png' }, request: { method: 'saliency' } }).promise, (e: unknown) => e instanceof EngineError && e.message === REASON);
  } finally {
    client.dispose();
    rmSync(marker, { force: true });
  }
});

test('the panel is told why, and the gate answers per call', () => {
  trusted = false;
  assert.deepEqual(trustState(gate), { restricted: true, reason: REASON });
  assert.equal(refusal(gate), REASON);
  trusted = true;
  assert.deepEqual(trustState(gate), { restricted: false });
  assert.equal(refusal(gate), undefined);
});
