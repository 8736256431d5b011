// Compare Methods' shared rules: one method set for the palette and the panel, scales shared only
// between maps in one unit, and the compare messages the host accepts from the panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributionUnits, comparableMethods, compareSet, sharedScaleRefusal } from '../../src/shared/compare';
import { isFromWebview, type MethodInfo } from '../../src/shared/protocol';

const m = (id: string, family: MethodInfo['family']): MethodInfo => ({ id, captumName: id, family, needsGradients: true, description: '', params: [] });
const methods = [m('integrated-gradients', 'gradient'), m('saliency', 'gradient'), m('layer-activation', 'layer'), m('neuron-gradient', 'neuron'), m('gradcam', 'cam'), m('occlusion', 'perturbation')];

test('the compare set: comparable methods of the setting, in the method list order, unknown ids dropped', () => {
  assert.deepEqual(comparableMethods(methods).map((x) => x.id), ['integrated-gradients', 'saliency', 'gradcam', 'occlusion']);
  assert.deepEqual(compareSet(methods, ['occlusion', 'nope', 'layer-activation', 'saliency', 'gradcam']), ['saliency', 'gradcam', 'occlusion']);
  assert.deepEqual(compareSet(methods, ['occlusion', 'saliency', 'gradcam'], 2), ['saliency', 'gradcam']);
});

test('a shared scale is refused for maps in different units, with the reason naming them', () => {
  assert.equal(sharedScaleRefusal(['integrated-gradients', 'input-x-gradient', 'deeplift']), undefined);
  assert.equal(sharedScaleRefusal(['saliency', 'guided-backprop']), undefined);
  assert.equal(sharedScaleRefusal(['occlusion', 'feature-ablation']), undefined);
  assert.equal(sharedScaleRefusal(['gradcam']), undefined);
  const why = sharedScaleRefusal(['saliency', 'integrated-gradients'], (id) => id.toUpperCase());
  assert.match(why ?? '', /^One scale needs maps in one unit; these differ \(SALIENCY: gradients .*; INTEGRATED-GRADIENTS: per-pixel contributions to the output\), so each map keeps its own scale\.$/);
  // CAMs are each normalised their own way: two of them never share a scale
  assert.notEqual(sharedScaleRefusal(['gradcam', 'score-cam']), undefined);
  assert.notEqual(attributionUnits('gradcam').key, attributionUnits('saliency').key);
});

test('compare messages from the panel: valid ones pass, forged ones do not', () => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  for (const ok of [
    { type: 'setCompareMethods', methods: [] },
    { type: 'setCompareMethods', methods: ['saliency', 'gradcam'] },
    { type: 'openCompareMap', requestId: 'o1', method: 'saliency' },
    { type: 'export', requestId: 'e1', format: 'png', pngDataUrl: png, method: 'saliency' },
    { type: 'export', requestId: 'e1', format: 'npy', method: 'saliency' },
    { type: 'export', requestId: 'e1', format: 'png', pngDataUrl: png, grid: true },
  ]) assert.equal(isFromWebview(ok), true, JSON.stringify(ok));
  for (const bad of [
    { type: 'setCompareMethods', methods: ['saliency', 'saliency'] },
    { type: 'setCompareMethods', methods: Array.from({ length: 13 }, (_, i) => `m${i}`) },
    { type: 'setCompareMethods', methods: ['../x'] },
    { type: 'setCompareMethods' },
    { type: 'openCompareMap', requestId: 'o1' },
    { type: 'openCompareMap', requestId: 'o 1', method: 'saliency' },
    { type: 'openCompareMap', requestId: 'o1', method: 'saliency', extra: 1 },
    { type: 'export', requestId: 'e1', format: 'npy', grid: true },
    { type: 'export', requestId: 'e1', format: 'png', pngDataUrl: png, grid: false },
    { type: 'export', requestId: 'e1', format: 'png', pngDataUrl: png, grid: true, method: 'saliency' },
    { type: 'export', requestId: 'e1', format: 'npy', method: 'Saliency!' },
  ]) assert.equal(isFromWebview(bad), false, JSON.stringify(bad));
});
