// npm run bench [-- --model M.onnx] [--captum DIR] [--repeat 5] [--only saliency,gradcam,cold,folder,text] [--json-out F]
// Medians of warm attributions on a model (default ../shared/models/resnet18.onnx), each next
// to its floor: the same forward/backward batches run in plain onnxruntime in the same run;
// then a cold CLI process against a warm one, folder throughput, LIG on a BERT-base-sized
// encoder, and every ratio against issue 16's target.
// With --captum DIR (a Captum checkout) and a python3 with torch and torchvision (Debian's
// python3-torch, python3-torchvision), Captum runs in the same run on the same model (torchvision's
// ResNet-18, exported to ONNX for us), input and parameters, and the ratio is printed; without
// them there is no Captum column at all.
import * as fs from 'fs';
import * as path from 'path';
import { buildGradient, SEED } from '../src/engine/autodiff/builder';
import { defaultGradientBatch, oneHotSeed } from '../src/engine/gradients/run';
import { spawnSync } from 'child_process';
import { LoadedModel } from '../src/engine/model/loadedModel';
import { attribute } from '../src/engine/methods/registry';
import { Session } from '../src/engine/runtime/session';
import { Tensor, repeatRows } from '../src/engine/core/tensor';
import { rerunWithHugePages } from '../src/engine/runtime/hugePages';
import { readNpy } from '../src/engine/inputs/npy';

const argv = process.argv.slice(2);
const opt = (k: string, d?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : d;
};
let modelFile = path.resolve(opt('model', path.join(__dirname, '..', '..', 'shared', 'models', 'resnet18.onnx'))!);
const repeat = Number(opt('repeat', '5'));
const only = opt('only')?.split(',');
const threads = Number(opt('threads', '2'));
const captumDir = opt('captum');

/** A python3 that imports torch, torchvision and the Captum checkout, or why there is none. */
function findPython(dir: string): { python: string } | { why: string } {
  if (!fs.existsSync(path.join(dir, 'captum', '__init__.py'))) return { why: `${dir} is not a Captum checkout (no captum/__init__.py)` };
  const tried: string[] = [];
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision, captum'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: dir } });
    if (r.status === 0) return { python: py };
    tried.push(`${py}: ${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}`);
  }
  return { why: `no python3 with torch, torchvision and Captum (${tried.join('; ')}); Debian: apt install python3-torch python3-torchvision python3-matplotlib python3-tqdm (Captum imports the last two)` };
}

