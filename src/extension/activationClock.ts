// Imported first by extension.ts, so its clock starts when the bundle starts evaluating. Activation
// cost = bundle evaluation + activate() (VS Code loads the extension's storage in between; that
// wait is not ours). The engine (onnxruntime, sharp) must stay off the extension host.
import { performance } from 'perf_hooks';

export const BUNDLE_START = performance.now();

export function now(): number {
  return performance.now();
}

/** Native engine modules this extension host has loaded (should be none: they live in the engine process). */
export function nativeModulesOnHost(): string[] {
  return Object.keys(require.cache).filter((f) => /[\\/]node_modules[\\/](onnxruntime-node|onnxruntime-common|sharp|@img)[\\/]/.test(f));
}
