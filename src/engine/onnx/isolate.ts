import { AttrLensError } from '../core/errors';
import type { ShapeInfo } from '../model/loadedModel';
import { GraphProto } from './proto';

/**
 * One node's read of a tensor: the input `input` of the node writing `reader`. Captum's
 * attribute_to_layer_input replaces a layer's input with a forward pre-hook on the layer
 * module, so only that module sees the substituted value; a residual skip reading the same
 * tensor keeps the original.
 */
export interface InputEdge {
  /** an output of the node whose read is isolated (the layer tensor) */
  reader: string;
  /** the tensor it reads (the layer input) */
  input: string;
}

/** Name of the tensor that carries `edge.input` into the reader node alone. */
export const isolatedName = (edge: InputEdge): string => `${edge.input}__into__${edge.reader}`;

/**
 * Routes the reader node's read of `edge.input` through a copy, `Identity(input) → isolated`,
 * that no other node reads, so cutting or substituting the copy changes that node's input only.
 * Modifies `g` in place; returns the copy's name.
 */
export function isolateInput(g: GraphProto, edge: InputEdge): string {
  const at = g.node.findIndex((n) => n.output.includes(edge.reader));
  if (at < 0 || !g.node[at].input.includes(edge.input)) throw new AttrLensError(`internal: no node writing '${edge.reader}' reads '${edge.input}'`);
  const name = isolatedName(edge);
  const reader = g.node[at];
  reader.input = reader.input.map((i) => (i === edge.input ? name : i));
  g.node.splice(at, 0, { name: `${name}/Identity`, opType: 'Identity', input: [edge.input], output: [name], attribute: [] });
  return name;
}

/** `shapes` with the isolated copy of `edge.input` shaped (and typed) like it. */
export function isolatedShapes(shapes: ShapeInfo, edge: InputEdge): ShapeInfo {
  const name = isolatedName(edge);
  const copy = <T>(m: Map<string, T>) => {
    const out = new Map(m);
    const v = m.get(edge.input);
    if (v !== undefined) out.set(name, v);
    return out;
  };
  return { dims: copy(shapes.dims), dtype: copy(shapes.dtype), ...(shapes.dims2 ? { dims2: copy(shapes.dims2) } : {}) };
}
