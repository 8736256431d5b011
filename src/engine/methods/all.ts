import { Method } from './base';
import { AblationCam } from './ablationCam';
import { FeaturePermutation } from './featurePermutation';
import { KernelShap } from './kernelShap';
import { Lime } from './lime';
import { Rise } from './rise';
import { DRise } from './drise';
import { ScoreCam } from './scoreCam';
import { ShapleyValueSampling } from './shapleyValueSampling';
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
import { GradCamPlusPlus, HiResCam, LayerCam, XGradCam } from './camVariants';
import { EigenCam } from './eigenCam';
import { GradientShap } from './gradientShap';
import { InternalInfluence } from './internalInfluence';
import { LayerActivation } from './layerActivation';
import { LayerConductance } from './layerConductance';
import { LayerGradientXActivation } from './layerGradientXActivation';
import { NeuronGradient } from './neuronGradient';
import { NeuronIntegratedGradients } from './neuronIntegratedGradients';
import { NoiseTunnel } from './noiseTunnel';
import { LayerDeepLift, LayerDeepLiftShap } from './layerDeepLift';
import { LayerFeatureAblation } from './layerFeatureAblation';
import { LayerFeaturePermutation } from './layerFeaturePermutation';
import { LayerGradientShap } from './layerGradientShap';
import { NeuronGradientShap } from './neuronGradientShap';
import { LayerLrp, Lrp } from './lrp';
import { NeuronConductance } from './neuronConductance';
import { NeuronDeepLift, NeuronDeepLiftShap } from './neuronDeepLift';
import { NeuronDeconvolution, NeuronGuidedBackprop } from './neuronGuided';
import { NeuronFeatureAblation } from './neuronFeatureAblation';
import { ShapleyValues } from './shapleyValues';

/** Every method, in the order pickers show them. Adding one here is all a method needs. */
export const allMethods: Method[] = [
  new IntegratedGradients(),
  new Saliency(),
  new InputXGradient(),
  new DeepLift(),
  new DeepLiftShap(),
  new GuidedBackprop(),
  new Deconvolution(),
  new Lrp(),
  new GradCam(),
  new GuidedGradCam(),
  new LayerIntegratedGradients(),
  new Occlusion(),
  new FeatureAblation(),
  new FeaturePermutation(),
  new ShapleyValueSampling(),
  new ShapleyValues(),
  new Lime(),
  new KernelShap(),
  new ScoreCam(),
  new AblationCam(),
  new Rise(),
  new DRise(),
  new NoiseTunnel(() => allMethods),
  new GradientShap(),
  new GradCamPlusPlus(),
  new HiResCam(),
  new XGradCam(),
  new LayerCam(),
  new EigenCam(),
  new LayerActivation(),
  new LayerGradientXActivation(),
  new LayerConductance(),
  new InternalInfluence(),
  new LayerLrp(),
  new LayerDeepLift(),
  new LayerDeepLiftShap(),
  new LayerFeatureAblation(),
  new LayerFeaturePermutation(),
  new LayerGradientShap(),
  new NeuronGradient(),
  new NeuronIntegratedGradients(),
  new NeuronConductance(),
  new NeuronDeepLift(),
  new NeuronDeepLiftShap(),
  new NeuronGuidedBackprop(),
  new NeuronDeconvolution(),
  new NeuronFeatureAblation(),
  new NeuronGradientShap(),
];
