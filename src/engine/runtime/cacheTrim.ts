// A size cap on the cache folder with least-recently-used eviction. Every process that writes
// something new trims once, in the background; `attrlens cache --trim` trims on demand. "Used" is
// the newest of a file's mtime and atime, and readers bump the mtime of what they use (once per
// process per file), since relatime mounts update atime at most once a day.
import * as fs from 'fs';
import * as path from 'path';

const DEFAULT_MAX_MB = 2048;
/** a trim stops at ~75% of the cap, so the next few writes do not trim again */
const TARGET = 0.75;
/** a temporary file or unpublished optimised model younger than this may still be being written */
const STALE_MS = 60 * 60 * 1000;
/** entries used this recently may be in use by a running process (a model file refers to its weights by name) */
const RECENT_MS = 10 * 60 * 1000;

const OURS = /^[0-9a-f]{40}\./;
const MANIFEST = /^([0-9a-f]{40})\.opt\.json$/;
const OPT_FILE = /^([0-9a-f]{40})\.\d+\.\d+\.opt\.(?:onnx|data)$/;

/** The cap in bytes: ATTRLENS_CACHE_MAX_MB (MB, default 2048). */
export function cacheMaxBytes(): number {
  const mb = Number(process.env.ATTRLENS_CACHE_MAX_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MAX_MB) * 1024 * 1024;
}

export interface TrimOptions {
  maxBytes?: number;
  /** list and plan only: nothing is deleted */
  dryRun?: boolean;
  /** the current time (tests) */
  now?: number;
  /** entries used within this many ms are kept even above the cap */
  recentMs?: number;
}

export interface TrimResult {
  dir: string;
  /** the cache's files (names starting with a content hash; nothing else is counted or touched) and their size before */
  files: number;
  bytes: number;
  maxBytes: number;
  /** names removed (with dryRun: that would be), in order */
  removed: string[];
  removedBytes: number;
  /** how many of `removed` were stale temporary files or unpublished optimised models */
  stale: number;
  ms: number;
}

interface FileInfo {
  name: string;
  size: number;
  used: number;
}

/**
 * Trims the cache folder `dir`: stale temporary files and unpublished optimised models (older
 * than an hour) always go; then, above the cap, least-recently-used entries until the total is at
 * most 75% of it. An optimised model's manifest, model and data are one entry, the manifest
 * removed first. Symlinks, folders and files not named like ours are left alone. Never throws.
 */
export async function trimCache(dir: string, opts: TrimOptions = {}): Promise<TrimResult> {
  const t0 = performance.now();
  const result: TrimResult = { dir, files: 0, bytes: 0, maxBytes: opts.maxBytes ?? cacheMaxBytes(), removed: [], removedBytes: 0, stale: 0, ms: 0 };
  try {
    await trim(dir, opts, result);
  } catch {
    // no folder, or not readable: nothing (more) to trim
  }
  result.ms = performance.now() - t0;
  return result;
}

async function trim(dir: string, opts: TrimOptions, result: TrimResult): Promise<void> {
  const now = opts.now ?? Date.now();
  const maxBytes = result.maxBytes;
  const recentMs = opts.recentMs ?? RECENT_MS;
  const names = (await fs.promises.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() && OURS.test(d.name)).map((d) => d.name);
  const files = new Map<string, FileInfo>();
  // a few at a time: the thread pool also decodes images and writes the cache
  for (let i = 0; i < names.length; i += 64) {
    await Promise.all(
      names.slice(i, i + 64).map(async (name) => {
        try {
          const st = await fs.promises.lstat(path.join(dir, name));
          if (st.isFile()) files.set(name, { name, size: st.size, used: Math.max(st.mtimeMs, st.atimeMs) });
        } catch {
          // gone meanwhile
        }
      }),
    );
  }
  result.files = files.size;
  for (const f of files.values()) result.bytes += f.size;

  // optimised models: each manifest with the files it names (only its own key's, only files in this listing)
  const groups: FileInfo[][] = [];
  const named = new Set<string>();
  const unreadable = new Set<string>();
  const manifests = new Map<string, string[]>();
  for (const f of files.values()) {
    const key = MANIFEST.exec(f.name)?.[1];
    if (!key) continue;
    let listed: string[] = [];
    try {
      listed = manifestFiles(key, await readText(dir, f.name));
    } catch {
      unreadable.add(key); // its files are not orphans as far as we know
    }
    manifests.set(f.name, listed);
    const members = listed.filter((n) => files.has(n) && !named.has(n));
    for (const n of members) named.add(n);
    groups.push([f, ...members.map((n) => files.get(n)!)]);
  }

  let total = result.bytes;
  const stale: FileInfo[] = [];
  for (const f of files.values()) {
    if (MANIFEST.test(f.name) || named.has(f.name)) continue;
    const opt = OPT_FILE.exec(f.name);
    const unpublished = f.name.endsWith('.tmp') || (opt !== null && !unreadable.has(opt[1]));
    if (!unpublished) groups.push([f]);
    else if (now - f.used > STALE_MS) stale.push(f);
    // younger: maybe being written; counted, never evicted
  }
  for (const f of stale) {
    if (opts.dryRun || (await unlinkIfUnused(dir, f))) {
      result.removed.push(f.name);
      result.removedBytes += f.size;
      result.stale++;
      total -= f.size;
    }
  }

  if (total > maxBytes) {
    const used = (g: FileInfo[]) => Math.max(...g.map((f) => f.used));
    const size = (g: FileInfo[]) => g.reduce((a, f) => a + f.size, 0);
    groups.sort((a, b) => used(a) - used(b) || (a[0].name < b[0].name ? -1 : 1));
    for (const g of groups) {
      if (total <= maxBytes * TARGET || now - used(g) < recentMs) break;
      if (!opts.dryRun && !(await removeEntry(dir, g, manifests.get(g[0].name)))) continue;
      for (const f of g) result.removed.push(f.name);
      result.removedBytes += size(g);
      total -= size(g);
    }
  }
}

