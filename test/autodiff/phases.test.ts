// Strided convolutions that share an input (a ResNet stage's 3x3 and 1x1 shortcut): their
// polyphase gradients are summed before one DepthToSpace and taken back into the blocked layout
// by an identity Conv; with C a multiple of 8, each phase has its own exact sub-kernel. Checked against finite differences and against ConvTranspose, the
// plain adjoint, on odd sizes, padding, groups and strides 2 and 3.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FdCase, checkCase, fixedGradients, makeModel, rng } from './fd';
import { attr, randConst } from './cases/util';
import { buildGradient } from '../../src/engine/autodiff/builder';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Session } from '../../src/engine/runtime/session';
import { Tensor, sizeOf } from '../../src/engine/core/tensor';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { windowOf } from '../../src/engine/onnx/window';
import { transposeFit } from '../../src/engine/autodiff/rules/convUtil';
import { PHASE_IDENTITY } from '../../src/engine/autodiff/rules/conv';

interface Branch {
  w: number[];
  stride: number;
  pads?: number[];
  group?: number;
}
interface Stage {
  name: string;
  x: number[];
  branches: Branch[];
  /** DepthToSpace nodes expected (default 1): grouped 1x1 phases are channel-major, the others phase-major */
  interleaves?: number;
}

const convAttrs = (br: Branch) => ({
  strides: attr.ints([br.stride, br.stride]),
  pads: attr.ints(br.pads ?? [0, 0, 0, 0]),
  group: attr.int(br.group ?? 1),
  kernel_shape: attr.ints(br.w.slice(2)),
});

// Tanh first: the convolutions' input is then not a graph input, as inside a network.
const stageCase = (s: Stage): FdCase => ({
  name: s.name,
  inputs: { x: { dims: s.x } },
  build: (b, x) => {
    const t = b.op('Tanh', [x.x]);
    const ys = s.branches.map((br, i) => b.op('Conv', [t, randConst(b, br.w, `${s.name}-w${i}`)], convAttrs(br)));
    return ys.length === 1 ? ys[0] : b.op('Sum', ys);
  },
});

const stages: Stage[] = [
  { name: '3x3 s2 p1 + 1x1 s2, even size', x: [1, 8, 8, 8], branches: [{ w: [16, 8, 3, 3], stride: 2, pads: [1, 1, 1, 1] }, { w: [16, 8, 1, 1], stride: 2 }] },
  { name: '3x3 s2 p1 + 1x1 s2, odd sizes', x: [1, 8, 9, 7], branches: [{ w: [16, 8, 3, 3], stride: 2, pads: [1, 1, 1, 1] }, { w: [16, 8, 1, 1], stride: 2 }] },
  { name: '3x3 s2 p1 alone', x: [1, 16, 7, 10], branches: [{ w: [8, 16, 3, 3], stride: 2, pads: [1, 1, 1, 1] }] },
  { name: '1x1 s2 alone, end pads', x: [1, 8, 6, 7], branches: [{ w: [4, 8, 1, 1], stride: 2, pads: [0, 0, 1, 2] }] },
  { name: '7x7 s2 p3 + 1x1 s2', x: [1, 8, 13, 12], branches: [{ w: [8, 8, 7, 7], stride: 2, pads: [3, 3, 3, 3] }, { w: [8, 8, 1, 1], stride: 2 }] },
  { name: '5x5 s3 pads 2 + 1x1 s3', x: [1, 8, 14, 13], branches: [{ w: [8, 8, 5, 5], stride: 3, pads: [2, 2, 2, 2] }, { w: [8, 8, 1, 1], stride: 3 }] },
  { name: 'groups: 3x3 s2 group 2 + 1x1 s2 group 4', x: [1, 16, 9, 9], branches: [{ w: [8, 8, 3, 3], stride: 2, pads: [1, 1, 1, 1], group: 2 }, { w: [8, 4, 1, 1], stride: 2, group: 4 }], interleaves: 2 },
  { name: '3x3 s2 pads [1,0,2,2] (dY longer than the phases)', x: [1, 8, 7, 8], branches: [{ w: [8, 8, 3, 3], stride: 2, pads: [1, 0, 2, 2] }] },
  { name: '2x2 s3 (empty phases: one shared-kernel Conv) + 1x1 s3', x: [1, 8, 9, 9], branches: [{ w: [8, 8, 2, 2], stride: 3 }, { w: [8, 8, 1, 1], stride: 3 }] },
  { name: 'three branches: two 3x3 s2 and a 1x1 s2', x: [1, 8, 10, 11], branches: [{ w: [8, 8, 3, 3], stride: 2, pads: [1, 1, 1, 1] }, { w: [8, 8, 3, 3], stride: 2, pads: [1, 1, 1, 1] }, { w: [8, 8, 1, 1], stride: 2 }] },
];

