// Which activation a model output ends in, read from the graph through shape-only ops; the
// real PaddleOCR exports (opset 9 classifier and recogniser, opset 11 detector) included.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { OnnxModel } from '../../src/engine/onnx/model';
import { outputActivation } from '../../src/engine/onnx/outputKind';
import { buildModel } from './helpers';
import { PADDLE_ASSETS } from '../paddle';

const PADDLE = PADDLE_ASSETS;

describe('outputActivation', () => {
  it('names the activation the output ends in', () => {
    for (const [op, want] of [['Softmax', 'softmax'], ['Sigmoid', 'sigmoid'], ['LogSoftmax', 'logsoftmax'], ['Relu', 'none'], ['Identity', 'none']] as const) {
      const m = buildModel(13, ['N', 4], (b, x) => [b.op(op, [b.op('MatMul', [x, b.f32(new Array(12).fill(0.1), [4, 3])])])]);
      assert.equal(outputActivation(m, m.graph.output[0].name!), want, op);
    }
  });

  it('looks through Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Cast, Slice, Identity and a Concat of one', () => {
    const m = buildModel(13, ['N', 2, 3], (b, x) => {
      const s = b.op('Softmax', [x], { axis: attr.int(-1) });
      const reshaped = b.op('Reshape', [s, b.i64([-1, 6])]);
      const flat = b.op('Flatten', [b.unsqueeze(s, [1])], { axis: attr.int(1) });
      const moved = b.op('Identity', [b.op('Cast', [b.op('Transpose', [b.squeeze(b.unsqueeze(s, [0]), [0])], { perm: attr.ints([0, 2, 1]) })], { to: attr.int(1) })]);
      const sliced = b.op('Concat', [b.slice(s, [0], [2], [2])], { axis: attr.int(1) });
      const sig = b.op('Reshape', [b.op('Sigmoid', [x]), b.i64([-1, 6])]);
      const summed = b.op('Add', [s, s]);
      return [reshaped, flat, moved, sliced, sig, summed];
    });
    assert.deepEqual(m.graph.output.map((o) => outputActivation(m, o.name!)), ['softmax', 'softmax', 'softmax', 'softmax', 'sigmoid', 'none']);
  });

  it('says none for a graph input passed through and for an unknown name', () => {
    const m = buildModel(13, ['N', 3], (b, x) => [b.op('Reshape', [x, b.i64([-1, 3])])]);
    assert.equal(outputActivation(m, m.graph.output[0].name!), 'none');
    assert.equal(outputActivation(m, 'nothing'), 'none');
  });

  it('recognises the PaddleOCR exports: softmax classifier and recogniser, sigmoid detector', () => {
    for (const [file, want] of [['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'softmax'], ['ch_PP-OCRv4_rec_infer.onnx', 'softmax'], ['ch_PP-OCRv4_det_infer.onnx', 'sigmoid']]) {
      const m = OnnxModel.load(path.join(PADDLE, file));
      assert.equal(outputActivation(m, m.graph.output[0].name!), want, file);
    }
  });
});
