import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import { checkDeclaredSizes, checkInitializer } from './guard';
import { Tensor } from '../core/tensor';
import { attrTensor } from './attributes';
import { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, decodeModel, encodeModel, encodeTensor, num } from './proto';
import { assembleModel, forgetEncoding, indexInitializers } from './wire';
import { tensorFromProto } from './tensorProto';

export interface TensorShape {
  /** element type code (TensorProto.DataType) */
  elemType: number;
  /** a number for a fixed dimension, a string for a symbolic one, null when unknown */
  dims: Array<number | string | null>;
}

/** Content hashes by file identity (see OnnxModel.load). */
export interface HashMemo {
  get(identity: string): string | undefined;
  set(identity: string, hash: string): void;
}

/** What changes whenever a file's bytes may have: path, size, mtime, ctime (which no tool can set back), inode, device. */
function fileIdentity(file: string, st: fs.BigIntStats): string {
  return `${file}|${st.size}|${st.dev}|${st.mtimeNs}|${st.ctimeNs}|${st.ino}`;
}

function statModel(file: string): { abs: string; st: fs.BigIntStats } {
  const abs = path.resolve(file);
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(abs, { bigint: true });
  } catch (e) {
    throw readError(file, e);
  }
  if (!st.isFile()) throw new AttrLensError(`${file} is not a file: pass the path of an .onnx model`);
  return { abs, st };
}

function readError(file: string, e: unknown): AttrLensError {
  if (e instanceof AttrLensError) return e;
  return new AttrLensError(`cannot read model ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}; check the path`);
}

