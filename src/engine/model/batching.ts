// Whether a model batches: dimension 0 made symbolic (or kept, when it is) and checked against
// single runs, which also records every tensor's shape at batch 1 and 2 in one probe session.
import { hasSymbolicBatch, makeBatchSymbolic } from '../onnx/batch';
import { OnnxModel } from '../onnx/model';
import { RuntimeOptions } from '../runtime/session';
import { Tensor, concatRows } from '../core/tensor';
import { Probe, ShapeInfo, openProbe, outputsAgree } from './probe';

export interface BatchChoice {
  /** the rewritten model that batches */
  model: OnnxModel;
  /** which rewrite: 'native' (already symbolic), 'dims' or 'repaired' */
  variant: string;
  /** the probe's shapes for `feeds` (dims2 at batch 2) */
  shapes: ShapeInfo;
  feeds: Record<string, Tensor>;
}

/** The first batch rewrite whose batch of 2 gives the two single runs' outputs; undefined: batch 1 only. */
export async function chooseBatching(model: OnnxModel, options: RuntimeOptions, label: string, outputs: string[], example: (variant: number) => Record<string, Tensor>): Promise<BatchChoice | undefined> {
  for (const [variant, make] of candidates(model)) {
    const m = make();
    let p: Probe | undefined;
    try {
      p = await openProbe(m, options, label);
      const a = example(1);
      const b = example(2);
      const both: Record<string, Tensor> = {};
      for (const k of Object.keys(a)) both[k] = concatRows([a[k], b[k]]);
      const [ra, rb, rab] = [await p.run(a), await p.run(b, outputs), await p.run(both)];
      if (outputsAgree(outputs, ra, rb, rab)) {
        const shapes = p.shapes(a, ra);
        shapes.dims2 = p.shapes(both, rab).dims;
        return { model: m, variant, shapes, feeds: a };
      }
    } catch {
      // this rewrite does not load or run: try the next, then stay at batch 1
    } finally {
      await p?.release();
    }
  }
  return undefined;
}

function candidates(model: OnnxModel): Array<[string, () => OnnxModel]> {
  return hasSymbolicBatch(model)
    ? [['native', () => model]]
    : [['dims', () => makeBatchSymbolic(model, false)], ['repaired', () => makeBatchSymbolic(model, true)]];
}

/** The model of a batch rewrite chosen earlier (a decision kept on disk); undefined: not a candidate for this model. */
export function batchVariant(model: OnnxModel, variant: string): OnnxModel | undefined {
  return candidates(model).find(([v]) => v === variant)?.[1]();
}
