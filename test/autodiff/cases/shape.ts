import { FdCase } from '../fd';
import { attr } from './util';

// Data-movement ops. A Tanh after the op makes the output non-linear, so a gradient routed
// to the wrong element shows up even when the seed is symmetric.
const tanh = (b: Parameters<FdCase['build']>[0], t: string) => b.op('Tanh', [t]);

export const shapeCases: FdCase[] = [
  { name: 'Reshape with 0 and -1', inputs: { x: { dims: [1, 2, 3, 4] } }, build: (b, x) => tanh(b, b.op('Reshape', [x.x, b.i64([0, -1, 4])])) },
  { name: 'Flatten default axis', inputs: { x: { dims: [1, 2, 3, 4] } }, build: (b, x) => tanh(b, b.op('Flatten', [x.x])) },
  { name: 'Flatten axis 2 (fixed)', fixed: true, inputs: { x: { dims: [2, 2, 3, 4] } }, build: (b, x) => tanh(b, b.op('Flatten', [x.x], { axis: attr.int(2) })) },
  { name: 'Squeeze opset 11 (axes attribute)', opset: 11, inputs: { x: { dims: [1, 3, 1, 4] } }, build: (b, x) => tanh(b, b.op('Squeeze', [x.x], { axes: attr.ints([2]) })) },
  { name: 'Squeeze opset 13 (axes input)', opset: 13, inputs: { x: { dims: [1, 3, 1, 4] } }, build: (b, x) => tanh(b, b.op('Squeeze', [x.x, b.i64([-2])])) },
  { name: 'Unsqueeze opset 11 (axes attribute)', opset: 11, inputs: { x: { dims: [1, 3, 4] } }, build: (b, x) => tanh(b, b.op('Unsqueeze', [x.x], { axes: attr.ints([1, 4]) })) },
  { name: 'Unsqueeze opset 13 (axes input)', opset: 13, inputs: { x: { dims: [1, 3, 4] } }, build: (b, x) => tanh(b, b.op('Unsqueeze', [x.x, b.i64([-1])])) },
  { name: 'Transpose perm [0,2,3,1]', inputs: { x: { dims: [1, 2, 3, 4] } }, build: (b, x) => tanh(b, b.op('Transpose', [x.x], { perm: attr.ints([0, 2, 3, 1]) })) },
  { name: 'Transpose default perm (fixed)', fixed: true, inputs: { x: { dims: [2, 3, 4] } }, build: (b, x) => tanh(b, b.op('Transpose', [x.x])) },
  {
    name: 'Concat axis 1 of three inputs',
    inputs: { a: { dims: [1, 2, 3] }, b: { dims: [1, 1, 3] }, c: { dims: [1, 3, 3] } },
    build: (b, x) => tanh(b, b.op('Concat', [x.a, x.b, x.c], { axis: attr.int(1) })),
  },
  {
    name: 'Concat axis -1 with a constant (batch baked in)',
    unbatched: true,
    inputs: { a: { dims: [1, 2, 3] } },
    build: (b, x) => tanh(b, b.op('Concat', [x.a, b.f32([1, 2, 3, 4], [1, 2, 2]), x.a], { axis: attr.int(-1) })),
  },
  {
    name: 'Concat along the batch axis (dynamic offsets), regrouped per sample',
    inputs: { a: { dims: [1, 4] }, b: { dims: [1, 4] } },
    build: (b, x) => {
      const cat = b.op('Concat', [x.a, b.op('Mul', [x.b, x.b])], { axis: attr.int(0) });
      const grouped = b.op('Transpose', [b.reshape(cat, [2, -1, 4])], { perm: attr.ints([1, 0, 2]) });
      return tanh(b, grouped);
    },
  },
  {
    name: 'Split opset 11 (split attribute), middle output unused',
    opset: 11,
    inputs: { x: { dims: [1, 6, 2] } },
    build: (b, x) => {
      const [o0, , o2] = b.add('Split', [x.x], { axis: attr.int(1), split: attr.ints([2, 1, 3]) }, 3);
      return b.op('Concat', [tanh(b, o0), b.op('Mul', [o2, o2])], { axis: attr.int(1) });
    },
  },
  {
    name: 'Split opset 13 (split input) axis -1',
    opset: 13,
    inputs: { x: { dims: [1, 2, 5] } },
    build: (b, x) => {
      const [o0, o1] = b.add('Split', [x.x, b.i64([3, 2])], { axis: attr.int(-1) }, 2);
      return b.op('Concat', [tanh(b, o0), b.op('Mul', [o1, o1])], { axis: attr.int(-1) });
    },
  },
  {
    name: 'Split opset 13 default equal split',
    opset: 13,
    inputs: { x: { dims: [1, 6] } },
    build: (b, x) => {
      const [o0, o1, o2] = b.add('Split', [x.x], { axis: attr.int(1) }, 3);
      return b.op('Concat', [b.op('Mul', [o0, o1]), tanh(b, o2)], { axis: attr.int(1) });
    },
  },
  {
    name: 'Split opset 18 num_outputs 3 (uneven)',
    opset: 18,
    inputs: { x: { dims: [1, 7, 2] } },
    build: (b, x) => {
      const [o0, o1, o2] = b.add('Split', [x.x], { axis: attr.int(1), num_outputs: attr.int(3) }, 3);
      return b.op('Concat', [b.op('Mul', [o0, o1]), tanh(b, o2)], { axis: attr.int(1) });
    },
  },
  {
    name: 'Slice negative step with clamped end',
    inputs: { x: { dims: [1, 3, 7] } },
    build: (b, x) => tanh(b, b.slice(x.x, [5, 2], [-100, -100], [2, 1], [-2, -1])),
  },
  {
    name: 'Slice clamped end, negative start, steps 2 and 3',
    inputs: { x: { dims: [1, 5, 8] } },
    build: (b, x) => tanh(b, b.slice(x.x, [-4, 1], [1000, 1000], [1, -1], [2, 3])),
  },
  {
    name: 'Slice without axes or steps',
    inputs: { x: { dims: [1, 4, 3] } },
    build: (b, x) => tanh(b, b.op('Slice', [x.x, b.i64([0, 1, 1]), b.i64([1e9, 3, 3])])),
  },
  {
    name: 'Gather axis 1 with negative and repeated 2-D indices',
    inputs: { x: { dims: [1, 4, 3] } },
    build: (b, x) => tanh(b, b.op('Gather', [x.x, b.i64([0, -1, 2, 0, 3, -1], [2, 3])], { axis: attr.int(1) })),
  },
  {
    name: 'Gather axis -1 with a scalar index',
    inputs: { x: { dims: [1, 4, 3] } },
    build: (b, x) => tanh(b, b.op('Gather', [x.x, b.i64([-2], [])], { axis: attr.int(-1) })),
  },
  {
    name: 'Gather axis 0 with negative and repeated indices (fixed)',
    fixed: true,
    inputs: { x: { dims: [4, 3] } },
    build: (b, x) => tanh(b, b.op('Gather', [x.x, b.i64([1, -1, 1, 0])], { axis: attr.int(0) })),
  },
  {
    name: 'GatherElements axis 2 with repeated indices (indices fix the batch)',
    unbatched: true,
    inputs: { x: { dims: [1, 2, 4] } },
    build: (b, x) => tanh(b, b.op('GatherElements', [x.x, b.i64([0, 0, 3, -1, 2, 2, 1, 0, 3, 3, -4, 1], [1, 2, 6])], { axis: attr.int(2) })),
  },
  {
    name: 'GatherND (fixed)',
    fixed: true,
    inputs: { x: { dims: [3, 4, 2] } },
    build: (b, x) => tanh(b, b.op('GatherND', [x.x, b.i64([0, 1, 2, 3, 0, 1, 1, 0], [4, 2])])),
  },
  { name: 'Expand [N,3,1] to [1,3,4]', inputs: { x: { dims: [1, 3, 1] } }, build: (b, x) => tanh(b, b.op('Expand', [x.x, b.i64([1, 3, 4])])) },
  { name: 'Expand [3,1] to [2,3,4] (fixed, new axis)', fixed: true, inputs: { x: { dims: [3, 1] } }, build: (b, x) => tanh(b, b.op('Expand', [x.x, b.i64([2, 1, 4])])) },
  { name: 'Tile repeats [1,2,3]', inputs: { x: { dims: [1, 2, 3] } }, build: (b, x) => tanh(b, b.op('Tile', [x.x, b.i64([1, 2, 3])])) },
  { name: 'Tile repeats [2,3] (fixed)', fixed: true, inputs: { x: { dims: [2, 3] } }, build: (b, x) => tanh(b, b.op('Tile', [x.x, b.i64([2, 3])])) },
  {
    name: 'Pad constant opset 11 with negative pads',
    opset: 11,
    inputs: { x: { dims: [1, 2, 4, 5] } },
    build: (b, x) => tanh(b, b.op('Pad', [x.x, b.i64([0, 0, 1, -1, 0, 0, -1, 2]), b.f32(0.5)])),
  },
  {
    name: 'Pad reflect opset 11',
    opset: 11,
    inputs: { x: { dims: [1, 2, 4, 5] } },
    build: (b, x) => tanh(b, b.op('Pad', [x.x, b.i64([0, 0, 2, 1, 0, 0, 1, 3])], { mode: attr.str('reflect') })),
  },
  {
    name: 'Pad edge opset 13',
    opset: 13,
    inputs: { x: { dims: [1, 2, 3, 3] } },
    build: (b, x) => tanh(b, b.op('Pad', [x.x, b.i64([0, 0, 2, 0, 0, 0, 1, 3])], { mode: attr.str('edge') })),
  },
  {
    name: 'Pad constant opset 18 with axes input',
    opset: 18,
    inputs: { x: { dims: [1, 2, 3, 3] } },
    build: (b, x) => tanh(b, b.op('Pad', [x.x, b.i64([1, -1, 2, 1]), '', b.i64([-1, 2])])),
  },
  {
    name: 'Pad reflect opset 18 with axes input',
    opset: 18,
    inputs: { x: { dims: [1, 2, 4, 4] } },
    build: (b, x) => tanh(b, b.op('Pad', [x.x, b.i64([2, 1, 3, 2]), '', b.i64([2, 3])], { mode: attr.str('reflect') })),
  },
  {
    name: 'Pad wrap opset 19',
    opset: 19,
    inputs: { x: { dims: [1, 2, 3, 4] } },
    build: (b, x) => tanh(b, b.op('Pad', [x.x, b.i64([0, 0, 2, 1, 0, 0, 1, 3])], { mode: attr.str('wrap') })),
  },
];

