import { AttrLensError } from '../../core/errors';
import { featureAblation } from './featureAblation';
import { kernelShap } from './kernelShap';
import { layerIntegratedGradients } from './layerIntegratedGradients';
import { lime } from './lime';
import { shapleyValueSampling } from './shapleyValueSampling';
import { GenerativeMethod } from './types';

const METHODS = new Map<string, GenerativeMethod>([featureAblation, shapleyValueSampling, kernelShap, lime, layerIntegratedGradients].map((m) => [m.info.id, m]));

/** The methods that explain a generation, in Captum's order. */
export function generativeMethods(): GenerativeMethod[] {
  return [...METHODS.values()];
}

export function generativeMethod(id: string): GenerativeMethod {
  const m = METHODS.get(id);
  if (!m) throw new AttrLensError(`'${id}' cannot explain a generation; use one of ${[...METHODS.keys()].join(', ')}`);
  return m;
}
