// Captum's non-linear layers (ReLU, Tanh, Dropout) pass relevance through unchanged: the
// relevance was already multiplied by their output at the next layer's input.
export const PASS_THROUGH_OPS: ReadonlySet<string> = new Set(['Relu', 'Tanh', 'Dropout', 'Identity']);
