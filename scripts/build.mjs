// Bundles the extension host, the engine process and the CLI (Node) and the webview (browser).
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const external = ['vscode', 'onnxruntime-node', 'sharp'];

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external,
  logLevel: 'warning',
};

const builds = [
  // dist/cli.js is the small launcher (huge pages or not), dist/attrlens.js the CLI itself
  // (import() becomes require: Node.js 20 drops a vm script's import() hook when it comes from
  // the code cache the launcher keeps)
  { ...node, entryPoints: { cli: 'src/cli/launcher.ts', attrlens: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' }, supported: { 'dynamic-import': false } },
];
if (existsSync('src/extension/extension.ts')) builds.push({ ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' });
if (existsSync('src/extension/engine/engineProcess.ts')) builds.push({ ...node, entryPoints: { engine: 'src/extension/engine/engineProcess.ts' }, outdir: 'dist' });
if (existsSync('webview-ui/src/main.ts')) {
  builds.push({
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    entryPoints: { webview: 'webview-ui/src/main.ts', onnxEditor: 'webview-ui/src/onnxEditor.ts', dataset: 'webview-ui/src/dataset.ts', generation: 'webview-ui/src/generation.ts' },
    outdir: 'dist',
    logLevel: 'warning',
  });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
