// Small fixed-batch models, exported-style (dimension 0 fixed to 1), for the runtime tests.
import { attr } from '../../src/engine/onnx/attributes';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel } from '../onnx/helpers';

const wave = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.5);

/** x[1,3,4,4] → Conv(2 filters, 3×3) 'conv' → Relu 'act' → Flatten → Gemm → logits[1,5]. */
export function convNet(): OnnxModel {
  return buildModel(17, [1, 3, 4, 4], (b, x) => {
    const w = b.f32(wave(2 * 3 * 9, 0.7), [2, 3, 3, 3]);
    const conv = b.add('Conv', [x, w, b.f32([0.1, -0.1], [2])], {}, ['/block/conv/Conv_output_0'])[0];
    const act = b.add('Relu', [conv], {}, ['/block/act/Relu_output_0'])[0];
    const flat = b.op('Flatten', [act], { axis: attr.int(1) });
    const fc = b.f32(wave(5 * 8, 1.1), [5, 8]);
    return [b.add('Gemm', [flat, fc, b.f32(wave(5, 2.3), [5])], { transB: attr.int(1) }, ['logits'])[0]];
  });
}

/** x[1,3,4] → Reshape to the constant [1, -1] (the batch baked in) → MatMul → y[1,2]. */
export function bakedReshape(): OnnxModel {
  return buildModel(17, [1, 3, 4], (b, x) => {
    const flat = b.reshape(x, [1, -1]);
    return [b.op('MatMul', [flat, b.f32(wave(24, 0.9), [12, 2])])];
  });
}

/** x[1,3,4] → Reshape to [2, 6] → MatMul → Reshape [1, 4]: no batch rewrite can fix it. */
export function foldedReshape(): OnnxModel {
  return buildModel(17, [1, 3, 4], (b, x) => {
    const folded = b.reshape(x, [2, 6]);
    const mm = b.op('MatMul', [folded, b.f32(wave(12, 0.4), [6, 2])]);
    return [b.reshape(mm, [1, 4])];
  });
}

/** y = x - mean over axes 0 and 1: runs at any batch, but batch 2 mixes the samples. */
export function batchMean(): OnnxModel {
  return buildModel(17, [1, 4], (b, x) => [b.op('Sub', [x, b.reduce('ReduceMean', x, [0, 1])])]);
}

/** x[1,3], y[1,3] → x + 2·y, with the inner tensor 'twice_y'. */
export function twoInputs(): OnnxModel {
  const m = buildModel(17, [1, 3], (b, x) => {
    b.addInput('y', 1, [1, 3]);
    const t = b.add('Mul', ['y', b.f32(2)], {}, ['twice_y'])[0];
    return [b.op('Add', [x, t])];
  });
  return m;
}
