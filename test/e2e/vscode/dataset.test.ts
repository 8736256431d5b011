// The dataset view in a real VS Code (code-server) driven through Chromium (issue 15): a folder
// built from the shapes sample's pictures (one label sub-folder per class of labels.txt, with
// blue-square.png deliberately filed under green) is right-clicked → Explore Dataset. The view
// reports 87.5% (7 of 8), the green→blue cell of the confusion matrix holds the one mistake and
// filters the grid to it (its thumbnail loads through the webview's resource roots), and a click
// on it opens the Attribution panel on that image, predicting blue. A folder without images gets a
// one-line message. After a window reload the folder's view is back and has run again. A folder of 2000 images: Cancel stops the run midway ("Cancelled after N of
// 2000"), Run again finishes it (1750 of 2000) with a virtualised grid; with two models in the
// workspace the model is picked; the palette asks for the folder. Saves docs/images/dataset-view.png.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { ROOT, explorerCommand, openWorkbench, waitForPanelFrame, waitForSavedState, type Workbench } from './codeServer';

const SHAPES = join(ROOT, 'samples', 'shapes');
const LABELS = readFileSync(join(SHAPES, 'labels.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
const MISLABELLED = 'blue-square.png';
const BIG_COPIES = 250;

let wb: Workbench | undefined;
let page: Page;
const cspViolations: string[] = [];

/** ImageFolder from the sample's pictures: <label>/<picture>, the label being the picture's colour, one picture filed wrongly. */
async function buildDataset(workspace: string): Promise<void> {
  const dir = join(workspace, 'dataset');
  for (const label of LABELS) mkdirSync(join(dir, label), { recursive: true });
  for (const f of readdirSync(join(SHAPES, 'images')).filter((n) => n.endsWith('.png') && !n.endsWith('.mask.png'))) {
    const label = f === MISLABELLED ? 'green' : f.split('-')[0];
    assert.ok(LABELS.includes(label), `${f}: ${label} is a class of labels.txt`);
    copyFileSync(join(SHAPES, 'images', f), join(dir, label, f));
  }
  // the same pictures 250 times over (2000 images): long enough to cancel, and a big grid
  const big = join(workspace, 'big-dataset');
  for (const label of LABELS) {
    mkdirSync(join(big, label), { recursive: true });
    for (const f of readdirSync(join(dir, label))) for (let k = 0; k < BIG_COPIES; k++) copyFileSync(join(dir, label, f), join(big, label, `${k}-${f}`));
  }
  // a folder with label sub-folders but no images at all
  mkdirSync(join(workspace, 'no-images', 'red'), { recursive: true });
  writeFileSync(join(workspace, 'no-images', 'red', 'README.txt'), 'no pictures here\n');
}

/** The dataset view's webview frame (the one holding main#dataset, of the folder `name` when given), once it appears. */
async function datasetFrame(name?: string, timeout = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      const sel = name ? f.locator('main#dataset #title', { hasText: new RegExp(`^Dataset ${name}$`) }) : f.locator('main#dataset');
      if (await sel.count().catch(() => 0)) return f;
    }
    await page.waitForTimeout(250);
  }
  // say what the views show instead (an error line, another folder, a blank page)
  const shown: string[] = [];
  for (const f of page.frames()) {
    const text = await f.locator('main#dataset').first().innerText({ timeout: 1000 }).catch(() => undefined);
    if (text !== undefined) shown.push(text.replace(/\s+/g, ' ').slice(0, 300));
  }
  throw new Error(`the dataset view${name ? ` of ${name}` : ''} did not appear; dataset views: ${shown.length ? shown.map((t) => `"${t}"`).join(', ') : 'none'}`);
}

before(async () => {
  // batches of 2 images: many progress steps, so Cancel lands midway
  wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-dataset-', settings: { 'attributionLens.defaultMethod': 'saliency', 'attributionLens.batchSize': 2 }, prepare: buildDataset });
  page = wb.page;
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
});

after(async () => {
  await wb?.close('vscode-dataset-last.png');
});