const resize = (name: string, dims: number[], opset: number, mode: string, coord: string, scales: number[] | undefined, sizes: number[] | undefined, extra: Record<string, ReturnType<typeof attr.int>> = {}): FdCase => ({
  name: `Resize ${name}`,
  opset,
  inputs: { x: { dims } },
  build: (b, x) =>
    tanh(
      b,
      b.op('Resize', [x.x, opset < 13 ? b.f32([], [0]) : '', scales ? b.f32(scales) : '', ...(sizes ? [b.i64(sizes)] : [])], {
        mode: attr.str(mode),
        coordinate_transformation_mode: attr.str(coord),
        ...extra,
      }),
    ),
});

export const resizeCases: FdCase[] = [
  resize('nearest half_pixel x2 (scales)', [1, 2, 3, 4], 13, 'nearest', 'half_pixel', [1, 1, 2, 2], undefined),
  resize('nearest asymmetric floor x1.5 / x0.5', [1, 1, 4, 6], 13, 'nearest', 'asymmetric', [1, 1, 1.5, 0.5], undefined, { nearest_mode: attr.str('floor') }),
  { ...resize('nearest round_prefer_ceil sizes', [1, 2, 3, 5], 13, 'nearest', 'half_pixel', undefined, [1, 2, 7, 3], { nearest_mode: attr.str('round_prefer_ceil') }), unbatched: true },
  resize('nearest opset 11 asymmetric (roi input)', [1, 1, 3, 3], 11, 'nearest', 'asymmetric', [1, 1, 2, 3], undefined),
  resize('linear half_pixel x2 (scales)', [1, 2, 3, 4], 13, 'linear', 'half_pixel', [1, 1, 2, 2], undefined),
  { ...resize('linear align_corners sizes', [1, 2, 3, 4], 13, 'linear', 'align_corners', undefined, [1, 2, 5, 7]), unbatched: true },
  resize('linear align_corners x2.5 (scales)', [1, 2, 3, 4], 13, 'linear', 'align_corners', [1, 1, 2.5, 1.5], undefined),
  resize('linear pytorch_half_pixel downsample', [1, 1, 8, 6], 13, 'linear', 'pytorch_half_pixel', [1, 1, 0.5, 0.5], undefined),
  resize('linear asymmetric x1.7 non-integer scale', [1, 1, 3, 4], 13, 'linear', 'asymmetric', [1, 1, 1.7, 1.25], undefined),
  resize('linear half_pixel 1-D axis (3-D input)', [1, 2, 5], 13, 'linear', 'half_pixel', [1, 1, 1.6], undefined),
  resize('linear opset 18 axes [2,3] with scales', [1, 2, 3, 3], 18, 'linear', 'half_pixel', [2, 1.5], undefined, { axes: attr.ints([2, 3]) }),
  resize('linear opset 19 half_pixel_symmetric', [1, 1, 4, 5], 19, 'linear', 'half_pixel_symmetric', [1, 1, 1.5, 0.8], undefined),
  resize('linear on axis 1 of [N,C,H,W] (channel resize)', [1, 3, 2, 2], 13, 'linear', 'half_pixel', [1, 2, 1, 1], undefined),
];
