// Writes samples/segment/: a small hand-designed semantic segmenter of coloured shapes
// (logits [1, 5, 80, 80]: background, red, green, blue, yellow), its labels and preprocessing
// config, and pictures of two or three shapes with ground-truth class maps.
// Deterministic (seeded PRNG); run with `npx tsx scripts/make-segment-sample.ts`.
import * as fs from 'fs';
import * as path from 'path';
import { loadInputs } from '../src/engine/inputs';
import { LoadedModel } from '../src/engine/model/loadedModel';
import { attr } from '../src/engine/onnx/attributes';
import { GraphBuilder, valueInfo } from '../src/engine/onnx/builder';
import { OnnxModel } from '../src/engine/onnx/model';
import { ModelProto, encodeModel } from '../src/engine/onnx/proto';
import { COLOURS, OPPONENT, ObjectSpec, drawPicture, pictureName, pretty, writePng } from './shape-pictures';

const OUT = path.join(__dirname, '..', 'samples', 'segment');
const SIZE = 80;
const C = COLOURS.length;
const LABELS = ['background', ...COLOURS];

function buildModel(): OnnxModel {
  const K = LABELS.length;
  const proto: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'attribution-lens/make-segment-sample',
    producerVersion: '1',
    docString: 'Hand-designed semantic segmenter of coloured shapes for the Attribution Lens sample (see README.md).',
    graph: {
      name: 'shapes_segmenter',
      node: [{ opType: 'Identity', name: 'placeholder', input: ['input'], output: ['logits'] }],
      input: [valueInfo('input', 1, [1, 3, SIZE, SIZE])],
      output: [valueInfo('logits', 1, [1, K, SIZE, SIZE])],
      initializer: [],
      valueInfo: [],
    },
  };
  const model = OnnxModel.fromBytes(encodeModel(proto));
  model.graph.node.length = 0;
  const b = new GraphBuilder(model);
  const layer = (scope: string, op: string, inputs: string[], attrs = {}, output?: string): string => b.exported(scope, op, inputs, attrs, output);
  const conv = (k: number, pad: number) => ({ kernel_shape: attr.ints([k, k]), pads: attr.ints([pad, pad, pad, pad]), strides: attr.ints([1, 1]) });

  // conv1: 3 → 4, a 3×3-smoothed colour-opponent detector per colour, ~1 on its colour. (1,4,80,80)
  const w1: number[] = [];
  const b1: number[] = [];
  for (const col of COLOURS) {
    const o = OPPONENT[col];
    for (let c = 0; c < 3; c++) for (let i = 0; i < 9; i++) w1.push((o.gain * o.w[c]) / 9);
    b1.push(-o.gain * o.t);
  }
  let x = layer('/backbone/conv1', 'Conv', ['input', b.param('backbone.conv1.weight', [C, 3, 3, 3], w1), b.param('backbone.conv1.bias', [C], b1)], conv(3, 1));
  x = layer('/backbone/relu1', 'Relu', [x]);
  // conv2: 4 → 4, each colour over a 3×3 window, inhibited by the other colours. (1,4,80,80)
  const w2: number[] = [];
  for (let k = 0; k < C; k++) for (let j = 0; j < C; j++) for (let i = 0; i < 9; i++) w2.push((j === k ? 1 : -0.5) / 9);
  x = layer('/backbone/conv2', 'Conv', [x, b.param('backbone.conv2.weight', [C, C, 3, 3], w2), b.param('backbone.conv2.bias', [C], new Array<number>(C).fill(0))], conv(3, 1));
  x = layer('/backbone/relu2', 'Relu', [x]);
  // head: 1×1, 4 → 5; background a constant 2, colour k gain 8 on its channel. (1,5,80,80)
  const wh: number[] = [];
  for (let k = 0; k < K; k++) for (let j = 0; j < C; j++) wh.push(k > 0 && j === k - 1 ? 8 : 0);
  layer('/classifier/conv', 'Conv', [x, b.param('classifier.conv.weight', [K, C, 1, 1], wh), b.param('classifier.conv.bias', [K], [2, 0, 0, 0, 0])], conv(1, 0), 'logits');
  return OnnxModel.fromBytes(model.toBytes());
}

