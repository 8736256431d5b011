// Compare in real Chromium against the stub host: maps of different units each on their own scale
// with their own legend (shared scale off by default, refused for mixed units), progress per tile,
// results scrolled into view, a tile click opens it, tiles and the grid export as PNG figures / NPY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { bytesToBase64, float32ToBase64 } from '../../../src/shared/base64';
import { COMPARE_LABEL } from '../../../src/shared/compare';
import { colorbarFor, renderFigure } from '../../../src/shared/figure';
import { isFromWebview, type AttributionPayload, type InitMessage, type MethodInfo } from '../../../src/shared/protocol';
import { DEFAULT_VIEW, reduceToMap, signThreshold, visualizeImageAttr, type RgbaImage } from '../../../src/shared/visualize';
import { SHOTS, pixels, posted, send, stubHost, waitFor } from './harness';

const { open } = stubHost();
const W = 32;
const H = 32;

const image: RgbaImage = (() => {
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x * 8, y * 8, 160, 255], (y * W + x) * 4);
  return { width: W, height: H, data };
})();

/** A blob at (cx, cy) of height `scale` on one channel (1,1,H,W). */
function blob(cx: number, cy: number, scale: number): Float32Array {
  const a = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) a[y * W + x] = scale * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 18);
  return a;
}
const dims = [1, 1, H, W];
// gradients are tiny, contributions large: on one scale the gradient map would be blank
const saliency = blob(8, 8, 2e-4);
const ig = blob(22, 20, 40);
const ixg = blob(12, 24, 3);

const m = (id: string, captumName: string, family: MethodInfo['family']): MethodInfo =>
  ({ id, captumName, family, needsGradients: family !== 'perturbation', description: `${captumName}.`, params: [] });
const methods: MethodInfo[] = [
  m('integrated-gradients', 'IntegratedGradients', 'gradient'),
  m('saliency', 'Saliency', 'gradient'),
  m('input-x-gradient', 'InputXGradient', 'gradient'),
  m('occlusion', 'Occlusion', 'perturbation'),
  m('gradcam', 'LayerGradCam', 'cam'),
  m('layer-activation', 'LayerActivation', 'layer'),
];
const predictions = [{ index: 285, label: 'Egyptian cat', probability: 0.61, logit: 9.2 }, { index: 281, label: 'tabby', probability: 0.22, logit: 8.2 }];

function payload(method: string, values: Float32Array, seconds = 1.25): AttributionPayload {
  let min = Infinity, max = -Infinity;
  for (const v of values) { min = Math.min(min, v); max = Math.max(max, v); }
  return { method, target: 285, targetLabel: 'Egyptian cat', map: { dims, data: float32ToBase64(values), min, max, input: 'input' }, seconds, params: {} };
}

const init = (compareMethods: string[]): InitMessage => ({
  type: 'init', protocolVersion: 1,
  model: { name: 'resnet18.onnx', inputs: [{ name: 'input', dims: [1, 3, H, W], dtype: 'float32' }] },
  image: { encoding: 'rgba8-base64', width: W, height: H, data: bytesToBase64(image.data) },
  methods, current: { method: 'integrated-gradients', params: {} }, trust: { restricted: false }, predictions, compareMethods,
});

const cell = (method: string) => ['al-app', '#compare', `al-heatmap[data-method="${method}"]`, 'canvas'];
const own = (values: Float32Array) => Array.from(visualizeImageAttr(values, dims, image, DEFAULT_VIEW).rgba);
const blank = own(new Float32Array(H * W));
const fmt3 = (v: number) => { const a = Math.abs(v); return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3).replace(/0+$/, '').replace(/\.$/, ''); };

async function canvasEquals(page: Page, path: string[], want: number[], what: string): Promise<void> {
  await waitFor(page, async () => JSON.stringify(await pixels(page, path)) === JSON.stringify(want), what);
}
const meanDiff = (a: number[], b: number[]) => a.reduce((s, v, k) => s + Math.abs(v - b[k]), 0) / a.length;
const last = async (page: Page, type: string) => (await posted(page)).filter((x) => (x as { type: string }).type === type).pop() as Record<string, unknown> | undefined;
const tileText = (page: Page, method: string) => page.locator(`al-compare figure[data-method="${method}"]`).innerText();