test('Explore Dataset: the report, the mistake in the confusion matrix, its item, the Attribution panel on it', async (t) => {
  let frame: Frame;
  const images = readdirSync(join(wb!.workspace, 'dataset'), { recursive: true }).filter((f) => String(f).endsWith('.png')).length;
  assert.equal(images, 8);

  await t.test('right-click the folder → Explore Dataset: 7 of 8 right', async () => {
    await explorerCommand(page, 'dataset', /^Explore Dataset$/);
    frame = await datasetFrame('dataset');
    await frame.locator('#accuracy').waitFor({ timeout: 90_000 });
    assert.equal(await frame.locator('#accuracy').textContent(), 'Accuracy 87.5% (7 of 8)');
    // nothing to resume without an output folder: no "(0 resumed)"
    assert.equal(await frame.locator('#summary-line').textContent(), '8 items: 8 predicted, 0 errors; accuracy 87.5%');
    assert.deepEqual(await frame.locator('#per-class tbody td:first-child').allTextContents(), LABELS);
    assert.equal(await frame.locator('.grid .item').count(), 8);
    assert.equal(await frame.locator('.grid .item.wrong').count(), 1);
    assert.equal(await frame.locator('.grid .item').first().getAttribute('data-path'), `green/${MISLABELLED}`, 'the mistake first');
    assert.match(await page.locator('.tab.active .label-name').first().textContent() ?? '', /Dataset: dataset/);
    // thumbnails load from the data folder (localResourceRoots + the CSP's img-src)
    await frame.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.grid .item img')].every((i) => i.complete && i.naturalWidth === 64), undefined, { timeout: 20_000 });
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'dataset-view.png') });
  });

  await t.test('the green → blue cell holds the mistake and filters the grid to it', async () => {
    assert.deepEqual(LABELS, ['red', 'green', 'blue', 'yellow']);
    const cells = frame.locator('.confusion button.cell');
    // rows true, columns predicted: two pictures per colour, blue's square filed under green
    const expected = [[2, 0, 0, 0], [0, 2, 1, 0], [0, 0, 1, 0], [0, 0, 0, 2]];
    assert.deepEqual((await cells.allTextContents()).map(Number), expected.flat());
    const cell = frame.locator('.confusion button.cell[data-true="green"][data-predicted="blue"]');
    assert.match(await cell.getAttribute('class') ?? '', /\boff\b.*\bsome\b/);
    await cell.click();
    await frame.locator('#shown', { hasText: '1 of 8 items' }).waitFor({ timeout: 10_000 });
    const items = frame.locator('.grid .item');
    assert.equal(await items.count(), 1);
    assert.equal(await items.first().getAttribute('data-path'), `green/${MISLABELLED}`);
    assert.match(await items.first().textContent() ?? '', /^green → bluep 0\.\d{3}/);
  });

  await t.test('a click on the item opens the Attribution panel on that image, predicting blue', async () => {
    await frame.locator(`.grid .item[data-path="green/${MISLABELLED}"]`).click();
    const panel = await waitForPanelFrame(page);
    await panel.getByText(/Saliency for blue · [\d.]+ s/).first().waitFor({ timeout: 90_000 });
    await page.locator('.tab', { hasText: `Attribution: ${MISLABELLED}` }).first().waitFor({ timeout: 10_000 });
    assert.match(await panel.locator('al-predictions button').first().textContent() ?? '', /blue/);
  });

  assert.deepEqual(cspViolations, []);
});

test('a folder without images: one line in the view, nothing run', async () => {
  await explorerCommand(page, 'no-images', /^Explore Dataset$/);
  const deadline = Date.now() + 30_000;
  let text = '';
  while (Date.now() < deadline && !text) {
    for (const f of page.frames()) {
      const s = f.locator('main#dataset #status-text');
      if (await s.count().catch(() => 0)) text = (await s.textContent()) ?? '';
    }
    if (!text) await page.waitForTimeout(250);
  }
  assert.equal(text, 'No images in no-images: a dataset folder holds one sub-folder of images per label (no-images/<label>/*.png).');
});

test('after a window reload the folder\'s view is back: same folder and model, run again', async () => {
  // the view is in a background tab behind no-images': bring it to the front first
  await page.locator('.tab', { hasText: 'Dataset: dataset' }).first().click();
  await datasetFrame('dataset');
  // both halves of a restore: the editor with the view's state (its restoreKey), and the host's record of the folder
  await waitForSavedState(page, ['Dataset: dataset', 'restoreKey']);
  await waitForSavedState(page, ['attributionLens.datasetViews', join(wb!.workspace, 'dataset')]);
  await page.reload();
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  // a reload restarts the extension host and the engine: on a loaded machine the view takes a while
  const tab = page.locator('.tab', { hasText: 'Dataset: dataset' }).first();
  await tab.waitFor({ timeout: 180_000 });
  await tab.click();
  const frame = await datasetFrame('dataset', 120_000);
  await frame.locator('#accuracy', { hasText: 'Accuracy 87.5% (7 of 8)' }).waitFor({ timeout: 120_000 });
  assert.match(await frame.locator('#subtitle').textContent() ?? '', /^model\.onnx · 8 images · [\d.]+ s$/, 'the same model, run again');
  assert.deepEqual(await frame.locator('.grid .item.wrong').evaluateAll((els) => els.map((e) => e.getAttribute('data-path'))), [`green/${MISLABELLED}`]);
  assert.equal(await page.locator('.tab', { hasText: 'Dataset: dataset' }).count(), 1, 'one view for the folder');
});

