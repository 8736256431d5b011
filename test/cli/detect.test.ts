// `attrlens attribute --target box:K` on the designed detector (samples/detect), run from the
// sources as a user runs the CLI: --json lists the detections and explains box K; a box that
// is not there is one line with the list.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readNpy } from '../../src/engine/inputs/npy';
import { runNode, tmpDir } from '../onnx/helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL = path.join(ROOT, 'samples', 'detect', 'model.onnx');
const IMAGE = path.join(ROOT, 'samples', 'detect', 'images', 'red-circle_blue-square.png');
const truth = JSON.parse(fs.readFileSync(IMAGE.replace(/\.png$/, '.json'), 'utf8')) as { objects: Array<{ label: string; box: number[] }> };
const dir = tmpDir('cli-detect');
const cli = (args: string[]) => runNode(['--import', require.resolve('tsx'), path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 60_000 });

describe('attrlens attribute --target box:K', () => {
  it('--json lists the detections and explains box 0; the map sits in box 0', async () => {
    const out = path.join(dir, 'box0.npy');
    const r = await cli(['attribute', '--model', MODEL, '--input', IMAGE, '--method', 'saliency', '--target', 'box:0', '--json', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { outputKind: string; targetSpec: { text: string; kind: string }; targetLabel: string; detections: Array<{ target: string; box: number[]; class: number; label: string; score: number }> };
    assert.equal(j.outputKind, 'detection');
    assert.deepEqual(j.targetSpec.text, 'box:0');
    const dets = j.detections;
    assert.deepEqual(dets.map((d) => d.target), ['box:0', 'box:1']);
    // the detections are the ground truth's objects, by descending score
    assert.deepEqual(new Set(dets.map((d) => d.label)), new Set(truth.objects.map((o) => o.label)));
    for (const d of dets) {
      assert.deepEqual(d.box, truth.objects.find((o) => o.label === d.label)!.box);
      assert.ok(d.score > 0.5 && d.score <= 1);
    }
    assert.ok(dets[0].score >= dets[1].score);
    assert.equal(j.targetLabel, dets[0].label);
    const map = readNpy(out);
    const [x0, y0, x1, y1] = dets[0].box;
    let inside = 0, total = 0;
    const d = map.data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      const p = i % (96 * 96), x = p % 96, y = Math.floor(p / 96);
      total += Math.abs(d[i]);
      if (x >= x0 && x < x1 && y >= y0 && y < y1) inside += Math.abs(d[i]);
    }
    assert.ok(inside / total > 0.5, `${((100 * inside) / total).toFixed(1)}% of the saliency in box 0`);
  });

  it('the text summary lists the detections, not the head\'s largest flat values; box 0 by default', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', IMAGE, '--method', 'saliency']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /top predictions/);
    assert.match(r.stdout, /^saliency for target box:0 \(\w+\)/m);
    assert.match(r.stdout, /^detections: box:0 \w+ 0\.\d\d, box:1 \w+ 0\.\d\d$/m);
  });

  it('box:9 with two detections is one line listing them', async () => {
    const r = await cli(['attribute', '--model', MODEL, '--input', IMAGE, '--method', 'saliency', '--target', 'box:9']);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^attrlens: error: box:9 does not exist: there are 2 detections \(box:0\.\.box:1\).*detections: box:0 \w+ 0\.\d{3} \[\d+,\d+,\d+,\d+\], box:1 \w+ 0\.\d{3} \[/);
  });
});
