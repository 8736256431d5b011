// Issue 19's Captum methods through the real Attribution panel in a real VS Code (code-server):
// LRP picked in the method picker with a per-layer rule typed into its `rules` field, LayerLRP on
// a layer chosen in the layer picker (after the one the panel fills in), NeuronGradient picked with
// no neuron (the panel proposes the layer's most active unit), and NeuronDeepLift from the Models
// view's neuron command.
// Each map the panel received equals the engine's own run on the same files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { loadInputs } from '../../../src/engine/inputs';
import { LoadedModel } from '../../../src/engine/model/loadedModel';
import { mostActiveNeuron } from '../../../src/engine/methods/layerTarget';
import { attribute } from '../../../src/engine/methods/registry';
import { base64ToFloat32 } from '../../../src/shared/base64';
import { clickMenuItem, explorerCommand, openWorkbench, waitForPanelFrame, type Workbench } from './codeServer';

const IMAGE = 'red-circle.png';
const CONV1 = '/features/conv1/Conv_output_0';
const CONV2 = '/features/conv2/Conv_output_0';
const RELU2 = '/features/relu2/Relu_output_0';

let wb: Workbench | undefined;
let page: Page;
let frame: Frame;

interface Seen {
  type: string;
  result?: { method: string; map: { dims: number[]; data: string }; params: Record<string, unknown>; layer?: string };
}

before(async () => {
  wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-e2e-captum-', settings: { 'attributionLens.defaultMethod': 'saliency' } });
  page = wb.page;
});

after(async () => {
  await wb?.close('vscode-captum-last.png');
});

const summary = (re: RegExp, timeout = 90_000): Promise<void> => frame.locator('#summary', { hasText: re }).waitFor({ timeout });

async function record(): Promise<void> {
  await frame.evaluate(`(() => { window.__seen = []; window.addEventListener('message', (e) => window.__seen.push(e.data)); })()`);
}

/** The last map the panel received for `method`. */
async function lastResult(method: string, timeout = 60_000): Promise<NonNullable<Seen['result']>> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const seen = (await frame.evaluate('window.__seen')) as Seen[];
    const r = seen.filter((m) => m.type === 'runResult' && m.result?.method === method).pop();
    if (r?.result) return r.result;
    await page.waitForTimeout(200);
  }
  throw new Error(`no ${method} result reached the panel`);
}

/** Sets a picker control (method select, layer select or text field) as a user's change does. */
async function setControl(selector: string, value: string): Promise<void> {
  await frame.locator(selector).evaluate((el, v) => {
    (el as HTMLElement & { value: string }).value = v;
    el.dispatchEvent(new Event('change'));
  }, value);
}
const paramSelector = (name: string, tag: string) => `al-method-picker#picker label[data-param="${name}"] ${tag}`;

/** The engine's own attribution for the panel's model and image. */
async function engine(method: string, params: Record<string, unknown>): Promise<Float32Array> {
  const ws = wb!.workspace;
  const lm = await LoadedModel.open(join(ws, 'model.onnx'));
  const inputs = await loadInputs(lm, join(ws, 'images', IMAGE));
  const r = await attribute(lm, inputs.feeds, { method, target: 0, params });
  return Object.values(r.attributions)[0].data as Float32Array;
}

