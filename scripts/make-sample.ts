// Writes samples/shapes/: a small hand-designed CNN that classifies a shape's colour, its
// labels and preprocessing config, and synthetic test pictures with ground-truth masks.
// Deterministic (seeded PRNG); run with `npx tsx scripts/make-sample.ts`.
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { loadInputs } from '../src/engine/inputs';
import { LoadedModel } from '../src/engine/model/loadedModel';
import { attr } from '../src/engine/onnx/attributes';
import { GraphBuilder, valueInfo } from '../src/engine/onnx/builder';
import { Rng } from '../src/engine/methods/rng';
import { OnnxModel } from '../src/engine/onnx/model';
import { ModelProto, encodeModel } from '../src/engine/onnx/proto';
import { softmax } from '../src/engine/core/tensor';

const OUT = path.join(__dirname, '..', 'samples', 'shapes');
const SIZE = 64;
const LABELS = ['red', 'green', 'blue', 'yellow'] as const;
type Label = (typeof LABELS)[number];

/** Base colour of each class in [0, 1] RGB. */
const COLOURS: Record<Label, [number, number, number]> = {
  red: [0.85, 0.15, 0.15],
  green: [0.15, 0.75, 0.2],
  blue: [0.15, 0.25, 0.9],
  yellow: [0.92, 0.82, 0.12],
};

/**
 * Colour-opponent weights over (R, G, B), a threshold and a gain per class. Every weight
 * row sums to 0, so any grey (R = G = B) gives exactly 0: the textured grey background can
 * never produce evidence, only coloured pixels can. The gain maps a class's own colour to
 * about 1 after the threshold.
 */
const OPPONENT: Record<Label, { w: [number, number, number]; t: number; gain: number }> = {
  red: { w: [1, -1, 0], t: 0.3, gain: 2.5 }, // red 0.70, yellow 0.10
  green: { w: [-1, 1, 0], t: 0.3, gain: 10 / 3 }, // green 0.60, blue 0.10
  blue: { w: [-0.5, -0.5, 1], t: 0.3, gain: 2.5 }, // blue 0.70, green -0.25
  yellow: { w: [1, 1, -2], t: 1.0, gain: 2 }, // yellow 1.50, red 0.70, green 0.50
};

// ---------------------------------------------------------------- model

function buildModel(): OnnxModel {
  const K = LABELS.length;
  // OnnxModel only loads complete graphs: start from a one-node placeholder and clear it.
  const proto: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'attribution-lens/make-sample',
    producerVersion: '1',
    docString: 'Hand-designed colour classifier for the Attribution Lens sample (see README.md).',
    graph: {
      name: 'shapes_colour_cnn',
      node: [{ opType: 'Identity', name: 'placeholder', input: ['input'], output: ['logits'] }],
      input: [valueInfo('input', 1, [1, 3, SIZE, SIZE])],
      output: [valueInfo('logits', 1, [1, K])],
      initializer: [],
      valueInfo: [],
    },
  };
  const model = OnnxModel.fromBytes(encodeModel(proto));
  model.graph.node.length = 0;
  const b = new GraphBuilder(model);

  const param = (name: string, dims: number[], data: number[]): string => b.param(name, dims, data);
  // A node named the way torch.onnx.export names it, so layer grouping sees /features/conv1 etc.
  const layer = (scope: string, op: string, inputs: string[], attrs = {}, output?: string): string => b.exported(scope, op, inputs, attrs, output);

  // conv1: 3 -> 4, 3x3 box filter of the colour-opponent response (smooths pixel noise). (1,4,64,64)
  const w1: number[] = [];
  const b1: number[] = [];
  for (const label of LABELS) {
    const o = OPPONENT[label];
    for (let c = 0; c < 3; c++) for (let i = 0; i < 9; i++) w1.push((o.gain * o.w[c]) / 9);
    b1.push(-o.gain * o.t);
  }
  const pads = { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([1, 1]) };
  let x = layer('/features/conv1', 'Conv', ['input', param('features.conv1.weight', [K, 3, 3, 3], w1), param('features.conv1.bias', [K], b1)], pads);
  x = layer('/features/relu1', 'Relu', [x]);
  // (1,4,32,32)
  x = layer('/features/pool1', 'MaxPool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });

  // conv2: 4 -> 8; per class a "blob" channel (3x3 box of its colour, inhibited by the other
  // colours) and a "core" channel (solid interior only). (1,8,32,32)
  const w2: number[] = [];
  const b2: number[] = [];
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < K; j++) for (let i = 0; i < 9; i++) w2.push((j === k ? 1 : -0.5) / 9);
    b2.push(-0.1);
    for (let j = 0; j < K; j++) for (let i = 0; i < 9; i++) w2.push(j === k && i === 4 ? 1 : 0);
    b2.push(-0.5);
  }
  x = layer('/features/conv2', 'Conv', [x, param('features.conv2.weight', [2 * K, K, 3, 3], w2), param('features.conv2.bias', [2 * K], b2)], pads);
  x = layer('/features/relu2', 'Relu', [x]);
  // (1,8,1,1) -> (1,8)
  x = layer('/avgpool', 'GlobalAveragePool', [x]);
  x = layer('', 'Flatten', [x], { axis: attr.int(1) });

  // fc: each class adds its own two channels and subtracts the others'. (1,4)
  const wf: number[] = [];
  for (let k = 0; k < K; k++) for (let j = 0; j < 2 * K; j++) wf.push(Math.floor(j / 2) === k ? 40 : -10);
  layer('/classifier/fc', 'Gemm', [x, param('classifier.fc.weight', [K, 2 * K], wf), param('classifier.fc.bias', [K], new Array<number>(K).fill(0))], {
    alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1),
  }, 'logits');

  return OnnxModel.fromBytes(model.toBytes()); // re-load: validates the graph
}

