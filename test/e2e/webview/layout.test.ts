// The panel's layout at 300, 570 and 1400 px in real Chromium (stub host): nothing overflows
// sideways, no two labels overlap, the text table is whole; the original beside the map, the
// hover readout's values (computed here from the map sent), the legend's orientation in
// masked_image, and view settings switched off in views they do not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { bytesToBase64, float32ToBase64 } from '../../../src/shared/base64';
import type { AttributionPayload, InitMessage, MethodInfo, TextAttributionPayload, TextContext } from '../../../src/shared/protocol';
import { DEFAULT_VIEW, reduceToMap, signThreshold, type RgbaImage } from '../../../src/shared/visualize';
import { SHOTS, pick, send, stubHost, waitFor } from './harness';

const { open } = stubHost();
const W = 32, H = 24;

const image: RgbaImage = (() => {
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x * 8, y * 10, 200 - x * 4, 255], (y * W + x) * 4);
  return { width: W, height: H, data };
})();

/** (1,3,H,W) with distinct channel values: channel c at (x,y) = (c+1)·sin(x/5)·cos(y/4) + c/10 */
const attr = (() => {
  const a = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    a[c * H * W + y * W + x] = (c + 1) * Math.sin(x / 5) * Math.cos(y / 4) + c / 10;
  }
  return a;
})();
const dims = [1, 3, H, W];

const methods: MethodInfo[] = [
  {
    id: 'integrated-gradients', captumName: 'IntegratedGradients', family: 'gradient', needsGradients: true, description: 'Path integral of gradients.',
    params: [
      { name: 'nSteps', kind: 'int', default: 50, min: 1, description: 'number of steps' },
      { name: 'method', kind: 'enum', default: 'gausslegendre', values: ['gausslegendre', 'riemann_left'], description: 'integration rule' },
      { name: 'returnConvergenceDelta', kind: 'boolean', default: true, description: 'return the convergence delta' },
      { name: 'baselineToken', kind: 'string', default: '[PAD]', description: 'token the baseline is made of' },
      { name: 'internalBatchSize', kind: 'int', min: 1, description: 'steps per batch' },
    ],
  },
  {
    id: 'rise', captumName: 'RISE', family: 'perturbation', needsGradients: false, description: 'Random masks.',
    params: [
      { name: 'nMasks', kind: 'int', default: 4000, min: 1, description: 'masks' },
      { name: 'probability', kind: 'number', default: 0.5, min: 1e-6, max: 1, description: 'probability that a grid cell is kept' },
    ],
  },
];
const predictions = [
  { index: 0, label: 'red', probability: 0.91, logit: 5 },
  { index: 1, label: 'green', probability: 0.06, logit: 2 },
  { index: 2, label: 'a label long enough to wrap in a narrow panel', probability: 0.03, logit: 1 },
];

const init: InitMessage = {
  type: 'init', protocolVersion: 1,
  model: { name: 'shapes.onnx', inputs: [{ name: 'input', dims: [1, 3, H, W], dtype: 'float32' }] },
  image: { encoding: 'rgba8-base64', width: W, height: H, data: bytesToBase64(image.data) },
  methods, current: { method: 'integrated-gradients', params: {} }, trust: { restricted: false }, predictions,
};

function payload(): AttributionPayload {
  let min = Infinity, max = -Infinity;
  for (const v of attr) { min = Math.min(min, v); max = Math.max(max, v); }
  return { method: 'integrated-gradients', target: 0, targetLabel: 'red', map: { dims, data: float32ToBase64(attr), min, max, input: 'input' }, seconds: 0.5, delta: 0.001, params: {} };
}

