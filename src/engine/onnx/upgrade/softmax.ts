import { attr, attrInt } from '../attributes';
import { Adapter } from './types';

// Before 13, Softmax, LogSoftmax and Hardmax coerced the input to 2-D at `axis` (default 1)
// and normalised each row; from 13 they work along one axis. Flatten, apply, restore.
const coerced: Adapter = (ctx) => {
  const { node: n, b } = ctx;
  if (ctx.from >= 13) return [n];
  const axis = attrInt(n, 'axis', 1);
  const flat = b.op('Flatten', [n.input[0]], { axis: attr.int(axis) });
  const y = b.op(n.opType, [flat], { axis: attr.int(1) });
  return [{ opType: 'Reshape', domain: '', name: n.name, input: [y, b.shape(n.input[0])], output: [n.output[0]], attribute: [] }];
};

export const softmaxAdapters: Record<string, Adapter> = {
  Softmax: coerced,
  LogSoftmax: coerced,
  Hardmax: coerced,
};
