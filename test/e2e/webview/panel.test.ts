// The Attribution panel in real Chromium against a stub host page: messages in, pixels and posted
// messages out. Run by `npm run test:e2e` (scripts/install-chromium.sh provides /usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { bytesToBase64, float32ToBase64 } from '../../../src/shared/base64';
import {
  isFromWebview, type AttributionPayload, type InitMessage, type MethodInfo, type ViewSettings,
} from '../../../src/shared/protocol';
import { DEFAULT_VIEW, reduceToMap, signThreshold, visualizeImageAttr, type RgbaImage } from '../../../src/shared/visualize';
import { SHOTS, pick, pixels, posted, send, stubHost, waitFor } from './harness';

const { open } = stubHost();
const W = 32;
const H = 32;

// ---- test data: a 32×32 gradient image and a Gaussian blob attribution ------------------------

const image: RgbaImage = (() => {
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 4;
    data.set([x * 8, y * 8, 160, 255], i);
  }
  return { width: W, height: H, data };
})();

/** (1,3,H,W): a positive blob at (20,10) split over the channels, a weaker negative one at (8,24). */
const attr = (() => {
  const a = new Float32Array(3 * H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const pos = Math.exp(-((x - 20) ** 2 + (y - 10) ** 2) / (2 * 3 ** 2));
    const neg = -0.6 * Math.exp(-((x - 8) ** 2 + (y - 24) ** 2) / (2 * 2.5 ** 2));
    const v = pos + neg;
    a[y * W + x] = 0.5 * v;
    a[H * W + y * W + x] = 0.3 * v;
    a[2 * H * W + y * W + x] = 0.2 * v;
  }
  return a;
})();
const dims = [1, 3, H, W];

