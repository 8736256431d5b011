// Issue 19's "the panel runs each", in the real webview (Chromium, the panel's bundle): every
// method of the engine's registry picked in the method picker, then Run, posts a runAttribution
// whose params hold every required parameter. The stub host answers the picker's changeMethod
// as the extension host does: withSuggestedDefaults (the layer, occlusion's window, the grid
// for exact Shapley values) and the neuron the engine proposes for the shapes sample's image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { inspectModel, listMethods, loadInputs, openModel } from '../../../src/engine';
import { mostActiveNeuron } from '../../../src/engine/methods/layerTarget';
import { withSuggestedDefaults } from '../../../src/extension/paramDefaults';
import { toModelSummary, toPanelImage } from '../../../src/extension/wire';
import type { InitMessage, ParamValues } from '../../../src/shared/protocol';
import { ROOT, posted, send, stubHost, waitFor } from './harness';

const { open } = stubHost();
const MODEL = join(ROOT, 'samples', 'shapes', 'model.onnx');
const IMAGE = join(ROOT, 'samples', 'shapes', 'images', 'red-circle.png');

interface Posted { type: string; method?: string; params?: ParamValues }

test('every registry method, picked in the method picker and run, posts all its required parameters', async () => {
  const lm = await openModel(MODEL, { threads: 1 });
  const { feeds, image } = await loadInputs(lm, IMAGE);
  const summary = toModelSummary(await inspectModel(MODEL), basename(MODEL));
  const methods = listMethods();
  const init: InitMessage = {
    type: 'init', protocolVersion: 1, model: summary, image: image && toPanelImage(image, 'input'), methods,
    current: { method: 'saliency', params: {}, target: 0 }, trust: { restricted: false },
    predictions: [{ index: 0, label: 'red', probability: 0.99, logit: 6.1 }],
  };
  /** The host's paramsFor for what the picker sent: the engine computes the neuron, as the engine process's mostActiveNeuron does. */
  const hostParams = async (method: string, sent: ParamValues): Promise<ParamValues> => {
    const info = methods.find((m) => m.id === method)!;
    const fill = (proposal?: number[]) => withSuggestedDefaults(info, sent, summary.inputs[0].dims, { layers: summary.layers, neuron: (_l, _t, cur) => cur ?? proposal });
    const first = fill();
    if (info.family !== 'neuron') return first;
    return fill((await mostActiveNeuron(lm, feeds, first.layer as string, first.attributeToNeuronInput === true)).selector);
  };

  const { page, problems } = await open({ width: 1100, height: 900 });
  await send(page, init);
  await page.locator('al-method-picker#picker #method vscode-option').first().waitFor({ state: 'attached' });
  const all = async (): Promise<Posted[]> => (await posted(page)) as Posted[];
  const ran: string[] = [];
  for (const info of methods) {
    const before = (await all()).length;
    await pickMethod(page, info.id);
    // the picker tells the host; the host answers with the method's parameters filled in
    await waitFor(page, async () => (await all()).slice(before).some((m) => m.type === 'changeMethod' && m.method === info.id), `changeMethod for ${info.id}`);
    const asked = (await all()).slice(before).filter((m) => m.type === 'changeMethod' && m.method === info.id).pop()!;
    await send(page, { type: 'state', current: { method: info.id, params: await hostParams(info.id, asked.params ?? {}), target: 0 } });
    const mark = (await all()).length;
    await page.locator('al-run-bar #run').click();
    await waitFor(page, async () => (await all()).slice(mark).some((m) => m.type === 'runAttribution'), `runAttribution for ${info.id} (the panel says: ${await page.locator('al-notice#error').evaluate((el) => (el as HTMLElement & { message: string }).message)})`);
    const run = (await all()).slice(mark).find((m) => m.type === 'runAttribution')!;
    assert.equal(run.method, info.id);
    const missing = info.params.filter((p) => p.required && (run.params?.[p.name] === undefined || run.params[p.name] === null || run.params[p.name] === '')).map((p) => p.name);
    assert.deepEqual(missing, [], `${info.id} ran without ${missing.join(', ')}`);
    if (info.family === 'neuron') assert.ok(Array.isArray(run.params?.neuronSelector), `${info.id}: the proposed neuron is in the field`);
    ran.push(info.id);
  }
  assert.equal(ran.length, methods.length);
  assert.deepEqual(problems, []);
  await page.close();
});

/** Picks a method as a user does: the picker's select set to it and its change event. */
async function pickMethod(page: Page, id: string): Promise<void> {
  await page.locator('al-method-picker#picker #method').evaluate((el, v) => {
    (el as HTMLElement & { value: string }).value = v;
    el.dispatchEvent(new Event('change'));
  }, id);
}
