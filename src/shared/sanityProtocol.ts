// The panel's sanity check (Adebayo et al. 2018) on the wire: the webview asks for the cascade of
// the current method and target, the host answers with progress, then the strip's maps and numbers.
// Part of the protocol's unions (src/shared/protocol.ts); kept here so the panel's other messages
// stay readable.
import type { AttributionMap, PanelTarget, ParamValues } from './protocol';

/** Run the weight-randomisation cascade for this method, target and parameters (the panel's current ones). */
export interface RunSanityMessage {
  type: 'runSanity';
  requestId: string;
  method: string;
  target: PanelTarget;
  params: ParamValues;
  /** randomise at most this many layers from the top (default all) */
  layers?: number;
  seed?: number;
}

/** One model of the cascade: the original, the top k layers random, or the fully randomised model. */
export interface SanityStepPayload {
  kind: 'original' | 'cascade' | 'random';
  /** `original`, `+ classifier.fc (Gemm)`, `fully randomised (3 layers)` */
  title: string;
  /** how many layers are random */
  randomized: number;
  spearmanAbs: number | null;
  spearman: number | null;
  ssim: number;
  /** reached a threshold: the map did not change enough */
  similar: boolean;
  map?: AttributionMap;
  /** why this model's run failed (one line) */
  error?: string;
}

export interface SanityPayload {
  method: string;
  target: number;
  targetLabel?: string;
  targetText: string;
  /** the image's file name (the strip stays while the panel moves on to another image) */
  image?: string;
  seed: number;
  thresholds: { spearmanAbs: number; ssim: number };
  verdict: 'pass' | 'fail';
  summary: string;
  insensitiveTop: string[];
  /** parametrised layers in the model */
  layerCount: number;
  seconds: number;
  steps: SanityStepPayload[];
}

export interface SanityProgressMessage {
  type: 'sanityProgress';
  requestId: string;
  done: number;
  total: number;
  phase?: string;
}

export interface SanityResultMessage {
  type: 'sanityResult';
  requestId: string;
  result: SanityPayload;
}

/** The check ended without a result: cancelled, or one line saying why it failed. */
export interface SanityEndedMessage {
  type: 'sanityEnded';
  requestId: string;
  cancelled: boolean;
  message?: string;
}

export type SanityToWebview = SanityProgressMessage | SanityResultMessage | SanityEndedMessage;

/** Bounds of `runSanity`'s optional numbers (checked by isFromWebview). */
export const SANITY_LIMITS = { maxLayers: 10_000, maxSeed: 0xffffffff } as const;
