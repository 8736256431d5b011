// Occlusion through crops of the first local layers must score every window exactly as a
// whole-image run does, for every cut the analysis offers, across strides, pads, dilation,
// auto_pad, pooling, residual adds and concats, and windows cut at the edges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { MethodContext } from '../../src/engine/methods/base';
import { CropPlan, axisIntervals, cheapestCrops, cropScorer, planCrops, windowGrid } from '../../src/engine/methods/occlusionCrops';
import { Rng } from '../../src/engine/methods/rng';
import { attr } from '../../src/engine/onnx/attributes';
import { OnnxModel } from '../../src/engine/onnx/model';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { cropCost, localPrefixes, planAxis } from '../../src/engine/onnx/locality';
import { Tensor } from '../../src/engine/core/tensor';
import { close, model, run, values, wholeScores } from './helpers';

const rng = new Rng(7);
const rand = (n: number, scale = 0.3) => Array.from({ length: n }, () => rng.normal() * scale);

function conv(b: GraphBuilder, x: string, cin: number, cout: number, k: [number, number], a: Record<string, ReturnType<typeof attr.ints> | ReturnType<typeof attr.str>> = {}, group = 1): string {
  const w = b.f32(rand((cout * cin * k[0] * k[1]) / group), [cout, cin / group, k[0], k[1]]);
  return b.op('Conv', [x, w, b.f32(rand(cout, 0.1), [cout])], { kernel_shape: attr.ints(k), group: attr.int(group), ...a });
}

/** A stem of every local op kind, then a non-local head (GlobalAveragePool, Gemm). */
function stemNet(b: GraphBuilder): string {
  let t = conv(b, 'x', 3, 6, [5, 5], { strides: attr.ints([2, 2]), pads: attr.ints([2, 1, 2, 2]) });
  t = b.op('BatchNormalization', [t, b.f32(rand(6, 1).map((v) => 1 + v * 0.1), [6]), b.f32(rand(6), [6]), b.f32(rand(6), [6]), b.f32(rand(6).map((v) => 1 + Math.abs(v)), [6])]);
  t = b.op('Relu', [t]);
  t = b.op('MaxPool', [t], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) });
  let r = conv(b, t, 6, 6, [3, 3], { pads: attr.ints([1, 1, 1, 1]) });
  r = b.op('PRelu', [r, b.f32(rand(6), [6, 1, 1])]);
  r = conv(b, r, 6, 6, [3, 3], { pads: attr.ints([2, 2, 2, 2]), dilations: attr.ints([2, 2]) }, 2);
  t = b.op('Relu', [b.op('Add', [t, r])]);
  const side = b.op('Sigmoid', [conv(b, t, 6, 2, [1, 1])]);
  t = b.op('Concat', [t, side], { axis: attr.int(1) });
  t = conv(b, t, 8, 8, [3, 2], { strides: attr.ints([2, 2]), auto_pad: attr.str('SAME_UPPER') });
  t = b.op('Mul', [b.op('AveragePool', [t], { kernel_shape: attr.ints([2, 2]) }), b.f32(1.5)]);
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [t])], { axis: attr.int(1) });
  return b.add('Gemm', [pooled, b.f32(rand(4 * 8), [4, 8]), b.f32(rand(4), [4])], { transB: attr.int(1) }, ['out'])[0];
}

function ctxOf(lm: LoadedModel, feeds: Record<string, Tensor>, target: number, params: Record<string, unknown> = {}): MethodContext {
  return { lm, feeds, input: 'x', output: 'out', target, params, baseDir: '.', progress: () => undefined };
}


const input = (dims: number[]): Record<string, Tensor> => ({ x: { dtype: 'float32', dims, data: Float32Array.from(rand(dims.reduce((a, c) => a * c, 1), 1)) } });

/**
 * For every cut that can crop, the crop scores of every window equal the whole-image scores;
 * returns how many cuts cropped per window geometry.
 */
async function sameAtEveryCut(lm: LoadedModel, dims: number[], geometries: number[][][]): Promise<number[]> {
  const feeds = input([1, ...dims]);
  const ctx = ctxOf(lm, feeds, 2);
  const prefixes = localPrefixes(lm.forwardModel, 'x', 'out', await lm.shapes(feeds));
  const baseline = Float32Array.from(rand(dims[0] * dims[1] * dims[2], 1));
  const planned: number[] = [];
  for (const [window, strides] of geometries) {
    const g = windowGrid(dims, window, strides);
    const expected = await wholeScores(ctx, g, baseline);
    let n = 0;
    for (const prefix of prefixes) {
      const axes = [planAxis(prefix, 0, axisIntervals(dims, g, 1)), planAxis(prefix, 1, axisIntervals(dims, g, 2))];
      if (!axes[0] || !axes[1]) continue;
      n++;
      const plan: CropPlan = { prefix, axes: [axes[0], axes[1]], cost: 0 };
      const score = cropScorer(ctx, plan, g, baseline, 5, () => Promise.reject(new Error('fell back to whole images')));
      const got: number[] = [];
      for (let s = 0; s < g.total; s += 5) got.push(...(await score(s, Math.min(5, g.total - s))));
      close(got, expected, 2e-5, `window ${window} strides ${strides} cut ${prefix.cut} (crop ${axes[0].crop}x${axes[1].crop})`);
    }
    planned.push(n);
  }
  return planned;
}