/** Captum's timings on torchvision's ResNet-18, which it exports for us (same model, same input). */
function runCaptum(dir: string): { times: Record<string, number>; forward: number; versions: Record<string, unknown>; input: string } | undefined {
  const found = findPython(dir);
  if ('why' in found) {
    console.log(`Captum side by side: not run: ${found.why}`);
    return undefined;
  }
  const tmp = fs.mkdtempSync('/tmp/attrlens-bench-captum-');
  const onnx = path.join(tmp, 'resnet18-torchvision.onnx');
  const input = path.join(tmp, 'input.npy');
  const args = [path.join(__dirname, 'captum-bench.py'), '--onnx-out', onnx, '--input-out', input, '--repeat', String(repeat), '--threads', String(threads), ...(only ? ['--only', only.join(',')] : [])];
  const r = spawnSync(found.python, args, { encoding: 'utf8', env: { ...process.env, PYTHONPATH: dir }, maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`Captum side by side: failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return undefined;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  const times: Record<string, number> = {};
  for (const [k, v] of Object.entries(out)) if (!k.startsWith('_') && typeof v === 'number') times[k] = v;
  modelFile = onnx;
  return { times, forward: out._forward as number, versions: out._versions as Record<string, unknown>, input };
}

/** Peak RSS in MB: VmHWM belongs to this process's own memory map, whereas getrusage's maxrss
 * of a spawned child starts from its parent's size at fork time. */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '');
  return (m ? Number(m[1]) : process.resourceUsage().maxRSS) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn: () => Promise<unknown>, n = repeat): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ts.push((performance.now() - t) / 1000);
  }
  return median(ts);
}

interface Row { name: string; ours: number; floor: number; ref?: number }
/** A ratio (or a difference in seconds) and the limit issue 16 sets for it. */
interface Target { name: string; value: number; limit: number; atLeast?: boolean }

async function main(): Promise<void> {
  if (!fs.existsSync(modelFile)) {
    console.log(`model ${modelFile} not found; pass --model`);
    process.exit(2);
  }
  const rows: Row[] = [];
  const targets: Target[] = [];
  // Captum first, on its own export of the model; ours then runs that same ONNX file
  const captum = captumDir ? runCaptum(path.resolve(captumDir)) : undefined;
  const reference = captum?.times;
  // cold: model never seen in this process, nothing on disk
  process.env.ATTRLENS_CACHE_DIR = fs.mkdtempSync('/tmp/attrlens-bench-cache-');
  const coldStart = performance.now();
  const lm = await LoadedModel.open(modelFile, { threads });
  const x = captum ? { [lm.inputs[0].name]: readNpy(captum.input) } : lm.exampleFeeds(1);
  const inName = lm.inputs[0].name;
  const outName = lm.outputs[0].name;
  await attribute(lm, x, { method: 'saliency', target: 3 });
  const cold = (performance.now() - coldStart) / 1000;

  // backward-graph builder figures
  const shapes = await lm.shapes(x);
  const t0 = performance.now();
  const prog = buildGradient(lm.forwardModel, { output: outName, wrt: [inName] }, shapes);
  const buildSec = (performance.now() - t0) / 1000;
  const origInits = new Set(lm.forwardModel.graph.initializer.map((t) => t.rawData?.buffer));
  const shared = prog.model.graph.initializer.filter((t) => t.rawData && origInits.has(t.rawData.buffer)).reduce((a, t) => a + (t.rawData?.byteLength ?? 0), 0);
  const weights = lm.forwardModel.graph.initializer.reduce((a, t) => a + (t.rawData?.byteLength ?? 0), 0);
  const gradSession = await Session.create(prog.model.toBytes(), { threads });
  const fwd = await lm.forwardSession();
  const seedFor = (n: number) => oneHotSeed([1, ...shapes.dims.get(outName)!.slice(1)], n, 3);
  const runFwd = (t: Tensor) => fwd.run({ ...x, [inName]: t }, [outName]);
  const runBwd = (t: Tensor, n: number) => gradSession.run({ ...x, [inName]: t, [SEED]: seedFor(n) }, [`attrlens_grad/${inName}`]);

  // forward and forward+backward runs alternate, so drift in the machine's speed hits both alike
  const paired = async (n: number, rounds: number): Promise<[number, number]> => {
    const xb = repeatRows(x[inName], n);
    const f: number[] = [], fb: number[] = [];
    for (let i = 0; i < rounds; i++) {
      f.push(await time(() => runFwd(xb), 1));
      fb.push(await time(() => runBwd(xb, n), 1));
    }
    return [median(f), median(fb)];
  };
  await paired(16, 1);
  const [fwd1, bwd1] = await paired(1, 21);
  const [fwd16, bwd16] = await paired(16, 11);
  console.log(`model ${path.basename(modelFile)}; threads ${threads}; ${new Date().toISOString()}`);
  if (captum) console.log(`Captum ${String(captum.versions.captum)} on PyTorch ${String(captum.versions.torch)} (${String(captum.versions.threads)} threads), same model and input: PyTorch forward batch 1 ${(captum.forward * 1000).toFixed(1)} ms`);
  console.log(`builder: backward graph built in ${(buildSec * 1000).toFixed(1)} ms; ${(shared / 1e6).toFixed(1)} of ${(weights / 1e6).toFixed(1)} MB of weights shared, not copied`);
  console.log(`forward batch 1 ${(fwd1 * 1000).toFixed(1)} ms; forward+backward ${(bwd1 * 1000).toFixed(1)} ms (backward/forward ${((bwd1 - fwd1) / fwd1).toFixed(2)}×)`);
  console.log(`forward batch 16 ${(fwd16 * 1000).toFixed(1)} ms; forward+backward ${(bwd16 * 1000).toFixed(1)} ms (backward/forward ${((bwd16 - fwd16) / fwd16).toFixed(2)}×)`);
  targets.push({ name: 'backward/forward, batch 1', value: (bwd1 - fwd1) / fwd1, limit: 1.25 });
  targets.push({ name: 'backward/forward, batch 16', value: (bwd16 - fwd16) / fwd16, limit: 1.25 });

  const grad = async (n: number, batch: number) => {
    for (let s = 0; s < n; s += batch) await runBwd(repeatRows(x[inName], Math.min(batch, n - s)), Math.min(batch, n - s));
  };
  const batch = defaultGradientBatch(lm, shapes);
  // GradCAM's floor is its own backward graph (to the layer only), run directly.
  const camLayerName = (await attribute(lm, x, { method: 'gradcam', target: 3 })).layer!;
  const camProg = buildGradient(lm.forwardModel, { output: outName, wrt: [camLayerName], expose: [camLayerName] }, shapes);
  const camSession = await Session.create(camProg.model.toBytes(), { threads });
  const runCam = () => camSession.run({ ...x, [SEED]: seedFor(1) }, [`attrlens_grad/${camLayerName}`, camLayerName]);
  const want = (m: string) => !only || only.includes(m);
  const cases: Array<{ name: string; method: string; params?: Record<string, unknown>; floor: () => Promise<unknown>; fast?: boolean; limit?: number }> = [
    { name: 'saliency', method: 'saliency', floor: () => runBwd(x[inName], 1), fast: true },
    { name: 'gradcam', method: 'gradcam', floor: runCam, fast: true },
    { name: 'integrated-gradients-50', method: 'integrated-gradients', params: { nSteps: 50, returnConvergenceDelta: false }, floor: () => grad(50, batch), limit: 1.1 },
    { name: 'smoothgrad-20', method: 'noise-tunnel', params: { ntSamples: 20, stdevs: 0.1, baseMethod: 'saliency' }, floor: () => grad(20, batch), limit: 1.1 },
  ];
  for (const c of cases) {
    if (!want(c.name)) continue;
    try {
      await attribute(lm, x, { method: c.method, target: 3, params: c.params });
      // ours and the floor alternate; millisecond methods get more rounds
      const rounds = c.fast ? Math.max(repeat, 21) : repeat;
      const o: number[] = [], f: number[] = [];
      for (let i = 0; i < rounds; i++) {
        o.push(await time(() => attribute(lm, x, { method: c.method, target: 3, params: c.params }), 1));
        f.push(await time(c.floor, 1));
      }
      const ours = median(o);
      const floor = median(f);
      rows.push({ name: c.name, ours, floor, ref: reference?.[c.name] });
      if (c.limit) targets.push({ name: `${c.name}: ours/floor`, value: ours / floor, limit: c.limit });
    } catch (e) {
      console.log(`${c.name}: ${(e as Error).message}`);
    }
  }
  if (want('occlusion-15-8')) {
    const params = { slidingWindowShapes: [3, 15, 15], strides: [3, 8, 8], perturbationsPerEval: 16 };
    // the coarse pass's last progress event carries the complete coarse map
    let firstCoarse = 0;
    const t = performance.now();
    await attribute(lm, x, { method: 'occlusion', target: 3, params: { ...params, coarseToFine: true } }, {
      onProgress: (p) => {
        if (p.phase === 'coarse' && p.partial) firstCoarse = (performance.now() - t) / 1000;
      },
    });
    const ours = await time(() => attribute(lm, x, { method: 'occlusion', target: 3, params }), Math.min(repeat, 3));
    // Captum's grid: ceil((224 - 15) / 8) + 1 = 28 positions per side, plus the unperturbed input
    const n = (Math.ceil((224 - 15) / 8) + 1) ** 2 + 1;
    const floor = await time(async () => {
      for (let s = 0; s < n; s += 16) await runFwd(repeatRows(x[inName], Math.min(16, n - s)));
    }, Math.min(repeat, 3));
    rows.push({ name: 'occlusion-15-8', ours, floor, ref: reference?.['occlusion-15-8'] });
    targets.push({ name: 'occlusion-15-8: ours/whole-image floor', value: ours / floor, limit: 0.45 });
    // without crops of the first local layers: every window runs the whole network
    const whole = await time(() => attribute(lm, x, { method: 'occlusion', target: 3, params: { ...params, cropLocalLayers: false } }), Math.min(repeat, 3));
    rows.push({ name: 'occlusion-15-8, whole images', ours: whole, floor });
    console.log(`occlusion coarse-to-fine: complete coarse map after ${firstCoarse.toFixed(2)} s`);
  }
  console.log('');
  const withCaptum = !!reference;
  console.log(`| method | ours (median s) | floor (s) | ours/floor |${withCaptum ? ' Captum, same run (s) | Captum/ours |' : ''}`);
  console.log(`|---|---|---|---|${withCaptum ? '---|---|' : ''}`);
  for (const r of rows) {
    const cap = withCaptum ? ` ${r.ref?.toFixed(3) ?? ''} | ${r.ref ? (r.ref / r.ours).toFixed(2) + '×' : ''} |` : '';
    console.log(`| ${r.name} | ${r.ours.toFixed(3)} | ${r.floor.toFixed(3)} | ${(r.ours / r.floor).toFixed(2)} |${cap}`);
  }
  console.log(`| cold saliency in this process (load, build, session, run; empty cache) | ${cold.toFixed(3)} | | |${withCaptum ? ' | |' : ''}`);
  console.log(`peak RSS of this whole benchmark process ${peakRssMb().toFixed(0)} MB`);
  await sections(targets);
  // IG-50 alone, in a fresh process, for its own peak memory
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--memory-ig', '--model', modelFile, '--threads', String(threads)], { encoding: 'utf8' });
  console.log(child.stdout.trim() || child.stderr.trim());
  // in a fresh process too: the extension host does not carry the engine's garbage (it lives in the engine process)
  if (want('host-thread')) {
    const host = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--host-thread', '--model', modelFile, '--threads', String(threads)], { encoding: 'utf8' });
    console.log(host.stdout.trim() || host.stderr.trim());
  }
  console.log('\n| target (issue 16) | measured | limit | |');
  console.log('|---|---|---|---|');
  const met = (t: Target) => (t.atLeast ? t.value >= t.limit : t.value <= t.limit);
  for (const t of targets) console.log(`| ${t.name} | ${t.value.toFixed(2)} | ${t.atLeast ? '≥' : '≤'} ${t.limit} | ${met(t) ? 'met' : 'not met'} |`);
  console.log(`targets met: ${targets.filter(met).length} of ${targets.length}`);
  const jsonOut = opt('json-out');
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), forward: { b1: fwd1, b16: fwd16 / 16 }, rows, targets, captum: captum ? { forward: captum.forward, versions: captum.versions } : undefined }, null, 1));
}

/** Cold CLI processes, folder throughput and LIG on a BERT-base-sized encoder (scripts/bench/). */
async function sections(targets: Target[]): Promise<void> {
  const want = (m: string) => !only || only.includes(m);
  if (want('cold')) {
    const cli = path.join(__dirname, '..', 'dist', 'cli.js');
    const { benchCold } = await import('./bench/cold');
    console.log(`\ncold: a fresh \`attrlens attribute\` process (cache populated by one run) against the same attribution warm in this process, medians of ${repeat}`);
    for (const r of await benchCold({ model: modelFile, threads, repeat, cli })) {
      console.log(`| ${r.name} | cold ${r.cold.toFixed(3)} s | warm ${r.warm.toFixed(3)} s | cold − warm ${(r.cold - r.warm).toFixed(3)} s | \`attrlens serve\` running ${r.served.toFixed(3)} s, − warm alongside (${r.servedWarm.toFixed(3)} s) ${(r.served - r.servedWarm).toFixed(3)} s |`);
      targets.push({ name: `${r.name}: cold − warm process (s)`, value: r.cold - r.warm, limit: 0.5 });
      targets.push({ name: `${r.name}: fresh process, \`attrlens serve\` running − warm (s)`, value: r.served - r.servedWarm, limit: 0.5 });
    }
  }
  if (want('folder')) {
    const { benchFolder } = await import('./bench/folder');
    const r = await benchFolder({ model: modelFile, threads, repeat: Math.min(repeat, 3), images: 64 });
    console.log(`\nfolder: attribute --input DIR --method saliency on 64 rendered images: ours ${r.ours.toFixed(2)} images/s, floor ${r.floor.toFixed(2)} images/s (forward+backward graph on decoded images, batch ${r.batch})`);
    targets.push({ name: 'folder saliency: ours/floor images/s', value: r.ours / r.floor, limit: 0.85, atLeast: true });
  }
  if (want('text')) {
    const { benchText } = await import('./bench/text');
    const r = await benchText({ threads, repeat: Math.min(repeat, 3) });
    console.log(`\ntext: LIG (${r.nSteps} steps, batches of ${r.batch}) on a BERT-base-sized encoder (random weights, ${r.modelMb.toFixed(0)} MB, ${r.tokens} tokens): ours ${r.ours.toFixed(3)} s, floor ${r.floor.toFixed(3)} s, forward batch 1 ${(r.forward * 1000).toFixed(1)} ms; peak RSS of a fresh process running it once ${r.peakRssMb.toFixed(0)} MB`);
    targets.push({ name: 'LIG on BERT-base: ours/floor', value: r.ours / r.floor, limit: 1.2 });
  }
}

