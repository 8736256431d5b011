// The items of a dataset: an ImageFolder tree (DIR/<label>/*.png) or a manifest (CSV or JSONL
// of path,label). Problems with single items (a missing file, a path outside the folder, an
// empty class folder) are kept as items with an error, so a run reports them and goes on.
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';

/** Files taken as items: what the engine decodes (sharp) or reads as a tensor. */
const ITEM_FILE = /\.(png|jpe?g|webp|gif|tiff?|avif|bmp|npy)$/i;

export type DatasetErrorKind = 'missing' | 'outside' | 'empty' | 'manifest' | 'label' | 'unreadable' | 'failed' | 'duplicate';

export interface DatasetEntry {
  /** relative to the data folder (or the manifest's folder), '/'-separated */
  path: string;
  /** absolute file; absent when the entry names no usable file */
  file?: string;
  label: string | null;
  error?: string;
  errorKind?: DatasetErrorKind;
}

export interface DatasetListing {
  /** the folder item paths are relative to */
  root: string;
  source: 'folder' | 'csv' | 'jsonl';
  /** sorted by path (code-unit order), the order shards are cut from */
  entries: DatasetEntry[];
}

export interface ReadDatasetOptions {
  /** folders not to list (the report's own folder when it lies inside the data folder) */
  exclude?: string[];
}

/** Lists a dataset folder or manifest; throws only when `data` itself is unusable. */
export function readDataset(data: string, opts: ReadDatasetOptions = {}): DatasetListing {
  const abs = path.resolve(data);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new AttrLensError(`cannot read ${data}: no such file or folder; give a folder of class folders (DIR/<label>/*.png) or a .csv/.jsonl manifest`);
  }
  const listing = st.isDirectory() ? readFolder(abs, (opts.exclude ?? []).map((e) => path.resolve(e))) : readManifest(abs);
  listing.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return listing;
}

function readFolder(root: string, exclude: string[]): DatasetListing {
  const entries: DatasetEntry[] = [];
  const skip = (p: string): boolean => exclude.some((e) => p === e || p.startsWith(e + path.sep));
  const names = listDir(root);
  if (names instanceof Error) throw new AttrLensError(`cannot list ${root}: ${names.message}; check its permissions`);
  for (const name of names) {
    const p = path.join(root, name);
    if (name.startsWith('.') || skip(p)) continue;
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st || !(st.isFile() ? ITEM_FILE.test(name) && !name.endsWith('.mask.png') : st.isDirectory())) continue;
    if (!inside(root, p)) {
      entries.push({ path: st.isDirectory() ? `${name}/` : name, label: st.isDirectory() ? name : null, error: `${name} links outside the data folder: not followed`, errorKind: 'outside' });
      continue;
    }
    // a file beside the class folders has no label: it is predicted, not scored
    if (st.isFile()) {
      entries.push({ path: name, file: p, label: null });
      continue;
    }
    const found: DatasetEntry[] = [];
    // each folder once per class: a link to a parent does not loop
    walk(root, p, name, skip, new Set([realpath(root)!]), found);
    if (!found.some((e) => e.file)) found.push({ path: `${name}/`, label: name, error: `the class folder ${name}/ holds no images`, errorKind: 'empty' });
    entries.push(...found);
  }
  onceEach(root, entries);
  if (entries.length === 0) {
    throw new AttrLensError(`${root} holds no class folders or images: lay it out as DIR/<label>/*.png (one folder per label) or give a .csv/.jsonl manifest (path,label)`);
  }
  return { root, source: 'folder', entries };
}

/**
 * One image reached twice through a link (cat/more → ../dog) would be scored under two labels:
 * it is scored once, where it really is (else where it was first listed); the other paths become
 * items with an error.
 */
function onceEach(root: string, entries: DatasetEntry[]): void {
  const realRoot = realpath(root) ?? root;
  const byFile = new Map<string, DatasetEntry[]>();
  for (const e of entries) {
    const r = e.file && realpath(e.file);
    if (r) byFile.set(r, [...(byFile.get(r) ?? []), e]);
  }
  for (const [real, same] of byFile) {
    if (same.length < 2) continue;
    const own = toPosix(path.relative(realRoot, real));
    const kept = same.find((e) => e.path === own) ?? same[0];
    for (const e of same) {
      if (e === kept) continue;
      delete e.file;
      e.error = `${e.path} is ${kept.path} through a link: scored once, as ${kept.label ?? 'unlabelled'}`;
      e.errorKind = 'duplicate';
    }
  }
}

/**
 * The images under a class folder, at any depth. Links are followed while they stay inside the
 * data folder; one that leaves it, or a
 * folder that cannot be listed, is an item with an error.
 */
