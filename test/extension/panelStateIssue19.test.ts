// The panel's cost rule for the Captum methods of issue 19, against the engine's real method list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMethods } from '../../src/engine';
import { isCheap, passes } from '../../src/extension/panel/panelState';

const info = (id: string) => {
  const m = listMethods().find((x) => x.id === id);
  assert.ok(m, `no method ${id}`);
  return m;
};

test('one-pass LRP and DeepLift variants re-run at once; per-feature ablations and exact Shapley values wait for Run', () => {
  for (const id of ['lrp', 'layer-lrp', 'layer-deeplift', 'neuron-deeplift', 'neuron-guided-backprop', 'neuron-deconvolution']) {
    assert.equal(passes(info(id), {}), 1, id);
    assert.ok(isCheap(info(id), {}), id);
  }
  // the gradient-shap variants cost their samples, conductance its steps
  assert.equal(passes(info('layer-gradient-shap'), {}), 5);
  assert.equal(passes(info('neuron-conductance'), { nSteps: 32 }), 32);
  assert.ok(!isCheap(info('neuron-conductance'), { nSteps: 100 }));
  // one model run per feature (or coalition): never run without being asked
  for (const id of ['layer-feature-ablation', 'layer-feature-permutation', 'neuron-feature-ablation', 'shapley-values']) {
    assert.equal(passes(info(id), {}), Infinity, id);
    assert.ok(!isCheap(info(id), {}), id);
  }
});
