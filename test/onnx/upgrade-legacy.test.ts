// upgradeOpset from opsets 7-10: every adapter on a small model built at the old opset, whose
// upgraded form must give onnxruntime's outputs for the original (which it runs natively) on
// random inputs; and every refusal as one line naming the node, its op and the way out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrLensError } from '../../src/engine/core/errors';
import { runGradients } from '../../src/engine/gradients/run';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder, valueInfo } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { reexportAdvice } from '../../src/engine/onnx/origin';
import { AttrType, num } from '../../src/engine/onnx/proto';
import { GRADIENT_OPSET, upgradeOpset } from '../../src/engine/onnx/upgrade';
import { Tensor } from '../../src/engine/core/tensor';
import { rng } from '../autodiff/fd';
import { buildModel, close, runBytes } from './helpers';

function random(dims: number[], seed: string, lo = -2, hi = 2): Tensor {
  const r = rng(seed);
  const n = dims.reduce((a, c) => a * c, 1);
  return { dtype: 'float32', dims, data: Float32Array.from({ length: n }, () => lo + (hi - lo) * r()) };
}

// Attributes that must be gone after the upgrade (they became inputs or lost their meaning).
const STALE: Record<string, string[]> = {
  Slice: ['starts', 'ends', 'axes'], Pad: ['pads', 'value'], Clip: ['min', 'max'], TopK: ['k'], Dropout: ['ratio', 'is_test'],
  Squeeze: ['axes'], Unsqueeze: ['axes'], ReduceSum: ['axes'], Split: ['split'], BatchNormalization: ['spatial', 'is_test', 'consumed_inputs'],
};

/** Declares graph outputs `names` as int64 (buildModel declares float). */
function int64Outputs(m: OnnxModel, names: string[]): OnnxModel {
  for (const o of m.graph.output) if (names.includes(o.name!)) o.type!.tensorType!.elemType = 7;
  return m;
}

/** Runs `m` and its upgrade on the same feeds; every output must agree and no stale form remain. */
async function sameAfterUpgrade(m: OnnxModel, feeds: Record<string, Tensor>, tol = 1e-6): Promise<OnnxModel> {
  const outs = m.graph.output.map((o) => o.name!);
  const before = await runBytes(m.toBytes(), feeds);
  const up = upgradeOpset(m.clone());
  assert.equal(up.opset(), GRADIENT_OPSET);
  assert.ok(num(up.proto.irVersion) >= 8);
  for (const n of up.graph.node) {
    assert.ok(!['Upsample', 'Scatter'].includes(n.opType), `${n.opType} left in the upgraded graph`);
    for (const a of STALE[n.opType] ?? []) assert.ok(!n.attribute?.some((x) => x.name === a), `${n.opType} still has '${a}'`);
  }
  const after = await runBytes(up.toBytes(), feeds);
  for (const o of outs) {
    assert.deepEqual(after[o].dims, before[o].dims, o);
    close(Array.from(after[o].data as ArrayLike<number>, Number), Array.from(before[o].data as ArrayLike<number>, Number), tol);
  }
  return up;
}

test('opset 7: Upsample (scales attribute, nearest and linear) becomes Resize with the same values', async () => {
  const m = buildModel(7, [1, 2, 3, 4], (b, x) => [
    b.op('Upsample', [x], { scales: attr.floats([1, 1, 2, 3]) }),
    b.op('Upsample', [x], { scales: attr.floats([1, 1, 2, 2]), mode: attr.str('linear') }),
    b.op('Upsample', [x], { scales: attr.floats([1, 1, 1.5, 2.5]), mode: attr.str('nearest') }),
    b.op('Upsample', [x], { scales: attr.floats([1, 1, 1.5, 2.5]), mode: attr.str('linear') }),
    b.op('Upsample', [x], { scales: attr.floats([1, 1, 2, 1.5]), mode: attr.str('cubic') }), // onnxruntime's extension
  ]);
  const up = await sameAfterUpgrade(m, { x: random([1, 2, 3, 4], 'ups7') });
  const r = up.graph.node.filter((n) => n.opType === 'Resize');
  assert.equal(r.length, 5);
});

