// The panel's preprocessing editor in real Chromium against the stub host: it shows the resolved
// config and its source, posts typed edits (one per pause), shows the host's refusal next to the
// key, draws the host's preview and predictions, marks the map stale, saves, and fits 300 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { bytesToBase64, float32ToBase64 } from '../../../src/shared/base64';
import { isFromWebview, type InitMessage, type PreprocessInfo, type Prediction } from '../../../src/shared/protocol';
import { SHOTS, pick, pixels, posted, send, stubHost, waitFor } from './harness';

const { open } = stubHost();

function rgba(width: number, height: number, f: (x: number, y: number) => number[]): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([...f(x, y), 255], (y * width + x) * 4);
  return data;
}

const image = rgba(32, 32, (x, y) => [x * 8, y * 8, 160]);
const info: PreprocessInfo = {
  config: { layout: 'NCHW', size: [32, 32], resize: 'stretch', channels: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], input: 'input' },
  source: 'model.attrlens.json',
  guessed: false,
  saved: { size: [32, 32] },
  file: 'model.attrlens.json',
  multiInput: false,
};
const predictions: Prediction[] = [
  { index: 0, label: 'red', probability: 0.7, logit: 3 },
  { index: 1, label: 'green', probability: 0.2, logit: 1.7 },
  { index: 2, label: 'blue', probability: 0.1, logit: 1 },
];
const init: InitMessage = {
  type: 'init',
  protocolVersion: 1,
  model: { name: 'model.onnx', inputs: [{ name: 'input', dims: [1, 3, 32, 32], dtype: 'float32' }], labels: ['red', 'green', 'blue'] },
  image: { encoding: 'rgba8-base64', width: 32, height: 32, data: bytesToBase64(image) },
  methods: [{ id: 'saliency', captumName: 'Saliency', family: 'gradient', needsGradients: true, description: 'Gradient magnitude.', params: [] }],
  current: { method: 'saliency', params: {} },
  trust: { restricted: false },
  predictions,
  preprocess: info,
};

const ED = 'al-preprocess-editor';
type Msg = Record<string, unknown> & { type: string };

async function postedOf(page: Page, type: string): Promise<Msg[]> {
  return ((await posted(page)) as Msg[]).filter((m) => m.type === type);
}

async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent())?.trim() ?? '';
}

async function edit(page: Page, key: string, value: string, part = 'input'): Promise<void> {
  const field = page.locator(`${ED} [data-key="${key}"] ${part}`).first();
  await field.fill(value);
  await field.press('Enter');
}

