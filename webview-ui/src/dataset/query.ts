// What the dataset view's grid shows: the report's items filtered and sorted (pure; unit-tested).
import type { DatasetItem, DatasetReport } from '../../../src/shared/datasetProtocol';

export type Outcome = 'all' | 'correct' | 'wrong' | 'errors';
/** `report`: the report's own order (mistakes first, most confident first) */
export type SortKey = 'report' | 'confidence-asc' | 'confidence-desc' | 'loss-desc' | 'path';

export interface DatasetQuery {
  /** true label to keep; undefined keeps every item */
  trueLabel?: string;
  /** predicted label to keep */
  predicted?: string;
  outcome: Outcome;
  sort: SortKey;
}

export const DEFAULT_QUERY: DatasetQuery = { outcome: 'all', sort: 'report' };

export function isOutcome(v: unknown): v is Outcome {
  return v === 'all' || v === 'correct' || v === 'wrong' || v === 'errors';
}
export function isSortKey(v: unknown): v is SortKey {
  return v === 'report' || v === 'confidence-asc' || v === 'confidence-desc' || v === 'loss-desc' || v === 'path';
}

/** Whether an item passes the query's filters. */
export function matches(item: DatasetItem, q: DatasetQuery): boolean {
  if (q.trueLabel !== undefined && item.label !== q.trueLabel) return false;
  if (q.predicted !== undefined && item.predicted !== q.predicted) return false;
  switch (q.outcome) {
    case 'all':
      return true;
    case 'correct':
      return item.correct === true;
    case 'wrong':
      return item.correct === false;
    case 'errors':
      return item.error !== undefined;
  }
}

/** Indices into `items` of what the grid shows, in order; missing numbers sort last whatever the direction. */
export function select(items: readonly DatasetItem[], q: DatasetQuery): number[] {
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) if (matches(items[i], q)) out.push(i);
  const num = (get: (it: DatasetItem) => number | null, dir: 1 | -1) => (a: number, b: number): number => {
    const x = get(items[a]);
    const y = get(items[b]);
    if (x === null || y === null) return x === null ? (y === null ? a - b : 1) : -1;
    return (x - y) * dir || a - b;
  };
  switch (q.sort) {
    case 'report':
      break;
    case 'confidence-asc':
      out.sort(num((it) => it.probability, 1));
      break;
    case 'confidence-desc':
      out.sort(num((it) => it.probability, -1));
      break;
    case 'loss-desc':
      out.sort(num((it) => it.loss, -1));
      break;
    case 'path':
      out.sort((a, b) => (items[a].path < items[b].path ? -1 : items[a].path > items[b].path ? 1 : a - b));
      break;
  }
  return out;
}

/** Correct and scored items (a usable label and prediction), from the confusion matrix. */
export function accuracyCounts(report: DatasetReport): { correct: number; scored: number } {
  let correct = 0;
  let scored = 0;
  report.confusion.forEach((row, t) => row.forEach((n, p) => {
    scored += n;
    if (t === p) correct += n;
  }));
  return { correct, scored };
}

/**
 * Class indices the confusion matrix shows: those with an item as truth or prediction, the most
 * frequent first when there are more than `max` (a 1000-class model would be a million cells).
 */
export function matrixClasses(report: DatasetReport, max = 40): { shown: number[]; hidden: number } {
  const n = report.classes.length;
  const weight = new Array<number>(n).fill(0);
  report.confusion.forEach((row, t) => row.forEach((c, p) => {
    weight[t] += c;
    weight[p] += c;
  }));
  const used = [...Array(n).keys()].filter((i) => weight[i] > 0);
  if (used.length <= max) return { shown: used, hidden: 0 };
  const top = [...used].sort((a, b) => weight[b] - weight[a] || a - b).slice(0, max).sort((a, b) => a - b);
  return { shown: top, hidden: used.length - max };
}

export function percent(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(1)}%`;
}
