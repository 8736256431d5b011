import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { imageToTensor } from '../../src/engine/inputs/image';
import { PreprocessConfig } from '../../src/engine/inputs/preprocess';
import { tmpDir } from './models';

const dir = tmpDir();
const W = 4, H = 3;
// pixel (x, y) of the 4x3 test image
const PX: Array<[number, number, number]> = [
  [200, 100, 50], [0, 0, 0], [255, 255, 255], [10, 20, 30],
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32],
  [1, 2, 3], [90, 180, 45], [33, 66, 99], [250, 5, 125],
];
const at = (x: number, y: number): [number, number, number] => PX[y * W + x];

async function write(name: string, img: Sharp): Promise<string> {
  const f = path.join(dir, name);
  await img.toFile(f);
  return f;
}
const raw = (px: number[][], w: number, h: number, channels: 1 | 3 | 4 = 3): Sharp =>
  sharp(Buffer.from(px.flat()), { raw: { width: w, height: h, channels } });

function cfg(over: Partial<PreprocessConfig> = {}): PreprocessConfig {
  return { layout: 'NCHW', size: [H, W], resize: 'stretch', channels: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], input: 'x', ...over };
}
const f32 = Math.fround;

describe('image to tensor', async () => {
  const png = await write('px.png', raw(PX, W, H));

  it('NCHW RGB in [0, 1]: exact values at given positions', async () => {
    const { tensor, display } = await imageToTensor(png, cfg());
    assert.deepEqual(tensor.dims, [1, 3, H, W]);
    const hw = H * W;
    for (const [x, y] of [[0, 0], [3, 0], [1, 1], [2, 1], [3, 2], [0, 2]]) {
      for (let c = 0; c < 3; c++) assert.equal(tensor.data[c * hw + y * W + x], f32(at(x, y)[c] / 255), `(${x},${y}) c${c}`);
    }
    assert.equal(tensor.data[0], f32(200 / 255));
    assert.equal(tensor.data[hw + 1 * W + 1], 1); // green of pure green pixel (1,1)
    // display: RGBA exactly the pixels the model saw
    assert.deepEqual([display.width, display.height], [W, H]);
    assert.deepEqual(Array.from(display.rgba.subarray(0, 8)), [200, 100, 50, 255, 0, 0, 0, 255]);
    assert.deepEqual(Array.from(display.rgba.subarray((2 * W + 3) * 4, (2 * W + 3) * 4 + 4)), [250, 5, 125, 255]);
  });

  it('NHWC, BGR, mean/std', async () => {
    const nhwc = (await imageToTensor(png, cfg({ layout: 'NHWC' }))).tensor;
    assert.deepEqual(nhwc.dims, [1, H, W, 3]);
    assert.deepEqual(Array.from(nhwc.data.subarray((1 * W + 3) * 3, (1 * W + 3) * 3 + 3)), [128, 64, 32].map((v) => f32(v / 255)));
    const bgr = (await imageToTensor(png, cfg({ channels: 'BGR' }))).tensor;
    // pixel (0,0) = (200,100,50): BGR tensor channel 0 is blue
    assert.deepEqual([bgr.data[0], bgr.data[12], bgr.data[24]], [f32(50 / 255), f32(100 / 255), f32(200 / 255)]);
    const norm = (await imageToTensor(png, cfg({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }))).tensor;
    // (200/255 - 0.485) / 0.229 = 1.307047, (100/255 - 0.456) / 0.224 = -0.285014, (50/255 - 0.406) / 0.225 = -0.932985
    assert.equal(norm.data[0], f32((200 / 255 - 0.485) / 0.229));
    assert.ok(Math.abs(norm.data[0] - 1.307047) < 1e-6);
    assert.ok(Math.abs(norm.data[12] - -0.285014) < 1e-6);
    assert.ok(Math.abs(norm.data[24] - -0.932985) < 1e-6);
    const scaled = (await imageToTensor(png, cfg({ scale: 1, mean: [127.5], std: [127.5] }))).tensor;
    assert.equal(scaled.data[2], 1); // white pixel (2,0) red: (255 - 127.5)/127.5
    assert.equal(scaled.data[1], -1); // black pixel (1,0)
  });

  it('grayscale: PIL luma, one channel; display shows the grey', async () => {
    const { tensor, display } = await imageToTensor(png, cfg({ channels: 'grayscale', mean: [0], std: [1], scale: 1 }));
    assert.deepEqual(tensor.dims, [1, 1, H, W]);
    // 0.299 R + 0.587 G + 0.114 B, rounded: (200,100,50) → 124.2 → 124; (255,0,0) → 76.2 → 76;
    // (0,255,0) → 149.7 → 150; (0,0,255) → 29.1 → 29; (128,64,32) → 79.49 → 79
    assert.deepEqual([tensor.data[0], tensor.data[4], tensor.data[5], tensor.data[6], tensor.data[7]], [124, 76, 150, 29, 79]);
    assert.equal(tensor.data[2], 255);
    assert.deepEqual(Array.from(display.rgba.subarray(0, 4)), [124, 124, 124, 255]);
  });

  it('a grey image fed to an RGB model repeats the grey in all channels', async () => {
    const grey = await write('grey.png', raw([[0], [50], [100], [250]], 2, 2, 1));
    const { tensor } = await imageToTensor(grey, cfg({ size: [2, 2], scale: 1 }));
    assert.deepEqual(Array.from(tensor.data), [0, 50, 100, 250, 0, 50, 100, 250, 0, 50, 100, 250]);
  });

  it('alpha is flattened on white', async () => {
    const rgba = await write('alpha.png', raw([[255, 0, 0, 255], [0, 0, 255, 0], [255, 0, 0, 128], [0, 0, 0, 255]], 2, 2, 4));
    const { display } = await imageToTensor(rgba, cfg({ size: [2, 2] }));
    const px = (i: number): number[] => Array.from(display.rgba.subarray(i * 4, i * 4 + 4));
    assert.deepEqual(px(0), [255, 0, 0, 255]);
    assert.deepEqual(px(1), [255, 255, 255, 255]); // fully transparent → white
    const half = px(2); // 50% red over white ≈ (255, 127, 127)
    assert.equal(half[0], 255);
    assert.ok(Math.abs(half[1] - 127) <= 1 && Math.abs(half[2] - 127) <= 1, `${half}`);
  });

  it('16-bit PNG decodes to the same 8-bit values', async () => {
    const f = await write('deep.png', raw(PX, W, H).toColourspace('rgb16').png());
    assert.equal((await sharp(f).metadata()).depth, 'ushort');
    const { display } = await imageToTensor(f, cfg());
    for (let p = 0; p < W * H; p++) {
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(display.rgba[p * 4 + c] - PX[p][c]) <= 1, `pixel ${p} c${c}`);
    }
  });

  it('decodes JPEG, WebP, TIFF, GIF, AVIF and CMYK JPEG', async () => {
    // uniform 16x16 colour: lossy codecs keep a flat colour within a few levels
    const colour = [180, 100, 80]; // inside the CMYK gamut
    const flat = (): Sharp => sharp({ create: { width: 16, height: 16, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } });
    const files: Array<[string, number]> = [
      [await write('c.jpg', flat().jpeg({ quality: 95 })), 6],
      [await write('c.webp', flat().webp({ lossless: true })), 0],
      [await write('c.tiff', flat().tiff({ compression: 'lzw' })), 0],
      [await write('c.gif', flat().gif()), 0],
      [await write('c.avif', flat().avif({ quality: 90 })), 8],
      [await write('cmyk.jpg', flat().toColourspace('cmyk').jpeg({ quality: 95 })), 25],
    ];
    assert.equal((await sharp(files[5][0]).metadata()).space, 'cmyk');
    for (const [f, tol] of files) {
      const { display } = await imageToTensor(f, cfg({ size: [16, 16] }));
      for (const p of [0, 100, 255]) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(display.rgba[p * 4 + c] - colour[c]);
          assert.ok(d <= tol, `${path.basename(f)} pixel ${p} c${c}: ${display.rgba[p * 4 + c]} vs ${colour[c]}`);
        }
      }
    }
  });

  it('takes the first frame of an animated GIF', async () => {
    // two 4x4 frames stacked: red, then blue
    const px: number[][] = [];
    for (let i = 0; i < 32; i++) px.push(i < 16 ? [255, 0, 0] : [0, 0, 255]);
    const f = await write('anim.gif', sharp(Buffer.from(px.flat()), { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } }).gif({ loop: 0, delay: [100, 100] }));
    assert.equal((await sharp(f).metadata()).pages, 2);
    const { display } = await imageToTensor(f, cfg({ size: [4, 4] }));
    for (let p = 0; p < 16; p++) assert.deepEqual(Array.from(display.rgba.subarray(p * 4, p * 4 + 4)), [255, 0, 0, 255]);
  });

  it('applies EXIF orientation', async () => {
    // 8x4: left half red, right half blue; orientation 6 = rotate 90° clockwise to display
    const px: number[][] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) px.push(x < 4 ? [255, 0, 0] : [0, 0, 255]);
    const f = await write('rot.jpg', raw(px, 8, 4).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }));
    assert.equal((await sharp(f).metadata()).orientation, 6);
    const { display } = await imageToTensor(f, cfg({ size: [8, 4] }));
    assert.deepEqual([display.width, display.height], [4, 8]);
    const top = display.rgba.subarray(0, 4), bottom = display.rgba.subarray((7 * 4) * 4, (7 * 4) * 4 + 4);
    assert.ok(top[0] > 200 && top[2] < 60, `top ${top}`);
    assert.ok(bottom[2] > 200 && bottom[0] < 60, `bottom ${bottom}`);
  });

  it('resizes: stretch, cover (centre crop), contain (letterbox in black)', async () => {
    // 8 wide x 4 tall: columns 0-3 red, 4-7 blue → 4x4
    const px: number[][] = [];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) px.push(x < 4 ? [255, 0, 0] : [0, 0, 255]);
    const f = await write('wide.png', raw(px, 8, 4));
    const get = (d: { rgba: Uint8Array }, x: number, y: number): number[] => Array.from(d.rgba.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 3));
    const stretch = (await imageToTensor(f, cfg({ size: [4, 4] }))).display;
    assert.deepEqual(get(stretch, 0, 0), [255, 0, 0]);
    assert.deepEqual(get(stretch, 3, 3), [0, 0, 255]);
    // cover keeps source columns 2..5: still red on the left, blue on the right, no black
    const cover = (await imageToTensor(f, cfg({ size: [4, 4], resize: 'cover' }))).display;
    assert.deepEqual([get(cover, 0, 0), get(cover, 3, 0)], [[255, 0, 0], [0, 0, 255]]);
    // contain scales to 4x2 and pads one black row above and below
    const contain = (await imageToTensor(f, cfg({ size: [4, 4], resize: 'contain' }))).display;
    for (let x = 0; x < 4; x++) {
      assert.deepEqual(get(contain, x, 0), [0, 0, 0]);
      assert.deepEqual(get(contain, x, 3), [0, 0, 0]);
    }
    assert.ok(get(contain, 0, 1)[0] > 200 && get(contain, 3, 2)[2] > 200);
  });

  it('refuses an image above the pixel limit before decoding it', async () => {
    // a PNG whose header claims 10000x5000 (50 megapixels) but holds almost no data
    const chunk = (type: string, data: Buffer): Buffer => {
      const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(zlib.crc32(td));
      return Buffer.concat([len, td, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(10000, 0);
    ihdr.writeUInt32BE(5000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const bomb = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(100))), chunk('IEND', Buffer.alloc(0)),
    ]);
    const f = path.join(dir, 'huge.png');
    fs.writeFileSync(f, bomb);
    const t0 = Date.now();
    await assert.rejects(imageToTensor(f, cfg()), /^AttrLensError: huge\.png is 10000x5000 \(50\.0 megapixels\), above the 40-megapixel limit: downscale it first$/);
    assert.ok(Date.now() - t0 < 2000);
    await assert.rejects(imageToTensor(png, cfg(), 10), /px\.png is 4x3 \(0\.0 megapixels\), above the 10-pixel limit/);
  });

  it('refuses SVG, by name and by content', async () => {
    const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3" fill="red"/></svg>';
    const a = path.join(dir, 'draw.svg'), b = path.join(dir, 'sneaky.png');
    fs.writeFileSync(a, svg);
    fs.writeFileSync(b, svg);
    await assert.rejects(imageToTensor(a, cfg()), /draw\.svg is an SVG drawing, which is not decoded .*: export it as PNG first/);
    await assert.rejects(imageToTensor(b, cfg()), /sneaky\.png is an SVG drawing/);
  });

  it('corrupt, truncated, BMP and missing files: one-line errors naming the file', async () => {
    const junk = path.join(dir, 'junk.png');
    fs.writeFileSync(junk, Buffer.from('this is not an image at all, just text'));
    await assert.rejects(imageToTensor(junk, cfg()), /^AttrLensError: junk\.png is not an image format that can be decoded .*convert it to PNG$/);
    const big = await write('big.png', sharp({ create: { width: 64, height: 64, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png());
    const cut = path.join(dir, 'cut.png');
    fs.writeFileSync(cut, fs.readFileSync(big).subarray(0, 2000));
    await assert.rejects(imageToTensor(cut, cfg({ size: [64, 64] })), (e: Error) => {
      assert.match(e.message, /^cut\.png cannot be decoded \(.+\): the file may be damaged; re-save it as PNG$/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    const bmp = Buffer.alloc(70);
    bmp.write('BM', 0, 'latin1');
    fs.writeFileSync(path.join(dir, 'pic.bmp'), bmp);
    await assert.rejects(imageToTensor(path.join(dir, 'pic.bmp'), cfg()), /pic\.bmp is a BMP image, which the bundled decoder \(sharp\) cannot read: convert it to PNG first/);
    await assert.rejects(imageToTensor(path.join(dir, 'nope.png'), cfg()), /cannot read .*nope\.png: no such file; check the path/);
  });
});