test('opset 9: Upsample with a scales input, inside an If branch too', async () => {
  const branch = (name: string, mode: string) => ({
    name,
    node: [{ opType: 'Upsample', name: `${name}_up`, input: ['x', 'scales9'], output: [`${name}_y`], attribute: [{ name: 'mode', type: AttrType.STRING, s: new TextEncoder().encode(mode) }] }],
    input: [], output: [{ name: `${name}_y`, type: { tensorType: { elemType: 1 } } }], initializer: [], valueInfo: [],
  });
  const m = buildModel(9, [1, 1, 3, 3], (b, x) => {
    b.model.graph.initializer.push({ name: 'scales9', dims: [4], dataType: 1, floatData: [1, 1, 2, 2] });
    const direct = b.op('Upsample', [x, 'scales9'], { mode: attr.str('linear') });
    const cond = b.op('Greater', [b.reduce('ReduceSum', x, [0, 1, 2, 3], false), b.f32(0)]);
    const viaIf = b.add('If', [cond], { then_branch: { type: AttrType.GRAPH, g: branch('then', 'nearest') }, else_branch: { type: AttrType.GRAPH, g: branch('else', 'linear') } }, ['y_if'])[0];
    return [direct, viaIf];
  });
  const before = m.toBytes();
  const up = await sameAfterUpgrade(m, { x: random([1, 1, 3, 3], 'ups9', 0.1, 2) });
  await sameAfterUpgrade(m, { x: random([1, 1, 3, 3], 'ups9neg', -2, -0.1) });
  const ifNode = up.graph.node.find((n) => n.opType === 'If')!;
  for (const a of ifNode.attribute!) assert.equal(a.g!.node[0].opType, 'Resize', `${a.name} branch`);
  assert.deepEqual(m.toBytes(), before, 'the original (and its subgraphs) are left as they were');
});

test('opset 10: Resize-10 (up and down, nearest and linear) keeps onnxruntime\'s values', async () => {
  const m = buildModel(10, [1, 2, 6, 5], (b, x) => [
    b.op('Resize', [x, b.f32([1, 1, 2, 3], [4])], { mode: attr.str('nearest') }),
    b.op('Resize', [x, b.f32([1, 1, 0.5, 0.6], [4])], { mode: attr.str('nearest') }),
    b.op('Resize', [x, b.f32([1, 1, 1.5, 2], [4])], { mode: attr.str('linear') }),
    b.op('Resize', [x, b.f32([1, 1, 0.5, 0.8], [4])], { mode: attr.str('linear') }),
    // one axis grows, one shrinks; and scales known only at run time
    b.op('Resize', [x, b.f32([1, 1, 2, 0.6], [4])], { mode: attr.str('nearest') }),
    b.op('Resize', [x, b.op('Add', [b.f32([1, 1, 0.25, 1.5], [4]), b.f32([0, 0, 0.25, 0.5], [4])])], { mode: attr.str('nearest') }),
  ]);
  await sameAfterUpgrade(m, { x: random([1, 2, 6, 5], 'rs10') });
});

test('opset 9: Slice, Pad, Clip and TopK attributes become inputs', async () => {
  let topk: string[] = [];
  const m = buildModel(9, [2, 3, 5, 4], (b, x) => [
    b.op('Slice', [x], { starts: attr.ints([1, 0]), ends: attr.ints([-1, 1000]), axes: attr.ints([2, 3]) }),
    b.op('Slice', [x], { starts: attr.ints([0, 1, -3]), ends: attr.ints([1, 3, -1]) }),
    b.op('Pad', [x], { pads: attr.ints([0, 0, 1, 2, 0, 1, 0, 1]), value: attr.float(1.5) }),
    b.op('Pad', [x], { pads: attr.ints([0, 0, 1, 2, 0, 0, 2, 1]), mode: attr.str('reflect') }),
    b.op('Pad', [x], { pads: attr.ints([0, 0, 0, 1, 0, 0, 2, 0]), mode: attr.str('edge') }),
    b.op('Pad', [x], { pads: attr.ints([0, 0, 1, 1, 0, 0, 1, 1]) }),
    b.op('Clip', [x], { min: attr.float(-0.5), max: attr.float(0.75) }),
    b.op('Clip', [x], { max: attr.float(0.3) }),
    b.op('Clip', [x], { min: attr.float(-0.2) }),
    ...(topk = b.add('TopK', [x], { k: attr.int(2), axis: attr.int(2) }, 2)),
  ]);
  await sameAfterUpgrade(int64Outputs(m, [topk[1]]), { x: random([2, 3, 5, 4], 'attrs9') });
});

