import { NodeProto } from '../../../onnx/proto';
import { LayerParams } from './zRule';

// BatchNormalization (Captum: BatchNorm2d): the epsilon z-rule; gamma and alpha1beta0 change
// its scale (Captum's `weight`) and setBiasToZero its bias.
export function normParams(node: NodeProto): LayerParams | undefined {
  return node.opType === 'BatchNormalization' ? { weight: 1, bias: 2 } : undefined;
}
