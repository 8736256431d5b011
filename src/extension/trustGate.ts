// Workspace Trust as plain logic (vscode-free, unit-tested): in Restricted Mode the engine process
// is not started, so no model file is parsed or run and no native module is loaded.
import type { WorkspaceTrust } from '../shared/protocol';

export interface TrustGate {
  trusted(): boolean;
  /** one line for the user: why nothing runs and what to do */
  reason(): string;
}

/** For the CLI-like uses of the engine client (tests, scripts): the caller vouches for its files. */
export const ALWAYS_TRUSTED: TrustGate = { trusted: () => true, reason: () => '' };

export function trustState(gate: TrustGate): WorkspaceTrust {
  return gate.trusted() ? { restricted: false } : { restricted: true, reason: gate.reason() };
}

/** The one-line refusal for an engine call, or undefined when it may run. Asked at every call. */
export function refusal(gate: TrustGate): string | undefined {
  return gate.trusted() ? undefined : gate.reason();
}