test('maps of different units: per-map scales by default, each with its own legend and caption; progress per tile; results in view', async () => {
  const { page, problems } = await open({ width: 1000, height: 700 });
  await send(page, init(['saliency', 'integrated-gradients', 'occlusion']));

  // the checkboxes are the setting's methods, among the comparable ones only (no layer methods)
  const boxes = page.locator('al-compare #compare-methods vscode-checkbox');
  assert.deepEqual(await boxes.evaluateAll((els) => els.map((e) => e.getAttribute('data-method'))),
    ['integrated-gradients', 'saliency', 'input-x-gradient', 'occlusion', 'gradcam']);
  const checked = await boxes.evaluateAll((els) => els.filter((e) => (e as HTMLElement & { checked: boolean }).checked).map((e) => e.getAttribute('data-method')));
  assert.deepEqual(checked, ['integrated-gradients', 'saliency', 'occlusion']);
  assert.equal((await page.locator('al-compare #compare-run').innerText()).trim(), COMPARE_LABEL);
  // shared scale off by default, and refused for these units, saying why
  const shared = page.locator('al-compare #shared-scale');
  assert.equal(await shared.evaluate((e) => (e as HTMLElement & { checked: boolean }).checked), false);
  assert.equal(await shared.evaluate((e) => (e as HTMLElement & { disabled: boolean }).disabled), true);
  assert.match(await shared.getAttribute('title') ?? '', /IntegratedGradients: per-pixel contributions.*Saliency: gradients.*Occlusion: output changes/);

  await page.locator('al-compare #compare-run').click();
  await waitFor(page, async () => !!(await last(page, 'compare')), 'compare');
  const cmp = (await last(page, 'compare'))!;
  assert.deepEqual(cmp.methods, ['integrated-gradients', 'saliency', 'occlusion']);
  assert.equal(cmp.sharedScale, false);
  const requestId = String(cmp.requestId);

  // while running: one tile per method, the running one with its progress, finished ones drawn at once
  await send(page, { type: 'runStarted', requestId, kind: 'compare', methods: ['integrated-gradients', 'saliency', 'occlusion'], target: 285 });
  await send(page, { type: 'runProgress', requestId, method: 'integrated-gradients', done: 20, total: 50, phase: 'steps' });
  await waitFor(page, async () => /steps 20\/50/.test(await tileText(page, 'integrated-gradients')), 'IG progress in its tile');
  assert.equal(await page.locator('al-compare figure[data-method="saliency"]').getAttribute('data-state'), 'waiting');
  await send(page, { type: 'compareTile', requestId, method: 'integrated-gradients', result: payload('integrated-gradients', ig) });
  await canvasEquals(page, cell('integrated-gradients'), own(ig), 'IG tile drawn before the run ends');
  await send(page, { type: 'runProgress', requestId, method: 'saliency', done: 0, total: 1, phase: 'gradients' });
  await waitFor(page, async () => (await page.locator('al-compare figure[data-method="saliency"]').getAttribute('data-state')) === 'running', 'saliency running');
  await send(page, { type: 'compareTile', requestId, method: 'saliency', result: payload('saliency', saliency, 0.04) });
  await send(page, { type: 'compareTile', requestId, method: 'occlusion', error: 'Occlusion needs slidingWindowShapes' });
  await waitFor(page, async () => /Occlusion failed/.test(await tileText(page, 'occlusion')), 'occlusion error tile');

  await send(page, {
    type: 'compareResult', requestId, target: 285, targetLabel: 'Egyptian cat', sharedScale: false,
    results: [payload('integrated-gradients', ig), payload('saliency', saliency, 0.04)],
    errors: [{ method: 'occlusion', message: 'Occlusion needs slidingWindowShapes' }],
  });
  // each map on its own scale: both differ from a blank map; on one scale the gradients would be blank
  await canvasEquals(page, cell('saliency'), own(saliency), 'saliency on its own scale');
  await canvasEquals(page, cell('integrated-gradients'), own(ig), 'IG on its own scale');
  const sal = (await pixels(page, cell('saliency')))!;
  const igPx = (await pixels(page, cell('integrated-gradients')))!;
  assert.ok(meanDiff(sal, blank) > 3, `saliency tile is blank (mean diff ${meanDiff(sal, blank)})`);
  assert.ok(meanDiff(igPx, blank) > 3, `IG tile is blank (mean diff ${meanDiff(igPx, blank)})`);
  const t1 = signThreshold([reduceToMap(ig, dims, W, H), reduceToMap(saliency, dims, W, H)], 'absolute_value', 2);
  const onOne = Array.from(visualizeImageAttr(saliency, dims, image, { ...DEFAULT_VIEW, threshold: t1 }).rgba);
  assert.ok(meanDiff(onOne, blank) < 0.5, 'the test data should make a shared scale blank the gradients');

  // each tile's legend: the colour bar and its own saturation value; the caption: method, target, seconds
  for (const [method, values, name, secs] of [['saliency', saliency, 'Saliency', '0.04'], ['integrated-gradients', ig, 'IntegratedGradients', '1.25']] as const) {
    const t = signThreshold(reduceToMap(values, dims, W, H), 'absolute_value', 2);
    const tile = page.locator(`al-compare figure[data-method="${method}"]`);
    assert.deepEqual((await tile.locator('[data-testid="legend-ticks"] span').allInnerTexts()).map((s) => s.trim()), ['0', fmt3(t)]);
    assert.match(await tile.locator('[data-testid="legend-bar"]').evaluate((e) => (e as HTMLElement).style.background), /linear-gradient/);
    assert.equal((await tile.locator('figcaption').innerText()).trim(), `${name} · Egyptian cat · ${secs} s`);
  }
  assert.match(await page.locator('al-compare #compare-scale').innerText(), /own scale/);
  assert.match(await page.locator('al-compare .errors').innerText(), /Occlusion: Occlusion needs slidingWindowShapes/);

  // the results are in view (the panel scrolled to them)
  const box = await page.locator('al-compare #compare-grid').boundingBox();
  assert.ok(box && box.y < 700 && box.y + box.height > 0, `grid out of view: ${JSON.stringify(box)}`);
  assert.ok(await page.evaluate(() => window.scrollY) > 0, 'the page did not scroll');
  await page.screenshot({ path: join(SHOTS, 'webview-compare.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('maps in one unit may share a scale when asked; the checkboxes write the setting', async () => {
  const { page, problems } = await open();
  await send(page, init(['integrated-gradients', 'input-x-gradient']));
  const shared = page.locator('al-compare #shared-scale');
  assert.equal(await shared.evaluate((e) => (e as HTMLElement & { disabled: boolean }).disabled), false);
  await send(page, {
    type: 'compareResult', requestId: 'host-1', target: 285, sharedScale: false,
    results: [payload('integrated-gradients', ig), payload('input-x-gradient', ixg)],
  });
  await canvasEquals(page, cell('input-x-gradient'), own(ixg), 'own scale');
  await shared.click();
  const t = signThreshold([reduceToMap(ig, dims, W, H), reduceToMap(ixg, dims, W, H)], 'absolute_value', 2);
  await canvasEquals(page, cell('input-x-gradient'), Array.from(visualizeImageAttr(ixg, dims, image, { ...DEFAULT_VIEW, threshold: t }).rgba), 'shared scale');
  assert.match(await page.locator('al-compare #compare-scale').innerText(), new RegExp(`One scale for all maps: saturates at ${fmt3(t).replace('.', '\\.')}`));
  // both legends show the one scale
  for (const method of ['integrated-gradients', 'input-x-gradient']) {
    assert.deepEqual((await page.locator(`al-compare figure[data-method="${method}"] [data-testid="legend-ticks"] span`).allInnerTexts()).map((s) => s.trim()), ['0', fmt3(t)]);
  }
  // the next run asks for the shared scale
  await page.locator('al-compare #compare-run').click();
  await waitFor(page, async () => !!(await last(page, 'compare')), 'compare');
  assert.equal((await last(page, 'compare'))!.sharedScale, true);

  // a checkbox posts the new set (in the list's order) for the host to write to attributionLens.compareMethods
  await page.locator('al-compare vscode-checkbox[data-method="saliency"]').click();
  await waitFor(page, async () => !!(await last(page, 'setCompareMethods')), 'setCompareMethods');
  assert.deepEqual((await last(page, 'setCompareMethods'))!.methods, ['integrated-gradients', 'saliency', 'input-x-gradient']);
  // the host's answer (the setting changed) is what the boxes show
  await send(page, { type: 'state', compareMethods: ['gradcam'] });
  await waitFor(page, async () => JSON.stringify(await page.locator('al-compare #compare-methods vscode-checkbox').evaluateAll((els) =>
    els.filter((e) => (e as HTMLElement & { checked: boolean }).checked).map((e) => e.getAttribute('data-method')))) === '["gradcam"]', 'boxes follow the setting');
  for (const msg of await posted(page)) assert.equal(isFromWebview(msg), true, `host would reject ${JSON.stringify(msg)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a tile opens as the main map; tiles export as a PNG figure or NPY, the grid as one figure', async () => {
  const { page, problems } = await open();
  await send(page, init(['integrated-gradients', 'saliency']));
  await send(page, {
    type: 'compareResult', requestId: 'host-2', target: 285, sharedScale: false,
    results: [payload('integrated-gradients', ig), payload('saliency', saliency, 0.04)],
  });
  await canvasEquals(page, cell('saliency'), own(saliency), 'saliency tile');

  // clicking the map posts the open message; the host answers with the method and its result
  await page.locator('al-compare al-heatmap[data-method="saliency"]').click();
  await waitFor(page, async () => !!(await last(page, 'openCompareMap')), 'openCompareMap');
  const openMsg = (await last(page, 'openCompareMap'))!;
  assert.equal(openMsg.method, 'saliency');
  await send(page, { type: 'state', current: { method: 'saliency', params: {}, target: 285 } });
  await send(page, { type: 'runResult', requestId: String(openMsg.requestId), result: payload('saliency', saliency, 0.04) });
  await canvasEquals(page, ['al-app', '#heatmap', 'canvas'], own(saliency), 'main map is the tile');
  await waitFor(page, async () => /^Saliency for Egyptian cat/.test(await page.locator('al-app #summary').innerText()), 'summary names the opened method');
  assert.equal(await page.locator('al-method-picker #method').evaluate((el) => (el as HTMLElement & { value: string }).value), 'saliency');

  // a tile's PNG is the export figure (src/shared/figure.ts) of exactly the tile as drawn: title, map, colour bar
  const tile = (await pixels(page, cell('integrated-gradients')))!;
  await page.locator('al-compare figure[data-method="integrated-gradients"] vscode-button[data-action="png"]').click();
  await waitFor(page, async () => (await last(page, 'export'))?.method === 'integrated-gradients', 'tile PNG export');
  const png = (await last(page, 'export'))!;
  assert.equal(png.format, 'png');
  const fig = await sharp(Buffer.from(String(png.pngDataUrl).replace('data:image/png;base64,', ''), 'base64')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const want = renderFigure({
    map: { width: W, height: H, data: Uint8Array.from(tile) }, title: 'IntegratedGradients · Egyptian cat · 1.25 s',
    colorbar: colorbarFor(DEFAULT_VIEW, visualizeImageAttr(ig, dims, image, DEFAULT_VIEW)),
  });
  assert.deepEqual([fig.info.width, fig.info.height], [want.width, want.height]);
  assert.ok(want.width >= 512, 'scaled up');
  assert.ok(Buffer.from(want.data).equals(fig.data), 'the PNG is the figure of the tile');
  assert.deepEqual(want.layout.title.text, 'IntegratedGradients - Egyptian cat - 1.25 s');

  await page.locator('al-compare figure[data-method="integrated-gradients"] vscode-button[data-action="npy"]').click();
  await waitFor(page, async () => (await last(page, 'export'))?.format === 'npy', 'tile NPY export');
  const npy = (await last(page, 'export'))!;
  assert.deepEqual({ ...npy, requestId: 0 }, { type: 'export', requestId: 0, format: 'npy', method: 'integrated-gradients' });

  await page.locator('al-compare #compare-export-grid').click();
  await waitFor(page, async () => (await last(page, 'export'))?.grid === true, 'grid export');
  const grid = (await last(page, 'export'))!;
  const gridPng = Buffer.from(String(grid.pngDataUrl).replace('data:image/png;base64,', ''), 'base64');
  assert.equal(gridPng.readUInt32BE(16), 2 * fig.info.width); // two figures side by side
  assert.equal(gridPng.readUInt32BE(20), fig.info.height);
  assert.equal(grid.method, undefined);
  await send(page, { type: 'exportDone', requestId: String(grid.requestId), ok: true, message: 'Saved shapes-compare-285.png' });
  await waitFor(page, async () => /Saved shapes-compare-285\.png/.test(await page.locator('al-compare #compare-status').innerText()), 'export status');

  for (const msg of await posted(page)) assert.equal(isFromWebview(msg), true, `host would reject ${JSON.stringify(msg).slice(0, 200)}`);
  assert.deepEqual(problems, []);
  await page.close();
});