/** The model and data file names a manifest's text names, when they are its key's optimised-model files. */
function manifestFiles(key: string, text: string): string[] {
  const m = JSON.parse(text) as { model?: unknown; data?: unknown };
  return [m.model, m.data].filter((n): n is string => typeof n === 'string' && OPT_FILE.exec(n)?.[1] === key);
}

/** Deletes an entry's files, the manifest first; false when it was used or changed since the listing, or cannot be deleted. */
async function removeEntry(dir: string, g: FileInfo[], names: string[] | undefined): Promise<boolean> {
  if (names !== undefined) {
    // republished meanwhile: the manifest now names other files, which must not lose it
    try {
      const key = MANIFEST.exec(g[0].name)![1];
      if (manifestFiles(key, await readText(dir, g[0].name)).join() !== names.join()) return false;
    } catch {
      // unreadable or damaged: no reader trusts it either
    }
  }
  for (const f of g) if (!(await unusedSince(dir, f))) return false;
  // the manifest first: a reader never finds one whose files are gone (readers check sizes and stamps anyway)
  for (const [i, f] of g.entries()) {
    const ok = await unlink(dir, f.name);
    if (!ok && i === 0) return false;
  }
  return true;
}

/** A manifest's text, read without following a symlink and without moving its atime (our reading is not a use). */
async function readText(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  const flag = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0);
  try {
    return await fs.promises.readFile(file, { encoding: 'utf8', flag: flag | (fs.constants.O_NOATIME ?? 0) });
  } catch (e) {
    // O_NOATIME needs the file's owner
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    return fs.promises.readFile(file, { encoding: 'utf8', flag });
  }
}

async function unlinkIfUnused(dir: string, f: FileInfo): Promise<boolean> {
  return (await unusedSince(dir, f)) && unlink(dir, f.name);
}

/** Still the regular file listed, not rewritten or marked used since (its atime: our own reads of manifests move it). */
async function unusedSince(dir: string, f: FileInfo): Promise<boolean> {
  try {
    const st = await fs.promises.lstat(path.join(dir, f.name));
    return st.isFile() && st.mtimeMs <= f.used;
  } catch {
    return false;
  }
}

/** unlink never follows a symlink; `name` comes from the folder's own listing */
async function unlink(dir: string, name: string): Promise<boolean> {
  try {
    await fs.promises.unlink(path.join(dir, name));
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

const trimmed = new Set<string>();
const pending = new Set<Promise<unknown>>();

/** After a write into `dir`: trims it in the background, once per process. */
export function trimSoon(dir: string): void {
  if (trimmed.has(dir)) return;
  trimmed.add(dir);
  const p = new Promise((resolve) => setImmediate(resolve))
    .then(() => trimCache(dir))
    .catch(() => undefined)
    .finally(() => pending.delete(p));
  pending.add(p);
}

/** Waits for background trims (a CLI waits before it exits). */
export async function trimsDone(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
}

const touched = new Set<string>();

/** Marks a cache file as used now (its mtime), once per process per file; errors are ignored. */
export function markUsed(file: string): void {
  if (touched.has(file)) return;
  touched.add(file);
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // read-only or gone: it just looks older
  }
}