/** The whole file in as few read requests as the kernel allows (fs.promises.readFile takes 512 KB per round trip through this thread). */
async function readWhole(file: string): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) throw new Error(`the file shrank while it was read (${off} of ${size} bytes)`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** An ONNX model held as decoded protobuf; initializer bytes stay views into the file's buffer. */
export class OnnxModel {
  /** sha256 of the bytes the model was read from (content address for caches) */
  contentHash?: string;

  private constructor(readonly proto: ModelProto, readonly file?: string) {}

  static fromBytes(bytes: Uint8Array, file?: string): OnnxModel {
    const label = file ? path.basename(file) : 'model bytes';
    if (bytes.length === 0) throw new AttrLensError(`${label} is empty: export the model again (or download it again) and point at the .onnx file`);
    let proto: ModelProto;
    try {
      proto = decodeModel(bytes);
    } catch (e) {
      throw new AttrLensError(`${label} is not an ONNX model (${(e as Error).message.split('\n')[0]}): check that the file is a complete .onnx export`);
    }
    const g = proto.graph;
    if (!g || (g.node?.length ?? 0) === 0 || (g.output?.length ?? 0) === 0 || !proto.opsetImport?.length) {
      throw new AttrLensError(`${label} is not an ONNX model (no graph, nodes, outputs or opset inside): check that the file is a complete .onnx export`);
    }
    const model = new OnnxModel(proto, file);
    model.validate(label);
    checkDeclaredSizes(g, label); // before anything allocates from declared shapes
    indexInitializers(bytes, g.initializer);
    if (!file) {
      // Bytes have no folder to resolve data files in; onnxruntime would try the working directory.
      const ext = [...allTensors(g)].find((t) => t.dataLocation === 1);
      if (ext) throw new AttrLensError(`${label}: tensor '${ext.name}' keeps its data in an external file, which model bytes cannot resolve: open the model from its .onnx file`);
    }
    return model;
  }

  /**
   * Reads a model file; external data files are resolved strictly inside the model's folder.
   * With a memo, the content hash of files seen before unchanged (same path, size, times and
   * inode) is not computed again: hashing costs about 1 s per GB.
   */
  static load(file: string, memo?: HashMemo): OnnxModel {
    const { abs, st } = statModel(file);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(abs);
    } catch (e) {
      throw readError(file, e);
    }
    return OnnxModel.fromFile(abs, bytes, st, memo);
  }

  /**
   * load() with the file read by a pool thread in one request, while `meanwhile` runs on this
   * one (a fresh process loads onnxruntime then instead of after).
   */
  static async loadAsync(file: string, memo?: HashMemo, meanwhile?: () => void): Promise<OnnxModel> {
    const { abs, st } = statModel(file);
    const reading = readWhole(abs).catch((e: unknown) => {
      throw readError(file, e);
    });
    try {
      meanwhile?.();
    } finally {
      await reading.catch(() => undefined);
    }
    return OnnxModel.fromFile(abs, await reading, st, memo);
  }

  private static fromFile(abs: string, bytes: Buffer, st: fs.BigIntStats, memo?: HashMemo): OnnxModel {
    const model = OnnxModel.fromBytes(bytes, abs);
    const data: Uint8Array[] = [];
    const ids = new Set([fileIdentity(abs, st)]);
    let newest = st.ctimeNs;
    model.inlineExternalData(path.dirname(abs), (d, dataFile, dst) => {
      data.push(d);
      ids.add(fileIdentity(dataFile, dst));
      if (dst.ctimeNs > newest) newest = dst.ctimeNs;
    });
    const key = [...ids].join('\n');
    let hash = memo?.get(key);
    if (!hash) {
      const h = createHash('sha256').update(bytes);
      for (const d of data) h.update(d);
      hash = h.digest('hex');
      // a file changed within the last second could change again at the same recorded time
      if (Number(newest / 1_000_000n) < Date.now() - 1000) memo?.set(key, hash);
    }
    model.contentHash = hash;
    return model;
  }

  /** A new model with an empty graph, for models the engine makes itself. */
  static empty(opset = 17, irVersion = 8): OnnxModel {
    return new OnnxModel({
      irVersion,
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'attribution-lens',
      graph: { name: 'graph', node: [], initializer: [], input: [], output: [], valueInfo: [] },
    });
  }

  get graph(): GraphProto {
    return this.proto.graph!;
  }

  get name(): string {
    return this.file ? path.basename(this.file) : 'model';
  }

  opset(domain = ''): number {
    const o = this.proto.opsetImport.find((x) => (x.domain ?? '') === domain || (domain === '' && x.domain === 'ai.onnx'));
    return o ? num(o.version) : 0;
  }

  setOpset(version: number, domain = ''): void {
    const o = this.proto.opsetImport.find((x) => (x.domain ?? '') === domain);
    if (o) o.version = version;
    else this.proto.opsetImport.push({ domain, version });
  }

  initializerMap(): Map<string, TensorProto> {
    return new Map(this.graph.initializer.map((t) => [t.name ?? '', t]));
  }

  /** Value of a constant tensor (initializer or Constant node output), or undefined. */
  constantValue(name: string): Tensor | undefined {
    const init = this.graph.initializer.find((t) => t.name === name);
    if (init) return tensorFromProto(init);
    const node = this.graph.node.find((n) => n.opType === 'Constant' && n.output[0] === name);
    const t = node && attrTensor(node, 'value');
    return t ? tensorFromProto(t) : undefined;
  }

  /** A structural copy that shares initializer bytes with this model. */
  clone(): OnnxModel {
    const g = this.graph;
    const graph: GraphProto = {
      ...g,
      node: g.node.map(cloneNode),
      initializer: [...g.initializer],
      input: g.input.map(cloneValueInfo),
      output: g.output.map(cloneValueInfo),
      valueInfo: [...(g.valueInfo ?? [])],
    };
    const proto: ModelProto = {
      ...this.proto,
      opsetImport: this.proto.opsetImport.map((o) => ({ domain: o.domain ?? '', version: num(o.version) })),
      graph,
    };
    const copy = new OnnxModel(proto, this.file);
    copy.contentHash = this.contentHash;
    return copy;
  }

  /** Serialises for onnxruntime; initializers read from a file are copied, not re-encoded. */
  /** Serialised model; `alloc` may supply the buffer (e.g. a leased scratch buffer). */
  toBytes(alloc?: (size: number) => Buffer, initializers: TensorProto[] = this.graph.initializer): Uint8Array {
    const header = encodeModel({ ...this.proto, graph: { ...this.graph, initializer: [] } });
    return assembleModel(header, initializers, encodeTensor, alloc);
  }

  /** Shape and type of a graph input/output/value_info entry, if declared. */
  declaredShape(vi: ValueInfoProto): TensorShape {
    const tt = vi.type?.tensorType;
    return {
      elemType: tt?.elemType ?? 0,
      dims: (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : null)),
    };
  }

  /** Graph inputs that are real inputs (not initializers, which old exports also list as inputs). */
  realInputs(): ValueInfoProto[] {
    const inits = new Set(this.graph.initializer.map((t) => t.name));
    return this.graph.input.filter((i) => !inits.has(i.name));
  }

  private validate(label: string): void {
    const g = this.graph;
    const known = new Set<string>(['']);
    for (const i of g.input) known.add(i.name ?? '');
    for (const t of g.initializer) known.add(t.name ?? '');
    const producers = new Map<string, NodeProto>();
    for (const n of g.node) for (const o of n.output) if (o) producers.set(o, n);
    for (const n of g.node) {
      for (const i of n.input) {
        if (!known.has(i) && !producers.has(i) && !isOuterScope(n)) {
          throw new AttrLensError(`${label}: node '${n.name || n.opType}' reads tensor '${i}', which nothing produces: the model is broken; export it again`);
        }
      }
    }
    for (const o of g.output) {
      if (!known.has(o.name ?? '') && !producers.has(o.name ?? '')) {
        throw new AttrLensError(`${label}: graph output '${o.name}' is produced by no node: the model is broken; export it again`);
      }
    }
    topoOrder(g, label); // throws on cycles
  }

  private inlineExternalData(dir: string, seen: (data: Uint8Array, file: string, st: fs.BigIntStats) => void): void {
    const realDir = fs.realpathSync(dir);
    // node attribute tensors (Constant values, subgraphs) too: onnxruntime must never resolve a path itself
    for (const t of allTensors(this.graph)) {
      if (t.dataLocation !== 1) continue;
      const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
      const location = kv.get('location') ?? '';
      const offset = Number(kv.get('offset') ?? 0);
      const length = kv.has('length') ? Number(kv.get('length')) : undefined;
      const where = `${this.name}: external data of '${t.name}'`;
      if (!location || path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
        throw new AttrLensError(`${where} points to '${location}', outside the model's folder: keep data files beside the model`);
      }
      const target = path.join(realDir, location);
      let real: string;
      try {
        real = fs.realpathSync(target);
      } catch {
        throw new AttrLensError(`${where}: data file '${location}' is missing beside the model: copy it into ${dir}`);
      }
      if (path.relative(realDir, real).startsWith('..') || path.isAbsolute(path.relative(realDir, real))) {
        throw new AttrLensError(`${where} resolves (through a link) outside the model's folder: keep data files beside the model`);
      }
      if (!fs.statSync(real).isFile()) throw new AttrLensError(`${where}: '${location}' is not a file: point the model at its data file`);
      const fd = fs.openSync(real, 'r');
      try {
        const st = fs.fstatSync(fd, { bigint: true });
        const size = Number(st.size);
        const len = length ?? size - offset;
        if (!(offset >= 0 && len >= 0 && offset + len <= size)) {
          throw new AttrLensError(`${where}: offset ${offset} and length ${len} do not fit in '${location}' (${size} bytes): the data file does not match the model`);
        }
        const buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, offset);
        seen(buf, real, st);
        forgetEncoding(t);
        t.rawData = buf;
        t.dataLocation = 0;
        t.externalData = [];
        checkInitializer(t, this.name);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

/** Every tensor in a graph: initializers and node attribute tensors, subgraphs included. */
function* allTensors(g: GraphProto): Generator<TensorProto> {
  yield* g.initializer ?? [];
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.t) yield a.t;
      yield* a.tensors ?? [];
      if (a.g) yield* allTensors(a.g);
      for (const sg of a.graphs ?? []) yield* allTensors(sg);
    }
  }
}

