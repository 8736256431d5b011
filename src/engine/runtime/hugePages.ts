import { spawnSync } from 'child_process';
import * as os from 'os';

/*
 * onnxruntime touches hundreds of megabytes of fresh memory while it builds a session
 * (constant folding, weight reordering, prepacking). On Linux VMs a first touch costs ~3.5 ms
 * per MB in 4 KB pages; glibc's malloc asks for transparent huge pages when the tunable below is
 * set, which halves a cold ResNet-18 saliency. The tunable is read at process start, so it goes
 * into the environment of the processes the engine runs in (src/cli/launcher.ts for the CLI).
 */
const TUNABLE = 'glibc.malloc.hugetlb=1';

/** `env` with glibc's huge-page tunable added (Linux; other tunables kept; ATTRLENS_HUGE_PAGES=0 opts out). */
export function withHugePages(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (process.platform !== 'linux' || env.ATTRLENS_HUGE_PAGES === '0' || env.GLIBC_TUNABLES?.includes('glibc.malloc.hugetlb')) return env;
  return { ...env, GLIBC_TUNABLES: env.GLIBC_TUNABLES ? `${env.GLIBC_TUNABLES}:${TUNABLE}` : TUNABLE };
}

/**
 * Runs this Node.js script again with huge pages and exits with its status, unless this
 * process already has them (or cannot get them). Returns only when the caller should go on.
 */
export function rerunWithHugePages(): void {
  const env = withHugePages(process.env);
  if (env === process.env) return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  if (r.error) return; // could not start: go on without
  process.exit(r.status ?? 128 + (r.signal ? (os.constants.signals[r.signal] ?? 0) : 0));
}
