import { OnnxModel } from './model';
import { tensorToProto } from './tensorProto';

export const BATCH_DIM = 'N';

/**
 * Rewrites a model exported with a fixed batch of 1 so that dimension 0 of its inputs and
 * outputs is symbolic. With `repairReshapes`, Reshape shape constants starting with 1 get 0
 * there (copy the input's dimension), which repairs exports that baked the batch into them.
 * The caller must verify the result numerically: neither rewrite is valid for every graph.
 */
export function makeBatchSymbolic(src: OnnxModel, repairReshapes: boolean): OnnxModel {
  const m = src.clone();
  const g = m.graph;
  for (const vi of [...m.realInputs(), ...g.output]) {
    const dim = vi.type?.tensorType?.shape?.dim;
    if (dim && dim.length > 0) dim[0] = { dimParam: BATCH_DIM };
  }
  g.valueInfo = [];
  if (repairReshapes) {
    const rewritten = new Map<string, string>();
    for (const n of g.node) {
      if (n.opType !== 'Reshape' || n.input.length < 2) continue;
      const shapeName = n.input[1];
      const value = m.constantValue(shapeName);
      if (!value || value.dtype !== 'int64' || value.data.length < 2 || (value.data as BigInt64Array)[0] !== 1n) continue;
      let newName = rewritten.get(shapeName);
      if (!newName) {
        const data = BigInt64Array.from(value.data as BigInt64Array);
        data[0] = 0n;
        newName = `${shapeName}__batch0`;
        g.initializer.push(tensorToProto(newName, { dtype: 'int64', dims: value.dims, data }));
        rewritten.set(shapeName, newName);
      }
      n.input[1] = newName;
    }
  }
  return m;
}

/** Whether dimension 0 of every real input is already symbolic. */
export function hasSymbolicBatch(m: OnnxModel): boolean {
  return m.realInputs().every((vi) => {
    const d = vi.type?.tensorType?.shape?.dim?.[0];
    return !!d && !!d.dimParam;
  });
}
