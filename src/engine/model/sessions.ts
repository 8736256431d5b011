// The sessions of one opened model: each built once per key (forward, backward graphs, cut
// models), derived models kept in the content-addressed disk cache on request, and the model's
// weights written once to a page-aligned file that derived models refer to as external data.
import * as fs from 'fs';
import * as path from 'path';
import { OnnxModel } from '../onnx/model';
import { leaseScratch } from '../onnx/wire';
import { RuntimeOptions, Session } from '../runtime/session';
import { DiskCache } from './diskCache';

const PAGE = 65536;

export class SessionCache {
  private sessions = new Map<string, Promise<Session>>();
  private weightsLayout: { file: string; size: number; at: Map<ArrayBufferLike, Map<number, number>> } | null | undefined;

  /** `contentKey` names the model's exact content and batch rewrite (undefined: nothing goes to disk) */
  constructor(
    private readonly model: OnnxModel,
    private readonly options: RuntimeOptions,
    private readonly label: string,
    private readonly disk: DiskCache | undefined,
    private readonly contentKey: () => string | undefined,
  ) {}

  /** Releases every session built so far. */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release(), () => undefined)));
  }

  /** Whether `get(key, ...)` would return a session built earlier (or being built). */
  has(key: string): boolean {
    return this.sessions.has(key);
  }

  /**
   * The session for `key`, built once from `build` (a model derived from this one, e.g. a backward
   * graph); with `persist`, the derived bytes are also kept in the content-addressed disk cache.
   */
  get(key: string, build: () => OnnxModel | Uint8Array, persist = false): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      s = (async () => {
        const diskKey = persist && this.disk && this.contentKey() ? `${this.contentKey()}|${key}` : undefined;
        const viaFile = this.sessionFromWeightsFile(key, build, diskKey);
        if (viaFile) {
          try {
            return await viaFile;
          } catch {
            // a cache file trimmed or damaged under us: build in memory (a model error recurs there)
          }
        }
        const stored = diskKey ? this.disk!.getBytes(diskKey) : undefined;
        if (stored) return Session.create(stored, this.options, this.label);
        const lease = leaseScratch();
        let handedOff = false;
        try {
          const m = build();
          const bytes = m instanceof OnnxModel ? m.toBytes(lease.alloc) : m;
          if (diskKey) {
            // the background write holds the buffer until it is done
            handedOff = true;
            void this.disk!.putBytes(diskKey, bytes).finally(lease.release);
          }
          return await Session.create(bytes, this.options, this.label);
        } finally {
          if (!handedOff) lease.release();
        }
      })();
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /**
   * The model's large initializers, once per model content, in one page-aligned file in the disk
   * cache; derived models (forward, backward graphs) are small files beside it that refer to it
   * as external data, which onnxruntime maps from the page cache instead of copying: session
   * creation touches far less fresh memory, and a cached backward graph costs kilobytes, not
   * the weights again. Undefined when the cache is off or cannot be written.
   */
  private weights(): { file: string; size: number; at: Map<ArrayBufferLike, Map<number, number>> } | undefined {
    // another process's cache trim may have removed the file since: write it again
    if (this.weightsLayout && sizeOf(this.weightsLayout.file) !== this.weightsLayout.size) this.weightsLayout = undefined;
    if (this.weightsLayout !== undefined) return this.weightsLayout ?? undefined;
    this.weightsLayout = null;
    const big = this.model.graph.initializer.filter((t) => t.rawData && t.rawData.byteLength >= 4096);
    const total = big.reduce((a, t) => a + t.rawData!.byteLength, 0);
    if (!this.disk || !this.model.contentHash || total < 1 << 20) return undefined;
    const at = new Map<ArrayBufferLike, Map<number, number>>();
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const t of big) {
      const raw = t.rawData!;
      const byBuffer = at.get(raw.buffer) ?? new Map<number, number>();
      at.set(raw.buffer, byBuffer);
      if (byBuffer.has(raw.byteOffset)) continue;
      const pad = (PAGE - (offset % PAGE)) % PAGE;
      if (pad) parts.push(new Uint8Array(pad));
      offset += pad;
      byBuffer.set(raw.byteOffset, offset);
      parts.push(raw);
      offset += raw.byteLength;
    }
    const file = this.disk.pathOf(`weights|${this.model.contentHash}`, '.weights');
    if (!this.disk.ensureFile(file, offset, parts)) return undefined;
    this.weightsLayout = { file, size: offset, at };
    return this.weightsLayout;
  }

  private sessionFromWeightsFile(key: string, build: () => OnnxModel | Uint8Array, diskKey: string | undefined): Promise<Session> | undefined {
    const w = this.weights();
    if (!w) return undefined;
    const file = this.disk!.pathOf(diskKey ?? `${this.contentKey() ?? this.model.contentHash}|${key}|${process.pid}|${Date.now()}`, '.model.onnx');
    if (diskKey && fs.existsSync(file)) return Session.create(file, this.options, this.label);
    const m = build();
    if (!(m instanceof OnnxModel)) return undefined;
    const location = path.basename(w.file);
    const inits = m.graph.initializer.map((t) => {
      const raw = t.rawData;
      const offset = raw ? w.at.get(raw.buffer)?.get(raw.byteOffset) : undefined;
      if (offset === undefined) return t;
      return {
        ...t,
        rawData: undefined,
        dataLocation: 1,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw!.byteLength) },
        ],
      };
    });
    const bytes = m.toBytes(undefined, inits);
    if (!this.disk!.ensureFile(file, bytes.byteLength, [bytes])) return undefined;
    return Session.create(file, this.options, this.label).finally(() => {
      if (!diskKey) fs.rmSync(file, { force: true });
    });
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}
