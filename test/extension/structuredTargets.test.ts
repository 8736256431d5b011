// Structured targets in the panel's state (issue 14): `box:K`, `region:CLASS`, `step:T` as the
// target beside class indices; the default target of a detection, dense or sequence output; how
// they are named in captions and figure titles; strict validation of webview messages; persisted
// state that reads old (number) and new (string) targets alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMethods } from '../../src/engine';
import { isFromWebview, isStructuredTarget, type ModelSummary, type Prediction, type StructuredTargets } from '../../src/shared/protocol';
import { structuredTitle } from '../../src/shared/targets';
import {
  caption, defaultStructuredTarget, freshPanelState, fromPersisted, persisted, restoredState, staleReason, withImage, withTarget,
} from '../../src/extension/panel/panelState';

const methods = listMethods();
const summary: ModelSummary = { name: 'model.onnx', inputs: [{ name: 'images', dims: [1, 3, 96, 96] }], labels: ['red', 'green', 'blue', 'yellow'] };
const flat: Prediction[] = [{ index: 5, probability: 0.9, logit: 0.9 }];
const det: StructuredTargets = {
  kind: 'detection',
  detections: [
    { target: 'box:0', index: 0, box: [10, 12, 40, 44], class: 0, label: 'red', score: 0.9712 },
    { target: 'box:1', index: 1, box: [50, 50, 90, 88], class: 2, label: 'blue', score: 0.88 },
  ],
};
const seg: StructuredTargets = {
  kind: 'dense',
  regions: [
    { target: 'region:0', class: 0, label: 'background', pixels: 9000, box: [0, 0, 96, 96] },
    { target: 'region:1', class: 1, pixels: 200, box: [4, 4, 20, 20] },
    { target: 'region:2', class: 2, pixels: 9100, box: [0, 0, 96, 96] },
  ],
};
const seq: StructuredTargets = { kind: 'sequence', steps: [{ target: 'step:2', step: 2, index: 7, label: 'k', probability: 0.98 }] };

test('the default target: the first box, the largest region (background only alone), the first decoded step (step 0 with none)', () => {
  assert.equal(defaultStructuredTarget(det), 'box:0');
  assert.equal(defaultStructuredTarget(seg), 'region:2');
  assert.equal(defaultStructuredTarget({ kind: 'dense', regions: [seg.regions![0], seg.regions![1]] }), 'region:1', 'the largest object, not the background');
  assert.equal(defaultStructuredTarget({ kind: 'dense', regions: [seg.regions![0]] }), 'region:0', 'background when nothing else is predicted');
  assert.equal(defaultStructuredTarget(seq), 'step:2');
  assert.equal(defaultStructuredTarget({ kind: 'sequence', steps: [] }), 'step:0');
  assert.equal(defaultStructuredTarget({ kind: 'detection', detections: [] }), undefined);
  assert.equal(defaultStructuredTarget(undefined), undefined);
  const s = withImage(freshPanelState('saliency'), '/m.onnx', '/a.png', flat, det);
  assert.equal(s.target, 'box:0', 'a detector starts from its first box, not a flat output index');
  assert.deepEqual(s.structured, det);
  assert.equal(withImage(freshPanelState('saliency'), '/m.onnx', '/a.png', flat).target, 5, 'classifiers: the top prediction, as before');
  assert.equal(withImage(withTarget(s, 'box:1'), '/m.onnx', '/a.png', flat, det).target, 'box:1', 'the same image keeps the chosen box');
});

test('captions and titles name the structured target', () => {
  const cc = { methods, summary, predictions: flat, structured: det };
  assert.equal(caption(cc, 'saliency', {}, 'box:0'), 'Saliency for box 0 (red, 0.97)');
  assert.equal(caption(cc, 'saliency', {}, 'box:1+iou'), 'Saliency for box 1 (blue, 0.88) × IoU');
  assert.equal(caption({ ...cc, structured: seg }, 'saliency', {}, 'region:1'), 'Saliency for region 1 (green, 200 px)');
  assert.equal(caption({ ...cc, structured: seg }, 'saliency', {}, 'region:1@0,0,8,8'), 'Saliency for region 1 (green, 200 px) in 0,0,8,8');
  assert.equal(caption({ ...cc, structured: seq }, 'saliency', {}, 'step:2'), 'Saliency for step 2 ("k", 0.98)');
  assert.equal(caption({ ...cc, structured: seq }, 'saliency', {}, 'step:2=3'), 'Saliency for step 2 (class 3)');
  assert.equal(caption({ ...cc, structured: undefined }, 'saliency', {}, 'box:3'), 'Saliency for box 3');
  assert.equal(caption(cc, 'saliency', {}, 0), 'Saliency for red', 'class indices as before');
  assert.equal(structuredTitle('box:0', det, summary), 'box 0: red 0.97');
});

