import { flushDiskCache } from '../engine/model/diskCache';
import { trimCache } from '../engine/runtime/cacheTrim';
import { cacheDir } from '../engine/runtime/optimizedCache';
import { AttrLensError, CancelledError } from '../engine/core/errors';
import { inspectModel } from '../engine/model/inspect';
import { listMethods } from '../engine/methods/registry';
import { ParsedArgs, checkFlags, flag, parseArgs, requireFlag } from './args';
import { attributeCommand, formatPreprocessing, parseParams } from './attribute';
import { attributeTextCommand } from './text';
import { generateCommand, isGenerationRequest } from './generate';
import { runConformance } from './conformance';
import { datasetCommand } from './dataset';
import { demoCommand } from './demo';
import { runEvaluate } from './evaluate';
import { sanityCommand } from './sanity';
import { serve } from './serve';

const USAGE = `attrlens — explain ONNX model predictions (Captum's methods on onnxruntime)

usage:
  attrlens inspect --model M.onnx [--json]
  attrlens attribute --model M.onnx --input FILE [--input NAME=FILE ...] --method METHOD
                     [--target INDEX|LABEL] [--layer TENSOR] [--params JSON] [--out attr.npy]
                     [--png heat.png] [--view blended_heat_map] [--sign all] [--json]
  attrlens attribute --model M.onnx --input DIR [--method METHOD] [--out-dir DIR] [--png on]   (a whole folder; resumes)
  attrlens attribute --model M.onnx --text "..." [--method METHOD] [--target INDEX|LABEL]
                     [--granularity token|word] [--json]
  attrlens attribute --model LM.onnx --text "PROMPT" [--generate N | --target-text "..."]
                     [--method feature-ablation|shapley-value-sampling|kernel-shap|lime|layer-integrated-gradients]
                     [--granularity token|word] [--params JSON] [--json]   (a causal LM: which prompt tokens made it say this)
  attrlens attribute --model LM.onnx --template "{} lives in {}" --values '["Dave","Palm Coast"]'
                     [--baselines '["Sam",""]'] [--generate N | --target-text "..."] [--method ...] [--json]
  attrlens methods [--json]
  attrlens conformance DIR [--filter TEXT]
  attrlens evaluate [--model M.onnx] [--images DIR] [--methods a,b,c] [--json]
  attrlens sanity --model M.onnx --input FILE --method METHOD [--params JSON] [--target INDEX|LABEL]
                  [--layers N] [--seed S] [--json] [--out-dir DIR]   (weight randomisation check; exit 1 = fails)
  attrlens dataset --model M.onnx --data DIR|LIST.csv|LIST.jsonl [--method METHOD] [--params JSON]
                   [--top 16] [--batch-size N] [--out-dir D] [--shard i/n] [--json]   (accuracy, confusion, worst items; resumes)
  attrlens dataset --merge D1 D2 ... [--out-dir D] [--json]   (join the shards' folders)
  attrlens demo [--out out/demo]
  attrlens cache [--info | --trim] [--json]   (the disk cache's size; --trim: evict down to ATTRLENS_CACHE_MAX_MB now)
  attrlens serve [--idle MINUTES] [--threads N]   (keeps models warm: attribute, sanity, ... run in it while it runs; ATTRLENS_SERVE=off runs here)`;

/** Where a command's output goes: this process's streams, or a client of `attrlens serve`. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  stderrTTY: boolean;
  /** ANSI colours on stdout */
  color: boolean;
  /** aborted on Ctrl-C */
  signal: AbortSignal;
}

type Print = (s: string) => void;

