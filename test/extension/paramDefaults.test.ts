// Occlusion's required window filled from the image size when the user has not set one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MethodInfo } from '../../src/engine';
import { withSuggestedDefaults } from '../../src/extension/paramDefaults';

const occlusion: MethodInfo = {
  id: 'occlusion', captumName: 'Occlusion', family: 'perturbation', description: '', needsGradients: false,
  params: [
    { name: 'slidingWindowShapes', kind: 'shape', required: true, description: '' },
    { name: 'strides', kind: 'shape', description: '' },
  ],
};

test('a window of 1/8 of each side over all channels, moved by half a window', () => {
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 3, 224, 224]), { slidingWindowShapes: [3, 28, 28], strides: [3, 14, 14] });
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 3, 64, 60]), { slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] });
  // NHWC keeps channels last
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 32, 32, 3]), { slidingWindowShapes: [4, 4, 3], strides: [2, 2, 3] });
});

test('values the user set are kept, and nothing is invented for other inputs or methods', () => {
  assert.deepEqual(withSuggestedDefaults(occlusion, { slidingWindowShapes: [3, 5, 5] }, [1, 3, 64, 64]), { slidingWindowShapes: [3, 5, 5] });
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 'seq']), {});
  assert.deepEqual(withSuggestedDefaults(occlusion, {}, [1, 3, null, 64]), {});
  const saliency: MethodInfo = { ...occlusion, id: 'saliency', params: [{ name: 'abs', kind: 'boolean', default: true, description: '' }] };
  assert.deepEqual(withSuggestedDefaults(saliency, {}, [1, 3, 64, 64]), {});
});
