// Pooling (Captum: MaxPool1d/2d/3d, AvgPool2d, AdaptiveAvgPool2d): the epsilon z-rule through
// the pool's own gradient (max: to the argmax; average: spread evenly). No parameters.
export const POOL_OPS: ReadonlySet<string> = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);
