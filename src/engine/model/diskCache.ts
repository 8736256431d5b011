import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { markUsed, trimsDone, trimSoon } from '../runtime/cacheTrim';
import { cacheDir } from '../runtime/optimizedCache';
import type { HashMemo } from '../onnx/model';

/**
 * Content-addressed cache of derived artefacts (backward graphs, probe shapes) on disk, so a
 * model's second attribution in a new process skips the work. Failures to read or write are
 * ignored: the cache only ever saves time.
 */
export class DiskCache {
  constructor(readonly dir: string) {}

  static default(): DiskCache | undefined {
    const dir = cacheDir();
    return dir === undefined ? undefined : new DiskCache(dir);
  }

  /** Path of a cache entry (whether or not it exists). */
  pathOf(key: string, ext: string): string {
    return this.file(key, ext);
  }

  /**
   * Writes `parts` as one file at `file` unless it is already there with `size` bytes (written
   * whole: temporary file, then rename). False when the cache cannot be written.
   */
  ensureFile(file: string, size: number, parts: Iterable<Uint8Array>): boolean {
    try {
      if (fs.statSync(file).size === size) {
        markUsed(file);
        return true;
      }
    } catch {
      // not there yet
    }
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const fd = fs.openSync(tmp, 'w');
      try {
        for (const p of parts) fs.writeSync(fd, p);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      trimSoon(this.dir);
      return fs.statSync(file).size === size;
    } catch {
      fs.rmSync(tmp, { force: true });
      return false;
    }
  }

  private file(key: string, ext: string): string {
    return path.join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}${ext}`);
  }

  /** Model content hashes by file identity, so an unchanged model is not hashed again. */
  hashMemo(): HashMemo {
    const file = (identity: string) => this.file(`content-hash|${identity}`, '.hash');
    return {
      get: (identity) => {
        try {
          const f = file(identity);
          const h = fs.readFileSync(f, 'latin1');
          if (!/^[0-9a-f]{64}$/.test(h)) return undefined;
          markUsed(f);
          return h;
        } catch {
          return undefined;
        }
      },
      set: (identity, hash) => void this.ensureFile(file(identity), hash.length, [Buffer.from(hash, 'latin1')]),
    };
  }

  getBytes(key: string): Buffer | undefined {
    const file = this.file(key, '.onnx');
    try {
      const bytes = fs.readFileSync(file);
      markUsed(file);
      return bytes;
    } catch {
      return undefined;
    }
  }

  /** Written in the background: a large model must not delay the attribution that built it. */
  putBytes(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key, '.onnx');
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    const p = fs.promises
      .mkdir(this.dir, { recursive: true })
      .then(() => fs.promises.writeFile(tmp, bytes))
      .then(() => fs.promises.rename(tmp, file))
      .then(() => trimSoon(this.dir))
      .catch(() => fs.promises.rm(tmp, { force: true }).catch(() => undefined))
      .finally(() => pending.delete(p));
    pending.add(p);
    return p;
  }

  getJson<T>(key: string): T | undefined {
    const file = this.file(key, '.json');
    try {
      const value = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
      markUsed(file);
      return value;
    } catch {
      return undefined;
    }
  }

  putJson(key: string, value: unknown): void {
    this.write(this.file(key, '.json'), JSON.stringify(value));
  }

  private write(file: string, data: Uint8Array | string): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      // write-then-rename so a reader never sees half a file
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, data);
      // rewriting a record (shapes are stored again on each run) adds nothing: no trim for it
      const added = !fs.existsSync(file);
      fs.renameSync(tmp, file);
      if (added) trimSoon(this.dir);
    } catch {
      // a read-only or full disk only costs the speed-up
    }
  }
}

const pending = new Set<Promise<unknown>>();

let fingerprint: string | undefined;

/**
 * Identifies the engine code that derives cached artefacts, so a changed gradient rule never
 * reuses a backward graph built by the old one: the running bundle's bytes, or (run from
 * sources) the engine's source files.
 */
export function engineFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = createHash('sha256');
  try {
    if (__filename.endsWith('.js')) h.update(fs.readFileSync(__filename));
    else {
      const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name.endsWith('.ts')) h.update(p).update(fs.readFileSync(p));
        }
      };
      // all of src/engine: the rules that derive backward graphs live beside this folder
      walk(path.join(__dirname, '..'));
    }
  } catch {
    h.update(String(Date.now()));
  }
  return (fingerprint = h.digest('hex').slice(0, 16));
}

/** Waits for background cache writes and the trim they start (a CLI calls this before it exits). */
export async function flushDiskCache(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
  await trimsDone();
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
