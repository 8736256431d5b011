// npm run profile:backward -- [--model M.onnx] [--batch 1] [--threads 2] [--runs 10]; PER_NODE=1 for each node
// Where the backward pass's time goes: onnxruntime's own per-node profiler over the forward
// session and the forward+backward session of the input gradient, summed by op type.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as ortTypes from 'onnxruntime-node';
import { buildGradient, SEED } from '../src/engine/autodiff/builder';
import { oneHotSeed } from '../src/engine/gradients/run';
import { LoadedModel } from '../src/engine/model/loadedModel';
import { ort, toOrt } from '../src/engine/runtime/session';
import { repeatRows, Tensor } from '../src/engine/core/tensor';
import { rerunWithHugePages } from '../src/engine/runtime/hugePages';

const argv = process.argv.slice(2);
const opt = (k: string, d?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : d;
};
const modelFile = path.resolve(opt('model', path.join(__dirname, '..', '..', 'shared', 'models', 'resnet18.onnx'))!);
const batch = Number(opt('batch', '1'));
const threads = Number(opt('threads', '2'));
const runs = Number(opt('runs', '10'));

interface Ev { cat: string; name: string; dur: number; args?: { op_name?: string; provider?: string } }

async function profile(bytes: Uint8Array, feeds: Record<string, Tensor>, outputs: string[], tag: string): Promise<Map<string, { us: number; n: number }>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-profile-'));
  const s = await ort().InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: path.join(dir, tag),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const ortFeeds: Record<string, ortTypes.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
  for (let i = 0; i < 3; i++) await s.run(ortFeeds, outputs);
  for (let i = 0; i < runs; i++) await s.run(ortFeeds, outputs);
  s.endProfiling();
  await s.release();
  const file = fs.readdirSync(dir).map((f) => path.join(dir, f))[0];
  const evs = JSON.parse(fs.readFileSync(file, 'utf8')) as Ev[];
  const by = new Map<string, { us: number; n: number }>();
  for (const e of evs) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const key = process.env.PER_NODE ? `${e.args?.op_name} ${e.name.replace(/_kernel_time$/, '')}` : e.args?.op_name ?? '?';
    const v = by.get(key) ?? { us: 0, n: 0 };
    v.us += e.dur / (runs + 3);
    v.n += 1 / (runs + 3);
    by.set(key, v);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return by;
}

async function main(): Promise<void> {
  const lm = await LoadedModel.open(modelFile, { threads });
  const x1 = lm.exampleFeeds(1);
  const inName = lm.inputs[0].name;
  const outName = lm.outputs[0].name;
  const shapes = await lm.shapes(x1);
  const prog = buildGradient(lm.forwardModel, { output: outName, wrt: [inName] }, shapes);
  const x = { ...x1, [inName]: repeatRows(x1[inName], batch) };
  const seed = oneHotSeed([1, ...shapes.dims.get(outName)!.slice(1)], batch, 3);
  const f = await profile(lm.forwardModel.toBytes(), x, [outName], 'forward');
  const fb = await profile(prog.model.toBytes(), { ...x, [SEED]: seed }, [`attrlens_grad/${inName}`], 'backward');
  const total = (m: Map<string, { us: number }>) => [...m.values()].reduce((a, v) => a + v.us, 0);
  const tf = total(f), tfb = total(fb);
  console.log(`${path.basename(modelFile)}, batch ${batch}, ${threads} threads: kernel time forward ${(tf / 1000).toFixed(1)} ms, forward+backward ${(tfb / 1000).toFixed(1)} ms (backward/forward ${((tfb - tf) / tf).toFixed(2)}×)`);
  const keys = [...new Set([...f.keys(), ...fb.keys()])].sort((a, b) => (fb.get(b)?.us ?? 0) - (f.get(b)?.us ?? 0) - ((fb.get(a)?.us ?? 0) - (f.get(a)?.us ?? 0)));
  console.log('| op | forward ms (nodes) | forward+backward ms (nodes) | extra ms |');
  console.log('|---|---|---|---|');
  for (const k of keys) {
    const a = f.get(k) ?? { us: 0, n: 0 }, b = fb.get(k) ?? { us: 0, n: 0 };
    console.log(`| ${k} | ${(a.us / 1000).toFixed(2)} (${Math.round(a.n)}) | ${(b.us / 1000).toFixed(2)} (${Math.round(b.n)}) | ${((b.us - a.us) / 1000).toFixed(2)} |`);
  }
}

rerunWithHugePages();
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
