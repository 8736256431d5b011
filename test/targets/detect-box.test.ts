// box:K on tiny detectors built here (a 2×4 one-channel input, a Gemm head of two anchors),
// against values worked out by hand: occlusion matching the perturbed boxes by IoU, the YOLOv5
// product's gradient, the +iou seed against finite differences, the config's format, and
// one-line errors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { iou, xywhToXyxy } from '../../src/engine/targets/detections';
import { targetEnv } from '../../src/engine/targets/env';
import { resolveTargetText } from '../../src/engine/targets/registry';
import { close, feed, values } from '../methods/helpers';
import { tmpDir } from '../onnx/helpers';

/**
 * A head of rows [N, 2, channels] = x (8 pixels) · W + bias, one class ('thing'). `cols(n, j)`
 * gives anchor n's channel j as [bias, {pixel: weight}].
 */
async function detector(channels: number, cols: (n: number, j: number) => [number, Record<number, number>], config?: object): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  m.proto.metadataProps = [{ key: 'names', value: "{0: 'thing'}" }, { key: 'task', value: 'detect' }];
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', 1, 2, 4]);
  const W = new Array<number>(8 * 2 * channels).fill(0);
  const bias = new Array<number>(2 * channels).fill(0);
  for (let n = 0; n < 2; n++)
    for (let j = 0; j < channels; j++) {
      const [b0, w] = cols(n, j);
      bias[n * channels + j] = b0;
      for (const [p, v] of Object.entries(w)) W[Number(p) * 2 * channels + n * channels + j] = v;
    }
  const flat = b.op('Flatten', ['x'], { axis: attr.int(1) });
  const y = b.op('Gemm', [flat, b.param('W', [8, 2 * channels], W), b.param('B', [2 * channels], bias)]);
  b.add('Reshape', [y, b.i64([0, 2, channels])], {}, ['output0']);
  b.addOutput('output0', 1);
  const dir = tmpDir('attrlens-det-');
  const file = path.join(dir, 'det.onnx');
  fs.writeFileSync(file, m.toBytes());
  // two anchors and 5 or 6 channels look channels-first: the config says rows
  fs.writeFileSync(path.join(dir, 'det.attrlens.json'), JSON.stringify({ output: config ?? { kind: 'detection', format: channels === 5 ? 'yolov8-rows' : 'yolov5' } }));
  return LoadedModel.open(file);
}

/**
 * Anchor 0: box (1, 1, 2·x5, 2) = [0, 0, 2, 2] at x = 1; anchor 1: box [1, 0, 3, 2] (IoU 1/3 with
 * anchor 0's), fixed. v8 rows: score0 = 0.5 + 0.1·x0 + 0.2·x4 (0.8), score1 = 0.6.
 */
const BOXES = (n: number, j: number): [number, Record<number, number>] | undefined =>
  n === 0 ? [[1, {}], [1, {}], [0, { 5: 2 }], [2, {}]][j] as [number, Record<number, number>] : [[2, {}], [1, {}], [2, {}], [2, {}]][j] as [number, Record<number, number>];
const ONES = feed([1, 1, 2, 4], new Array<number>(8).fill(1));

