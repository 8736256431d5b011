// A NaN is reported, never drawn: an output that is NaN for this input and a map that holds NaN
// (an undefined gradient) are one-line errors, with or without an explicit target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttrLensError } from '../../src/engine/core/errors';
import { feed, model, run } from './helpers';

test('an output that is NaN at the input is an error, also when the target is given', async () => {
  // y = (sqrt(x0), x1): NaN for x0 < 0
  const lm = await model([2], (b) => b.op('Sqrt', ['x']));
  for (const target of [undefined, 1]) {
    for (const method of ['saliency', 'integrated-gradients', 'occlusion']) {
      const params = method === 'occlusion' ? { slidingWindowShapes: [1] } : {};
      await assert.rejects(run(lm, feed([1, 2], [-1, 4]), method, target as number, params), (e: unknown) => {
        assert.ok(e instanceof AttrLensError, String(e));
        assert.match(e.message, /output '.*' is NaN for this input/);
        assert.ok(!e.message.includes('\n'));
        return true;
      }, `${method}, target ${target}`);
    }
  }
});

test('a finite output whose gradient is NaN gives an error naming the method, not a NaN map', async () => {
  // y = sqrt(x) · (0, 1): y0 = 0 at x0 = 0, where ∂y0/∂x0 = 0 · 1/(2·sqrt(0)) = 0 · ∞ = NaN
  const lm = await model([2], (b) => b.op('Mul', [b.op('Sqrt', ['x']), b.f32([0, 1], [2])]));
  await assert.rejects(run(lm, feed([1, 2], [0, 4]), 'saliency', 0), /Saliency's attribution for 'x' holds NaN/);
  // where the gradient is defined the same model attributes as usual
  const ok = await run(lm, feed([1, 2], [1, 4]), 'saliency', 1);
  assert.deepEqual(Array.from(Object.values(ok.attributions)[0].data as Float32Array), [0, 0.25]);
});
