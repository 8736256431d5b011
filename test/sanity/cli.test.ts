// `attrlens sanity` as a user runs it (dist/cli.js): the table, --json, --out-dir's strip and
// numbers, exit 0 for a method that passes and 1 for one that fails, one-line errors.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { writeNpy } from '../../src/engine/inputs/npy';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { ProcessRun, runNode, tmpDir } from '../onnx/helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODEL = path.join(ROOT, 'samples', 'shapes', 'model.onnx');
const RED = path.join(ROOT, 'samples', 'shapes', 'images', 'red-circle.png');
const dir = tmpDir('sanity-cli');

function cli(args: string[]): Promise<ProcessRun> {
  return runNode([CLI, 'sanity', ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 60_000 });
}

function oneLineError(r: ProcessRun, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^attrlens: error: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
}

before(() => {
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed: ${b.stderr}`);
});

describe('attrlens sanity', () => {
  it('saliency on the shapes sample passes: table, exit 0, the strip and the numbers in --out-dir', async () => {
    const out = path.join(dir, 'saliency');
    const r = await cli(['--model', MODEL, '--input', RED, '--method', 'saliency', '--out-dir', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sanity check: saliency for target 0 \(red\), seed 0/);
    assert.match(r.stdout, /similar = Spearman \|·\| ≥ 0\.5 or SSIM ≥ 0\.5/);
    assert.match(r.stdout, /\+ classifier\.fc \(Gemm\)/);
    assert.match(r.stdout, /fully randomised \(3 layers\)/);
    assert.match(r.stdout, /verdict: PASS — saliency passes/);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'sanity.json'), 'utf8'));
    assert.equal(json.verdict, 'pass');
    assert.equal(json.steps.length, 5);
    assert.ok(json.steps.every((s: Record<string, unknown>) => !('attribution' in s)));
    // the strip: five 128-pixel tiles with 6-pixel gaps
    const meta = await sharp(path.join(out, 'strip.png')).metadata();
    assert.equal(meta.width, 5 * 128 + 4 * 6);
    assert.equal(meta.height, 128);
    // tiles differ: the original's map is on the circle, the fully randomised one is everywhere
    const { data, info } = await sharp(path.join(out, 'strip.png')).raw().toBuffer({ resolveWithObject: true });
    const tile = (k: number) => {
      const px: number[] = [];
      for (let y = 0; y < 128; y += 4) for (let x = 0; x < 128; x += 4) px.push(data[(y * info.width + k * 134 + x) * info.channels]);
      return px;
    };
    assert.notDeepEqual(tile(0), tile(4));
  });

  it('--json prints one object with the steps and --layers limits the cascade', async () => {
    const r = await cli(['--model', MODEL, '--input', RED, '--method', 'integrated-gradients', '--params', '{"nSteps": 16}', '--layers', '2', '--seed', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.method, 'integrated-gradients');
    assert.equal(s.seed, 3);
    assert.deepEqual(s.steps.map((x: { kind: string }) => x.kind), ['original', 'cascade', 'cascade', 'random']);
    assert.deepEqual(s.thresholds, { spearmanAbs: 0.5, ssim: 0.5 });
    assert.equal(s.layers.length, 3);
  });

  it('a map that cannot depend on the weights fails: exit 1 and the verdict says so', async () => {
    // x → x·x → Conv 1×1 → GlobalAveragePool → Gemm: |saliency| ∝ |x| whatever the weights
    const m = OnnxModel.empty(17);
    const b = new GraphBuilder(m, 'blind');
    b.addInput('x', 1, ['N', 1, 6, 6]);
    const sq = b.op('Mul', ['x', 'x']);
    const conv = b.exported('/scale', 'Conv', [sq, b.param('scale.weight', [1, 1, 1, 1], [0.7]), b.param('scale.bias', [1], [0.1])]);
    const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [conv])], { axis: attr.int(1) });
    b.exported('/head', 'Gemm', [pooled, b.param('head.weight', [2, 1], [1.5, -2]), b.param('head.bias', [2], [0, 0.2])], { transB: attr.int(1) }, 'out');
    b.addOutput('out', 1);
    const file = path.join(dir, 'blind.onnx');
    fs.writeFileSync(file, m.toBytes());
    const npy = path.join(dir, 'x.npy');
    writeNpy(npy, { dtype: 'float32', dims: [1, 1, 6, 6], data: Float32Array.from({ length: 36 }, (_, i) => Math.cos(i * 0.9) * (1 + (i % 4))) });
    const r = await cli(['--model', file, '--input', npy, '--method', 'saliency', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.verdict, 'fail');
    assert.deepEqual(s.insensitiveTop, ['head', 'scale']);
    // nothing was written beside the model
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('blind')), ['blind.onnx']);
  });

  it('bad options give one line', async () => {
    oneLineError(await cli(['--model', MODEL, '--input', RED]), /missing --method/);
    oneLineError(await cli(['--model', MODEL, '--input', RED, '--method', 'saliency', '--layers', 'two']), /--layers must be a whole number in 1\.\.100000, not 'two'/);
    oneLineError(await cli(['--model', MODEL, '--input', RED, '--method', 'saliency', '--seed', '-1']), /--seed must be a whole number/);
    oneLineError(await cli(['--model', MODEL, '--input', RED, '--method', 'saliency', '--png', 'x.png']), /unknown option --png for 'sanity'/);
  });
});
