// What the host fills in for parameters left unset: occlusion's window from the image size, a
// required layer, the neuron the engine proposes, exact Shapley values' patches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MethodInfo } from '../../src/engine';
import { engineParams, neuronToPropose, withSuggestedDefaults } from '../../src/extension/paramDefaults';

const occlusion: MethodInfo = {
  id: 'occlusion', captumName: 'Occlusion', family: 'perturbation', description: '', needsGradients: false,
  params: [
    { name: 'slidingWindowShapes', kind: 'shape', required: true, description: '' },
    { name: 'strides', kind: 'shape', description: '' },
  ],
};

test('a window of 1/8 of each side over all channels, moved by half a window', () => {
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 3, 224, 224]), { slidingWindowShapes: [3, 28, 28], strides: [3, 14, 14] });
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 3, 64, 60]), { slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] });
  // NHWC keeps channels last
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 32, 32, 3]), { slidingWindowShapes: [4, 4, 3], strides: [2, 2, 3] });
});

test('values the user set are kept, and nothing is invented for other inputs or methods', () => {
  assert.deepEqual(withSuggestedDefaults(occlusion, { slidingWindowShapes: [3, 5, 5] }, [1, 3, 64, 64]), { slidingWindowShapes: [3, 5, 5] });
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 'seq']), {});
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 3, null, 64]), {});
  const saliency: MethodInfo = { ...occlusion, id: 'saliency', params: [{ name: 'abs', kind: 'boolean', default: true, description: '' }] };
  assert.deepEqual(withSuggestedDefaults(saliency, {}, [1, 3, 64, 64]), {});
});

// the shapes sample's layers, as inspectModel lists them
const LAYERS = [
  { name: '/features/conv1/Conv_output_0', module: 'features.conv1', op: 'Conv', dims: [1, 4, 64, 64] },
  { name: '/features/relu2/Relu_output_0', module: 'features.relu2', op: 'Relu', dims: [1, 8, 32, 32] },
  { name: '/avgpool/GlobalAveragePool_output_0', module: 'avgpool', op: 'GlobalAveragePool', dims: [1, 8, 1, 1] },
  { name: 'logits', module: 'classifier.fc', op: 'Gemm', dims: [1, 4] },
];
const layerParam = { name: 'layer', kind: 'layer' as const, description: '' };
const method = (id: string, family: MethodInfo['family'], params: MethodInfo['params']): MethodInfo => ({ id, captumName: id, family, description: '', needsGradients: true, params });
const conductance = method('layer-conductance', 'layer', [{ ...layerParam, required: true }]);
const gradcam = method('gradcam', 'cam', [layerParam]);
const neuron = method('neuron-gradient', 'neuron', [
  { ...layerParam, required: true }, { name: 'neuronSelector', kind: 'shape', min: 0, required: true, description: '' },
  { name: 'attributeToNeuronInput', kind: 'boolean', default: false, description: '' },
]);

test('a required layer left unset is the last spatial layer the picker offers (else its last); a CAM layer stays the method default', () => {
  assert.deepEqual(withSuggestedDefaults(conductance, {}, [1, 3, 64, 64], { layers: LAYERS }), { layer: LAYERS[1].name });
  // a model without spatial layers: the last one offered
  assert.deepEqual(withSuggestedDefaults(conductance, {}, [1, 3, 64, 64], { layers: [LAYERS[3]] }), { layer: 'logits' });
  assert.deepEqual(withSuggestedDefaults(conductance, { layer: LAYERS[1].name }, [1, 3, 64, 64], { layers: LAYERS }), { layer: LAYERS[1].name });
  assert.deepEqual(withSuggestedDefaults(gradcam, {}, [1, 3, 64, 64], { layers: LAYERS }), {});
  // without the model's layers nothing is invented
  assert.deepEqual(withSuggestedDefaults(conductance, {}, [1, 3, 64, 64]), {});
});

test("a neuron method gets the host's proposal for its layer; the user's own selector stays", () => {
  const asked: Array<[string, boolean]> = [];
  const neuronOf = (layer: string, toInput: boolean, current: unknown) => {
    asked.push([layer, toInput]);
    return (current as number[] | undefined) ?? (layer === LAYERS[1].name && !toInput ? [5, 3, 7] : undefined);
  };
  assert.deepEqual(neuronToPropose(neuron, withSuggestedDefaults(neuron, {}, [1, 3, 64, 64], { layers: LAYERS })), { layer: LAYERS[1].name, toInput: false });
  assert.deepEqual(withSuggestedDefaults(neuron, {}, [1, 3, 64, 64], { layers: LAYERS, neuron: neuronOf }), { layer: LAYERS[1].name, neuronSelector: [5, 3, 7] });
  assert.deepEqual(withSuggestedDefaults(neuron, { layer: LAYERS[1].name, neuronSelector: [3, 1, 2] }, [1, 3, 64, 64], { layers: LAYERS, neuron: neuronOf }), { layer: LAYERS[1].name, neuronSelector: [3, 1, 2] });
  // not computed yet: left unset, and that is what the host asks the engine for
  const open = withSuggestedDefaults(neuron, { layer: LAYERS[1].name, attributeToNeuronInput: true }, [1, 3, 64, 64], { layers: LAYERS, neuron: neuronOf });
  assert.deepEqual(open, { layer: LAYERS[1].name, attributeToNeuronInput: true });
  assert.deepEqual(neuronToPropose(neuron, open), { layer: LAYERS[1].name, toInput: true });
  assert.deepEqual(asked.slice(-1), [[LAYERS[1].name, true]]);
  assert.equal(neuronToPropose(neuron, { layer: 'logits', neuronSelector: [1] }), undefined);
  assert.equal(neuronToPropose(conductance, { layer: 'logits' }), undefined);
});

test('exact Shapley values get 4×4 patches: one feature per element would be 2^12288 runs', () => {
  const shapley = method('shapley-values', 'perturbation', [{ name: 'featureMask', kind: 'tensor', description: '' }]);
  assert.deepEqual(withSuggestedDefaults(shapley, {}, [1, 3, 64, 64]), { featureMask: 'grid 4x4' });
  assert.deepEqual(withSuggestedDefaults(shapley, { featureMask: 'mask.npy' }, [1, 3, 64, 64]), { featureMask: 'mask.npy' });
  assert.deepEqual(withSuggestedDefaults({ ...shapley, id: 'lime' }, {}, [1, 3, 64, 64]), {});
});

test('engine parameters: null and empty text mean the default', () => {
  assert.deepEqual(engineParams({ a: null, b: '', c: 0, d: false, e: [1] }), { c: 0, d: false, e: [1] });
});
