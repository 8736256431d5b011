// Accuracy, confusion matrix, per-class precision / recall, the item order and the summary line,
// all from the items alone: a single run and a merge of shards compute them the same way.
import type { ClassMetrics, DatasetCounts, DatasetItem } from './types';

export interface Scores {
  accuracy: number | null;
  confusion: number[][];
  perClass: ClassMetrics[];
}

export function score(items: readonly DatasetItem[], classes: readonly string[]): Scores {
  const n = classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let scored = 0, correct = 0;
  for (const it of items) {
    if (it.error || it.label === null || it.predictedIndex === null) continue;
    const t = classes.indexOf(it.label);
    if (t < 0) continue;
    confusion[t][it.predictedIndex]++;
    scored++;
    if (t === it.predictedIndex) correct++;
  }
  const perClass = classes.map((label, c) => {
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    return { label, precision: predicted ? confusion[c][c] / predicted : null, recall: support ? confusion[c][c] / support : null, support };
  });
  return { accuracy: scored ? correct / scored : null, confusion, perClass };
}

/**
 * Misclassified first (most confident mistakes first), then correct by rising confidence, then
 * unlabelled predictions by rising confidence, then errors; ties by path, so shards merge into
 * the order one run gives.
 */
export function sortItems(items: DatasetItem[]): DatasetItem[] {
  const group = (it: DatasetItem): number => (it.error ? 3 : it.correct === false ? 0 : it.correct === true ? 1 : 2);
  const byPath = (a: DatasetItem, b: DatasetItem): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return items.sort((a, b) => {
    const g = group(a) - group(b);
    if (g) return g;
    const pa = a.probability ?? 0, pb = b.probability ?? 0;
    if (pa !== pb && group(a) !== 3) return group(a) === 0 ? pb - pa : pa - pb;
    return byPath(a, b);
  });
}

export function countItems(items: readonly DatasetItem[], resumed: number, attributedResumed: number): DatasetCounts {
  const errors: Record<string, number> = {};
  for (const it of items) if (it.error) errors[it.errorKind ?? 'failed'] = (errors[it.errorKind ?? 'failed'] ?? 0) + 1;
  return {
    items: items.length,
    predicted: items.filter((it) => !it.error && it.predictedIndex !== null).length,
    resumed,
    errors,
    attributed: items.filter((it) => it.attribution).length,
    attributedResumed,
  };
}

const ERROR_WORDS: Record<string, [string, string]> = {
  missing: ['missing file', 'missing files'],
  outside: ['path outside the folder', 'paths outside the folder'],
  empty: ['empty class folder', 'empty class folders'],
  manifest: ['bad manifest line', 'bad manifest lines'],
  label: ['unknown label', 'unknown labels'],
  unreadable: ['unreadable image', 'unreadable images'],
  failed: ['failed item', 'failed items'],
  duplicate: ['image reached twice through a link', 'images reached twice through links'],
};

/**
 * e.g. "120 items: 117 predicted (40 resumed), 3 errors (2 unreadable images, 1 unknown label); 16 attributed (0 resumed)";
 * the resumed counts only when the run could resume (it had an output folder).
 */
export function summaryLine(c: DatasetCounts, accuracy: number | null, resumable = true): string {
  const nErr = Object.values(c.errors).reduce((a, b) => a + b, 0);
  const kinds = Object.entries(c.errors)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${n} ${(ERROR_WORDS[k] ?? [k, k])[n === 1 ? 0 : 1]}`);
  const acc = accuracy === null ? 'no labelled predictions' : `accuracy ${(accuracy * 100).toFixed(1)}%`;
  return [
    `${c.items} item${c.items === 1 ? '' : 's'}: ${c.predicted} predicted${resumable ? ` (${c.resumed} resumed)` : ''}`,
    `${nErr} error${nErr === 1 ? '' : 's'}${kinds.length ? ` (${kinds.join(', ')})` : ''}`,
  ].join(', ') + `; ${acc}${c.attributed || c.attributedResumed ? `; ${c.attributed} attributed${resumable ? ` (${c.attributedResumed} resumed)` : ''}` : ''}`;
}
