// The Sanity check button in real Chromium against the stub host: a click posts `runSanity` for
// the panel's method, target and parameters (a message the host's check accepts), progress shows
// and Cancel cancels that request, and a result renders the strip — one map per model of the
// cascade, each drawn as Σ|·| on its own scale, with its Spearman and SSIM, and the verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bytesToBase64, float32ToBase64 } from '../../../src/shared/base64';
import { isFromWebview, type InitMessage, type MethodInfo } from '../../../src/shared/protocol';
import type { SanityPayload, SanityStepPayload } from '../../../src/shared/sanityProtocol';
import { visualizeImageAttr, type RgbaImage } from '../../../src/shared/visualize';
import { SHOTS, pixels, posted, send, stubHost, waitFor } from './harness';

const { open } = stubHost();
const W = 16;
const H = 16;

const image: RgbaImage = (() => {
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x * 16, y * 16, 90, 255], (y * W + x) * 4);
  return { width: W, height: H, data };
})();

const methods: MethodInfo[] = [
  { id: 'saliency', captumName: 'Saliency', family: 'gradient', needsGradients: true, description: 'Saliency.', params: [{ name: 'abs', kind: 'boolean', default: true, description: 'abs' }] },
  { id: 'guided-backprop', captumName: 'GuidedBackprop', family: 'gradient', needsGradients: true, description: 'Guided backprop.', params: [] },
];

const init: InitMessage = {
  type: 'init', protocolVersion: 1,
  model: { name: 'shapes.onnx', inputs: [{ name: 'input', dims: [1, 3, H, W], dtype: 'float32' }], labels: ['red', 'green', 'blue', 'yellow'] },
  image: { encoding: 'rgba8-base64', width: W, height: H, data: bytesToBase64(image.data) },
  methods, current: { method: 'saliency', params: { abs: true }, target: 2 }, trust: { restricted: false },
  predictions: [{ index: 2, label: 'blue', probability: 0.9, logit: 3 }, { index: 0, label: 'red', probability: 0.05, logit: 0.1 }],
};

/** (1, 2, H, W): channel 0 a blob at (cx, cy), channel 1 its negative half: Σ|·| is 1.5 × the blob. */
function blobMap(cx: number, cy: number): Float32Array {
  const a = new Float32Array(2 * H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8);
    a[y * W + x] = v;
    a[H * W + y * W + x] = -0.5 * v;
  }
  return a;
}
const dims = [1, 2, H, W];
const maps = [blobMap(4, 4), blobMap(4, 5), blobMap(11, 12)];

function step(kind: SanityStepPayload['kind'], title: string, randomized: number, values: Float32Array | undefined, nums: [number | null, number | null, number], similar: boolean, error?: string): SanityStepPayload {
  return {
    kind, title, randomized, spearmanAbs: nums[0], spearman: nums[1], ssim: nums[2], similar,
    ...(values ? { map: { dims, data: float32ToBase64(values), min: Math.min(...values), max: Math.max(...values), input: 'input' } } : {}),
    ...(error ? { error } : {}),
  };
}

const result: SanityPayload = {
  method: 'saliency', target: 2, targetLabel: 'blue', targetText: '2', seed: 0, thresholds: { spearmanAbs: 0.5, ssim: 0.5 },
  verdict: 'pass', summary: 'saliency passes: the map changes once the weights are random, but not when only the top 1 layer (classifier.fc) is random: it depends weakly on it',
  insensitiveTop: ['classifier.fc'], layerCount: 2, seconds: 0.42,
  steps: [
    step('original', 'original', 0, maps[0], [1, 1, 1], true),
    step('cascade', '+ classifier.fc (Gemm)', 1, maps[1], [0.93, 0.91, 0.87], true),
    step('cascade', '+ features.conv1 (Conv)', 2, undefined, [null, null, 0], false, 'the model\'s output is NaN'),
    step('random', 'fully randomised (2 layers)', 2, maps[2], [0.04, -0.12, 0.01], false),
  ],
};

/** What the strip must draw for a map: Σ|·| over channels, Captum's heat map, absolute value, own scale. */
function expected(values: Float32Array): number[] {
  const abs = new Float32Array(H * W);
  for (let k = 0; k < values.length; k++) abs[k % (H * W)] += Math.abs(values[k]);
  const blank = { width: W, height: H, data: new Uint8Array(W * H * 4) };
  return Array.from(visualizeImageAttr(abs, [H, W], blank, { method: 'heat_map', sign: 'absolute_value' }).rgba);
}

const last = async (page: import('playwright-core').Page, type: string) => (await posted(page)).filter((x) => (x as { type: string }).type === type).pop() as Record<string, unknown> | undefined;

