// A Hugging Face style folder: model.onnx + preprocessor_config.json + config.json (id2label),
// and no file of ours. The prediction must be the model's output on the tensor the ViT
// processor makes (computed here from the decoded pixels), with id2label's labels.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { attribute } from '../../src/engine/methods/registry';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { runBytes } from '../onnx/helpers';
import { saveModel, tmpDir, writePicture } from './models';

/** pixel_values [1, 3, 224, 224] → 16×16 patches (Conv, stride 16) → mean over patches → 3 logits. */
function patchClassifier(): OnnxModel {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 'vit');
  b.addInput('pixel_values', 1, ['batch', 3, 224, 224]);
  // 4 patch features: the mean of red, green, blue, and a horizontal edge detector on green
  const w = new Float32Array(4 * 3 * 256);
  for (let k = 0; k < 3; k++) for (let i = 0; i < 256; i++) w[(k * 3 + k) * 256 + i] = 1 / 256;
  for (let i = 0; i < 256; i++) w[(3 * 3 + 1) * 256 + i] = (i % 16 < 8 ? 1 : -1) / 128;
  const patches = b.op('Conv', ['pixel_values', b.f32(Array.from(w), [4, 3, 16, 16])], { strides: attr.ints([16, 16]) });
  const pooled = b.op('ReduceMean', [patches], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
  const logits = b.op('Gemm', [pooled, b.f32([2, -1, 0, -1, 2, 0, 0, -1, 3, 0.5, 0.5, 0.5], [4, 3]), b.f32([0.1, 0, -0.1])]);
  b.addOutput(logits);
  m.graph.output[0].name = logits;
  return m;
}

describe('a Hugging Face ViT-style folder', () => {
  it('predicts with preprocessor_config.json and labels from id2label, with no .attrlens.json', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'ViTImageProcessor', resample: 2, rescale_factor: 0.00392156862745098, size: { height: 224, width: 224 } }, null, 2));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['ViTForImageClassification'], model_type: 'vit', id2label: { 0: 'reddish', 1: 'greenish', 2: 'bluish' }, label2id: { reddish: 0, greenish: 1, bluish: 2 }, image_size: 224, patch_size: 16 }, null, 2));
    const model = patchClassifier();
    const lm = await saveModel(model, dir);
    const pic = await writePicture(path.join(tmpDir(), 'pic.png'), 300, 200);

    const { feeds, preprocess } = await loadInputs(lm, pic);
    assert.equal(preprocess?.source, 'preprocessor_config.json (ViTImageProcessor)');
    const res = await attribute(lm, feeds, { method: 'saliency' });

    // the processor's steps: bilinear resize to 224×224, x/255, (x − 0.5)/0.5, CHW
    const px = await sharp(pic).resize(224, 224, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const x = new Float32Array(3 * 224 * 224);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 224 * 224; p++) x[c * 224 * 224 + p] = (px[p * 3 + c] / 255 - 0.5) / 0.5;
    const want = (await runBytes(model.toBytes(), { pixel_values: { dtype: 'float32', dims: [1, 3, 224, 224], data: x } }))[lm.outputs[0].name].data as Float32Array;
    const order = [0, 1, 2].sort((a, b) => want[b] - want[a]);
    assert.deepEqual(res.predictions.map((p) => p.index), order);
    assert.deepEqual(res.predictions.map((p) => p.label), order.map((i) => ['reddish', 'greenish', 'bluish'][i]));
    for (const p of res.predictions) assert.ok(Math.abs(p.logit - want[p.index]) < 1e-5, `logit ${p.index}: ${p.logit} vs ${want[p.index]}`);

    // without the processor's file the guess (ImageNet statistics) gives other logits
    fs.rmSync(path.join(dir, 'preprocessor_config.json'));
    const guessed = await loadInputs(lm, pic);
    assert.equal(guessed.preprocess?.source, 'guessed');
    const out = (await lm.forward(guessed.feeds))[lm.outputs[0].name].data as Float32Array;
    assert.ok(Math.abs(out[0] - want[0]) > 0.05, `guessed logit ${out[0]} vs ${want[0]}`);
  });
});
