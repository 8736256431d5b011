// The engine worker bundled as scripts/build.mjs bundles it, inside the repository so that
// onnxruntime and sharp resolve; each test file gets its own output folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

export const ROOT = join(__dirname, '..', '..');

/** Bundles src/extension/worker/engineWorker.ts into .cache/<folder>/worker.js; returns its path. */
export async function bundleWorker(folder: string): Promise<string> {
  const outdir = join(ROOT, '.cache', folder);
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'onnxruntime-node', 'sharp'],
    entryPoints: { worker: join(ROOT, 'src', 'extension', 'worker', 'engineWorker.ts') }, outdir, logLevel: 'warning',
  });
  return join(outdir, 'worker.js');
}
