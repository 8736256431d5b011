import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultParams, formatParam, missingRequired, parseParam } from '../../webview-ui/src/params';
import type { MethodInfo, ParamSpec } from '../../src/shared/protocol';

const spec = (p: Partial<ParamSpec> & Pick<ParamSpec, 'name' | 'kind'>): ParamSpec => ({ description: p.name, ...p });

test('fields parse by ParamSpec kind, with bounds and one-line errors', () => {
  const nSteps = spec({ name: 'nSteps', kind: 'int', min: 1, max: 1000 });
  assert.deepEqual(parseParam(nSteps, ' 25 '), { value: 25 });
  assert.deepEqual(parseParam(nSteps, ''), {}); // left to the engine's default
  assert.equal(parseParam(nSteps, '2.5').error, 'nSteps must be a whole number, got "2.5"');
  assert.equal(parseParam(nSteps, '0').error, 'nSteps must be at least 1');
  assert.equal(parseParam(nSteps, '1001').error, 'nSteps must be at most 1000');
  assert.deepEqual(parseParam(spec({ name: 'stdevs', kind: 'number' }), '1e-2'), { value: 0.01 });
  assert.match(parseParam(spec({ name: 'stdevs', kind: 'number' }), 'abc').error ?? '', /must be a number/);
  assert.deepEqual(parseParam(spec({ name: 'abs', kind: 'boolean' }), false), { value: false });
  const m = spec({ name: 'method', kind: 'enum', values: ['riemann_left', 'gausslegendre'] });
  assert.deepEqual(parseParam(m, 'gausslegendre'), { value: 'gausslegendre' });
  assert.match(parseParam(m, 'simpson').error ?? '', /one of riemann_left, gausslegendre/);
  const shape = spec({ name: 'slidingWindowShapes', kind: 'shape', required: true });
  assert.deepEqual(parseParam(shape, '(3, 15, 15)'), { value: [3, 15, 15] });
  assert.deepEqual(parseParam(shape, '3x15x15'), { value: [3, 15, 15] });
  assert.match(parseParam(shape, '3, 0').error ?? '', /whole numbers >= 1/);
  assert.match(parseParam(shape, '').error ?? '', /slidingWindowShapes is required/);
  const baseline = spec({ name: 'baselines', kind: 'baseline' });
  assert.deepEqual(parseParam(baseline, '0.5'), { value: 0.5 });
  assert.deepEqual(parseParam(baseline, '[0.485, 0.456, 0.406]'), { value: [0.485, 0.456, 0.406] });
  assert.deepEqual(parseParam(baseline, 'baseline.npy'), { value: 'baseline.npy' });
  assert.deepEqual(parseParam(spec({ name: 'layer', kind: 'layer' }), '/layer4/layer4.1/relu_1/Relu_output_0'), { value: '/layer4/layer4.1/relu_1/Relu_output_0' });
});

test('defaults go on the wire as given; values are shown as field text', () => {
  const info: MethodInfo = {
    id: 'occlusion', captumName: 'Occlusion', family: 'perturbation', description: '', needsGradients: false,
    params: [
      spec({ name: 'slidingWindowShapes', kind: 'shape', required: true }),
      spec({ name: 'strides', kind: 'shape', default: [1] }),
      spec({ name: 'baselines', kind: 'baseline', default: 0 }),
      spec({ name: 'perturbationsPerEval', kind: 'int', default: 1 }),
      spec({ name: 'odd', kind: 'tensor', default: { not: 'sendable' } }),
    ],
  };
  assert.deepEqual(defaultParams(info), { strides: [1], baselines: 0, perturbationsPerEval: 1 });
  assert.deepEqual(missingRequired(info, defaultParams(info)), ['slidingWindowShapes']);
  assert.deepEqual(missingRequired(info, { slidingWindowShapes: [3, 8, 8] }), []);
  assert.equal(formatParam([3, 15, 15]), '3, 15, 15');
  assert.equal(formatParam(undefined), '');
  assert.equal(formatParam(true), 'true');
});

test('number fields step by what the spec needs, so a default is never shown as invalid', async () => {
  const { numberStep } = await import('../../webview-ui/src/params');
  assert.equal(numberStep(spec({ name: 'nSteps', kind: 'int', default: 50, min: 1 })), 1);
  // RISE's probability: default 0.5, min 1e-6: a step of 0.1 from 1e-6 would make 0.5 invalid
  assert.equal(numberStep(spec({ name: 'probability', kind: 'number', default: 0.5, min: 1e-6, max: 1 })), 'any');
  assert.equal(numberStep(spec({ name: 'alpha', kind: 'number', default: 0.5, min: 0, max: 1 })), 0.1);
  assert.equal(numberStep(spec({ name: 'stdevs', kind: 'number', default: 0.25 })), 0.01);
  assert.equal(numberStep(spec({ name: 'eps', kind: 'number', default: 1 })), 0.1);
  assert.equal(numberStep(spec({ name: 'abs', kind: 'boolean' })), undefined);
  // the default is min + k·step for every finite step
  for (const p of [spec({ name: 'a', kind: 'number', default: 0.35, min: 0.05, max: 2 }), spec({ name: 'b', kind: 'number', default: 0.001, min: 0 })]) {
    const st = numberStep(p) as number;
    const k = ((p.default as number) - (p.min ?? 0)) / st;
    assert.ok(Math.abs(k - Math.round(k)) < 1e-9, `${p.name}: step ${st}`);
  }
});
