// The built `attrlens` CLI (dist/cli.js) as a user runs it: every bad input of the foundation
// issue gives one clear line on stderr and a non-zero exit, fast; the happy paths print and
// write what they promise.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { readNpy, writeNpy } from '../../src/engine/inputs/npy';
import { buildModel, CONF, confAbsent, f32, ProcessRun, runNode, tmpDir } from '../onnx/helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SAMPLE = path.join(ROOT, 'samples', 'shapes');
const MODEL = path.join(SAMPLE, 'model.onnx');
const RED = path.join(SAMPLE, 'images', 'red-circle.png');
const BLUE = path.join(SAMPLE, 'images', 'blue-triangle.png');
const OCCLUSION = JSON.stringify({ slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] });
const dir = tmpDir('cli');

type Run = ProcessRun;

function cli(args: string[], timeoutMs = 20_000): Promise<Run> {
  return runNode([CLI, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs });
}

/** One line on stderr, `attrlens: error: ...` matching `pattern`, no stack, non-zero, < 10 s. */
function assertUserError(r: Run, pattern: RegExp): void {
  assert.ok(r.seconds < 10, `took ${r.seconds.toFixed(1)} s`);
  assert.notEqual(r.code, 0, 'exit code');
  assert.notEqual(r.code, null, 'killed (hang)');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `stderr has ${lines.length} lines:\n${r.stderr}`);
  assert.match(lines[0], /^attrlens: error: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '', 'nothing on stdout');
}

function file(name: string, data: Uint8Array | string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}

