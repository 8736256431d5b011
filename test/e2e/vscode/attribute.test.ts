// End to end in a real VS Code (code-server 4.139 = VS Code 1.139) driven through Chromium:
// the packaged .vsix is installed into a fresh profile, an image is attributed from the Explorer's
// context menu, and the heatmap the webview draws is read back and checked against the image.
// Needs `scripts/e2e-setup.sh` (npm run test:e2e runs it, builds and packages first).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ROOT, clickMenuItem, heatmapPixels, type CanvasPixels, waitForPanelFrame, openWorkbench, waitForSavedState, type Workbench } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
const SAMPLE = join(ROOT, 'samples', 'shapes');
const IMAGE = 'red-circle.png';

// samples/shapes/net.py: the sample's modules in PyTorch, for Go to Source (node names /features/conv2/...).
const NET_PY = readFileSync(join(SAMPLE, 'net.py'), 'utf8');
const CONV2_LINE = NET_PY.split('\n').findIndex((l) => l.includes('self.conv2 =')) + 1;

let tmp: string;
let workspace: string;
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({
    sample: 'shapes',
    prefix: 'attrlens-e2e-',
    settings: { 'files.simpleDialog.enable': true, 'attributionLens.defaultMethod': 'integrated-gradients' },
  });
  ({ tmp, workspace, page } = wb);
});

after(async () => {
  await wb?.close('vscode-last.png');
});

// ---- helpers ---------------------------------------------------------------------------------

const explorerRow = (name: string) => page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);

async function contextMenuLabels(): Promise<string[]> {
  await page.waitForSelector('.monaco-menu .action-label', { timeout: 10_000 });
  return (await page.locator('.monaco-menu .action-label').allTextContents()).map((s) => s.trim()).filter(Boolean);
}

/** The frame (nested in the webview's iframes) that holds the panel's <al-app>. */
const panelFrame = (timeout?: number): Promise<Frame> => waitForPanelFrame(page, timeout);

type Pixels = CanvasPixels;
const canvasPixels = (frame: Frame): Promise<Pixels> => heatmapPixels(frame);

async function rgbaOf(file: string): Promise<Buffer> {
  return sharp(file).ensureAlpha().raw().toBuffer();
}

// ---- the test --------------------------------------------------------------------------------