// ---------------------------------------------------------------- pictures

/** The engine's seeded PRNG (mulberry32), so every run writes the same bytes. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

type Shape = 'circle' | 'square' | 'triangle';
interface PictureSpec {
  name: string;
  label: Label;
  shape: Shape;
}
const PICTURES: PictureSpec[] = [
  { name: 'red-circle', label: 'red', shape: 'circle' },
  { name: 'green-square', label: 'green', shape: 'square' },
  { name: 'blue-triangle', label: 'blue', shape: 'triangle' },
  { name: 'yellow-circle', label: 'yellow', shape: 'circle' },
  { name: 'red-triangle', label: 'red', shape: 'triangle' },
  { name: 'blue-square', label: 'blue', shape: 'square' },
  { name: 'green-circle', label: 'green', shape: 'circle' },
  { name: 'yellow-triangle', label: 'yellow', shape: 'triangle' },
];

/** Inside test for a shape centred at (cx, cy) with size r and rotation a. */
function inside(shape: Shape, px: number, py: number, cx: number, cy: number, r: number, a: number): boolean {
  const dx = px - cx, dy = py - cy;
  const u = dx * Math.cos(a) + dy * Math.sin(a);
  const v = -dx * Math.sin(a) + dy * Math.cos(a);
  if (shape === 'circle') return u * u + v * v <= r * r;
  if (shape === 'square') return Math.abs(u) <= r * 0.8 && Math.abs(v) <= r * 0.8;
  // equilateral triangle with circumradius r: inside all three edge half-planes
  for (let k = 0; k < 3; k++) {
    const t = (2 * Math.PI * k) / 3;
    if (u * Math.cos(t) + v * Math.sin(t) > r / 2) return false;
  }
  return true;
}

