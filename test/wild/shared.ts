// ../shared beside the checkout, for the tests of this folder; see sharedAbsent for what its
// absence means (a skip away from CI, a failure in CI).
import * as path from 'node:path';
import { SHARED, sharedAbsent } from '../onnx/helpers';

export function sharedDir(name: string): string | undefined {
  const dir = path.join(SHARED, name);
  return sharedAbsent(dir) ? undefined : dir;
}
