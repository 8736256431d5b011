import * as path from 'path';
import { DatasetReport, Shard, mergeDatasetReports, runDataset } from '../engine/dataset';
import { AttrLensError } from '../engine/core/errors';
import { LoadedModel } from '../engine/model/loadedModel';
import { ParsedArgs, checkFlags, flag, requireFlag } from './args';
import { parseParams } from './attribute';

const WORST = 10;

/** `--shard i/n`, counted from 1 as Jest and Playwright count (`--shard 1/4` … `4/4`). */
export function parseShard(s: string | undefined): Shard | undefined {
  if (s === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const i = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) {
    throw new AttrLensError(`--shard ${s}: write i/n with 1 ≤ i ≤ n, e.g. --shard 1/4 … 4/4 (shards count from 1; from a 0-based index such as Kubernetes' JOB_COMPLETION_INDEX use $((JOB_COMPLETION_INDEX + 1))/n)`);
  }
  return { index: i - 1, count: n };
}

function wholeNumber(args: ParsedArgs, key: string, min: number): number | undefined {
  const v = flag(args, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new AttrLensError(`--${key} must be a whole number ≥ ${min} (got '${v}')`);
  return Number(v);
}

/** `attrlens dataset`: one run (or one shard of it), or `--merge` of the shards' folders. */
export async function datasetCommand(args: ParsedArgs, print: (s: string) => void, signal: AbortSignal, progress: (done: number, total: number, phase?: string) => void): Promise<DatasetReport> {
  const json = !!flag(args, 'json');
  const outDir = flag(args, 'out-dir');
  const merge = args.flags.get('merge');
  if (merge) {
    checkFlags(args, ['merge', 'out-dir', 'json']);
    const report = await mergeDatasetReports([...merge, ...args.positional], outDir);
    show(report, outDir, json, print);
    return report;
  }
  checkFlags(args, ['model', 'data', 'method', 'params', 'layer', 'json', 'out-dir', 'shard', 'top', 'batch-size', 'threads', 'ep']);
  if (args.positional.length) throw new AttrLensError(`unexpected '${args.positional[0]}': give the data as --data DIR (or --merge D1 D2 … to join shards)`);
  const model = requireFlag(args, 'model', 'M.onnx (the classifier to score)');
  const data = requireFlag(args, 'data', 'DIR (a folder of class folders, DIR/<label>/*.png) or a .csv/.jsonl manifest (path,label)');
  const method = flag(args, 'method');
  const params = parseParams(args);
  if (!method && Object.keys(params).length) throw new AttrLensError('--params and --layer go with --method (the attribution method for the chosen items)');
  const threads = flag(args, 'threads');
  const ep = flag(args, 'ep');
  const lm = await LoadedModel.open(model, { ...(threads ? { threads: Number(threads) } : {}), ...(ep ? { executionProvider: ep } : {}) });
  const report = await runDataset(
    {
      model,
      data,
      ...(method ? { method, params } : {}),
      ...(outDir ? { outDir } : {}),
      shard: parseShard(flag(args, 'shard')),
      attributeTop: wholeNumber(args, 'top', 0),
      batchSize: wholeNumber(args, 'batch-size', 1),
    },
    progress,
    signal,
    lm,
  );
  show(report, outDir, json, print);
  return report;
}

function show(r: DatasetReport, outDir: string | undefined, json: boolean, print: (s: string) => void): void {
  if (json) return print(JSON.stringify(r));
  for (const line of formatReport(r)) print(line);
  if (outDir) print(`report: ${path.join(path.resolve(outDir), 'report.html')} (report.json, thumbs/, maps/ beside it)`);
}

const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);

export function formatReport(r: DatasetReport): string[] {
  const scored = r.confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  const right = r.confusion.reduce((a, row, i) => a + row[i], 0);
  const lines = [`${r.accuracy === null ? 'no labelled predictions' : `accuracy ${pct(r.accuracy)} (${right}/${scored})`}${r.shard ? ` on shard ${r.shard.index + 1}/${r.shard.count}` : ''}`];
  const w = Math.max(5, ...r.classes.map((c) => c.length));
  lines.push('', `${'class'.padEnd(w)}  precision  recall  support`);
  for (const c of r.perClass) lines.push(`${c.label.padEnd(w)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall).padStart(6)}  ${String(c.support).padStart(7)}`);
  if (r.classes.length <= 20) {
    const cw = Math.max(3, ...r.classes.map((c) => c.length), ...r.confusion.flat().map((n) => String(n).length));
    lines.push('', 'confusion (rows: true, columns: predicted):', `${''.padEnd(w)}  ${r.classes.map((c) => c.padStart(cw)).join(' ')}`);
    r.confusion.forEach((row, i) => lines.push(`${r.classes[i].padEnd(w)}  ${row.map((n) => String(n).padStart(cw)).join(' ')}`));
  } else lines.push('', `confusion: ${r.classes.length} classes, see report.json or report.html`);
  const worst = r.items.filter((it) => !it.error).slice(0, WORST);
  if (worst.length) {
    lines.push('', `first ${worst.length} items (mistakes, most confident first; then the least confident):`);
    for (const it of worst) {
      const mark = it.correct === false ? 'wrong' : it.correct ? 'right' : '  -  ';
      lines.push(`  ${mark}  ${it.path}  ${it.label ?? '?'} → ${it.predicted} ${pct(it.probability)}${it.loss !== null ? `  loss ${it.loss.toFixed(3)}` : ''}${it.attribution ? `  ${it.attribution.png ?? it.attribution.npy}` : it.attributionError ? `  (attribution failed: ${it.attributionError})` : ''}`);
    }
  }
  const errors = r.items.filter((it) => it.error);
  if (errors.length) {
    lines.push('', `${errors.length} item${errors.length === 1 ? '' : 's'} not scored:`);
    for (const it of errors.slice(0, WORST)) lines.push(`  ${it.path}: ${it.error}`);
    if (errors.length > WORST) lines.push(`  … and ${errors.length - WORST} more (report.json lists them all)`);
  }
  lines.push('', r.summary);
  return lines;
}
