// `attrlens` (dist/cli.js): a few lines that decide where the CLI (dist/attrlens.js) runs before
// loading it. glibc reads its huge-page tunable only at process start, and huge pages halve the
// first session builds of a model; once a model's optimised sessions are cached they save ~0.03 s
// while a second Node.js start costs ~0.1 s. So: a child with huge pages the first time this
// command meets this model (and this build), this same process afterwards.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { withHugePages } from '../engine/runtime/hugePages';
import { cacheDir } from '../engine/runtime/optimizedCache';

const SESSION_COMMANDS = ['attribute', 'conformance', 'evaluate', 'sanity', 'dataset', 'demo'];
/** flags naming inputs and outputs: other values of these do not change which sessions a run builds */
const IO_FLAGS = new Set(['--input', '--out', '--png', '--out-dir', '--data', '--images', '--image']);

const main = path.join(__dirname, 'attrlens.js');
const argv = process.argv.slice(2);

/** The marker file saying this run's sessions are cached; undefined: always start with huge pages. */
function warmMarker(): string | undefined {
  const dir = cacheDir();
  const at = argv.indexOf('--model');
  if (!dir || at < 0 || !argv[at + 1]) return undefined;
  try {
    const model = path.resolve(argv[at + 1]);
    const st = fs.statSync(model);
    const self = fs.statSync(main);
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (IO_FLAGS.has(argv[i])) i++;
      else rest.push(argv[i]);
    }
    const key = JSON.stringify([model, st.size, st.mtimeMs, self.size, self.mtimeMs, rest]);
    return path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.warm`);
  } catch {
    return undefined;
  }
}

function run(): void {
  if (!SESSION_COMMANDS.includes(argv[0])) return;
  const env = withHugePages(process.env);
  if (env === process.env) return; // has them already, or cannot have them
  const marker = warmMarker();
  if (marker && fs.existsSync(marker)) return;
  const r = spawnSync(process.execPath, [...process.execArgv, main, ...argv], { stdio: 'inherit', env });
  if (r.error) return; // could not start: go on here without
  if (r.status === 0 && marker) {
    try {
      fs.writeFileSync(marker, '');
    } catch {
      // read-only cache: the next run starts a child again
    }
  }
  process.exit(r.status ?? 128 + (r.signal ? (os.constants.signals[r.signal] ?? 0) : 0));
}

run();
require(main);
