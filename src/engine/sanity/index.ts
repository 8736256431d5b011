// Sanity checks for attribution maps (Adebayo et al. 2018): cascading weight randomisation.
export { sanityCheck, SANITY_THRESHOLDS, type SanityRequest, type SanityResult, type SanityStep, type SanityProgress, type SanityOptions } from './check';
export { parametrisedLayers, randomizedModel, initValues, type ParamLayer, type ParamInit } from './randomize';
export { spearman, ranks, ssim, normalize01, toMap2D, compareMaps, SSIM_WINDOW, type Map2D } from './similarity';