test('a changed structured target marks the map stale like a clicked prediction', () => {
  const cc = { methods, summary, predictions: flat, structured: det };
  let s = withImage(freshPanelState('saliency'), '/m.onnx', '/a.png', flat, det);
  s = { ...s, shown: { requestId: 'r1', method: 'saliency', params: {}, target: 'box:0', imageFile: '/a.png', caption: caption(cc, 'saliency', {}, 'box:0') } };
  assert.equal(staleReason(s, cc), undefined);
  assert.match(staleReason(withTarget(s, 'box:1'), cc) ?? '', /^Stale: this map is Saliency for box 0 \(red, 0\.97\).*the target changed since/);
});

test('persisted state: number and string targets come back; a malformed one is dropped', () => {
  const s = withTarget(withImage(freshPanelState('saliency'), '/m.onnx', '/a.png', flat, det), 'box:1');
  const saved = JSON.parse(JSON.stringify(persisted(s))) as unknown;
  const back = fromPersisted(saved);
  assert.equal(back?.target, 'box:1');
  assert.equal(restoredState(back!).target, 'box:1');
  // state written before structured targets: a number
  const old = { version: 1, modelFile: '/m.onnx', imageFile: '/a.png', method: 'saliency', params: {}, target: 2 };
  assert.equal(fromPersisted(old)?.target, 2);
  for (const bad of ['box:', 'box:-1', 'region:1@1,2,3', 'step:1;rm', 'class:3', 'box:0 ', -1, 1.5, null]) {
    assert.equal(fromPersisted({ ...old, target: bad }), undefined, `target ${JSON.stringify(bad)} is dropped`);
  }
  const shownBad = fromPersisted({ ...old, shown: { requestId: 'r', method: 'saliency', params: {}, target: 'oops', imageFile: '/a.png', caption: 'x' } });
  assert.equal(shownBad?.shown, undefined, 'a shown map with a malformed target is not trusted');
});

test('webview messages: structured targets must match the grammar strictly', () => {
  for (const ok of ['box:0', 'box:12+iou', 'region:1', 'region:1@10,20,60.5,80', 'step:3', 'step:3=12']) {
    assert.ok(isStructuredTarget(ok), ok);
    assert.ok(isFromWebview({ type: 'retarget', requestId: 'r1', target: ok }), `retarget ${ok}`);
    assert.ok(isFromWebview({ type: 'runAttribution', requestId: 'r1', method: 'saliency', target: ok, params: {} }), `run ${ok}`);
    assert.ok(isFromWebview({ type: 'compare', requestId: 'r1', methods: ['saliency'], target: ok, sharedScale: false }), `compare ${ok}`);
  }
  for (const bad of ['box', 'box:', 'box:a', 'box:0+iou+iou', 'BOX:0', ' box:0', 'region:1@1,2,3', 'region:1@1,2,3,4,5', 'step:1=', 'step:1=a',
    'class:0', 'red', '0', 'box:0\n', 'x'.repeat(100), 'box:1234567']) {
    assert.ok(!isStructuredTarget(bad), JSON.stringify(bad));
    assert.ok(!isFromWebview({ type: 'retarget', requestId: 'r1', target: bad }), `retarget ${JSON.stringify(bad)}`);
  }
  assert.ok(isFromWebview({ type: 'retarget', requestId: 'r1', target: 3 }), 'class indices as before');
  assert.ok(!isFromWebview({ type: 'runText', requestId: 'r1', method: 'saliency', target: 'box:0', params: {} }), 'text runs take class indices only');
});

test('region masks pass from the engine to the panel only well-formed and bounded (wire.ts)', async () => {
  const { structuredTargets } = await import('../../src/extension/wire');
  const mask = { width: 3, height: 2, runs: [1, 2, 3] };
  const good = structuredTargets('dense', { regions: [{ target: 'region:1', class: 1, pixels: 2, box: [0, 0, 3, 1], mask: { ...mask, junk: 1 } }] });
  assert.deepEqual(good?.regions?.[0].mask, mask, 'kept, its known fields only');
  const huge = { width: 100, height: 100, runs: Array.from({ length: 10_000 }, () => 1) };
  for (const bad of [{ ...mask, runs: [1, 2] }, huge, 'rle', { width: -1, height: 2, runs: [] }]) {
    const s = structuredTargets('dense', { regions: [{ target: 'region:1', class: 1, pixels: 2, box: [0, 0, 3, 1], mask: bad }] });
    assert.equal(s?.regions?.[0].mask, undefined, `dropped: ${JSON.stringify(bad).slice(0, 40)}`);
    assert.equal(s?.regions?.[0].target, 'region:1', 'the region itself stays');
  }
});
