// Occlusion through a chain of cuts (each stage recomputes only the changed region of its cut
// from the unperturbed values around it) must score every window exactly as a whole-image run
// does: residual adds, strides 1/2/3, odd sizes, pads, windows at the borders, batches mixing
// windows from anywhere, and locality that ends early (ceil_mode pooling, a softmax over H).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { MethodContext } from '../../src/engine/methods/base';
import { ChainPlan, chainScorer, cheapestChain, planChain } from '../../src/engine/methods/occlusionChain';
import { windowGrid } from '../../src/engine/methods/occlusionCrops';
import { Rng } from '../../src/engine/methods/rng';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { LocalPrefix, localPrefixes, segment } from '../../src/engine/onnx/locality';
import { Tensor } from '../../src/engine/core/tensor';
import { close, model, run, values, wholeScores } from './helpers';

const rng = new Rng(11);
const rand = (n: number, scale = 0.3) => Array.from({ length: n }, () => rng.normal() * scale);

/** PyTorch's exporter passes weights equal to others through Identity nodes (torch 1.13: biases). */
let weightsThroughIdentity = false;

function conv(b: GraphBuilder, x: string, cin: number, cout: number, k: number, stride = 1, pad = Math.floor(k / 2)): string {
  const w = b.f32(rand(cout * cin * k * k, 0.5 / Math.sqrt(cin)), [cout, cin, k, k]);
  const bias = b.f32(rand(cout, 0.1), [cout]);
  const via = (t: string) => (weightsThroughIdentity ? b.op('Identity', [t]) : t);
  return b.op('Conv', [x, via(w), via(bias)], { kernel_shape: attr.ints([k, k]), strides: attr.ints([stride, stride]), pads: attr.ints([pad, pad, pad, pad]) });
}

function bn(b: GraphBuilder, x: string, c: number): string {
  return b.op('BatchNormalization', [x, b.f32(rand(c, 0.1).map((v) => 1 + v), [c]), b.f32(rand(c), [c]), b.f32(rand(c), [c]), b.f32(rand(c).map((v) => 1 + Math.abs(v)), [c])]);
}

/** A residual block: two 3x3 convs (the first with `stride`), a projection when the shape changes. */
function block(b: GraphBuilder, x: string, cin: number, cout: number, stride: number): string {
  let r = b.op('Relu', [bn(b, conv(b, x, cin, cout, 3, stride), cout)]);
  r = bn(b, conv(b, r, cout, cout, 3), cout);
  const skip = stride === 1 && cin === cout ? x : conv(b, x, cin, cout, 1, stride, 0);
  return b.op('Relu', [b.op('Add', [r, skip])]);
}

function head(b: GraphBuilder, t: string, c: number): string {
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [t])], { axis: attr.int(1) });
  return b.add('Gemm', [pooled, b.f32(rand(4 * c), [4, c]), b.f32(rand(4), [4])], { transB: attr.int(1) }, ['out'])[0];
}

/** A small ResNet: 5x5 stride-2 stem, MaxPool, blocks of strides 1, 2, 1, 3, then `tail`. */
function resNet(tail?: (b: GraphBuilder, t: string) => string, width = 2): (b: GraphBuilder) => string {
  const [c1, c2, c3] = [2 * width, 3 * width, 4 * width];
  return (b) => {
    let t = b.op('Relu', [bn(b, conv(b, 'x', 3, c1, 5, 2, 2), c1)]);
    t = b.op('MaxPool', [t], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) });
    t = block(b, t, c1, c1, 1);
    t = block(b, t, c1, c2, 2);
    t = block(b, t, c2, c2, 1);
    t = block(b, t, c2, c3, 3);
    if (tail) t = tail(b, t);
    return head(b, t, c3);
  };
}

function ctxOf(lm: LoadedModel, feeds: Record<string, Tensor>, params: Record<string, unknown> = {}): MethodContext {
  return { lm, feeds, input: 'x', output: 'out', target: 2, params, baseDir: '.', progress: () => undefined };
}

const input = (dims: number[]): Record<string, Tensor> => ({ x: { dtype: 'float32', dims, data: Float32Array.from(rand(dims.reduce((a, c) => a * c, 1), 1)) } });


/** Stages ending at each of `cuts` (indices into the prefixes), consecutive segments. */
function stagesAt(prefixes: LocalPrefix[], cuts: number[], shapes: Parameters<typeof segment>[2]): LocalPrefix[] {
  return cuts.map((j, i) => (i === 0 ? prefixes[j] : segment(prefixes[cuts[i - 1]], prefixes[j], shapes)!));
}

/**
 * For chains through every cut and through every other cut, each ending at every cut, and
 * windows scored in a shuffled order: the chain's scores equal the whole-image scores.
 */