test('crop scores equal whole-image scores at every cut, for windows inside and cut at the edges', async () => {
  const lm = await model([3, 112, 100], stemNet);
  const prefixes = localPrefixes(lm.forwardModel, 'x', 'out', await lm.shapes(input([1, 3, 112, 100])));
  // every op of the stem up to the last local tensor that cuts the graph
  const ops = new Set(prefixes.flatMap((p) => p.nodes.map((n) => n.node.opType)));
  for (const op of ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'PRelu', 'Add', 'Sigmoid', 'Concat', 'AveragePool', 'Mul']) assert.ok(ops.has(op), `a cut behind ${op}`);
  const planned = await sameAtEveryCut(lm, [3, 112, 100], [
    [[3, 5, 5], [3, 7, 6]],
    [[1, 9, 4], [1, 11, 9]],
  ]);
  assert.ok(planned.every((n) => n >= 6), `cuts that cropped: ${planned}`);
});

test('windows over positions no output reads (a 4x4 stride-4 stem on 18x18 drops rows 16, 17) leave the score unchanged', async () => {
  const lm = await model([3, 18, 18], (b) => {
    const t = b.op('Softmax', [b.op('Relu', [conv(b, 'x', 3, 8, [4, 4], { strides: attr.ints([4, 4]) })])], { axis: attr.int(1) });
    const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [t])], { axis: attr.int(1) });
    return b.add('Gemm', [pooled, b.f32(rand(4 * 8), [4, 8]), b.f32(rand(4), [4])], { transB: attr.int(1) }, ['out'])[0];
  });
  const planned = await sameAtEveryCut(lm, [3, 18, 18], [
    [[1, 2, 2], [1, 1, 1]],
    [[3, 2, 3], [3, 1, 2]],
  ]);
  assert.ok(planned.every((n) => n >= 1), `cuts that cropped: ${planned}`);
});

test('occlusion picks crops when they are cheaper and gives the whole-image result, coarse pass included', async () => {
  const lm = await model([3, 64, 60], stemNet);
  const feeds = input([1, 3, 64, 60]);
  const params = { slidingWindowShapes: [3, 6, 6], strides: [3, 4, 4], baselines: 0.25, perturbationsPerEval: 7 };
  const plan = await planCrops(ctxOf(lm, feeds, 1, params), [3, 64, 60], windowGrid([3, 64, 60], [3, 6, 6], [3, 4, 4]));
  assert.ok(plan, 'no crop plan');
  // the estimate counts the crops' work, so a cheaper plan must also be a smaller crop somewhere
  assert.ok(plan.cost < 0.85 && plan.cost === cropCost(plan.prefix, plan.axes, (await lm.shapes(feeds)).dims.get(plan.prefix.cut)![1]));
  // 16 windows save less than a new session costs: whole images, though crops would be cheaper per run
  const few = windowGrid([3, 64, 60], [3, 16, 15], [3, 16, 15]);
  assert.ok((await cheapestCrops(ctxOf(lm, feeds, 1, params), [3, 64, 60], few))!.cost < 0.85);
  assert.equal(await planCrops(ctxOf(lm, feeds, 1, params), [3, 64, 60], few), undefined);
  const crops = values(await run(lm, feeds, 'occlusion', 1, { ...params, coarseToFine: true }));
  const whole = values(await run(lm, feeds, 'occlusion', 1, { ...params, coarseToFine: true, cropLocalLayers: false }));
  const scale = Math.max(...whole.map(Math.abs));
  assert.ok(scale > 1e-3);
  close(crops.map((v) => v / scale), whole.map((v) => v / scale), 2e-5, 'crops vs whole images');
});

