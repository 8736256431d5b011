// Structured outputs in the panel (issue 14), against the stub host: a detector's boxes (label and
// score) drawn over the image and listed instead of flat indices, a dense output's regions, a
// sequence's decoded characters under the image; a click on any of them posts the structured
// target (`box:K`, `region:CLASS`, `step:T`), which the host validates strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bytesToBase64, float32ToBase64 } from '../../../src/shared/base64';
import { isFromWebview, type HostPanelState, type InitMessage, type StructuredTargets } from '../../../src/shared/protocol';
import { SHOTS, posted, send, stubHost, waitFor } from './harness';

const { open } = stubHost();
const W = 96;
const H = 96;
const image = (() => {
  const data = new Uint8Array(W * H * 4).fill(200);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return data;
})();

const det: StructuredTargets = {
  kind: 'detection',
  detections: [
    { target: 'box:0', index: 0, box: [8, 10, 40, 42], class: 0, label: 'red', score: 0.97 },
    { target: 'box:1', index: 1, box: [52, 50, 88, 86], class: 2, label: 'blue', score: 0.81 },
  ],
};
const seg: StructuredTargets = {
  kind: 'dense',
  regions: [
    { target: 'region:0', class: 0, label: 'background', pixels: 8000, box: [0, 0, 96, 96] },
    { target: 'region:1', class: 1, label: 'circle', pixels: 900, box: [20, 20, 54, 54] },
  ],
};
const seq: StructuredTargets = {
  kind: 'sequence',
  steps: [
    { target: 'step:1', step: 1, index: 3, label: 'c', probability: 0.9 },
    { target: 'step:4', step: 4, index: 1, label: 'a', probability: 0.8 },
    { target: 'step:6', step: 6, index: 20, label: 't', probability: 0.95 },
  ],
};

const init: InitMessage = {
  type: 'init', protocolVersion: 1,
  model: { name: 'detect.onnx', inputs: [{ name: 'images', dims: [1, 3, H, W], dtype: 'float32' }], labels: ['red', 'green', 'blue', 'yellow'] },
  image: { encoding: 'rgba8-base64', width: W, height: H, data: bytesToBase64(image) },
  methods: [{ id: 'saliency', captumName: 'Saliency', family: 'gradient', needsGradients: true, description: 'Gradient magnitude.', params: [] }],
  current: { method: 'saliency', params: {} },
  trust: { restricted: false },
  predictions: [],
};

function panel(structured: StructuredTargets, target: string, shown?: string): HostPanelState {
  return {
    modelFile: '/ws/detect.onnx', imageFile: '/ws/a.png', predictions: [{ index: 7, probability: 0.97, logit: 0.97 }],
    method: 'saliency', params: { saliency: {} }, target, structured,
    shown: shown ? { requestId: 'host-1', method: 'saliency', params: {}, target: shown, imageFile: '/ws/a.png', caption: `Saliency for ${shown}` } : undefined,
  };
}

test('detections: boxes with label and score over the image and in the list; a click posts box:K', async () => {
  const { page, problems } = await open();
  await send(page, { ...init, panel: panel(det, 'box:0', 'box:0') });
  const map = new Float32Array(W * H).map((_, i) => ((i % W) < 40 && Math.floor(i / W) < 42 ? 1 : 0));
  await send(page, {
    type: 'runResult', requestId: 'host-1',
    result: { method: 'saliency', target: 0, targetLabel: 'box 0 (red, 0.97)', spec: 'box:0', structured: det, map: { dims: [1, 1, H, W], data: float32ToBase64(map), min: 0, max: 1 }, seconds: 0.1, params: {} },
  });
  const boxes = page.locator('al-app #heatmap [data-testid="original-overlay"] g[data-target]');
  await boxes.first().waitFor({ timeout: 5000 });
  assert.equal(await boxes.count(), 2, 'one box a detection');
  assert.match((await boxes.nth(0).textContent()) ?? '', /0 red 0\.97/);
  assert.match((await boxes.nth(1).textContent()) ?? '', /1 blue 0\.81/);
  assert.equal(await boxes.nth(0).getAttribute('aria-pressed'), 'true', 'the explained box is marked');
  const rect = boxes.nth(1).locator('rect').first();
  assert.deepEqual([await rect.getAttribute('x'), await rect.getAttribute('y'), await rect.getAttribute('width'), await rect.getAttribute('height')], ['52', '50', '36', '36'], 'in input pixels');
  // the list shows the detections, not flat output indices
  const rows = page.locator('al-app #predictions button[data-target]');
  assert.equal(await rows.count(), 2);
  assert.match((await rows.nth(1).textContent()) ?? '', /box 1 blue\s*0\.81/);
  await page.locator('al-app #summary', { hasText: /^Saliency for box:0/ }).waitFor({ timeout: 5000 });
  await page.screenshot({ path: join(SHOTS, 'webview-detections.png'), fullPage: true });

  await boxes.nth(1).locator('rect.tag').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string; target?: unknown }).type === 'retarget' && (m as { target: unknown }).target === 'box:1'), 'retarget box:1 from the overlay');
  await rows.nth(0).click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string; target?: unknown }).type === 'retarget' && (m as { target: unknown }).target === 'box:0'), 'retarget box:0 from the list');
  for (const m of await posted(page)) assert.ok(isFromWebview(m), `the host accepts ${JSON.stringify(m).slice(0, 80)}`);
  // the run bar's target field shows the structured target
  assert.equal(await page.locator('al-app al-run-bar #target').evaluate((el) => (el as HTMLElement & { value: string }).value), 'box:0');
  assert.deepEqual(problems, []);
});

