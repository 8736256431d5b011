// The panel's state transitions (src/extension/panel/panelState.ts), against the engine's real
// method list: what is cheap, what a new image runs, when the map is stale, how runs are captioned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMethods } from '../../src/engine';
import type { ModelSummary, Prediction } from '../../src/shared/protocol';
import {
  CaptionContext, caption, freshPanelState, fromPersisted, isCheap, methodForNewImage, neuronSubject, passes, persisted, restoredState,
  sameParams, staleReason, withImage, withMethod, withRunEnded, withRunStarted, withTarget,
} from '../../src/extension/panel/panelState';

const methods = listMethods();
const info = (id: string) => {
  const m = methods.find((x) => x.id === id);
  assert.ok(m, `no method ${id}`);
  return m;
};
const summary: ModelSummary = {
  name: 'model.onnx', inputs: [{ name: 'input', dims: [1, 3, 64, 64] }], labels: ['red', 'green', 'blue', 'yellow'],
  layers: [
    { name: '/features/conv2/Conv_output_0', module: 'features.conv2', op: 'Conv', dims: [1, 8, 32, 32] },
    { name: '/classifier/Gemm_output_0', module: 'classifier', op: 'Gemm', dims: [1, 4] },
  ],
};
const red: Prediction[] = [{ index: 0, label: 'red', probability: 0.999, logit: 9 }, { index: 1, label: 'green', probability: 0.001, logit: 1 }];
const blue: Prediction[] = [{ index: 2, label: 'blue', probability: 0.95, logit: 7 }, { index: 0, label: 'red', probability: 0.05, logit: 2 }];
const cc: CaptionContext = { methods, summary, predictions: red };

test('cheap: one-backward gradient methods and CAMs; Integrated Gradients up to 64 steps; never RISE with many masks', () => {
  assert.equal(passes(info('saliency'), {}), 1);
  assert.ok(isCheap(info('saliency'), {}));
  assert.ok(isCheap(info('gradcam'), {}));
  assert.ok(isCheap(info('integrated-gradients'), {}), 'the default 50 steps');
  assert.ok(isCheap(info('integrated-gradients'), { nSteps: 64 }));
  assert.ok(!isCheap(info('integrated-gradients'), { nSteps: 65 }));
  assert.equal(passes(info('integrated-gradients'), { nSteps: null }), 50, 'null means the default');
  assert.ok(!isCheap(info('rise'), {}), 'RISE defaults to 500 masks');
  assert.ok(!isCheap(info('rise'), { nMasks: 50000 }));
  assert.ok(!isCheap(info('occlusion'), {}), 'grows with the input');
  assert.ok(!isCheap(info('score-cam'), {}), 'one forward pass per channel');
  assert.ok(isCheap(info('noise-tunnel'), { ntSamples: 5, baseMethod: 'saliency' }));
  assert.ok(!isCheap(info('noise-tunnel'), { ntSamples: 5, baseMethod: 'integrated-gradients' }));
  assert.ok(!isCheap(undefined, {}), 'an unknown method is not cheap');
});

test('parameters compare by meaning: defaults filled in, null the same as absent', () => {
  const ig = info('integrated-gradients');
  assert.ok(sameParams(ig, {}, { nSteps: 50 }));
  assert.ok(sameParams(ig, { nSteps: null }, {}));
  assert.ok(!sameParams(ig, { nSteps: 20 }, {}));
});

test('a new image runs the default, or the last method again only when it is cheap, and says so', () => {
  const rise = methodForNewImage(methods, { method: 'rise', params: { nMasks: 50000 } }, 'integrated-gradients');
  assert.equal(rise.method, 'integrated-gradients');
  assert.equal(rise.isDefault, true);
  assert.match(rise.note ?? '', /default method, IntegratedGradients; RISE \(the last one\) is slow/);
  const sal = methodForNewImage(methods, { method: 'saliency', params: {} }, 'integrated-gradients');
  assert.deepEqual(sal, { method: 'saliency', isDefault: false, note: 'Ran Saliency again, the last method; the default is IntegratedGradients.' });
  const same = methodForNewImage(methods, { method: 'integrated-gradients', params: { nSteps: 500 } }, 'integrated-gradients');
  assert.deepEqual(same, { method: 'integrated-gradients', isDefault: true });
  // a neuron belongs to its own run, not to the next image
  assert.equal(methodForNewImage(methods, { method: 'neuron-gradient', params: {} }, 'saliency').method, 'saliency');
  // an unknown default falls back to the first method
  assert.equal(methodForNewImage(methods, undefined, 'no-such-method').method, methods[0].id);
});

