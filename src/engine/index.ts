// The engine's public entry, shared by the extension (in an engine process), the CLI and tests.
export { attribute, listMethods, getMethod, predict } from './methods/registry';
export { inspectModel, type ModelInspection } from './model/inspect';
export { LoadedModel, type IOInfo, type Progress } from './model/loadedModel';
export { loadInputs, type LoadedInputs } from './inputs';
export { AttrLensError, CancelledError } from './core/errors';
export type * from './methods/types';
export type { Tensor, DType } from './core/tensor';

import { LoadedModel } from './model/loadedModel';
import type { RuntimeOptions } from './runtime/session';

/** Opens (or returns the cached) model at `file`. */
export function openModel(file: string, runtime: RuntimeOptions = {}): Promise<LoadedModel> {
  return LoadedModel.open(file, runtime);
}
export * from './metrics';
export * from './text';
