// The engine process bundled as scripts/build.mjs bundles it, inside the repository so that
// onnxruntime and sharp resolve; each test file gets its own output folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

export const ROOT = join(__dirname, '..', '..');

/** Bundles src/extension/engine/engineProcess.ts into .cache/<folder>/engine.js; returns its path. */
export async function bundleEngine(folder: string): Promise<string> {
  const outdir = join(ROOT, '.cache', folder);
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'onnxruntime-node', 'sharp'],
    entryPoints: { engine: join(ROOT, 'src', 'extension', 'engine', 'engineProcess.ts') }, outdir, logLevel: 'warning',
  });
  return join(outdir, 'engine.js');
}
