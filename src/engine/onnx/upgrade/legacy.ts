import { attr, attrFloat, attrFloats, attrInts, hasAttr } from '../attributes';
import { AttrType, NodeProto } from '../proto';
import { Adapter, UpgradeContext, withAttrs } from './types';

// Ops renamed or removed since opset 7, stale attributes of opset-6 files, and the
// experimental ops (ImageScaler, Crop, ...) of old Caffe2/CoreML conversions, which have no
// gradient rule and no schema at 16: each rewritten into standard ops.

const DATA_TYPES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
};

const node = (ctx: UpgradeContext, opType: string, input: string[], extra: Partial<NodeProto> = {}): NodeProto => ({
  opType, domain: '', name: ctx.node.name, input, output: [ctx.node.output[0]], attribute: [], ...extra,
});

const cast: Adapter = (ctx) => {
  const { node: n } = ctx;
  const to = n.attribute?.find((a) => a.name === 'to');
  if (to?.type !== AttrType.STRING) return [n];
  // Opset 1-5 named the type ("FLOAT"); from 6 it is the TensorProto code.
  const name = new TextDecoder().decode(to.s).toUpperCase();
  const code = DATA_TYPES[name];
  if (code === undefined) return ctx.fail(`Cast to '${name}'`);
  return [withAttrs(n, ['to'], { to: attr.int(code) })];
};

// Before 7, binary ops broadcast only with broadcast=1, aligning B at `axis` of A.
const binary: Adapter = (ctx) => {
  const { node: n } = ctx;
  if (!hasAttr(n, 'broadcast') && !hasAttr(n, 'axis')) return [n];
  if (hasAttr(n, 'axis')) return ctx.fail('legacy broadcasting along an axis (opset < 7)');
  return [withAttrs(n, ['broadcast'])];
};

const gemm: Adapter = (ctx) => [hasAttr(ctx.node, 'broadcast') ? withAttrs(ctx.node, ['broadcast']) : ctx.node];

const scatter: Adapter = (ctx) => [{ ...withAttrs(ctx.node, []), opType: 'ScatterElements' }];

const scan: Adapter = (ctx) => {
  if (ctx.from < 9) return ctx.fail('Scan-8 iterates over a batch axis that Scan-9 removed');
  return [ctx.node];
};

// 16 changed RoiAlign's default coordinate_transformation_mode to half_pixel.
const roiAlign: Adapter = (ctx) => {
  const { node: n } = ctx;
  if (ctx.from >= 16 || hasAttr(n, 'coordinate_transformation_mode')) return [n];
  return [withAttrs(n, [], { coordinate_transformation_mode: attr.str('output_half_pixel') })];
};

/** y = scale * x + bias[c] over (N, C, H, W). */
const imageScaler: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  const bias = attrFloats(n, 'bias') ?? [];
  const y = b.op('Mul', [n.input[0], b.f32(attrFloat(n, 'scale', 1))]);
  return [bias.length ? node(ctx, 'Add', [y, b.f32(bias, [bias.length, 1, 1])]) : node(ctx, 'Identity', [y])];
};

const scale: Adapter = (ctx) => [node(ctx, 'Mul', [ctx.node.input[0], ctx.b.f32(attrFloat(ctx.node, 'scale', 1))])];

const affine: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  return [node(ctx, 'Add', [b.op('Mul', [n.input[0], b.f32(attrFloat(n, 'alpha', 1))]), b.f32(attrFloat(n, 'beta', 0))])];
};

/** alpha * f(beta * x) for f = tanh or softplus. */
const scaled = (f: string, alpha0: number, beta0: number): Adapter => (ctx) => {
  const { node: n, b } = ctx;
  const inner = b.op(f, [b.op('Mul', [n.input[0], b.f32(attrFloat(n, 'beta', beta0))])]);
  return [node(ctx, 'Mul', [inner, b.f32(attrFloat(n, 'alpha', alpha0))])];
};

/** Crop of (N, C, H, W): border [left, top, right, bottom], or a [height, width] window at (top, left). */
const crop: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  const border = attrInts(n, 'border');
  if (!border || border.length !== 4) return ctx.fail('Crop without a 4-value border');
  const [left, top, right, bottom] = border;
  const size = attrInts(n, 'scale');
  const end = (from: number, drop: number, len?: number) => (len !== undefined ? from + len : drop > 0 ? -drop : 2 ** 62);
  const ends = [end(top, bottom, size?.[0]), end(left, right, size?.[1])];
  return [node(ctx, 'Slice', [n.input[0], b.i64([top, left]), b.i64(ends), b.i64([2, 3])])];
};

export const legacyAdapters: Record<string, Adapter> = {
  Cast: cast,
  ...Object.fromEntries(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less'].map((op) => [op, binary])),
  Gemm: gemm,
  Scatter: scatter,
  Scan: scan,
  RoiAlign: roiAlign,
  ImageScaler: imageScaler,
  Scale: scale,
  Affine: affine,
  ScaledTanh: scaled('Tanh', 1, 1),
  ParametricSoftplus: scaled('Softplus', 1, 1),
  Crop: crop,
};
