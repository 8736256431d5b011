// Detection decoding on hand-made outputs: raw heads in the three layouts, the threshold,
// class-wise NMS and its order, post-NMS outputs (with and without a batch axis, end2end rows,
// a NonMaxSuppression selection), IoU and its gradient, Ultralytics' names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { detectionSetup } from '../../src/engine/targets/box';
import { outputKindOf } from '../../src/engine/targets/env';
import { discoverLabels } from '../../src/engine/onnx/labels';
import { Tensor } from '../../src/engine/core/tensor';
import {
  Box,
  decodeEnd2End,
  decodeNms,
  decodeRaw,
  decodeSelected,
  guessRawFormat,
  iou,
  iouGradXywh,
  nms,
  rawLayout,
  xywhToXyxy,
} from '../../src/engine/targets/detections';

const f32 = (dims: number[], data: number[]): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

/**
 * Four anchors, two classes, as rows of (cx, cy, w, h, score0, score1):
 *  0: box [10,10,30,30] class 0 score 0.9
 *  1: box [12,10,32,30] class 0 score 0.8  — IoU with 0 = 360/440 = 0.818: suppressed
 *  2: box [12,10,32,30] class 1 score 0.7  — the same place, another class: kept
 *  3: box [50,50,60,70] class 1 score 0.2  — below the threshold
 */
const ROWS = [
  [20, 20, 20, 20, 0.9, 0.1],
  [22, 20, 20, 20, 0.8, 0.05],
  [22, 20, 20, 20, 0.3, 0.7],
  [55, 60, 10, 20, 0.1, 0.2],
];
const EXPECTED: Array<{ row: number; box: Box; class: number; score: number }> = [
  { row: 0, box: [10, 10, 30, 30], class: 0, score: 0.9 },
  { row: 2, box: [12, 10, 32, 30], class: 1, score: 0.7 },
];

function check(got: ReturnType<typeof decodeRaw>, expected = EXPECTED): void {
  assert.deepEqual(
    got.map((d) => ({ row: d.row, box: d.box, class: d.class, score: Number(d.score.toFixed(6)) })),
    expected,
  );
}

