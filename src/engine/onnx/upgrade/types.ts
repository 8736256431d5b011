import { Attrs, copyAttrs } from '../attributes';
import type { GraphBuilder } from '../builder';
import type { NodeProto } from '../proto';

/** What an adapter sees of one node of a model being raised to GRADIENT_OPSET. */
export interface UpgradeContext {
  b: GraphBuilder;
  node: NodeProto;
  /** the model's default-domain opset before the upgrade */
  from: number;
  /** whether any node (in any graph) or graph output reads the tensor */
  used(name: string): boolean;
  /** values of a constant tensor (initializer or Constant node), if it is one */
  constant(name: string): number[] | undefined;
  /** the tensor's element type where the model declares it (input, initializer, value_info) */
  elemType(name: string): number | undefined;
  /** a one-line error naming the node, its op and `why` it cannot be upgraded */
  fail(why: string): never;
}

/** Rewrites one node into nodes valid at GRADIENT_OPSET with the same outputs and values. */
export type Adapter = (ctx: UpgradeContext) => NodeProto[];

/** The node with attributes `drop` removed and `set` added or replaced. */
export function withAttrs(n: NodeProto, drop: string[], set: Attrs = {}, input = n.input): NodeProto {
  return { ...n, input: [...input], output: [...n.output], attribute: Object.entries(copyAttrs(n, drop, set)).map(([name, a]) => ({ ...a, name })) };
}

/** Inputs with `value` at `index`, optional inputs before it left empty (''). */
export function inputAt(inputs: string[], index: number, value: string): string[] {
  const ins = [...inputs];
  while (ins.length < index) ins.push('');
  ins[index] = value;
  return ins;
}
