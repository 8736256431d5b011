// What a model opened for attribution takes and gives: its inputs and outputs as declared
// (after integer pixel inputs became float).
import { TensorShape } from '../onnx/model';
import { DType, isFloatCode } from '../core/tensor';

export interface IOInfo extends TensorShape {
  name: string;
  dtype?: DType;
  /** the integer type ('uint8', ...) the model declared: the input now takes float32 in place of its Cast to float */
  promotedFrom?: string;
  /** why an integer input that is cast to float was left as it is (it is also used as integers) */
  integerUse?: string;
}

export function isFloatInput(i: IOInfo): boolean {
  return isFloatCode(i.elemType);
}