describe('detection decoding', () => {
  it('YOLOv8 [1, 4+C, N]: channels first, threshold 0.25, class-wise NMS at IoU 0.45, by descending score', () => {
    const data: number[] = [];
    for (let j = 0; j < 6; j++) for (const r of ROWS) data.push(r[j]);
    const dims = [1, 6, 4];
    // 6 channels over 4 anchors looks like rows: the format is given (a real head has N ≫ 4 + C)
    check(decodeRaw(Float32Array.from(data), rawLayout(dims, 'yolov8')));
    assert.equal(guessRawFormat([1, 84, 8400]), 'yolov8');
  });

  it('rows [1, N, 4+C] and YOLOv5 [1, N, 5+C] (confidence = objectness × class probability)', () => {
    check(decodeRaw(Float32Array.from(ROWS.flat()), rawLayout([1, 4, 6], 'yolov8-rows')));
    assert.equal(guessRawFormat([1, 8400, 6], 2), 'yolov8-rows');
    assert.equal(guessRawFormat([1, 25200, 85]), 'yolov5');
    // objectness 0.5 everywhere, class probabilities doubled: the same confidences
    const v5 = ROWS.map((r) => [...r.slice(0, 4), 0.5, 2 * r[4], 2 * r[5]]);
    const got = decodeRaw(Float32Array.from(v5.flat()), rawLayout([1, 4, 7], 'yolov5'));
    check(got);
    assert.deepEqual(got.map((d) => d.objectness), [0.5, 0.5]);
    assert.deepEqual(Array.from(got[1].probs!, (v) => Number(v.toFixed(6))), [0.6, 1.4]);
  });

  it('thresholds and NMS are configurable; NMS keeps the higher score of an overlapping pair', () => {
    const layout = rawLayout([1, 4, 6], 'yolov8-rows');
    const data = Float32Array.from(ROWS.flat());
    // IoU 0.9: anchor 1 (IoU 0.818 with anchor 0) stays
    assert.deepEqual(decodeRaw(data, layout, { iouThreshold: 0.9 }).map((d) => d.row), [0, 1, 2]);
    assert.deepEqual(decodeRaw(data, layout, { scoreThreshold: 0.1 }).map((d) => d.row), [0, 2, 3]);
    const a = { row: 5, box: [0, 0, 10, 10] as Box, class: 0, score: 0.5 };
    const b = { row: 6, box: [1, 0, 11, 10] as Box, class: 0, score: 0.6 };
    assert.deepEqual(nms([a, b]).map((d) => d.row), [6]);
    assert.deepEqual(nms([a, { ...b, class: 1 }]).map((d) => d.row), [6, 5]);
  });

  it('post-NMS outputs: boxes/scores/labels with or without a batch axis; end2end rows; padded rows dropped', () => {
    const boxes = [10, 10, 30, 30, 40, 40, 50, 60, 0, 0, 0, 0];
    const expected = [
      { row: 1, box: [40, 40, 50, 60], class: 2, score: 0.95 },
      { row: 0, box: [10, 10, 30, 30], class: 0, score: 0.5 },
    ];
    const shape = (d: ReturnType<typeof decodeNms>) => d.map((x) => ({ row: x.row, box: x.box, class: x.class, score: Number(x.score.toFixed(6)) }));
    const labels: Tensor = { dtype: 'int64', dims: [3], data: BigInt64Array.from([0n, 2n, 0n]) };
    assert.deepEqual(shape(decodeNms({ boxes: f32([3, 4], boxes), scores: f32([3], [0.5, 0.95, 0]), labels })), expected);
    assert.deepEqual(shape(decodeNms({ boxes: f32([1, 3, 4], boxes), scores: f32([1, 3], [0.5, 0.95, 0]), labels: { ...labels, dims: [1, 3] } })), expected);
    const rows = [10, 10, 30, 30, 0.5, 0, 40, 40, 50, 60, 0.95, 2, 0, 0, 0, 0, 0, 0];
    assert.deepEqual(shape(decodeEnd2End(f32([1, 3, 6], rows))), expected);
    assert.throws(() => decodeNms({ boxes: f32([3, 4], boxes), scores: f32([2], [0.5, 0.9]) }), /disagree/);
  });

  it('a NonMaxSuppression selection: (batch, class, box) rows into boxes [B,N,4] (y0,x0,y1,x1 or centres) and scores [B,C,N]', () => {
    // two boxes, two classes; the node selected box 1 for class 1 and box 0 for class 0
    const boxes = f32([1, 2, 4], [10, 20, 30, 40, /* box 1: */ 0, 0, 8, 4]);
    const scores = f32([1, 2, 2], [0.6, 0.1, /* class 1: */ 0.2, 0.9]);
    const selected: Tensor = { dtype: 'int64', dims: [2, 3], data: BigInt64Array.from([0n, 1n, 1n, 0n, 0n, 0n]) };
    const got = decodeSelected(selected, boxes, scores, 0).map((d) => [d.row, d.box, d.class, Number(d.score.toFixed(6))]);
    assert.deepEqual(got, [
      [1, [0, 0, 4, 8], 1, 0.9],
      [0, [20, 10, 40, 30], 0, 0.6],
    ]);
    const centres = decodeSelected(selected, boxes, scores, 1).map((d) => d.box);
    assert.deepEqual(centres, [[-4, -2, 4, 2], [-5, 0, 25, 40]]); // (cx, cy, w, h) = (0, 0, 8, 4) and (10, 20, 30, 40)
  });

  it('IoU, and its gradient in (cx, cy, w, h) against finite differences', () => {
    assert.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
    assert.equal(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0);
    assert.deepEqual(xywhToXyxy(5, 5, -2, 4), [5, 3, 5, 7]);
    const fixed: Box = [10, 12, 40, 30];
    for (const p of [[22, 20, 20, 10], [35, 28, 16, 12], [12, 14, 8, 30]]) {
      const g = iouGradXywh(p[0], p[1], p[2], p[3], fixed);
      for (let k = 0; k < 4; k++) {
        const h = 1e-4;
        const up = [...p], dn = [...p];
        up[k] += h;
        dn[k] -= h;
        const fd = (iou(xywhToXyxy(up[0], up[1], up[2], up[3]), fixed) - iou(xywhToXyxy(dn[0], dn[1], dn[2], dn[3]), fixed)) / (2 * h);
        assert.ok(Math.abs(fd - g[k]) < 1e-6, `box ${p} d/d${'xywh'[k]}: ${g[k]} vs ${fd}`);
      }
    }
  });

  it("Ultralytics' names (a Python dict as a string) are the labels", () => {
    const m = OnnxModel.empty(17);
    m.proto.metadataProps = [{ key: 'names', value: "{0: 'person', 1: \"bi, cycle\", 2: 'it\\'s'}" }];
    assert.deepEqual(discoverLabels(m)?.labels, ['person', 'bi, cycle', "it\\'s"]);
  });
});