/** Waits for the model quick pick, then accepts the row whose label is exactly `label`. */
async function pickModel(label: string): Promise<string[]> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: /choose the model/ }).waitFor({ timeout: 20_000 });
  const rows = page.locator('.quick-input-widget .monaco-list-row .label-name');
  await rows.first().waitFor({ timeout: 10_000 });
  // a row's label-names: the file, then its inputs in the detail line
  const labels = (await rows.allTextContents()).map((s) => s.trim()).filter((s) => s.endsWith('.onnx'));
  await page.locator('.quick-input-widget .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace('.', '\\.')}$`) }) }).first().click();
  return labels;
}

test('2000 images, two models: the pick, Cancel stops the engine-side run midway, Run again finishes it', async () => {
  const total = 8 * BIG_COPIES;
  // a second model in the workspace: now the model is asked for
  mkdirSync(join(wb!.workspace, 'other'), { recursive: true });
  copyFileSync(join(SHAPES, 'model.onnx'), join(wb!.workspace, 'other', 'model-copy.onnx'));
  await explorerCommand(page, 'big-dataset', /^Explore Dataset$/);
  assert.deepEqual((await pickModel('model.onnx')).sort(), ['model-copy.onnx', 'model.onnx']);
  let frame: Frame | undefined;
  const deadline = Date.now() + 60_000;
  while (!frame && Date.now() < deadline) {
    for (const f of page.frames()) if (await f.locator('main#dataset #progress-text', { hasText: `of ${total} images` }).count().catch(() => 0)) frame = f;
    if (!frame) await page.waitForTimeout(100);
  }
  assert.ok(frame, 'the big folder\'s view shows its progress');
  await frame.locator('#cancel').click();
  const status = frame.locator('#status-text', { hasText: /^Cancelled after/ });
  await status.waitFor({ timeout: 30_000 });
  const m = /^Cancelled after (\d+) of (\d+) images\.$/.exec((await status.textContent()) ?? '');
  assert.ok(m, await status.textContent() ?? '');
  assert.equal(Number(m[2]), total);
  assert.ok(Number(m[1]) < total, `cancelled midway: ${m[1]} of ${total}`);
  assert.equal(await frame.locator('.grid .item').count(), 0, 'no report after a cancel');

  await frame.locator('#rerun').click();
  await frame.locator('#accuracy').waitFor({ timeout: 180_000 });
  assert.equal(await frame.locator('#accuracy').textContent(), `Accuracy 87.5% (${7 * BIG_COPIES} of ${total})`);
  assert.equal(await frame.locator('#shown').textContent(), `${total} of ${total} items`);
  const inDom = await frame.locator('.grid .item').count();
  assert.ok(inDom > 0 && inDom < 300, `${inDom} item elements in the DOM for ${total} items`);
});

test('from the palette: the folder from the open dialog, the model from the pick', async () => {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill('>Attribution Lens: Explore Dataset');
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Attribution Lens: Explore Dataset' }).first().click();
  // VS Code's own folder dialog in the browser (files.simpleDialog): type the folder, accept with its button
  await page.locator('.quick-input-widget .quick-input-title', { hasText: /a folder of images/ }).waitFor({ timeout: 20_000 });
  // the dialog fills in its starting folder asynchronously (slowly after a reload): type over it once it has
  const want = `${join(wb!.workspace, 'dataset')}/`;
  for (let k = 0; k < 10 && (await input.inputValue()) !== want; k++) {
    if (k > 0 || (await input.inputValue()) !== '') await input.fill(want);
    await page.waitForTimeout(500);
  }
  assert.equal(await input.inputValue(), want);
  await page.waitForTimeout(500);
  await page.locator('.quick-input-widget .monaco-button', { hasText: /^Explore Dataset$/ }).click();
  await pickModel('model.onnx');
  const frame = await datasetFrame('dataset');
  // the folder's view is reused: it runs again and shows the same report
  await frame.locator('#accuracy', { hasText: 'Accuracy 87.5% (7 of 8)' }).waitFor({ timeout: 90_000 });
  assert.equal(await page.locator('.tab', { hasText: 'Dataset: dataset' }).count(), 1, 'one view per folder');
});
