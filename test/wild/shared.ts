// ../shared beside the checkout: on developer machines and in CI. Absent elsewhere, the tests
// that need it skip; in CI (CI=true) its absence is a failure, not a skip.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sharedDir(name: string): string | undefined {
  const dir = path.resolve(__dirname, '..', '..', '..', 'shared', name);
  if (fs.existsSync(dir)) return dir;
  if (process.env.CI === 'true') throw new Error(`${dir} is missing: CI runs with ../shared beside the checkout`);
  return undefined;
}