function makePicture(spec: PictureSpec, seed: number): { rgb: Buffer; mask: Buffer } {
  const rand = prng(seed);
  const grey = 0.4 + 0.15 * rand();
  const period = 6 + 5 * rand();
  const angle = Math.PI * rand();
  const [sx, sy] = [Math.cos(angle), Math.sin(angle)];
  const r = spec.shape === 'triangle' ? 14 + 3 * rand() : 11 + 3 * rand();
  const margin = r + 3;
  const cx = margin + (SIZE - 2 * margin) * rand();
  const cy = margin + (SIZE - 2 * margin) * rand();
  const rot = 2 * Math.PI * rand();
  const colour = COLOURS[spec.label].map((c) => c + 0.08 * (rand() - 0.5));

  const rgb = Buffer.alloc(SIZE * SIZE * 3);
  const mask = Buffer.alloc(SIZE * SIZE);
  const byte = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const p = y * SIZE + x;
      const on = inside(spec.shape, x + 0.5, y + 0.5, cx, cy, r, rot);
      let px: number[];
      if (on) {
        const shade = 0.06 * (rand() - 0.5); // luminance only: opponent filters ignore it
        px = colour.map((c) => c + shade);
      } else {
        const stripes = 0.1 * Math.sin((2 * Math.PI * (x * sx + y * sy)) / period);
        const lum = grey + stripes + 0.14 * (rand() - 0.5);
        px = [0, 1, 2].map(() => lum + 0.03 * (rand() - 0.5));
      }
      rgb[p * 3] = byte(px[0]);
      rgb[p * 3 + 1] = byte(px[1]);
      rgb[p * 3 + 2] = byte(px[2]);
      mask[p] = on ? 255 : 0;
    }
  }
  return { rgb, mask };
}

async function writePng(file: string, data: Buffer, channels: 1 | 3): Promise<void> {
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels } })
    .png({ compressionLevel: 9, palette: false })
    .toFile(file);
}

// ---------------------------------------------------------------- main

/** JSON with two-space indent, short arrays of numbers or strings kept on one line. */
function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2).replace(/\[\s*([^[\]{}]*?)\s*\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`) + '\n';
}

async function main(): Promise<void> {
  const imagesDir = path.join(OUT, 'images');
  fs.mkdirSync(imagesDir, { recursive: true });

  const model = buildModel();
  const modelFile = path.join(OUT, 'model.onnx');
  fs.writeFileSync(modelFile, model.toBytes());
  fs.writeFileSync(path.join(OUT, 'labels.txt'), LABELS.join('\n') + '\n');
  const cfg = { layout: 'NCHW', size: [SIZE, SIZE], resize: 'stretch', channels: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], input: 'input' };
  fs.writeFileSync(path.join(OUT, 'model.attrlens.json'), pretty(cfg));

  const manifest: Array<{ image: string; mask: string; label: Label; labelIndex: number; shape: Shape }> = [];
  for (const [i, spec] of PICTURES.entries()) {
    const { rgb, mask } = makePicture(spec, 1000 + i);
    await writePng(path.join(imagesDir, `${spec.name}.png`), rgb, 3);
    await writePng(path.join(imagesDir, `${spec.name}.mask.png`), mask, 1);
    manifest.push({ image: `${spec.name}.png`, mask: `${spec.name}.mask.png`, label: spec.label, labelIndex: LABELS.indexOf(spec.label), shape: spec.shape });
  }
  fs.writeFileSync(path.join(imagesDir, 'manifest.json'), pretty({ labels: [...LABELS], images: manifest }));

  // Check: every picture is classified correctly, through the same path the extension uses.
  const lm = await LoadedModel.open(modelFile);
  console.log(`wrote ${path.relative(process.cwd(), modelFile)} (${fs.statSync(modelFile).size} bytes, ${model.graph.node.length} nodes)`);
  let ok = true;
  for (const m of manifest) {
    const file = path.join(imagesDir, m.image);
    const { feeds } = await loadInputs(lm, file);
    const logits = (await lm.forward(feeds)).logits.data as Float32Array;
    const p = softmax(logits);
    const pred = LABELS[p.indexOf(Math.max(...p))];
    const others = Array.from(logits).filter((_, k) => k !== m.labelIndex);
    const margin = logits[m.labelIndex] - Math.max(...others);
    const good = pred === m.label && p[m.labelIndex] > 0.6;
    ok &&= good;
    console.log(`${good ? 'ok  ' : 'FAIL'} ${m.image.padEnd(20)} true=${m.label.padEnd(6)} pred=${pred.padEnd(6)} p=${p[m.labelIndex].toFixed(4)} margin=${margin.toFixed(2)} logits=[${Array.from(logits, (v) => v.toFixed(2)).join(', ')}]`);
  }
  if (!ok) {
    console.error('some sample pictures are misclassified: adjust the weights');
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
