// Forged webview messages against the real Attribution panel in a real VS Code (code-server):
// messages are posted through the webview's own channel to the extension host (the outer webview
// frame's post function, which the page's acquireVsCodeApi wraps), exactly as a compromised
// webview script would. Malformed ones get no answer, forged ones a one-line error for their
// request, files outside the model's folder are never used, and a real request still runs with
// the panel's model and image and a baseline file from the model's folder: its map equals the
// engine's own run on the same files.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { loadInputs, writeNpy } from '../../../src/engine/inputs';
import { attribute } from '../../../src/engine/methods/registry';
import { base64ToFloat32 } from '../../../src/shared/base64';
import { explorerCommand, openWorkbench, waitForPanelFrame, type Workbench } from './codeServer';

const IMAGE = 'red-circle.png';

let wb: Workbench | undefined;
let page: Page;
let inner: Frame;
let outer: Frame;
let dims: number[];

interface Seen {
  type: string;
  requestId?: string;
  message?: string;
  result?: { map: { dims: number[]; data: string }; delta?: number; method: string };
}

before(async () => {
  wb = await openWorkbench({
    sample: 'shapes',
    prefix: 'attrlens-e2e-forged-',
    settings: { 'attributionLens.defaultMethod': 'saliency' },
    prepare: async (ws) => {
    const lm = await LoadedModel.open(join(ws, 'model.onnx'));
    dims = lm.inputs[0].dims.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    // a baseline inside the model's folder, and one beside the workspace (outside it)
    writeNpy(join(ws, 'half.npy'), { dtype: 'float32', dims, data: new Float32Array(n).fill(0.5) });
    writeNpy(join(ws, '..', 'secret.npy'), { dtype: 'float32', dims, data: new Float32Array(n).fill(9) });
    },
  });
  page = wb.page;
  await explorerCommand(page, IMAGE, /^Attribute Prediction$/, 'images');
  inner = await waitForPanelFrame(page, 90_000);
  await inner.locator('#summary', { hasText: /^Saliency for red · [\d.]+ s/ }).waitFor({ timeout: 120_000 });
  const parent = inner.parentFrame();
  assert.ok(parent, 'the panel frame sits inside the webview host frame');
  outer = parent;
  assert.equal(await outer.evaluate('typeof window.__vscode_post_message__'), 'function', 'the webview host frame posts to the extension');
  await inner.evaluate(`(() => { window.__seen = []; window.addEventListener('message', (e) => window.__seen.push(e.data)); })()`);
});

after(async () => {
  await wb?.close('vscode-forged-last.png');
});

/** Posts as the webview would; parsed in the page so that own keys such as `__proto__` survive. */
async function post(message: unknown): Promise<void> {
  await outer.evaluate(`window.__vscode_post_message__('onmessage', { message: JSON.parse(${JSON.stringify(JSON.stringify(message))}) })`);
}

async function seen(): Promise<Seen[]> {
  return (await inner.evaluate('window.__seen')) as Seen[];
}

/** The answer that ends request `id` (an error, a result or an export reply). */
async function answer(id: string, timeout = 60_000): Promise<Seen> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const a = (await seen()).find((m) => m.requestId === id && ['error', 'runResult', 'exportDone', 'compareResult'].includes(m.type));
    if (a) return a;
    await page.waitForTimeout(200);
  }
  throw new Error(`no answer to ${id}`);
}

const run = (requestId: string, over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) =>
  ({ type: 'runAttribution', requestId, method: 'integrated-gradients', target: 0, params: { nSteps: 8, ...params }, ...over });