const methods: MethodInfo[] = [
  {
    id: 'integrated-gradients', captumName: 'IntegratedGradients', family: 'gradient', needsGradients: true,
    description: 'Path integral of gradients from a baseline to the input.',
    params: [
      { name: 'nSteps', kind: 'int', default: 50, min: 1, description: 'number of steps' },
      { name: 'method', kind: 'enum', default: 'gausslegendre', values: ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'], description: 'integration rule' },
      { name: 'baselines', kind: 'baseline', default: 0, description: 'baseline' },
      { name: 'internalBatchSize', kind: 'int', min: 1, description: 'steps per batch' },
    ],
  },
  {
    id: 'saliency', captumName: 'Saliency', family: 'gradient', needsGradients: true, description: 'Gradient magnitude.',
    params: [{ name: 'abs', kind: 'boolean', default: true, description: 'absolute value of the gradient' }],
  },
  {
    id: 'occlusion', captumName: 'Occlusion', family: 'perturbation', needsGradients: false, description: 'Slide a patch over the input.',
    params: [
      { name: 'slidingWindowShapes', kind: 'shape', required: true, description: 'patch shape, e.g. 3,15,15' },
      { name: 'strides', kind: 'shape', default: [1], description: 'step of the patch' },
    ],
  },
  {
    id: 'gradcam', captumName: 'LayerGradCam', family: 'cam', needsGradients: true, layerShaped: true, description: 'GradCAM on a layer.',
    params: [{ name: 'layer', kind: 'layer', description: 'layer to explain' }, { name: 'reluAttributions', kind: 'boolean', default: false, description: 'ReLU the map' }],
  },
];

const predictions = [
  { index: 285, label: 'Egyptian cat', probability: 0.61, logit: 9.2 },
  { index: 281, label: 'tabby', probability: 0.22, logit: 8.2 },
  { index: 282, label: 'tiger cat', probability: 0.1, logit: 7.4 },
  { index: 287, label: 'lynx', probability: 0.04, logit: 6.5 },
  { index: 728, label: 'plastic bag', probability: 0.01, logit: 5.1 },
];

function payload(method: string, values: Float32Array, d: number[], target = 285): AttributionPayload {
  let min = Infinity, max = -Infinity;
  for (const v of values) { min = Math.min(min, v); max = Math.max(max, v); }
  return {
    method, target, targetLabel: predictions.find((p) => p.index === target)?.label,
    map: { dims: d, data: float32ToBase64(values), min, max, input: 'input' },
    seconds: 1.25, delta: 0.0031, params: {},
  };
}

const init: InitMessage = {
  type: 'init',
  protocolVersion: 1,
  model: { name: 'resnet18.onnx', inputs: [{ name: 'input', dims: [1, 3, H, W], dtype: 'float32' }], labels: undefined },
  image: { encoding: 'rgba8-base64', width: W, height: H, data: bytesToBase64(image.data) },
  methods,
  current: { method: 'integrated-gradients', params: {} },
  trust: { restricted: false },
  predictions,
};

// ---- helpers ----------------------------------------------------------------------------------

const MAIN = ['al-app', '#heatmap', 'canvas'];

function expected(view: Partial<ViewSettings>, threshold?: number): number[] {
  return Array.from(visualizeImageAttr(attr, dims, image, { ...DEFAULT_VIEW, ...view, threshold }).rgba);
}

async function canvasEquals(page: Page, path: string[], want: number[], what: string): Promise<void> {
  await waitFor(page, async () => JSON.stringify(await pixels(page, path)) === JSON.stringify(want), what);
}

const at = (px: number[], x: number, y: number) => px.slice((y * W + x) * 4, (y * W + x) * 4 + 4);

// ---- tests --------------------------------------------------------------------------------------

test('a result is drawn with visualize.ts: blob pixels follow the colormap; view and sign switches redraw', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await send(page, { type: 'runResult', requestId: 'host-1', result: payload('integrated-gradients', attr, dims) });

  // default view: Captum's blended_heat_map with absolute_value (Blues)
  const blended = expected({});
  await canvasEquals(page, MAIN, blended, 'blended heat map');
  const px = (await pixels(page, MAIN))!;
  const bare = Array.from(image.data);
  // under the positive blob the picture is no longer the image, and is blue (Blues at the top end)
  assert.notDeepEqual(at(px, 20, 10), at(bare, 20, 10));
  const [r, g, b] = at(px, 20, 10);
  assert.ok(b > r && b > g, `blob centre should be blue, got ${[r, g, b]}`);
  await page.screenshot({ path: join(SHOTS, 'webview-blended.png'), fullPage: true });

  // the legend shows the raw saturation threshold computed from the channel-summed map
  const t = signThreshold(reduceToMap(attr, dims, W, H), 'absolute_value', 2);
  const note = await page.locator('al-app #legend [data-testid="legend-note"]').textContent();
  assert.match(note ?? '', new RegExp(`≥ ${t.toPrecision(3).replace(/0+$/, '').replace(/\.$/, '')}`));

  // heat_map + positive: Greens, the negative blob is at the bottom of the scale
  await pick(page, 'al-view-controls', '#method', 'heat_map');
  await canvasEquals(page, MAIN, expected({ method: 'heat_map' }), 'heat_map, absolute_value');
  await pick(page, 'al-view-controls', '#sign', 'positive');
  const positive = expected({ method: 'heat_map', sign: 'positive' });
  await canvasEquals(page, MAIN, positive, 'heat_map, positive');
  assert.deepEqual(at(positive, 8, 24), [247, 252, 245, 255]); // Greens' first colour under the negative blob
  assert.deepEqual(at(positive, 20, 10), [0, 68, 27, 255]); // saturated: Greens' last colour

  // sign all: red-white-green, the negative blob shows red
  await pick(page, 'al-view-controls', '#sign', 'all');
  const all = expected({ method: 'heat_map', sign: 'all' });
  await canvasEquals(page, MAIN, all, 'heat_map, all');
  const [nr, ng, nb] = at(all, 8, 24);
  assert.ok(nr === 255 && ng < 200 && nb < 200, `negative blob should be red, got ${[nr, ng, nb]}`);
  await page.screenshot({ path: join(SHOTS, 'webview-heat-all.png'), fullPage: true });

  // masked_image refuses sign all (as Captum does) with a one-line error and keeps working
  await pick(page, 'al-view-controls', '#method', 'masked_image');
  await waitFor(page, async () => /pick sign positive/.test((await page.locator('al-app #error .text').textContent()) ?? ''), 'masked_image error');
  await pick(page, 'al-view-controls', '#sign', 'absolute_value');
  await canvasEquals(page, MAIN, expected({ method: 'masked_image', sign: 'absolute_value' }), 'masked_image');
  assert.equal(await page.locator('al-app #error').isHidden(), true); // a valid view clears the error

  // a changed outlier % moves the threshold
  await page.locator('al-view-controls #outlierPerc input').fill('10');
  await page.locator('al-view-controls #outlierPerc input').press('Enter');
  await canvasEquals(page, MAIN, expected({ method: 'masked_image', sign: 'absolute_value', outlierPerc: 10 }), 'outlier 10 %');

  // the view survives the panel being hidden and shown again (getState/setState)
  await page.reload();
  await canvasEquals(page, MAIN, expected({ method: 'masked_image', sign: 'absolute_value', outlierPerc: 10 }), 'restored view');
  assert.deepEqual(problems, []);
  await page.close();
});

