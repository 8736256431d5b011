// The bad-input corpus of the reliability suite, generated into a temp folder: broken and
// hostile models, images and tensors, each with what the engine and the CLI must say about it.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import sharp from 'sharp';
import { encodeNpy } from '../../src/engine/inputs/npy';
import { MAX_TENSOR_ELEMENTS } from '../../src/engine/onnx/guard';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel, f32 } from '../onnx/helpers';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SAMPLE_MODEL = path.join(ROOT, 'samples', 'shapes', 'model.onnx');

/** A seeded PRNG (mulberry32): the corpus and the fuzzer are reproducible from a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const W = [0.5, -1, 2, 0.25, 1, 1, -0.5, 3, 0, 2, -2, 1];

/** x[1,4] → (optional prefix op) → MatMul W[4,3] → y[1,3]: the healthy base of the model cases. */
export function smallModel(prefix?: string): OnnxModel {
  return buildModel(17, [1, 4], (b, x) => {
    const h = prefix ? b.add(prefix, [x], {}, ['h'])[0] : x;
    return [b.add('MatMul', [h, b.f32(W, [4, 3])], {}, ['y'])[0]];
  });
}

export type Expect =
  /** the engine throws AttrLensError matching `message`; the CLI prints one error line */
  | { kind: 'error'; message: RegExp }
  /** inspect succeeds, attribution fails with `message` */
  | { kind: 'inspect-only'; message: RegExp }
  /** everything works */
  | { kind: 'ok' };

export interface ModelCase {
  id: string;
  file: string;
  /** the .npy input used for attribution */
  input: string;
  expect: Expect;
}

export interface InputCase {
  id: string;
  /** the image or tensor file, fed to `model` */
  file: string;
  model: string;
  expect: Expect;
  /** for accepted images: the RGB value (0..255) every pixel of the decoded tensor must have */
  rgb?: [number, number, number];
  /** tolerance for `rgb`, in 0..255 levels (lossy formats) */
  tol?: number;
}

/** A PNG whose IHDR claims `w`×`h` RGB pixels, followed by a few junk IDAT bytes. */
export function pngHeaderOnly(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

function solid(w: number, h: number, rgb: [number, number, number]): ReturnType<typeof sharp> {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
}

function write(dir: string, name: string, data: Uint8Array | string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}

/** `dir/name/model.onnx` with `w` stored externally at `location` (12 floats, as W). */
function externalModel(dir: string, name: string, location: string): string {
  const m = buildModel(17, [1, 4], (b, x) => [b.add('MatMul', [x, 'w'], {}, ['y'])[0]]);
  m.graph.initializer.push({
    name: 'w',
    dims: [4, 3],
    dataType: 1,
    dataLocation: 1,
    externalData: [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: '48' }],
  });
  return write(dir, path.join(name, 'model.onnx'), m.toBytes());
}

export interface Corpus {
  dir: string;
  models: ModelCase[];
  inputs: InputCase[];
  /** files outside the model folders that external-data cases point at (must never be opened) */
  outside: string[];
  /** model folders of the external-data cases */
  externalDirs: string[];
}

/** A version-1.0 .npy file with the given float32 shape literal and data bytes (which may disagree). */
function npyWith(shape: string, data: Buffer): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const head = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(total - 10, 8);
  head.write(dict, 10, 'latin1');
  head[total - 1] = 0x0a;
  return Buffer.concat([head, data]);
}

