import { attrFloats, attrInt, attrInts } from './attributes';
import { OnnxModel, topoOrder } from './model';
import { numbersOf } from './tensorProto';

/** [height, width] */
export type Stride = [number, number];

interface Strides {
  required: Stride;
  /** tensor → how many input pixels one step along its spatial axes spans */
  factor: Map<string, Stride>;
}
const cache = new WeakMap<OnnxModel, Map<string, Strides>>();

/**
 * What each spatial side of image input `input` must be a multiple of. Each feature map has a
 * factor from the input (Conv/Pool strides multiply it, Resize/Upsample/ConvTranspose divide
 * it); where an up-sampled map meets another (an FPN adding the 2× up-sampled 32× map to the
 * 16× one, a U-Net concatenating its skip), their shapes agree only when the input divides by
 * the deepest factor either went through: 32 for that FPN. A classifier that only strides
 * down runs at any size (its 64× MobileNet takes 48-pixel text lines): [1, 1].
 * Axes are the two spatial axes as the convolutions see them (H, W).
 */
export function inputStride(model: OnnxModel, input: string): Stride {
  return strides(model, input).required;
}

/** How many pixels of `input` one step along `tensor`'s spatial axes spans ([1, 1]: the input's own size); undefined when it does not come from the input. */
export function spatialFactor(model: OnnxModel, input: string, tensor: string): Stride | undefined {
  return strides(model, input).factor.get(tensor);
}

function strides(model: OnnxModel, input: string): Strides {
  let byInput = cache.get(model);
  if (!byInput) cache.set(model, (byInput = new Map()));
  let s = byInput.get(input);
  if (!s) byInput.set(input, (s = computeStride(model, input)));
  return s;
}

/** `n` rounded to the nearest multiple of `stride`, at least one stride. */
export function roundToStride(n: number, stride: number): number {
  return Math.max(stride, Math.round(n / stride) * stride);
}

const MAX_STRIDE = 4096;

