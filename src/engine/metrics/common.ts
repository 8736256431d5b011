import { AttrLensError } from '../core/errors';
import { LoadedModel } from '../model/loadedModel';
import { pick } from '../methods/base';
import { activationOf, softmaxRows } from '../methods/probability';
import { ImageLayout, channelSum, imageLayout, resizeBilinear } from '../methods/spatial';
import { Tensor, asFloat32, sizeOf } from '../core/tensor';

/** Which prediction a metric scores: output[:, target] of `output` (default the first) as a function of `input` (default the first float input). */
export interface MetricTarget {
  target: number;
  input?: string;
  output?: string;
  signal?: AbortSignal;
}

export interface ResolvedIO {
  input: string;
  output: string;
  x: Tensor;
}

export function resolveIO(lm: LoadedModel, feeds: Record<string, Tensor>, o: MetricTarget, metric: string): ResolvedIO {
  const input = o.input ?? (lm.inputs.find((i) => i.dtype === 'float32') ?? lm.inputs[0]).name;
  const x = feeds[input];
  if (!x) throw new AttrLensError(`${metric}: ${lm.label} has no fed input '${input}'`);
  if (x.dtype !== 'float32') throw new AttrLensError(`${metric} perturbs the input, but '${input}' is ${x.dtype}: it needs a float input`);
  if (x.dims[0] !== 1) throw new AttrLensError(`${metric}: input '${input}' has batch ${x.dims[0]}; evaluate one example at a time (batch 1)`);
  const output = o.output ?? lm.outputs[0].name;
  return { input, output, x };
}

/** output[:, target] (its probability with `probability`: the model's own when it ends in a softmax or sigmoid) for a batch of input rows. */
export async function targetOf(lm: LoadedModel, feeds: Record<string, Tensor>, io: ResolvedIO, rows: Tensor, o: MetricTarget, probability = false): Promise<Float64Array> {
  const res = await lm.forward({ ...feeds, [io.input]: rows }, [io.output], { signal: o.signal });
  const out = res[io.output];
  const classes = sizeOf(out.dims.slice(1));
  if (!Number.isInteger(o.target) || o.target < 0 || o.target >= classes) throw new AttrLensError(`target ${o.target} is outside the output's range 0..${classes - 1}`);
  return pick(probability ? { ...out, data: softmaxRows(out, activationOf(lm, io.output)) } : out, o.target);
}

/** Input rows (N, ...) built by `fill(i, row)` on copies of x. */
export function rowsFrom(x: Tensor, count: number, fill: (i: number, row: Float32Array) => void): Tensor {
  const per = sizeOf(x.dims.slice(1));
  const data = new Float32Array(per * count);
  const src = asFloat32(x);
  for (let i = 0; i < count; i++) {
    const row = data.subarray(i * per, (i + 1) * per);
    row.set(src);
    fill(i, row);
  }
  return { dtype: 'float32', dims: [count, ...x.dims.slice(1)], data };
}

/**
 * An attribution as one value per input pixel: input-shaped maps are summed over channels;
 * (1, 1, h, w) / (1, h, w) / (h, w) maps (CAM, RISE) are resized bilinearly to the input size.
 */
export function pixelMap(attr: Tensor, inputDims: readonly number[], layout?: 'NCHW' | 'NHWC'): { map: Float64Array; image: ImageLayout } {
  const image = imageLayout(inputDims, 'this metric', layout);
  const a = asFloat32(attr);
  if (a.length === sizeOf(inputDims) && sizeOf(attr.dims) === a.length && attr.dims.length === inputDims.length) return { map: channelSum(a, image), image };
  const d = attr.dims.filter((v, i) => !(v === 1 && i < attr.dims.length - 2));
  if (d.length === 2) return { map: resizeBilinear(a, d[0], d[1], image.h, image.w, false), image };
  throw new AttrLensError(`an attribution of shape [${attr.dims}] does not match the input [${inputDims}] and is not a (1, 1, h, w) map`);
}