test('regions are outlined and listed; a sequence is decoded under the image; clicks post region:C and step:T', async () => {
  const { page, problems } = await open();
  await send(page, { ...init, panel: panel(seg, 'region:0') });
  const regions = page.locator('al-app #heatmap [data-testid="map-overlay"] g[data-target]');
  await regions.first().waitFor({ timeout: 5000 });
  assert.equal(await regions.count(), 2);
  assert.equal(await regions.nth(1).locator('rect').first().getAttribute('stroke-dasharray') !== null, true, 'regions are dashed outlines');
  assert.match((await page.locator('al-app #predictions button[data-target="region:1"]').textContent()) ?? '', /region 1 circle\s*900 px/);
  await page.locator('al-app #predictions button[data-target="region:1"]').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { target?: unknown }).target === 'region:1'), 'retarget region:1');

  await send(page, { type: 'state', panel: panel(seq, 'step:1') });
  const chars = page.locator('al-app #heatmap [data-testid="sequence"] button');
  await waitFor(page, async () => (await chars.count()) === 3, 'three decoded characters');
  assert.equal((await chars.allTextContents()).join(''), 'cat');
  assert.equal(await page.locator('al-app #heatmap [data-testid="map-overlay"] g[data-target]').count(), 0, 'no boxes for a sequence');
  await chars.nth(2).click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { target?: unknown }).target === 'step:6'), 'retarget step:6');
  assert.deepEqual(problems, []);
});

test('a region with a mask is drawn where the mask is: an L tinted in its colour, the rest of its box not', async () => {
  const { page, problems } = await open();
  // a 12×12 map (8 image pixels a cell): the L is columns 2..4 of rows 2..9 and rows 7..9 of columns 2..9
  const M = 12;
  const inL = (x: number, y: number) => (x >= 2 && x <= 4 && y >= 2 && y <= 9) || (y >= 7 && y <= 9 && x >= 2 && x <= 9);
  const cells: number[] = Array.from({ length: M * M }, (_, i) => (inL(i % M, Math.floor(i / M)) ? 1 : 0));
  const runs: number[] = [];
  let cur = 0, n = 0;
  for (const v of cells) {
    if (v === cur) n++;
    else { runs.push(n); cur = v; n = 1; }
  }
  runs.push(n);
  const pixels = cells.reduce((a, v) => a + v, 0);
  const masked: StructuredTargets = {
    kind: 'dense',
    regions: [{ target: 'region:1', class: 1, label: 'ell', pixels, box: [16, 16, 80, 80], mask: { width: M, height: M, runs } }],
  };
  await send(page, { ...init, panel: panel(masked, 'region:1') });
  const region = page.locator('al-app #heatmap [data-testid="map-overlay"] g[data-target="region:1"]');
  await region.waitFor({ timeout: 5000 });
  assert.equal(await region.locator('rect[stroke-dasharray]').count(), 0, 'a mask, not a dashed box');
  assert.match((await region.locator('title').textContent()) ?? '', new RegExp(`ell, ${pixels} px`), 'hover names the label and pixel count');

  const canvas = (await page.locator('al-app #heatmap [data-testid="map-canvas"]').boundingBox())!;
  const shot = await page.screenshot({ clip: canvas });
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
  /** the screenshot's colour at the centre of map cell (cx, cy) */
  const at = (cx: number, cy: number): number[] => {
    const x = Math.floor(((cx + 0.5) / M) * info.width), y = Math.floor(((cy + 0.5) / M) * info.height);
    const i = (y * info.width + x) * info.channels;
    return [data[i], data[i + 1], data[i + 2]];
  };
  const grey = (c: number[]) => c.every((v) => Math.abs(v - 200) <= 3);
  const tinted = (c: number[]) => c[1] - c[0] > 20 && !grey(c);  // class 1's green over the grey image
  for (const [cx, cy] of [[3, 3], [3, 6], [3, 8], [6, 8], [9, 8]]) assert.ok(tinted(at(cx, cy)), `cell ${cx},${cy} inside the L: ${at(cx, cy)}`);
  for (const [cx, cy] of [[6, 3], [8, 5], [9, 3], [7, 6]]) assert.ok(grey(at(cx, cy)), `cell ${cx},${cy} in the box, outside the L: ${at(cx, cy)}`);
  for (const [cx, cy] of [[0, 0], [11, 11], [1, 5]]) assert.ok(grey(at(cx, cy)), `cell ${cx},${cy} outside the box: ${at(cx, cy)}`);
  await page.screenshot({ path: join(SHOTS, 'webview-region-mask.png'), fullPage: true });

  // a click inside the L retargets to the region
  await send(page, { type: 'state', panel: panel(masked, 'region:0') });
  await page.mouse.click(canvas.x + (3.5 / M) * canvas.width, canvas.y + (6.5 / M) * canvas.height);
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string; target?: unknown }).type === 'retarget' && (m as { target: unknown }).target === 'region:1'), 'retarget region:1 from the mask');
  for (const m of await posted(page)) assert.ok(isFromWebview(m), `the host accepts ${JSON.stringify(m).slice(0, 80)}`);
  assert.deepEqual(problems, []);
});
