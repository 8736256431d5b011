// Messages between the extension host and the engine process (dist/engine.js).
// Every call has an id; the engine process answers with progress (zero or more) then one result or error.
import type {
  AttributeRequest, AttributionResult, MethodInfo, ModelInspection, Prediction, Tensor, TextAttributeRequest, TextAttributionResult,
} from '../../engine';
import type { DatasetReport } from '../../engine/dataset/types';
import type { GenerationAttributionResult, GenerationRequest } from '../../engine/generative';
import type { SanityRequest, SanityResult } from '../../engine/sanity';
import type { LoadInputsOptions, PreprocessConfig } from '../../engine/inputs';
import type { StructuredTargets } from '../../shared/protocol';

/** Runtime settings that select (and key) an onnxruntime session. */
export interface RuntimeSettings {
  /** intra-op threads; 0 lets onnxruntime choose */
  threads: number;
  /** 'cpu', 'cuda', 'dml' or 'coreml' */
  executionProvider: string;
}

export interface ModelRef {
  file: string;
  runtime: RuntimeSettings;
}

/** Pixels as the model sees them (after resize/crop), for overlays. */
export interface ImagePixels {
  width: number;
  height: number;
  rgba: Uint8Array;
  source: string;
}

export interface InputRef {
  /** path of an image (or other input file) the engine's loadInputs understands */
  file: string;
  /** preprocessing overrides (from `attributionLens.preprocessing`) */
  options?: LoadInputsOptions;
}

/** Every call the engine process serves: its arguments and its result. */
export interface EngineCalls {
  inspect: { args: { file: string }; result: ModelInspection };
  methods: { args: Record<string, never>; result: MethodInfo[] };
  /** the forward pass only; `preprocess` is how the image input was fed (the panel's editor shows it) */
  predict: { args: { model: ModelRef; input: InputRef }; result: { predictions: Prediction[]; image?: ImagePixels; preprocess?: PreprocessConfig; structured?: StructuredTargets } };
  attribute: {
    args: { model: ModelRef; input: InputRef; request: AttributeRequest; batchSize?: number };
    result: { result: AttributionResult; image?: ImagePixels };
  };
  /** the most active unit of a layer (or of its input) for the input: the neuronSelector the panel proposes */
  mostActiveNeuron: { args: { model: ModelRef; input: InputRef; layer: string; toInput?: boolean }; result: { selector: number[]; value: number } };
  /** whether a model takes token ids (the engine's requireTextInputs), and why not */
  textModel: { args: { model: ModelRef }; result: { text: true } | { text: false; reason: string } };
  /** top-5 predictions for `text`, fed exactly as attributeText feeds it */
  predictText: { args: { model: ModelRef; text: string }; result: { predictions: Prediction[] } };
  /** token and word attributions of `text` (tokenised with the tokenizer beside the model) */
  attributeText: {
    args: { model: ModelRef; text: string; request: TextAttributeRequest; batchSize?: number };
    result: TextAttributionResult;
  };
  /** predictions and scores over a labelled folder (the dataset view); no files written, no attributions */
  dataset: { args: { model: ModelRef; data: string; batchSize?: number; /** `attributionLens.preprocessing`, as InputRef.options gives it */ preprocess?: Partial<PreprocessConfig> }; result: DatasetReport };
  /** whether a model is a causal LM (the engine's requireCausalLm), and why not */
  lmModel: { args: { model: ModelRef }; result: { lm: true } | { lm: false; reason: string } };
  /** a generation (or given continuation) explained: Captum's LLMAttribution / LLMGradientAttribution */
  attributeGeneration: { args: { model: ModelRef; request: GenerationRequest }; result: GenerationAttributionResult };
  /** the weight-randomisation cascade of one method on the input (randomised models in memory only) */
  sanity: { args: { model: ModelRef; input: InputRef; request: SanityRequest; batchSize?: number }; result: SanityResult };
}
export type EngineMethod = keyof EngineCalls;

export type CallMessage = { [K in EngineMethod]: { type: 'call'; id: number; method: K; args: EngineCalls[K]['args'] } }[EngineMethod];
export interface CancelMessage {
  type: 'cancel';
  id: number;
}
export type ToEngine = CallMessage | CancelMessage;

export interface ProgressMessage {
  type: 'progress';
  id: number;
  done: number;
  total: number;
  phase?: string;
  /** partial attribution map so far (perturbation methods) */
  partial?: Tensor;
}
export interface ResultMessage {
  type: 'result';
  id: number;
  value: EngineCalls[EngineMethod]['result'];
}
export interface ErrorMessage {
  type: 'error';
  id: number;
  /** 'AttrLensError' for user errors, 'CancelledError' when cancelled, else an internal error */
  name: string;
  message: string;
  stack?: string;
}
export type FromEngine = ProgressMessage | ResultMessage | ErrorMessage;

/** Least time between two progress messages carrying a partial map (they can be large). */
export const PARTIAL_INTERVAL_MS = 200;