describe('detection outputs recognised', () => {
  const modelWith = (dims: number[], meta: Record<string, string>) => {
    const m = OnnxModel.empty(17);
    m.proto.metadataProps = Object.entries(meta).map(([key, value]) => ({ key, value }));
    const b = new GraphBuilder(m, 't');
    b.addInput('x', 1, dims);
    b.add('Identity', ['x'], {}, ['y']);
    b.addOutput('y', 1, dims);
    return LoadedModel.fromModel(m);
  };
  const names = (n: number) => `{${Array.from({ length: n }, (_, i) => `${i}: 'c${i}'`).join(', ')}}`;
  const kindOf = async (dims: number[], meta: Record<string, string>) => {
    const lm = await modelWith(dims, meta);
    const k = outputKindOf(lm, 'y', dims);
    return [k.kind, k.settings.format];
  };

  it('from Ultralytics metadata (task detect), or from the labels and the shape; not a sequence of as many classes', async () => {
    assert.deepEqual(await kindOf([1, 84, 8400], { task: 'detect', names: names(80) }), ['detection', 'yolov8']);
    assert.deepEqual(await kindOf([1, 84, 8400], { task: 'detect' }), ['detection', 'yolov8']);
    assert.deepEqual(await kindOf([1, 116, 8400], { task: 'segment', names: names(80) }), ['detection', 'yolov8']);
    assert.deepEqual(await kindOf([1, 25200, 85], { task: 'detect', names: names(80) }), ['detection', 'yolov5']);
    assert.deepEqual(await kindOf([1, 8400, 84], { task: 'detect', names: names(80) }), ['detection', 'yolov8-rows']);
    assert.deepEqual(await kindOf([1, 84, 8400], { names: names(80) }), ['detection', 'yolov8']);
    assert.deepEqual(await kindOf([1, 25200, 85], { names: names(80) }), ['detection', 'yolov5']);
    // no metadata and no labels: a [1, T, V] sequence
    assert.deepEqual(await kindOf([1, 84, 8400], {}), ['sequence', undefined]);
    assert.deepEqual(await kindOf([1, 40, 6625], { names: names(6625) }), ['sequence', undefined]);
  });

  it('the head is decoded with the labels as its classes (segmentation heads append mask coefficients)', async () => {
    const lm = await modelWith([1, 4 + 2 + 3, 16], { task: 'segment', names: names(2) });
    const kind = outputKindOf(lm, 'y', [1, 9, 16]);
    assert.equal(detectionSetup(lm, kind, ['c0', 'c1']).layout!.classes, 2);
  });
});
