// Module grouping for the Models view and the Python lookup behind Go to Source (vscode-free).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeName, buildModuleTree, countLayers, moduleSegments } from '../../src/extension/moduleTree';
import { findModuleDefinition } from '../../src/extension/sourceLocator';

test('module paths split the way PyTorch names children of a Sequential', () => {
  assert.deepEqual(moduleSegments('layer4.layer4.1.conv2'), ['layer4', 'layer4.1', 'conv2']);
  assert.deepEqual(moduleSegments('features.features.0.features.0.0'), ['features', 'features.0', 'features.0.0']);
  assert.deepEqual(moduleSegments(''), []);
  assert.deepEqual(moduleSegments('0.conv'), ['0', 'conv']);
  assert.equal(attributeName('layer4.1'), 'layer4');
  assert.equal(attributeName('conv2'), 'conv2');
  assert.equal(attributeName('0'), undefined);
});

test('layers group into a tree in graph order; layers without a module sit on the root', () => {
  const L = (name: string, module: string) => ({ name, module, op: 'Conv', dims: [1, 8, 4, 4] });
  const root = buildModuleTree([
    L('/conv1/Conv_output_0', 'conv1'),
    L('/layer1/layer1.0/conv1/Conv_output_0', 'layer1.layer1.0.conv1'),
    L('/layer1/layer1.0/conv2/Conv_output_0', 'layer1.layer1.0.conv2'),
    L('/layer1/layer1.1/conv1/Conv_output_0', 'layer1.layer1.1.conv1'),
    L('Gemm_0', ''),
  ]);
  assert.deepEqual(root.children.map((c) => c.segment), ['conv1', 'layer1']);
  assert.deepEqual(root.layers.map((l) => l.name), ['Gemm_0']);
  const layer1 = root.children[1];
  assert.deepEqual(layer1.children.map((c) => c.segment), ['layer1.0', 'layer1.1']);
  assert.deepEqual(layer1.children[0].children.map((c) => c.path), [['layer1', 'layer1.0', 'conv1'], ['layer1', 'layer1.0', 'conv2']]);
  assert.equal(countLayers(root), 5);
  assert.equal(countLayers(layer1), 3);
});

const RESNET = `class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes)
        self.conv2 = conv3x3(planes, planes)
        if self.conv2 == None:
            pass

class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7)
        self.layer4: nn.Sequential = self._make_layer(512)
`;
const OTHER = `class Other:
    def __init__(self):
        self.conv2 = 1
`;

test('Go to Source finds the deepest module defined in the workspace, preferring the file that defines the rest of the path', () => {
  const files = [{ path: 'other.py', text: OTHER }, { path: 'resnet.py', text: RESNET }];
  // conv2 is defined in both files; resnet.py also defines layer4, so it wins.
  assert.deepEqual(findModuleDefinition(['layer4', 'layer4.1', 'conv2'], files), { path: 'resnet.py', line: 4, column: 13, name: 'conv2' });
  // `layer4.1` is an item of self.layer4 (annotated assignment), found on its own line.
  assert.deepEqual(findModuleDefinition(['layer4', 'layer4.1'], files), { path: 'resnet.py', line: 12, column: 13, name: 'layer4' });
  // not `self.conv2 == None`; and nothing for a module no file defines
  assert.equal(findModuleDefinition(['classifier'], files), undefined);
  assert.deepEqual(findModuleDefinition(['nothere', 'conv1'], [{ path: 'resnet.py', text: RESNET }]), { path: 'resnet.py', line: 3, column: 13, name: 'conv1' });
});
