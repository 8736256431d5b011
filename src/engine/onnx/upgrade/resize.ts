import { attr, attrFloats, attrString } from '../attributes';
import { NodeProto } from '../proto';
import { Adapter, UpgradeContext } from './types';

// Upsample (7: scales attribute; 9-10: scales input) and Resize-10 both map output index o to
// source coordinate o / scale ("asymmetric"). Resize from 11 on says so explicitly, with an roi
// input (empty from 13) before the scales. Nearest rounds as onnxruntime does for these old
// ops: down (floor) on axes it enlarges, up (ceil) on axes it shrinks (Upsample never shrinks).

function resize(ctx: UpgradeContext, scales: string, rounding: 'floor' | 'ceil' = 'floor', x = ctx.node.input[0], y = ctx.node.output[0]): NodeProto {
  const { node: n } = ctx;
  const mode = attrString(n, 'mode', 'nearest');
  // cubic: not in Upsample's schema, but onnxruntime runs it (as Resize's cubic, a = -0.75)
  if (!['nearest', 'linear', 'bilinear', 'cubic'].includes(mode)) return ctx.fail(`${n.opType} mode '${mode}'`);
  const attrs = {
    mode: attr.str(mode === 'bilinear' ? 'linear' : mode),
    coordinate_transformation_mode: attr.str('asymmetric'),
    ...(mode === 'nearest' ? { nearest_mode: attr.str(rounding) } : {}),
  };
  return { opType: 'Resize', domain: '', name: n.name, input: [x, '', scales], output: [y], attribute: Object.entries(attrs).map(([name, a]) => ({ ...a, name })) };
}

const upsample: Adapter = (ctx) => {
  const { node: n } = ctx;
  if (n.input[1]) return [resize(ctx, n.input[1])];
  const scales = attrFloats(n, 'scales');
  if (!scales) return ctx.fail('Upsample without scales');
  return [resize(ctx, ctx.b.f32(scales, [scales.length]))];
};

const resize10: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  if (ctx.from >= 11) return [n];
  const scales = n.input[1];
  if (!scales) return ctx.fail('Resize without a scales input');
  if (attrString(n, 'mode', 'nearest') !== 'nearest') return [resize(ctx, scales)];
  const known = ctx.constant(scales);
  if (known && known.every((s) => s >= 1)) return [resize(ctx, scales, 'floor')];
  if (known && known.every((s) => s <= 1)) return [resize(ctx, scales, 'ceil')];
  // Axes that grow and axes that shrink (or scales known only at run time): nearest is
  // separable, so enlarge first (floor), then shrink (ceil), each leaving the other axes alone.
  const one = b.f32(1);
  const grown = b.fresh('resize_grown');
  const grow = resize(ctx, b.op('Max', [scales, one]), 'floor', n.input[0], grown);
  return [{ ...grow, name: b.fresh('resize_grow') }, resize(ctx, b.op('Min', [scales, one]), 'ceil', grown)];
};

export const resizeAdapters: Record<string, Adapter> = {
  Upsample: upsample,
  Resize: resize10,
};
