// One display name per layer (src/shared/layerNames.ts): module paths from node and tensor names
// as exporters write them, unique names for a whole model, and the layers each method family takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modulePath } from '../../src/engine/model/inspect';
import {
  defaultCamLayer, isSpatialLayer, layerChoices, layerDisplayName, layerDisplayNames, layerModulePath, modulePathOf, tokenGrid, type LayerLike,
} from '../../src/shared/layerNames';

test('module paths from node names as torch, tf2onnx and Paddle write them', () => {
  assert.equal(modulePathOf('/features/conv2/Conv', 'Conv'), 'features.conv2');
  assert.equal(modulePathOf('/features/conv2/Conv_output_0', 'Conv'), 'features.conv2');
  // a Sequential's child repeats its parent: PyTorch's own name is layer4.1.conv2
  assert.equal(modulePathOf('/layer4/layer4.1/conv2/Conv', 'Conv'), 'layer4.1.conv2');
  assert.equal(modulePathOf('/features/features.1/block/block.0/block.0.0/Conv', 'Conv'), 'features.1.block.0.0');
  assert.equal(modulePathOf('/layer4/layer4.1/Add', 'Add'), 'layer4.1');
  assert.equal(modulePathOf('/layer4/layer4.1/relu_1/Relu', 'Relu'), 'layer4.1.relu_1');
  // tf2onnx: the function wrapper and the TensorFlow op at the end go (BiasAdd became an ONNX Add)
  assert.equal(modulePathOf('StatefulPartitionedCall/model/conv2d/BiasAdd', 'Add'), 'model.conv2d');
  assert.equal(modulePathOf('StatefulPartitionedCall/model/conv2d/BiasAdd:0', 'Add'), 'model.conv2d');
  assert.equal(modulePathOf('StatefulPartitionedCall/sequential/dense_1/MatMul:0', 'MatMul'), 'sequential.dense_1');
  // Paddle names tensors after the layer that made them
  assert.equal(modulePathOf('conv2d_53.tmp_0', 'Conv'), 'conv2d_53');
  assert.equal(modulePathOf('batch_norm_3.tmp_2', 'BatchNormalization'), 'batch_norm_3');
  // no module: a root op, a plain tensor name, paddle2onnx and torch-legacy node names
  assert.equal(modulePathOf('/Flatten_output_0', 'Flatten'), '');
  assert.equal(modulePathOf('logits', 'Gemm'), '');
  assert.equal(modulePathOf('p2o.Conv.3', 'Conv'), '');
  assert.equal(modulePathOf('onnx::Gemm_12', 'Gemm'), '');
  assert.equal(modulePathOf('input.4', 'Relu'), '');
  assert.equal(modulePathOf('123', 'Relu'), '');
});

test("from the engine's module path (node name parts joined by dots) the same names come out", () => {
  for (const [node, op, want] of [
    ['/features/conv2/Conv', 'Conv', 'features.conv2'],
    ['/layer4/layer4.1/conv2/Conv', 'Conv', 'layer4.1.conv2'],
    ['/features/features.1/block/block.0/block.0.0/Conv', 'Conv', 'features.1.block.0.0'],
    ['StatefulPartitionedCall/model/conv2d/BiasAdd', 'Add', 'model.conv2d'],
    ['/fc/Gemm', 'Gemm', 'fc'],
    ['p2o.Conv.3', 'Conv', ''],
  ] as const) {
    const module = modulePath(node, op);
    assert.equal(layerModulePath({ name: 'whatever', module, op, dims: [1] }), want, `${node} (engine: '${module}')`);
  }
  // Paddle: the engine's module is paddle2onnx's node name; the tensor name has the layer
  assert.equal(layerModulePath({ name: 'conv2d_53.tmp_0', module: modulePath('p2o.Conv.3', 'Conv'), op: 'Conv', dims: [1] }), 'conv2d_53');
});

/** The shapes sample as inspectModel lists it. */
const SHAPES: LayerLike[] = [
  { name: '/features/conv1/Conv_output_0', module: 'features.conv1', op: 'Conv', dims: [1, 4, 64, 64] },
  { name: '/features/relu1/Relu_output_0', module: 'features.relu1', op: 'Relu', dims: [1, 4, 64, 64] },
  { name: '/features/pool1/MaxPool_output_0', module: 'features.pool1', op: 'MaxPool', dims: [1, 4, 32, 32] },
  { name: '/features/conv2/Conv_output_0', module: 'features.conv2', op: 'Conv', dims: [1, 8, 32, 32] },
  { name: '/features/relu2/Relu_output_0', module: 'features.relu2', op: 'Relu', dims: [1, 8, 32, 32] },
  { name: '/avgpool/GlobalAveragePool_output_0', module: 'avgpool', op: 'GlobalAveragePool', dims: [1, 8, 1, 1] },
  { name: '/Flatten_output_0', module: '', op: 'Flatten', dims: [1, 8] },
  { name: 'logits', module: 'classifier.fc', op: 'Gemm', dims: [1, 4] },
];

