import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFromWebview } from '../../src/shared/protocol';
import { base64ToBytes, base64ToFloat32, bytesToBase64, float32ToBase64 } from '../../src/shared/base64';

test('valid webview messages pass', () => {
  const ok: unknown[] = [
    { type: 'ready' },
    { type: 'openSettings' },
    { type: 'runAttribution', requestId: 'r-1', method: 'integrated-gradients', target: 285, params: { nSteps: 50, method: 'gausslegendre', abs: true, slidingWindowShapes: [3, 15, 15], baselines: null } },
    { type: 'retarget', requestId: 'r2', target: 0 },
    { type: 'cancel' },
    { type: 'cancel', requestId: 'r2' },
    { type: 'compare', requestId: 'c1', methods: ['saliency', 'gradcam'], target: 3, sharedScale: true },
    { type: 'compare', requestId: 'c1', methods: ['saliency'], target: 3, sharedScale: false, params: { saliency: { abs: false } } },
    { type: 'export', requestId: 'e1', format: 'png', pngDataUrl: 'data:image/png;base64,iVBORw0KGgo=' },
    { type: 'export', requestId: 'e1', format: 'npy' },
    { type: 'changeMethod', method: 'occlusion' },
    { type: 'changeMethod', method: 'occlusion', params: { strides: 8 } },
    { type: 'changeView', view: { method: 'heat_map', sign: 'all', outlierPerc: 2, alphaOverlay: 0.5, colormap: 'viridis' } },
    { type: 'changeView', view: { method: 'blended_heat_map', sign: 'positive', outlierPerc: 0, alphaOverlay: 1, colormap: 'auto', blendOver: 'color', beside: false } },
  ];
  for (const m of ok) assert.equal(isFromWebview(m), true, JSON.stringify(m));
});

test('forged or malformed webview messages are rejected', () => {
  const bad: unknown[] = [
    null, 'ready', [], { type: 'nope' }, { type: 'ready', extra: 1 },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1 }, // no params
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: -1, params: {} },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1.5, params: {} },
    { type: 'runAttribution', requestId: 'r', method: 'Saliency', target: 1, params: {} },
    { type: 'runAttribution', requestId: 'r', method: '../x', target: 1, params: {} },
    { type: 'runAttribution', requestId: 'r r', method: 'saliency', target: 1, params: {} },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1, params: { nSteps: Infinity } },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1, params: { nested: { a: 1 } } },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1, params: JSON.parse('{"__proto__": 1}') },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1, params: { s: 'x'.repeat(5000) } },
    { type: 'runAttribution', requestId: 'r', method: 'saliency', target: 1, params: {}, path: '/etc/passwd' },
    { type: 'retarget', requestId: 'r', target: '3' },
    { type: 'compare', requestId: 'c', methods: [], target: 1, sharedScale: true },
    { type: 'compare', requestId: 'c', methods: ['a', 'a'], target: 1, sharedScale: true },
    { type: 'compare', requestId: 'c', methods: ['saliency'], target: 1, sharedScale: 'yes' },
    { type: 'compare', requestId: 'c', methods: ['saliency'], target: 1, sharedScale: true, params: { gradcam: {} } },
    { type: 'export', requestId: 'e', format: 'png' },
    { type: 'export', requestId: 'e', format: 'png', pngDataUrl: 'data:text/html;base64,PGI+' },
    { type: 'export', requestId: 'e', format: 'png', pngDataUrl: 'data:image/png;base64,<script>' },
    { type: 'export', requestId: 'e', format: 'npy', pngDataUrl: 'data:image/png;base64,AAAA' },
    { type: 'export', requestId: 'e', format: 'exe' },
    { type: 'export', requestId: 'e', format: 'json', file: '/tmp/x.json' },
    { type: 'changeMethod' },
    { type: 'changeView', view: { method: 'heat_map', sign: 'all', outlierPerc: 2, alphaOverlay: 0.5 } },
    { type: 'changeView', view: { method: 'heat_map', sign: 'all', outlierPerc: 80, alphaOverlay: 0.5, colormap: 'viridis' } },
    { type: 'changeView', view: { method: 'heat_map', sign: 'all', outlierPerc: 2, alphaOverlay: 0.5, colormap: 'viridis', css: 'x' } },
    { type: 'openSettings', query: 'x' },
    new (class Ready { type = 'ready'; })(),
  ];
  for (const m of bad) assert.equal(isFromWebview(m), false, JSON.stringify(m));
});

test('base64 round-trips bytes and float32 maps', () => {
  // RFC 4648 test vectors
  const enc = (s: string) => bytesToBase64(new TextEncoder().encode(s));
  assert.equal(enc(''), '');
  assert.equal(enc('f'), 'Zg==');
  assert.equal(enc('fo'), 'Zm8=');
  assert.equal(enc('foo'), 'Zm9v');
  assert.equal(enc('foobar'), 'Zm9vYmFy');
  assert.equal(new TextDecoder().decode(base64ToBytes('Zm9vYmE=')), 'fooba');
  assert.throws(() => base64ToBytes('Zm9v!'), /invalid base64/);
  // 1.0f is 0x3f800000 → little-endian bytes 00 00 80 3f → "AACAPw=="
  assert.equal(float32ToBase64(new Float32Array([1])), 'AACAPw==');
  const big = new Float32Array(20000).map((_, i) => Math.sin(i) * 1e-3);
  assert.deepEqual(base64ToFloat32(float32ToBase64(big)), big);
  assert.equal(float32ToBase64(big), Buffer.from(big.buffer).toString('base64'));
});
