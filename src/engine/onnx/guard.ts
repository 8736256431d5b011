// Limits that keep hostile or broken files from making the engine allocate absurd amounts of
// memory: declared sizes are checked against these before anything is allocated.
import { AttrLensError } from '../core/errors';
import { ONNX_DTYPE_NAME, Tensor } from '../core/tensor';
import type { GraphProto, TensorProto } from './proto';
import { num } from './proto';
import { tensorFromProto } from './tensorProto';

/** Largest element count one declared tensor (a graph input or an initializer) may have: 1 GiB of float32. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** Bytes per element for the fixed-size ONNX data types (by TensorProto.DataType code). */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** Product of fixed dims, or an error naming `what` when a dim is negative or the product is too large. */
export function checkedElements(dims: ReadonlyArray<number>, what: string, label: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new AttrLensError(`${label}: ${what} declares the dimension ${d} in [${dims.join(', ')}]: the model is broken; export it again`);
    n *= d;
  }
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new AttrLensError(`${label}: ${what} declares shape [${dims.join(', ')}] (${n.toExponential(2)} elements), above the limit of ${MAX_TENSOR_ELEMENTS} elements: export the model with a smaller fixed shape (or a symbolic one)`);
  }
  return n;
}

/**
 * Every initializer's declared shape fits the limit and matches the data it holds; every
 * input's fixed dims fit the limit. Cheap: reads lengths only. External data (dataLocation 1)
 * is checked after it is inlined.
 */
export function checkDeclaredSizes(g: GraphProto, label: string): void {
  for (const t of g.initializer ?? []) checkInitializer(t, label);
  for (const vi of g.input ?? []) {
    const dims = vi.type?.tensorType?.shape?.dim ?? [];
    const fixed: number[] = [];
    for (const d of dims) if (!d.dimParam && d.dimValue !== undefined && d.dimValue !== null) fixed.push(num(d.dimValue));
    checkedElements(fixed, `input '${vi.name}'`, label);
  }
  checkSizeConstants(g, label);
}

/** Largest pad, and largest resize scale, a node may ask for (real models pad by a few pixels or an STFT window). */
const MAX_PAD = 2 ** 14;
const MAX_SCALE = 1e4;

/**
 * Constant inputs that set an output's size (Pad amounts, Expand/ConstantOfShape/Tile/Resize
 * sizes) must not ask for absurd tensors: onnxruntime runs synchronously and would spin or
 * allocate for minutes on such a node. Non-constant size inputs are left to onnxruntime.
 */
export function checkSizeConstants(g: GraphProto, label: string): void {
  const consts = new Map<string, TensorProto>();
  for (const t of g.initializer ?? []) consts.set(t.name ?? '', t);
  for (const n of g.node ?? []) {
    const t = n.opType === 'Constant' ? n.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (t && n.output[0]) consts.set(n.output[0], t);
  }
  const values = (name: string | undefined): number[] | undefined => {
    const t = name ? consts.get(name) : undefined;
    if (!t || (t.dataType !== 7 && t.dataType !== 6 && t.dataType !== 1)) return undefined;
    try {
      return Array.from(tensorFromProto(t).data as ArrayLike<number | bigint>, Number);
    } catch {
      return undefined; // a damaged constant: onnxruntime refuses it when loading
    }
  };
  const where = (n: (typeof g.node)[number]) => `${label}: node '${n.name || n.output[0]}' (${n.opType})`;
  const fail = (n: (typeof g.node)[number], what: string): never => {
    throw new AttrLensError(`${where(n)} asks for ${what}: the model is broken or hostile; export it again`);
  };
  for (const n of g.node ?? []) {
    const v = (k: number) => values(n.input[k]);
    switch (n.opType) {
      case 'Pad': {
        const pads = v(1);
        if (pads?.some((p) => !(Math.abs(p) <= MAX_PAD))) fail(n, `padding [${pads.join(', ')}], above ${MAX_PAD}`);
        break;
      }
      case 'Expand':
      case 'ConstantOfShape': {
        const shape = v(n.opType === 'Expand' ? 1 : 0);
        if (shape && !(shape.reduce((a, b) => a * Math.abs(b), 1) <= MAX_TENSOR_ELEMENTS)) fail(n, `shape [${shape.join(', ')}], above ${MAX_TENSOR_ELEMENTS} elements`);
        break;
      }
      case 'Tile': {
        const reps = v(1);
        if (reps && !(reps.reduce((a, b) => a * Math.abs(b), 1) <= MAX_TENSOR_ELEMENTS)) fail(n, `repeats [${reps.join(', ')}], above ${MAX_TENSOR_ELEMENTS} elements`);
        break;
      }
      case 'Resize':
      case 'Upsample': {
        const scales = v(n.opType === 'Resize' ? 2 : 1);
        if (scales?.some((x) => !(Math.abs(x) <= MAX_SCALE))) fail(n, `scales [${scales.join(', ')}], above ${MAX_SCALE}`);
        const sizes = n.opType === 'Resize' ? v(3) : undefined;
        if (sizes && !(sizes.reduce((a, b) => a * Math.abs(b), 1) <= MAX_TENSOR_ELEMENTS)) fail(n, `sizes [${sizes.join(', ')}], above ${MAX_TENSOR_ELEMENTS} elements`);
        break;
      }
    }
  }
}

export function checkInitializer(t: TensorProto, label: string): void {
  if (t.dataLocation === 1) return;
  const what = `initializer '${t.name}'`;
  const n = checkedElements((t.dims ?? []).map(num), what, label);
  const size = ELEMENT_BYTES[t.dataType ?? 0];
  const raw = t.rawData?.length ?? 0;
  if (raw > 0) {
    if (size !== undefined && raw !== n * size) {
      throw new AttrLensError(`${label}: ${what} declares ${n} ${ONNX_DTYPE_NAME[t.dataType ?? 0] ?? 'elements'} values but holds ${raw} bytes: the file is damaged; export the model again`);
    }
    return;
  }
  const held = (t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0) + (t.int64Data?.length ?? 0) + (t.doubleData?.length ?? 0) + (t.uint64Data?.length ?? 0) + (t.stringData?.length ?? 0);
  // complex types hold two numbers per element; anything else holds one
  const per = t.dataType === 14 || t.dataType === 15 ? 2 : 1;
  if (held < n * per) {
    throw new AttrLensError(`${label}: ${what} declares ${n} values but holds ${held}: the file is damaged; export the model again`);
  }
}

/** First NaN in a tensor (index), or -1. */
export function firstNaN(t: Tensor): number {
  const d = t.data;
  // one loop per array type: a loop that sees both runs several times slower on either
  if (d instanceof Float32Array) return firstNaN32(d);
  if (d instanceof Float64Array) return firstNaN64(d);
  return -1;
}

function firstNaN32(d: Float32Array): number {
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return i;
  return -1;
}

function firstNaN64(d: Float64Array): number {
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return i;
  return -1;
}
