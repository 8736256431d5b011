// inspectModel on the conformance models, checked against our own reading of the decoded
// graph and the CAM layers the cases use; module paths from node names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { inspectModel, modulePath } from '../../src/engine/model/inspect';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { decodeModel, num } from '../../src/engine/onnx/proto';
import { CONF, RESNET, confAbsent, sharedAbsent } from '../onnx/helpers';
import { convNet } from './models';

interface Case { model: string; method: string; params: { layer?: string } }

const cases: Case[] = confAbsent ? [] : (JSON.parse(fs.readFileSync(path.join(CONF, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
const models = [...new Set(cases.map((c) => c.model))];
const ELEM: Record<number, string> = { 1: 'float32', 7: 'int64' };

for (const rel of models.length ? models : ['(conformance data absent)']) {
  test(`inspectModel on ${rel}`, { skip: confAbsent }, async () => {
    const file = path.join(CONF, rel);
    const raw = decodeModel(fs.readFileSync(file));
    const g = raw.graph!;
    const info = await inspectModel(file);
    assert.equal(info.file, path.resolve(file));
    // I/O as declared in the file, read independently of the engine.
    const inits = new Set(g.initializer.map((t) => t.name));
    const declared = (vi: (typeof g.input)[number]) => ({
      name: vi.name,
      dtype: ELEM[vi.type!.tensorType!.elemType!],
      dims: vi.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))),
    });
    assert.deepEqual(info.inputs.map((i) => ({ name: i.name, dtype: i.dtype, dims: i.dims })), g.input.filter((i) => !inits.has(i.name)).map(declared));
    assert.deepEqual(info.outputs.map((i) => ({ name: i.name, dtype: i.dtype, dims: i.dims })), g.output.map(declared));
    assert.equal(info.inputs[0].dims[0], 1, 'conformance models have a fixed batch of 1');
    assert.equal(info.opset, num(raw.opsetImport.find((o) => !o.domain)!.version));
    assert.equal(info.irVersion, num(raw.irVersion));
    const counts: Record<string, number> = {};
    for (const n of g.node) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
    assert.deepEqual(info.opCounts, counts);
    // Every layer a case hooks is offered, with the dims of batch 1.
    const layers = new Map(info.layers.map((l) => [l.name, l]));
    for (const c of cases.filter((x) => x.model === rel && x.params.layer)) {
      const l = layers.get(c.params.layer!);
      assert.ok(l, `${c.params.layer} missing from layers of ${rel}`);
      assert.equal(l.dims[0], 1);
      assert.ok(l.dims.length >= 2);
    }
    // Layers are exactly the float outputs of nodes, never initializers.
    for (const l of info.layers) assert.ok(!inits.has(l.name));
    // torchvision's ViT folds the batch into its attention heads (Reshape to [17, N·heads, 16]),
    // which no rewrite repairs: it stays at batch 1. The CNNs and the text model batch.
    assert.equal(info.batchable, !rel.includes('tiny_vit'), `${rel} batchable`);
    const floatInput = info.inputs.every((i) => i.dtype === 'float32');
    if (floatInput) assert.equal(info.gradients.supported, true, `${rel}: ${info.gradients.message}`);
    else assert.equal(info.gradients.supported, false);
  });
}

test('inspectModel on ResNet-18: I/O, op counts, layer4 with module paths, gradients', { skip: sharedAbsent(RESNET) }, async () => {
  const info = await inspectModel(RESNET);
  assert.deepEqual(info.inputs.map((i) => [i.name, i.dtype, i.dims]), [['input', 'float32', [1, 3, 224, 224]]]);
  assert.deepEqual(info.outputs.map((i) => [i.name, i.dtype, i.dims]), [['logits', 'float32', [1, 1000]]]);
  assert.equal(info.opset, 17);
  // torchvision ResNet-18: 20 convolutions (17 + 3 downsample), 17 ReLUs, 8 residual adds.
  assert.deepEqual(info.opCounts, { Conv: 20, Relu: 17, MaxPool: 1, Add: 8, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });
  const conv2 = info.layers.find((l) => l.name === '/layer4/layer4.1/conv2/Conv_output_0');
  assert.ok(conv2);
  assert.equal(conv2.module, 'layer4.layer4.1.conv2');
  assert.deepEqual(conv2.dims, [1, 512, 7, 7]);
  assert.deepEqual(info.layers.find((l) => l.name === '/layer1/layer1.0/relu/Relu_output_0')?.dims, [1, 64, 56, 56]);
  assert.equal(info.batchable, true);
  assert.equal(info.gradients.supported, true, info.gradients.message);
});

test('CAM layers of tiny_cnn: shape and module path', { skip: confAbsent }, async () => {
  const info = await inspectModel(path.join(CONF, 'models', 'tiny_cnn.onnx'));
  const relu2 = info.layers.find((l) => l.name === '/relu2/Relu_output_0');
  assert.ok(relu2);
  assert.equal(relu2.op, 'Relu');
  assert.equal(relu2.module, 'relu2');
  assert.deepEqual(relu2.dims.slice(0, 2), [1, 16]);
  assert.equal(info.inputs[0].name, 'input');
  assert.deepEqual(info.inputs[0].dims, [1, 3, 32, 32]);
});

test('module paths come from node names', () => {
  assert.equal(modulePath('/layer4/layer4.1/conv2/Conv', 'Conv'), 'layer4.layer4.1.conv2');
  assert.equal(modulePath('/features/features.12/features.12.2/HardSwish', 'HardSwish'), 'features.features.12.features.12.2');
  assert.equal(modulePath('/relu2/Relu', 'Relu'), 'relu2');
  assert.equal(modulePath('/embedding/Gather_1', 'Gather'), 'embedding');
  assert.equal(modulePath('/Flatten', 'Flatten'), '');
  assert.equal(modulePath(undefined, 'Relu'), '');
  assert.equal(modulePath('my_custom_node', 'Add'), 'my_custom_node');
});

test('inspectModel of a built model: module paths of its layers and batch 1 dims', async () => {
  const lm = await LoadedModel.fromModel(convNet());
  // Node names as torch.onnx.export writes them.
  lm.model.graph.node[0].name = '/block/conv/Conv';
  lm.model.graph.node[1].name = '/block/act/Relu';
  const info = await inspectModel(lm);
  const conv = info.layers.find((l) => l.name === '/block/conv/Conv_output_0')!;
  assert.equal(conv.module, 'block.conv');
  assert.deepEqual(conv.dims, [1, 2, 2, 2]);
  assert.equal(info.layers.find((l) => l.op === 'Relu')!.module, 'block.act');
  assert.deepEqual(info.opCounts, { Conv: 1, Relu: 1, Flatten: 1, Gemm: 1 });
  assert.equal(info.gradients.supported, true);
  assert.equal(info.labels, undefined);
});
