// LoadedModel: the checked batch rewrite (plain, with the Reshape repair, and the fallback to
// batch 1), chunked runs with progress and cancellation, intermediates and shape probes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError, CancelledError } from '../../src/engine/core/errors';
import { LoadedModel, trimOpenModels } from '../../src/engine/model/loadedModel';
import { BATCH_DIM } from '../../src/engine/onnx/batch';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Session } from '../../src/engine/runtime/session';
import { Tensor, sliceRows } from '../../src/engine/core/tensor';
import { buildModel, close, f32, runBytes, tmpDir } from '../onnx/helpers';
import { bakedReshape, batchMean, convNet, foldedReshape, twoInputs } from './models';

/** `n` distinct samples for a model input of dims [1, ...rest]. */
function samples(n: number, rest: number[], seed = 1): Tensor {
  return f32([n, ...rest], (i) => Math.cos(i * 0.61 * seed + seed) * 1.5);
}

/** Output of the original (batch-1) model for each sample in turn, concatenated. */
async function singleRuns(m: OnnxModel, x: Tensor): Promise<number[]> {
  const out: number[] = [];
  const name = m.graph.output[0].name!;
  for (let i = 0; i < x.dims[0]; i++) {
    const r = await runBytes(m.toBytes(), { x: sliceRows(x, i, i + 1) });
    out.push(...Array.from(r[name].data as Float32Array));
  }
  return out;
}

test('a fixed-batch model becomes batchable and batched outputs equal single runs', async () => {
  const m = convNet();
  const lm = await LoadedModel.fromModel(m);
  assert.equal(lm.maxBatch, Infinity);
  assert.equal(lm.forwardModel.graph.input[0].type!.tensorType!.shape!.dim![0].dimParam, BATCH_DIM);
  // The original model is untouched.
  assert.equal(Number(m.graph.input[0].type!.tensorType!.shape!.dim![0].dimValue), 1);
  assert.deepEqual(lm.inputs.map((i) => [i.name, i.dtype, i.dims]), [['x', 'float32', [1, 3, 4, 4]]]);
  const x = samples(2, [3, 4, 4]);
  const r = await lm.forward({ x });
  assert.deepEqual(r.logits.dims, [2, 5]);
  close(Array.from(r.logits.data as Float32Array), await singleRuns(m, x), 1e-5);
});

test('a model whose batch is already symbolic is used as it is, and still checked', async () => {
  const ok = buildModel(17, ['batch', 3], (b, x) => [b.op('Relu', [x])]);
  const lm = await LoadedModel.fromModel(ok);
  assert.equal(lm.maxBatch, Infinity);
  assert.equal(lm.forwardModel, ok);
  assert.deepEqual(lm.inputs[0].dims, ['batch', 3]);
  // Declared symbolic but mixing samples: the check still catches it.
  const mixing = buildModel(17, ['batch', 4], (b, x) => [b.op('Sub', [x, b.reduce('ReduceMean', x, [0, 1])])]);
  assert.equal((await LoadedModel.fromModel(mixing)).maxBatch, 1);
});

test('a Reshape constant [1, -1] that bakes the batch in is repaired by the second rewrite', async () => {
  const m = bakedReshape();
  const lm = await LoadedModel.fromModel(m);
  assert.equal(lm.maxBatch, Infinity);
  const reshape = lm.forwardModel.graph.node.find((n) => n.opType === 'Reshape')!;
  assert.deepEqual(Array.from(lm.forwardModel.constantValue(reshape.input[1])!.data as BigInt64Array), [0n, -1n]);
  const x = samples(3, [3, 4]);
  const out = lm.forwardModel.graph.output[0].name!;
  const r = await lm.forward({ x });
  assert.deepEqual(r[out].dims, [3, 2]);
  close(Array.from(r[out].data as Float32Array), await singleRuns(m, x), 1e-5);
});

test('the Reshape repair also works on a model read from a file (constants inside the file buffer)', async () => {
  const file = path.join(tmpDir('runtime'), 'baked.onnx');
  fs.writeFileSync(file, bakedReshape().toBytes());
  const lm = await LoadedModel.open(file);
  assert.equal(lm.maxBatch, Infinity);
  const x = samples(2, [3, 4], 3);
  const out = lm.outputs[0].name;
  close(Array.from((await lm.forward({ x }))[out].data as Float32Array), await singleRuns(lm.model, x), 1e-5);
});

test('a Reshape to [2, 6] that folds the sample cannot be batched: batch 1 with correct results', async () => {
  const m = foldedReshape();
  const lm = await LoadedModel.fromModel(m);
  assert.equal(lm.maxBatch, 1);
  assert.equal(lm.forwardModel, m);
  const x = samples(4, [3, 4], 2);
  const out = m.graph.output[0].name!;
  const r = await lm.forward({ x });
  assert.deepEqual(r[out].dims, [4, 4]);
  close(Array.from(r[out].data as Float32Array), await singleRuns(m, x), 1e-6);
});