const PICTURES: ObjectSpec[][] = [
  [{ colour: 'red', shape: 'circle' }, { colour: 'blue', shape: 'square' }],
  [{ colour: 'green', shape: 'triangle' }, { colour: 'yellow', shape: 'circle' }],
  [{ colour: 'blue', shape: 'triangle' }, { colour: 'red', shape: 'square' }, { colour: 'green', shape: 'circle' }],
  [{ colour: 'yellow', shape: 'square' }, { colour: 'red', shape: 'triangle' }],
];

async function main(): Promise<void> {
  const imagesDir = path.join(OUT, 'images');
  fs.mkdirSync(imagesDir, { recursive: true });
  const modelFile = path.join(OUT, 'model.onnx');
  fs.writeFileSync(modelFile, buildModel().toBytes());
  fs.writeFileSync(path.join(OUT, 'labels.txt'), LABELS.join('\n') + '\n');
  const cfg = { layout: 'NCHW', size: [SIZE, SIZE], resize: 'stretch', channels: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], input: 'input' };
  fs.writeFileSync(path.join(OUT, 'model.attrlens.json'), pretty(cfg));

  const manifest: Array<{ image: string; mask: string; objects: Array<{ class: number; label: string; shape: string; box: number[]; pixels: number }> }> = [];
  for (const [i, objects] of PICTURES.entries()) {
    const name = pictureName(objects);
    const pic = drawPicture(SIZE, objects, 3000 + i, 6);
    await writePng(path.join(imagesDir, `${name}.png`), pic.rgb, SIZE, 3);
    await writePng(path.join(imagesDir, `${name}.mask.png`), pic.classMap, SIZE, 1);
    manifest.push({
      image: `${name}.png`,
      mask: `${name}.mask.png`,
      objects: pic.objects.map((o) => ({ class: 1 + COLOURS.indexOf(o.colour), label: o.colour, shape: o.shape, box: o.box, pixels: o.pixels })),
    });
  }
  fs.writeFileSync(path.join(imagesDir, 'manifest.json'), pretty({ labels: LABELS, maskFormat: 'grey PNG, pixel value = class index (0 background)', images: manifest }));

  // Check: per-pixel argmax against the ground-truth class maps.
  const lm = await LoadedModel.open(modelFile);
  console.log(`wrote ${path.relative(process.cwd(), modelFile)} (${fs.statSync(modelFile).size} bytes, ${lm.model.graph.node.length} nodes)`);
  let ok = true;
  for (const [i, e] of manifest.entries()) {
    const truth = drawPicture(SIZE, PICTURES[i], 3000 + i, 6).classMap;
    const { feeds } = await loadInputs(lm, path.join(imagesDir, e.image));
    const out = (await lm.forward(feeds)).logits.data as Float32Array;
    const hw = SIZE * SIZE;
    const ious = e.objects.map((o) => {
      let inter = 0, union = 0;
      for (let p = 0; p < hw; p++) {
        let best = 0;
        for (let k = 1; k < LABELS.length; k++) if (out[k * hw + p] > out[best * hw + p]) best = k;
        const a = best === o.class, t = truth[p] === o.class;
        inter += a && t ? 1 : 0;
        union += a || t ? 1 : 0;
      }
      return inter / union;
    });
    const good = ious.every((v) => v > 0.8);
    ok &&= good;
    console.log(`${good ? 'ok  ' : 'FAIL'} ${e.image.padEnd(40)} IoU per object: ${e.objects.map((o, k) => `${o.label} ${ious[k].toFixed(3)}`).join(', ')}`);
  }
  if (!ok) {
    console.error('the segmenter misses objects: adjust the weights');
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
