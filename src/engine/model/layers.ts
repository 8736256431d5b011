// The float tensors of a model that are not parameters: the candidate layers of layer, neuron
// and CAM methods, in graph order.
import { OnnxModel } from '../onnx/model';
import { ShapeInfo } from './probe';

export interface LayerInfo {
  name: string;
  dims: number[];
  op: string;
}

export function layersOf(model: OnnxModel, info: ShapeInfo): LayerInfo[] {
  const inits = new Set(model.graph.initializer.map((t) => t.name));
  const out: LayerInfo[] = [];
  for (const n of model.graph.node) {
    if (n.opType === 'Constant' || n.opType === 'Identity' && inits.has(n.input[0])) continue;
    for (const o of n.output) {
      const dt = info.dtype.get(o);
      if (o && dt === 'float32' && !inits.has(o)) out.push({ name: o, dims: info.dims.get(o) ?? [], op: n.opType });
    }
  }
  return out;
}