describe('box:K targets', () => {
  it('occlusion scores box 0 by the best IoU-weighted match of its class (hand-computed)', async () => {
    const lm = await detector(5, (n, j) => BOXES(n, j) ?? (n === 0 ? [0.5, { 0: 0.1, 4: 0.2 }] : [0.6, {}]));
    const r = await attribute(lm, ONES, { method: 'occlusion', target: 'box:0', params: { slidingWindowShapes: [1, 1, 1], baselines: 0 } });
    // clean: max(0.8 · 1, 0.6 · 1/3) = 0.8. Occluding x0 → 0.7, x4 → 0.6; x5 → box 0 collapses (IoU
    // 0) and the best match is anchor 1: 0.6 · 1/3 = 0.2. Other pixels change nothing.
    close(values(r), [0.1, 0, 0, 0, 0.2, 0.6, 0, 0], 1e-6);
    assert.equal(r.outputKind, 'detection');
    assert.deepEqual(r.targets?.detections, [
      { target: 'box:0', index: 0, box: [0, 0, 2, 2], class: 0, label: 'thing', score: 0.8 },
      { target: 'box:1', index: 1, box: [1, 0, 3, 2], class: 0, label: 'thing', score: 0.6 },
    ]);
    assert.equal(r.targetLabel, 'thing');
    // the gradient of a YOLOv8 score is linear: saliency is |weights|
    const s = await attribute(lm, ONES, { method: 'saliency', target: 'box:0' });
    close(values(s), [0.1, 0, 0, 0, 0.2, 0, 0, 0], 1e-6);
    const s1 = await attribute(lm, ONES, { method: 'saliency', target: 'box:1' });
    close(values(s1), new Array<number>(8).fill(0), 1e-6);
  });

  it('YOLOv5: box K is objectness × class probability, differentiated at its forward values', async () => {
    // obj0 = 0.5 + 0.1·x0 + 0.2·x4 (0.8), cls0 = 0.7 + 0.1·x1 − 0.05·x2 (0.75); anchor 1: 0.6 × 0.5
    const lm = await detector(6, (n, j) => BOXES(n, j) ?? (n === 0 ? (j === 4 ? [0.5, { 0: 0.1, 4: 0.2 }] : [0.7, { 1: 0.1, 2: -0.05 }]) : j === 4 ? [0.6, {}] : [0.5, {}]));
    const r = await attribute(lm, ONES, { method: 'saliency', target: 'box:0', params: { abs: false } });
    // d(obj·cls)/dx: x0 0.1·0.75, x4 0.2·0.75, x1 0.1·0.8, x2 −0.05·0.8
    close(values(r), [0.075, 0.08, -0.04, 0, 0.15, 0, 0, 0], 1e-6);
    assert.equal((r.targets?.detections as unknown as Array<{ score: number; objectness: number }>)[0].objectness, 0.8);
    assert.equal((r.targets?.detections as unknown as Array<{ score: number }>)[0].score, 0.6);
    // the product is scored the same way by perturbations: occluding x0 leaves 0.7 · 0.75
    const o = await attribute(lm, ONES, { method: 'occlusion', target: 'box:0', params: { slidingWindowShapes: [1, 1, 1] } });
    close(values(o).slice(0, 3), [0.6 - 0.7 * 0.75, 0.6 - 0.8 * 0.65, 0.6 - 0.8 * 0.8], 1e-6);
  });

  it('box:K+iou seeds the gradient of confidence × IoU with box K (finite differences at a moved box)', async () => {
    const lm = await detector(6, (n, j) => BOXES(n, j) ?? (n === 0 ? (j === 4 ? [0.5, { 0: 0.1, 4: 0.2 }] : [0.7, { 1: 0.1 }]) : j === 4 ? [0.6, {}] : [0.5, {}]));
    const env = await targetEnv(lm, ONES, 'x', 'output0', ['thing']);
    const t = resolveTargetText('box:0+iou', env);
    assert.equal(t.text, 'box:0+iou');
    const K = xywhToXyxy(1, 1, 2, 2);
    // a row whose box 0 moved and grew: (1.3, 0.8, 2.4, 1.7)
    const row = Float32Array.from(env.clean.output0.data as Float32Array);
    row.set([1.3, 0.8, 2.4, 1.7, 0.7, 0.9], 0);
    const value = (r: Float32Array) => r[4] * r[5] * iou(xywhToXyxy(r[0], r[1], r[2], r[3]), K);
    const g = t.seedAt!(row, [1, 2, 6]);
    for (let j = 0; j < 12; j++) {
      const h = 1e-3;
      const up = Float32Array.from(row), dn = Float32Array.from(row);
      up[j] += h;
      dn[j] -= h;
      assert.ok(Math.abs((value(up) - value(dn)) / (2 * h) - g[j]) < 1e-3, `channel ${j}: ${g[j]}`);
    }
    // the score of a perturbed output is the same function, matched over the anchors
    assert.ok(Math.abs(t.score({ output0: { dtype: 'float32', dims: [1, 2, 6], data: row } })[0] - value(row)) < 1e-6);
  });

  it('a target outside the detections, or malformed, is one line listing the detections', async () => {
    const lm = await detector(5, (n, j) => BOXES(n, j) ?? (n === 0 ? [0.5, { 0: 0.1, 4: 0.2 }] : [0.6, {}]));
    await assert.rejects(attribute(lm, ONES, { method: 'saliency', target: 'box:9' }), (e: Error) => {
      assert.match(e.message, /^box:9 does not exist: there are 2 detections \(box:0\.\.box:1\).*detections: box:0 thing 0\.800 \[0,0,2,2\], box:1 thing 0\.600 \[1,0,3,2\]$/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    await assert.rejects(attribute(lm, ONES, { method: 'saliency', target: 'box:x' }), /box target 'box:x' is not box:K or box:K\+iou/);
    // a head whose rows do not fit the format named in the config
    const bad = await detector(5, (n, j) => BOXES(n, j) ?? [0.6, {}], { kind: 'detection', format: 'yolo9' });
    await assert.rejects(attribute(bad, ONES, { method: 'saliency', target: 'box:0' }), /"output.format" "yolo9" is not a detection format; use one of "yolov8"/);
  });
});

/** A post-NMS detector over the same 2×4 input: boxes (x0, y0, x1, y1 or the NMS node's y0, x0, y1, x1), scores and labels as outputs. */
async function postNms(withNode: boolean): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', 1, 2, 4]);
  const flat = b.op('Flatten', ['x'], { axis: attr.int(1) });
  // box 0 = [0, 0, 2·x5, 2], box 1 = [1, 0, 3, 2] (xyxy); in the node's order y0, x0, y1, x1
  const order = withNode ? [1, 0, 3, 2] : [0, 1, 2, 3];
  const xyxy = [[0, 0, -1, 2], [1, 0, 3, 2]]; // −1: 2·x5
  const Wb = new Array<number>(8 * 8).fill(0), Bb = new Array<number>(8).fill(0);
  for (let n = 0; n < 2; n++)
    for (let j = 0; j < 4; j++) {
      const v = xyxy[n][order[j]];
      if (v < 0) Wb[5 * 8 + n * 4 + j] = 2;
      else Bb[n * 4 + j] = v;
    }
  const boxes = b.op('Reshape', [b.op('Gemm', [flat, b.param('Wb', [8, 8], Wb), b.param('Bb', [8], Bb)]), b.i64([0, 2, 4])]);
  // score 0 = 0.5 + 0.1·x0 + 0.2·x4, score 1 = 0.6
  const Ws = new Array<number>(16).fill(0);
  Ws[0 * 2] = 0.1;
  Ws[4 * 2] = 0.2;
  const scores = b.op('Gemm', [flat, b.param('Ws', [8, 2], Ws), b.param('Bs', [2], [0.5, 0.6])]);
  b.add('Identity', [boxes], {}, ['boxes']);
  if (withNode) {
    b.add('Reshape', [scores, b.i64([0, 1, 2])], {}, ['scores']);
    b.add('NonMaxSuppression', ['boxes', 'scores', b.i64([10]), b.f32([0.45]), b.f32([0.25])], {}, ['selected_indices']);
    for (const o of ['selected_indices', 'boxes', 'scores']) b.addOutput(o, o === 'selected_indices' ? 7 : 1);
  } else {
    b.add('Identity', [scores], {}, ['scores']);
    b.add('Cast', [b.op('Mul', [scores, b.f32(0)])], { to: attr.int(7) }, ['labels']);
    for (const o of ['boxes', 'scores', 'labels']) b.addOutput(o, o === 'labels' ? 7 : 1);
  }
  return LoadedModel.fromModel(m);
}

describe('box:K on post-NMS outputs', () => {
  for (const withNode of [false, true]) {
    it(`${withNode ? 'a NonMaxSuppression node (selected_indices, boxes, scores)' : 'boxes, scores, labels'}: detections, occlusion matched by IoU, the score's gradient`, async () => {
      const lm = await postNms(withNode);
      const o = await attribute(lm, ONES, { method: 'occlusion', target: 'box:0', params: { slidingWindowShapes: [1, 1, 1] } });
      assert.equal(o.outputKind, 'detection');
      assert.deepEqual(
        (o.targets?.detections as unknown as Array<{ box: number[]; score: number }>).map((d) => [d.box, d.score]),
        [[[0, 0, 2, 2], 0.8], [[1, 0, 3, 2], 0.6]],
      );
      close(values(o), [0.1, 0, 0, 0, 0.2, 0.6, 0, 0], 1e-6);
      const s = await attribute(lm, ONES, { method: 'saliency', target: 'box:1' });
      close(values(s), new Array<number>(8).fill(0), 1e-6);
      const s0 = await attribute(lm, ONES, { method: 'saliency', target: 'box:0' });
      close(values(s0), [0.1, 0, 0, 0, 0.2, 0, 0, 0], 1e-6);
    });
  }
});
