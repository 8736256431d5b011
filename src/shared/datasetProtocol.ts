// Messages between the dataset view's webview (webview-ui/src/dataset.ts) and its host
// (src/extension/dataset/datasetPanel.ts). One union per direction; the host checks every message
// from the webview with isFromDatasetView before acting on it.
import type { DatasetItem, DatasetReport } from '../engine/dataset/types';

export type { DatasetItem, DatasetReport };

/** host → webview: what the view is about (sent on every `ready`). */
export interface DatasetInitMessage {
  type: 'init';
  /** the data folder as the user knows it (relative to the workspace when inside it) */
  folder: string;
  /** the model's file name, or undefined before one is chosen */
  model?: string;
  /**
   * webview URI of the data folder; an item's thumbnail is this plus its path's segments, each
   * URI-encoded (one base rather than 10,000 URIs in the message)
   */
  imageBase: string;
  /** kept in the webview's state: after a window reload the host reopens the view it names (only a folder the host itself recorded) */
  restoreKey?: string;
}

/** host → webview: the run advanced (done of total images). */
export interface DatasetProgressMessage {
  type: 'progress';
  done: number;
  total: number;
  phase?: string;
}

/** host → webview: the finished report. */
export interface DatasetReportMessage {
  type: 'report';
  report: DatasetReport;
  seconds: number;
}

/** host → webview: the run was cancelled after `done` of `total` images (0 of 0 when it had not started). */
export interface DatasetCancelledMessage {
  type: 'cancelled';
  done: number;
  total: number;
}

/** host → webview: nothing to show, and why, in one line (no images, an unreadable model, Restricted Mode). */
export interface DatasetErrorMessage {
  type: 'error';
  message: string;
}

export type ToDatasetView = DatasetInitMessage | DatasetProgressMessage | DatasetReportMessage | DatasetCancelledMessage | DatasetErrorMessage;

/** webview → host. */
export type FromDatasetView =
  /** the page is listening: send init and the current state */
  | { type: 'ready' }
  /** stop the running evaluation */
  | { type: 'cancel' }
  /** evaluate the folder again (after a cancel or an error) */
  | { type: 'rerun' }
  /** open the Attribution panel on this item (its path as the report gives it) */
  | { type: 'openItem'; path: string };

/** Longest item path the host accepts from the webview. */
export const MAX_ITEM_PATH = 4096;

/** A message the host acts on: a known type with exactly its keys. */
export function isFromDatasetView(m: unknown): m is FromDatasetView {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const r = m as Record<string, unknown>;
  const keys = Object.keys(r).sort().join(',');
  switch (r.type) {
    case 'ready':
    case 'cancel':
    case 'rerun':
      return keys === 'type';
    case 'openItem':
      return keys === 'path,type' && typeof r.path === 'string' && r.path.length > 0 && r.path.length <= MAX_ITEM_PATH && !r.path.includes('\0');
    default:
      return false;
  }
}

/** The thumbnail URI of `itemPath` (relative, `/` or `\` separated) under the folder's webview URI. */
export function thumbnailUri(imageBase: string, itemPath: string): string {
  const base = imageBase.endsWith('/') ? imageBase.slice(0, -1) : imageBase;
  return `${base}/${itemPath.split(/[\\/]+/).filter((s) => s !== '').map(encodeURIComponent).join('/')}`;
}
