// An old-PyTorch export as users have them: torchvision's MobileNetV3-small written at opset 9
// (HardSwish as x·HardSigmoid(x), which is how torch exports it before opset 14), with dynamic
// batch axes and a Softmax output beside the logits. Its saliency must still be Captum's, and
// the Softmax output's gradient must match finite differences. The network and Captum's numbers
// come from ../shared/conformance (mobilenet_v3_small/saliency).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { readNpy } from '../../src/engine/inputs';
import { attr } from '../../src/engine/onnx/attributes';
import { OnnxModel } from '../../src/engine/onnx/model';
import { NodeProto, ValueInfoProto } from '../../src/engine/onnx/proto';
import { Tensor } from '../../src/engine/core/tensor';
import { sharedDir } from './shared';

const dir = sharedDir('conformance');

interface Case {
  id: string;
  model: string;
  inputs: Record<string, string>;
  target: number;
  expected: string;
  tolerance: number;
}

function caseById(id: string): Case {
  const cases = (JSON.parse(fs.readFileSync(path.join(dir!, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
  const c = cases.find((x) => x.id === id);
  assert.ok(c, `${id} is not in ${dir}/cases.json`);
  return c;
}

/** Rewrites an opset-17 torch export the way torch.onnx.export(opset_version=9, dynamic_axes=…) writes it. */
function asOpset9(m: OnnxModel, withSoftmax: boolean): OnnxModel {
  const g = m.graph;
  const nodes: NodeProto[] = [];
  for (const n of g.node) {
    if (n.opType !== 'HardSwish') {
      nodes.push(n);
      continue;
    }
    const hs = `${n.output[0]}/hardsigmoid`;
    nodes.push({ opType: 'HardSigmoid', domain: '', name: `${n.name}/HardSigmoid`, input: [n.input[0]], output: [hs], attribute: [{ ...attr.float(1 / 6), name: 'alpha' }, { ...attr.float(0.5), name: 'beta' }] });
    nodes.push({ opType: 'Mul', domain: '', name: `${n.name}/Mul`, input: [n.input[0], hs], output: [n.output[0]], attribute: [] });
  }
  const dynamic = (vi: ValueInfoProto): void => {
    const d0 = vi.type?.tensorType?.shape?.dim?.[0];
    if (d0) {
      d0.dimValue = undefined;
      d0.dimParam = 'batch_size';
    }
  };
  g.input.forEach(dynamic);
  g.output.forEach(dynamic);
  if (withSoftmax) {
    const logits = g.output[0].name!;
    nodes.push({ opType: 'Softmax', domain: '', name: '/softmax/Softmax', input: [logits], output: ['probabilities'], attribute: [{ ...attr.int(1), name: 'axis' }] });
    g.output.push({ name: 'probabilities', type: JSON.parse(JSON.stringify(g.output[0].type)) });
  }
  g.node = nodes;
  g.valueInfo = [];
  m.setOpset(9);
  m.proto.irVersion = 4;
  return OnnxModel.fromBytes(m.toBytes());
}

const c = dir ? caseById('mobilenet_v3_small/saliency') : undefined;

test('opset-9 torchvision MobileNetV3 with dynamic axes: saliency equals Captum', { skip: dir ? false : 'no ../shared/conformance' }, async () => {
  const m = asOpset9(OnnxModel.load(path.join(dir!, c!.model)), true);
  assert.equal(m.opset(''), 9);
  assert.ok(!m.graph.node.some((n) => n.opType === 'HardSwish'));
  const lm = await LoadedModel.fromModel(m);
  const x = readNpy(path.join(dir!, c!.inputs.input));
  const r = await attribute(lm, { input: x }, { method: 'saliency', output: 'logits', target: c!.target });
  const actual = r.attributions.input.data as Float32Array;
  const expected = readNpy(path.join(dir!, c!.expected)).data as Float32Array;
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  assert.ok(maxErr <= c!.tolerance * maxRef, `max |ours − Captum| = ${maxErr} > ${c!.tolerance} × ${maxRef}`);
});

test('opset-9 export ending in Softmax: predictions are its probabilities and the gradient of a probability matches finite differences', { skip: dir ? false : 'no ../shared/conformance' }, async () => {
  const m = asOpset9(OnnxModel.load(path.join(dir!, c!.model)), true);
  const lm = await LoadedModel.fromModel(m);
  const x = readNpy(path.join(dir!, c!.inputs.input)) as Tensor & { data: Float32Array };
  const out = await lm.forward({ input: x }, ['logits', 'probabilities']);
  const probs = out.probabilities.data as Float32Array;
  const r = await attribute(lm, { input: x }, { method: 'saliency', output: 'probabilities', params: { abs: false } });
  // predictions are the model's own probabilities, not a softmax of them
  const top = r.predictions[0];
  assert.ok(Math.abs(top.probability - probs[top.index]) < 1e-6, `shown ${top.probability}, model says ${probs[top.index]}`);
  const target = r.target;
  const grad = r.attributions.input.data as Float32Array;
  // central differences of the probability at the pixels with the largest gradients
  const order = Array.from(grad.keys()).sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a])).slice(0, 6);
  const h = 1e-2;
  for (const i of order) {
    const plus = Float32Array.from(x.data), minus = Float32Array.from(x.data);
    plus[i] += h;
    minus[i] -= h;
    const [fp, fm] = await Promise.all([plus, minus].map(async (d) => (await lm.forward({ input: { ...x, data: d } }, ['probabilities'])).probabilities.data[target] as number));
    const fd = (fp - fm) / (2 * h);
    assert.ok(Math.abs(fd - grad[i]) <= 0.05 * Math.abs(fd) + 1e-5, `pixel ${i}: gradient ${grad[i]} vs finite difference ${fd}`);
  }
});
