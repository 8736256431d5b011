// Child process of the fuzz test: runs a range of mutants through parse, load, inspect and
// attribute, reporting each start and outcome to the parent, which enforces the time bound
// and survives this process dying (a native crash).
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../../src/engine/core/errors';
import { inspectModel } from '../../src/engine/model/inspect';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { OnnxModel } from '../../src/engine/onnx/model';
import { makeMutant } from './fuzzMutate';

export interface FuzzJob {
  models: string[];
  seed: number;
  from: number;
  to: number;
}

export type Outcome = 'rejected' | 'loaded' | 'attributed' | 'crash';

export type WorkerMessage =
  | { type: 'start'; i: number; model: string; ops: string[] }
  | { type: 'done'; i: number; outcome: Outcome; stage: string; detail?: string }
  | { type: 'end' };

function send(m: WorkerMessage): void {
  process.send!(m);
}

/** A user-facing error: an AttrLensError with one line and no stack text inside the message. */
function clean(e: unknown): boolean {
  return e instanceof AttrLensError && !/\n|\s+at .+:\d+:\d+/.test(e.message);
}

async function runOne(bytes: Uint8Array, i: number): Promise<{ outcome: Outcome; stage: string; detail?: string }> {
  let stage = 'parse';
  let loaded = false;
  try {
    const model = OnnxModel.fromBytes(bytes);
    stage = 'load';
    const lm = await LoadedModel.fromModel(model, { threads: 1 });
    stage = 'inspect';
    await inspectModel(lm);
    loaded = true;
    stage = 'attribute';
    const feeds = lm.exampleFeeds(1);
    const input = (lm.inputs.find((x) => x.dtype === 'float32') ?? lm.inputs[0]).name;
    // Alternate a gradient method (builds a backward graph from the mutated one) with occlusion
    // using a window of half the input per axis (a few runs).
    const dims = feeds[input].dims.slice(1);
    const method = i % 2 === 0 ? 'occlusion' : 'saliency';
    const half = dims.map((d) => Math.max(1, Math.ceil(d / 2)));
    const params = method === 'occlusion' ? { slidingWindowShapes: half, strides: half } : {};
    await attribute(lm, feeds, { method, input, params });
    return { outcome: 'attributed', stage };
  } catch (e) {
    if (clean(e)) return { outcome: loaded ? 'loaded' : 'rejected', stage, detail: (e as Error).message.slice(0, 200) };
    const err = e as Error;
    return { outcome: 'crash', stage, detail: `${err?.name}: ${String(err?.stack ?? e).slice(0, 600)}` };
  }
}

process.on('message', (job: FuzzJob) => {
  void (async () => {
    const models = job.models.map((f) => ({ name: path.basename(f), bytes: new Uint8Array(fs.readFileSync(f)) }));
    for (let i = job.from; i < job.to; i++) {
      const m = makeMutant(models, job.seed, i);
      send({ type: 'start', i, model: m.model, ops: m.ops });
      const r = await runOne(m.bytes, i);
      send({ type: 'done', i, ...r });
    }
    send({ type: 'end' });
  })();
});
