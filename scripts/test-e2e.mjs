// npm run test:e2e: installs what the end-to-end tests need (scripts/e2e-setup.sh: Node 24,
// Chromium, code-server), packages the .vsix, then runs every test/e2e/**/*.test.ts under
// Node's test runner. Ends with one line: "N passed, M failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function step(title, cmd, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`test-e2e: ${title} failed (exit ${r.status})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

step('setup (.e2e: Node 24, Chromium, code-server)', 'bash', [join(root, 'scripts', 'e2e-setup.sh')]);
step('package the .vsix (production build)', process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--target', 'linux-x64']);

function find(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'fixtures' ? [] : find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}
const files = find(join(root, 'test', 'e2e'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .map((f) => relative(root, f));
console.log(`\n== ${files.length} test files: ${files.join(', ')}`);

// Human-readable progress on stdout; a TAP copy to count results from.
const tapDir = mkdtempSync(join(tmpdir(), 'attrlens-tap-'));
const tap = join(tapDir, 'e2e.tap');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { cwd: root, stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
try {
  const text = readFileSync(tap, 'utf8');
  passed = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  failed = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0);
} catch {
  failed = Math.max(1, failed);
}
rmSync(tapDir, { recursive: true, force: true });
if (r.status !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && r.status === 0 ? 0 : 1);
