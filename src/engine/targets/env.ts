import { LoadedModel } from '../model/loadedModel';
import { discoverDictionary } from '../onnx/labels';
import { Tensor } from '../core/tensor';
import { recogniseOutput } from './outputs';
import { listTargetKinds, listTargets } from './registry';
import { OutputKind, TargetEnv, TargetItem } from './types';

/** The output's kind from its batch-1 dims (shapes, names, metadata, the config's `output`). */
export function outputKindOf(lm: LoadedModel, output: string, dims: number[]): OutputKind {
  return recogniseOutput(lm, output, dims, listTargetKinds());
}

/**
 * What targets are resolved against: the output's kind and the clean forward values of every
 * output. A sequence output's labels are its dictionary when one is found (discoverDictionary).
 */
export async function targetEnv(lm: LoadedModel, feeds: Record<string, Tensor>, input: string, output: string, labels: string[] | undefined, opts: { clean?: Record<string, Tensor>; signal?: AbortSignal } = {}): Promise<TargetEnv> {
  const clean = opts.clean ?? (await lm.forward(feeds, lm.outputs.map((o) => o.name), { signal: opts.signal }));
  const kind = outputKindOf(lm, output, clean[output].dims);
  if (kind.kind === 'sequence') {
    const dict = discoverDictionary(lm.model, kind.dims[2], kind.settings.dictionary);
    if (dict) {
      labels = dict.labels;
      kind.settings = { ...kind.settings, dictionary: dict.source };
    }
  }
  return { lm, input, inputDims: feeds[input].dims, output, kind, clean, labels };
}

/** What can be targeted on the env's output, by list ('regions', 'steps', ...). */
export function targetLists(env: TargetEnv): Record<string, TargetItem[]> {
  return listTargets(env);
}
