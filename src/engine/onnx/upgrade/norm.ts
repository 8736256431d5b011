import { attrFloat, attrInt } from '../attributes';
import { Adapter } from './types';

// BatchNormalization: `is_test` and `consumed_inputs` went at 6-7, `spatial` at 9; outputs 2-5
// (running and saved statistics, training only) at 14.

const batchNorm: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  if (n.attribute?.some((a) => a.name === 'is_test' && Number(a.i ?? 0) === 0)) return ctx.fail('BatchNormalization in training mode (is_test=0)');
  const extra = n.output.slice(1).filter((o) => o && ctx.used(o));
  if (extra.length) return ctx.fail(`BatchNormalization's training outputs (${extra.join(', ')}) are read by the graph`);
  const y = n.output[0];
  if (attrInt(n, 'spatial', 1) === 0) {
    // Statistics per activation (C x D1 x ...): numpy broadcasting over (N, C, D1, ...) applies them.
    const [x, scale, bias, mean, variance] = n.input;
    const rstd = b.op('Sqrt', [b.op('Add', [variance, b.f32(attrFloat(n, 'epsilon', 1e-5))])]);
    const xhat = b.op('Div', [b.op('Sub', [x, mean]), rstd]);
    return [{ opType: 'Add', domain: '', name: n.name, input: [b.op('Mul', [xhat, scale]), bias], output: [y], attribute: [] }];
  }
  const kept = (n.attribute ?? []).filter((a) => !['is_test', 'consumed_inputs', 'spatial'].includes(a.name ?? ''));
  return [{ ...n, input: [...n.input], output: [y], attribute: kept }];
};

export const normAdapters: Record<string, Adapter> = {
  BatchNormalization: batchNorm,
};
