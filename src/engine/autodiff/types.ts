import type { GraphBuilder } from '../onnx/builder';
import type { OnnxModel } from '../onnx/model';
import type { NodeProto } from '../onnx/proto';
import type { DType, Tensor } from '../core/tensor';

/** What a gradient rule sees of one forward node (names are ONNX tensor names). */
export interface RuleContext {
  b: GraphBuilder;
  model: OnnxModel;
  node: NodeProto;
  /** incoming gradient per node output; undefined where no gradient flows */
  dY: Array<string | undefined>;
  /** per node input: whether its gradient is wanted */
  needs: boolean[];
  /** dims of a tensor at batch 1 (from the probe run) */
  shape(name: string): number[];
  dtype(name: string): DType | undefined;
  /** whether dimension `axis` of `name` follows the batch size */
  isBatchAxis(name: string, axis: number): boolean;
  /** value of a constant tensor (initializer or Constant), if it is one */
  constant(name: string): Tensor | undefined;
  /** the model's default-domain opset (at least GRADIENT_OPSET) */
  opset: number;
  /** Sums `grad` (shaped like `from`) down to the broadcast shape of input `to`. */
  unbroadcast(grad: string, to: string, from: string): string;
  /** the first incoming gradient, or zeros shaped like output 0 */
  dY0(): string;
}

/** Gradient per input (undefined = none). Rules may skip inputs whose `needs` is false. */
export type GradFn = (ctx: RuleContext) => Array<string | undefined>;

export interface GradRule {
  /** indices of inputs a gradient can flow into (default: every float input) */
  differentiable?: (node: NodeProto) => number[];
  grad: GradFn;
}

export type RuleTable = ReadonlyMap<string, GradRule>;