test('the editor shows the resolved config and its source; edits post one typed preview; the reply updates the preview and the predictions', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await waitFor(page, async () => (await textOf(page, `${ED} #source`)) === 'Source: model.attrlens.json', 'source line');
  const value = (sel: string) => page.locator(`${ED} ${sel}`).first().evaluate((el) => (el as HTMLElement & { value: string }).value);
  assert.equal(await value('[data-part="height"]'), '32');
  assert.equal(await value('[data-part="width"]'), '32');
  assert.equal(await value('[data-key="mean"] vscode-textfield'), '0.485, 0.456, 0.406');
  assert.equal(await value('[data-key="std"] vscode-textfield'), '0.229, 0.224, 0.225');
  assert.equal(await value('[data-key="scale"] vscode-textfield'), '1/255');
  assert.equal(await value('[data-key="resize"] vscode-single-select'), 'stretch');
  assert.equal(await value('[data-key="layout"] vscode-single-select'), 'NCHW');
  assert.equal(await page.locator(`${ED} [data-key="cropPct"]`).isHidden(), true, 'crop % only for cover');
  assert.equal(await page.locator('al-app #preprocess-guessed').isHidden(), true);

  // a map made with the current preprocessing is not stale
  const attr = new Float32Array(3 * 32 * 32).map((_, i) => (i % 32) / 32);
  await send(page, { type: 'runResult', requestId: 'host-1', result: { method: 'saliency', target: 0, map: { dims: [1, 3, 32, 32], data: float32ToBase64(attr), min: 0, max: 1 }, seconds: 0.1, params: {} } });
  await waitFor(page, async () => (await pixels(page, ['al-app', '#heatmap', 'canvas'])) !== null, 'heatmap');
  assert.equal(await page.locator('al-app #stale').isHidden(), true);

  // two quick edits: one request, with every key the user set (the saved size, then the edits)
  await edit(page, 'mean', '0.5, 0.5, 0.5');
  await pick(page, `${ED} [data-key="resize"]`, 'vscode-single-select', 'cover');
  await waitFor(page, async () => (await postedOf(page, 'previewPreprocess')).length === 1, 'previewPreprocess');
  await page.waitForTimeout(400);
  const previews = await postedOf(page, 'previewPreprocess');
  assert.equal(previews.length, 1, 'edits within the pause give one request');
  assert.deepEqual(previews[0].config, { size: [32, 32], mean: [0.5, 0.5, 0.5], resize: 'cover' });
  assert.equal(await page.locator(`${ED} [data-key="cropPct"]`).isHidden(), false, 'cover shows crop %');
  assert.match(await textOf(page, `${ED} #source`), /unsaved changes/);

  // a stale answer (another id) is ignored; the right one is drawn: 24×16 with black pads
  const padded = rgba(24, 16, (x) => (x < 4 || x >= 20 ? [0, 0, 0] : [200, 40, 40]));
  const newPredictions: Prediction[] = [{ index: 2, label: 'blue', probability: 0.55, logit: 2.2 }, { index: 0, label: 'red', probability: 0.45, logit: 2 }];
  const reply = (requestId: string, preds: Prediction[]) => send(page, {
    type: 'preprocessPreview', requestId, config: { ...info.config, mean: [0.5, 0.5, 0.5], resize: 'cover', size: [16, 24] },
    image: { encoding: 'rgba8-base64', width: 24, height: 16, data: bytesToBase64(padded) }, predictions: preds,
  });
  await reply('prep-old', [{ index: 1, label: 'green', probability: 1, logit: 9 }]);
  await reply(String(previews[0].requestId), newPredictions);
  const PREVIEW = ['al-app', `${ED}`, '#preview-image'];
  await waitFor(page, async () => JSON.stringify(await pixels(page, PREVIEW)) === JSON.stringify(Array.from(padded)), 'preview image');
  assert.equal(await textOf(page, `${ED} figcaption`), 'What the model sees: 24×16');
  assert.deepEqual((await page.locator(`${ED} #preview-predictions li`).allTextContents()).map((s) => s.replace(/\s+/g, ' ')), ['blue 55.0%', 'red 45.0%']);
  await waitFor(page, async () => /blue/.test(await textOf(page, 'al-predictions button')), 'main predictions follow the preview');
  // the map was made with other preprocessing: said so, and still drawn over its own 32×32 image
  await waitFor(page, async () => /preprocessing changed since this map was made/.test(await textOf(page, 'al-app #stale')), 'stale note');
  assert.equal((await pixels(page, ['al-app', '#heatmap', 'canvas']))?.length, 32 * 32 * 4);
  await page.screenshot({ path: join(SHOTS, 'webview-preprocess.png'), fullPage: true });

  for (const m of await posted(page)) assert.equal(isFromWebview(m), true, `host would reject ${JSON.stringify(m)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a refused value shows the host\'s line next to its key; text that does not parse is never sent; Save posts the config', async () => {
  const { page, problems } = await open();
  await send(page, init);
  await page.locator(`${ED} [data-key="std"]`).waitFor();

  // does not parse: marked on the field, nothing posted
  await edit(page, 'mean', 'abc');
  await waitFor(page, async () => /^mean: give one number/.test(await textOf(page, `${ED} [data-key="mean"] .err`)), 'local error');
  await page.waitForTimeout(350);
  assert.equal((await postedOf(page, 'previewPreprocess')).length, 0);
  await edit(page, 'mean', '0');
  assert.equal(await textOf(page, `${ED} [data-key="mean"] .err`), '');

  // parses, but the engine refuses it: the host's line goes next to "std"
  await edit(page, 'std', '0, 1, 1');
  await waitFor(page, async () => (await postedOf(page, 'previewPreprocess')).length === 1, 'preview of std');
  const req = (await postedOf(page, 'previewPreprocess'))[0];
  assert.deepEqual(req.config, { size: [32, 32], mean: [0], std: [0, 1, 1] });
  const line = '"std" must not contain 0 (it divides)';
  await send(page, { type: 'preprocessInvalid', requestId: String(req.requestId), key: 'std', message: line });
  await waitFor(page, async () => (await textOf(page, `${ED} [data-key="std"] .err`)) === line, 'host error next to std');
  assert.equal(await page.locator(`${ED} [data-key="std"]`).getAttribute('class'), 'field invalid');
  assert.equal(await textOf(page, `${ED} [data-key="mean"] .err`), '');
  // an answer to an older request is dropped; an error about no key goes above the fields
  await edit(page, 'std', '0.5, 0, 1');
  await waitFor(page, async () => (await postedOf(page, 'previewPreprocess')).length === 2, 'second preview');
  await send(page, { type: 'preprocessInvalid', requestId: String(req.requestId), key: 'mean', message: 'old news' });
  const req2 = (await postedOf(page, 'previewPreprocess'))[1];
  await send(page, { type: 'preprocessInvalid', requestId: String(req2.requestId), message: 'the engine stopped; run the command again' });
  await waitFor(page, async () => /engine stopped/.test(await textOf(page, `${ED} #general-error`)), 'general error');
  assert.equal(await textOf(page, `${ED} [data-key="mean"] .err`), '');
  assert.equal(await textOf(page, `${ED} [data-key="std"] .err`), '', 'the newer answer replaces the older error');

  // fixed, then saved: Save posts exactly the keys the user set
  await edit(page, 'std', '0.5');
  await edit(page, 'size', '48', '[data-part="height"] input');
  await page.locator(`${ED} #preprocess-save`).click();
  await waitFor(page, async () => (await postedOf(page, 'savePreprocess')).length === 1, 'savePreprocess');
  const save = (await postedOf(page, 'savePreprocess'))[0];
  assert.deepEqual(save.config, { size: [48, 32], mean: [0], std: [0.5] });
  assert.equal(await textOf(page, `${ED} #preprocess-status`), 'Saving…');
  // as the host does it: reload (the file is the source now, nothing unsaved), then the reply
  await send(page, { type: 'state', preprocess: { ...info, config: { ...info.config, size: [48, 32], mean: [0], std: [0.5] }, saved: save.config as PreprocessInfo['saved'] } });
  await send(page, { type: 'preprocessSaved', requestId: String(save.requestId), ok: true, message: 'Saved model.attrlens.json' });
  await waitFor(page, async () => (await textOf(page, `${ED} #preprocess-status`)) === 'Saved model.attrlens.json', 'saved status');
  await waitFor(page, async () => (await textOf(page, `${ED} #source`)) === 'Source: model.attrlens.json', 'no unsaved changes');

  for (const m of await posted(page)) assert.equal(isFromWebview(m), true, `host would reject ${JSON.stringify(m)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('guessed preprocessing is said prominently; at 300 px wide nothing overflows', async () => {
  const { page, problems } = await open({ width: 300, height: 900 });
  await send(page, { ...init, preprocess: { ...info, source: 'guessed', guessed: true, saved: {} } });
  await waitFor(page, async () => /preprocessing is guessed.*set it under Preprocessing and Save/.test(await textOf(page, 'al-app #preprocess-guessed .text')), 'guessed notice');
  assert.match(await textOf(page, `${ED} #guessed`), /Save to write model\.attrlens\.json/);
  assert.equal(await textOf(page, `${ED} #source`), 'Source: guessed');
  await page.locator(`${ED} [data-key="std"]`).scrollIntoViewIfNeeded();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 300, `the page is ${overflow} px wide`);
  for (const key of ['size', 'resize', 'interpolation', 'scale', 'mean', 'std', 'channels', 'layout']) {
    const box = await page.locator(`${ED} [data-key="${key}"]`).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 300, `${key} at ${JSON.stringify(box)}`);
  }
  const save = await page.locator(`${ED} #preprocess-save`).boundingBox();
  assert.ok(save && save.x + save.width <= 300, `Save at ${JSON.stringify(save)}`);
  await page.screenshot({ path: join(SHOTS, 'webview-preprocess-300.png'), fullPage: true });

  // restricted mode: the editor is off and posts nothing
  await send(page, { type: 'state', trust: { restricted: true, reason: 'this workspace is not trusted' } });
  await waitFor(page, async () => (await page.locator(`${ED} #preprocess-save`).getAttribute('disabled')) === '', 'disabled');
  assert.equal(await page.locator(`${ED} [data-key="std"] input`).isEditable(), false);
  await page.locator(`${ED} #preprocess-save`).click({ force: true });
  await page.waitForTimeout(350);
  assert.equal((await postedOf(page, 'previewPreprocess')).length + (await postedOf(page, 'savePreprocess')).length, 0);
  assert.deepEqual(problems, []);
  await page.close();
});