async function sameAlongChains(lm: LoadedModel, dims: number[], geometries: number[][][], perEval = 5): Promise<number> {
  const feeds = input([1, ...dims]);
  const ctx = ctxOf(lm, feeds);
  const shapes = await lm.shapes(feeds);
  const prefixes = localPrefixes(lm.forwardModel, 'x', 'out', shapes);
  const baseline = Float32Array.from(rand(dims[0] * dims[1] * dims[2], 1));
  let chains = 0;
  for (const [window, strides] of geometries) {
    const g = windowGrid(dims, window, strides);
    const expected = await wholeScores(ctx, g, baseline);
    const order = Int32Array.from({ length: g.total }, (_, k) => k);
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(rng.next() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    for (let end = 0; end < prefixes.length; end++) {
      for (const step of [1, 2, 3]) {
        const cuts: number[] = [];
        for (let j = end; j >= 0; j -= step) cuts.unshift(j);
        const stages = stagesAt(prefixes, cuts, shapes);
        if (stages.some((s) => !s)) continue;
        const plan: ChainPlan = { stages, order, cost: 0 };
        const score = chainScorer(ctx, plan, g, baseline, () => Promise.reject(new Error('fell back to whole images')));
        const got = new Array<number>(g.total);
        for (let s = 0; s < g.total; s += perEval) {
          const part = await score(s, Math.min(perEval, g.total - s));
          part.forEach((v, j) => (got[order[s + j]] = v));
        }
        close(got, expected, 2e-5, `window ${window} strides ${strides} through ${cuts.map((j) => prefixes[j].cut).join(', ')}`);
        chains++;
      }
    }
  }
  return chains;
}

test('chain scores equal whole-image scores through every cut of a small ResNet (strides 1, 2, 3; odd sizes; border windows)', async () => {
  const dims = [3, 61, 53];
  const lm = await model(dims, resNet());
  const prefixes = localPrefixes(lm.forwardModel, 'x', 'out', await lm.shapes(input([1, ...dims])));
  // locality reaches the last block (its stride-3 conv included)
  assert.ok(prefixes.length >= 10, `cuts: ${prefixes.map((p) => p.cut)}`);
  const chains = await sameAlongChains(lm, dims, [
    [[3, 7, 7], [3, 5, 6]],
    [[1, 4, 9], [1, 9, 4]],
    [[3, 61, 5], [3, 1, 12]],
  ]);
  assert.ok(chains >= 60, `chains run: ${chains}`);
});

test('chains keep the nodes that compute weights from weights (Identity, as PyTorch exports shared ones)', async () => {
  const dims = [3, 37, 41];
  weightsThroughIdentity = true;
  const lm = await model(dims, resNet()).finally(() => (weightsThroughIdentity = false));
  assert.ok(lm.forwardModel.graph.node.filter((n) => n.opType === 'Identity').length >= 20);
  assert.ok((await sameAlongChains(lm, dims, [[[3, 7, 7], [3, 5, 6]]])) >= 20);
});

test('locality that ends early (MaxPool with ceil_mode, a softmax over H): chains stop before it and still agree', async () => {
  const dims = [3, 45, 47];
  let pooled = '';
  const ceil = await model(dims, resNet((b, t) => (pooled = b.op('MaxPool', [t], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) }))));
  const cuts = localPrefixes(ceil.forwardModel, 'x', 'out', await ceil.shapes(input([1, ...dims]))).map((p) => p.cut);
  assert.ok(cuts.length >= 8 && !cuts.includes(pooled), `cuts ${cuts}`);
  await sameAlongChains(ceil, dims, [[[3, 6, 6], [3, 5, 5]]]);

  let first = '';
  const soft = await model(dims, (b) => {
    first = b.op('Relu', [conv(b, 'x', 3, 4, 3, 2)]);
    const t = b.op('Softmax', [first], { axis: attr.int(2) });
    return head(b, block(b, t, 4, 4, 1), 4);
  });
  const softCuts = localPrefixes(soft.forwardModel, 'x', 'out', await soft.shapes(input([1, ...dims]))).map((p) => p.cut);
  assert.equal(softCuts[softCuts.length - 1], first);
  assert.ok((await sameAlongChains(soft, dims, [[[3, 6, 6], [3, 5, 5]]])) >= 2);
});

test('occlusion plans a chain of several stages and its map equals the whole-image map, coarse pass included', async () => {
  // wide enough that a stage's run costs less than the work it saves
  const dims = [3, 160, 152];
  const lm = await model(dims, resNet(undefined, 16));
  const feeds = input([1, ...dims]);
  const params = { slidingWindowShapes: [3, 9, 9], strides: [3, 8, 8], baselines: 0.25, perturbationsPerEval: 7 };
  const plan = await planChain(ctxOf(lm, feeds, params), dims, windowGrid(dims, [3, 9, 9], [3, 8, 8]));
  assert.ok(plan && plan.stages.length >= 2, `stages: ${plan?.stages.map((s) => s.cut)}`);
  // a window covering the input changes everything: no chain pays
  const all = await cheapestChain(ctxOf(lm, feeds, params), dims, windowGrid(dims, dims, [3, 1, 1]));
  assert.ok(!all || all.cost >= 0.85);
  const chained = values(await run(lm, feeds, 'occlusion', 1, { ...params, coarseToFine: true }));
  const whole = values(await run(lm, feeds, 'occlusion', 1, { ...params, coarseToFine: true, cropLocalLayers: false }));
  // the map is differences of scores: float rounding follows the score's size (45 here, the map's 0.3)
  const f0 = Math.abs((await lm.forward(feeds, ['out'])).out.data[1] as number);
  assert.ok(Math.max(...whole.map(Math.abs)) > 1e-3 * f0);
  close(chained.map((v) => v / f0), whole.map((v) => v / f0), 2e-6, 'chain vs whole images');
});