test('a new image takes its own predictions and top class, and drops the old map and note', () => {
  let s = withImage(freshPanelState('integrated-gradients'), 'model.onnx', 'red-circle.png', red);
  s = { ...withRunEnded(withRunStarted(s, { requestId: 'r1', kind: 'single', caption: 'x' }), 'r1', {
    requestId: 'r1', method: 'integrated-gradients', params: {}, target: 0, imageFile: 'red-circle.png', caption: 'IntegratedGradients for red',
  }), note: 'n' };
  assert.equal(s.run, undefined);
  assert.equal(s.shown?.requestId, 'r1');
  const again = withImage(s, 'model.onnx', 'red-circle.png', red);
  assert.equal(again.shown?.requestId, 'r1', 'the same image keeps its map');
  const b = withImage(s, 'model.onnx', 'blue-triangle.png', blue);
  assert.deepEqual([b.imageFile, b.target, b.predictions[0].label, b.shown, b.note], ['blue-triangle.png', 2, 'blue', undefined, undefined]);
});

test('a changed method, parameter or target marks the map stale, naming what it was computed with', () => {
  let s = withImage(freshPanelState('integrated-gradients'), 'model.onnx', 'red-circle.png', red);
  s = withRunEnded(s, 'r1', {
    requestId: 'r1', method: 'integrated-gradients', params: { nSteps: 50 }, target: 0, imageFile: 'red-circle.png', caption: 'IntegratedGradients for red',
  });
  s = withMethod(s, 'integrated-gradients', {});
  assert.equal(staleReason(s, cc), undefined, 'the same parameters, defaults filled in');
  const m = withMethod(s, 'rise', { nMasks: 50000 });
  assert.match(staleReason(m, cc) ?? '', /^Stale: this map is IntegratedGradients for red \(.*nSteps 50.*\); the method changed since\. Run to update it\.$/);
  const p = withMethod(s, 'integrated-gradients', { nSteps: 200 });
  assert.match(staleReason(p, cc) ?? '', /the parameters changed since/);
  const t = withTarget(p, 1);
  assert.match(staleReason(t, cc) ?? '', /the parameters and target changed since/);
  assert.equal(staleReason(withRunStarted(t, { requestId: 'r2', kind: 'single', caption: 'y' }), cc), undefined, 'not while a run replaces it');
});

test('neuron runs are captioned by the neuron: layer display name, channel, position', () => {
  assert.equal(caption(cc, 'neuron-gradient', { layer: '/features/conv2/Conv_output_0', neuronSelector: [5, 16, 16] }, 1), 'NeuronGradient for channel 5 of features.conv2 at (16, 16)');
  // a flat index is unravelled over the layer's shape (8×32×32)
  assert.equal(neuronSubject(summary, { layer: '/features/conv2/Conv_output_0', neuronSelector: 5 * 1024 + 16 * 32 + 16 }), 'channel 5 of features.conv2 at (16, 16)');
  assert.equal(neuronSubject(summary, { layer: '/classifier/Gemm_output_0', neuronSelector: [3] }), 'unit 3 of classifier');
  assert.equal(caption(cc, 'integrated-gradients', {}, 1), 'IntegratedGradients for green');
  assert.equal(caption(cc, 'saliency', {}, 7), 'Saliency for output 7');
});

test('what a reload restores: the choices and the shown map, checked; predictions are fetched again', () => {
  let s = withImage(freshPanelState('rise'), 'm.onnx', 'red.png', red);
  s = withTarget(withMethod(s, 'rise', { nMasks: 50000 }), 1);
  s = { ...s, view: { method: 'heat_map', sign: 'all', outlierPerc: 1, alphaOverlay: 0.3, colormap: 'inferno', beside: false } };
  const saved = persisted(s);
  assert.ok(saved);
  const back = restoredState(fromPersisted(JSON.parse(JSON.stringify(saved)))!);
  assert.deepEqual([back.method, back.params.rise, back.target, back.imageFile, back.predictions], ['rise', { nMasks: 50000 }, 1, 'red.png', []]);
  assert.deepEqual(back.view, s.view);
  assert.equal(fromPersisted({ ...saved, view: { ...s.view, colormap: 'rainbow' } })?.view, undefined, 'a malformed view is dropped, the rest kept');
  assert.equal(fromPersisted({ version: 2 }), undefined);
  assert.equal(fromPersisted({ ...saved, method: 3 }), undefined);
  assert.equal(persisted(freshPanelState('saliency')), undefined, 'nothing to restore without an image');
});