test('Attribute Prediction from the Explorer, in a real VS Code', async (t) => {
  let frame!: Frame;
  let first!: Pixels;

  await t.test('the Explorer context menu offers the command on images only', async () => {
    await explorerRow('images').waitFor({ timeout: 60_000 });
    await explorerRow('images').click();
    await explorerRow(IMAGE).waitFor({ timeout: 30_000 });
    await explorerRow('labels.txt').click({ button: 'right' });
    assert.ok(!(await contextMenuLabels()).includes('Attribute Prediction'), 'menu on labels.txt must not offer Attribute Prediction');
    await page.keyboard.press('Escape');
    await explorerRow(IMAGE).click({ button: 'right' });
    const labels = await contextMenuLabels();
    assert.ok(labels.includes('Attribute Prediction'), `menu on ${IMAGE}: ${labels.join(', ')}`);
    await page.screenshot({ path: join(SHOTS, 'vscode-context-menu.png') });
    await clickMenuItem(page, /^Attribute Prediction$/);
  });

  await t.test('the panel opens beside, predicts red and draws the Integrated Gradients heatmap', async () => {
    frame = await panelFrame();
    const predictions = frame.locator('al-predictions button');
    await predictions.first().waitFor({ timeout: 60_000 });
    assert.equal(await predictions.count(), 4, 'four classes, all in the top 5');
    assert.match((await predictions.first().textContent()) ?? '', /red/);
    await frame.getByText(/IntegratedGradients for red · [\d.]+ s/).first().waitFor({ timeout: 90_000 });
    assert.match(await page.locator('.tab.active .label-name').last().textContent() ?? '', /Attribution: red-circle\.png/);
    await page.screenshot({ path: join(SHOTS, 'vscode-attribution.png') });

    first = await canvasPixels(frame);
    assert.deepEqual([first.width, first.height], [64, 64], 'the canvas holds the image as the model sees it (64×64)');
    // The heatmap must change the picture: compare with the bare image, pixel by pixel.
    const bare = await rgbaOf(join(workspace, 'images', IMAGE));
    let diff = 0;
    for (let i = 0; i < bare.length; i += 4) for (let c = 0; c < 3; c++) diff += Math.abs(first.data[i + c] - bare[i + c]);
    const meanDiff = diff / ((bare.length / 4) * 3);
    assert.ok(meanDiff > 20, `canvas differs from the bare image by only ${meanDiff.toFixed(1)} per channel`);
    // The model detects colour: the evidence for "red" is the red disc, so the Blues heat map
    // (absolute value, Captum's default) must be bluer inside the disc's mask than outside.
    const mask = await rgbaOf(join(workspace, 'images', 'red-circle.mask.png'));
    let inSum = 0, inN = 0, outSum = 0, outN = 0;
    for (let i = 0; i < mask.length; i += 4) {
      const blueness = first.data[i + 2] - first.data[i];
      if (mask[i] > 127) {
        inSum += blueness;
        inN++;
      } else {
        outSum += blueness;
        outN++;
      }
    }
    assert.ok(inN > 50 && outN > 50, 'mask has both regions');
    const inside = inSum / inN, outside = outSum / outN;
    assert.ok(inside > outside + 40, `blueness inside the disc ${inside.toFixed(1)} vs outside ${outside.toFixed(1)}`);
  });

  await t.test('Export JSON writes the attribution into the output folder, not beside the image', async () => {
    const exported = join(workspace, '.attribution-lens', 'exports', 'red-circle-integrated-gradients-0.json');
    await frame.locator('#export-json').click();
    // written once the panel reports it
    await frame.locator('al-export-bar#export .status', { hasText: /^Saved .*\.attribution-lens\/exports\/red-circle-integrated-gradients-0\.json/ }).waitFor({ timeout: 20_000 });
    assert.ok(existsSync(exported), `${exported} was not written`);
    const doc = JSON.parse(readFileSync(exported, 'utf8')) as { method: string; target: number; dims: number[]; values: number[]; delta: number };
    assert.equal(doc.method, 'integrated-gradients');
    assert.equal(doc.target, 0);
    assert.deepEqual(doc.dims, [1, 3, 64, 64]);
    assert.equal(doc.values.length, 3 * 64 * 64);
    // Most of the attribution mass lies on the disc (channel-summed |attribution| per pixel).
    const mask = await rgbaOf(join(workspace, 'images', 'red-circle.mask.png'));
    let onDisc = 0, total = 0;
    for (let p = 0; p < 64 * 64; p++) {
      const v = Math.abs(doc.values[p] + doc.values[4096 + p] + doc.values[8192 + p]);
      total += v;
      if (mask[p * 4] > 127) onDisc += v;
    }
    assert.ok(onDisc / total > 0.5, `only ${(100 * onDisc / total).toFixed(0)}% of the attribution is on the disc`);
    const others = readdirSync(join(workspace, 'images')).filter((f) => f.endsWith('.json') && f !== 'manifest.json');
    assert.deepEqual(others, [], 'nothing written beside the inputs');
    assert.deepEqual(readdirSync(join(workspace, '.attribution-lens', 'exports')), ['red-circle-integrated-gradients-0.json'], 'nothing else written');
  });

  await t.test('clicking a prediction re-runs for that class', async () => {
    const saturation = async (): Promise<string> => {
      const text = (await frame.getByText(/Colour saturates at/).first().textContent()) ?? '';
      return /≥ ([-\d.e]+)/.exec(text)?.[1] ?? '';
    };
    const before = await saturation();
    await frame.locator('al-predictions button', { hasText: 'green' }).click();
    await frame.getByText(/IntegratedGradients for green · [\d.]+ s/).first().waitFor({ timeout: 90_000 });
    // On this colour model the maps for red and green can be proportional (one active feature
    // path), so the normalised picture may not change; the raw scale must.
    const after = await saturation();
    assert.ok(before && after && before !== after, `saturation threshold ${before} → ${after}`);
    const second = await canvasPixels(frame);
    assert.deepEqual([second.width, second.height], [64, 64]);
    await page.screenshot({ path: join(SHOTS, 'vscode-retarget.png') });
  });

  await t.test('hidden and shown again, the panel comes back as it was', async () => {
    await page.locator('.tab', { hasText: 'Attribution: red-circle.png' }).click();
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('labels.txt');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'labels.txt' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'labels.txt' }).waitFor({ timeout: 10_000 });
    // Without retainContextWhenHidden the webview is gone now.
    const deadline = Date.now() + 10_000;
    while ((await Promise.all(page.frames().map((f) => f.locator('al-app').count().catch(() => 0)))).some((n) => n > 0) && Date.now() < deadline) {
      await page.waitForTimeout(200);
    }
    await page.locator('.tab', { hasText: 'Attribution: red-circle.png' }).click();
    frame = await panelFrame();
    await frame.getByText(/IntegratedGradients for green · [\d.]+ s/).first().waitFor({ timeout: 20_000 });
    const again = await canvasPixels(frame);
    assert.deepEqual([again.width, again.height], [64, 64]);
    assert.equal(await frame.locator('al-predictions button').count(), 4);
    assert.deepEqual(wb!.cspViolations, [], 'the panel runs under its strict CSP without violations');
  });

  await t.test('Compare runs the checked methods in the engine process and shows one map each', async () => {
    await frame.locator('#compare-run').click();
    const cells = frame.locator('al-compare al-heatmap');
    const deadline = Date.now() + 90_000;
    // the attributionLens.compareMethods setting's default: saliency, integrated-gradients, gradcam, occlusion
    while ((await cells.count()) < 4 && Date.now() < deadline) await page.waitForTimeout(250);
    assert.equal(await cells.count(), 4, 'the methods of attributionLens.compareMethods are checked by default');
  });

  await t.test('the Runs view lists the runs and the Models view shows the model by module', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').click();
    const runsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) });
    await runsPane.locator('.monaco-list-row').nth(2).waitFor({ timeout: 20_000 });
    const runs = await runsPane.locator('.monaco-list-row').allTextContents();
    assert.equal(runs.length, 3);
    assert.match(runs[0], /Compare 4 methods → green \(1\)/);
    assert.match(runs[1], /integrated-gradients → green \(1\)/);
    assert.match(runs[2], /integrated-gradients → red \(0\)/);

    const modelsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) });
    const row = (label: string) => modelsPane.locator('.monaco-list-row', { has: page.locator('.label-name').getByText(label, { exact: true }) });
    await row('model.onnx').click();
    await row('Layers').click();
    await row('features').click();
    await row('conv2').click();
    await row('features.conv2').waitFor({ timeout: 10_000 });
    const text = (await modelsPane.locator('.monaco-list-row').allTextContents()).join(' | ');
    for (const expected of ['Inputs', 'input', '[1, 3, 64, 64] float32', 'Outputs', 'logits', 'Labels', 'conv1', 'pool1', '[1, 8, 32, 32]']) {
      assert.ok(text.includes(expected), `Models view lacks "${expected}": ${text}`);
    }
    await page.screenshot({ path: join(SHOTS, 'vscode-models.png') });

    await row('features.conv2').click({ button: 'right' });
    const labels = await contextMenuLabels();
    for (const l of ['Use This Layer for CAM Methods', 'Go to Source', 'Attribute Prediction to This Layer…', 'Attribute a Neuron of This Layer to the Input…']) {
      assert.ok(labels.includes(l), `layer menu lacks ${l}: ${labels.join(', ')}`);
    }
    await clickMenuItem(page, /^Go to Source$/);
    await page.locator('.tab', { hasText: 'net.py' }).first().waitFor({ timeout: 20_000 });
    // the cursor on the definition's line with `conv2` (5 characters) selected
    await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${CONV2_LINE}, Col \\d+ \\(5 selected\\)`) }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'vscode-go-to-source.png') });
  });

  await t.test('a layer of the Models view: GradCAM on it, and one neuron of it attributed to the input', async () => {
    const modelsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) });
    const conv = modelsPane.locator('.monaco-list-row', { has: page.locator('.label-name').getByText('features.conv2', { exact: true }) });
    const quickPick = async (text: string, expectedTitle: RegExp): Promise<void> => {
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 20_000 });
      // the widget is reused from one pick to the next: wait for this pick's title
      await page.locator('.quick-input-widget .quick-input-title', { hasText: expectedTitle }).waitFor({ timeout: 20_000 });
      await input.fill(text);
      await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
    };

    await conv.click({ button: 'right' });
    await clickMenuItem(page, /^Attribute Prediction to This Layer…$/);
    await quickPick('gradcam', /Attribute the prediction to features\.conv2$/);
    frame = await panelFrame();
    await frame.getByText(/LayerGradCam for green · [\d.]+ s · layer features\.conv2/).first().waitFor({ timeout: 60_000 });
    // the method picker follows the run the command started (it showed Integrated Gradients before)
    const picker = frame.locator('al-method-picker#picker');
    assert.equal(await picker.locator('#method').evaluate((el) => (el as HTMLElement & { value: string }).value), 'gradcam');
    assert.equal(await picker.locator('label[data-param="layer"] vscode-single-select').evaluate((el) => (el as HTMLElement & { value: string }).value), '/features/conv2/Conv_output_0');

    await conv.click({ button: 'right' });
    await clickMenuItem(page, /^Attribute a Neuron of This Layer to the Input…$/);
    await quickPick('channel 5', /Which channel\? \(8 in all\)/);
    await quickPick('neuron-gradient', /Attribute channel 5 of features\.conv2 to the input/);
    frame = await panelFrame();
    await frame.getByText(/NeuronGradient for channel 5 of \S+ at \(16, 16\) · [\d.]+ s/).first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, 'vscode-neuron.png') });

    const runsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) });
    const runs = await runsPane.locator('.monaco-list-row').allTextContents();
    assert.match(runs[0], /neuron-gradient → green \(1\)/);
    assert.match(runs[1], /gradcam → green \(1\)/);
  });

  await t.test('after a window reload the serializer restores the panel with its model and image', async () => {
    await waitForSavedState(page, 'Attribution: red-circle.png');
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await page.locator('.tab', { hasText: 'Attribution: red-circle.png' }).first().waitFor({ timeout: 60_000 });
    await page.locator('.tab', { hasText: 'Attribution: red-circle.png' }).first().click();
    frame = await panelFrame();
    const predictions = frame.locator('al-predictions button');
    await predictions.first().waitFor({ timeout: 60_000 });
    assert.match((await predictions.first().textContent()) ?? '', /red/);
    await frame.getByText('model.onnx').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'vscode-restored.png') });
  });

  await t.test('the preprocessing editor: an edited mean previews new predictions, Save writes model.attrlens.json', async () => {
    const editor = frame.locator('al-preprocess-editor#preprocess');
    await editor.locator('#source', { hasText: /^Source: model\.attrlens\.json$/ }).waitFor({ timeout: 30_000 });
    const top = async (): Promise<string> => ((await frame.locator('al-predictions button').first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
    assert.match(await top(), /^red #0\s*99\.9%/);
    // This colour model ignores a uniform shift; a red-only mean takes most of the red away.
    const mean = editor.locator('[data-key="mean"] input');
    await mean.fill('0.3, 0, 0');
    await mean.press('Enter');
    await editor.locator('#preview-predictions li').first().waitFor({ timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    while (!/^red #0\s*26\.8%/.test(await top()) && Date.now() < deadline) await page.waitForTimeout(200);
    assert.match(await top(), /^red #0\s*26\.8%/, 'the predictions follow the edited mean');
    assert.match((await editor.locator('#preview-predictions li').first().textContent()) ?? '', /red\s+26\.8%/);
    assert.match((await editor.locator('figcaption').textContent()) ?? '', /What the model sees: 64×64/);
    await frame.locator('#stale', { hasText: /preprocessing changed since this map was made/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'vscode-preprocess.png') });

    await editor.locator('#preprocess-save').click();
    await editor.locator('#preprocess-status', { hasText: /^Saved model\.attrlens\.json$/ }).waitFor({ timeout: 30_000 });
    // the saved keys: the file's own, with the edited mean, in the file's key order
    const saved = JSON.parse(readFileSync(join(workspace, 'model.attrlens.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(saved, { input: 'input', layout: 'NCHW', size: [64, 64], resize: 'stretch', channels: 'RGB', scale: 0.00392156862745098, mean: [0.3, 0, 0], std: [1, 1, 1] });
    assert.match(readFileSync(join(workspace, 'model.attrlens.json'), 'utf8'), /^{\n {2}"input": "input",\n/);
    // reloaded from the file: no unsaved changes, the same predictions, and a new run clears the stale note
    await editor.locator('#source', { hasText: /^Source: model\.attrlens\.json$/ }).waitFor({ timeout: 30_000 });
    assert.match(await top(), /^red #0\s*26\.8%/);
    await frame.locator('al-predictions button', { hasText: 'red' }).click();
    // the restored method is the neuron run's: captioned by its neuron, not the class
    await frame.locator('#summary', { hasText: /for (red|channel 5 of \S+ at \(16, 16\)) · [\d.]+ s/ }).waitFor({ timeout: 90_000 });
    await frame.locator('#stale').waitFor({ state: 'hidden', timeout: 10_000 });
  });
});

test('the installed extension holds the bundles and linux-x64 native modules only', () => {
  const extDir = join(tmp, 'profile', 'extensions');
  const installed = readdirSync(extDir).find((d) => d.startsWith('attribution-lens.attribution-lens-'));
  assert.ok(installed, `no Attribution Lens in ${extDir}`);
  const files: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p, `${rel}${f}/`);
      else files.push(`${rel}${f}`);
    }
  };
  walk(join(extDir, installed), '');
  for (const f of ['package.json', 'package.nls.json', 'dist/extension.js', 'dist/engine.js', 'dist/webview.js', 'media/icon.png',
    'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'dist/node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.5.node']) {
    assert.ok(files.includes(f), `${f} is missing from the package`);
  }
  const unwanted = files.filter((f) => /\.map$|\.ts$/.test(f) || /^(src|test|webview-ui|scripts)\//.test(f) || /napi-v\d+\/(win32|darwin|linux\/arm64)/.test(f));
  assert.deepEqual(unwanted, [], 'sources, maps and other platforms stay out');
});
