// The panel's Sanity check in a real VS Code (code-server) on the shapes sample: the button runs
// the weight-randomisation cascade of the shown method in the engine process and the strip shows
// the original, the three layers randomised one more at a time and the fully randomised model,
// with the numbers under each and the verdict (saliency passes: its map changes once every
// layer is random).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import { ROOT, clickMenuItem, openWorkbench, waitForPanelFrame, type Workbench } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
const IMAGE = 'red-circle.png';

let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-e2e-sanity-', settings: { 'attributionLens.defaultMethod': 'saliency' }, viewport: { width: 1440, height: 1000 } });
  ({ page } = wb);
});

after(async () => {
  await wb?.close('vscode-sanity-last.png');
});

const explorerRow = (name: string) => page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);

/** A canvas's pixels inside the panel frame's shadow roots (al-app → al-sanity → figure canvas). */
function tilePixels(frame: Frame, step: number): Promise<number[] | null> {
  return frame.evaluate((i) => {
    const strip = document.querySelector('al-app')?.shadowRoot?.querySelector('#sanity')?.shadowRoot;
    const c = strip?.querySelector(`figure[data-step="${i}"] canvas`) as HTMLCanvasElement | null;
    if (!c || c.width === 0) return null;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  }, step);
}

test('Sanity check on the shapes sample in a real VS Code: the strip and a pass for saliency', async () => {
  await explorerRow('images').waitFor({ timeout: 60_000 });
  await explorerRow('images').click();
  await explorerRow(IMAGE).waitFor({ timeout: 30_000 });
  await explorerRow(IMAGE).click({ button: 'right' });
  await clickMenuItem(page, /^Attribute Prediction$/);

  const frame = await waitForPanelFrame(page);
  await frame.getByText(/Saliency for red · [\d.]+ s/).first().waitFor({ timeout: 90_000 });

  const button = frame.locator('al-sanity #sanity-run');
  await button.scrollIntoViewIfNeeded();
  await button.click();
  const verdict = frame.locator('al-sanity #sanity-verdict');
  await verdict.waitFor({ timeout: 120_000 });
  assert.match(await verdict.innerText(), /^PASS — saliency passes/);

  const tiles = frame.locator('al-sanity #sanity-strip figure');
  assert.equal(await tiles.count(), 5);
  const titles = await frame.locator('al-sanity #sanity-strip figure .title').allInnerTexts();
  assert.deepEqual(titles, ['original', '+ classifier.fc (Gemm)', '+ features.conv2 (Conv)', '+ features.conv1 (Conv)', 'fully randomised (3 layers)']);
  // every layer random: both measures under the 0.5 threshold, the tile not marked similar
  for (const i of [3, 4]) {
    const text = await frame.locator(`al-sanity figure[data-step="${i}"]`).innerText();
    const rank = Number(/Spearman \|·\| (-?[\d.]+)/.exec(text)?.[1]);
    const ssim = Number(/SSIM (-?[\d.]+)/.exec(text)?.[1]);
    assert.ok(rank < 0.5 && ssim < 0.5, `tile ${i}: ${text}`);
    assert.doesNotMatch(text, /similar/);
  }
  assert.match(await frame.locator('al-sanity #sanity-result').innerText(), /saliency for red on red-circle\.png, seed 0, 3 parametrised layers/);

  // the maps drawn: the original's sits on the circle, the fully randomised one elsewhere too
  const original = await tilePixels(frame, 0);
  const random = await tilePixels(frame, 4);
  assert.ok(original && random && original.length === 64 * 64 * 4, 'tiles drawn at the image size');
  assert.notDeepEqual(original, random);

  await frame.locator('al-sanity').screenshot({ path: join(SHOTS, 'vscode-sanity.png') });
});