test('Sanity check: the click posts runSanity for the current method and target; progress and Cancel; the strip with its numbers and verdict', async () => {
  const { page, problems } = await open({ width: 1000, height: 900 });
  await send(page, init);
  const button = page.locator('al-sanity #sanity-run');
  await waitFor(page, async () => (await button.getAttribute('disabled')) === null, 'an enabled Sanity check button');

  await button.click();
  await waitFor(page, async () => !!(await last(page, 'runSanity')), 'a runSanity message');
  const run = (await last(page, 'runSanity'))!;
  assert.equal(run.method, 'saliency');
  assert.equal(run.target, 2);
  assert.deepEqual(run.params, { abs: true });
  assert.ok(isFromWebview(run), `the host's check accepts it: ${JSON.stringify(run)}`);
  const requestId = run.requestId as string;

  // progress under way; the button now cancels this request
  await send(page, { type: 'sanityProgress', requestId, done: 2, total: 4, phase: 'randomised 1/2: classifier.fc' });
  await waitFor(page, async () => (await page.locator('al-sanity #sanity-progress').innerText()).includes('randomised 1/2: classifier.fc (2/4)'), 'the progress line');
  assert.equal((await button.innerText()).trim(), 'Cancel sanity check');
  await button.click();
  await waitFor(page, async () => (await last(page, 'cancel'))?.requestId === requestId, 'a cancel for the running check');
  await send(page, { type: 'sanityEnded', requestId, cancelled: true });
  await waitFor(page, async () => (await page.locator('al-sanity #sanity-error').innerText()) === 'Sanity check cancelled.', 'the cancelled line');

  // a second run, answered with a result
  await button.click();
  await waitFor(page, async () => (await posted(page)).filter((x) => (x as { type: string }).type === 'runSanity').length === 2, 'a second runSanity');
  const second = (await last(page, 'runSanity'))!.requestId as string;
  assert.notEqual(second, requestId);
  // an answer to the old request is not this run's
  await send(page, { type: 'sanityResult', requestId, result: { ...result, verdict: 'fail' } });
  await send(page, { type: 'sanityResult', requestId: second, result });
  await waitFor(page, async () => (await page.locator('al-sanity #sanity-strip figure').count()) === 4, 'four tiles');

  const verdict = await page.locator('al-sanity #sanity-verdict').innerText();
  assert.match(verdict, /^PASS — saliency passes: .*classifier\.fc/);
  const info = await page.locator('al-sanity #sanity-result').innerText();
  assert.match(info, /saliency for blue, seed 0, 2 parametrised layers/);
  assert.match(info, /Similar \(marked\) = Spearman \|·\| ≥ 0\.5 or SSIM ≥ 0\.5/);

  const tile = (i: number) => page.locator(`al-sanity figure[data-step="${i}"]`);
  assert.match(await tile(0).innerText(), /original\s+the reference/);
  assert.match(await tile(1).innerText(), /\+ classifier\.fc \(Gemm\)\s+Spearman \|·\| 0\.93\s+Spearman 0\.91 · SSIM 0\.87 · similar/);
  assert.equal(await tile(1).getAttribute('class'), 'step similar');
  assert.match(await tile(2).innerText(), /failed[\s\S]*the model's output is NaN/);
  assert.match(await tile(3).innerText(), /fully randomised \(2 layers\)\s+Spearman \|·\| 0\.04\s+Spearman -0\.12 · SSIM 0\.01$/);
  assert.equal(await tile(3).getAttribute('class'), 'step');

  // each tile's canvas is its own map, on its own scale
  const canvas = (i: number) => ['al-app', '#sanity', `figure[data-step="${i}"] canvas`];
  for (const [i, values] of [[0, maps[0]], [1, maps[1]], [3, maps[2]]] as const) {
    assert.deepEqual(await pixels(page, canvas(i)), expected(values), `tile ${i}`);
  }
  assert.notDeepEqual(await pixels(page, canvas(0)), await pixels(page, canvas(3)));
  assert.equal((await button.innerText()).trim(), 'Sanity check');

  await page.locator('al-sanity').screenshot({ path: join(SHOTS, 'webview-sanity.png') });
  assert.deepEqual(problems, []);
});

test('Sanity check: a channels-last map (1, H, W, C) is drawn as Σ|·| over its last axis', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await page.locator('al-sanity #sanity-run').click();
  await waitFor(page, async () => !!(await last(page, 'runSanity')), 'a runSanity message');
  const requestId = (await last(page, 'runSanity'))!.requestId as string;
  // the same two-channel blob as blobMap(4, 4), laid out (1, H, W, 2)
  const nchw = maps[0];
  const nhwc = new Float32Array(nchw.length);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < 2; c++) nhwc[p * 2 + c] = nchw[c * H * W + p];
  const steps = result.steps.map((s) => (s.map ? { ...s, map: { ...s.map, dims: [1, H, W, 2], data: float32ToBase64(nhwc) } } : s));
  await send(page, { type: 'sanityResult', requestId, result: { ...result, steps } });
  await waitFor(page, async () => (await page.locator('al-sanity #sanity-strip figure').count()) === 4, 'four tiles');
  assert.deepEqual(await pixels(page, ['al-app', '#sanity', 'figure[data-step="0"] canvas']), expected(nchw));
  assert.deepEqual(problems, []);
});

test('Sanity check: an error from the host is shown in one line and the button is ready again', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await page.locator('al-sanity #sanity-run').click();
  await waitFor(page, async () => !!(await last(page, 'runSanity')), 'a runSanity message');
  const requestId = (await last(page, 'runSanity'))!.requestId as string;
  await send(page, { type: 'sanityEnded', requestId, cancelled: false, message: 'shapes.onnx has no layers with float32 initializer weights: there is nothing to randomise' });
  await waitFor(page, async () => (await page.locator('al-sanity #sanity-error').innerText()).startsWith('shapes.onnx has no layers'), 'the error line');
  assert.equal((await page.locator('al-sanity #sanity-run').innerText()).trim(), 'Sanity check');
  assert.deepEqual(problems, []);
});
