// Issue 19's "the panel runs each": every method of the registry, with the parameters the panel
// sends when the user picks it and changes nothing (the webview's defaults, then the host's
// suggested defaults: a required layer, the proposed neuron, occlusion's window), through the
// real engine process (EngineClient + the bundled worker) on the shapes sample. Each map must
// have the shape the panel draws, be finite and not all zeros, and explain the target asked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { listMethods, loadInputs, openModel, type MethodInfo } from '../../src/engine';
import { writeNpy } from '../../src/engine/inputs/npy';
import { EngineClient } from '../../src/extension/engine/engineClient';
import { engineParams, neuronToPropose, withSuggestedDefaults } from '../../src/extension/paramDefaults';
import { toModelSummary, toPayload } from '../../src/extension/wire';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';
import { base64ToFloat32 } from '../../src/shared/base64';
import type { ModelSummary, ParamValues, PanelTarget } from '../../src/shared/protocol';
import { defaultParams } from '../../webview-ui/src/params';
import { ROOT, bundleEngine } from './engineBundle';

const SHAPES = join(ROOT, 'samples', 'shapes', 'model.onnx');
const IMAGE = join(ROOT, 'samples', 'shapes', 'images', 'red-circle.png');
const DETECT = join(ROOT, 'samples', 'detect', 'model.onnx');
const DETECT_IMAGE = join(ROOT, 'samples', 'detect', 'images', 'red-circle_blue-square.png');
const runtime = { threads: 1, executionProvider: 'cpu' };

/**
 * Where a default costs minutes on 2 shared cores, the test asks for less, as a user may in the
 * panel's fields; everything else is the panel's own default. Only sample counts are lowered.
 */
const CHEAPER: Record<string, ParamValues> = {
  'noise-tunnel': { ntSamples: 2 },
  'rise': { nMasks: 100 },
  'd-rise': { nMasks: 200 },
  // one model run per sample × feature (12288 features: each input element)
  'shapley-value-sampling': { nSamples: 1 },
};

let client: EngineClient;
let summary: ModelSummary;

before(async () => {
  client = new EngineClient(await bundleEngine('test-every-method'), () => undefined);
  summary = toModelSummary(await client.call('inspect', { file: SHAPES }).promise, basename(SHAPES));
});
after(() => client?.dispose());

/** What the panel sends for `info` when the user picked it and typed nothing: the webview's defaults, then the host's paramsFor. */
async function panelParams(info: MethodInfo, model: ModelRef, input: { file: string }, s: ModelSummary): Promise<{ params: ParamValues; proposed?: number[] }> {
  const sent = { ...defaultParams(info), ...CHEAPER[info.id] };
  const host = (neuron?: number[]) => withSuggestedDefaults(info, sent, s.inputs[0]?.dims, { layers: s.layers, neuron: (_l, _t, current) => current ?? neuron });
  const first = host();
  const want = neuronToPropose(info, first);
  if (!want) return { params: first };
  // the host's proposeNeuron: the same engine call
  const { selector } = await client.call('mostActiveNeuron', { model, input, layer: want.layer, toInput: want.toInput }).promise;
  return { params: host(selector), proposed: selector };
}

async function runAsPanel(info: MethodInfo, file: string, image: string, s: ModelSummary, target: PanelTarget) {
  const model: ModelRef = { file, runtime };
  const input = { file: image, options: { preprocess: {} } };
  const { params, proposed } = await panelParams(info, model, input, s);
  const missing = info.params.filter((p) => p.required && (params[p.name] === undefined || params[p.name] === null || params[p.name] === ''));
  assert.deepEqual(missing.map((p) => p.name), [], `${info.id}: the panel leaves required parameters unset`);
  const { result } = await client.call('attribute', { model, input, request: { method: info.id, target, params: engineParams(params) } }).promise;
  return { payload: toPayload(result, s.inputs[0]?.name), params, proposed };
}

