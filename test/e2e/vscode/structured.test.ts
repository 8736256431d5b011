// Structured targets in a real VS Code (code-server) driven through Chromium (issue 14): a
// detector's image right-clicked → Attribute Prediction draws its boxes (label and score) over
// the image and lists them; the first box is explained by default; clicking the second box
// explains it (Saliency is cheap: it re-runs at once), the caption names it and the map's mass
// (read from the drawn canvas) lies inside that box. Saves docs/images/vscode-detect.png.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { ROOT, explorerCommand, openWorkbench, waitForPanelFrame, type Workbench } from './codeServer';

const IMAGE = 'green-triangle_yellow-circle_red-square';

let wb: Workbench | undefined;
let page: Page;
let frame: Frame;

before(async () => {
  wb = await openWorkbench('detect', 'attrlens-detect-', { 'attributionLens.defaultMethod': 'saliency' });
  page = wb.page;
});

after(async () => {
  await wb?.close('vscode-detect-last.png');
});

const summary = (re: RegExp, timeout = 90_000): Promise<void> => frame.locator('#summary', { hasText: re }).waitFor({ timeout });

/** The drawn map canvas's RGBA pixels (the image as the model sees it, 96×96). */
async function mapPixels(): Promise<{ px: number[]; w: number; h: number }> {
  return await frame.evaluate(`(() => {
    function find(root) {
      for (const el of root.querySelectorAll('*')) {
        if (el.tagName === 'AL-HEATMAP' && el.id === 'heatmap' && el.shadowRoot) {
          const c = el.shadowRoot.querySelector('canvas');
          if (c && c.width > 0) return c;
        }
        if (el.shadowRoot) {
          const c = find(el.shadowRoot);
          if (c) return c;
        }
      }
      return undefined;
    }
    const c = find(document);
    if (!c) throw new Error('no drawn heatmap canvas');
    return { px: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data), w: c.width, h: c.height };
  })()`) as { px: number[]; w: number; h: number };
}

/** Picks a view in the panel's View controls as a user does (the select's change event). */
async function setView(method: string): Promise<void> {
  await frame.locator('al-view-controls #method').evaluate((el, v) => {
    (el as HTMLElement & { value: string }).value = v;
    el.dispatchEvent(new Event('change'));
  }, method);
  await page.waitForTimeout(1000);
}

/**
 * The share of the map's mass inside a box, from the drawn canvas in the heat_map view (Blues for
 * |attribution|: zero is the palest colour, the red channel falls as the value grows).
 */
async function massInside(box: number[]): Promise<number> {
  await setView('heat_map');
  const { px, w, h } = await mapPixels();
  await setView('blended_heat_map');
  assert.deepEqual([w, h], [96, 96], 'the canvas is the image as the model sees it');
  let zero = 0;
  for (let i = 0; i < px.length; i += 4) zero = Math.max(zero, px[i]);
  let inside = 0, total = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const m = zero - px[(y * w + x) * 4];
    total += m;
    if (x >= box[0] && x < box[2] && y >= box[1] && y < box[3]) inside += m;
  }
  assert.ok(total > 0, 'a map is drawn');
  return inside / total;
}

test('a detector in the panel: boxes drawn, a clicked box explained', async (t) => {
  const truth = JSON.parse(readFileSync(join(ROOT, 'samples', 'detect', 'images', `${IMAGE}.json`), 'utf8')) as { objects: Array<{ label: string; box: number[] }> };
  const gt = (label: string): number[] => truth.objects.find((o) => o.label === label)!.box;

  await t.test('Attribute Prediction: the boxes over the image and in the list, box 0 explained', async () => {
    await explorerCommand(page, `${IMAGE}.png`, /^Attribute Prediction$/, 'images');
    // two models in the sample (v8 and v5 heads): pick the v8 one
    const row = page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'model.onnx' });
    if (await row.first().waitFor({ timeout: 15_000 }).then(() => true, () => false)) await row.first().click();
    frame = await waitForPanelFrame(page);
    await summary(/^Saliency for box 0 \(red, 0\.96\) · [\d.]+ s/);
    const boxes = frame.locator('al-heatmap#heatmap [data-testid="original-overlay"] g[data-target]');
    assert.equal(await boxes.count(), 3, 'three detections drawn');
    assert.deepEqual(await boxes.evaluateAll((els) => els.map((e) => e.querySelector('text')?.textContent)), ['0 red 0.96', '1 yellow 0.90', '2 green 0.88']);
    assert.equal(await frame.locator('al-predictions button[data-target]').count(), 3, 'the list shows the detections');
    const share = await massInside(gt('red'));
    assert.ok(share > 0.6, `box 0's map lies on the red square: ${share.toFixed(3)}`);
  });

  await t.test('clicking the second box explains it: the caption names box 1 and the mass lies inside it', async () => {
    await frame.locator('al-heatmap#heatmap [data-testid="original-overlay"] g[data-target="box:1"] rect.tag').click();
    await summary(/^Saliency for box 1 \(yellow, 0\.90\) · [\d.]+ s/);
    const share = await massInside(gt('yellow'));
    assert.ok(share > 0.6, `the map's mass lies inside box 1 (the yellow circle): ${share.toFixed(3)}`);
    assert.equal(await frame.locator('al-heatmap#heatmap [data-testid="original-overlay"] g[data-target="box:1"]').getAttribute('aria-pressed'), 'true');
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'vscode-detect.png') });
  });
});
