import { inputAdapters } from './inputs';
import { legacyAdapters } from './legacy';
import { normAdapters } from './norm';
import { resizeAdapters } from './resize';
import { softmaxAdapters } from './softmax';
import { Adapter } from './types';

function build(families: Array<Record<string, Adapter>>): Map<string, Adapter> {
  const m = new Map<string, Adapter>();
  for (const f of families) {
    for (const [op, adapter] of Object.entries(f)) {
      if (m.has(op)) throw new Error(`opset adapter for ${op} registered twice`);
      m.set(op, adapter);
    }
  }
  return m;
}

/**
 * One adapter per default-domain op whose signature or meaning changed between opset 7 and 16
 * (onnx/version_converter's non-trivial adapters, plus the experimental ops). Ops not listed
 * kept their meaning over that range (onnx's CompatibleAdapter) and pass through as they are.
 */
export const adapters: ReadonlyMap<string, Adapter> = build([inputAdapters, legacyAdapters, normAdapters, resizeAdapters, softmaxAdapters]);
