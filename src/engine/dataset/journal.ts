// The resume journal: one JSON line per finished prediction or attribution, appended as it is
// done, so a stopped run loses at most the batch in flight. A line counts only for the same run
// key (model bytes, preprocessing, classes) and the same file (path, label, size, mtime).
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { DatasetItem } from './types';

export const JOURNAL = 'journal.jsonl';

export interface PredictionRecord {
  run: string;
  key: string;
  item: DatasetItem;
}

export interface AttributionRecord {
  run: string;
  key: string;
  attr: NonNullable<DatasetItem['attribution']>;
}

type Rec = PredictionRecord | AttributionRecord;

export class Journal {
  readonly predictions = new Map<string, DatasetItem>();
  readonly attributions = new Map<string, NonNullable<DatasetItem['attribution']>>();
  private readonly file?: string;

  constructor(outDir: string | undefined, readonly run: string) {
    if (!outDir) return;
    this.file = path.join(outDir, JOURNAL);
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return; // a first run
    }
    for (const line of text.split('\n')) {
      let r: Rec;
      try {
        r = JSON.parse(line) as Rec;
      } catch {
        continue; // the torn last line of a killed run
      }
      if (!r || r.run !== run || typeof r.key !== 'string') continue;
      if ('item' in r && r.item) this.predictions.set(r.key, r.item);
      else if ('attr' in r && r.attr) this.attributions.set(r.key, r.attr);
    }
  }

  addPrediction(key: string, item: DatasetItem): void {
    this.append({ run: this.run, key, item });
  }

  addAttribution(key: string, attr: NonNullable<DatasetItem['attribution']>): void {
    this.append({ run: this.run, key, attr });
  }

  private append(r: Rec): void {
    if (this.file) fs.appendFileSync(this.file, `${JSON.stringify(r)}\n`);
  }
}

export function hashOf(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** What makes a file's earlier result reusable: its path, label, size and modification time. */
export function fileKey(p: string, file: string, label: string | null): string | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? hashOf(p, label, st.size, st.mtimeMs) : undefined;
}

/** A file name for an item's outputs: readable, and unique through a hash of the full path. */
export function itemStem(p: string): string {
  const safe = p.replace(/\.[^./]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(-60);
  return `${safe || 'item'}-${createHash('sha1').update(p).digest('hex').slice(0, 8)}`;
}
