// npm run bench:runs [-- --runs 3 <bench args>]: `npm run bench` N times in a row, then each
// issue-16 target over every run (the worst run decides whether it is met).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const i = argv.indexOf('--runs');
const runs = i >= 0 ? Number(argv.splice(i, 2)[1]) : 3;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-bench-runs-'));
const results = [];
for (let r = 0; r < runs; r++) {
  console.log(`\n=== run ${r + 1} of ${runs}`);
  const out = path.join(tmp, `run${r}.json`);
  const p = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'bench.ts'), ...argv, '--json-out', out], { stdio: 'inherit' });
  if (p.status !== 0 || !fs.existsSync(out)) {
    console.log(`run ${r + 1} failed (exit ${p.status})`);
    process.exit(1);
  }
  results.push(JSON.parse(fs.readFileSync(out, 'utf8')));
}
const names = [...new Set(results.flatMap((r) => r.targets.map((t) => t.name)))];
console.log(`\n| target (issue 16) | ${results.map((_, k) => `run ${k + 1}`).join(' | ')} | limit | over ${runs} runs |`);
console.log(`|---|${results.map(() => '---|').join('')}---|---|`);
let metAll = 0;
for (const n of names) {
  const ts = results.map((r) => r.targets.find((t) => t.name === n));
  const t0 = ts.find(Boolean);
  const ok = ts.every((t) => t && (t.atLeast ? t.value >= t.limit : t.value <= t.limit));
  if (ok) metAll++;
  console.log(`| ${n} | ${ts.map((t) => (t ? t.value.toFixed(2) : '–')).join(' | ')} | ${t0.atLeast ? '≥' : '≤'} ${t0.limit} | ${ok ? 'met' : 'not met'} |`);
}
console.log(`targets met in every run: ${metAll} of ${names.length}`);
console.log(`forward batch 1 (ms): ${results.map((r) => (r.forward.b1 * 1000).toFixed(1)).join(', ')}; per image at batch 16: ${results.map((r) => (r.forward.b16 * 1000).toFixed(1)).join(', ')}`);
fs.rmSync(tmp, { recursive: true, force: true });
