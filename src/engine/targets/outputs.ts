import { AttrLensError } from '../core/errors';
import { readPreprocessFile } from '../inputs/preprocess';
import { LoadedModel } from '../model/loadedModel';
import { outputActivation } from '../onnx/outputKind';
import { OutputKind, OutputKindName, OutputSettings, TargetKind } from './types';

export { validateOutputSettings } from './settings';

/** The `output` settings of the model's `<model>.attrlens.json` ({} when there are none). */
export function outputSettingsOf(lm: LoadedModel): OutputSettings {
  if (!lm.file) return {};
  return readPreprocessFile(lm.file)?.output ?? {};
}

/**
 * What an output is: a kind's own `recognise` first (detection heads), then the settings' `kind`,
 * then the shape: [1,C] classification, [1,C,H,W] (H, W > 1) dense, [1,T,V] sequence. A sequence
 * read from an image (a recogniser) is decoded CTC-style with blank 0 unless the settings say.
 */
export function recogniseOutput(lm: LoadedModel, output: string, dims: number[], kinds: readonly TargetKind[], settings = outputSettingsOf(lm)): OutputKind {
  const activation = outputActivation(lm.model, output);
  for (const k of kinds) {
    if (settings.kind && settings.kind !== 'detection') break;
    const r = k.recognise?.(lm, output, dims, settings);
    if (r) return r;
  }
  const withDefaults = (kind: OutputKindName, why: string): OutputKind => {
    const s: OutputSettings = { ...settings };
    if (kind === 'sequence') {
      const image = lm.inputs.some((i) => i.dtype === 'float32' && i.dims.length === 4);
      s.decode ??= image ? 'ctc' : 'argmax';
      if (s.decode === 'ctc') s.blank ??= 0;
    }
    return { kind, output, dims, activation, why, settings: s };
  };
  if (settings.kind) {
    const need: Partial<Record<OutputKindName, number[]>> = { dense: [3, 4], sequence: [3], classification: [2, 3, 4] };
    if (need[settings.kind] && !need[settings.kind]!.includes(dims.length)) {
      throw new AttrLensError(`${lm.label}: the config says output '${output}' is ${settings.kind}, but it has shape [${dims}]; ${settings.kind} outputs are ${settings.kind === 'dense' ? '[1,C,H,W] or [1,H,W]' : settings.kind === 'sequence' ? '[1,T,V]' : '[1,C]'}`);
    }
    return withDefaults(settings.kind, 'model.attrlens.json');
  }
  if (dims.length === 2) return withDefaults('classification', `shape [${dims}]`);
  if (dims.length === 4 && dims[2] > 1 && dims[3] > 1) return withDefaults('dense', `shape [${dims}]`);
  if (dims.length === 4 && dims[2] === 1 && dims[3] === 1) return withDefaults('classification', `shape [${dims}]`);
  if (dims.length === 3 && dims[1] > 1) return withDefaults('sequence', `shape [${dims}]`);
  return withDefaults('other', `shape [${dims}]`);
}

/** Dense outputs as [C, H, W] (a [1,H,W] map is one channel). */
export function denseShape(dims: number[]): [number, number, number] {
  return dims.length === 3 ? [1, dims[1], dims[2]] : [dims[1], dims[2], dims[3]];
}
