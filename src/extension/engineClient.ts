// The host side of the engine process: starts dist/worker.js on first use, matches replies to
// calls by id, forwards progress, and cancels. A crashed engine fails its calls and restarts lazily.
import type { ChildProcess } from 'child_process';
import * as path from 'path';
import type * as vscode from 'vscode';
import { ALWAYS_TRUSTED, TrustGate, refusal } from './trustGate';
import type { FromWorker, ProgressMessage, ToWorker, WorkerCalls, WorkerMethod } from './worker/workerProtocol';

export type WorkerProgress = Omit<ProgressMessage, 'type' | 'id'>;

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
  constructor(message: string, readonly user: boolean, readonly workerStack?: string) {
    super(message);
    this.name = user ? 'AttrLensError' : 'EngineError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: WorkerProgress) => void;
}

export class EngineClient implements vscode.Disposable {
  private worker: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly workerFile: string,
    private readonly log: (line: string) => void,
    private readonly trust: TrustGate = ALWAYS_TRUSTED,
  ) {}

  static forExtension(extensionPath: string, log: (line: string) => void, trust: TrustGate): EngineClient {
    return new EngineClient(path.join(extensionPath, 'dist', 'worker.js'), log, trust);
  }

  call<K extends WorkerMethod>(method: K, args: WorkerCalls[K]['args'], onProgress?: (p: WorkerProgress) => void): EngineCall<WorkerCalls[K]['result']> {
    const id = this.nextId++;
    // Restricted Mode: refused here, before a worker exists, whatever the caller checked already.
    const refused = refusal(this.trust);
    if (refused !== undefined) return { id, promise: Promise.reject(new EngineError(refused, true)), cancel: () => undefined };
    const promise = new Promise<WorkerCalls[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
    });
    try {
      this.send({ type: 'call', id, method, args } as ToWorker);
    } catch (e) {
      this.settle(id, (p) => p.reject(e as Error));
    }
    return { id, promise, cancel: () => this.cancel(id) };
  }

  cancel(id: number): void {
    if (this.pending.has(id) && this.worker?.connected) this.worker.send({ type: 'cancel', id } satisfies ToWorker);
  }

  /** The engine process's id while it runs (diagnostics, tests). */
  get enginePid(): number | undefined {
    return this.worker?.pid;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  private send(msg: ToWorker): void {
    this.ensureWorker().send(msg);
  }

  private ensureWorker(): ChildProcess {
    if (this.worker) return this.worker;
    // required on first use, not at activation
    const { fork } = require('child_process') as typeof import('child_process');
    const { withHugePages } = require('../engine/runtime/hugePages') as typeof import('../engine/runtime/hugePages');
    // The extension host's executable runs as plain Node.js (VS Code's is Electron); typed
    // arrays cross the channel by structured clone.
    const w = fork(this.workerFile, [], {
      env: withHugePages({ ...process.env, ELECTRON_RUN_AS_NODE: '1' }),
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    w.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    w.on('message', (msg: FromWorker) => this.onMessage(msg));
    w.on('error', (e) => {
      this.log(`engine process error: ${e.stack ?? e.message}`);
      if (this.worker === w) this.worker = undefined;
      this.failAll(new EngineError(`the engine could not start: ${e.message}`, false, e.stack));
    });
    w.on('exit', (code, signal) => {
      if (this.worker === w) this.worker = undefined;
      if (code !== 0) this.log(`engine process exited with ${signal ?? `code ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`);
      this.failAll(new EngineError(`the engine stopped (${signal ?? `exit code ${code}`}); run the command again`, false));
    });
    this.worker = w;
    return w;
  }

  private onMessage(msg: FromWorker): void {
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
    this.worker?.removeAllListeners('exit');
    this.worker?.kill();
    this.worker = undefined;
  }
}