/**
 * The extension's path: the engine in its own process (dist/engine.js) driven by the host-side
 * client. Measures the longest stall of the host's event loop (timer gaps at 2 ms) while the
 * engine process opens a model it has never seen and runs saliency, IG-50 and occlusion, with progress.
 */
async function hostThread(): Promise<void> {
  const { EngineClient } = await import('../src/extension/engine/engineClient');
  const engine = path.join(__dirname, '..', 'dist', 'engine.js');
  if (!fs.existsSync(engine)) {
    console.log('host thread: dist/engine.js missing; run npm run build');
    return;
  }
  const client = new EngineClient(engine, () => undefined);
  const model = { file: modelFile, runtime: { threads, executionProvider: 'cpu' as const } };
  const input = { file: path.join(__dirname, '..', 'samples', 'shapes', 'images', 'red-circle.png'), options: {} };
  let worst = 0;
  let last = performance.now();
  const stalls: string[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last - 2 > 20) stalls.push(`${(now - last - 2).toFixed(0)} ms at ${(now / 1000).toFixed(2)} s`);
    worst = Math.max(worst, now - last - 2);
    last = now;
  }, 2);
  try {
    const t = performance.now();
    for (const request of [
      { method: 'saliency', target: 3 },
      { method: 'integrated-gradients', target: 3, params: { nSteps: 50 } },
      { method: 'occlusion', target: 3, params: { slidingWindowShapes: [3, 15, 15], strides: [3, 8, 8], perturbationsPerEval: 16 } },
    ]) {
      await client.call('attribute', { model, input, request }, () => undefined).promise;
    }
    console.log(`host thread (engine in its own process; cold saliency, IG-50, occlusion in ${((performance.now() - t) / 1000).toFixed(1)} s): longest event-loop stall ${worst.toFixed(1)} ms (target 50)${stalls.length ? `; stalls over 20 ms: ${stalls.join(', ')}` : ''}`);
  } finally {
    clearInterval(timer);
    client.dispose();
  }
}

async function memoryIg(): Promise<void> {
  const lm = await LoadedModel.open(modelFile, { threads });
  const x = lm.exampleFeeds(1);
  await attribute(lm, x, { method: 'integrated-gradients', target: 3, params: { nSteps: 50 } });
  console.log(`integrated-gradients-50 alone (fresh process: load, build, run): peak RSS ${peakRssMb().toFixed(0)} MB; backward batch ${defaultGradientBatch(lm, await lm.shapes(x))}`);
}

// as the CLI and the extension's engine process run: with glibc's huge pages (Linux)
rerunWithHugePages();
(argv.includes('--memory-ig') ? memoryIg() : argv.includes('--host-thread') ? hostThread() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