test('no cut behind a non-local op, past a tensor read beyond the cut or through ceil_mode pooling; no crops for a whole-input window', async () => {
  const feeds = input([1, 3, 20, 20]);
  // Reduce over H first: nothing is local
  const reduced = await model([3, 20, 20], (b) => b.add('ReduceMean', [conv(b, b.op('ReduceMean', ['x'], { axes: attr.ints([2]), keepdims: attr.int(1) }), 3, 2, [1, 1])], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) }, ['out'])[0]);
  assert.deepEqual(localPrefixes(reduced.forwardModel, 'x', 'out', await reduced.shapes(feeds)), []);
  // the stem output s is read again at the end: no cut lies past s
  let s = '';
  let late = '';
  const skip = await model([3, 20, 20], (b) => {
    s = b.op('Relu', [conv(b, 'x', 3, 4, [3, 3], { pads: attr.ints([1, 1, 1, 1]) })]);
    late = conv(b, s, 4, 4, [3, 3], { pads: attr.ints([1, 1, 1, 1]) });
    const g1 = b.op('GlobalAveragePool', [late]);
    const g2 = b.op('GlobalMaxPool', [s]);
    return b.add('Flatten', [b.op('Add', [g1, g2])], { axis: attr.int(1) }, ['out'])[0];
  });
  const cuts = localPrefixes(skip.forwardModel, 'x', 'out', await skip.shapes(feeds)).map((p) => p.cut);
  assert.ok(cuts.includes(s) && !cuts.includes(late), `cuts ${cuts}`);
  // ceil_mode pooling: the crop geometry differs at the edges, so the chain stops before it
  let pooled = '';
  const ceil = await model([3, 20, 20], (b) => {
    pooled = b.op('MaxPool', [conv(b, 'x', 3, 4, [3, 3])], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) });
    return b.add('Flatten', [b.op('GlobalAveragePool', [pooled])], { axis: attr.int(1) }, ['out'])[0];
  });
  assert.ok(!localPrefixes(ceil.forwardModel, 'x', 'out', await ceil.shapes(feeds)).some((p) => p.cut === pooled));
  // a window as large as the input gains nothing: whole images
  const lm = await model([3, 20, 20], stemNet);
  assert.equal(await planCrops(ctxOf(lm, feeds, 0), [3, 20, 20], windowGrid([3, 20, 20], [3, 20, 20], [3, 1, 1])), undefined);
});

/** Occlusion with crops equals occlusion on whole images, and crops were planned. */
async function sameAsWhole(lm: LoadedModel, dims: number[], params: Record<string, unknown>): Promise<void> {
  const feeds = input([1, ...dims]);
  const w = params.slidingWindowShapes as number[];
  const st = params.strides as number[];
  assert.ok(await planCrops(ctxOf(lm, feeds, 1, params), dims, windowGrid(dims, w, st)), `no crop plan for [${dims}]`);
  const crops = values(await run(lm, feeds, 'occlusion', 1, params));
  const whole = values(await run(lm, feeds, 'occlusion', 1, { ...params, cropLocalLayers: false }));
  const scale = Math.max(...whole.map(Math.abs));
  assert.ok(scale > 1e-4);
  close(crops.map((v) => v / scale), whole.map((v) => v / scale), 2e-5, `crops vs whole images [${dims}]`);
}

const smallNet = (b: GraphBuilder, x = 'x'): string => {
  let t = b.op('Relu', [conv(b, x, 3, 6, [3, 3], { pads: attr.ints([1, 1, 1, 1]) })]);
  t = b.op('MaxPool', [t], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  t = b.op('Relu', [conv(b, t, 6, 6, [3, 3], { pads: attr.ints([1, 1, 1, 1]) })]);
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [t])], { axis: attr.int(1) });
  return b.add('Gemm', [pooled, b.f32(rand(4 * 6), [4, 6]), b.f32(rand(4), [4])], { transB: attr.int(1) }, ['out'])[0];
};
const smallParams = { slidingWindowShapes: [3, 4, 4], strides: [3, 2, 2] };

test('opset 8 models (no Where) crop too', async () => {
  const m = OnnxModel.empty(8);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', 3, 48, 48]);
  b.addOutput(smallNet(b), 1);
  await sameAsWhole(await LoadedModel.fromModel(m), [3, 48, 48], smallParams);
});

test('one model with symbolic height and width, images of two sizes: each its own crop model', async () => {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', 3, 'H', 'W']);
  b.addOutput(smallNet(b), 1);
  const lm = await LoadedModel.fromModel(m);
  await sameAsWhole(lm, [3, 48, 48], smallParams);
  await sameAsWhole(lm, [3, 56, 52], smallParams);
});

test('an infinite value inside the crop (Log of a ReLU zero) falls back to whole images for that batch', async () => {
  const lm = await model([3, 40, 40], (b) => {
    let t = b.op('Log', [b.op('Relu', [conv(b, 'x', 3, 4, [3, 3], { pads: attr.ints([1, 1, 1, 1]) })])]);
    t = b.op('Concat', [t, conv(b, 'x', 3, 2, [3, 3], { pads: attr.ints([1, 1, 1, 1]) })], { axis: attr.int(1) });
    t = b.op('Softmax', [t], { axis: attr.int(1) }); // -inf becomes 0: the model's output is finite
    const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [t])], { axis: attr.int(1) });
    return b.add('Gemm', [pooled, b.f32(rand(4 * 6), [4, 6]), b.f32(rand(4), [4])], { transB: attr.int(1) }, ['out'])[0];
  });
  await sameAsWhole(lm, [3, 40, 40], smallParams);
});
