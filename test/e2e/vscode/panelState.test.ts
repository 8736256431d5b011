// The panel's one state, held by the host, in a real VS Code (code-server) driven through Chromium:
// a method change or a clicked prediction follows one rule (cheap methods re-run at once, others
// mark the map stale, naming what it was computed with); a window reload restores the picker, its
// parameters and the predictions together; a new image fetches its predictions and runs the
// default method unless the last one is cheap; neuron runs are captioned by the neuron.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import sharp from 'sharp';
import { ROOT, clickMenuItem, explorerCommand, heatmapPixels, openWorkbench, waitForPanelFrame, waitForSavedState, type Workbench } from './codeServer';

let wb: Workbench | undefined;
let page: Page;
let frame: Frame;

before(async () => {
  wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-state-', settings: { 'attributionLens.defaultMethod': 'integrated-gradients' } });
  page = wb.page;
});

after(async () => {
  await wb?.close('vscode-panel-state-last.png');
});

// ---- helpers ---------------------------------------------------------------------------------

const attribute = (file: string): Promise<void> => explorerCommand(page, file, /^Attribute Prediction$/, 'images');
const summary = (re: RegExp, timeout = 90_000): Promise<void> => frame.locator('#summary', { hasText: re }).waitFor({ timeout });
const stale = (re: RegExp): Promise<void> => frame.locator('#stale', { hasText: re }).waitFor({ timeout: 30_000 });
const note = (re: RegExp): Promise<void> => frame.locator('#note', { hasText: re }).waitFor({ timeout: 30_000 });
const topPrediction = async (): Promise<string> => ((await frame.locator('al-predictions button').first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const pickerMethod = (): Promise<string> => frame.locator('al-method-picker#picker #method').evaluate((el) => (el as HTMLElement & { value: string }).value);
const field = (name: string) => frame.locator(`al-method-picker#picker label[data-param="${name}"] vscode-textfield`);

/** Picks a method in the panel's picker as a user does (the select's change event). */
async function pickMethod(id: string): Promise<void> {
  await frame.locator('al-method-picker#picker #method').evaluate((el, v) => {
    (el as HTMLElement & { value: string }).value = v;
    el.dispatchEvent(new Event('change'));
  }, id);
  await frame.locator(`al-method-picker#picker label[data-param]`).first().waitFor({ timeout: 10_000 }).catch(() => undefined);
}

async function setField(name: string, value: string): Promise<void> {
  await field(name).evaluate((el, v) => {
    (el as HTMLElement & { value: string }).value = v;
    el.dispatchEvent(new Event('change'));
  }, value);
}

/** How much bluer (the Blues heat map) the drawn canvas is inside an image's mask than outside it. */
async function bluenessInside(mask: string): Promise<number> {
  const px = (await heatmapPixels(frame)).data;
  const m = await sharp(join(wb!.workspace, 'images', mask)).ensureAlpha().raw().toBuffer();
  assert.equal(px.length, m.length, 'the canvas is the image as the model sees it (64×64)');
  let inSum = 0, inN = 0, outSum = 0, outN = 0;
  for (let i = 0; i < m.length; i += 4) {
    const b = px[i + 2] - px[i];
    if (m[i] > 127) { inSum += b; inN++; } else { outSum += b; outN++; }
  }
  return inSum / inN - outSum / outN;
}

// ---- the test --------------------------------------------------------------------------------

test('one panel state, held by the host, in a real VS Code', async (t) => {
  await t.test('an attributed image: the default method for the top class', async () => {
    await attribute('red-circle.png');
    frame = await waitForPanelFrame(page);
    await summary(/^IntegratedGradients for red · [\d.]+ s/);
    assert.match(await topPrediction(), /^red #0\s*99\.9%/);
    assert.equal(await pickerMethod(), 'integrated-gradients');
  });

  await t.test('a slow method or a clicked prediction marks the map stale; a cheap one re-runs at once, for both gestures', async () => {
    await pickMethod('rise'); // 500 masks by default: slow
    await stale(/^Stale: this map is IntegratedGradients for red \(.*nSteps 50.*\); the method changed since\. Run to update it\.$/);
    await note(/^RISE \(nMasks 500.*\) is slow: press Run to start it\.$/);
    assert.match((await frame.locator('#summary').textContent()) ?? '', /^IntegratedGradients for red · /, 'the map is not replaced');
    // a click on a prediction follows the same rule: no RISE run, the stale mark names the target too
    await frame.locator('al-predictions button', { hasText: 'green' }).click();
    await stale(/the method and target changed since/);
    assert.match((await frame.locator('#summary').textContent()) ?? '', /^IntegratedGradients for red · /, 'the click did not start RISE');
    await page.screenshot({ path: join(ROOT, 'out', 'screenshots', 'vscode-panel-stale.png') }).catch(() => undefined);
    // a cheap method re-runs at once, for the target chosen
    await pickMethod('saliency');
    await summary(/^Saliency for green · [\d.]+ s/);
    await frame.locator('#stale').waitFor({ state: 'hidden', timeout: 10_000 });
    await frame.locator('al-predictions button', { hasText: 'red' }).click();
    await summary(/^Saliency for red · [\d.]+ s/);
  });

  await t.test('after a window reload the picker, its parameters, the predictions, the view and Run agree', async () => {
    // how the map is drawn is part of the host's state too
    await frame.locator('al-view-controls #colormap').evaluate((el) => {
      (el as HTMLElement & { value: string }).value = 'inferno';
      el.dispatchEvent(new Event('change'));
    });
    await pickMethod('rise');
    await field('nMasks').waitFor({ timeout: 10_000 });
    await setField('nMasks', '50000');
    await note(/^RISE \(nMasks 50000.*\) is slow/);
    await stale(/^Stale: this map is Saliency for red; the method changed since/);

    // the tab comes back only from state the workbench has saved (on a timer, not at unload)
    await waitForSavedState(page, 'Attribution: red-circle.png');
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // a reload restarts the extension host and the engine: on a loaded machine the panel takes a while
    const tab = page.locator('.tab', { hasText: 'Attribution: red-circle.png' }).first();
    await tab.waitFor({ timeout: 180_000 });
    await tab.click();
    frame = await waitForPanelFrame(page);
    await frame.locator('al-predictions button').first().waitFor({ timeout: 120_000 });
    assert.match(await topPrediction(), /^red #0\s*99\.9%/);
    // the host's restored state: RISE with 50,000 masks, the Saliency map marked stale
    await stale(/^Stale: this map is Saliency for red; the method changed since/);
    assert.equal(await pickerMethod(), 'rise');
    assert.equal(await field('nMasks').evaluate((el) => (el as HTMLElement & { value: string }).value), '50000');
    assert.equal(await frame.locator('al-view-controls #colormap').evaluate((el) => (el as HTMLElement & { value: string }).value), 'inferno');
    await frame.locator('al-view-controls #colormap').evaluate((el) => {
      (el as HTMLElement & { value: string }).value = 'auto';
      el.dispatchEvent(new Event('change'));
    });
    await summary(/^Saliency for red · [\d.]+ s/, 30_000);
    // Run starts what the picker shows
    await frame.locator('#run').click();
    await summary(/^Running RISE for red…$/, 30_000);
    await frame.locator('#cancel').click();
    await summary(/^Saliency for red · [\d.]+ s/, 30_000);
  });

  await t.test('a new image after a reload: its own predictions, and the default method rather than the last slow one', async () => {
    await attribute('blue-triangle.png');
    await summary(/^IntegratedGradients for blue · [\d.]+ s/);
    assert.match(await topPrediction(), /^blue #2/);
    await note(/^Ran the default method, IntegratedGradients; RISE \(the last one\) is slow: pick it and Run to use it\.$/);
    assert.equal(await pickerMethod(), 'integrated-gradients');
    assert.match(await page.locator('.tab.active .label-name').last().textContent() ?? '', /Attribution: blue-triangle\.png/);
    const b = await bluenessInside('blue-triangle.mask.png');
    assert.ok(b > 20, `the map is the blue triangle's: blueness inside its mask exceeds outside by only ${b.toFixed(1)}`);
    await page.screenshot({ path: join(ROOT, 'out', 'screenshots', 'vscode-panel-new-image.png') }).catch(() => undefined);
  });

  await t.test('a new image after a cheap method runs it again, and says so', async () => {
    await pickMethod('saliency');
    await summary(/^Saliency for blue · [\d.]+ s/);
    await attribute('green-circle.png');
    await summary(/^Saliency for green · [\d.]+ s/);
    assert.match(await topPrediction(), /^green #1/);
    await note(/^Ran Saliency again, the last method; the default is IntegratedGradients\.$/);
  });

  await t.test('a neuron run is captioned by the neuron: layer, channel, position', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').click();
    const modelsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) });
    const row = (label: string) => modelsPane.locator('.monaco-list-row', { has: page.locator('.label-name').getByText(label, { exact: true }) });
    for (const label of ['model.onnx', 'Layers', 'features', 'conv2']) {
      await row(label).first().waitFor({ timeout: 20_000 });
      await row(label).first().click();
    }
    const conv = row('features.conv2').first();
    await conv.waitFor({ timeout: 10_000 });
    await conv.click({ button: 'right' });
    await clickMenuItem(page, /^Attribute a Neuron of This Layer to the Input…$/);
    const quickPick = async (text: string, title: RegExp): Promise<void> => {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 20_000 });
      await page.locator('.quick-input-widget input').fill(text);
      await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
    };
    await quickPick('channel 5', /Which channel\?/);
    await quickPick('neuron-gradient', /Attribute channel 5 of /);
    frame = await waitForPanelFrame(page);
    await summary(/^NeuronGradient for channel 5 of features\.conv2 at \(16, 16\) · [\d.]+ s/);
    assert.doesNotMatch((await frame.locator('#summary').textContent()) ?? '', /for green/, 'not captioned by the class');
  });
});
