// Writes samples/detect/: a small hand-designed YOLO-style detector of coloured shapes (raw
// head as Ultralytics v8 writes it, and a YOLOv5-style variant with objectness), with
// Ultralytics-like metadata, and pictures of two or three shapes with ground-truth boxes.
// Deterministic (seeded PRNG); run with `npx tsx scripts/make-detect-sample.ts`.
import * as fs from 'fs';
import * as path from 'path';
import { loadInputs } from '../src/engine/inputs';
import { LoadedModel } from '../src/engine/model/loadedModel';
import { attr } from '../src/engine/onnx/attributes';
import { GraphBuilder, valueInfo } from '../src/engine/onnx/builder';
import { OnnxModel } from '../src/engine/onnx/model';
import { ModelProto, encodeModel } from '../src/engine/onnx/proto';
import { decodeRaw, guessRawFormat, iou, rawLayout } from '../src/engine/targets/detections';
import { COLOURS, OPPONENT, ObjectSpec, drawPicture, pictureName, pretty, writePng } from './shape-pictures';

const OUT = path.join(__dirname, '..', 'samples', 'detect');
const SIZE = 96;
/** anchor grid: one anchor per 8×8 cell, at the cell's centre */
const STRIDE = 8;
const GRID = SIZE / STRIDE;
const C = COLOURS.length;
/** half-size of the window an anchor's box is measured in: any object touching the anchor's class window fits in it */
const REACH = 44;
/** score = sigmoid(A · coverage − B), coverage = mean colour response over the 24×24 window around the anchor */
const A = 12;
const B = 2.5;
/** sharpness of the choice of the colour whose box an anchor reports */
const CHOOSE = 150;

type Variant = 'v8' | 'v5';

