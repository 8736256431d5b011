import { Method } from './base';
import { DeepLift, DeepLiftShap } from './deeplift';
import { FeatureAblation } from './featureAblation';
import { GradCam } from './gradcam';
import { Deconvolution, GuidedBackprop } from './guidedBackprop';
import { GuidedGradCam } from './guidedGradcam';
import { InputXGradient } from './inputXGradient';
import { IntegratedGradients } from './integratedGradients';
import { LayerIntegratedGradients } from './layerIntegratedGradients';
import { Occlusion } from './occlusion';
import { Saliency } from './saliency';

/** Every method, in the order pickers show them. Adding one here is all a method needs. */
export const allMethods: Method[] = [
  new IntegratedGradients(),
  new Saliency(),
  new InputXGradient(),
  new DeepLift(),
  new DeepLiftShap(),
  new GuidedBackprop(),
  new Deconvolution(),
  new GradCam(),
  new GuidedGradCam(),
  new LayerIntegratedGradients(),
  new Occlusion(),
  new FeatureAblation(),
];
