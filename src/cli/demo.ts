import * as fs from 'fs';
import * as path from 'path';
import { loadInputs } from '../engine/inputs';
import { LoadedModel } from '../engine/model/loadedModel';
import { attribute } from '../engine/methods/registry';
import { AttributionResult } from '../engine/methods/types';
import { formatPredictions } from './attribute';
import { encodePng, renderAttribution, writeFileSafe } from './render';

/** Where the sample model lives: beside the package (dist/ → ..). */
export function sampleDir(): string {
  const candidates = [path.resolve(__dirname, '..', 'samples', 'shapes'), path.resolve('samples', 'shapes')];
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'model.onnx')));
  if (!found) throw new Error('the sample model samples/shapes/model.onnx is missing: run from the project folder');
  return found;
}

const DEMO_METHODS: Array<{ method: string; params?: Record<string, unknown>; sign: 'all' | 'absolute_value' | 'positive' }> = [
  { method: 'integrated-gradients', sign: 'all' },
  { method: 'saliency', sign: 'absolute_value' },
  { method: 'deeplift', sign: 'all' },
  { method: 'gradcam', params: { reluAttributions: true }, sign: 'positive' },
  { method: 'input-x-gradient', sign: 'all' },
  { method: 'occlusion', params: { slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] }, sign: 'all' },
];

/** `npm run demo`: attributes the sample image with several methods and writes an HTML report. */
export async function demoCommand(outDir: string, print: (s: string) => void, imageName?: string): Promise<string> {
  const dir = sampleDir();
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'images', 'manifest.json'), 'utf8')) as { images: Array<{ image: string; label: string; mask: string }> };
  const entry = manifest.images.find((i) => i.image === imageName) ?? manifest.images[0];
  const imageFile = path.join(dir, 'images', entry.image);
  const lm = await LoadedModel.open(path.join(dir, 'model.onnx'));
  const inputs = await loadInputs(lm, imageFile);
  const image = inputs.image!;
  print(`model: ${path.relative(process.cwd(), path.join(dir, 'model.onnx'))}  image: ${path.relative(process.cwd(), imageFile)} (true label: ${entry.label})`);
  const rows: Array<{ res: AttributionResult; png: string; scale: string }> = [];
  const out = path.resolve(outDir);
  fs.mkdirSync(out, { recursive: true });
  writeFileSafe(path.join(out, 'image.png'), await encodePng(image.rgba, image.width, image.height));
  for (const m of DEMO_METHODS) {
    const res = await attribute(lm, inputs.feeds, { method: m.method, params: m.params });
    if (rows.length === 0) print(`top predictions:\n${formatPredictions(res.predictions)}`);
    const attr = Object.values(res.attributions)[0];
    const r = await renderAttribution(attr, image, { method: 'blended_heat_map', sign: m.sign, upsample: 'bilinear' });
    const file = `${m.method}.png`;
    writeFileSafe(path.join(out, file), r.png);
    rows.push({ res, png: file, scale: `${r.min.toExponential(2)} … ${r.max.toExponential(2)} (saturates at ${r.threshold.toExponential(2)})` });
    print(`  ${m.method.padEnd(22)} ${res.seconds.toFixed(3)} s${res.delta !== undefined ? `  delta ${res.delta.toExponential(2)}` : ''}`);
  }
  await contactSheet(out, ['image.png', ...rows.map((r) => r.png)], path.join(out, 'summary.png'));
  const report = path.join(out, 'index.html');
  fs.writeFileSync(report, html(entry, rows));
  print(`report: ${report}`);
  return report;
}

/** One row of tiles (input, then each method), upscaled for viewing. */
async function contactSheet(dir: string, files: string[], target: string): Promise<void> {
  const sharp = (await import('sharp')).default;
  const tile = 192, gap = 4;
  const tiles = await Promise.all(files.map((f) => sharp(path.join(dir, f)).resize(tile, tile, { kernel: 'nearest' }).png().toBuffer()));
  await sharp({ create: { width: files.length * (tile + gap) - gap, height: tile, channels: 4, background: '#1e1e1e' } })
    .composite(tiles.map((input, i) => ({ input, left: i * (tile + gap), top: 0 })))
    .png()
    .toFile(target);
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function html(entry: { image: string; label: string }, rows: Array<{ res: AttributionResult; png: string; scale: string }>): string {
  const preds = rows[0].res.predictions.map((p) => `<tr><td>${p.index}</td><td>${esc(p.label ?? '')}</td><td>${(p.probability * 100).toFixed(1)}%</td></tr>`).join('');
  const cells = rows
    .map(({ res, png, scale }) => `<figure><img src="${png}" width="256" height="256"><figcaption><b>${esc(res.method)}</b><br>target ${res.target} (${esc(res.targetLabel ?? '')}), ${res.seconds.toFixed(3)} s${res.delta !== undefined ? `, delta ${res.delta.toExponential(2)}` : ''}<br><small>${esc(scale)}</small></figcaption></figure>`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Attribution Lens demo</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;background:#1e1e1e;color:#ddd}figure{display:inline-block;margin:8px;text-align:center}img{image-rendering:pixelated;border:1px solid #444}table{border-collapse:collapse}td{padding:2px 10px;border-bottom:1px solid #333}</style></head>
<body><h1>Attribution Lens — ${esc(entry.image)}</h1><p>True label: <b>${esc(entry.label)}</b>. Heatmaps are Captum's blended heat map over the image as the model sees it.</p>
<figure><img src="image.png" width="256" height="256"><figcaption>input</figcaption></figure>
<table><tr><th>index</th><th>label</th><th>probability</th></tr>${preds}</table>
<div>${cells}</div></body></html>`;
}