function buildModel(variant: Variant): OnnxModel {
  const N = GRID * GRID;
  const outDims = variant === 'v8' ? [1, 4 + C, N] : [1, N, 5 + C];
  const proto: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'attribution-lens/make-detect-sample',
    producerVersion: '1',
    docString: `Hand-designed YOLO-style detector of coloured shapes (${variant === 'v8' ? 'Ultralytics v8 raw head' : 'YOLOv5-style head with objectness'}); see README.md.`,
    graph: {
      name: `shapes_detector_${variant}`,
      node: [{ opType: 'Identity', name: 'placeholder', input: ['images'], output: ['output0'] }],
      input: [valueInfo('images', 1, [1, 3, SIZE, SIZE])],
      output: [valueInfo('output0', 1, outDims)],
      initializer: [],
      valueInfo: [],
    },
    metadataProps: [
      { key: 'description', value: `Designed shapes detector (${variant}), Ultralytics-style metadata` },
      { key: 'author', value: 'Attribution Lens sample (hand-set weights)' },
      { key: 'task', value: 'detect' },
      { key: 'stride', value: String(STRIDE) },
      { key: 'batch', value: '1' },
      { key: 'imgsz', value: `[${SIZE}, ${SIZE}]` },
      { key: 'names', value: `{${COLOURS.map((c, i) => `${i}: '${c}'`).join(', ')}}` },
    ],
  };
  const model = OnnxModel.fromBytes(encodeModel(proto));
  model.graph.node.length = 0;
  const b = new GraphBuilder(model);
  const layer = (scope: string, op: string, inputs: string[], attrs = {}, output?: string): string => b.exported(scope, op, inputs, attrs, output);
  const conv = (k: number, pad: number) => ({ kernel_shape: attr.ints([k, k]), pads: attr.ints([pad, pad, pad, pad]), strides: attr.ints([1, 1]) });

  // --- colour response (score path): per class a 3×3-smoothed colour-opponent detector, ~1 on its colour. (1,4,96,96)
  const w0: number[] = [];
  const b0: number[] = [];
  for (const col of COLOURS) {
    const o = OPPONENT[col];
    for (let c = 0; c < 3; c++) for (let i = 0; i < 9; i++) w0.push((o.gain * o.w[c]) / 9);
    b0.push(-o.gain * o.t);
  }
  let r = layer('/model.0/conv', 'Conv', ['images', b.param('model.0.conv.weight', [C, 3, 3, 3], w0), b.param('model.0.conv.bias', [C], b0)], conv(3, 1));
  r = layer('/model.0/act', 'Relu', [r]);
  // coverage of each colour around each anchor: mean over the 24×24 window centred on the cell. (1,4,12,12)
  const cov = layer('/model.1/pool', 'AveragePool', [r], {
    kernel_shape: attr.ints([3 * STRIDE, 3 * STRIDE]), strides: attr.ints([STRIDE, STRIDE]), pads: attr.ints([STRIDE, STRIDE, STRIDE, STRIDE]), count_include_pad: attr.int(1),
  });

  // --- object masks (box path): the same opponent filters per pixel, clipped to 0/1. (1,4,96,96)
  const wm: number[] = [];
  const bm: number[] = [];
  for (const col of COLOURS) {
    const o = OPPONENT[col];
    for (let c = 0; c < 3; c++) wm.push(4 * o.gain * o.w[c]);
    bm.push(-4 * o.gain * o.t);
  }
  let m = layer('/model.2/conv', 'Conv', ['images', b.param('model.2.conv.weight', [C, 3, 1, 1], wm), b.param('model.2.conv.bias', [C], bm)], conv(1, 0));
  m = layer('/model.2/act', 'Clip', [m, b.f32(0), b.f32(1)]);
  // extents: the largest x + 1, y + 1, SIZE − x, SIZE − y of each colour's pixels in the window
  // of ±REACH around each anchor (separable max pools). (1,16,96,96) → (1,16,12,12)
  const xs = Array.from({ length: SIZE }, (_, i) => i);
  const coord = (vals: number[], dims: number[], name: string) => b.param(name, dims, vals);
  const parts = [
    layer('/model.3/xmax', 'Mul', [m, coord(xs.map((x) => x + 1), [1, 1, 1, SIZE], 'model.3.x1')]),
    layer('/model.3/ymax', 'Mul', [m, coord(xs.map((y) => y + 1), [1, 1, SIZE, 1], 'model.3.y1')]),
    layer('/model.3/xmin', 'Mul', [m, coord(xs.map((x) => SIZE - x), [1, 1, 1, SIZE], 'model.3.x0')]),
    layer('/model.3/ymin', 'Mul', [m, coord(xs.map((y) => SIZE - y), [1, 1, SIZE, 1], 'model.3.y0')]),
  ];
  let e = layer('/model.3', 'Concat', parts, { axis: attr.int(1) });
  const K = 2 * REACH;
  const lo = REACH - STRIDE / 2;
  e = layer('/model.4/pool_x', 'MaxPool', [e], { kernel_shape: attr.ints([1, K]), strides: attr.ints([1, STRIDE]), pads: attr.ints([0, lo, 0, lo]) });
  e = layer('/model.4/pool_y', 'MaxPool', [e], { kernel_shape: attr.ints([K, 1]), strides: attr.ints([STRIDE, 1]), pads: attr.ints([lo, 0, lo, 0]) });
  // per colour box (cx, cy, w, h) from the extents: channel k·C + c. (1,16,12,12)
  const wb = new Array<number>(16 * 16).fill(0);
  const bb = new Array<number>(16).fill(0);
  for (let c = 0; c < C; c++) {
    const [xmax, ymax, xminR, yminR] = [0, 1, 2, 3].map((k) => k * C + c);
    const set = (out: number, inp: number, v: number) => (wb[out * 16 + inp] = v);
    // cx = (xmax + xmin) / 2, w = xmax − xmin (xmin read as SIZE − xmin), likewise cy and h
    set(0 * C + c, xmax, 0.5);
    set(0 * C + c, xminR, -0.5);
    set(1 * C + c, ymax, 0.5);
    set(1 * C + c, yminR, -0.5);
    set(2 * C + c, xmax, 1);
    set(2 * C + c, xminR, 1);
    set(3 * C + c, ymax, 1);
    set(3 * C + c, yminR, 1);
    [bb[0 * C + c], bb[1 * C + c], bb[2 * C + c], bb[3 * C + c]] = [SIZE / 2, SIZE / 2, -SIZE, -SIZE];
  }
  let boxes = layer('/model.5/conv', 'Conv', [e, b.param('model.5.conv.weight', [16, 16, 1, 1], wb), b.param('model.5.conv.bias', [16], bb)], conv(1, 0));
  boxes = layer('/model.5', 'Reshape', [boxes, b.i64([1, 4, C, GRID, GRID])]);
  // each anchor reports the box of the colour that covers it most (a sharp softmax over colours)
  let choice = layer('/model.6/mul', 'Mul', [cov, b.f32(CHOOSE)]);
  choice = layer('/model.6/softmax', 'Softmax', [choice], { axis: attr.int(1) });
  choice = layer('/model.6/unsqueeze', 'Unsqueeze', [choice, b.i64([1])]);
  let box = layer('/model.7/mul', 'Mul', [boxes, choice]);
  box = layer('/model.7/sum', 'ReduceSum', [box, b.i64([2])], { keepdims: attr.int(0) }); // (1,4,12,12)

  if (variant === 'v8') {
    // class scores in 0..1: sigmoid(A · coverage − B) per colour. (1,4,12,12)
    const ws = Array.from({ length: C * C }, (_, i) => (Math.floor(i / C) === i % C ? A : 0));
    let s = layer('/model.8/cls', 'Conv', [cov, b.param('model.8.cls.weight', [C, C, 1, 1], ws), b.param('model.8.cls.bias', [C], new Array<number>(C).fill(-B))], conv(1, 0));
    s = layer('/model.8/act', 'Sigmoid', [s]);
    const out = layer('/model.9', 'Concat', [box, s], { axis: attr.int(1) }); // (1,8,12,12)
    layer('/model.9/reshape', 'Reshape', [out, b.i64([1, 4 + C, N])], {}, 'output0'); // (1,8,144)
  } else {
    // objectness sigmoid(A · the largest coverage − B); class probabilities sigmoid(2A · coverage − 2). (1,1,12,12), (1,4,12,12)
    let obj = layer('/model.8/obj_max', 'ReduceMax', [cov], { axes: attr.ints([1]), keepdims: attr.int(1) });
    obj = layer('/model.8/obj', 'Conv', [obj, b.param('model.8.obj.weight', [1, 1, 1, 1], [A]), b.param('model.8.obj.bias', [1], [-B])], conv(1, 0));
    obj = layer('/model.8/obj_act', 'Sigmoid', [obj]);
    const ws = Array.from({ length: C * C }, (_, i) => (Math.floor(i / C) === i % C ? 2 * A : 0));
    let s = layer('/model.8/cls', 'Conv', [cov, b.param('model.8.cls.weight', [C, C, 1, 1], ws), b.param('model.8.cls.bias', [C], new Array<number>(C).fill(-2))], conv(1, 0));
    s = layer('/model.8/act', 'Sigmoid', [s]);
    let out = layer('/model.9', 'Concat', [box, obj, s], { axis: attr.int(1) }); // (1,9,12,12)
    out = layer('/model.9/reshape', 'Reshape', [out, b.i64([1, 5 + C, N])]);
    layer('/model.9/transpose', 'Transpose', [out], { perm: attr.ints([0, 2, 1]) }, 'output0'); // (1,144,9)
  }
  return OnnxModel.fromBytes(model.toBytes());
}