test('a model that mixes samples at batch 2 (mean over the batch axis) falls back to batch 1', async () => {
  const m = batchMean();
  const lm = await LoadedModel.fromModel(m);
  assert.equal(lm.maxBatch, 1);
  const x = f32([3, 4], [1, 2, 3, 6, 0, 0, 0, 4, -2, 2, -2, 2]);
  const out = m.graph.output[0].name!;
  const r = await lm.forward({ x });
  // Each row minus its own mean (3, 1, 0).
  assert.deepEqual(Array.from(r[out].data as Float32Array), [-2, -1, 0, 3, -1, -1, -1, 3, -2, 2, -2, 2]);
});

test('runChunked reports done/total per chunk and respects batchSize', async () => {
  const lm = await LoadedModel.fromModel(convNet());
  const seen: string[] = [];
  const x = samples(5, [3, 4, 4]);
  const r = await lm.forward({ x }, undefined, { batchSize: 2, onProgress: (p) => seen.push(`${p.done}/${p.total}`) });
  assert.deepEqual(seen, ['2/5', '4/5', '5/5']);
  close(Array.from(r.logits.data as Float32Array), await singleRuns(convNet(), x), 1e-5);
  const one = await LoadedModel.fromModel(foldedReshape());
  const seen1: string[] = [];
  await one.forward({ x: samples(3, [3, 4]) }, undefined, { onProgress: (p) => seen1.push(`${p.done}/${p.total}`) });
  assert.deepEqual(seen1, ['1/3', '2/3', '3/3']);
});

test('an aborted AbortSignal stops before the next chunk with CancelledError', async () => {
  const lm = await LoadedModel.fromModel(convNet());
  const ac = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    lm.forward({ x: samples(6, [3, 4, 4]) }, undefined, {
      batchSize: 2,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done === 2) ac.abort();
      },
    }),
    CancelledError,
  );
  assert.deepEqual(seen, [2]);
  const pre = new AbortController();
  pre.abort();
  let runs = 0;
  await assert.rejects(lm.forward({ x: samples(2, [3, 4, 4]) }, undefined, { signal: pre.signal, onProgress: () => runs++ }), CancelledError);
  assert.equal(runs, 0);
});

test('feeds of batch 1 are shared by every sample of the others', async () => {
  const m = twoInputs();
  const lm = await LoadedModel.fromModel(m);
  assert.equal(lm.maxBatch, Infinity);
  const out = m.graph.output[0].name!;
  const r = await lm.forward({ x: f32([3, 3], [0, 0, 0, 1, 1, 1, 2, 3, 4]), y: f32([1, 3], [1, 10, 100]) }, undefined, { batchSize: 2 });
  assert.deepEqual(Array.from(r[out].data as Float32Array), [2, 20, 200, 3, 21, 201, 4, 23, 204]);
});