test('display names of a whole model: module path, unique, the op only where it tells layers apart', () => {
  const names = layerDisplayNames(SHAPES);
  assert.deepEqual([...names.values()], [
    'features.conv1', 'features.relu1', 'features.pool1', 'features.conv2', 'features.relu2', 'avgpool', 'Flatten', 'classifier.fc',
  ]);
  // the panel's summary and the tree say the same for the same tensor
  assert.equal(layerDisplayName('/features/conv2/Conv_output_0', SHAPES), 'features.conv2');
  // without the layer list the tensor name alone still gives the module path
  assert.equal(layerDisplayName('/features/conv2/Conv_output_0'), 'features.conv2');
  assert.equal(layerDisplayName('logits'), 'logits');

  // several tensors of one module: the op is added; when the op repeats too, the node's suffix
  const block: LayerLike[] = [
    { name: '/layer4/layer4.1/conv2/Conv_output_0', module: 'layer4.layer4.1.conv2', op: 'Conv', dims: [1, 512, 7, 7] },
    { name: '/layer4/layer4.1/Add_output_0', module: 'layer4.layer4.1', op: 'Add', dims: [1, 512, 7, 7] },
    { name: '/layer4/layer4.1/Reshape_output_0', module: 'layer4.layer4.1', op: 'Reshape', dims: [1, 512, 49] },
    { name: '/layer4/layer4.1/Reshape_1_output_0', module: 'layer4.layer4.1', op: 'Reshape', dims: [1, 49, 512] },
  ];
  assert.deepEqual([...layerDisplayNames(block).values()], [
    'layer4.1.conv2', 'layer4.1 · Add', 'layer4.1 · Reshape', 'layer4.1 · Reshape_1',
  ]);
  const all = [...layerDisplayNames([...SHAPES, ...block]).values()];
  assert.equal(new Set(all).size, all.length, 'names are unique');
});

test('CAM pickers offer only spatial layers and name the default the engine would use', () => {
  const cam = layerChoices('cam', SHAPES);
  assert.deepEqual(cam.layers.map((l) => l.name), SHAPES.slice(0, 5).map((l) => l.name), '1×1 pooled maps and flat layers are left out');
  assert.equal(cam.defaultLayer, '/features/relu2/Relu_output_0');
  // layer methods take every layer; neuron methods need an axis besides the batch
  assert.equal(layerChoices('layer', SHAPES).layers.length, SHAPES.length);
  assert.equal(layerChoices('layer', SHAPES).defaultLayer, undefined);
  assert.deepEqual(layerChoices('neuron', [...SHAPES, { name: 'score', op: 'ReduceSum', dims: [1] }]).layers.length, SHAPES.length);

  // a 7×1 map is not a grid a CAM can draw; batch ≠ 1 (attention heads) is not a layer of one image
  assert.equal(isSpatialLayer({ name: 'a', op: 'Conv', dims: [1, 8, 7, 1] }), false);
  assert.equal(isSpatialLayer({ name: 'a', op: 'Conv', dims: [2, 8, 7, 7] }), false);
  // ViT tokens: 1 + 14·14 with a class token, 49 without; 50 folds to no grid
  assert.equal(isSpatialLayer({ name: 't', op: 'Add', dims: [1, 197, 768] }), true);
  assert.equal(isSpatialLayer({ name: 't', op: 'Add', dims: [1, 49, 768] }), true);
  assert.equal(isSpatialLayer({ name: 't', op: 'Add', dims: [1, 51, 768] }), false);

  // a ViT: the patch Conv, token layers, the last attention Softmax; the default is the last
  // token layer before that Softmax (after it only the class token reaches the output)
  const vit: LayerLike[] = [
    { name: 'patch', op: 'Conv', dims: [1, 768, 14, 14] },
    { name: 'ln_10', op: 'LayerNormalization', dims: [1, 197, 768] },
    { name: 'ln_11', op: 'LayerNormalization', dims: [1, 197, 768] },
    { name: 'attn', op: 'Softmax', dims: [12, 197, 197] },
    { name: 'out_11', op: 'Add', dims: [1, 197, 768] },
    { name: 'cls', op: 'Gather', dims: [1, 768] },
  ];
  assert.equal(defaultCamLayer(vit), 'ln_11');
  assert.deepEqual(layerChoices('cam', vit).layers.map((l) => l.name), ['patch', 'ln_10', 'ln_11', 'out_11']);
  assert.equal(defaultCamLayer([{ name: 'x', op: 'Gemm', dims: [1, 4] }]), undefined);
});

test('token counts fold onto square patch grids, a class token first when the count is one over a square', () => {
  assert.deepEqual(tokenGrid(197), { h: 14, w: 14, cls: 1 }); // ViT-B/16 at 224²
  assert.deepEqual(tokenGrid(196), { h: 14, w: 14, cls: 0 }); // no class token (e.g. a Swin stage)
  assert.deepEqual(tokenGrid(50), { h: 7, w: 7, cls: 1 });
  assert.deepEqual(tokenGrid(5), { h: 2, w: 2, cls: 1 });
  assert.deepEqual(tokenGrid(4), { h: 2, w: 2, cls: 0 });
  for (const t of [0, 1, 2, 3, 6, 198, 768]) assert.equal(tokenGrid(t), undefined, `tokens ${t}`);
});
