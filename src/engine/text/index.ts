// Text models: token and word attributions for ONNX text classifiers.
export { attributeText, attributeTokens, tokenizerFor, fitLength, featureGroupsFor } from './attributeText';
export type { Granularity, TextAttributeRequest, TextAttributionResult, TextToken, TextWord, TokenSequence } from './attributeText';
export { textInputsOf, requireTextInputs, textFeeds, findWordEmbedding, type TextInputs, type WordEmbedding } from './textModel';
export { TextTokenizer, loadTokenizer, tokenizerFromJson, wordPieceFromVocab, TOKENIZER_FILES, type Encoded } from './tokenizer';
