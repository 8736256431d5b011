// Every case of ../shared/conformance (Captum's own numbers) as a test; skipped where the
// folder is absent (it sits beside the checkout on developer machines and in CI).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { runConformance } from '../../src/cli/conformance';

const dir = path.resolve(__dirname, '..', '..', '..', 'shared', 'conformance');
const present = fs.existsSync(path.join(dir, 'cases.json'));

test('Captum conformance cases', { skip: present ? false : `${dir} not found` }, async (t) => {
  const lines: string[] = [];
  const results = await runConformance(dir, (l) => lines.push(l));
  for (const r of results) {
    await t.test(r.id, () => assert.ok(r.ok, `${r.id}: ${r.why ?? `relative error ${r.relError}`}`));
  }
  assert.match(lines[lines.length - 1], /^\d+ passed, 0 failed$/);
});
