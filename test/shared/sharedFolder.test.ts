// The tests that read ../shared skip only away from CI: in CI its absence must fail them.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { sharedAbsent, tmpDir } from '../onnx/helpers';

test('sharedAbsent: a skip reason away from CI, no skip in CI, none when the file is there', () => {
  const missing = path.join(tmpDir('shared'), 'no-such-file.npy');
  const before = process.env.CI;
  try {
    delete process.env.CI;
    assert.equal(sharedAbsent(missing), `${missing} is absent`);
    process.env.CI = 'true';
    assert.equal(sharedAbsent(missing), false, 'in CI the test runs and fails on the missing file');
    assert.equal(sharedAbsent(__filename), false);
  } finally {
    if (before === undefined) delete process.env.CI;
    else process.env.CI = before;
  }
});