export async function makeCorpus(dir: string): Promise<Corpus> {
  const r = rng(1234);
  const npy = write(dir, 'x.npy', encodeNpy(f32([1, 4], [1, 2, 3, 4])));
  const npyNeg = write(dir, 'x-neg.npy', encodeNpy(f32([1, 4], [-1, 2, -3, 4])));
  const sampleBytes = fs.readFileSync(SAMPLE_MODEL);
  const png = await solid(8, 8, [10, 200, 30]).png().toBuffer();
  const good = write(dir, 'good.onnx', smallModel().toBytes());
  const models: ModelCase[] = [];
  const add = (id: string, bytes: Uint8Array, expect: Expect, input = npy): void => {
    models.push({ id, file: write(dir, `${id}.onnx`, bytes), input, expect });
  };

  add('empty', new Uint8Array(0), { kind: 'error', message: /empty\.onnx is empty: export the model again/ });
  add('truncated', sampleBytes.subarray(0, Math.floor(sampleBytes.length * 0.6)), { kind: 'error', message: /truncated\.onnx is not an ONNX model .*complete \.onnx export/ });
  add('random', Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256)), { kind: 'error', message: /random\.onnx is not an ONNX model/ });
  add('png-renamed', png, { kind: 'error', message: /png-renamed\.onnx is not an ONNX model/ });

  const cycle = buildModel(17, [1, 4], (b, x) => {
    b.add('Add', [x, 't2'], {}, ['t1']);
    return [b.add('Relu', ['t1'], {}, ['t2'])[0]];
  });
  add('cycle', cycle.toBytes(), { kind: 'error', message: /cycle\.onnx: the graph has a cycle through node .*export the model again/ });

  const missing = buildModel(17, [1, 4], (b, x) => [b.add('Add', [x, 'ghost'], {}, ['y'])[0]]);
  add('missing-tensor', missing.toBytes(), { kind: 'error', message: /missing-tensor\.onnx: node .* reads tensor 'ghost', which nothing produces.*export it again/ });

  const unknown = buildModel(17, [1, 4], (b, x) => [b.add('Foo', [x], {}, ['y'], 'com.example')[0]]);
  unknown.setOpset(1, 'com.example');
  add('unknown-domain', unknown.toBytes(), { kind: 'inspect-only', message: /onnxruntime cannot load unknown-domain\.onnx: .*com\.example/ });

  add('no-gradient-op', smallModel('Sin').toBytes(), { kind: 'inspect-only', message: /no gradient rule for op Sin .*occlusion, feature-ablation/ });

  const bigInput = buildModel(17, [1, 3, 100000, 100000], (b, x) => [b.add('Relu', [x], {}, ['y'])[0]]);
  add('huge-input', bigInput.toBytes(), { kind: 'error', message: new RegExp(`huge-input\\.onnx: input 'x' declares shape \\[1, 3, 100000, 100000\\] .*above the limit of ${MAX_TENSOR_ELEMENTS} elements: export the model with a smaller`) });

  const bigInit = buildModel(17, [1, 4], (b, x) => [b.add('Add', [x, 'big'], {}, ['y'])[0]]);
  bigInit.graph.initializer.push({ name: 'big', dims: [1_000_000, 1_000_000], dataType: 1, rawData: new Uint8Array(16) });
  add('huge-initializer', bigInit.toBytes(), { kind: 'error', message: /huge-initializer\.onnx: initializer 'big' declares shape \[1000000, 1000000\] .*above the limit/ });

  const lyingInit = buildModel(17, [1, 4], (b, x) => [b.add('Add', [x, 'w4'], {}, ['y'])[0]]);
  lyingInit.graph.initializer.push({ name: 'w4', dims: [4096, 4096], dataType: 1, rawData: new Uint8Array(16) });
  add('lying-initializer', lyingInit.toBytes(), { kind: 'error', message: /lying-initializer\.onnx: initializer 'w4' declares 16777216 float32 values but holds 16 bytes: the file is damaged/ });

  add('nan-output', smallModel('Sqrt').toBytes(), { kind: 'inspect-only', message: /nan-output\.onnx: the model's output 'y' is NaN for this input: .*check the input's preprocessing/ }, npyNeg);

  // External data pointing outside the model's folder, three ways.
  const outsideFile = write(dir, 'secret.bin', Buffer.from(Float32Array.from(W).buffer));
  const outside = [outsideFile];
  const ext1 = externalModel(dir, 'ext-dotdot/a/b', '../../../secret.bin');
  const ext2 = externalModel(dir, 'ext-absolute', outsideFile);
  const ext3 = externalModel(dir, 'ext-symlink', 'weights.bin');
  fs.symlinkSync(outsideFile, path.join(path.dirname(ext3), 'weights.bin'));
  models.push(
    { id: 'ext-dotdot', file: ext1, input: npy, expect: { kind: 'error', message: /external data of 'w' points to '\.\.\/\.\.\/\.\.\/secret\.bin', outside the model's folder: keep data files beside the model/ } },
    { id: 'ext-absolute', file: ext2, input: npy, expect: { kind: 'error', message: /external data of 'w' points to '\/.*secret\.bin', outside the model's folder/ } },
    { id: 'ext-symlink', file: ext3, input: npy, expect: { kind: 'error', message: /external data of 'w' resolves \(through a link\) outside the model's folder/ } },
  );

  // Images for the sample model (RGB, 64×64, NCHW, scale 1/255).
  const inputs: InputCase[] = [];
  const img = (id: string, name: string, data: Uint8Array | string, expect: Expect, rgb?: [number, number, number], tol = 0): void => {
    inputs.push({ id, file: write(dir, path.join('images', name), data), model: SAMPLE_MODEL, expect, rgb, tol });
  };
  const pngBytes = await solid(16, 16, [200, 30, 90]).png().toBuffer();
  img('corrupt-image', 'corrupt.png', Buffer.concat([pngBytes.subarray(0, 40), Buffer.from(Array.from({ length: 200 }, () => Math.floor(r() * 256)))]), { kind: 'error', message: /corrupt\.png cannot be decoded .*re-save it as PNG/ });
  img('huge-image', 'huge.png', pngHeaderOnly(20000, 20000), { kind: 'error', message: /huge\.png is 20000x20000 \(400\.0 megapixels\), above the .* limit: downscale it first/ });
  img('svg', 'drawing.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>', { kind: 'error', message: /drawing\.svg is an SVG drawing, which is not decoded.*export it as PNG first/ });
  img('svg-as-png', 'sneaky.png', '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', { kind: 'error', message: /sneaky\.png is an SVG drawing/ });
  img('one-pixel', 'one.png', await solid(1, 1, [200, 30, 90]).png().toBuffer(), { kind: 'ok' }, [200, 30, 90]);
  img('16-bit', 'deep.png', await solid(16, 16, [200, 30, 90]).toColourspace('rgb16').png().toBuffer(), { kind: 'ok' }, [200, 30, 90]);
  // CMYK has no exact round trip through sharp's default profiles: within 6 levels of the sRGB colour
  img('cmyk', 'cmyk.jpg', await solid(16, 16, [120, 140, 160]).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer(), { kind: 'ok' }, [120, 140, 160], 6);
  img('grayscale', 'grey.png', await solid(16, 16, [120, 120, 120]).toColourspace('b-w').png().toBuffer(), { kind: 'ok' }, [120, 120, 120]);
  const frame = (rgb: [number, number, number]) => solid(16, 16, rgb).png().toBuffer();
  const animated = await sharp([await frame([255, 0, 0]), await frame([0, 0, 255])], { join: { animated: true } }).gif({ delay: [100, 100] }).toBuffer();
  img('animated', 'anim.gif', animated, { kind: 'ok' }, [255, 0, 0], 2);

  // .npy files whose header lies about the data.
  const data = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);
  inputs.push({ id: 'npy-short', file: write(dir, 'short.npy', npyWith('(1, 4)', data.subarray(0, 8))), model: good, expect: { kind: 'error', message: /short\.npy: the header says shape \(1, 4\) of float32 = 16 bytes of data, but there are 8 \(the file is truncated\): save it again with numpy\.save/ } });
  inputs.push({ id: 'npy-huge-claim', file: write(dir, 'huge.npy', npyWith('(100000, 100000, 1000)', data)), model: good, expect: { kind: 'error', message: /huge\.npy: the header says shape \(100000, 100000, 1000\) of float32 = 40000000000000 bytes of data, but there are 16 \(the file is truncated\)/ } });
  inputs.push({ id: 'npy-wrong-shape', file: write(dir, 'wide.npy', npyWith('(1, 5)', Buffer.concat([data, data.subarray(0, 4)]))), model: good, expect: { kind: 'error', message: /wide\.npy has shape \(1, 5\), but good\.onnx input 'x' expects \(1, 4\)/ } });
  return { dir, models, inputs, outside, externalDirs: [ext1, ext2, ext3].map((f) => path.dirname(f)) };
}