function same(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values vs ${want.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(scale > 0 && err <= 1e-4 * scale, `${what}: max error ${err} against max ${scale}`);
}

test("Captum's LRP, LayerLRP, NeuronGradient and NeuronDeepLift through the Attribution panel", async (t) => {
  await t.test('the image attributed with the default method', async () => {
    await explorerCommand(page, IMAGE, /^Attribute Prediction$/, 'images');
    frame = await waitForPanelFrame(page, 90_000);
    await summary(/^Saliency for red · [\d.]+ s/, 120_000);
    await record();
  });

  await t.test('LRP from the picker, then with a gamma rule typed into its rules field', async () => {
    await setControl('al-method-picker#picker #method', 'lrp');
    // one backward pass: it runs at once
    await summary(/^LRP for red · [\d.]+ s/);
    same(base64ToFloat32((await lastResult('lrp')).map.data), await engine('lrp', {}), 'lrp');
    const rules = JSON.stringify({ [CONV1]: 'gamma' });
    await frame.locator(paramSelector('rules', 'vscode-textfield')).waitFor({ timeout: 10_000 });
    await frame.evaluate('window.__seen = []');
    await setControl(paramSelector('rules', 'vscode-textfield'), rules);
    const r = await lastResult('lrp');
    // the field's text is parsed by the engine
    const sent = typeof r.params.rules === 'string' ? JSON.parse(r.params.rules) as unknown : r.params.rules;
    assert.deepEqual(sent, { [CONV1]: 'gamma' }, 'the rule reached the engine');
    const gamma = await engine('lrp', { rules: { [CONV1]: 'gamma' } });
    same(base64ToFloat32(r.map.data), gamma, 'lrp with gamma on conv1');
    const plain = await engine('lrp', {});
    assert.ok(gamma.some((v, i) => Math.abs(v - plain[i]) > 1e-6), 'the gamma rule changes the map');
    // a typo in the field is reported there, and nothing runs
    await setControl(paramSelector('rules', 'vscode-textfield'), '{"conv1": gamma}');
    await frame.locator('al-method-picker#picker label[data-param="rules"].invalid').waitFor({ timeout: 10_000 });
  });

  await t.test('LayerLRP on a layer chosen in the layer picker: the layer-shaped relevances', async () => {
    await frame.evaluate('window.__seen = []');
    await setControl('al-method-picker#picker #method', 'layer-lrp');
    // no layer yet: the panel fills the last spatial layer the picker offers, and one pass runs at once
    assert.equal((await lastResult('layer-lrp', 90_000)).layer, RELU2);
    await frame.evaluate('window.__seen = []');
    await frame.locator(paramSelector('layer', 'vscode-single-select')).waitFor({ timeout: 10_000 });
    await setControl(paramSelector('layer', 'vscode-single-select'), CONV2);
    const r = await lastResult('layer-lrp', 90_000);
    assert.equal(r.layer, CONV2);
    same(base64ToFloat32(r.map.data), await engine('layer-lrp', { layer: CONV2 }), 'layer-lrp');
  });

  await t.test('NeuronGradient picked with no neuron: the panel proposes the most active unit of the layer, and follows the layer', async () => {
    await frame.evaluate('window.__seen = []');
    await setControl('al-method-picker#picker #method', 'neuron-gradient');
    const first = await lastResult('neuron-gradient', 90_000);
    const ws = wb!.workspace;
    const lm = await LoadedModel.open(join(ws, 'model.onnx'));
    const feeds = (await loadInputs(lm, join(ws, 'images', IMAGE))).feeds;
    // the last spatial layer offered, and its most active unit for this image
    assert.equal(first.layer, RELU2);
    assert.deepEqual(first.params.neuronSelector, (await mostActiveNeuron(lm, feeds, RELU2)).selector);
    await frame.evaluate('window.__seen = []');
    // the logits: their most active unit is the top prediction, [0] (red)
    await setControl(paramSelector('layer', 'vscode-single-select'), 'logits');
    const r = await lastResult('neuron-gradient', 90_000);
    const selector = (await mostActiveNeuron(lm, feeds, 'logits')).selector;
    assert.deepEqual(selector, [0]);
    assert.equal(r.layer, 'logits');
    assert.deepEqual(r.params.neuronSelector, selector, "the logits' own most active unit, not relu2's");
    // the field shows it, so the user sees and can change it
    const field = frame.locator(paramSelector('neuronSelector', 'vscode-textfield'));
    assert.equal(await field.evaluate((el) => (el as HTMLElement & { value: string }).value), selector.join(', '));
    same(base64ToFloat32(r.map.data), await engine('neuron-gradient', { layer: 'logits', neuronSelector: selector }), 'neuron-gradient');
  });

  await t.test("NeuronDeepLift from the Models view's neuron command, captioned by the neuron", async () => {
    await frame.evaluate('window.__seen = []');
    await page.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').click();
    const modelsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) });
    const row = (label: string) => modelsPane.locator('.monaco-list-row', { has: page.locator('.label-name').getByText(label, { exact: true }) });
    for (const label of ['model.onnx', 'Layers', 'features', 'conv2']) {
      await row(label).first().waitFor({ timeout: 20_000 });
      await row(label).first().click();
    }
    await row('features.conv2').first().click({ button: 'right' });
    await clickMenuItem(page, /^Attribute a Neuron of This Layer to the Input…$/);
    const quickPick = async (text: string, title: RegExp): Promise<void> => {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 20_000 });
      await page.locator('.quick-input-widget input').fill(text);
      await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
    };
    // channel 0 detects the red circle (channel 5 another colour: its map is 0 here)
    await quickPick('channel 0', /Which channel\?/);
    await quickPick('neuron-deeplift', /Attribute channel 0 of /);
    frame = await waitForPanelFrame(page);
    await summary(/^NeuronDeepLift for channel 0 of features\.conv2 at \(16, 16\) · [\d.]+ s/);
    const r = await lastResult('neuron-deeplift');
    assert.deepEqual(r.params.neuronSelector, [0, 16, 16], "Captum's tuple: channel, row, column");
    same(base64ToFloat32(r.map.data), await engine('neuron-deeplift', { layer: CONV2, neuronSelector: [0, 16, 16] }), 'neuron-deeplift');
  });
});
