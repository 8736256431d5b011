// <al-method-picker> in real Chromium (the panel's bundle, under the stub host's CSP): methods
// grouped by family with type-to-find, and layer pickers that offer the layers a method takes,
// named as in the Models view, with the CAM default spelled out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { MethodInfo, ModelSummary } from '../../../src/shared/protocol';
import { SHOTS, stubHost, waitFor } from './harness';

const { open } = stubHost();

const layer = { name: 'layer', kind: 'layer' as const, description: 'layer' };
// the engine's order is not the family order: the picker groups them
const methods: MethodInfo[] = [
  { id: 'integrated-gradients', captumName: 'IntegratedGradients', family: 'gradient', needsGradients: true, description: 'Path integral.', params: [] },
  { id: 'occlusion', captumName: 'Occlusion', family: 'perturbation', needsGradients: false, description: 'Slide a patch.', params: [] },
  { id: 'gradcam', captumName: 'LayerGradCam', family: 'cam', needsGradients: true, layerShaped: true, description: 'GradCAM.', params: [layer] },
  { id: 'saliency', captumName: 'Saliency', family: 'gradient', needsGradients: true, description: 'Gradient.', params: [] },
  { id: 'layer-conductance', captumName: 'LayerConductance', family: 'layer', needsGradients: true, layerShaped: true, description: 'Conductance.', params: [{ ...layer, required: true }] },
  { id: 'score-cam', captumName: 'ScoreCAM', family: 'cam', needsGradients: false, layerShaped: true, description: 'ScoreCAM.', params: [layer] },
  { id: 'neuron-gradient', captumName: 'NeuronGradient', family: 'neuron', needsGradients: true, description: 'Neuron.', params: [{ ...layer, required: true }] },
  { id: 'lime', captumName: 'Lime', family: 'perturbation', needsGradients: false, description: 'Lime.', params: [] },
];

/** The shapes sample's layers, as inspectModel lists them. */
const layers: NonNullable<ModelSummary['layers']> = [
  { name: '/features/conv1/Conv_output_0', module: 'features.conv1', op: 'Conv', dims: [1, 4, 64, 64] },
  { name: '/features/relu1/Relu_output_0', module: 'features.relu1', op: 'Relu', dims: [1, 4, 64, 64] },
  { name: '/features/pool1/MaxPool_output_0', module: 'features.pool1', op: 'MaxPool', dims: [1, 4, 32, 32] },
  { name: '/features/conv2/Conv_output_0', module: 'features.conv2', op: 'Conv', dims: [1, 8, 32, 32] },
  { name: '/features/relu2/Relu_output_0', module: 'features.relu2', op: 'Relu', dims: [1, 8, 32, 32] },
  { name: '/avgpool/GlobalAveragePool_output_0', module: 'avgpool', op: 'GlobalAveragePool', dims: [1, 8, 1, 1] },
  { name: '/Flatten_output_0', module: '', op: 'Flatten', dims: [1, 8] },
  { name: 'logits', module: 'classifier.fc', op: 'Gemm', dims: [1, 4] },
];

/** A lone <al-method-picker> on the stub page; its events are recorded in window.__events. */
async function mount(page: Page, method: string): Promise<void> {
  await page.evaluate(({ methods, layers, method }) => {
    document.querySelector('al-app')?.remove();
    const w = window as unknown as { __events: unknown[] };
    w.__events = [];
    const el = document.createElement('al-method-picker') as HTMLElement & Record<string, unknown>;
    el.addEventListener('al-method-change', (e) => w.__events.push({ type: e.type, ...(e as CustomEvent).detail }));
    el.addEventListener('al-params-change', (e) => w.__events.push({ type: e.type, ...(e as CustomEvent).detail }));
    el.methods = methods;
    el.method = method;
    el.layers = layers;
    el.params = {};
    document.body.append(el);
  }, { methods, layers, method });
}

const events = (page: Page) => page.evaluate(() => (window as unknown as { __events: Array<Record<string, unknown>> }).__events);

/** The labels the open dropdown of a select shows (filtered ones are not rendered). */
const shown = (page: Page, select: string) => page.locator(`al-method-picker ${select} li[role="option"]`).allTextContents().then((t) => t.map((s) => s.replace(/\s+/g, ' ').trim()));

