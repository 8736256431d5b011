import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import { OnnxModel } from './model';
import { PADDLE_OCR_CLASSIFIER_LABELS, PADDLE_OCR_SOURCE, paddleOcrRole } from './paddleocr';

const LABEL_FILES = ['labels.txt', 'synset.txt', 'classes.txt'];

/**
 * Class labels for a model, from (in order) its metadata_props, a labels file beside it
 * (`<model>.labels.txt`, labels.txt, synset.txt, classes.txt) or config.json's id2label, else
 * PaddleOCR's for its direction classifier (a Paddle2ONNX export without metadata).
 */
export function discoverLabels(model: OnnxModel): { labels: string[]; source: string } | undefined {
  const found = declaredLabels(model);
  if (found) return found;
  if (paddleOcrRole(model) === 'classifier') return { labels: [...PADDLE_OCR_CLASSIFIER_LABELS], source: PADDLE_OCR_SOURCE.classifier };
  return undefined;
}

function declaredLabels(model: OnnxModel): { labels: string[]; source: string } | undefined {
  for (const p of model.proto.metadataProps ?? []) {
    const key = (p.key ?? '').toLowerCase();
    if (!['labels', 'classes', 'class_names', 'names', 'id2label'].includes(key) || !p.value) continue;
    const parsed = parseLabelValue(p.value);
    if (parsed?.length) return { labels: parsed, source: `metadata_props.${p.key}` };
  }
  if (!model.file) return undefined;
  const dir = path.dirname(model.file);
  const stem = path.basename(model.file, path.extname(model.file));
  for (const f of [`${stem}.labels.txt`, ...LABEL_FILES]) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) continue;
    const lines = readSmall(p)?.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    // synset.txt lines look like "n01440764 tench, Tinca tinca": keep the readable part.
    if (lines?.length) return { labels: lines.map((l) => l.replace(/^n\d{8}\s+/, '')), source: f };
  }
  const cfg = path.join(dir, 'config.json');
  if (fs.existsSync(cfg)) {
    try {
      const j = JSON.parse(readSmall(cfg) ?? '{}') as { id2label?: Record<string, string> };
      if (j.id2label && typeof j.id2label === 'object') {
        const labels: string[] = [];
        for (const [k, v] of Object.entries(j.id2label)) if (/^\d+$/.test(k)) labels[Number(k)] = String(v);
        if (labels.length) return { labels: Array.from(labels, (l, i) => l ?? String(i)), source: 'config.json id2label' };
      }
    } catch {
      // a config.json that is not JSON has no labels for us
    }
  }
  return undefined;
}

function parseLabelValue(v: string): string[] | undefined {
  try {
    const j = JSON.parse(v) as unknown;
    if (Array.isArray(j)) return j.map(String);
    if (j && typeof j === 'object') {
      const labels: string[] = [];
      for (const [k, val] of Object.entries(j)) if (/^\d+$/.test(k)) labels[Number(k)] = String(val);
      return Array.from(labels, (l, i) => l ?? String(i));
    }
  } catch {
    // not JSON: a Python dict as Ultralytics writes `names` ({0: 'person', 1: 'bicycle'}), or comma or newline separated
  }
  const dict = [...v.matchAll(/(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)];
  if (/^\s*\{/.test(v) && dict.length) {
    const labels: string[] = [];
    for (const m of dict) labels[Number(m[1])] = m[2] ?? m[3];
    return Array.from(labels, (l, i) => l ?? String(i));
  }
  const parts = v.split(/\r?\n|,/).map((s) => s.trim()).filter(Boolean);
  return parts.length > 1 ? parts : undefined;
}

function readSmall(p: string, limit = 4 << 20): string | undefined {
  const st = fs.statSync(p);
  if (!st.isFile() || st.size > limit) return undefined;
  return fs.readFileSync(p, 'utf8');
}

const DICTIONARY_FILES = ['ppocr_keys_v1.txt', 'dict.txt', 'keys.txt'];

/**
 * A recogniser's dictionary (PaddleOCR's convention: line k is class k+1, class 0 the CTC blank,
 * and when the output has one class more, the last class a space). Found as `named` (relative
 * to the model: the config's output.dictionary), else `<model>.dict.txt` / `<model>_dict.txt`,
 * else ppocr_keys_v1.txt, dict.txt, keys.txt or any `*_dict.txt` / `*_keys*.txt` beside the
 * model whose line count fits the output's `classes` (lines + 1 or lines + 2).
 */
export function discoverDictionary(model: OnnxModel, classes: number, named?: string): { labels: string[]; source: string } | undefined {
  if (!model.file) return undefined;
  const dir = path.dirname(model.file);
  const stem = path.basename(model.file, path.extname(model.file));
  const read = (f: string): string[] | undefined => {
    const p = path.resolve(dir, f);
    if (!fs.existsSync(p)) return undefined;
    const text = readSmall(p, 16 << 20);
    if (text === undefined) return undefined;
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  };
  const toLabels = (lines: string[]): string[] | undefined =>
    lines.length + 1 === classes ? ['<blank>', ...lines] : lines.length + 2 === classes ? ['<blank>', ...lines, ' '] : undefined;
  if (named) {
    const lines = read(named);
    if (!lines) throw new AttrLensError(`the dictionary '${named}' named in ${stem}.attrlens.json is not a readable file beside the model`);
    const labels = toLabels(lines);
    if (!labels) throw new AttrLensError(`the dictionary '${named}' has ${lines.length} lines, but the output has ${classes} classes: a CTC dictionary has ${classes - 1} lines (blank + lines) or ${classes - 2} (blank + lines + space)`);
    return { labels, source: named };
  }
  let others: string[] = [];
  try {
    others = fs.readdirSync(dir).filter((f) => /(_dict|_keys[^/]*)\.txt$/i.test(f)).sort();
  } catch {
    // an unreadable folder has no dictionary
  }
  for (const f of [`${stem}.dict.txt`, `${stem}_dict.txt`, ...DICTIONARY_FILES, ...others]) {
    const lines = read(f);
    const labels = lines && toLabels(lines);
    if (labels) return { labels, source: f };
  }
  return undefined;
}