const PICTURES: ObjectSpec[][] = [
  [{ colour: 'red', shape: 'circle' }, { colour: 'blue', shape: 'square' }],
  [{ colour: 'green', shape: 'triangle' }, { colour: 'yellow', shape: 'circle' }, { colour: 'red', shape: 'square' }],
  [{ colour: 'blue', shape: 'circle' }, { colour: 'yellow', shape: 'triangle' }],
  [{ colour: 'red', shape: 'triangle' }, { colour: 'green', shape: 'circle' }, { colour: 'blue', shape: 'triangle' }],
  [{ colour: 'yellow', shape: 'square' }, { colour: 'green', shape: 'square' }, { colour: 'blue', shape: 'circle' }],
  [{ colour: 'green', shape: 'circle' }, { colour: 'red', shape: 'circle' }],
];

async function main(): Promise<void> {
  const imagesDir = path.join(OUT, 'images');
  fs.mkdirSync(imagesDir, { recursive: true });
  const files = { v8: path.join(OUT, 'model.onnx'), v5: path.join(OUT, 'model-v5.onnx') };
  for (const v of ['v8', 'v5'] as const) fs.writeFileSync(files[v], buildModel(v).toBytes());
  fs.writeFileSync(path.join(OUT, 'labels.txt'), COLOURS.join('\n') + '\n');

  const manifest: Array<{ image: string; boxes: string; objects: number }> = [];
  for (const [i, objects] of PICTURES.entries()) {
    const name = pictureName(objects);
    const pic = drawPicture(SIZE, objects, 2000 + i, 16);
    await writePng(path.join(imagesDir, `${name}.png`), pic.rgb, SIZE, 3);
    const truth = {
      image: `${name}.png`,
      size: [SIZE, SIZE],
      boxFormat: 'x0, y0, x1, y1 in pixels (x1, y1 exclusive)',
      objects: pic.objects.map((o) => ({ class: COLOURS.indexOf(o.colour), label: o.colour, shape: o.shape, box: o.box, centre: [o.cx, o.cy], radius: o.r, pixels: o.pixels })),
    };
    fs.writeFileSync(path.join(imagesDir, `${name}.json`), pretty(truth));
    manifest.push({ image: `${name}.png`, boxes: `${name}.json`, objects: objects.length });
  }
  fs.writeFileSync(path.join(imagesDir, 'manifest.json'), pretty({ labels: [...COLOURS], images: manifest }));

  // Check: both heads find every object (IoU > 0.7, right class) and nothing else.
  let ok = true;
  for (const v of ['v8', 'v5'] as const) {
    const lm = await LoadedModel.open(files[v]);
    console.log(`wrote ${path.relative(process.cwd(), files[v])} (${fs.statSync(files[v]).size} bytes, ${lm.model.graph.node.length} nodes)`);
    const dims = lm.outputs[0].dims as number[];
    const layout = rawLayout(dims, guessRawFormat(dims, C)!);
    for (const e of manifest) {
      const truth = JSON.parse(fs.readFileSync(path.join(imagesDir, e.boxes), 'utf8')) as { objects: Array<{ class: number; label: string; box: [number, number, number, number] }> };
      const { feeds } = await loadInputs(lm, path.join(imagesDir, e.image));
      const out = (await lm.forward(feeds)).output0;
      const dets = decodeRaw(out.data as Float32Array, layout);
      const found = truth.objects.map((o) => Math.max(0, ...dets.filter((d) => d.class === o.class).map((d) => iou(d.box, o.box))));
      const good = dets.length === truth.objects.length && found.every((f) => f > 0.7);
      ok &&= good;
      console.log(`${good ? 'ok  ' : 'FAIL'} ${v} ${e.image.padEnd(44)} ${dets.map((d) => `${COLOURS[d.class]} ${d.score.toFixed(3)} [${d.box.map((x) => x.toFixed(1)).join(',')}]`).join('; ')}  IoU ${found.map((f) => f.toFixed(3)).join(', ')}`);
    }
  }
  if (!ok) {
    console.error('the detector misses or adds boxes: adjust the weights');
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