function checkMap(id: string, dims: number[], values: Float32Array, want: number[], zeros = false): void {
  assert.deepEqual(dims, want, `${id}: map shape`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  assert.equal(bad, -1, `${id}: value ${bad} is ${values[bad]}`);
  if (zeros) assert.ok(values.every((v) => v === 0), `${id}: a batch of one permutes nothing, yet the map is not 0`);
  else assert.ok(values.some((v) => v !== 0), `${id}: the map is all zeros`);
}

/**
 * Captum's FeaturePermutation permutes features across the batch: with the panel's one image
 * every attribution is 0 (the methods say so). With other images as `batchExamples` (a .npy,
 * which the panel does not propose) the map must not be.
 */
const PERMUTATION = new Set(['feature-permutation', 'layer-feature-permutation']);
/**
 * Maps that do not change with the class here: LayerActivation and EigenCAM have no target;
 * AblationCAM divides each channel's drop by the class's score, and on a red image the shapes
 * model's other logits are exactly -1/4 of red's, linear in the same features: the same weights.
 */
const TARGETLESS = new Set(['layer-activation', 'eigen-cam', 'ablation-cam']);

async function otherImages(): Promise<string> {
  const lm = await openModel(SHAPES, { threads: 1 });
  const rows = await Promise.all(['green-square', 'blue-triangle', 'yellow-circle'].map(async (n) => (await loadInputs(lm, join(ROOT, 'samples', 'shapes', 'images', `${n}.png`))).feeds.input));
  const per = rows[0].data.length;
  const data = new Float32Array(per * rows.length);
  rows.forEach((r, i) => data.set(r.data as Float32Array, i * per));
  const file = join(mkdtempSync(join(tmpdir(), 'attrlens-every-')), 'others.npy');
  writeNpy(file, { dtype: 'float32', dims: [rows.length, ...rows[0].dims.slice(1)], data });
  return file;
}

test('every image method of the registry runs from the panel\'s defaults on the shapes classifier, for the target asked', async (t) => {
  const methods = listMethods();
  assert.ok(methods.length >= 47, `${methods.length} methods`);
  const input = summary.inputs[0].dims as number[];
  const layerDims = (name: string) => summary.layers!.find((l) => l.name === name)!.dims;
  // the panel explains the top prediction: red
  const target = 0;
  const seen: string[] = [];
  for (const info of methods) {
    // D-RISE explains one box of a detector (a box:K target); a classifier has no boxes: below, on samples/detect
    if (info.id === 'd-rise') continue;
    await t.test(info.id, async () => {
      const { payload, params, proposed } = await runAsPanel(info, SHAPES, IMAGE, summary, target);
      const values = base64ToFloat32(payload.map.data);
      assert.equal(payload.method, info.id);
      assert.equal(payload.target, target, `${info.id}: target`);
      assert.equal(payload.targetLabel, 'red', `${info.id}: target label`);
      // layer-shaped maps: CAM one channel at its layer's grid (the panel upsamples it to the image),
      // layer methods the layer's shape, RISE one channel at the image's size; the rest the input's
      const used = payload.layer ? layerDims(payload.layer) : [];
      const want = !info.layerShaped ? input : !payload.layer ? [1, 1, input[2], input[3]] : info.family === 'cam' ? [1, 1, used[2], used[3]] : used;
      checkMap(info.id, payload.map.dims, values, want, PERMUTATION.has(info.id));
      if (PERMUTATION.has(info.id)) {
        const model: ModelRef = { file: SHAPES, runtime };
        const input = { file: IMAGE, options: { preprocess: {} } };
        const p = engineParams({ ...params, batchExamples: await otherImages() });
        const { result } = await client.call('attribute', { model, input, request: { method: info.id, target, params: p } }).promise;
        const again = toPayload(result, summary.inputs[0]?.name);
        checkMap(`${info.id} with batchExamples`, again.map.dims, base64ToFloat32(again.map.data), want);
      }
      if (info.family === 'layer' || info.family === 'neuron') assert.equal(payload.layer, params.layer, `${info.id}: the layer the panel chose`);
      if (proposed) assert.deepEqual(params.neuronSelector, proposed, `${info.id}: the proposed neuron is sent`);
      // another prediction clicked: that class is explained, not the top one (neurons have no target)
      if (info.family !== 'neuron' && !TARGETLESS.has(info.id) && !PERMUTATION.has(info.id)) {
        const other = await runAsPanel(info, SHAPES, IMAGE, summary, 1);
        assert.equal(other.payload.target, 1, `${info.id}: target 1`);
        assert.equal(other.payload.targetLabel, 'green', `${info.id}: target 1's label`);
        const v1 = base64ToFloat32(other.payload.map.data);
        assert.ok(v1.every(Number.isFinite) && v1.some((v, i) => v !== values[i]), `${info.id}: the map for green equals the map for red`);
      }
      seen.push(info.id);
    });
  }
  assert.equal(seen.length, methods.length - 1, `ran ${seen.length} of ${methods.length}: ${methods.map((m) => m.id).filter((m) => !seen.includes(m)).join(', ')} failed`);
});

test('the proposed neuron is the most active unit of the layer for this image', async () => {
  const model: ModelRef = { file: SHAPES, runtime };
  const input = { file: IMAGE, options: { preprocess: {} } };
  const conv2 = '/features/conv2/Conv_output_0';
  const { selector, value } = await client.call('mostActiveNeuron', { model, input, layer: conv2 }).promise;
  // the layer's own values, from LayerActivation
  const { result } = await client.call('attribute', { model, input, request: { method: 'layer-activation', params: { layer: conv2 } } }).promise;
  const act = result.attributions[Object.keys(result.attributions)[0]];
  const data = act.data as Float32Array;
  const max = data.reduce((m, v) => Math.max(m, v), -Infinity);
  const [c, h, w] = selector;
  const [, , H, W] = act.dims;
  assert.equal(data[(c * H + h) * W + w], max, `[${selector}] holds the maximum`);
  assert.equal(value, max);
  // attributeToNeuronInput: a unit of the layer's input (pool1's [4, 32, 32] output), and the method runs on it
  const side = await client.call('mostActiveNeuron', { model, input, layer: conv2, toInput: true }).promise;
  assert.equal(side.selector.length, 3);
  assert.ok(side.selector[0] < 4 && side.selector[1] < 32 && side.selector[2] < 32, `[${side.selector}]`);
  const g = await client.call('attribute', { model, input, request: { method: 'neuron-gradient', params: { layer: conv2, attributeToNeuronInput: true, neuronSelector: side.selector } } }).promise;
  assert.ok((g.result.attributions.input.data as Float32Array).some((v) => v !== 0), 'a map for the input side');
  // a flat layer: one index; the logits' most active unit is the top prediction (red)
  assert.deepEqual((await client.call('mostActiveNeuron', { model, input, layer: 'logits' }).promise).selector, [0]);
  // another image, another unit: it is computed for the input, not fixed
  const blue = { file: join(ROOT, 'samples', 'shapes', 'images', 'blue-square.png'), options: { preprocess: {} } };
  assert.deepEqual((await client.call('mostActiveNeuron', { model, input: blue, layer: 'logits' }).promise).selector, [2]);
});

test('D-RISE runs from the panel on the detector, for its first box', async () => {
  const info = listMethods().find((m) => m.id === 'd-rise')!;
  const s = toModelSummary(await client.call('inspect', { file: DETECT }).promise, basename(DETECT));
  const { payload } = await runAsPanel(info, DETECT, DETECT_IMAGE, s, 'box:0');
  const dims = s.inputs[0].dims as number[];
  assert.ok(payload.spec?.startsWith('box:0'), `target ${payload.spec}`);
  checkMap('d-rise', payload.map.dims, base64ToFloat32(payload.map.data), [1, 1, dims[2], dims[3]]);
});