test('clicking a prediction posts retarget; Run posts runAttribution with the method defaults', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await page.locator('al-predictions button[data-index="281"]').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'retarget'), 'retarget');
  const retarget = (await posted(page)).find((m) => (m as { type: string }).type === 'retarget') as Record<string, unknown>;
  assert.equal(retarget.target, 281);
  assert.match(String(retarget.requestId), /^[A-Za-z0-9_-]+$/);
  assert.equal(await page.locator('al-predictions button[data-index="281"]').getAttribute('aria-pressed'), 'true');

  await page.locator('al-run-bar #run').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'runAttribution'), 'runAttribution');
  const run = (await posted(page)).find((m) => (m as { type: string }).type === 'runAttribution') as Record<string, unknown>;
  assert.equal(run.method, 'integrated-gradients');
  assert.equal(run.target, 281);
  // defaults from ParamSpec; internalBatchSize has none and is left to the engine
  assert.deepEqual(run.params, { nSteps: 50, method: 'gausslegendre', baselines: 0 });

  // progress with a partial map is drawn, then an error leaves the panel usable
  await send(page, { type: 'runStarted', requestId: String(run.requestId), kind: 'single', methods: ['integrated-gradients'], target: 281 });
  const partial = attr.map((v) => v * 0.5);
  await send(page, { type: 'runProgress', requestId: String(run.requestId), done: 10, total: 50, phase: 'steps', partial: payload('integrated-gradients', partial, dims).map });
  await canvasEquals(page, MAIN, Array.from(visualizeImageAttr(partial, dims, image, DEFAULT_VIEW).rgba), 'partial map');
  assert.match((await page.locator('al-run-bar .status').textContent()) ?? '', /steps 10\/50/);
  assert.equal(await page.locator('al-run-bar #run').getAttribute('disabled'), '');
  await send(page, { type: 'error', requestId: String(run.requestId), message: 'IntegratedGradients: the model has no gradient rule for op NonMaxSuppression' });
  await waitFor(page, async () => /NonMaxSuppression/.test((await page.locator('al-app #error .text').textContent()) ?? ''), 'error notice');
  assert.equal(await page.locator('al-run-bar #run').getAttribute('disabled'), null);

  // the method picker: Occlusion has a required shape; Run explains what is missing instead of posting
  await pick(page, 'al-method-picker', '#method', 'Occlusion');
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'changeMethod'), 'changeMethod');
  const before = (await posted(page)).length;
  await page.locator('al-run-bar #run').click();
  await waitFor(page, async () => /needs slidingWindowShapes/.test((await page.locator('al-app #error .text').textContent()) ?? ''), 'required-parameter error');
  assert.equal((await posted(page)).length, before);
  await page.locator('al-method-picker [data-param="slidingWindowShapes"] input').fill('3, 8, 8');
  await page.locator('al-method-picker [data-param="slidingWindowShapes"] input').press('Enter');
  await page.locator('al-run-bar #run').click();
  await waitFor(page, async () => (await posted(page)).filter((m) => (m as { type: string }).type === 'runAttribution').length === 2, 'second run');
  const run2 = (await posted(page)).filter((m) => (m as { type: string }).type === 'runAttribution')[1] as Record<string, unknown>;
  assert.deepEqual(run2.params, { slidingWindowShapes: [3, 8, 8], strides: [1] });

  for (const m of await posted(page)) assert.equal(isFromWebview(m), true, `host would reject ${JSON.stringify(m)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('compare grid (per-map scales), PNG export, and restricted mode', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await send(page, { type: 'runResult', requestId: 'host-2', result: payload('integrated-gradients', attr, dims) });
  // a GradCAM-like 4×4 map next to the full-size one
  const cam = new Float32Array(16).map((_, i) => (i === 6 ? 4 : i === 5 ? 2 : 0));
  // the checkboxes show the attributionLens.compareMethods setting the host sends (test/e2e/webview/compare.test.ts has more)
  await send(page, { type: 'state', compareMethods: ['integrated-gradients', 'saliency', 'occlusion'] });
  await page.locator('al-compare #compare-run').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'compare'), 'compare');
  const cmp = (await posted(page)).find((m) => (m as { type: string }).type === 'compare') as Record<string, unknown>;
  assert.deepEqual(cmp.methods, ['integrated-gradients', 'saliency', 'occlusion']);
  assert.equal(cmp.sharedScale, false);
  await send(page, {
    type: 'compareResult', requestId: String(cmp.requestId), target: 285, sharedScale: false,
    results: [payload('integrated-gradients', attr, dims), payload('gradcam', cam, [1, 1, 4, 4])],
    errors: [{ method: 'occlusion', message: 'Occlusion needs parameter slidingWindowShapes' }],
  });
  // each map on its own scale (IG and GradCAM are not in one unit, so no shared scale is offered)
  const camCell = ['al-app', '#compare', 'al-heatmap[data-method="gradcam"]', 'canvas'];
  await canvasEquals(page, camCell, Array.from(visualizeImageAttr(cam, [1, 1, 4, 4], image, DEFAULT_VIEW).rgba), 'own-scale cam cell');
  assert.equal(await page.locator('al-compare #shared-scale').evaluate((e) => (e as HTMLElement & { disabled: boolean }).disabled), true);
  await page.screenshot({ path: join(SHOTS, 'webview-compare-grid.png'), fullPage: true });

  // PNG export sends the canvas as drawn
  await page.locator('al-export-bar #export-png').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'export'), 'export');
  const exp = (await posted(page)).find((m) => (m as { type: string }).type === 'export') as Record<string, unknown>;
  assert.equal(exp.format, 'png');
  const png = Buffer.from(String(exp.pngDataUrl).replace('data:image/png;base64,', ''), 'base64');
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  assert.ok(png.readUInt32BE(16) >= 512, `figure width ${png.readUInt32BE(16)}`); // IHDR width: the figure, scaled up
  await send(page, { type: 'exportDone', requestId: String(exp.requestId), ok: true, message: 'Saved resnet18-ig.png' });
  await waitFor(page, async () => /Saved resnet18-ig.png/.test((await page.locator('al-export-bar .status').textContent()) ?? ''), 'export status');

  // restricted mode: notice shown, Run and Compare off, clicks post nothing
  await send(page, { type: 'state', trust: { restricted: true, reason: 'this workspace is not trusted, so models are not run' } });
  await waitFor(page, async () => /not trusted/.test((await page.locator('al-app #restricted .text').textContent()) ?? ''), 'restricted notice');
  assert.equal(await page.locator('al-run-bar #run').getAttribute('disabled'), '');
  assert.equal(await page.locator('al-compare #compare-run').getAttribute('disabled'), '');
  const n = (await posted(page)).length;
  await page.locator('al-run-bar #run').click({ force: true });
  await page.locator('al-predictions button[data-index="282"]').click();
  await page.waitForTimeout(100);
  assert.equal((await posted(page)).filter((m) => (m as { type: string }).type !== 'changeMethod').length, n);
  await page.screenshot({ path: join(SHOTS, 'webview-restricted.png'), fullPage: true });

  for (const m of await posted(page)) assert.equal(isFromWebview(m), true, `host would reject ${JSON.stringify(m)}`);
  assert.deepEqual(problems, []);
  await page.close();
});
