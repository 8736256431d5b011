// The one place that touches VS Code's webview API; only <al-app> uses it.
import type { FromWebview } from '../../src/shared/protocol';

interface WebviewApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): WebviewApi<S>;

let api: WebviewApi<unknown> | undefined;

/** Typed host connection; `acquireVsCodeApi` may be called once per page, so it is cached. */
export interface Host<S> {
  post(message: FromWebview): void;
  getState(): S | undefined;
  setState(state: S): void;
}

export function connectHost<S>(): Host<S> {
  api ??= acquireVsCodeApi<unknown>();
  const a = api as WebviewApi<S>;
  return {
    post: (message) => a.postMessage(message),
    getState: () => a.getState(),
    setState: (state) => a.setState(state),
  };
}
