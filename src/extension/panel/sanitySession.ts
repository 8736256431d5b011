// The panel's Sanity check button, host side: one cascade at a time in the engine process,
// progress to the webview, cancellable; the result becomes the strip's maps and numbers.
import * as path from 'path';
import type { SanityResult } from '../../engine/sanity';
import type { ToWebview } from '../../shared/protocol';
import type { SanityPayload } from '../../shared/sanityProtocol';
import { CallCancelledError, type EngineCall, type EngineClient } from '../engine/engineClient';
import { toAttributionMap } from '../wire';
import type { EngineCalls } from '../engine/engineProtocol';

interface Running {
  requestId: string;
  call?: EngineCall<unknown>;
  cancelled: boolean;
}

export class SanitySession {
  private running: Running | undefined;

  constructor(
    private readonly engine: Pick<EngineClient, 'call'>,
    private readonly post: (m: ToWebview) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs the cascade; a new check cancels the one under way. */
  async run(requestId: string, args: EngineCalls['sanity']['args'], imageInput?: string): Promise<void> {
    const image = path.basename(args.input.file);
    this.cancel();
    const running: Running = { requestId, cancelled: false };
    this.running = running;
    try {
      const call = this.engine.call('sanity', args, (p) => this.post({ type: 'sanityProgress', requestId, done: p.done, total: p.total, phase: p.phase }));
      running.call = call;
      const result = await call.promise;
      if (running.cancelled) throw new CallCancelledError();
      this.post({ type: 'sanityResult', requestId, result: { ...toSanityPayload(result, imageInput), image } });
    } catch (e) {
      const cancelled = e instanceof CallCancelledError || running.cancelled;
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      if (!cancelled && (e as { user?: boolean })?.user !== true) this.log(`sanity check failed: ${(e as Error)?.stack ?? message}`);
      this.post({ type: 'sanityEnded', requestId, cancelled, ...(cancelled ? {} : { message }) });
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /** Cancels the check under way (only the one with `requestId`, when given). */
  cancel(requestId?: string): void {
    const r = this.running;
    if (!r || (requestId && r.requestId !== requestId)) return;
    r.cancelled = true;
    r.call?.cancel();
  }
}

const TITLE = (s: SanityResult['steps'][number]): string =>
  s.kind === 'original' ? 'original' : s.kind === 'random' ? `fully randomised (${s.randomized} layers)` : `+ ${s.layer?.name} (${s.layer?.op})`;

/** The engine's result as the webview draws it: maps as wire maps, titles for each step. */
export function toSanityPayload(r: SanityResult, input?: string): SanityPayload {
  return {
    method: r.method,
    target: r.target,
    ...(r.targetLabel !== undefined ? { targetLabel: r.targetLabel } : {}),
    targetText: r.targetText,
    seed: r.seed,
    thresholds: { ...r.thresholds },
    verdict: r.verdict,
    summary: r.summary,
    insensitiveTop: [...r.insensitiveTop],
    layerCount: r.layers.length,
    seconds: r.seconds,
    steps: r.steps.map((s) => ({
      kind: s.kind,
      title: TITLE(s),
      randomized: s.randomized,
      spearmanAbs: s.spearmanAbs,
      spearman: s.spearman,
      ssim: s.ssim,
      similar: s.similar,
      ...(s.attribution ? { map: toAttributionMap(s.attribution, input) } : {}),
      ...(s.error ? { error: s.error } : {}),
    })),
  };
}