test('forged but well-formed requests get one-line errors; nothing outside the model folder is used', async () => {
  const secret = join(wb!.workspace, '..', 'secret.npy');
  const cases: Array<[string, unknown, RegExp]> = [
    ['f-method', run('f-method', { method: 'read-file' }), /unknown method 'read-file'/],
    ['f-target', run('f-target', { target: 4 }), /target 4 is out of range/],
    ['f-abs', run('f-abs', {}, { baselines: secret }), /outside the model's folder/],
    ['f-up', run('f-up', {}, { baselines: '../secret.npy' }), /outside the model's folder/],
    ['f-mask', run('f-mask', { method: 'feature-ablation', params: { featureMask: secret } }), /outside the model's folder/],
    ['f-param', run('f-param', { method: 'saliency', params: { inputFile: 'x' } }), /Saliency has no parameter 'inputFile'/],
    ['f-png', { type: 'export', requestId: 'f-png', format: 'png', pngDataUrl: 'data:image/png;base64,R0lGODlhAQABAAAAACw=' }, /not a PNG image/],
  ];
  for (const [, msg] of cases) await post(msg);
  for (const [id, , expected] of cases) {
    const a = await answer(id);
    assert.ok(a.type === 'error' || (a.type === 'exportDone' && (a as { ok?: boolean }).ok === false), `${id}: ${a.type}`);
    assert.match(a.message ?? '', expected, id);
    assert.ok(!(a.message ?? '').includes('\n') && (a.message ?? '').length < 300, `${id}: not one line`);
  }
  // nothing was exported for the forged PNG
  const out = join(wb!.workspace, 'attribution-lens');
  assert.ok(!existsSync(out) || readdirSync(out).every((f) => !f.endsWith('.png')), 'no PNG written');
});

test('malformed messages get no answer at all, and the panel keeps working', async () => {
  const malformed: unknown[] = [
    { type: 'readFile', requestId: 'm-1', path: '/etc/passwd' },
    { ...run('m-2'), path: '/etc/passwd' },
    { ...run('m-3'), model: '/tmp/evil.onnx' },
    run('m-4', { method: '../../tmp/evil' }),
    run('m-5', { target: 1e12 }),
    JSON.parse('{"type": "runAttribution", "requestId": "m-6", "method": "saliency", "target": 0, "params": {"__proto__": {"polluted": true}}}'),
    { type: 'export', requestId: 'm-7', format: 'json', file: '/etc/cron.d/x' },
  ];
  for (const m of malformed) await post(m);
  // a real request after them: when its answer is in, the malformed ones were long handled
  await post(run('ok-after', { method: 'saliency', params: {} }));
  assert.equal((await answer('ok-after')).type, 'runResult');
  const ids = new Set((await seen()).map((m) => m.requestId));
  for (const id of ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6', 'm-7']) assert.ok(!ids.has(id), `${id} was answered`);
  assert.ok(!existsSync('/etc/cron.d/x'));
});

test('a real request runs on the panel\'s model and image with a baseline from the model folder: the map equals the engine\'s', async () => {
  await post(run('real', {}, { baselines: 'half.npy' }));
  const a = await answer('real', 120_000);
  assert.equal(a.type, 'runResult', a.message);
  const got = base64ToFloat32(a.result!.map.data);

  const ws = wb!.workspace;
  const lm = await LoadedModel.open(join(ws, 'model.onnx'));
  const inputs = await loadInputs(lm, join(ws, 'images', IMAGE));
  const n = dims.reduce((x, y) => x * y, 1);
  const half = { dtype: 'float32' as const, dims, data: new Float32Array(n).fill(0.5) };
  const want = await attribute(lm, inputs.feeds, { method: 'integrated-gradients', target: 0, params: { nSteps: 8, baselines: half } });
  const ref = Object.values(want.attributions)[0].data as Float32Array;
  assert.equal(got.length, ref.length);
  let err = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  assert.ok(scale > 0 && err <= 1e-4 * scale, `max error ${err} against max ${scale}`);
  // and the zero baseline gives another map: the file was read, not ignored
  const zero = await attribute(lm, inputs.feeds, { method: 'integrated-gradients', target: 0, params: { nSteps: 8 } });
  const z = Object.values(zero.attributions)[0].data as Float32Array;
  let diff = 0;
  for (let i = 0; i < z.length; i++) diff = Math.max(diff, Math.abs(z[i] - ref[i]));
  assert.ok(diff > 10 * err, 'the baseline file changes the map');
});
