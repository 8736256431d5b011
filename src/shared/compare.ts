// Compare Methods, shared by the palette command (host) and the panel (webview): which methods can
// be compared, in which order, under which label, and whether their maps may share a colour scale.
import type { MethodInfo } from './protocol';

/** The one label of the action, in the palette (package.nls.json's command title) and on the panel's button. */
export const COMPARE_LABEL = 'Compare Methods';

/** Maps of the input (CAM maps are upsampled to it): layer and neuron methods need a layer or a neuron. */
export function comparableMethods(methods: readonly MethodInfo[]): MethodInfo[] {
  return methods.filter((m) => m.family !== 'layer' && m.family !== 'neuron');
}

/** The ids of `wanted` that can be compared, in the method list's order, at most `max`. */
export function compareSet(methods: readonly MethodInfo[], wanted: readonly string[], max = 12): string[] {
  const set = new Set(wanted);
  return comparableMethods(methods).filter((m) => set.has(m.id)).map((m) => m.id).slice(0, max);
}

/**
 * What an attribution's values measure. Maps may share one colour scale only when this agrees:
 * a gradient (output per unit of input) and a contribution (output units) drawn on one scale leave
 * all but the largest map blank.
 */
export function attributionUnits(method: string): { key: string; what: string } {
  switch (method) {
    case 'saliency':
    case 'guided-backprop':
    case 'deconvolution':
      return { key: 'gradient', what: 'gradients (output per unit of input)' };
    case 'integrated-gradients':
    case 'input-x-gradient':
    case 'deeplift':
    case 'deeplift-shap':
    case 'gradient-shap':
    case 'lrp':
      return { key: 'contribution', what: 'per-pixel contributions to the output' };
    case 'occlusion':
    case 'feature-ablation':
    case 'feature-permutation':
    case 'shapley-value-sampling':
    case 'shapley-values':
    case 'kernel-shap':
    case 'lime':
      return { key: 'feature', what: 'output changes of the patch or feature around each pixel' };
    default:
      // CAMs (each normalised its own way), RISE, noise tunnels (their wrapped method's units, or squared)
      return { key: method, what: 'units of their own' };
  }
}

/**
 * Why the maps of these methods cannot share a colour scale (one line), or undefined when they can.
 * `name` gives the display name of a method id.
 */
export function sharedScaleRefusal(methods: readonly string[], name: (id: string) => string = (id) => id): string | undefined {
  const groups = new Map<string, string[]>();
  for (const m of methods) {
    const u = attributionUnits(m);
    groups.set(u.key, [...(groups.get(u.key) ?? []), m]);
  }
  if (groups.size <= 1) return undefined;
  const parts = [...groups.values()].map((ids) => `${ids.map(name).join(', ')}: ${attributionUnits(ids[0]).what}`);
  return `One scale needs maps in one unit; these differ (${parts.join('; ')}), so each map keeps its own scale.`;
}