function computeStride(model: OnnxModel, input: string): Strides {
  // factor[t] = how many input pixels one step along t's spatial axes spans; deep[t] = the
  // largest whole factor on t's way from the input; up: t went through an up-sampling
  const factor = new Map<string, Stride>([[input, [1, 1]]]);
  const deep = new Map<string, Stride>([[input, [1, 1]]]);
  const up = new Set<string>();
  const required: Stride = [1, 1];
  let order;
  try {
    order = topoOrder(model.graph);
  } catch {
    return { required, factor: new Map() };
  }
  const producer = new Map(model.graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  for (const n of order) {
    if (n.opType === 'Shape' || n.opType === 'Size') continue; // shapes, not feature maps
    const ins = n.input.filter((i) => factor.has(i));
    if (ins.length === 0) continue;
    const from = ins.map((i) => factor.get(i)!);
    let f: Stride = [Math.max(...from.map((x) => x[0])), Math.max(...from.map((x) => x[1]))];
    const d: Stride = [1, 1];
    for (const i of ins) for (let a = 0; a < 2; a++) d[a] = lcm(d[a], deep.get(i)![a]);
    let upsampled = ins.some((i) => up.has(i));
    if (ins.length >= 2 && upsampled) for (let a = 0; a < 2; a++) required[a] = Math.min(MAX_STRIDE, lcm(required[a], d[a]));
    switch (n.opType) {
      case 'Conv':
      case 'MaxPool':
      case 'AveragePool':
      case 'LpPool': {
        const st = attrInts(n, 'strides');
        if (st && st.length === 2) f = [f[0] * st[0], f[1] * st[1]];
        break;
      }
      case 'ConvTranspose': {
        const st = attrInts(n, 'strides');
        if (st && st.length === 2) f = [f[0] / st[0], f[1] / st[1]];
        upsampled = true;
        break;
      }
      case 'SpaceToDepth': {
        const b = attrInt(n, 'blocksize', 1);
        f = [f[0] * b, f[1] * b];
        break;
      }
      case 'DepthToSpace': {
        const b = attrInt(n, 'blocksize', 1);
        f = [f[0] / b, f[1] / b];
        upsampled = true;
        break;
      }
      case 'Resize':
      case 'Upsample': {
        const like = sizedLike(n, producer);
        if (like && factor.has(like)) {
          // sized as `like` by construction: merging with it constrains nothing more than `like` does
          f = factor.get(like)!;
          for (let a = 0; a < 2; a++) d[a] = deep.get(like)![a];
          upsampled = up.has(like);
          setOutputs(n, f, d, upsampled);
          continue;
        }
        f = resized(model, n, f) ?? f;
        upsampled = true;
        break;
      }
      case 'Slice': {
        // a strided slice (YOLOv5's Focus: x[..., ::2, ::2]) subsamples; slices at other offsets
        // agree in size only when the side divides by the step
        const st = sliceSteps(model, n);
        if (st[0] !== 1 || st[1] !== 1) {
          f = [f[0] * st[0], f[1] * st[1]];
          upsampled = true;
        }
        break;
      }
    }
    for (let a = 0; a < 2; a++) {
      const r = Math.round(f[a]);
      if (r > 1 && Math.abs(f[a] - r) < 1e-6) d[a] = Math.min(MAX_STRIDE, lcm(d[a], r));
    }
    setOutputs(n, f, d, upsampled);
  }
  return { required, factor };

  function setOutputs(n: Node, f: Stride, d: Stride, upsampled: boolean): void {
    for (const o of n.output) {
      if (!o) continue;
      factor.set(o, f);
      deep.set(o, d);
      if (upsampled) up.add(o);
    }
  }
}

/** |steps| of a Slice on the last two (spatial) axes of a rank-4 tensor; 1 where unknown. */
function sliceSteps(model: OnnxModel, n: Node): Stride {
  const out: Stride = [1, 1];
  const steps = n.input[4] ? model.constantValue(n.input[4]) : undefined;
  if (!steps) return out;
  const st = numbersOf(steps);
  const axesT = n.input[3] ? model.constantValue(n.input[3]) : undefined;
  const axes = axesT ? numbersOf(axesT) : st.map((_, i) => i);
  axes.forEach((ax, i) => {
    const a = ax < 0 ? ax + 4 : ax;
    if ((a === 2 || a === 3) && Number.isInteger(st[i]) && st[i] !== 0) out[a - 2] = Math.abs(st[i]);
  });
  return out;
}

type Node = OnnxModel['graph']['node'][number];

/** The factor after a Resize/Upsample with constant scales. */
function resized(model: OnnxModel, n: Node, f: Stride): Stride | undefined {
  const opset = model.opset('');
  const scalesAt = n.opType === 'Upsample' || opset < 11 ? 1 : 2;
  let scales = n.opType === 'Upsample' ? attrFloats(n, 'scales') : undefined;
  const name = n.input[scalesAt];
  if (!scales && name) {
    const t = model.constantValue(name);
    if (t && t.data.length >= 2) scales = numbersOf(t);
  }
  if (scales && scales.length >= 2) {
    const [sy, sx] = scales.slice(-2);
    if (sy > 0 && sx > 0) return [f[0] / sy, f[1] / sx];
  }
  return undefined;
}

/** The tensor whose Shape gives a Resize's sizes (F.interpolate(size=y.shape[-2:])), if any. */
function sizedLike(n: Node, producer: Map<string, Node>): string | undefined {
  if (n.opType !== 'Resize') return undefined;
  const sizes = n.input[3];
  if (!sizes) return undefined;
  const seen = new Set<string>();
  const stack = [sizes];
  while (stack.length && seen.size < 64) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = producer.get(t);
    if (!p) continue;
    if (p.opType === 'Shape') return p.input[0];
    stack.push(...p.input.filter(Boolean));
  }
  return undefined;
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}
