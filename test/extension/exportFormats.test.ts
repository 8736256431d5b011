// What Export Attribution writes, and the engine result → panel payload conversion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNpy } from '../../src/engine/inputs/npy';
import { jsonBytes, npyBytes, pngFromDataUrl } from '../../src/extension/exportFormats';
import { plainParams, toAttributionMap, toPayload } from '../../src/extension/wire';
import { base64ToFloat32 } from '../../src/shared/base64';

const values = new Float32Array([0.5, -2, 3.25, 0, 1e-3, -0.125]);
const result = {
  method: 'saliency', target: 2, targetLabel: 'blue', predictions: [], seconds: 0.5,
  params: { abs: true, baselines: { dtype: 'float32' as const, dims: [1, 3], data: new Float32Array(3) }, nSteps: Infinity, shape: [3, 8, 8] },
  attributions: { input: { dtype: 'float32' as const, dims: [1, 1, 2, 3], data: values } },
};

test('a map carries exact values, shape and raw range', () => {
  const map = toAttributionMap(result.attributions.input, 'input');
  assert.deepEqual(map.dims, [1, 1, 2, 3]);
  assert.equal(map.min, -2);
  assert.equal(map.max, 3.25);
  assert.deepEqual(Array.from(base64ToFloat32(map.data)), Array.from(values));
  const payload = toPayload(result, 'input');
  assert.equal(payload.targetLabel, 'blue');
  assert.deepEqual(payload.params, { abs: true, baselines: 'tensor [1, 3]', nSteps: 'Infinity', shape: [3, 8, 8] });
  assert.deepEqual(plainParams({ a: undefined, b: null, c: { k: 1 } }), { b: null, c: '{"k":1}' });
});

test('NPY export reads back in NumPy layout; JSON export has the values row-major', () => {
  const payload = toPayload(result);
  const t = parseNpy(npyBytes(payload), 'x.npy');
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.dims, [1, 1, 2, 3]);
  assert.deepEqual(Array.from(t.data as Float32Array), Array.from(values));
  const doc = JSON.parse(new TextDecoder().decode(jsonBytes(payload, { model: '/m.onnx', image: '/i.png' })));
  assert.equal(doc.method, 'saliency');
  assert.equal(doc.target, 2);
  assert.deepEqual(doc.dims, [1, 1, 2, 3]);
  assert.deepEqual(doc.values, [0.5, -2, 3.25, 0, Math.fround(1e-3), -0.125]);
});

test('PNG export accepts only PNG data', () => {
  const png = pngFromDataUrl('data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==');
  assert.deepEqual(Array.from(png.slice(0, 4)), [0x89, 0x50, 0x4e, 0x47]);
  assert.throws(() => pngFromDataUrl('data:image/png;base64,R0lGODlhAQABAAAAACw='), /not a PNG/);
  assert.throws(() => pngFromDataUrl('data:text/html;base64,PGI+'), /not a PNG data URL/);
});
