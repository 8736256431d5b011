import { NodeProto } from '../proto';
import { attr, attrFloat, attrInt, attrInts, attrString, hasAttr } from '../attributes';
import { Adapter, UpgradeContext, inputAt, withAttrs } from './types';

// Attributes that became inputs: Slice (10), TopK (10), Clip and Pad (11), Dropout's ratio (12),
// Squeeze, Unsqueeze, ReduceSum and Split (13). The other Reduce* keep `axes` until 18.

const FLOAT = 1;
const BOOL = 9;

/** `key` (an int list attribute) moved to input `index` as an int64 constant. */
function intsToInput(key: string, index: number, since: number): Adapter {
  return (ctx) => {
    const { node: n, from } = ctx;
    const v = attrInts(n, key);
    if (from >= since || v === undefined) return [n];
    return [withAttrs(n, [key], {}, inputAt(n.input, index, ctx.b.i64(v)))];
  };
}

/** A float scalar of x's type: a plain float constant unless x is declared as another type. */
function scalarLike(ctx: UpgradeContext, x: string, value: number): string {
  const c = ctx.b.f32(value);
  const t = ctx.elemType(x);
  return t === undefined || t === FLOAT ? c : ctx.b.op('CastLike', [c, x]);
}

const slice: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  if (ctx.from >= 10) return [n];
  const starts = attrInts(n, 'starts'), ends = attrInts(n, 'ends'), axes = attrInts(n, 'axes');
  if (!starts || !ends) return ctx.fail('Slice without starts/ends attributes');
  const ins = [n.input[0], b.i64(starts), b.i64(ends)];
  if (axes) ins.push(b.i64(axes));
  return [withAttrs(n, ['starts', 'ends', 'axes'], {}, ins)];
};

const pad: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  if (ctx.from >= 11) return [n];
  const pads = attrInts(n, 'pads') ?? attrInts(n, 'paddings');
  if (!pads) return ctx.fail('Pad without a pads attribute');
  const mode = attrString(n, 'mode', 'constant');
  const value = attrFloat(n, 'value', 0);
  const ins = [n.input[0], b.i64(pads)];
  if (mode === 'constant' && value !== 0) ins.push(scalarLike(ctx, n.input[0], value));
  return [withAttrs(n, ['pads', 'paddings', 'value'], {}, ins)];
};

const clip: Adapter = (ctx) => {
  const { node: n } = ctx;
  if (ctx.from >= 11) return [n];
  // An absent bound stays an empty input: no clipping on that side, as before.
  const x = n.input[0];
  const lo = hasAttr(n, 'min') ? scalarLike(ctx, x, attrFloat(n, 'min', 0)) : '';
  const hi = hasAttr(n, 'max') ? scalarLike(ctx, x, attrFloat(n, 'max', 0)) : '';
  const ins = hi ? [x, lo, hi] : lo ? [x, lo] : [x];
  return [withAttrs(n, ['min', 'max'], {}, ins)];
};

const topK: Adapter = (ctx) => {
  const { node: n } = ctx;
  if (ctx.from >= 10) return [n];
  if (!hasAttr(n, 'k')) return ctx.fail('TopK without a k attribute');
  return [withAttrs(n, ['k'], {}, [n.input[0], ctx.b.i64([attrInt(n, 'k', 0)])])];
};

const dropout: Adapter = (ctx) => {
  const { node: n, b, from } = ctx;
  if (from >= 12) return [n];
  // Inference only: the ratio does not matter, and is_test (before 7) must not say training.
  if (n.attribute?.some((a) => a.name === 'is_test' && Number(a.i ?? 0) === 0)) return ctx.fail('Dropout in training mode (is_test=0)');
  const out = withAttrs(n, ['ratio', 'is_test'], {}, [n.input[0]]);
  out.output = [n.output[0]];
  const mask = n.output[1];
  if (!mask || !ctx.used(mask)) return [out];
  // onnxruntime's Dropout before 12 fills the inference mask with zeros (of X's type before
  // 10, false from 10), where 12 on fills it with true: keep what the forward session computes.
  const shape = b.shape(n.input[0]);
  const zeros: NodeProto =
    from < 10
      ? { opType: 'CastLike', domain: '', name: b.fresh('dropout_mask'), input: [b.op('ConstantOfShape', [shape]), n.input[0]], output: [mask], attribute: [] }
      : { opType: 'ConstantOfShape', domain: '', name: b.fresh('dropout_mask'), input: [shape], output: [mask], attribute: [{ ...attr.tensor({ dims: [1], dataType: BOOL, int32Data: [0] }), name: 'value' }] };
  return [out, zeros];
};

export const inputAdapters: Record<string, Adapter> = {
  Slice: slice,
  Pad: pad,
  Clip: clip,
  TopK: topK,
  Dropout: dropout,
  Squeeze: intsToInput('axes', 1, 13),
  Unsqueeze: intsToInput('axes', 1, 13),
  ReduceSum: intsToInput('axes', 1, 13),
  Split: intsToInput('split', 1, 13),
};
