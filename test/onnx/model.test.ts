// The protobuf model layer: decode → encode round trips that onnxruntime runs identically,
// zero-copy initializers, clone/constantValue, and the errors for broken graphs and non-models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../../src/engine/core/errors';
import { readNpy } from '../../src/engine/inputs/npy';
import { valueInfo } from '../../src/engine/onnx/builder';
import { OnnxModel, topoOrder } from '../../src/engine/onnx/model';
import { ModelProto, decodeModel, encodeModel, encodeTensor } from '../../src/engine/onnx/proto';
import { Tensor } from '../../src/engine/core/tensor';
import { CONF, RESNET, buildModel, confAbsent, f32, runBytes, sharedAbsent, tmpDir } from './helpers';

interface Case { model: string; inputs: Record<string, string> }

function conformanceInputs(): Map<string, Record<string, Tensor>> {
  const out = new Map<string, Record<string, Tensor>>();
  if (confAbsent) return out;
  const cases = (JSON.parse(fs.readFileSync(path.join(CONF, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
  for (const c of cases) {
    if (out.has(c.model)) continue;
    const feeds: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(c.inputs)) feeds[k] = readNpy(path.join(CONF, v));
    out.set(c.model, feeds);
  }
  return out;
}

async function assertRoundTrip(file: string, feeds: Record<string, Tensor>): Promise<void> {
  const original = fs.readFileSync(file);
  const m = OnnxModel.load(file);
  // What the engine hands onnxruntime, and a plain protobuf decode → encode of the file.
  const encodings = { toBytes: m.toBytes(), protobuf: encodeModel(decodeModel(original)) };
  const a = await runBytes(original, feeds);
  for (const [how, again] of Object.entries(encodings)) {
    const decoded = decodeModel(again);
    assert.equal(decoded.graph!.node.length, m.graph.node.length);
    assert.equal(decoded.graph!.initializer.length, m.graph.initializer.length);
    const b = await runBytes(again, feeds);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    for (const k of Object.keys(a)) {
      const where = `${path.basename(file)} ${k} (${how})`;
      assert.deepEqual(b[k].dims, a[k].dims, `${where} dims`);
      assert.deepEqual(Array.from(b[k].data as ArrayLike<number>), Array.from(a[k].data as ArrayLike<number>), `${where} values`);
    }
  }
}

test('every conformance model survives decode → encode with identical onnxruntime outputs', { skip: confAbsent }, async () => {
  const inputs = conformanceInputs();
  const files = fs.readdirSync(path.join(CONF, 'models')).filter((f) => f.endsWith('.onnx'));
  assert.ok(files.length >= 6, `expected the six conformance models, found ${files.length}`);
  for (const f of files) {
    const feeds = inputs.get(`models/${f}`);
    assert.ok(feeds, `no case feeds ${f}`);
    await assertRoundTrip(path.join(CONF, 'models', f), feeds);
  }
});

test('ResNet-18 survives decode → encode with identical outputs', { skip: sharedAbsent(RESNET) }, async () => {
  const x = f32([1, 3, 224, 224], (i) => Math.sin(i * 0.001) * 2);
  await assertRoundTrip(RESNET, { input: x });
});

test('initializers of a model decoded from a Buffer are views into that Buffer', { skip: confAbsent }, () => {
  const file = path.join(CONF, 'models', 'tiny_cnn.onnx');
  const bytes = fs.readFileSync(file);
  const m = OnnxModel.fromBytes(bytes, file);
  const inits = m.graph.initializer.filter((t) => t.rawData && t.rawData.length > 0);
  assert.ok(inits.length >= 4);
  for (const t of inits) {
    assert.equal(t.rawData!.buffer, bytes.buffer, `${t.name} was copied`);
    // The view points at the same bytes the file holds.
    const at = bytes.indexOf(Buffer.from(t.rawData!.buffer, t.rawData!.byteOffset, Math.min(16, t.rawData!.length)));
    assert.equal(bytes.byteOffset + at, t.rawData!.byteOffset);
  }
  // load() also keeps one buffer: every initializer shares the buffer of the whole file.
  const loaded = OnnxModel.load(file);
  const buffers = new Set(loaded.graph.initializer.map((t) => t.rawData!.buffer));
  assert.equal(buffers.size, 1);
  assert.ok([...buffers][0].byteLength >= bytes.length);
});

test('clone shares initializer bytes but not the node list; constantValue reads initializers and Constant nodes', async () => {
  const m = buildModel(17, [2], (b, x) => {
    const c = b.f32([10, 20]);
    b.add('Constant', [], { value: { type: 4, t: { name: 'k', dims: [2], dataType: 1, rawData: new Uint8Array(Float32Array.from([1, 2]).buffer) } } }, ['k']);
    return [b.op('Add', [b.op('Mul', [x, c]), 'k'])];
  });
  const c = m.clone();
  c.graph.node.push({ opType: 'Relu', input: ['x'], output: ['extra'] });
  const mul = c.graph.node.findIndex((n) => n.opType === 'Mul');
  c.graph.node[mul].input[0] = 'changed';
  assert.equal(m.graph.node.length, 3);
  assert.equal(m.graph.node[mul].input[0], 'x');
  assert.equal(c.graph.initializer[0].rawData, m.graph.initializer[0].rawData);
  const init = m.constantValue(m.graph.initializer[0].name!)!;
  assert.deepEqual(Array.from(init.data as Float32Array), [10, 20]);
  assert.deepEqual(Array.from(m.constantValue('k')!.data as Float32Array), [1, 2]);
  assert.equal(m.constantValue('x'), undefined);
  const r = await runBytes(m.toBytes(), { x: f32([2], [3, 4]) });
  assert.deepEqual(Array.from(r[m.graph.output[0].name!].data as Float32Array), [31, 82]);
});

test('constantValue of a model loaded from a file reads its own bytes, not the start of the file', async () => {
  const m = buildModel(17, [2, 3], (b, x) => {
    b.add('Constant', [], { value: { type: 4, t: { name: 'k', dims: [2], dataType: 7, rawData: new Uint8Array(BigInt64Array.from([3n, 2n]).buffer) } } }, ['k']);
    return [b.op('Add', [b.reshape(x, 'k'), b.f32([0.5, -1.5])])];
  });
  const file = path.join(tmpDir(), 'consts.onnx');
  fs.writeFileSync(file, m.toBytes());
  const loaded = OnnxModel.load(file);
  assert.deepEqual(Array.from(loaded.constantValue('k')!.data as BigInt64Array), [3n, 2n]);
  const f = loaded.graph.initializer.find((t) => t.dataType === 1)!;
  assert.ok(f.rawData!.byteOffset > 0, 'the initializer sits inside the file buffer');
  assert.deepEqual(Array.from(loaded.constantValue(f.name!)!.data as Float32Array), [0.5, -1.5]);
});

test('constantValue of conformance initializers equals the bytes stored for them', { skip: confAbsent }, () => {
  const m = OnnxModel.load(path.join(CONF, 'models', 'tiny_cnn.onnx'));
  for (const t of m.graph.initializer) {
    const expected = new Float32Array(Uint8Array.from(t.rawData!).buffer);
    assert.deepEqual(Array.from(m.constantValue(t.name!)!.data as Float32Array), Array.from(expected), t.name);
  }
  const vit = OnnxModel.load(path.join(CONF, 'models', 'tiny_vit.onnx'));
  // The patch-embedding Reshape of torchvision's ViT: (1, hidden, tokens).
  assert.deepEqual(Array.from(vit.constantValue('/Constant_1_output_0')!.data as BigInt64Array), [1n, 32n, 16n]);
});

function proto(nodes: ModelProto['graph'] extends infer G ? G extends { node: infer N } ? N : never : never, output: string): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: nodes, input: [valueInfo('x', 1, [2])], output: [valueInfo(output, 1, [2])], initializer: [], valueInfo: [] },
  });
}

