// The text-mode messages of the panel protocol: what passes isFromWebview and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFromWebview } from '../../src/shared/protocol';

test('valid text-mode webview messages pass', () => {
  const ok: unknown[] = [
    { type: 'runText', requestId: 't-1', method: 'layer-integrated-gradients', params: {} },
    { type: 'runText', requestId: 't-1', method: 'layer-integrated-gradients', target: 0, params: { nSteps: 20, baselineToken: '[MASK]', layer: '' } },
    { type: 'runText', requestId: 't2', method: 'lime', target: 1, params: { granularity: 'word', nSamples: 50, seed: 0 } },
    { type: 'runText', requestId: 't3', method: 'occlusion', params: { slidingWindowShapes: [2], strides: [1] } },
    { type: 'exportText', requestId: 'e1', format: 'json' },
    { type: 'exportText', requestId: 'e1', format: 'csv' },
  ];
  for (const m of ok) assert.equal(isFromWebview(m), true, JSON.stringify(m));
});

test('forged or malformed text-mode messages are refused', () => {
  const bad: unknown[] = [
    { type: 'runText', requestId: 't', method: 'lime' }, // no params
    { type: 'runText', requestId: 't', params: {} }, // no method
    { type: 'runText', method: 'lime', params: {} }, // no requestId
    { type: 'runText', requestId: 't', method: 'lime', params: {}, text: 'injected text' },
    { type: 'runText', requestId: 't', method: 'lime', params: {}, model: '/etc/passwd' },
    { type: 'runText', requestId: 't', method: 'lime', target: -1, params: {} },
    { type: 'runText', requestId: 't', method: 'lime', target: 0.5, params: {} },
    { type: 'runText', requestId: 't', method: 'lime', target: '1', params: {} },
    { type: 'runText', requestId: 't', method: 'lime', target: null, params: {} },
    { type: 'runText', requestId: 't', method: 'Lime', params: {} },
    { type: 'runText', requestId: 't t', method: 'lime', params: {} },
    { type: 'runText', requestId: 't', method: 'lime', params: { granularity: { a: 1 } } },
    { type: 'runText', requestId: 't', method: 'lime', params: { baselineToken: 'x'.repeat(5000) } },
    { type: 'runText', requestId: 't', method: 'lime', params: JSON.parse('{"__proto__": 1}') },
    { type: 'runText', requestId: 't', method: 'lime', params: [] },
    { type: 'exportText', requestId: 'e', format: 'png' },
    { type: 'exportText', requestId: 'e', format: 'npy' },
    { type: 'exportText', requestId: 'e', format: 'csv', path: '/tmp/x.csv' },
    { type: 'exportText', requestId: 'e' },
    { type: 'exportText', format: 'csv' },
    { type: 'textResult', requestId: 'e', result: {} }, // host → webview only
    { type: 'textContext', context: null },
  ];
  for (const m of bad) assert.equal(isFromWebview(m), false, JSON.stringify(m));
});
