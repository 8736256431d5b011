// Values for parameters Captum requires but users rarely want to think about (vscode-free):
// an occlusion window of about 1/8 of the image on each side, over all channels, moved by half a
// window; a required layer: the layer picker's default for the method, else the last spatial
// (or token-grid) layer as for CAM, where a layer's map can be drawn, else the last layer it
// offers; a neuron: the most active unit of that layer for the image (the engine computes it);
// exact Shapley values: 4×4 patches (16 features), as 2^features runs forbid one per element.
import type { MethodInfo } from '../engine';
import { defaultCamLayer, layerChoices, type LayerLike } from '../shared/layerNames';
import type { ParamValue, ParamValues } from '../shared/protocol';

export interface SuggestContext {
  /** the model's layers as inspectModel lists them: a required layer left unset is one of these */
  layers?: readonly LayerLike[];
  /**
   * The neuronSelector to use for `layer` (its input when `toInput`), given the current value:
   * the host's proposal when `current` is unset, undefined while none is computed.
   */
  neuron?: (layer: string, toInput: boolean, current: ParamValue | undefined) => ParamValue | undefined;
}

const NEURON = 'neuronSelector';
const unset = (v: unknown) => v === undefined || v === null || v === '';

/** Fills required layers, the neuron and window/stride shapes left unset, for an image input of `dims` (NCHW or NHWC). */
export function withSuggestedDefaults(method: MethodInfo | undefined, params: ParamValues, dims: ReadonlyArray<number | string | null> | undefined, more: SuggestContext = {}): ParamValues {
  if (!method) return params;
  const out = { ...params };
  const layerParam = method.params.find((p) => p.kind === 'layer');
  if (layerParam?.required && unset(out[layerParam.name]) && more.layers) {
    const { layers, defaultLayer } = layerChoices(method.family, more.layers);
    const pick = defaultLayer ?? defaultCamLayer(layers) ?? layers[layers.length - 1]?.name;
    if (pick) out[layerParam.name] = pick;
  }
  const layer = layerParam && out[layerParam.name];
  if (method.params.some((p) => p.name === NEURON) && typeof layer === 'string' && layer && more.neuron) {
    const sel = more.neuron(layer, out.attributeToNeuronInput === true, unset(out[NEURON]) ? undefined : out[NEURON]);
    if (sel === undefined) delete out[NEURON];
    else out[NEURON] = sel;
  }
  return imageDefaults(method, out, dims);
}

/** What to ask the engine for when a neuron method has its layer but no neuronSelector. */
export function neuronToPropose(method: MethodInfo | undefined, params: ParamValues): { layer: string; toInput: boolean } | undefined {
  if (!method?.params.some((p) => p.name === NEURON) || !unset(params[NEURON])) return undefined;
  const layerParam = method.params.find((p) => p.kind === 'layer');
  const layer = layerParam && params[layerParam.name];
  return typeof layer === 'string' && layer ? { layer, toInput: params.attributeToNeuronInput === true } : undefined;
}

/** Panel parameter values → engine parameters: null and '' mean "use the default". */
export function engineParams(params: ParamValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== '') out[k] = v;
  return out;
}

function imageDefaults(method: MethodInfo, params: ParamValues, dims: ReadonlyArray<number | string | null> | undefined): ParamValues {
  if (!dims || dims.length !== 4 || !dims.every((d) => typeof d === 'number' && d > 0)) return params;
  if (method.id === 'shapley-values' && unset(params.featureMask)) params.featureMask = 'grid 4x4';
  const [, a, b, c] = dims as number[];
  const nhwc = c <= 4 && a > 4;
  const [ch, h, w] = nhwc ? [c, a, b] : [a, b, c];
  const out = params;
  const window = (p: { name: string }) => /window/i.test(p.name);
  const win = [ch, Math.max(1, Math.ceil(h / 8)), Math.max(1, Math.ceil(w / 8))];
  const order = (s: number[]) => (nhwc ? [s[1], s[2], s[0]] : s);
  let filled = false;
  for (const p of method.params) {
    if (p.kind === 'shape' && p.required && window(p) && (out[p.name] === undefined || out[p.name] === null)) {
      out[p.name] = order(win);
      filled = true;
    }
  }
  if (filled) {
    for (const p of method.params) {
      if (p.kind === 'shape' && /stride/i.test(p.name) && (out[p.name] === undefined || out[p.name] === null)) {
        out[p.name] = order([ch, Math.max(1, Math.ceil(win[1] / 2)), Math.max(1, Math.ceil(win[2] / 2))]);
      }
    }
  }
  return out;
}