function throwsUser(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AttrLensError, `not an AttrLensError: ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'message has several lines');
    return true;
  });
}

test('a cycle is refused with a message mentioning the cycle', () => {
  const bytes = proto(
    [
      { opType: 'Add', name: 'add_a', input: ['x', 'c'], output: ['a'] },
      { opType: 'Relu', name: 'relu_c', input: ['a'], output: ['c'] },
    ],
    'c',
  );
  throwsUser(() => OnnxModel.fromBytes(bytes, '/tmp/cyclic.onnx'), /cyclic\.onnx.*cycle/);
  throwsUser(() => topoOrder(decodeModel(bytes).graph as never, 'm'), /cycle through node '(add_a|relu_c)'/);
});

test('a node reading a tensor nothing produces is refused, naming the tensor', () => {
  const bytes = proto([{ opType: 'Add', name: 'adder', input: ['x', 'ghost_tensor'], output: ['y'] }], 'y');
  throwsUser(() => OnnxModel.fromBytes(bytes, 'broken.onnx'), /broken\.onnx.*'adder'.*'ghost_tensor'/);
  const dangling = proto([{ opType: 'Relu', name: 'r', input: ['x'], output: ['y'] }], 'nowhere');
  throwsUser(() => OnnxModel.fromBytes(dangling, 'broken.onnx'), /output 'nowhere'/);
});

test('topoOrder sorts nodes listed out of order', () => {
  const bytes = proto(
    [
      { opType: 'Relu', name: 'second', input: ['a'], output: ['y'] },
      { opType: 'Neg', name: 'first', input: ['x'], output: ['a'] },
    ],
    'y',
  );
  assert.deepEqual(topoOrder(decodeModel(bytes).graph as never).map((n) => n.name), ['first', 'second']);
});

test('files that are not ONNX models give one-line errors naming the file', { skip: confAbsent }, () => {
  const dir = tmpDir();
  const write = (name: string, data: Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return p;
  };
  const tiny = fs.readFileSync(path.join(CONF, 'models', 'tiny_cnn.onnx'));
  let seed = 12345;
  const random = Buffer.alloc(4096);
  for (let i = 0; i < random.length; i++) random[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201e5273ede0000000049454e44ae426082', 'hex');
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty.onnx', new Uint8Array(0), /empty\.onnx is empty/],
    ['random.onnx', random, /random\.onnx is not an ONNX model/],
    ['picture.onnx', png, /picture\.onnx is not an ONNX model/],
    ['truncated.onnx', tiny.subarray(0, tiny.length >> 1), /truncated\.onnx is not an ONNX model/],
  ];
  for (const [name, data, pattern] of cases) throwsUser(() => OnnxModel.load(write(name, data)), pattern);
  throwsUser(() => OnnxModel.load(path.join(dir, 'absent.onnx')), /absent\.onnx.*no such file/);
  throwsUser(() => OnnxModel.load(dir), /is not a file/);
});

test('protobuf that is not a model (a TensorProto, a graph without nodes) is refused', () => {
  const tensor = encodeTensor({ name: 't', dims: [2], dataType: 1, rawData: new Uint8Array(8) });
  throwsUser(() => OnnxModel.fromBytes(tensor, 'weights.pb'), /weights\.pb is not an ONNX model/);
  const noNodes = encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'g', node: [], input: [], output: [], initializer: [], valueInfo: [] } });
  throwsUser(() => OnnxModel.fromBytes(noNodes, 'hollow.onnx'), /hollow\.onnx is not an ONNX model \(no graph, nodes, outputs or opset inside\)/);
});
