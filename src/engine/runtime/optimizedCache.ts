// onnxruntime's optimised models, kept on disk: building a session spends most of its time in
// graph optimisation (fusions, NCHWc layout, weight reorders); a session over the saved
// optimised model skips it. The optimised graph is specific to this machine (NCHWc blocking
// follows the CPU's vector width) and to onnxruntime's version, so both are in the key.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { markUsed, trimSoon } from './cacheTrim';

/** The per-user cache folder (ATTRLENS_CACHE_DIR; 'off': none). */
export function cacheDir(): string | undefined {
  const env = process.env.ATTRLENS_CACHE_DIR;
  if (env === 'off') return undefined;
  return path.resolve(env || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'attribution-lens'));
}

let machine: string | undefined;
let ortVersion: string | undefined;

/** onnxruntime-node's version: decisions that depend on what it accepts are keyed by it. */
export function runtimeVersion(): string {
  if (ortVersion) return ortVersion;
  try {
    ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // no package.json to read: the entry file's size and time stand in
    try {
      const st = fs.statSync(require.resolve('onnxruntime-node'));
      ortVersion = `${st.size}|${st.mtimeMs}`;
    } catch {
      ortVersion = String(Date.now());
    }
  }
  return ortVersion;
}

/** onnxruntime's version and the CPU (model, flags): what an optimised graph depends on besides the model. */
function machineKey(): string {
  if (machine) return machine;
  let cpu = `${os.arch()}|${os.cpus()[0]?.model ?? ''}`;
  try {
    // flags say which vector extensions onnxruntime's kernels and NCHWc block size use
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    cpu += `|${/^flags\s*:(.*)$/m.exec(info)?.[1] ?? ''}`;
  } catch {
    // not Linux: the model name and architecture stand for the CPU
  }
  return (machine = `${runtimeVersion()}|${cpu}`);
}

/** The manifest that makes an entry valid: written last, after both files are complete. */
interface Manifest {
  model: string;
  modelSize: number;
  data: string;
  dataSize: number;
  /** size, inode and mtime of each file as written: a file rewritten since (same size) is not ours */
  stamps?: string[];
}

export interface OptimizedEntry {
  /** the saved optimised model, when a complete one is on disk */
  file?: string;
  /** session options that save the optimised model of a fresh session for next time */
  save: { optimizedModelFilePath: string; extra: Record<string, string> };
  /** call after the saving session was created: publishes the entry */
  commit(): void;
  /** call when the saved model did not load (or the save failed): removes the entry and any half-written files */
  discard(): void;
}

/**
 * The cache entry for a model file in the cache folder (its external data, if any, also there
 * and content-addressed), under these session options. Undefined when the file is elsewhere
 * (a user's model: nothing is written beside it) or the cache is off.
 */
export function optimizedEntry(modelFile: string, options: unknown): OptimizedEntry | undefined {
  const dir = cacheDir();
  if (!dir || path.dirname(path.resolve(modelFile)) !== dir) return undefined;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(modelFile);
  } catch {
    return undefined;
  }
  markUsed(modelFile);
  const key = createHash('sha256').update(machineKey()).update('\0').update(JSON.stringify(options)).update('\0').update(bytes).digest('hex').slice(0, 40);
  const manifestFile = path.join(dir, `${key}.opt.json`);
  const unique = `${key}.${process.pid}.${Date.now()}`;
  const model = `${unique}.opt.onnx`;
  const data = `${unique}.opt.data`;
  let manifest: Manifest | undefined;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
    const ok =
      typeof manifest.model === 'string' &&
      typeof manifest.data === 'string' &&
      !/[/\\]/.test(manifest.model + manifest.data) &&
      sizeOf(dir, manifest.model) === manifest.modelSize &&
      manifest.modelSize > 0 &&
      sizeOf(dir, manifest.data) === manifest.dataSize &&
      Array.isArray(manifest.stamps) &&
      manifest.stamps[0] === stampOf(dir, manifest.model) &&
      manifest.stamps[1] === stampOf(dir, manifest.data);
    if (!ok) manifest = undefined;
    // the manifest only: the model's and data's mtimes are part of their stamps
    else markUsed(manifestFile);
  } catch {
    manifest = undefined;
  }
  const remove = (...names: string[]) => {
    for (const n of names) fs.rmSync(path.join(dir, n), { force: true });
  };
  return {
    file: manifest && path.join(dir, manifest.model),
    save: {
      optimizedModelFilePath: path.join(dir, model),
      extra: {
        // weights go to a side file that onnxruntime maps, not into the protobuf it would parse and copy
        optimized_model_external_initializers_file_name: data,
        optimized_model_external_initializers_min_size_in_bytes: '1024',
      },
    },
    commit() {
      try {
        const m: Manifest = { model, modelSize: sizeOf(dir, model), data, dataSize: sizeOf(dir, data), stamps: [stampOf(dir, model), stampOf(dir, data)] };
        if (m.modelSize <= 0) throw new Error('not saved');
        let old: Manifest | undefined;
        try {
          old = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
        } catch {
          // none yet
        }
        const tmp = `${manifestFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(m));
        fs.renameSync(tmp, manifestFile);
        if (old && old.model !== model && !/[/\\]/.test(old.model + old.data)) remove(old.model, old.data);
        trimSoon(dir);
      } catch {
        remove(model, data);
      }
    },
    discard() {
      try {
        remove(path.basename(manifestFile), model, data);
        if (manifest) remove(manifest.model, manifest.data);
      } catch {
        // read-only cache: the next save fails too and sessions are built fresh
      }
    },
  };
}

/** Size, inode and modification time of a file ('' when it is not there). */
function stampOf(dir: string, name: string): string {
  try {
    const st = fs.statSync(path.join(dir, name));
    return `${st.size}|${st.ino}|${st.mtimeMs}`;
  } catch {
    return '';
  }
}

/** A file's size; -1 when it is not there (a model without large weights has no data file). */
function sizeOf(dir: string, name: string): number {
  try {
    return fs.statSync(path.join(dir, name)).size;
  } catch {
    return -1;
  }
}