const text = 'The movie was wonderfully acted, though the plot dragged in the middle.';
const words = text.split(' ');
const textResult: TextAttributionPayload = {
  method: 'integrated-gradients', target: 1, targetLabel: 'positive', text, trueLabel: 'positive',
  predictions: [{ index: 1, label: 'positive', probability: 0.97, logit: 3 }, { index: 0, label: 'negative', probability: 0.03, logit: 0 }],
  tokens: [{ text: '[CLS]', id: 101, score: 0, special: true }, ...words.map((w, i) => ({ text: w.toLowerCase(), id: 1000 + i, score: Math.sin(i) / 2, special: false })), { text: '[SEP]', id: 102, score: 0, special: true }],
  words: words.map((w, i) => ({ text: w.toLowerCase(), score: Math.sin(i) / 2, tokenIndices: [i + 1] })),
  sentenceScore: 1.23, granularity: 'token', baselineToken: { id: 0, text: '[PAD]' }, truncated: 0, seconds: 0.4, params: {},
};
const textContext: TextContext = {
  text, source: 'review.txt',
  model: { name: 'sst2.onnx', inputs: [{ name: 'input_ids', dims: [1, 64], dtype: 'int64' }], labels: ['negative', 'positive'] },
  methods: [methods[0]], current: { method: 'integrated-gradients', params: {} },
};

interface Box { x: number; y: number; w: number; h: number; what: string }

/** tsx (esbuild keepNames) wraps the named functions inside page.evaluate callbacks in __name. */
async function openPage(viewport: { width: number; height: number }): ReturnType<typeof open> {
  const h = await open(viewport);
  await h.page.evaluate('window.__name = (f) => f');
  return h;
}

