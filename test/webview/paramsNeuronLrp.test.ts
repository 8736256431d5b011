import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMethods } from '../../src/engine/methods/registry';
import { parseParam } from '../../webview-ui/src/params';

// The panel's fields for the methods of issue 19, read from the engine's own specs.
const specOf = (method: string, name: string) => {
  const s = listMethods().find((m) => m.id === method)?.params.find((p) => p.name === name);
  assert.ok(s, `${method} has ${name}`);
  return s;
};

test("neuronSelector fields take Captum's tuple or a flat index", () => {
  for (const method of ['neuron-conductance', 'neuron-deeplift', 'neuron-guided-backprop', 'neuron-deconvolution', 'neuron-feature-ablation', 'neuron-gradient-shap', 'neuron-deeplift-shap']) {
    const sel = specOf(method, 'neuronSelector');
    assert.deepEqual(parseParam(sel, '2, 5, 5'), { value: [2, 5, 5] }, method);
    assert.deepEqual(parseParam(sel, '(0, 0, 0)'), { value: [0, 0, 0] }, 'index 0 is a neuron');
    assert.deepEqual(parseParam(sel, '17'), { value: [17] }, 'a flat index');
    assert.match(parseParam(sel, '').error ?? '', /neuronSelector is required/);
    assert.match(parseParam(sel, '2, -1').error ?? '', /whole numbers >= 0/);
  }
});

test("LRP's rules field takes a JSON object and reports anything else at the field", () => {
  for (const method of ['lrp', 'layer-lrp']) {
    const rules = specOf(method, 'rules');
    const text = '{"/conv1/Conv_output_0": "gamma"}';
    assert.deepEqual(parseParam(rules, text), { value: text });
    assert.deepEqual(parseParam(rules, ''), {}, 'empty: the default rules');
    assert.match(parseParam(rules, '{"/conv1/Conv_output_0": gamma}').error ?? '', /rules must be a JSON object/);
    assert.match(parseParam(rules, '["gamma"]').error ?? '', /rules must be a JSON object/);
  }
});
