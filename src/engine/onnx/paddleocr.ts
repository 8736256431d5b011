// PaddleOCR's models as Paddle2ONNX writes them carry no metadata: their preprocessing and the
// classifier's labels are PaddleOCR's conventions (tools/infer/predict_{cls,det,rec}.py). A
// Paddle2ONNX export is recognised as one of the three by its graph alone, never its file name.
import { modelOrigin } from './origin';
import type { OnnxModel } from './model';
import { outputActivation } from './outputKind';
import { spatialFactor } from './stride';

export type PaddleOcrRole = 'classifier' | 'recogniser' | 'detector';

/** How the convention is named where the preprocessing's and labels' source is shown. */
export const PADDLE_OCR_SOURCE: Record<PaddleOcrRole, string> = {
  classifier: "PaddleOCR's convention for a direction classifier (Paddle2ONNX export without metadata)",
  recogniser: "PaddleOCR's convention for a text recogniser (Paddle2ONNX export without metadata)",
  detector: "PaddleOCR's convention for a text detector (Paddle2ONNX export without metadata)",
};

/** The direction classifier's classes: upright, turned over. */
export const PADDLE_OCR_CLASSIFIER_LABELS = ['0', '180'];
/** Text lines are fed 48 pixels high (cls_image_shape 3,48,192; rec_image_shape 3,48,320). */
export const PADDLE_OCR_LINE_HEIGHT = 48;
export const PADDLE_OCR_CLASSIFIER_WIDTH = 192;

const cache = new WeakMap<OnnxModel, { role: PaddleOcrRole | undefined }>();

/**
 * The PaddleOCR model a Paddle2ONNX export is, from its signature: one NCHW 3-channel input and
 * - classifier: height 48 (or symbolic), output [N, 2];
 * - recogniser: height 48, output [N, T, C] from a Softmax;
 * - detector: output [N, 1, H, W] at the input's own scale (a text-probability map).
 */
export function paddleOcrRole(model: OnnxModel): PaddleOcrRole | undefined {
  let c = cache.get(model);
  if (!c) cache.set(model, (c = { role: findRole(model) }));
  return c.role;
}

function findRole(model: OnnxModel): PaddleOcrRole | undefined {
  if (modelOrigin(model).exporter !== 'paddle2onnx') return undefined;
  const inputs = model.realInputs();
  if (inputs.length !== 1 || model.graph.output.length !== 1) return undefined;
  const input = inputs[0].name ?? '';
  const inDims = model.declaredShape(inputs[0]).dims;
  const [, c, h] = inDims;
  if (inDims.length !== 4 || c !== 3) return undefined;
  const output = model.graph.output[0];
  const out = model.declaredShape(output).dims;
  const lineHigh = h === PADDLE_OCR_LINE_HEIGHT;
  const symbolic = (d: number | string | null): boolean => typeof d !== 'number' || d <= 0;
  if (out.length === 2 && out[1] === 2 && (lineHigh || symbolic(h))) return 'classifier';
  if (out.length === 3 && lineHigh && outputActivation(model, output.name ?? '') === 'softmax') return 'recogniser';
  if (out.length === 4 && out[1] === 1) {
    const f = spatialFactor(model, input, output.name ?? '');
    if (f && f[0] === 1 && f[1] === 1) return 'detector';
  }
  return undefined;
}
