// The text-capable methods offered by the panel, tailored from the engine's real method list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMethods } from '../../src/engine';
import { TEXT_METHODS, isTextMethod, textMethodInfos, textRequest } from '../../src/extension/textMethods';

const infos = textMethodInfos(listMethods());
const byId = (id: string) => infos.find((m) => m.id === id)!;
const names = (id: string) => byId(id).params.map((p) => p.name);

test('the six text methods, in order, layer integrated gradients first', () => {
  assert.deepEqual(infos.map((m) => m.id), [...TEXT_METHODS]);
  assert.deepEqual(TEXT_METHODS.slice(), ['layer-integrated-gradients', 'layer-gradient-x-activation', 'occlusion', 'feature-ablation', 'lime', 'kernel-shap']);
  assert.ok(isTextMethod('lime') && !isTextMethod('integrated-gradients') && !isTextMethod('gradcam'));
});

test('what the engine fills in for token ids is left out or optional; text options are added', () => {
  for (const m of infos) {
    assert.ok(!names(m.id).includes('baselines'), `${m.id} offers baselines`);
    assert.ok(!names(m.id).includes('featureMask'), `${m.id} offers featureMask`);
    assert.deepEqual(m.params.filter((p) => p.required).map((p) => p.name), [], `${m.id} has required parameters`);
  }
  assert.deepEqual(names('layer-integrated-gradients'), ['layer', 'nSteps', 'method', 'internalBatchSize', 'returnConvergenceDelta', 'attributeToLayerInput', 'baselineToken']);
  assert.deepEqual(names('layer-gradient-x-activation'), ['layer', 'multiplyByInputs', 'attributeToLayerInput']);
  assert.deepEqual(byId('occlusion').params.find((p) => p.name === 'slidingWindowShapes')?.default, [1]);
  assert.deepEqual(byId('occlusion').params.find((p) => p.name === 'strides')?.default, [1]);
  assert.equal(byId('lime').params.find((p) => p.name === 'granularity')?.default, 'word');
  assert.equal(byId('kernel-shap').params.find((p) => p.name === 'granularity')?.default, 'word');
  assert.equal(byId('feature-ablation').params.find((p) => p.name === 'granularity')?.default, 'token');
  assert.ok(!names('occlusion').includes('granularity'));
  assert.equal(byId('lime').params.find((p) => p.name === 'nSamples')?.default, 25, 'the method\'s own defaults are kept');
});

test('panel parameters become the engine request: empty means default, granularity goes apart', () => {
  assert.deepEqual(textRequest('lime', { nSamples: 40, granularity: 'token', layer: '', baselineToken: null, seed: 3 }), {
    method: 'lime', params: { nSamples: 40, seed: 3 }, granularity: 'token',
  });
  assert.deepEqual(textRequest('layer-integrated-gradients', { granularity: 'word', baselineToken: '[MASK]' }), {
    method: 'layer-integrated-gradients', params: { baselineToken: '[MASK]' }, granularity: undefined,
  });
  assert.deepEqual(textRequest('feature-ablation', { granularity: 'sentence' }).granularity, undefined);
});
