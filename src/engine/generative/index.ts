export * from './attributeGeneration';
export { Decoder, causalLmOf, presentOutputs, requireCausalLm, lmFeeds, targetLogProbs, nextTokenLogits, logSoftmax } from './causalLm';
export type { CausalLmIO } from './causalLm';
export { lmConfig, lmTokenizerFor } from './lmTokenizer';
export type { LmConfig, LmTokenizer } from './lmTokenizer';
export type { PromptGranularity, TemplateSpec } from './features';
export { generativeMethods, generativeMethod } from './methods/registry';