/** sum over branches of ConvTranspose(v_i, W_i), times tanh'(x): the same gradient written plainly. */
async function plainGradient(s: Stage, x: Tensor, seeds: Tensor[]): Promise<Float32Array> {
  const model = OnnxModel.empty(17, 8);
  const b = new GraphBuilder(model, 'ref');
  b.addInput('x', 1, x.dims);
  const xs = x.dims.slice(2);
  const dxs = s.branches.map((br, i) => {
    b.addInput(`v${i}`, 1, seeds[i].dims);
    const nodeLike = { opType: 'Conv', input: [], output: [], attribute: Object.entries(convAttrs(br)).map(([name, a]) => ({ ...a, name })) };
    const win = windowOf(nodeLike, xs, br.w.slice(2));
    const fit = transposeFit(win, xs, seeds[i].dims.slice(2));
    let d = b.op('ConvTranspose', [`v${i}`, randConst(b, br.w, `${s.name}-w${i}`)], { ...convAttrs(br), output_padding: attr.ints(fit.outputPadding) });
    if (fit.crop) d = b.slice(d, [0, 0], xs, [2, 3]);
    return d;
  });
  const t = b.op('Tanh', ['x']);
  const dt = b.op('Sub', [b.f32(1), b.op('Mul', [t, t])]);
  const out = b.op('Mul', [dxs.length === 1 ? dxs[0] : b.op('Sum', dxs), dt]);
  b.addOutput(out, 1);
  const sess = await Session.create(model.toBytes());
  try {
    const r = await sess.run({ x, ...Object.fromEntries(seeds.map((v, i) => [`v${i}`, v])) }, [out]);
    return r[out].data as Float32Array;
  } finally {
    await sess.release();
  }
}

const randTensor = (dims: number[], seed: string): Tensor => {
  const r = rng(seed);
  return { dtype: 'float32', dims, data: Float32Array.from({ length: sizeOf(dims) }, () => 2 * r() - 1) };
};

for (const s of stages) {
  const c = stageCase(s);
  test(`FD: strided stage ${s.name}`, async () => void (await checkCase(c)));
  test(`strided stage ${s.name}: equals the ConvTranspose adjoint, through one DepthToSpace and an identity Conv`, async () => {
    const x = randTensor(s.x, `${s.name}|x`);
    // the sum's seed splits into the same seed per branch; with one branch the output is that conv
    const { model, output } = makeModel(c);
    const ySizes = s.branches.map((br) => s.x.slice(2).map((n, i) => Math.floor((n + (br.pads ?? [0, 0, 0, 0])[i] + (br.pads ?? [0, 0, 0, 0])[i + 2] - br.w[2 + i]) / br.stride) + 1));
    const yDims = [1, s.branches[0].w[0], ...ySizes[0]];
    const seed = randTensor(yDims, `${s.name}|seed`);
    const got = (await fixedGradients(c, { x }, seed)).x.data as Float32Array;
    const want = await plainGradient(s, x, s.branches.map(() => seed));
    let worst = 0, scale = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    assert.ok(worst <= 1e-5 * Math.max(1, scale), `${s.name}: max |diff| ${worst} (scale ${scale})`);
    // the structure under test: one interleave for all branches, then the identity Conv
    const lm = await LoadedModel.fromModel(model);
    const prog = buildGradient(lm.forwardModel, { output, wrt: ['x'] }, await lm.shapes({ x }));
    const bwd = prog.model.graph.node.filter((n) => n.name?.startsWith('/grad/'));
    assert.equal(bwd.filter((n) => n.opType === 'DepthToSpace').length, s.interleaves ?? 1, 'DepthToSpace nodes');
    assert.equal(bwd.filter((n) => n.opType === 'Conv' && n.input[1]?.includes(PHASE_IDENTITY)).length, s.interleaves ?? 1, 'identity Convs');
  });
}
