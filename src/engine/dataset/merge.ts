// `attrlens dataset --merge D1 D2 …`: the shards' reports joined into one, scored again from
// the items (the same numbers one run over everything gives), thumbnails and maps copied along.
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import { writeReport } from './run';
import { countItems, score, sortItems, summaryLine } from './summary';
import type { DatasetItem, DatasetReport, Shard } from './types';

function readReport(dir: string): DatasetReport {
  const file = path.join(dir, 'report.json');
  let r: DatasetReport;
  try {
    r = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetReport;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AttrLensError(`cannot merge ${dir}: ${code === 'ENOENT' ? 'it has no report.json (run attrlens dataset --out-dir there first)' : `report.json is unreadable (${(e as Error).message.split('\n')[0]})`}`);
  }
  if (!r || !Array.isArray(r.classes) || !Array.isArray(r.items)) throw new AttrLensError(`cannot merge ${dir}: report.json is not a dataset report (no classes or items)`);
  return r;
}

export async function mergeDatasetReports(dirs: string[], outDir?: string): Promise<DatasetReport> {
  if (dirs.length === 0) throw new AttrLensError('nothing to merge: give the shards\' output folders (attrlens dataset --merge D1 D2 … --out-dir D)');
  const out = outDir ? path.resolve(outDir) : undefined;
  if (out && dirs.some((d) => path.resolve(d) === out)) throw new AttrLensError(`--out-dir ${outDir} is one of the folders being merged: write the merged report to a folder of its own`);
  const reports = dirs.map(readReport);
  const first = reports[0];
  for (const [k, r] of reports.entries()) {
    if (first.modelHash && r.modelHash && r.modelHash !== first.modelHash) throw new AttrLensError(`cannot merge ${dirs[k]}: its model differs from ${dirs[0]}'s (other bytes); merge shards of one run`);
    if (JSON.stringify(r.classes) !== JSON.stringify(first.classes)) throw new AttrLensError(`cannot merge ${dirs[k]}: its classes differ from ${dirs[0]}'s; merge shards of one run`);
  }
  const seen = new Map<string, number>();
  const items: DatasetItem[] = [];
  for (const [k, r] of reports.entries()) {
    for (const it of r.items) {
      // an item in two shards (the same shard run twice, overlapping folders) counts once
      if (seen.has(it.path)) continue;
      seen.set(it.path, k);
      items.push(out ? copyFiles({ ...it }, path.resolve(dirs[k]), out) : { ...it });
    }
  }
  sortItems(items);
  const scores = score(items, first.classes);
  const counts = countItems(items, reports.reduce((a, r) => a + (r.counts?.resumed ?? 0), 0), reports.reduce((a, r) => a + (r.counts?.attributedResumed ?? 0), 0));
  const shards = reports.map((r) => r.shard).filter((s): s is Shard => !!s);
  const n = shards[0]?.count;
  const missing = n ? Array.from({ length: n }, (_, i) => i).filter((i) => !shards.some((s) => s.index === i && s.count === n)) : [];
  const report: DatasetReport = {
    model: first.model,
    data: first.data,
    classes: first.classes,
    ...scores,
    items,
    summary: `${summaryLine(counts, scores.accuracy)}; merged from ${reports.length} report${reports.length === 1 ? '' : 's'}${missing.length ? ` (shards ${missing.map((i) => `${i + 1}/${n}`).join(', ')} missing)` : ''}`,
    ...(reports.every((r) => r.method === first.method) && first.method ? { method: first.method } : {}),
    ...(first.modelHash ? { modelHash: first.modelHash } : {}),
    counts,
    mergedShards: shards,
  };
  if (out) await writeReport(report, out);
  return report;
}

/** The item's thumbnail and maps copied from its shard's folder into the merged one. */
function copyFiles(it: DatasetItem, from: string, to: string): DatasetItem {
  const copy = (rel: string | undefined): string | undefined => {
    if (!rel || path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) return undefined;
    const src = path.join(from, rel);
    if (!fs.existsSync(src)) return undefined;
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    fs.copyFileSync(src, path.join(to, rel));
    return rel;
  };
  it.thumb = copy(it.thumb);
  if (!it.thumb) delete it.thumb;
  if (it.attribution) {
    const npy = copy(it.attribution.npy);
    if (!npy) delete it.attribution;
    else if (it.attribution.png && !copy(it.attribution.png)) delete it.attribution.png;
  }
  return it;
}