function isOuterScope(_n: NodeProto): boolean {
  return false;
}

function cloneNode(n: NodeProto): NodeProto {
  return { ...n, input: [...n.input], output: [...n.output], attribute: [...(n.attribute ?? [])] };
}

function cloneValueInfo(v: ValueInfoProto): ValueInfoProto {
  const tt = v.type?.tensorType;
  return {
    name: v.name,
    docString: v.docString,
    type: tt ? { tensorType: { elemType: tt.elemType, shape: tt.shape ? { dim: (tt.shape.dim ?? []).map((d) => ({ ...d })) } : undefined } } : v.type,
  };
}

/** Drops the nodes none of `outputs` depends on; returns every tensor name still read. */
export function pruneTo(g: GraphProto, outputs: string[], label = 'model'): Set<string> {
  const needed = new Set(outputs);
  const keep = new Set<NodeProto>();
  const order = topoOrder(g, label);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    if (!n.output.some((o) => needed.has(o))) continue;
    keep.add(n);
    for (const i of n.input) if (i) needed.add(i);
  }
  g.node = g.node.filter((n) => keep.has(n));
  return needed;
}

/** Nodes in a topological order; throws a clear error on a cycle. */
export function topoOrder(g: GraphProto, label = 'model'): NodeProto[] {
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const indeg = new Array<number>(g.node.length).fill(0);
  const users: number[][] = g.node.map(() => []);
  g.node.forEach((n, i) => {
    for (const inp of n.input) {
      const p = producer.get(inp);
      if (p !== undefined) {
        indeg[i]++;
        users[p].push(i);
      }
    }
  });
  const queue: number[] = [];
  indeg.forEach((d, i) => d === 0 && queue.push(i));
  const order: NodeProto[] = [];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q];
    order.push(g.node[i]);
    for (const u of users[i]) if (--indeg[u] === 0) queue.push(u);
  }
  if (order.length !== g.node.length) {
    const stuck = g.node.find((_, i) => indeg[i] > 0);
    throw new AttrLensError(`${label}: the graph has a cycle through node '${stuck?.name || stuck?.opType}': ONNX graphs must be acyclic; export the model again`);
  }
  return order;
}