test('methods are grouped by family under headings, and typing filters the list', async () => {
  const { page, problems } = await open({ width: 700, height: 700 });
  await mount(page, 'integrated-gradients');
  const select = page.locator('al-method-picker #method');
  await select.locator('vscode-option').first().waitFor({ state: 'attached' });
  assert.deepEqual((await select.locator('vscode-option').allTextContents()).map((s) => s.trim()), [
    'Gradient methods', 'IntegratedGradients', 'Saliency',
    'CAM methods', 'LayerGradCam', 'ScoreCAM',
    'Layer methods', 'LayerConductance',
    'Neuron methods', 'NeuronGradient',
    'Perturbation methods', 'Occlusion', 'Lime',
  ]);

  // type-to-find: the face is a text field; "cam" leaves the CAM heading and its two methods
  const face = select.locator('input');
  await face.click();
  await face.fill('cam');
  await waitFor(page, async () => (await shown(page, '#method')).length === 3, 'the filtered list');
  assert.deepEqual(await shown(page, '#method'), ['CAM methods', 'LayerGradCam', 'ScoreCAM']);
  await page.screenshot({ path: join(SHOTS, 'webview-method-filter.png') });
  // a heading cannot be picked
  await select.locator('li[role="option"]', { hasText: 'CAM methods' }).click();
  assert.deepEqual(await events(page), []);
  await select.locator('li[role="option"]', { hasText: 'ScoreCAM' }).click();
  await waitFor(page, async () => (await events(page)).length === 1, 'al-method-change');
  assert.deepEqual(await events(page), [{ type: 'al-method-change', method: 'score-cam' }]);

  // "grad" finds methods of two families; the perturbation ones are gone
  await page.evaluate(() => { (document.querySelector('al-method-picker') as unknown as { method: string }).method = 'integrated-gradients'; });
  await face.click();
  await face.fill('grad');
  await waitFor(page, async () => !(await shown(page, '#method')).includes('Occlusion'), 'filtered by "grad"');
  const grad = await shown(page, '#method');
  for (const m of ['IntegratedGradients', 'LayerGradCam', 'NeuronGradient']) assert.ok(grad.includes(m), `${m} in ${grad.join(', ')}`);
  for (const m of ['Saliency', 'Lime', 'ScoreCAM']) assert.ok(!grad.includes(m), `${m} not in ${grad.join(', ')}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a CAM layer picker offers only spatial layers, by their module names, and says which is the default', async () => {
  const { page, problems } = await open({ width: 700, height: 700 });
  await mount(page, 'gradcam');
  const field = page.locator('al-method-picker [data-param="layer"] vscode-single-select');
  await field.locator('vscode-option').first().waitFor({ state: 'attached' });
  assert.deepEqual((await field.locator('vscode-option').allTextContents()).map((s) => s.trim()), [
    '(method default: features.relu2)',
    'features.conv1 · Conv [1, 4, 64, 64]',
    'features.relu1 · Relu [1, 4, 64, 64]',
    'features.pool1 · MaxPool [1, 4, 32, 32]',
    'features.conv2 · Conv [1, 8, 32, 32]',
    'features.relu2 · Relu [1, 8, 32, 32]',
  ]);
  // the tensor name is the option's secondary text
  assert.equal(await field.locator('vscode-option').nth(4).evaluate((o) => (o as HTMLElement & { description: string }).description), '/features/conv2/Conv_output_0');

  // type to find a layer; picking it sets the tensor name
  const face = field.locator('input');
  await face.click();
  await face.fill('conv2');
  await waitFor(page, async () => (await shown(page, '[data-param="layer"] vscode-single-select')).length === 1, 'one layer left');
  await field.locator('li[role="option"]', { hasText: 'features.conv2' }).click();
  await waitFor(page, async () => (await events(page)).length === 1, 'al-params-change');
  const [e] = await events(page);
  assert.equal(e.type, 'al-params-change');
  assert.deepEqual(e.params, { layer: '/features/conv2/Conv_output_0' });
  assert.deepEqual(e.errors, []);

  // a layer method takes every layer and has no default; a neuron method needs a non-batch axis
  await page.evaluate(() => { (document.querySelector('al-method-picker') as unknown as { method: string }).method = 'layer-conductance'; });
  await waitFor(page, async () => (await field.locator('vscode-option').count()) === layers.length + 1, 'layer-method layers');
  const all = (await field.locator('vscode-option').allTextContents()).map((s) => s.trim());
  assert.equal(all[0], '(choose a layer)');
  assert.deepEqual(all.slice(-3), ['avgpool · GlobalAveragePool [1, 8, 1, 1]', 'Flatten · Flatten [1, 8]', 'classifier.fc · Gemm [1, 4]']);

  // a CAM method given a layer it cannot use keeps showing it, marked
  await page.evaluate(() => {
    const el = document.querySelector('al-method-picker') as unknown as { method: string; params: Record<string, unknown> };
    el.method = 'gradcam';
    el.params = { layer: 'logits' };
  });
  await waitFor(page, async () => (await field.locator('vscode-option').count()) === 7, 'the marked layer');
  assert.equal((await field.locator('vscode-option').last().textContent())?.trim(), 'classifier.fc (not a spatial layer for LayerGradCam)');
  assert.deepEqual(problems, []);
  await page.close();
});
