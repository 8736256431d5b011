// Faithfulness and localisation metrics for attributions, usable as a library and from the CLI.
export { infidelity, type InfidelityOptions } from './infidelity';
export { sensitivityMax, type SensitivityOptions } from './sensitivity';
export { deletionInsertion, trapezoid, gaussianBlur, type Curve, type DeletionInsertionOptions, type DeletionInsertionResult } from './deletionInsertion';
export { pointingGame, type PointingResult } from './pointingGame';
export { pixelMap, type MetricTarget } from './common';
