// `attrlens sanity`: the model parameter randomisation test (Adebayo et al. 2018) for one method on
// one input, as a table (or JSON), and optionally the cascade's maps as one PNG strip.
import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { LoadedInputs, loadInputs } from '../engine/inputs';
import { LoadedModel } from '../engine/model/loadedModel';
import { SanityResult, SanityStep, sanityCheck } from '../engine/sanity';
import { ParsedArgs, checkFlags, flag, requireFlag } from './args';
import { parseParams } from './attribute';
import { renderAttribution, writeFileSafe } from './render';

/** The result without its tensors: what `--json` prints and `--out-dir` writes as sanity.json. */
export type SanitySummary = Omit<SanityResult, 'steps'> & { model: string; steps: Array<Omit<SanityStep, 'attribution'>>; strip?: string; json?: string };

const TILE = 128;
const GAP = 6;

function wholeNumber(args: ParsedArgs, key: string, lo: number, hi: number): number | undefined {
  const v = flag(args, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new AttrLensError(`--${key} must be a whole number in ${lo}..${hi}, not '${v}'`);
  return Number(v);
}

/** Returns the exit code: 0 when the method passes, 1 when it fails the check. */
export async function sanityCommand(args: ParsedArgs, print: (s: string) => void, signal: AbortSignal, progress?: (done: number, total: number, phase?: string) => void): Promise<number> {
  checkFlags(args, ['model', 'input', 'method', 'params', 'layer', 'target', 'layers', 'seed', 'json', 'out-dir', 'threads']);
  const modelFile = requireFlag(args, 'model', 'M.onnx (the model whose weights are randomised, in memory)');
  const inputs = args.flags.get('input');
  if (!inputs?.length) throw new AttrLensError('missing --input FILE (an image or a .npy tensor; NAME=FILE for models with several inputs)');
  const method = requireFlag(args, 'method', 'METHOD (e.g. saliency, integrated-gradients, guided-backprop; `attrlens methods` lists them)');
  const layers = wholeNumber(args, 'layers', 1, 100000);
  const seed = wholeNumber(args, 'seed', 0, 0xffffffff);
  const threads = flag(args, 'threads');
  const lm = await LoadedModel.open(modelFile, threads ? { threads: Number(threads) } : {});
  const spec = inputs.length === 1 && !inputs[0].includes('=') ? inputs[0] : Object.fromEntries(inputs.map((s) => splitNamed(s, lm)));
  const loaded = await loadInputs(lm, spec);
  const target = flag(args, 'target');
  const res = await sanityCheck(
    lm,
    loaded.feeds,
    { method, params: parseParams(args), target: target === undefined ? undefined : /^\d+$/.test(target) ? Number(target) : target, layers, seed, baseDir: process.cwd() },
    { signal, onProgress: (p) => progress?.(p.done, p.total, p.phase) },
  );
  const summary: SanitySummary = { model: path.resolve(modelFile), ...res, steps: res.steps.map(({ attribution: _, ...s }) => s) };
  const outDir = flag(args, 'out-dir');
  if (outDir) {
    if (loaded.image) summary.strip = writeFileSafe(path.join(outDir, 'strip.png'), await renderStrip(res, loaded.image));
    summary.json = path.resolve(outDir, 'sanity.json');
    writeFileSafe(summary.json, `${JSON.stringify(summary, null, 2)}\n`);
  }
  print(flag(args, 'json') ? JSON.stringify(summary) : formatSanity(summary));
  return res.verdict === 'pass' ? 0 : 1;
}

function splitNamed(s: string, lm: LoadedModel): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new AttrLensError(`--input '${s}': with several inputs write NAME=FILE; inputs: ${lm.inputs.map((i) => i.name).join(', ')}`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

export function stepTitle(s: Pick<SanityStep, 'kind' | 'layer' | 'randomized'>): string {
  if (s.kind === 'original') return 'original';
  if (s.kind === 'random') return `fully randomised (${s.randomized} layers)`;
  return `+ ${s.layer?.name} (${s.layer?.op})`;
}

const num = (v: number | null): string => (v === null ? '—' : v.toFixed(3));

export function formatSanity(s: SanitySummary): string {
  const col = Math.max(24, ...s.steps.map((st) => stepTitle(st).length));
  const lines = [
    `sanity check: ${s.method} for target ${s.targetText}${s.targetLabel ? ` (${s.targetLabel})` : ''}, seed ${s.seed}; cascading randomisation from the top (${s.layers.length} parametrised layers)`,
    `similar = Spearman |·| ≥ ${s.thresholds.spearmanAbs} or SSIM ≥ ${s.thresholds.ssim}`,
    `  ${'model'.padEnd(col)} ${'Spearman |·|'.padStart(12)} ${'Spearman'.padStart(9)} ${'SSIM'.padStart(7)}`,
    ...s.steps.map((st) => `  ${stepTitle(st).padEnd(col)} ${num(st.spearmanAbs).padStart(12)} ${num(st.spearman).padStart(9)} ${num(st.ssim).padStart(7)}${st.error ? `  failed: ${st.error}` : st.kind !== 'original' && st.similar ? '  similar' : ''}`),
    `verdict: ${s.verdict.toUpperCase()} — ${s.summary}`,
    `${s.seconds.toFixed(2)} s`,
  ];
  if (s.strip) lines.push(`strip: ${s.strip}`);
  if (s.json) lines.push(`numbers: ${s.json}`);
  return lines.join('\n');
}

/** The maps left to right (original, cascade, fully random), each on its own scale, as one PNG. */
async function renderStrip(res: SanityResult, image: NonNullable<LoadedInputs['image']>): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  const tiles: Buffer[] = [];
  for (const s of res.steps) {
    const png = s.attribution
      ? (await renderAttribution(s.attribution, image, { method: 'heat_map', sign: 'absolute_value' })).png
      : await sharp({ create: { width: image.width, height: image.height, channels: 4, background: { r: 96, g: 96, b: 96, alpha: 1 } } }).png().toBuffer();
    tiles.push(await sharp(png).resize(TILE, TILE, { fit: 'contain', kernel: 'nearest', background: { r: 255, g: 255, b: 255, alpha: 1 } }).png().toBuffer());
  }
  const width = tiles.length * TILE + (tiles.length - 1) * GAP;
  return sharp({ create: { width, height: TILE, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } })
    .composite(tiles.map((input, i) => ({ input, left: i * (TILE + GAP), top: 0 })))
    .png()
    .toBuffer();
}
