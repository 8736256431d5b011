import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { loadInputs } from '../engine/inputs';
import { writeNpy } from '../engine/inputs/npy';
import { LoadedModel } from '../engine/model/loadedModel';
import { attribute } from '../engine/methods/registry';
import { renderAttribution, writeFileSafe } from './render';

const IMAGE = /\.(png|jpe?g|webp|gif|tiff?|avif|npy)$/i;

export interface BatchOptions {
  lm: LoadedModel;
  dir: string;
  outDir: string;
  method: string;
  target?: number | string;
  params: Record<string, unknown>;
  png: boolean;
  signal: AbortSignal;
  print: (s: string) => void;
  progress: (done: number, total: number, phase?: string) => void;
}

/**
 * Attributes every image in a folder, one result (.npy + .json, optional .png) per image.
 * A result whose .json records the same request is kept, so a stopped run resumes.
 */
export async function attributeFolder(o: BatchOptions): Promise<{ done: number; skipped: number; failed: number }> {
  const files = fs.readdirSync(o.dir).filter((f) => IMAGE.test(f) && !f.endsWith('.mask.png')).sort();
  if (files.length === 0) throw new AttrLensError(`${o.dir} holds no images (png, jpg, webp, gif, tiff, avif) or .npy files`);
  fs.mkdirSync(o.outDir, { recursive: true });
  const request = { model: o.lm.model.contentHash, method: o.method, target: o.target ?? null, params: o.params };
  const key = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 16);
  let done = 0, skipped = 0, failed = 0;
  const started = performance.now();
  for (const [i, f] of files.entries()) {
    if (o.signal.aborted) break;
    const stem = path.join(o.outDir, `${f.replace(/\.[^.]+$/, '')}.${o.method}`);
    const summaryFile = `${stem}.json`;
    if (fs.existsSync(summaryFile)) {
      try {
        if ((JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as { request?: string }).request === key) {
          skipped++;
          o.progress(i + 1, files.length, 'resumed');
          continue;
        }
      } catch {
        // an unreadable summary is redone
      }
    }
    try {
      const inputs = await loadInputs(o.lm, path.join(o.dir, f));
      const res = await attribute(o.lm, inputs.feeds, { method: o.method, target: o.target, params: o.params }, { signal: o.signal });
      const attr = Object.values(res.attributions)[0];
      writeNpy(`${stem}.npy`, attr);
      if (o.png && inputs.image) writeFileSafe(`${stem}.png`, (await renderAttribution(attr, inputs.image, { sign: 'all' })).png);
      // the summary goes last: its presence marks the image as done
      writeFileSafe(summaryFile, JSON.stringify({ request: key, image: f, method: res.method, target: res.target, targetLabel: res.targetLabel, predictions: res.predictions, delta: res.delta, seconds: res.seconds, shape: attr.dims }, null, 1));
      done++;
    } catch (e) {
      if (o.signal.aborted) break;
      failed++;
      o.print(`${f}: ${(e as Error).message.split('\n')[0]}`);
    }
    const rate = (performance.now() - started) / 1000 / Math.max(1, done);
    o.progress(i + 1, files.length, `${rate.toFixed(2)} s/image`);
  }
  o.print(`${done} attributed, ${skipped} already done, ${failed} failed; results in ${o.outDir}`);
  return { done, skipped, failed };
}
