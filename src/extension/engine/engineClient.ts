// The host side of the engine process: starts dist/engine.js on first use, matches replies to
// calls by id, forwards progress, and cancels. A crashed engine fails its calls and restarts lazily.
import type { ChildProcess } from 'child_process';
import * as path from 'path';
import type * as vscode from 'vscode';
import { ALWAYS_TRUSTED, TrustGate, refusal } from '../trustGate';
import type { FromEngine, ProgressMessage, ToEngine, EngineCalls, EngineMethod } from './engineProtocol';

export type EngineProgress = Omit<ProgressMessage, 'type' | 'id'>;

/** A call in flight. */
export interface EngineCall<T> {
  readonly id: number;
  readonly promise: Promise<T>;
  cancel(): void;
}

/** The user cancelled: not an error to show. */
export class CallCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** An error from the engine; `user` when its message is meant for the user as is. */
export class EngineError extends Error {
  constructor(message: string, readonly user: boolean, readonly engineStack?: string) {
    super(message);
    this.name = user ? 'AttrLensError' : 'EngineError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: EngineProgress) => void;
}

export class EngineClient implements vscode.Disposable {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly engineFile: string,
    private readonly log: (line: string) => void,
    private readonly trust: TrustGate = ALWAYS_TRUSTED,
  ) {}

  static forExtension(extensionPath: string, log: (line: string) => void, trust: TrustGate): EngineClient {
    return new EngineClient(path.join(extensionPath, 'dist', 'engine.js'), log, trust);
  }

  call<K extends EngineMethod>(method: K, args: EngineCalls[K]['args'], onProgress?: (p: EngineProgress) => void): EngineCall<EngineCalls[K]['result']> {
    const id = this.nextId++;
    // Restricted Mode: refused here, before an engine process exists, whatever the caller checked already.
    const refused = refusal(this.trust);
    if (refused !== undefined) return { id, promise: Promise.reject(new EngineError(refused, true)), cancel: () => undefined };
    const promise = new Promise<EngineCalls[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
    });
    try {
      this.send({ type: 'call', id, method, args } as ToEngine);
    } catch (e) {
      this.settle(id, (p) => p.reject(e as Error));
    }
    return { id, promise, cancel: () => this.cancel(id) };
  }

  cancel(id: number): void {
    if (this.pending.has(id) && this.child?.connected) this.child.send({ type: 'cancel', id } satisfies ToEngine);
  }

  /** The engine process's id while it runs (diagnostics, tests). */
  get enginePid(): number | undefined {
    return this.child?.pid;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  private send(msg: ToEngine): void {
    this.ensureEngine().send(msg);
  }

  private ensureEngine(): ChildProcess {
    if (this.child) return this.child;
    // required on first use, not at activation
    const { fork } = require('child_process') as typeof import('child_process');
    const { withHugePages } = require('../../engine/runtime/hugePages') as typeof import('../../engine/runtime/hugePages');
    // The extension host's executable runs as plain Node.js (VS Code's is Electron); typed
    // arrays cross the channel by structured clone.
    const w = fork(this.engineFile, [], {
      env: withHugePages({ ...process.env, ELECTRON_RUN_AS_NODE: '1' }),
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    w.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    w.on('message', (msg: FromEngine) => this.onMessage(msg));
    w.on('error', (e) => {
      this.log(`engine process error: ${e.stack ?? e.message}`);
      if (this.child === w) this.child = undefined;
      this.failAll(new EngineError(`the engine could not start: ${e.message}`, false, e.stack));
    });
    w.on('exit', (code, signal) => {
      if (this.child === w) this.child = undefined;
      if (code !== 0) this.log(`engine process exited with ${signal ?? `code ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`);
      this.failAll(new EngineError(`the engine stopped (${signal ?? `exit code ${code}`}); run the command again`, false));
    });
    this.child = w;
    return w;
  }

  private onMessage(msg: FromEngine): void {
    switch (msg.type) {
      case 'progress': {
        const { type: _t, id, ...p } = msg;
        this.pending.get(id)?.onProgress?.(p);
        return;
      }
      case 'result':
        this.settle(msg.id, (p) => p.resolve(msg.value));
        return;
      case 'error':
        if (msg.stack) this.log(msg.stack);
        this.settle(msg.id, (p) =>
          p.reject(msg.name === 'CancelledError' ? new CallCancelledError() : new EngineError(msg.message, msg.name === 'AttrLensError', msg.stack)),
        );
        return;
    }
  }

  private settle(id: number, f: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    f(p);
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }

  dispose(): void {
    this.failAll(new CallCancelledError());
    this.child?.removeAllListeners('exit');
    this.child?.kill();
    this.child = undefined;
  }
}