test('opset 8: Squeeze, Unsqueeze, Split, ReduceSum, other Reduce*, Softmax family, Gemm, MaxPool with Indices', async () => {
  const m = buildModel(8, [2, 3, 4], (b, x) => {
    const u = b.op('Unsqueeze', [x], { axes: attr.ints([1, 4]) }); // [2,1,3,4,1]
    const s = b.op('Squeeze', [u], { axes: attr.ints([4]) }); // [2,1,3,4]
    const [p, q] = b.add('Split', [x], { axis: attr.int(2), split: attr.ints([1, 3]) }, 2);
    const all = b.op('Squeeze', [b.op('Unsqueeze', [x], { axes: attr.ints([0]) })]);
    const rs = b.op('ReduceSum', [x], { axes: attr.ints([0, 2]), keepdims: attr.int(0) });
    const rsAll = b.op('ReduceSum', [x], {});
    const others = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare'].map((op) => b.op(op, [x], { axes: attr.ints([1]) }));
    const logSum = b.op('ReduceLogSum', [b.op('Abs', [x])], { axes: attr.ints([2]), keepdims: attr.int(0) });
    const sm = b.op('Softmax', [x], { axis: attr.int(1) });
    const lsm = b.op('LogSoftmax', [x]);
    const hm = b.op('Hardmax', [x], { axis: attr.int(2) });
    const g = b.op('Gemm', [b.op('Flatten', [x]), b.param('w', [12, 5], Array.from({ length: 60 }, (_, i) => Math.cos(i))), b.param('c', [5], [0.1, 0.2, 0.3, 0.4, 0.5])], { transB: attr.int(0), alpha: attr.float(0.7), beta: attr.float(1.3) });
    const [mp, idx] = b.add('MaxPool', [b.op('Unsqueeze', [x], { axes: attr.ints([0]) })], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([1, 2]) }, 2);
    return [s, p, q, all, rs, rsAll, ...others, logSum, sm, lsm, hm, g, mp, idx];
  });
  await sameAfterUpgrade(int64Outputs(m, [m.graph.output[m.graph.output.length - 1].name!]), { x: random([2, 3, 4], 'ops8') }, 1e-5);
});

test('opset 7: BatchNormalization with spatial=1 and 0, Dropout with a mask read by the graph, AveragePool, Cast', async () => {
  const C = 3, H = 2, W = 4;
  const m = buildModel(7, [1, C, H, W], (b, x) => {
    const r = rng('bn7');
    const vec = (name: string, n: number, lo = -1) => b.param(name, [n], Array.from({ length: n }, () => lo + (1 - lo) * r()));
    const per = (name: string, lo = -1) => b.param(name, [C, H, W], Array.from({ length: C * H * W }, () => lo + (1 - lo) * r()));
    const bn1 = b.op('BatchNormalization', [x, vec('s', C), vec('bb', C), vec('m', C), vec('v', C, 0.2)], { spatial: attr.int(1), epsilon: attr.float(1e-3), momentum: attr.float(0.9) });
    const bn0 = b.op('BatchNormalization', [x, per('s0'), per('b0'), per('m0'), per('v0', 0.2)], { spatial: attr.int(0), epsilon: attr.float(1e-2) });
    const [d, mask] = b.add('Dropout', [x], { ratio: attr.float(0.4) }, 2);
    const masked = b.op('Mul', [d, mask]);
    const ap = b.op('AveragePool', [x], { kernel_shape: attr.ints([2, 3]), pads: attr.ints([1, 1, 0, 1]), count_include_pad: attr.int(1) });
    const ap0 = b.op('AveragePool', [x], { kernel_shape: attr.ints([2, 3]), pads: attr.ints([1, 1, 0, 1]) });
    const ci = b.op('Cast', [b.op('Cast', [x], { to: attr.int(7) })], { to: attr.int(1) });
    return [bn1, bn0, masked, ap, ap0, ci];
  });
  await sameAfterUpgrade(m, { x: random([1, C, H, W], 'bn7x') }, 1e-5);
});

