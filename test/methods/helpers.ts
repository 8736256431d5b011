// What the gradient and gradient-free method tests share: a one-input model, feeds, a run and
// comparisons.
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { attribute } from '../../src/engine/methods/registry';
import { AttributionResult } from '../../src/engine/methods/types';
import { Tensor } from '../../src/engine/core/tensor';
import { MethodContext, targetScores } from '../../src/engine/methods/base';
import { WindowGrid, windowAt } from '../../src/engine/methods/occlusionCrops';

/** A model with one float input `x` of dims ['N', ...rest]; `build` returns the output tensor. */
export async function model(rest: number[], build: (b: GraphBuilder) => string): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', ...rest]);
  b.addOutput(build(b), 1);
  return LoadedModel.fromModel(m);
}

export function feed(dims: number[], data: number[]): Record<string, Tensor> {
  return { x: { dtype: 'float32', dims, data: Float32Array.from(data) } };
}

export async function run(lm: LoadedModel, feeds: Record<string, Tensor>, method: string, target: number, params: Record<string, unknown> = {}): Promise<AttributionResult> {
  return attribute(lm, feeds, { method, target, params });
}

/** The single attribution tensor's values as numbers. */
export function values(r: AttributionResult): number[] {
  return Array.from(Object.values(r.attributions)[0].data as Float32Array);
}

export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    // the message lists every value: build it only on failure (large maps take seconds)
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}[${i}]: ${a} vs expected ${e} (tol ${tol})\nactual   ${Array.from(actual).map((v) => v.toFixed(6)).join(', ')}\nexpected ${Array.from(expected).map((v) => v.toFixed(6)).join(', ')}`);
    }
  }
}

/** Scores of every window set to `baseline` on whole images. */
export async function wholeScores(ctx: MethodContext, g: WindowGrid, baseline: Float32Array): Promise<number[]> {
  const x = ctx.feeds.x;
  const [, C, H, W] = x.dims;
  const per = C * H * W;
  const rows = new Float32Array(per * g.total);
  for (let k = 0; k < g.total; k++) {
    rows.set(x.data as Float32Array, k * per);
    const { start, len } = windowAt([C, H, W], g, k);
    for (let c = start[0]; c < start[0] + len[0]; c++)
      for (let y = start[1]; y < start[1] + len[1]; y++)
        for (let z = start[2]; z < start[2] + len[2]; z++) rows[k * per + (c * H + y) * W + z] = baseline[(c * H + y) * W + z];
  }
  return Array.from(await targetScores(ctx, { dtype: 'float32', dims: [g.total, C, H, W], data: rows }));
}
