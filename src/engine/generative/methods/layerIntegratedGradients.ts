import { GradientMethod } from './types';

/**
 * Captum's LayerIntegratedGradients under LLMGradientAttribution: for each target token, the
 * integral of the gradient of log p(target_k | prompt, target_<k) along the straight line from
 * the baseline prompt's embeddings to the prompt's, times their difference, summed over the
 * embedding dimension. The earlier targets ride along unchanged, so their rows are cut. The
 * sequence attribution is the sum of the rows. (Runs through the engine's own LIG on a graph
 * that ends in the last position's log-softmax: attributeGeneration.ts.)
 */
export const layerIntegratedGradients: GradientMethod = {
  kind: 'gradient',
  info: {
    id: 'layer-integrated-gradients',
    captumName: 'LayerIntegratedGradients',
    perToken: true,
    defaults: { nSteps: 50, method: 'gausslegendre' },
    description: 'integrated gradients of each target token\'s log-probability at the word embeddings, baseline the pad (or eos) token',
  },
};
