// Files of a dataset folder as the host sees them (vscode-free, unit-tested): whether it holds any
// image at all, and which file an item the webview names is — only one of the report's items, and
// only inside the folder (a symlink out of it is refused too).
import * as fs from 'fs';
import * as path from 'path';
import type { DatasetItem } from '../../engine/dataset/types';
import { isUnder } from '../exportFormats';

export const DATASET_IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'];

/**
 * Whether `folder` may hold an image (ImageFolder: DIR/<label>/*.png, nested folders belonging to
 * their class). False only when it certainly holds none within `depth` levels; past `maxEntries`
 * directory entries it answers true and leaves the rest to the engine, so a huge tree answers fast.
 */
export function hasImages(folder: string, depth = 6, maxEntries = 20_000): boolean {
  let seen = 0;
  const walk = (dir: string, level: number): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    const dirs: string[] = [];
    for (const e of entries) {
      if (++seen > maxEntries) return true;
      if (e.isFile() && DATASET_IMAGE_EXTENSIONS.includes(path.extname(e.name).slice(1).toLowerCase())) return true;
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') dirs.push(e.name);
    }
    return level < depth && dirs.some((d) => walk(path.join(dir, d), level + 1));
  };
  return walk(folder, 0);
}

/** The file of the report's item `requested` (its path as the report gives it), or undefined. */
export function itemFile(folder: string, items: readonly DatasetItem[], requested: string): string | undefined {
  if (!items.some((it) => it.path === requested)) return undefined;
  const file = path.resolve(folder, requested);
  if (!isUnder(file, folder)) return undefined;
  try {
    if (!isUnder(fs.realpathSync(file), fs.realpathSync(folder))) return undefined;
  } catch {
    return undefined;
  }
  return file;
}

/** A dataset view the host opened: what a window reload may reopen. */
export interface SavedDatasetView {
  folder: string;
  model: string;
}

/** The host's saved views, newest first, with malformed entries dropped. */
export function savedDatasetViews(stored: unknown): SavedDatasetView[] {
  if (!Array.isArray(stored)) return [];
  return stored.filter((x): x is SavedDatasetView => !!x && typeof x === 'object' && typeof x.folder === 'string' && typeof x.model === 'string');
}

/**
 * The view a restored webview is, from its state's `restoreKey`: only a folder the host itself
 * saved, and still a folder (the webview's state is the webview's word, not the host's).
 */
export function restoredDatasetView(state: unknown, stored: unknown): SavedDatasetView | undefined {
  const key = state && typeof state === 'object' ? (state as { restoreKey?: unknown }).restoreKey : undefined;
  if (typeof key !== 'string') return undefined;
  const view = savedDatasetViews(stored).find((v) => v.folder === key);
  if (!view) return undefined;
  try {
    return fs.statSync(view.folder).isDirectory() ? view : undefined;
  } catch {
    return undefined;
  }
}
