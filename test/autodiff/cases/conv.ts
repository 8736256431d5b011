import { Attrs } from '../../../src/engine/onnx/attributes';
import { FdCase } from '../fd';
import { attr, randConst } from './util';

interface ConvSpec {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  attrs?: Attrs;
  op?: 'Conv' | 'ConvTranspose';
}

const conv = (s: ConvSpec): FdCase => ({
  name: `${s.op ?? 'Conv'} ${s.name}`,
  inputs: { x: { dims: s.x } },
  build: (b, x) => {
    const w = randConst(b, s.w, `${s.name}-w`);
    const biasLen = (s.op === 'ConvTranspose' ? s.w[1] * ((s.attrs?.group?.i as number) ?? 1) : s.w[0]);
    const ins = [x.x, w, ...(s.bias ? [randConst(b, [biasLen], `${s.name}-b`)] : [])];
    return b.op(s.op ?? 'Conv', ins, s.attrs ?? {});
  },
});

export const convCases: FdCase[] = [
  conv({ name: '3x3 pads 1 with bias', x: [1, 2, 6, 6], w: [3, 2, 3, 3], bias: true, attrs: { pads: attr.ints([1, 1, 1, 1]) } }),
  conv({
    name: 'group 2, dilation 2, stride 2, pads [1,0,2,1]',
    x: [1, 4, 9, 8],
    w: [4, 2, 3, 3],
    attrs: { group: attr.int(2), dilations: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([1, 0, 2, 1]) },
  }),
  conv({ name: 'stride 2 with ignored trailing rows', x: [1, 2, 10, 9], w: [2, 2, 3, 2], bias: true, attrs: { strides: attr.ints([2, 3]) } }),
  conv({ name: 'auto_pad SAME_UPPER stride 2', x: [1, 2, 7, 6], w: [3, 2, 3, 3], attrs: { auto_pad: attr.str('SAME_UPPER'), strides: attr.ints([2, 2]) } }),
  conv({ name: 'auto_pad SAME_LOWER stride 2', x: [1, 2, 7, 6], w: [3, 2, 4, 3], attrs: { auto_pad: attr.str('SAME_LOWER'), strides: attr.ints([2, 2]) } }),
  conv({ name: 'auto_pad VALID', x: [1, 2, 6, 5], w: [2, 2, 3, 2], bias: true, attrs: { auto_pad: attr.str('VALID') } }),
  conv({ name: 'depthwise (group = C)', x: [1, 3, 6, 6], w: [3, 1, 3, 3], attrs: { group: attr.int(3), pads: attr.ints([1, 1, 1, 1]) } }),
  conv({ name: '1-D stride 2 pads [2,1] dilation 2', x: [1, 2, 11], w: [3, 2, 3], bias: true, attrs: { strides: attr.ints([2]), pads: attr.ints([2, 1]), dilations: attr.ints([2]) } }),
  conv({ name: '1x1 pointwise', x: [1, 4, 3, 3], w: [2, 4, 1, 1] }),
  conv({ name: '1x1 stride 2 (odd size, ResNet shortcut)', x: [1, 4, 7, 6], w: [3, 4, 1, 1], attrs: { strides: attr.ints([2, 2]) } }),
  conv({ name: '1x1 stride 2 group 2', x: [1, 4, 6, 6], w: [4, 2, 1, 1], attrs: { strides: attr.ints([2, 2]), group: attr.int(2) } }),
  conv({ name: '1x1 stride 2 with end pads (dY longer than ceil(x/2))', x: [1, 3, 6, 7], w: [2, 3, 1, 1], attrs: { strides: attr.ints([2, 2]), pads: attr.ints([0, 0, 1, 2]) } }),
  conv({ name: '1x1 stride 2 begin pads (no polyphase: ConvTranspose)', x: [1, 2, 6, 6], w: [2, 2, 1, 1], attrs: { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 0, 0]) } }),
  conv({ name: '5x5 stride 3 asymmetric pads', x: [1, 2, 14, 13], w: [3, 2, 5, 5], bias: true, attrs: { strides: attr.ints([3, 3]), pads: attr.ints([2, 1, 0, 2]) } }),
  conv({ name: 'depthwise 3x3 stride 2 pads 1 (MobileNet)', x: [1, 4, 8, 9], w: [4, 1, 3, 3], attrs: { group: attr.int(4), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) } }),
  conv({ name: '3x3 stride 2 pads 1 even size (no crop)', x: [1, 3, 8, 8], w: [5, 3, 3, 3], attrs: { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) } }),
  conv({ name: '7x7 stride 2 pads 3 (ResNet stem)', x: [1, 3, 13, 12], w: [4, 3, 7, 7], attrs: { strides: attr.ints([2, 2]), pads: attr.ints([3, 3, 3, 3]) } }),
  conv({ op: 'ConvTranspose', name: 'stride 2 pads 1 output_padding 1', x: [1, 2, 4, 3], w: [2, 3, 3, 3], bias: true, attrs: { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), output_padding: attr.ints([1, 1]) } }),
  conv({ op: 'ConvTranspose', name: 'group 2, stride [2,1], asymmetric pads', x: [1, 4, 3, 4], w: [4, 1, 3, 2], attrs: { group: attr.int(2), strides: attr.ints([2, 1]), pads: attr.ints([0, 1, 2, 0]) } }),
  conv({ op: 'ConvTranspose', name: 'dilation 2', x: [1, 2, 3, 3], w: [2, 2, 2, 2], bias: true, attrs: { dilations: attr.ints([2, 2]) } }),
  conv({ op: 'ConvTranspose', name: '1-D stride 3', x: [1, 2, 4], w: [2, 1, 4], attrs: { strides: attr.ints([3]) } }),
  conv({ op: 'ConvTranspose', name: 'auto_pad SAME_UPPER stride 2', x: [1, 2, 3, 3], w: [2, 2, 3, 3], attrs: { auto_pad: attr.str('SAME_UPPER'), strides: attr.ints([2, 2]) } }),
  conv({ op: 'ConvTranspose', name: 'output_shape', x: [1, 2, 3, 3], w: [2, 2, 3, 3], attrs: { output_shape: attr.ints([8, 7]), strides: attr.ints([2, 2]) } }),
];
