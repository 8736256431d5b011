import { Tensor } from '../core/tensor';
import { Attrs, attr } from './attributes';
import { OnnxModel } from './model';
import { NodeProto, ValueInfoProto } from './proto';
import { tensorToProto } from './tensorProto';

/**
 * Appends nodes, constants, inputs and outputs to a model. Emitters that changed signature
 * across opsets (axes as attribute or input, ...) write the form the model's opset expects.
 */
export class GraphBuilder {
  private used = new Set<string>();
  private counter = 0;
  private constCache = new Map<string, string>();

  constructor(readonly model: OnnxModel, private readonly prefix = 'al') {
    const g = model.graph;
    for (const n of g.node) {
      n.output.forEach((o) => this.used.add(o));
      if (n.name) this.used.add(n.name);
    }
    for (const v of [...g.input, ...g.output]) this.used.add(v.name ?? '');
    for (const t of g.initializer) this.used.add(t.name ?? '');
  }

  get opset(): number {
    return this.model.opset('');
  }

  fresh(hint: string): string {
    const base = `/${this.prefix}/${hint.replace(/[^A-Za-z0-9_./-]/g, '_')}`;
    let name: string;
    do name = `${base}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns its output names (fresh unless given). */
  add(opType: string, inputs: string[], attrs: Attrs = {}, outputs: number | string[] = 1, domain = ''): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    outs.forEach((o) => this.used.add(o));
    const node: NodeProto = {
      opType,
      domain,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([name, a]) => ({ ...a, name })),
    };
    this.model.graph.node.push(node);
    return outs;
  }

  /** Adds a single-output node and returns its output. */
  op(opType: string, inputs: string[], attrs: Attrs = {}): string {
    return this.add(opType, inputs, attrs, 1)[0];
  }

  /** An initializer holding `t`; identical small constants are shared. */
  constant(t: Tensor, hint = 'const'): string {
    const key = t.data.length <= 64 ? `${t.dtype}|${t.dims}|${Array.from(t.data as ArrayLike<number | bigint>).join(',')}` : undefined;
    if (key && this.constCache.has(key)) return this.constCache.get(key)!;
    const name = this.fresh(hint);
    this.model.graph.initializer.push(tensorToProto(name, t));
    if (key) this.constCache.set(key, name);
    return name;
  }

  /** A float32 initializer under a given name (parameters keep their framework names). */
  param(name: string, dims: number[], data: ArrayLike<number>): string {
    this.used.add(name);
    this.model.graph.initializer.push(tensorToProto(name, { dtype: 'float32', dims, data: Float32Array.from(data) }));
    return name;
  }

  /** A node named as torch.onnx.export names it: `${scope}/${op}`, output `${scope}/${op}_output_0`. */
  exported(scope: string, op: string, inputs: string[], attrs: Attrs = {}, output?: string): string {
    const out = output ?? `${scope}/${op}_output_0`;
    this.add(op, inputs, attrs, [out]);
    this.model.graph.node[this.model.graph.node.length - 1].name = `${scope}/${op}`;
    return out;
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    return this.constant({ dtype: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) }, 'i64');
  }

  /** A float32 constant; scalars by default. */
  f32(values: number | number[], dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    return this.constant({ dtype: 'float32', dims: dims ?? (typeof values === 'number' ? [] : [arr.length]), data: Float32Array.from(arr) }, 'f32');
  }

  addInput(name: string, elemType: number, dims: Array<number | string>): void {
    this.used.add(name);
    this.model.graph.input.push(valueInfo(name, elemType, dims));
  }

  addOutput(name: string, elemType = 1, dims?: Array<number | string>): void {
    this.model.graph.output.push(valueInfo(name, elemType, dims));
  }

  // ---- opset-aware emitters ----

  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.i64(axes)]) : this.op('Unsqueeze', [x], { axes: attr.ints(axes) });
  }

  squeeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Squeeze', [x, this.i64(axes)]) : this.op('Squeeze', [x], { axes: attr.ints(axes) });
  }

  /** ReduceSum over `axes` (an empty list keeps x unchanged). */
  reduceSum(x: string, axes: number[], keepdims = true): string {
    if (axes.length === 0) return x;
    const kd = { keepdims: attr.int(keepdims ? 1 : 0) };
    return this.opset >= 13 ? this.op('ReduceSum', [x, this.i64(axes)], kd) : this.op('ReduceSum', [x], { ...kd, axes: attr.ints(axes) });
  }

  /** ReduceSum over axes given as a runtime int64 tensor (opset >= 13); empty axes = no-op. */
  reduceSumDynamic(x: string, axes: string, keepdims = true): string {
    return this.op('ReduceSum', [x, axes], { keepdims: attr.int(keepdims ? 1 : 0), noop_with_empty_axes: attr.int(1) });
  }

  /** ReduceMean / ReduceMax / ReduceMin / ReduceProd / ... over axes (axes became an input at 18). */
  reduce(opType: string, x: string, axes: number[], keepdims = true): string {
    if (opType === 'ReduceSum') return this.reduceSum(x, axes, keepdims);
    const kd = { keepdims: attr.int(keepdims ? 1 : 0) };
    return this.opset >= 18 ? this.op(opType, [x, this.i64(axes)], kd) : this.op(opType, [x], { ...kd, axes: attr.ints(axes) });
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const ins = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps) ins.push(this.i64(steps));
    return this.op('Slice', ins);
  }

  /** Split into pieces of the given sizes along axis. */
  split(x: string, sizes: number[], axis: number): string[] {
    if (this.opset >= 13) return this.add('Split', [x, this.i64(sizes)], { axis: attr.int(axis) }, sizes.length);
    return this.add('Split', [x], { axis: attr.int(axis), split: attr.ints(sizes) }, sizes.length);
  }

  /** Constant padding with pads in ONNX order [begin..., end...]. */
  pad(x: string, pads: number[], value = 0): string {
    return this.op('Pad', [x, this.i64(pads), this.f32(value)], { mode: attr.str('constant') });
  }

  shape(x: string): string {
    return this.op('Shape', [x]);
  }

  reshape(x: string, shape: string | number[]): string {
    return this.op('Reshape', [x, typeof shape === 'string' ? shape : this.i64(shape)]);
  }

  /** Zeros shaped like x. */
  zerosLike(x: string): string {
    return this.op('ConstantOfShape', [this.shape(x)]);
  }
}

export function valueInfo(name: string, elemType: number, dims?: Array<number | string | null>): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d ? { dimParam: d } : {})) } : undefined,
      },
    },
  };
}