/** Every element's box, through shadow roots (visible, non-empty ones). */
function boxes(page: Page, selector: string): Promise<Box[]> {
  return page.evaluate((sel) => {
    const out: Box[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.matches(sel)) {
          const r = el.getBoundingClientRect();
          const cs = getComputedStyle(el);
          // inside a box that clips or scrolls and itself fits (an ellipsis, a scroller): not an overflow
          let clipped = false;
          for (let a: Element | null = el.parentElement ?? ((el.getRootNode() as ShadowRoot).host ?? null); a; a = a.parentElement ?? ((a.getRootNode() as ShadowRoot).host ?? null)) {
            const s = getComputedStyle(a);
            if (s.overflowX !== 'visible') { clipped = a.getBoundingClientRect().right <= window.innerWidth; break; }
          }
          if (r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && !clipped) {
            out.push({ x: r.x, y: r.y, w: r.width, h: r.height, what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''} "${(el.textContent ?? (el as HTMLElement & { label?: string }).label ?? '').trim().slice(0, 30)}"` });
          }
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return out;
  }, selector);
}

/** Elements that stick out of the viewport on the right, or are clipped inside their own box. */
async function overflow(page: Page, width: number): Promise<string[]> {
  const all = await boxes(page, '*');
  const out = all.filter((b) => b.x + b.w > width + 0.5).map((b) => `${b.what} ends at ${Math.round(b.x + b.w)} px`);
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  if (scroll > width) out.unshift(`the page scrolls sideways: ${scroll} px wide`);
  return out;
}

function intersect(a: Box, b: Box): boolean {
  return a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
}

/** Label texts (field names, checkbox labels, headings) that overlap another. */
async function overlappingLabels(page: Page): Promise<string[]> {
  // the text of each label: field names, checkboxes' own label text, headings, table headers
  const labels = await page.evaluate(() => {
    const out: Box[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll('*')) {
        const isLabel = el.matches('.name, h3, th, .label, vscode-checkbox');
        if (isLabel) {
          // the rendered text's own box, not the element's (a grid cell may be wider than its text)
          const range = document.createRange();
          const host = el.tagName === 'VSCODE-CHECKBOX' && !el.textContent?.trim() ? el.shadowRoot?.querySelector('.label-attr') ?? el : el;
          range.selectNodeContents(host);
          const r = range.getBoundingClientRect();
          if (r.width > 0 && r.height > 0 && (el as HTMLElement).offsetParent !== null) {
            out.push({ x: r.x, y: r.y, w: r.width, h: r.height, what: `${el.tagName.toLowerCase()} "${((el as HTMLElement & { label?: string }).label || el.textContent || '').trim().slice(0, 30)}"` });
          }
        }
        // a vscode-* element's label is taken whole above
        if (el.shadowRoot && !el.tagName.startsWith('VSCODE-')) walk(el.shadowRoot);
      }
    };
    walk(document);
    return out;
  });
  const bad: string[] = [];
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
    if (intersect(labels[i], labels[j])) bad.push(`${labels[i].what} overlaps ${labels[j].what}`);
  }
  return bad;
}

for (const width of [300, 570, 1400]) {
  test(`image panel at ${width} px: no sideways overflow, no overlapping labels, the original beside the map`, async () => {
    const { page, problems } = await openPage({ width, height: 900 });
    await send(page, init);
    await send(page, { type: 'runResult', requestId: 'r1', result: payload() });
    await waitFor(page, async () => (await page.locator('al-heatmap#heatmap canvas[data-testid="map-canvas"]').evaluate((c) => (c as HTMLCanvasElement).width)) === W, 'map drawn');
    assert.deepEqual(await overflow(page, width), [], `overflow at ${width} px`);
    assert.deepEqual(await overlappingLabels(page), [], `labels at ${width} px`);
    // the original, as the model saw it, left of the map and as large
    const orig = await page.locator('al-heatmap#heatmap canvas[data-testid="original-canvas"]').boundingBox();
    const map = await page.locator('al-heatmap#heatmap canvas[data-testid="map-canvas"]').boundingBox();
    assert.ok(orig && map, 'both drawn');
    assert.ok(orig.x + orig.width <= map.x && Math.abs(orig.width - map.width) < 1 && Math.abs(orig.y - map.y) < 1, `original ${JSON.stringify(orig)} map ${JSON.stringify(map)}`);
    const origPixels = await page.locator('al-heatmap#heatmap canvas[data-testid="original-canvas"]').evaluate((c) =>
      Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data));
    assert.deepEqual(origPixels, Array.from(image.data), 'the original is the image in colour, unchanged');
    await page.screenshot({ path: join(SHOTS, `webview-layout-${width}.png`), fullPage: true });

    // RISE's probability (0.5, min 1e-6) is valid as shown
    await pick(page, 'al-method-picker#picker', '#method', 'RISE');
    const prob = page.locator('al-method-picker#picker label[data-param="probability"] vscode-textfield');
    await prob.waitFor();
    const valid = await prob.evaluate((el) => (el.shadowRoot!.querySelector('input') as HTMLInputElement).validity.valid);
    assert.equal(valid, true, 'probability 0.5 is a valid value of its field');
    assert.deepEqual(await overflow(page, width), [], `overflow with RISE at ${width} px`);
    assert.deepEqual(await overlappingLabels(page), [], `labels with RISE at ${width} px`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test(`text panel at ${width} px: the visualize_text table is whole`, async () => {
    const { page, problems } = await openPage({ width, height: 900 });
    await send(page, init);
    await send(page, { type: 'textContext', context: textContext });
    await send(page, { type: 'textResult', requestId: 't1', result: textResult });
    const table = page.locator('al-text-table table');
    await table.waitFor();
    assert.deepEqual(await overflow(page, width), [], `overflow at ${width} px`);
    assert.deepEqual(await overlappingLabels(page), [], `labels at ${width} px`);
    // not clipped: the table fits its host, and every token is inside the table's box
    const clip = await page.locator('al-text-table').evaluate((host) => {
      const t = host.shadowRoot!.querySelector('table')!;
      const hb = host.getBoundingClientRect(), tb = t.getBoundingClientRect();
      const marks = [...t.querySelectorAll('mark')].map((m) => m.getBoundingClientRect());
      return { tableRight: tb.right, hostRight: hb.right, scroll: t.scrollWidth - t.clientWidth, outside: marks.filter((m) => m.right > tb.right + 0.5 || m.left < tb.left - 0.5).length, marks: marks.length };
    });
    assert.ok(clip.tableRight <= clip.hostRight + 0.5, `table ends at ${clip.tableRight}, its element at ${clip.hostRight}`);
    assert.equal(clip.outside, 0, `${clip.outside} of ${clip.marks} tokens outside the table`);
    assert.ok(clip.marks >= words.length);
    await page.screenshot({ path: join(SHOTS, `webview-text-layout-${width}.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
}

test('the hover readout: coordinates in input pixels, raw channel values, channel sum and normalised value', async () => {
  const { page, problems } = await openPage({ width: 1100, height: 900 });
  await send(page, init);
  await send(page, { type: 'runResult', requestId: 'r1', result: payload() });
  const canvas = page.locator('al-heatmap#heatmap canvas[data-testid="map-canvas"]');
  await waitFor(page, async () => (await canvas.evaluate((c) => (c as HTMLCanvasElement).width)) === W, 'map drawn');
  const box = (await canvas.boundingBox())!;
  const [px, py] = [21, 7];
  await page.mouse.move(box.x + ((px + 0.5) * box.width) / W, box.y + ((py + 0.5) * box.height) / H);
  const readout = page.locator('al-heatmap#heatmap [data-testid="readout"]');
  // expected, from the map sent: raw per channel, their sum, Captum's normalisation (absolute_value, 2 %)
  const raw = [0, 1, 2].map((c) => attr[c * H * W + py * W + px]);
  const summed = reduceToMap(attr, dims, W, H);
  const t = signThreshold(summed, DEFAULT_VIEW.sign, DEFAULT_VIEW.outlierPerc);
  const norm = Math.min(1, Math.abs(summed[py * W + px]) / t);
  const want = `x ${px}, y ${py} · raw ${raw.map(fmtLike).join(', ')} · channel sum ${fmtLike(summed[py * W + px])} · normalised ${fmtLike(norm)}`;
  await waitFor(page, async () => (await readout.textContent()) === want, `readout "${want}", got "${await readout.textContent()}"`);
  // the keyboard: focus the map, arrows move the cursor one input pixel
  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await waitFor(page, async () => (await readout.textContent())?.startsWith(`x ${px + 1}, y ${py + 1} ·`) === true, 'keyboard moved the cursor');
  const cursor = await page.locator('al-heatmap#heatmap .cursor').boundingBox();
  assert.ok(cursor && Math.abs(cursor.x - (box.x + ((px + 1) * box.width) / W)) < 2, 'the cursor box sits on the pixel');

  // masked_image: the legend runs from black (0) to white (the pixel kept), whatever the theme
  await pick(page, 'al-view-controls', '#method', 'masked_image');
  const bar = page.locator('al-legend [data-testid="legend-bar"]');
  await waitFor(page, async () => (await bar.getAttribute('data-start')) === 'black', 'masked legend');
  const bb = (await bar.boundingBox())!;
  const shot = await page.screenshot({ clip: { x: bb.x + 3, y: bb.y + bb.height / 2, width: bb.width - 6, height: 1 } });
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
  const lum = (i: number) => data[i * info.channels] + data[i * info.channels + 1] + data[i * info.channels + 2];
  assert.ok(lum(0) < 40 && lum(info.width - 1) > 700, `legend left ${lum(0)}, right ${lum(info.width - 1)}`);
  const ticks = await page.locator('al-legend [data-testid="legend-ticks"] span').allTextContents();
  assert.equal(ticks[0], '0', 'zero on the left, under the black end');

  // colormap and opacity do nothing in masked_image: off, with the reason as tooltip
  const state = (id: string) => page.locator(`al-view-controls #${id}`).evaluate((el) => ({ disabled: el.hasAttribute('disabled'), title: (el as HTMLElement).title }));
  for (const id of ['colormap', 'alphaOverlay', 'blendOver']) {
    const s = await state(id);
    assert.equal(s.disabled, true, `${id} off in masked_image`);
    assert.match(s.title, /No effect in masked_image/);
  }
  assert.equal((await state('sign')).disabled, false);
  await pick(page, 'al-view-controls', '#method', 'heat_map');
  await waitFor(page, async () => !(await state('colormap')).disabled, 'colormap on in heat_map');
  assert.equal((await state('alphaOverlay')).disabled, true, 'opacity only blends');
  await pick(page, 'al-view-controls', '#method', 'blended_heat_map');
  await waitFor(page, async () => !(await state('alphaOverlay')).disabled, 'opacity on in blended_heat_map');

  // the toggle: the map alone, then the original back
  await page.locator('al-heatmap#heatmap #beside').click();
  await waitFor(page, async () => !(await page.locator('al-heatmap#heatmap canvas[data-testid="original-canvas"]').isVisible()), 'single view');
  await page.locator('al-heatmap#heatmap #beside').click();
  await waitFor(page, async () => page.locator('al-heatmap#heatmap canvas[data-testid="original-canvas"]').isVisible(), 'original back');
  assert.deepEqual(problems, []);
  await page.close();
});

/** The panel's number format (webview-ui base.ts fmt). */
function fmtLike(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  const s = v.toPrecision(3);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