before(() => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed: ${b.stderr}`);
  assert.ok(fs.existsSync(CLI));
});


describe('attrlens bad input', { concurrency: 2 }, () => {
  const attribute = (model: string, input: string, ...rest: string[]) => cli(['attribute', '--model', model, '--input', input, '--method', 'occlusion', '--params', OCCLUSION, ...rest]);

  it('a missing model file', async () => {
    assertUserError(await cli(['inspect', '--model', path.join(dir, 'missing.onnx')]), /missing\.onnx.*no such file.*check the path/);
    assertUserError(await attribute(path.join(dir, 'gone.onnx'), RED), /gone\.onnx.*no such file/);
  });

  it('random bytes named .onnx', async () => {
    let seed = 7;
    const bytes = Buffer.alloc(3000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    assertUserError(await cli(['inspect', '--model', file('random.onnx', bytes)]), /random\.onnx is not an ONNX model.*export/);
  });

  it('a PNG renamed .onnx', async () => {
    assertUserError(await attribute(file('picture.onnx', fs.readFileSync(RED)), RED), /picture\.onnx is not an ONNX model.*export/);
  });

  it('a truncated model (first half of tiny_cnn.onnx)', { skip: confAbsent }, async () => {
    const tiny = fs.readFileSync(path.join(CONF, 'models', 'tiny_cnn.onnx'));
    assertUserError(await cli(['inspect', '--model', file('half.onnx', tiny.subarray(0, tiny.length >> 1))]), /half\.onnx is not an ONNX model.*complete \.onnx export/);
  });

  it('a truncated model (first half of the sample model)', async () => {
    const m = fs.readFileSync(MODEL);
    assertUserError(await attribute(file('half-sample.onnx', m.subarray(0, m.length >> 1)), RED), /half-sample\.onnx is not an ONNX model/);
  });

  it('an empty file', async () => {
    assertUserError(await cli(['inspect', '--model', file('empty.onnx', '')]), /empty\.onnx is empty.*export/);
  });

  it('an image sharp cannot decode', async () => {
    assertUserError(await attribute(MODEL, file('notes.png', 'this is text, not pixels\n')), /notes\.png.*cannot be decoded|notes\.png.*not an image/);
    const png = fs.readFileSync(RED);
    assertUserError(await attribute(MODEL, file('cut.png', png.subarray(0, 60))), /cut\.png/);
  });

  it('a missing image file', async () => {
    assertUserError(await attribute(MODEL, path.join(dir, 'nothere.png')), /nothere\.png.*no such file/);
  });

  it('a target outside the output range', async () => {
    assertUserError(await attribute(MODEL, RED, '--target', '4'), /target 4 is outside the output's range 0\.\.3/);
    assertUserError(await attribute(MODEL, RED, '--target', '-1'), /target -1 .*0\.\.3/);
  });

  it('an unknown label', async () => {
    assertUserError(await attribute(MODEL, RED, '--target', 'grean'), /'grean' is not a label of model\.onnx.*green/);
  });

  it('a layer name that does not exist suggests close names', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', RED, '--method', 'gradcam', '--layer', '/features/relu2/Relu_outptu_0']);
    assertUserError(r, /'\/features\/relu2\/Relu_outptu_0'.*\/features\/relu2\/Relu_output_0/);
  });

  it('a model with several inputs and an unnamed --input', async () => {
    const m = buildModel(17, [1, 3, 8, 8], (b, x) => {
      b.addInput('mask', 1, [1, 3, 8, 8]);
      return [b.op('ReduceSum', [b.op('Mul', [x, 'mask'])], { keepdims: { type: 2, i: 0 } })];
    });
    const two = file('two.onnx', m.toBytes());
    assertUserError(await attribute(two, RED), /two\.onnx has 2 inputs \(x, mask\).*NAME=FILE/);
    assertUserError(await attribute(two, `x=${RED}`, '--input', `nosuch=${RED}`), /no input 'nosuch'.*x, mask/);
  });

  it('a .npy whose shape or dtype does not fit', async () => {
    const shape = path.join(dir, 'small.npy');
    writeNpy(shape, f32([1, 3, 32, 32], () => 0.5));
    assertUserError(await attribute(MODEL, shape), /small\.npy has shape \(1, 3, 32, 32\).*\(1, 3, 64, 64\)/);
    const dtype = path.join(dir, 'ints.npy');
    writeNpy(dtype, { dtype: 'int64', dims: [1, 3, 64, 64], data: new BigInt64Array(3 * 64 * 64) });
    assertUserError(await attribute(MODEL, dtype), /ints\.npy has dtype int64.*float32/);
  });

  it('an unknown method suggests close names', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', RED, '--method', 'occlusoin']);
    assertUserError(r, /unknown method 'occlusoin'; did you mean occlusion/);
  });

  it('bad --params JSON', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', RED, '--method', 'occlusion', '--params', '{slidingWindowShapes: [3]']);
    assertUserError(r, /--params must be a JSON object/);
    const arr = await cli(['attribute', '--model', MODEL, '--input', RED, '--method', 'occlusion', '--params', '[1,2]']);
    assertUserError(arr, /--params must be a JSON object/);
  });

  it('an unknown option, a missing flag value and an unknown command', async () => {
    assertUserError(await attribute(MODEL, RED, '--colour', 'red'), /unknown option --colour for 'attribute'.*--target/);
    assertUserError(await cli(['inspect', '--model']), /option --model needs a value/);
    assertUserError(await cli(['inspect']), /missing --model/);
    assertUserError(await cli(['explain', '--model', MODEL]), /unknown command 'explain'/);
    assertUserError(await cli(['conformance', path.join(dir, 'nowhere')]), /cases\.json not found/);
  });
});

describe('attrlens happy paths', { concurrency: 2 }, () => {
  it('inspect --json on tiny_cnn lists the input [1, 3, 32, 32]', { skip: confAbsent }, async () => {
    const r = await cli(['inspect', '--model', path.join(CONF, 'models', 'tiny_cnn.onnx'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { inputs: Array<{ name: string; dims: number[]; dtype: string }>; outputs: Array<{ name: string }>; opset: number; layers: Array<{ name: string }> };
    assert.deepEqual(info.inputs.map((i) => [i.name, i.dtype, i.dims]), [['input', 'float32', [1, 3, 32, 32]]]);
    assert.equal(info.outputs[0].name, 'logits');
    assert.ok(info.layers.some((l) => l.name === '/relu2/Relu_output_0'));
  });

  it('inspect (text) on the sample model shows I/O, labels and layers', async () => {
    const r = await cli(['inspect', '--model', MODEL]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /input {2}input: float32 \[1, 3, 64, 64\]/);
    assert.match(r.stdout, /output logits: float32 \[1, 4\]/);
    assert.match(r.stdout, /labels: 4 from labels\.txt \(red, green, blue, yellow\)/);
    assert.match(r.stdout, /batching: yes/);
  });

  it('attribute --method occlusion --json --out --png on the sample', async () => {
    const out = path.join(dir, 'occ.npy'), png = path.join(dir, 'occ.png');
    const r = await cli(['attribute', '--model', MODEL, '--input', RED, '--method', 'occlusion', '--params', OCCLUSION, '--json', '--out', out, '--png', png]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'exactly one JSON object on stdout');
    const s = JSON.parse(lines[0]) as { method: string; target: number; targetLabel: string; predictions: Array<{ index: number; label: string; probability: number }>; attributionShape: number[]; seconds: number };
    assert.equal(s.method, 'occlusion');
    assert.ok(s.predictions.length >= 1 && s.predictions.length <= 5);
    for (const p of s.predictions) {
      assert.ok(Number.isInteger(p.index) && p.index >= 0 && p.index < 4);
      assert.equal(typeof p.label, 'string');
      assert.ok(p.probability >= 0 && p.probability <= 1);
    }
    for (let i = 1; i < s.predictions.length; i++) assert.ok(s.predictions[i - 1].probability >= s.predictions[i].probability);
    // No --target: the top prediction, which for the red circle is 'red'.
    assert.equal(s.target, s.predictions[0].index);
    assert.equal(s.predictions[0].label, 'red');
    assert.deepEqual(s.attributionShape, [1, 3, 64, 64]);
    assert.ok(s.seconds > 0 && s.seconds < 30);
    const a = readNpy(out);
    assert.deepEqual(a.dims, [1, 3, 64, 64]);
    const v = a.data as Float32Array;
    assert.ok(v.every(Number.isFinite));
    assert.ok(v.some((x) => x !== 0), 'occlusion of the predicted class changes something');
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [64, 64]);
  });

  it('--target red resolves to index 0 (on a blue image)', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', BLUE, '--method', 'occlusion', '--params', OCCLUSION, '--target', 'red', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { target: number; targetLabel: string; predictions: Array<{ label: string }> };
    assert.equal(s.target, 0);
    assert.equal(s.targetLabel, 'red');
    assert.equal(s.predictions[0].label, 'blue');
  });

  it('attribute without --json prints predictions and the attribution shape', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', `input=${RED}`, '--method', 'occlusion', '--params', OCCLUSION, '--target', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /top predictions:\n\s+1\.\s+0\s+red/);
    assert.match(r.stdout, /occlusion for target 2 \(blue\): attribution \[1, 3, 64, 64\]/);
  });

  it('--input NAME=FILE for each input of a two-input model; occlusion values by hand', async () => {
    // y = (x * w) @ [[1,0],[0,1],[1,0],[0,1]]: y1 = x1·w1 + x3·w3.
    const m = buildModel(17, [1, 4], (b, x) => {
      b.addInput('w', 1, [1, 4]);
      return [b.op('MatMul', [b.op('Mul', [x, 'w']), b.f32([1, 0, 0, 1, 1, 0, 0, 1], [4, 2])])];
    });
    const model = file('twoin.onnx', m.toBytes());
    writeNpy(path.join(dir, 'x4.npy'), f32([1, 4], [1, 2, 3, 4]));
    writeNpy(path.join(dir, 'w4.npy'), f32([1, 4], [10, 20, 30, 40]));
    const out = path.join(dir, 'twoin-attr.npy');
    const r = await cli(['attribute', '--model', model, '--input', `x=${path.join(dir, 'x4.npy')}`, '--input', `w=${path.join(dir, 'w4.npy')}`, '--method', 'occlusion', '--params', '{"slidingWindowShapes":[1]}', '--target', '1', '--json', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { target: number; predictions: Array<{ index: number }>; attributionShape: number[] };
    assert.deepEqual(s.predictions.map((p) => p.index), [1, 0]); // logits 200, 100
    assert.deepEqual(s.attributionShape, [1, 4]);
    // Occluding x_i to 0 removes x_i·w_i from y1 for i = 1, 3 and nothing for i = 0, 2.
    assert.deepEqual(Array.from(readNpy(out).data as Float32Array), [0, 40, 0, 160]);
    // Leaving one input out names it.
    assertUserError(await cli(['attribute', '--model', model, '--input', `w=${path.join(dir, 'w4.npy')}`, '--method', 'occlusion', '--params', '{"slidingWindowShapes":[1]}']), /twoin\.onnx: no value for input x.*NAME=FILE/);
  });

  it('conformance --filter tiny_cnn ends with "N passed, M failed" and exit 0', { skip: confAbsent }, async () => {
    const r = await cli(['conformance', CONF, '--filter', 'tiny_cnn']);
    const lines = r.stdout.trim().split('\n');
    const m = /^(\d+) passed, (\d+) failed$/.exec(lines[lines.length - 1]);
    assert.ok(m, `last line: ${lines[lines.length - 1]}`);
    assert.equal(Number(m[1]) + Number(m[2]), lines.length - 1, 'one line per case');
    assert.ok(lines.slice(0, -1).every((l) => /^(PASS|FAIL) tiny_cnn\//.test(l)));
    assert.ok(lines.some((l) => /^PASS tiny_cnn\/occlusion /.test(l)));
    assert.ok(lines.some((l) => /^PASS tiny_cnn\/feature-ablation /.test(l)));
    assert.equal(r.code, Number(m[2]) === 0 ? 0 : 1, r.stderr);
    assert.equal(r.code, 0);
  });
});