test('opset 10: Dropout\'s bool mask, Scatter becomes ScatterElements, TopK-10 and Slice-10 pass', async () => {
  const m = buildModel(10, [2, 5], (b, x) => {
    const [d, mask] = b.add('Dropout', [x], { ratio: attr.float(0.2) }, 2);
    const masked = b.op('Where', [mask, d, b.f32(7)]);
    const idx = b.i64([4, 0, 2, 1, 3, 0], [2, 3]);
    const sc = b.op('Scatter', [x, idx, b.op('Slice', [x, b.i64([0]), b.i64([3]), b.i64([1])])], { axis: attr.int(1) });
    const [tv, ti] = b.add('TopK', [x, b.i64([3])], { axis: attr.int(1) }, 2);
    return [masked, sc, tv, ti];
  });
  int64Outputs(m, [m.graph.output[3].name!]);
  await sameAfterUpgrade(m, { x: random([2, 5], 'sc10') });
});

test('IR 3 (initializers listed as inputs, Caffe2 style): the upgrade keeps them constants and loads in onnxruntime', async () => {
  const m = OnnxModel.empty(8, 3);
  const b = new GraphBuilder(m, 'c2');
  b.addInput('data_0', 1, [1, 3, 6, 6]);
  const r = rng('ir3');
  const w = b.param('conv1_w_0', [4, 3, 3, 3], Array.from({ length: 108 }, () => r() - 0.5));
  const fc = b.param('fc_w_0', [2, 4 * 6 * 6], Array.from({ length: 288 }, () => r() - 0.5));
  for (const [t, dims] of [[w, [4, 3, 3, 3]], [fc, [2, 144]]] as const) b.model.graph.input.push(valueInfo(t, 1, [...dims]));
  const conv = b.op('Conv', ['data_0', w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  const lrn = b.op('LRN', [b.op('Relu', [conv])], { size: attr.int(3), alpha: attr.float(1e-2), beta: attr.float(0.75), bias: attr.float(1) });
  const [drop] = b.add('Dropout', [lrn], { ratio: attr.float(0.5) }, 1);
  const y = b.op('Softmax', [b.op('Gemm', [b.op('Flatten', [drop]), fc, b.param('fc_b_0', [2], [0.1, -0.1])], { transB: attr.int(1) })]);
  b.addOutput(y);
  assert.deepEqual(m.realInputs().map((i) => i.name), ['data_0']);
  const up = await sameAfterUpgrade(m, { data_0: random([1, 3, 6, 6], 'ir3x') }, 1e-5);
  assert.equal(num(up.proto.irVersion), 8);
  assert.deepEqual(up.graph.input.map((i) => i.name), ['data_0'], 'initializers are no longer graph inputs');
});

test('the experimental ops of old conversions become standard ops with the same values', async () => {
  const x = random([1, 3, 4, 5], 'exp');
  const v = x.data as Float32Array;
  const m = buildModel(9, [1, 3, 4, 5], (b, xx) => [
    b.op('ImageScaler', [xx], { scale: attr.float(0.5), bias: attr.floats([1, 2, 3]) }),
    b.op('Scale', [xx], { scale: attr.float(3) }),
    b.op('Affine', [xx], { alpha: attr.float(2), beta: attr.float(-1) }),
    b.op('ScaledTanh', [xx], { alpha: attr.float(2), beta: attr.float(0.5) }),
    b.op('ParametricSoftplus', [xx], { alpha: attr.float(1.5), beta: attr.float(2) }),
    b.op('Crop', [xx], { border: attr.ints([1, 0, 2, 1]) }),
    b.op('Crop', [xx], { border: attr.ints([1, 1, 0, 0]), scale: attr.ints([2, 3]) }),
  ]);
  const up = upgradeOpset(m.clone());
  const outs = up.graph.output.map((o) => o.name!);
  const r = await runBytes(up.toBytes(), { x });
  const at = (c: number, h: number, w: number) => v[(c * 4 + h) * 5 + w];
  const expect: Array<number[]> = [
    Array.from(v, (t, i) => 0.5 * t + [1, 2, 3][Math.floor(i / 20)]),
    Array.from(v, (t) => 3 * t),
    Array.from(v, (t) => 2 * t - 1),
    Array.from(v, (t) => 2 * Math.tanh(0.5 * t)),
    Array.from(v, (t) => 1.5 * Math.log(1 + Math.exp(2 * t))),
    [0, 1, 2].flatMap((c) => [0, 1, 2].flatMap((h) => [1, 2].map((w) => at(c, h, w)))),
    [0, 1, 2].flatMap((c) => [1, 2].flatMap((h) => [1, 2, 3].map((w) => at(c, h, w)))),
  ];
  outs.forEach((o, k) => close(Array.from(r[o].data as Float32Array), expect[k], 1e-5));
  assert.ok(up.graph.node.every((n) => !['ImageScaler', 'Scale', 'Affine', 'ScaledTanh', 'ParametricSoftplus', 'Crop'].includes(n.opType)));
});

test('Cast with a type name (opset 1-5 style) becomes its type code', () => {
  const m = buildModel(7, [2], (b, x) => [b.op('Cast', [x], { to: attr.str('INT64') })]);
  const up = upgradeOpset(m);
  const to = up.graph.node.find((n) => n.opType === 'Cast')!.attribute!.find((a) => a.name === 'to')!;
  assert.equal(to.type, AttrType.INT);
  assert.equal(num(to.i), 7);
});

/** Asserts upgradeOpset refuses `m` in one line naming the node and op, with the origin's advice. */
function refuses(m: OnnxModel, node: string, op: string, why: RegExp, advice: RegExp = /convert_version\(model, 16\)/): void {
  assert.throws(() => upgradeOpset(m.clone()), (e: unknown) => {
    assert.ok(e instanceof AttrLensError, String(e));
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(e.message.includes(`node '${node}' (${op}, opset ${m.opset()})`), e.message);
    assert.match(e.message, why);
    assert.match(e.message, advice);
    assert.match(e.message, /gradient-free methods \(occlusion/);
    return true;
  });
}

test('what cannot be upgraded is refused in one line naming the node and op', () => {
  const named = (m: OnnxModel, name: string) => {
    m.graph.node[m.graph.node.length - 1].name = name;
    return m;
  };
  refuses(named(buildModel(9, [1, 1, 2, 2], (b, x) => [b.op('Upsample', [x, b.f32([1, 1, 2, 2], [4])], { mode: attr.str('area') })]), 'up1'), 'up1', 'Upsample', /mode 'area'/);
  refuses(named(buildModel(7, [2, 3], (b, x) => [b.op('Add', [x, b.f32([1, 2], [2])], { broadcast: attr.int(1), axis: attr.int(0) })]), 'add1'), 'add1', 'Add', /broadcasting along an axis/);
  refuses(named(buildModel(7, [1, 2], (b, x) => [b.op('BatchNormalization', [x, b.f32([1, 1], [2]), b.f32([0, 0], [2]), b.f32([0, 0], [2]), b.f32([1, 1], [2])], { is_test: attr.int(0) })]), 'bn1'), 'bn1', 'BatchNormalization', /training mode/);
  refuses(
    named(buildModel(9, [1, 2], (b, x) => {
      const outs = b.add('BatchNormalization', [x, b.f32([1, 1], [2]), b.f32([0, 0], [2]), b.f32([0, 0], [2]), b.f32([1, 1], [2])], {}, 3);
      return [outs[0], outs[1]];
    }), 'bn2'),
    'bn2', 'BatchNormalization', /training outputs/,
  );
  refuses(named(buildModel(8, [2], (b, x) => [b.op('Scan', [x], { num_scan_inputs: attr.int(1) })]), 'scan1'), 'scan1', 'Scan', /Scan-8/);
  refuses(named(buildModel(9, [2, 3], (b, x) => [b.op('Slice', [x], { axes: attr.ints([0]) })]), 'sl'), 'sl', 'Slice', /without starts/);
  // The advice follows the exporter.
  const torch = named(buildModel(9, [1, 1, 2, 2], (b, x) => [b.op('Upsample', [x, b.f32([1, 1, 2, 2], [4])], { mode: attr.str('area') })]), 'u');
  torch.proto.producerName = 'pytorch';
  refuses(torch, 'u', 'Upsample', /area/, /torch\.onnx\.export\(\.\.\., opset_version=17\)/);
  torch.proto.producerName = 'tf2onnx';
  refuses(torch, 'u', 'Upsample', /area/, /python -m tf2onnx\.convert --opset 17/);
  torch.proto.producerName = 'paddle2onnx';
  refuses(torch, 'u', 'Upsample', /area/, /paddle2onnx --opset_version 16/);
});

test('reexportAdvice: producer names, Ultralytics metadata and Paddle-style tensor names', () => {
  const m = buildModel(9, [2], (b, x) => [b.op('Relu', [x])]);
  const advise = (producer: string) => {
    m.proto.producerName = producer;
    return reexportAdvice(m);
  };
  assert.match(advise('pytorch'), /torch\.onnx\.export/);
  assert.match(advise('keras2onnx'), /tf2onnx\.convert --opset 17/);
  assert.match(advise('skl2onnx'), /target_opset=17/);
  assert.match(advise('onnx-caffe2'), /onnx\.version_converter\.convert_version\(model, 16\)/);
  assert.match(advise('my-tool'), /convert_version/);
  m.proto.metadataProps = [{ key: 'author', value: 'Ultralytics' }, { key: 'imgsz', value: '[640, 640]' }];
  assert.match(advise('pytorch'), /yolo export format=onnx opset=17/);
  m.proto.metadataProps = [];
  // No producer_name (as the PaddleOCR models ship): Paddle's tensor names give it away.
  const p = buildModel(9, [2], (b, x) => {
    const y = b.add('Relu', [x], {}, ['relu_0.tmp_0'])[0];
    return [b.add('Sigmoid', [b.add('Mul', [y, b.add('Constant', [], { value: attr.tensor({ dims: [], dataType: 1, floatData: [2] }) }, ['scale_0.w_0'])[0]], {}, ['elementwise_mul_0.tmp_0'])[0]], {}, ['sigmoid_0.tmp_0'])[0]];
  });
  p.proto.producerName = '';
  assert.match(reexportAdvice(p), /paddle2onnx --opset_version 16 \(it looks like a Paddle2ONNX export\)/);
});


test('a model the upgrade refuses (Scan-8) still loads, probes and runs forward; gradients say why in one line', async () => {
  // Scan-8: batch axis first, then the sequence; the body adds each element to a running sum.
  const body = {
    name: 'body',
    node: [
      { opType: 'Add', name: 'acc', input: ['s_in', 'e_in'], output: ['s_out'] },
      { opType: 'Identity', name: 'emit', input: ['s_out'], output: ['e_out'] },
    ],
    input: [valueInfo('s_in', 1, [2]), valueInfo('e_in', 1, [2])],
    output: [valueInfo('s_out', 1, [2]), valueInfo('e_out', 1, [2])],
    initializer: [],
    valueInfo: [],
  };
  const m = buildModel(8, [1, 3, 2], (b, x) => {
    const [last, all] = b.add('Scan', ['', b.f32([0, 0], [1, 2]), x], { body: { type: AttrType.GRAPH, g: body }, num_scan_inputs: attr.int(1) }, 2);
    return [b.op('Add', [b.op('ReduceSum', [all], { axes: attr.ints([1]), keepdims: attr.int(0) }), last])];
  });
  const lm = await LoadedModel.fromModel(m);
  const x: Tensor = { dtype: 'float32', dims: [1, 3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
  const out = lm.outputs[0].name;
  // running sums (1,2), (4,6), (9,12): their sum plus the last
  assert.deepEqual(Array.from((await lm.forward({ x }, [out]))[out].data as Float32Array), [14 + 9, 20 + 12]);
  assert.ok((await lm.shapes({ x })).dims.has(out), 'the probe ran on the model as it is');
  await assert.rejects(runGradients(lm, { x }, { output: out, wrt: ['x'] }, { dtype: 'float32', dims: [1, 2], data: Float32Array.from([1, 1]) }), (e: unknown) => {
    assert.ok(e instanceof AttrLensError && !e.message.includes('\n'), String(e));
    assert.match(e.message, /node '.*' \(Scan, opset 8\) cannot be raised to opset 16 for gradients: Scan-8 .*; convert it with onnx\.version_converter.*; gradient-free methods \(occlusion/);
    return true;
  });
});