function progressBarOf(io: CommandIO): (done: number, total: number, phase?: string) => void {
  if (!io.stderrTTY) return () => undefined;
  return (done, total, phase) => {
    const w = 30;
    const f = Math.round((done / Math.max(1, total)) * w);
    io.err(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total} ${phase ?? ''}   ${done >= total ? '\n' : ''}`);
  };
}

async function inspect(args: ParsedArgs, print: Print): Promise<void> {
  checkFlags(args, ['model', 'json']);
  const info = await inspectModel(requireFlag(args, 'model', 'M.onnx'));
  if (flag(args, 'json')) return print(JSON.stringify(info));
  const dims = (d: Array<number | string | null>) => `[${d.map((x) => x ?? '?').join(', ')}]`;
  print(`${info.file}\n  ir ${info.irVersion}, opset ${info.opset}${info.producer ? `, ${info.producer}` : ''}; batching: ${info.batchable ? 'yes' : 'batch 1 only'}`);
  for (const i of info.inputs) print(`  input  ${i.name}: ${i.dtype ?? i.elemType} ${dims(i.dims)}${i.note ? ` (${i.note})` : ''}`);
  for (const o of info.outputs) print(`  output ${o.name}: ${o.dtype ?? o.elemType} ${dims(o.dims)}${o.kind ? ` (${o.kind}, from ${o.kindWhy})` : ''}`);
  print(`  ops: ${Object.entries(info.opCounts).map(([k, v]) => `${k}×${v}`).join(' ')}`);
  print(`  labels: ${info.labels ? `${info.labels.length} from ${info.labelSource} (${info.labels.slice(0, 5).join(', ')}${info.labels.length > 5 ? ', …' : ''})` : 'none'}`);
  print(`  gradients: ${info.gradients.supported ? 'supported' : `not supported (${info.gradients.message})`}`);
  if (info.preprocessing) print(formatPreprocessing(info.preprocessing.config));
  if (info.preprocessingError) print(`  preprocessing: unusable: ${info.preprocessingError}`);
  print(`  layers (${info.layers.length}):`);
  for (const l of info.layers) print(`    ${l.name} ${dims(l.dims)} ${l.op}`);
}

async function cache(args: ParsedArgs, print: Print): Promise<void> {
  checkFlags(args, ['info', 'trim', 'json']);
  const dir = cacheDir();
  if (!dir) return print('the disk cache is off (ATTRLENS_CACHE_DIR=off)');
  const trim = !!flag(args, 'trim');
  const r = await trimCache(dir, { dryRun: !trim });
  if (flag(args, 'json')) return print(JSON.stringify({ ...r, dryRun: !trim }));
  const mb = (n: number) => `${(n / 1048576).toFixed(n < 10485760 ? 1 : 0)} MB`;
  print(`${dir}: ${r.files} files, ${mb(r.bytes)} (cap ${mb(r.maxBytes)}, ATTRLENS_CACHE_MAX_MB)`);
  const what = `${r.removed.length} files, ${mb(r.removedBytes)}${r.stale ? ` (${r.stale} stale temporary files)` : ''}`;
  print(trim ? `removed ${what}` : r.removed.length ? `a trim (attrlens cache --trim) would remove ${what}` : 'nothing to trim');
}

async function main(argv: string[], io: CommandIO): Promise<number> {
  const args = parseArgs(argv);
  const print: Print = (s) => io.out(`${s}\n`);
  const signal = io.signal;
  const progressBar = () => progressBarOf(io);
  switch (args.command) {
    case 'inspect':
      await inspect(args, print);
      return 0;
    case 'attribute':
      if (await isGenerationRequest(args)) {
        await generateCommand(args, print, signal, progressBar(), io.color);
        return 0;
      }
      if (flag(args, 'text') !== undefined) {
        checkFlags(args, ['model', 'text', 'method', 'target', 'params', 'layer', 'json', 'granularity']);
        await attributeTextCommand(
          {
            model: requireFlag(args, 'model', 'M.onnx'),
            text: flag(args, 'text')!,
            method: flag(args, 'method'),
            target: flag(args, 'target'),
            params: parseParams(args),
            json: !!flag(args, 'json'),
            granularity: flag(args, 'granularity') as 'token' | 'word' | undefined,
          },
          print,
          signal,
          progressBar(),
        );
        return 0;
      }
      await attributeCommand(args, print, signal, progressBar());
      return 0;
    case 'methods': {
      checkFlags(args, ['json']);
      const ms = listMethods();
      if (flag(args, 'json')) print(JSON.stringify(ms));
      else for (const m of ms) print(`${m.id.padEnd(30)} ${m.captumName.padEnd(28)} ${m.params.map((p) => `${p.name}${p.default !== undefined ? `=${JSON.stringify(p.default)}` : p.required ? ' (required)' : ''}`).join(', ')}`);
      return 0;
    }
    case 'conformance': {
      checkFlags(args, ['filter']);
      const dir = args.positional[0];
      if (!dir) throw new AttrLensError('usage: attrlens conformance DIR (the folder with cases.json)');
      const results = await runConformance(dir, print, flag(args, 'filter'));
      return results.every((r) => r.ok) ? 0 : 1;
    }
    case 'evaluate': {
      checkFlags(args, ['model', 'images', 'methods', 'json', 'target']);
      const { sampleDir } = await import('./demo');
      const dir = sampleDir();
      await runEvaluate({
        model: flag(args, 'model') ?? `${dir}/model.onnx`,
        images: flag(args, 'images') ?? `${dir}/images`,
        methods: flag(args, 'methods')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [],
        target: flag(args, 'target') as 'true' | 'predicted' | undefined,
        json: !!flag(args, 'json'),
        log: print,
      });
      return 0;
    }
    case 'sanity':
      return sanityCommand(args, print, signal, progressBar());
    case 'dataset':
      await datasetCommand(args, print, signal, progressBar());
      return 0;
    case 'demo':
      checkFlags(args, ['out', 'image']);
      await demoCommand(flag(args, 'out') ?? 'out/demo', print, flag(args, 'image'));
      return 0;
    case 'cache':
      await cache(args, print);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      print(USAGE);
      return 0;
    default:
      throw new AttrLensError(`unknown command '${args.command}'; commands: inspect, attribute, methods, conformance, evaluate, sanity, dataset, demo, cache, serve (attrlens help)`);
  }
}

/** Runs one command; its output goes to `io`, errors become one line and the exit code (2 a user error, 1 otherwise, 130 cancelled). */
export async function runCommand(argv: string[], io: CommandIO): Promise<number> {
  try {
    return await main(argv, io);
  } catch (e) {
    if (e instanceof CancelledError) {
      io.err('attrlens: cancelled\n');
      return 130;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`attrlens: error: ${msg.split('\n')[0]}\n`);
    return e instanceof AttrLensError ? 2 : 1;
  }
}

// dist/cli.js (launcher.ts) chose whether this process has glibc's huge pages
const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  void serve(argv, runCommand);
} else {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const io: CommandIO = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    stderrTTY: !!process.stderr.isTTY,
    color: !!process.stdout.isTTY && !process.env.NO_COLOR,
    signal: controller.signal,
  };
  // a cancelled run exits at once; others wait for the cache writes they started
  void runCommand(argv, io).then(async (code) => {
    if (code !== 130) await flushDiskCache();
    process.exit(code);
  });
}
