// Every case of ../shared/conformance (Captum's own numbers) as a test; skipped where the
// folder is absent, except in CI, where ../shared must sit beside the checkout.
import assert from 'node:assert/strict';
import test from 'node:test';
import { runConformance } from '../../src/cli/conformance';
import { CONF, confAbsent } from '../onnx/helpers';

const dir = CONF;

test('Captum conformance cases', { skip: confAbsent }, async (t) => {
  const lines: string[] = [];
  const results = await runConformance(dir, (l) => lines.push(l));
  for (const r of results) {
    await t.test(r.id, () => assert.ok(r.ok, `${r.id}: ${r.why ?? `relative error ${r.relError}`}`));
  }
  assert.match(lines[lines.length - 1], /^\d+ passed, 0 failed$/);
});
