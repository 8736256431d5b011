// D-RISE (Petsiuk et al. 2021) on the designed detector (samples/detect): the similarity by
// hand, the map with every pixel kept, seeds, batch sizes, partial maps, cancellation, the map
// of each box in its box, and refusing outputs that are not detections.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CancelledError } from '../../src/engine/core/errors';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { similarity } from '../../src/engine/methods/drise';
import { attribute, listMethods } from '../../src/engine/methods/registry';
import { AttributeProgress } from '../../src/engine/methods/types';
import { Box } from '../../src/engine/targets/detections';
import { close, values } from './helpers';

const SAMPLES = path.join(__dirname, '..', '..', 'samples');
const IMAGE = path.join(SAMPLES, 'detect', 'images', 'green-triangle_yellow-circle_red-square.png');

describe('d-rise', async () => {
  const lm = await LoadedModel.open(path.join(SAMPLES, 'detect', 'model.onnx'));
  const v5 = await LoadedModel.open(path.join(SAMPLES, 'detect', 'model-v5.onnx'));
  const { feeds } = await loadInputs(lm, IMAGE);

  it('is listed with camelCase parameters and defaults', () => {
    const m = listMethods().find((x) => x.id === 'd-rise');
    assert.ok(m);
    assert.equal(m.family, 'perturbation');
    assert.deepEqual(m.params.map((p) => [p.name, p.default]), [['nMasks', 1000], ['gridSize', 16], ['probability', 0.5], ['baselines', 0], ['perturbationsPerEval', undefined], ['seed', 0]]);
  });

  it('similarity = IoU × cosine of class probabilities × objectness (hand-computed)', () => {
    const t = { row: 0, box: [0, 0, 10, 10] as Box, class: 0, score: 0.9 };
    const d = { row: 1, box: [5, 0, 15, 10] as Box, class: 1, score: 0.4, objectness: 0.5, probs: Float32Array.from([0.6, 0.8]) };
    // IoU 50/150, cosine of (1, 0) and (0.6, 0.8) = 0.6, objectness 0.5
    assert.ok(Math.abs(similarity(t, Float32Array.from([1, 0]), d) - (1 / 3) * 0.6 * 0.5) < 1e-7);
    // no objectness (YOLOv8): the detection's confidence stands in; no probability vectors (post-NMS): same class or nothing
    assert.ok(Math.abs(similarity(t, undefined, { ...d, objectness: undefined, class: 0 }) - (1 / 3) * 0.4) < 1e-7);
    assert.equal(similarity(t, undefined, { ...d, objectness: undefined }), 0);
    assert.equal(similarity(t, Float32Array.from([1, 0]), { ...d, box: [10, 0, 20, 10] }), 0);
  });

  it('with every pixel kept, each mask weighs the best match of box K on the clean picture: its confidence (v8) or objectness (v5)', async () => {
    for (const model of [lm, v5]) {
      const r = await attribute(model, feeds, { method: 'd-rise', target: 'box:1', params: { nMasks: 3, probability: 1, gridSize: 4 } });
      const det = (r.targets!.detections as unknown as Array<{ score: number; objectness?: number }>)[1];
      const expected = det.objectness ?? det.score;
      close(values(r), new Array<number>(96 * 96).fill(expected), 1e-3, 'map');
    }
  });

  it('is reproducible by seed and does not depend on perturbationsPerEval; partial maps stream', async () => {
    const params = { nMasks: 24, gridSize: 6, seed: 5 };
    const partials: AttributeProgress[] = [];
    const a = values(await attribute(lm, feeds, { method: 'd-rise', target: 'box:0', params: { ...params, perturbationsPerEval: 1 } }, { onProgress: (p) => partials.push(p) }));
    const b = values(await attribute(lm, feeds, { method: 'd-rise', target: 'box:0', params: { ...params, perturbationsPerEval: 7 } }));
    close(b, a, 1e-6, 'perturbationsPerEval 7 vs 1');
    close(values(await attribute(lm, feeds, { method: 'd-rise', target: 'box:0', params: { ...params, perturbationsPerEval: 7 } })), b, 0, 'the same run again');
    assert.notDeepEqual(values(await attribute(lm, feeds, { method: 'd-rise', target: 'box:0', params: { ...params, seed: 6 } })), a);
    assert.equal(partials[partials.length - 1].done, 24);
    const last = partials.filter((p) => p.partial).pop()!;
    assert.deepEqual(last.partial!.dims, [1, 1, 96, 96]);
    close(Array.from(last.partial!.data as Float32Array), a, 1e-6, 'the last partial map is the map');
  });

  it('is cancellable', async () => {
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      attribute(lm, feeds, { method: 'd-rise', target: 'box:0', params: { nMasks: 200, perturbationsPerEval: 2 } }, { signal: ac.signal, onProgress: () => ++calls === 2 && ac.abort() }),
      (e) => e instanceof CancelledError,
    );
    assert.ok(calls < 10, `${calls} batches ran after the abort`);
  });

  it("each box's map peaks in its box", async () => {
    const first = await attribute(lm, feeds, { method: 'd-rise', target: 'box:0', params: { nMasks: 300, gridSize: 8 } });
    const dets = first.targets!.detections as unknown as Array<{ box: Box }>;
    assert.equal(dets.length, 3);
    for (const [k, d] of dets.entries()) {
      const map = values(k === 0 ? first : await attribute(lm, feeds, { method: 'd-rise', target: `box:${k}`, params: { nMasks: 300, gridSize: 8 } }));
      const best = map.indexOf(Math.max(...map));
      const [x, y] = [best % 96, Math.floor(best / 96)];
      assert.ok(x >= d.box[0] && x < d.box[2] && y >= d.box[1] && y < d.box[3], `box:${k} [${d.box}]: maximum at (${x}, ${y})`);
    }
  });

  it('refuses outputs that are not detections, in one line', async () => {
    const shapes = await LoadedModel.open(path.join(SAMPLES, 'shapes', 'model.onnx'));
    const { feeds: f } = await loadInputs(shapes, path.join(SAMPLES, 'shapes', 'images', 'red-circle.png'));
    await assert.rejects(attribute(shapes, f, { method: 'd-rise', target: 0 }), (e: Error) => {
      assert.match(e.message, /^d-rise explains one detection of a detector: give --target box:K on a detection output \(output 'logits' is explained as a class index\); for other outputs use rise$/);
      return true;
    });
  });
});