function walk(root: string, dir: string, label: string, skip: (p: string) => boolean, seen: Set<string>, out: DatasetEntry[]): void {
  const real = realpath(dir);
  if (!real || seen.has(real)) return;
  seen.add(real);
  const rel = toPosix(path.relative(root, dir));
  const names = listDir(dir);
  if (names instanceof Error) {
    out.push({ path: `${rel}/`, label, error: `cannot list ${rel}/: ${names.message}; check its permissions`, errorKind: 'unreadable' });
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const p = path.join(dir, name);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (skip(p) || !st || !(st.isDirectory() || (st.isFile() && ITEM_FILE.test(name) && !name.endsWith('.mask.png')))) continue;
    const relp = toPosix(path.relative(root, p));
    if (!inside(root, p)) out.push({ path: st.isDirectory() ? `${relp}/` : relp, label, error: `${relp} links outside the data folder: not followed`, errorKind: 'outside' });
    else if (st.isDirectory()) walk(root, p, label, skip, seen, out);
    else out.push({ path: relp, file: p, label });
  }
}

function listDir(dir: string): string[] | Error {
  try {
    return fs.readdirSync(dir).sort();
  } catch (e) {
    return new Error((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

function realpath(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Whether `p` (after resolving links) lies inside `root` (after resolving links). */
function inside(root: string, p: string): boolean {
  try {
    const r = fs.realpathSync(root);
    const q = fs.realpathSync(p);
    return q === r || q.startsWith(r + path.sep);
  } catch {
    return false;
  }
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

function readManifest(file: string): DatasetListing {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.csv' && ext !== '.jsonl') {
    throw new AttrLensError(`${path.basename(file)} is neither a folder nor a manifest: give a folder of class folders, a .csv with a header "path,label", or a .jsonl of {"path": ..., "label": ...}`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new AttrLensError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const root = path.dirname(file);
  const rows = ext === '.csv' ? csvRows(text, path.basename(file)) : jsonlRows(text);
  const seen = new Set<string>();
  const entries = rows.map((r, k): DatasetEntry => {
    if (r.error) return { path: r.path, label: r.label, error: r.error, errorKind: 'manifest' };
    const e = manifestEntry(root, r.path, r.label);
    // one result per file: a second line for it would count it twice
    if (seen.has(e.path)) return { path: `${e.path} (entry ${k + 1})`, label: r.label, error: `${e.path} is listed more than once; only its first line counts`, errorKind: 'manifest' };
    seen.add(e.path);
    return e;
  });
  if (entries.length === 0) throw new AttrLensError(`${path.basename(file)} lists no items: add lines of path,label`);
  return { root, source: ext === '.csv' ? 'csv' : 'jsonl', entries };
}

interface Row {
  path: string;
  label: string | null;
  error?: string;
}

/** One manifest line's file: relative to the manifest's folder and never outside it. */
function manifestEntry(root: string, given: string, label: string | null): DatasetEntry {
  const rel = given.replace(/\\/g, '/');
  const file = path.resolve(root, rel);
  const norm = toPosix(path.relative(root, file));
  if (path.isAbsolute(rel) || norm === '' || norm.startsWith('../') || norm === '..' || path.isAbsolute(norm)) {
    return { path: given, label, error: `${given} is outside the manifest's folder: paths must be relative to it and stay inside it`, errorKind: 'outside' };
  }
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) return { path: norm, label, error: `${norm}: no such file (listed in the manifest)`, errorKind: 'missing' };
  if (!inside(root, file)) return { path: norm, label, error: `${norm} links outside the manifest's folder: refused`, errorKind: 'outside' };
  if (!st.isFile()) return { path: norm, label, error: `${norm} is not a file`, errorKind: 'missing' };
  return { path: norm, file, label };
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else field += c;
    i++;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

function csvRows(text: string, name: string): Row[] {
  const [head, ...body] = parseCsv(text);
  const cols = (head ?? []).map((h) => h.trim().toLowerCase());
  const pi = cols.indexOf('path');
  const li = cols.indexOf('label');
  if (pi < 0) throw new AttrLensError(`${name} has no "path" column: its first line must be a header such as "path,label" (got "${(head ?? []).join(',')}")`);
  return body.map((r, k) => {
    const p = (r[pi] ?? '').trim();
    const label = li >= 0 && (r[li] ?? '').trim() !== '' ? r[li].trim() : null;
    if (!p) return { path: `(line ${k + 2})`, label, error: `line ${k + 2} of ${name} has no path` };
    return { path: p, label };
  });
}

function jsonlRows(text: string): Row[] {
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      rows.push({ path: `(line ${k + 1})`, label: null, error: `line ${k + 1} is not JSON: write one {"path": ..., "label": ...} per line` });
      return;
    }
    const o = v as { path?: unknown; label?: unknown };
    if (!o || typeof o !== 'object' || typeof o.path !== 'string' || !o.path) {
      rows.push({ path: `(line ${k + 1})`, label: null, error: `line ${k + 1} has no "path" string` });
      return;
    }
    const label = o.label === undefined || o.label === null || o.label === '' ? null : typeof o.label === 'string' || typeof o.label === 'number' ? String(o.label) : undefined;
    if (label === undefined) rows.push({ path: `${o.path} (line ${k + 1})`, label: null, error: `line ${k + 1}: "label" must be a string or a number` });
    else rows.push({ path: o.path, label });
  });
  return rows;
}