test('intermediates returns the values of an inner tensor', async () => {
  const lm = await LoadedModel.fromModel(twoInputs());
  const r = await lm.intermediates({ x: f32([2, 3], [9, 9, 9, 9, 9, 9]), y: f32([2, 3], [1, -2, 3, 0.5, 0, -1]) }, ['twice_y']);
  assert.deepEqual(Object.keys(r), ['twice_y']);
  assert.deepEqual(r.twice_y.dims, [2, 3]);
  assert.deepEqual(Array.from(r.twice_y.data as Float32Array), [2, -4, 6, 1, 0, -2]);
  // Conv output of the conv net against a hand computation of one position.
  const conv = await LoadedModel.fromModel(convNet());
  const x = samples(1, [3, 4, 4]);
  const v = await conv.intermediates({ x }, ['/block/conv/Conv_output_0', '/block/act/Relu_output_0']);
  const w = conv.model.constantValue(conv.model.graph.node[0].input[1])!.data as Float32Array;
  let s = 0.1; // bias of filter 0
  for (let c = 0; c < 3; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += w[c * 9 + i * 3 + j] * (x.data as Float32Array)[c * 16 + (1 + i) * 4 + (1 + j)];
  const convOut = v['/block/conv/Conv_output_0'].data as Float32Array;
  assert.ok(Math.abs(convOut[3] - s) < 1e-5, `${convOut[3]} vs ${s}`); // filter 0, position (1, 1)
  assert.deepEqual(Array.from(v['/block/act/Relu_output_0'].data as Float32Array), Array.from(convOut, (c) => Math.max(0, c)));
});

test('shapes gives dims of inner tensors and tells batch axes apart with dims2', async () => {
  const lm = await LoadedModel.fromModel(convNet());
  const info = await lm.shapes({ x: samples(3, [3, 4, 4]) });
  assert.deepEqual(info.dims.get('x'), [1, 3, 4, 4]);
  assert.deepEqual(info.dims.get('/block/conv/Conv_output_0'), [1, 2, 2, 2]);
  assert.deepEqual(info.dims.get('logits'), [1, 5]);
  assert.equal(info.dtype.get('/block/act/Relu_output_0'), 'float32');
  const w = lm.model.graph.node[0].input[1];
  assert.deepEqual(info.dims.get(w), [2, 3, 3, 3]);
  assert.ok(info.dims2);
  assert.deepEqual(info.dims2.get('/block/conv/Conv_output_0'), [2, 2, 2, 2]);
  assert.deepEqual(info.dims2.get('logits'), [2, 5]);
  assert.deepEqual(info.dims2.get(w), [2, 3, 3, 3], 'a weight has no batch axis');
  // Cached per input shape.
  assert.equal(await lm.shapes({ x: samples(1, [3, 4, 4]) }), info);
  // A model stuck at batch 1 has no dims2.
  const one = await LoadedModel.fromModel(foldedReshape());
  const info1 = await one.shapes({ x: samples(1, [3, 4]) });
  assert.equal(info1.dims2, undefined);
  assert.deepEqual(info1.dims.get(one.model.graph.node.find((n) => n.opType === 'MatMul')!.output[0]), [2, 2]);
});

test('layers lists float activations with dims and op, not parameters', async () => {
  const lm = await LoadedModel.fromModel(convNet());
  const layers = await lm.layers();
  const byName = new Map(layers.map((l) => [l.name, l]));
  assert.deepEqual(byName.get('/block/conv/Conv_output_0'), { name: '/block/conv/Conv_output_0', dims: [1, 2, 2, 2], op: 'Conv' });
  assert.deepEqual(byName.get('/block/act/Relu_output_0')?.dims, [1, 2, 2, 2]);
  assert.deepEqual(byName.get('logits')?.op, 'Gemm');
  assert.equal(layers.length, 4); // conv, relu, flatten, gemm
  for (const t of lm.model.graph.initializer) assert.ok(!byName.has(t.name!));
});

test('LoadedModel.open caches per file and options; a missing file is a user error', async () => {
  const dir = tmpDir('runtime');
  const file = path.join(dir, 'conv.onnx');
  fs.writeFileSync(file, convNet().toBytes());
  const a = await LoadedModel.open(file);
  assert.equal(await LoadedModel.open(file), a);
  const b = await LoadedModel.open(file, { threads: 1 });
  assert.notEqual(b, a);
  assert.equal(await a.forwardSession(), await a.forwardSession());
  await assert.rejects(LoadedModel.open(path.join(dir, 'nope.onnx')), (e: unknown) => e instanceof AttrLensError && /nope\.onnx: no such file/.test(e.message));
});

test('Session reports onnxruntime failures as one-line user errors', async () => {
  const m = convNet();
  const s = await Session.create(m.toBytes());
  await assert.rejects(s.run({ x: f32([1, 3, 5, 5], () => 0) }), (e: unknown) => e instanceof AttrLensError && /^onnxruntime failed to run the model: /.test(e.message) && !e.message.includes('\n'));
  await s.release();
  await assert.rejects(Session.create(new Uint8Array([1, 2, 3]), {}, 'junk.onnx'), (e: unknown) => e instanceof AttrLensError && /onnxruntime cannot load junk\.onnx/.test(e.message));
});

test('LoadedModel.open: one instance per file while it is unchanged; a file rewritten at the same size and time is opened anew; trimOpenModels keeps the most recently used', async () => {
  const dir = tmpDir('open-memo');
  const write = (name: string, scale: number): string => {
    const m = buildModel(17, [1, 4], (b, x) => [b.add('Mul', [x, b.param('s', [4], [scale, scale, scale, scale])], {}, ['y'])[0]]);
    const file = path.join(dir, name);
    fs.writeFileSync(file, m.toBytes());
    return file;
  };
  const y = async (lm: LoadedModel) => Array.from((await lm.forward({ x: f32([1, 4], () => 1) }, ['y'])).y.data as Float32Array);
  const a = write('a.onnx', 2);
  // whole seconds, which utimes sets exactly
  const when = new Date('2026-01-01T00:00:00Z');
  fs.utimesSync(a, when, when);
  const first = await LoadedModel.open(a);
  assert.equal(await LoadedModel.open(a), first, 'unchanged: the same instance');
  // same size and modification time, other weights: a long-lived process must not serve the old model
  const st = fs.statSync(a);
  fs.rmSync(a);
  write('a.onnx', 3);
  fs.utimesSync(a, when, when);
  assert.equal(fs.statSync(a).size, st.size);
  assert.equal(fs.statSync(a).mtimeMs, st.mtimeMs);
  const second = await LoadedModel.open(a);
  assert.notEqual(second, first);
  assert.deepEqual(await y(second), [3, 3, 3, 3]);
  // the two most recently used stay open; the others are released and opened anew
  const b = await LoadedModel.open(write('b.onnx', 5));
  const c = await LoadedModel.open(write('c.onnx', 7));
  await LoadedModel.open(path.join(dir, 'b.onnx'));
  await trimOpenModels(2);
  assert.equal(await LoadedModel.open(path.join(dir, 'b.onnx')), b);
  assert.equal(await LoadedModel.open(path.join(dir, 'c.onnx')), c);
  const again = await LoadedModel.open(a);
  assert.notEqual(again, second, 'the least recently used was let go');
  assert.deepEqual(await y(again), [3, 3, 3, 3]);
});
