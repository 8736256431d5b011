// node --import tsx scripts/bench/text.ts [--threads 2] [--repeat 5]
// Layer Integrated Gradients on a BERT-base-sized encoder (12 layers, hidden 768, 128 tokens,
// random weights from scripts/make-text-sample.ts, cached in /tmp) as `attrlens attribute --text`
// runs it, next to its floor: the same backward graph's batches (same steps, same batch size)
// run directly in onnxruntime in the same run; and the peak RSS of a fresh process running it once.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { buildGradient, SEED } from '../../src/engine/autodiff/builder';
import { defaultGradientBatch, oneHotSeed } from '../../src/engine/gradients/run';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { Session } from '../../src/engine/runtime/session';
import { Tensor, repeatRows } from '../../src/engine/core/tensor';
import { rerunWithHugePages } from '../../src/engine/runtime/hugePages';
import { attributeText, findWordEmbedding, fitLength, requireTextInputs, textFeeds, tokenizerFor } from '../../src/engine/text';
import { BERT_BASE, BertOptions, SENTENCES, writeBertSample } from '../make-text-sample';
import { integrationPoints } from '../../src/engine/methods/approximation';

export interface TextBenchResult {
  /** median seconds of warm `attributeText` runs (LIG, the CLI's defaults) */
  ours: number;
  /** median seconds of the same backward batches run directly in onnxruntime */
  floor: number;
  /** peak RSS (VmHWM) of a fresh process that loads the model and runs the LIG once */
  peakRssMb: number;
  /** forward pass, batch 1, seconds */
  forward: number;
  batch: number;
  nSteps: number;
  tokens: number;
  modelMb: number;
  model: string;
}

const GEN: BertOptions = BERT_BASE;

/** The generated model, made once per generator options (and generator source) under /tmp. */
export function bertModel(opts: BertOptions = GEN): string {
  const src = fs.readFileSync(path.join(__dirname, '..', 'make-text-sample.ts'));
  const hash = crypto.createHash('sha256').update(JSON.stringify(opts)).update(src).digest('hex').slice(0, 12);
  const dir = path.join('/tmp', `attrlens-bert-${hash}`);
  const file = path.join(dir, 'model.onnx');
  if (fs.existsSync(file)) return file;
  const tmp = `${dir}.tmp-${process.pid}`;
  writeBertSample(opts, tmp);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return file;
}

/** A text that fills the model's 128 tokens with real tokens. */
function longText(): string {
  const all = SENTENCES.map((s) => s.text);
  return [...all, ...all, ...all].join(' ');
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '');
  return (m ? Number(m[1]) : process.resourceUsage().maxRSS) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export async function benchText(opts: { threads: number; repeat: number }): Promise<TextBenchResult> {
  const file = bertModel();
  const lm = await LoadedModel.open(file, { threads: opts.threads });
  const text = longText();
  const first = await attributeText(lm, text);
  const layer = first.layer!;
  const nSteps = Number(first.params.nSteps ?? 50);

  // the floor: LIG's backward graph (cut at the word embeddings) over the same path batches
  const ti = requireTextInputs(lm);
  const emb = findWordEmbedding(lm, ti);
  if (emb.layer !== layer) throw new Error(`LIG chose ${layer}, not the word embedding ${emb.layer}`);
  const tk = tokenizerFor(lm);
  const fit = fitLength(tk.encode(text), ti.seqLen, tk.padId ?? 0);
  const feeds = textFeeds(ti, fit.ids, fit.real);
  const shapes = await lm.shapes(feeds);
  const prog = buildGradient(lm.forwardModel, { output: lm.outputs[0].name, wrt: [layer], cut: [layer] }, shapes);
  const session = await Session.create(prog.model.toBytes(), { threads: opts.threads });
  const batch = defaultGradientBatch(lm, shapes);
  // baseline: every content token replaced by the pad token, as attributeText makes it
  const padId = tk.padId ?? tk.unkId ?? 0;
  const baseFeeds = textFeeds(ti, fit.ids.map((id, i) => (i < fit.real && !fit.special[i] ? padId : id)), fit.real);
  const a = (await lm.intermediates(feeds, [layer]))[layer];
  const x = a.data as Float32Array;
  const x0 = (await lm.intermediates(baseFeeds, [layer]))[layer].data as Float32Array;
  const { alphas } = integrationPoints('gausslegendre', nSteps);
  const chunks: Array<Record<string, Tensor>> = [];
  for (let s = 0; s < nSteps; s += batch) {
    const n = Math.min(batch, nSteps - s);
    const rows = new Float32Array(n * x.length);
    for (let k = 0; k < n; k++) for (let i = 0; i < x.length; i++) rows[k * x.length + i] = x0[i] + alphas[s + k] * (x[i] - x0[i]);
    const c: Record<string, Tensor> = { [layer]: { dtype: 'float32', dims: [n, ...a.dims.slice(1)], data: rows }, [SEED]: oneHotSeed(shapes.dims.get(lm.outputs[0].name)!, n, first.target) };
    for (const [k, t] of Object.entries(feeds)) if (k !== ti.ids.name || prog.model.graph.input.some((i) => i.name === k)) c[k] = repeatRows(t, n);
    chunks.push(c);
  }
  const grad = `attrlens_grad/${layer}`;
  const floorRun = async () => {
    for (const c of chunks) await session.run(c, [grad]);
  };
  await floorRun();
  const fwd = await lm.forwardSession();
  const f1: number[] = [];
  for (let i = 0; i < 5; i++) f1.push(await seconds(() => fwd.run(feeds, [lm.outputs[0].name])));

  // ours and the floor alternate, so drift in the machine's speed hits both alike
  const o: number[] = [], f: number[] = [];
  for (let i = 0; i < opts.repeat; i++) {
    o.push(await seconds(() => attributeText(lm, text)));
    f.push(await seconds(floorRun));
  }
  await session.release();

  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--memory', '--threads', String(opts.threads)], { encoding: 'utf8' });
  const mem = /peak RSS (\d+(?:\.\d+)?) MB/.exec(child.stdout);
  if (!mem) throw new Error(`memory child failed: ${child.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return { ours: median(o), floor: median(f), peakRssMb: Number(mem[1]), forward: median(f1), batch, nSteps, tokens: fit.ids.length, modelMb: fs.statSync(file).size / 1e6, model: file };
}

async function memoryChild(threads: number): Promise<void> {
  const lm = await LoadedModel.open(bertModel(), { threads });
  await attributeText(lm, longText());
  console.log(`peak RSS ${peakRssMb().toFixed(0)} MB`);
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (k: string, d: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : d;
  };
  const threads = Number(opt('threads', '2'));
  rerunWithHugePages();
  (argv.includes('--memory')
    ? memoryChild(threads)
    : benchText({ threads, repeat: Number(opt('repeat', '5')) }).then((r) => {
        console.log(`model ${r.model} (${r.modelMb.toFixed(0)} MB; ${GEN.layers} layers, hidden ${GEN.hidden}, ${GEN.heads} heads, ${r.tokens} tokens); threads ${threads}; ${new Date().toISOString()}`);
        console.log(`forward batch 1 ${(r.forward * 1000).toFixed(1)} ms; LIG ${r.nSteps} steps in batches of ${r.batch}`);
        console.log(`| LIG on BERT-base, 128 tokens | ours ${r.ours.toFixed(3)} s | floor ${r.floor.toFixed(3)} s | ours/floor ${(r.ours / r.floor).toFixed(2)} (target ≤ 1.2) | peak RSS ${r.peakRssMb.toFixed(0)} MB |`);
      })
  ).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
