import { Rng } from '../../methods/rng';

export type ParamValue = number | string;

/** What a perturbation method sees: presence vectors in, log-probabilities out. */
export interface PerturbContext {
  /** interpretable features of the prompt */
  features: number;
  /** target (generated) tokens */
  targets: number;
  /**
   * For each presence vector (1 = feature kept, 0 = its baseline): [log p(continuation),
   * log p(target_1 | …), …, log p(target_T | …)], as Captum's LLMAttribution forward returns.
   * Vectors are evaluated together, in batches.
   */
  evaluate(present: Uint8Array[]): Promise<Float64Array[]>;
  params: Record<string, ParamValue>;
  rng: Rng;
}

export interface GenerativeMethodInfo {
  id: string;
  captumName: string;
  /** Captum gives a token × prompt matrix (token_attr) besides the sequence attribution */
  perToken: boolean;
  /** parameters with their defaults (Captum's) */
  defaults: Record<string, ParamValue>;
  description: string;
}

export interface PerturbationMethod {
  kind: 'perturbation';
  info: GenerativeMethodInfo;
  /** rows of `features` scores: the sequence row, then one per target token when perToken */
  run(ctx: PerturbContext): Promise<Float64Array[]>;
}

export interface GradientMethod {
  kind: 'gradient';
  info: GenerativeMethodInfo;
}

export type GenerativeMethod = PerturbationMethod | GradientMethod;
