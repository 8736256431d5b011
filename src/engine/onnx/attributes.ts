import { AttrType, AttributeProto, NodeProto, TensorProto, num } from './proto';

// Typed attribute constructors: ONNX distinguishes INT from FLOAT, JavaScript does not.
export const attr = {
  int: (i: number): AttributeProto => ({ type: AttrType.INT, i }),
  float: (f: number): AttributeProto => ({ type: AttrType.FLOAT, f }),
  ints: (ints: number[]): AttributeProto => ({ type: AttrType.INTS, ints }),
  floats: (floats: number[]): AttributeProto => ({ type: AttrType.FLOATS, floats }),
  str: (s: string): AttributeProto => ({ type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: TensorProto): AttributeProto => ({ type: AttrType.TENSOR, t }),
};
export type Attrs = Record<string, AttributeProto>;

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}
export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = find(node, name);
  return a ? num(a.i) : dflt;
}
export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = find(node, name);
  return a && a.f !== undefined ? a.f : dflt;
}
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}
export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? [...(a.floats ?? [])] : undefined;
}
export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = find(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : dflt;
}
export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t;
}
/** Copies a node's attributes, dropping `drop` and overriding with `set`. */
export function copyAttrs(node: NodeProto, drop: string[] = [], set: Attrs = {}): Attrs {
  const out: Attrs = {};
  for (const a of node.attribute ?? []) if (a.name && !drop.includes(a.name)) out[a.name] = { ...a };
  return { ...out, ...set };
}
