// <al-sanity>: the Sanity check (Adebayo et al. 2018). A button that asks for the current method's
// weight-randomisation cascade, its progress while it runs, then a strip of maps — the original,
// the top layers randomised one more at a time, the fully randomised model — with each map's
// Spearman (of |values|) and SSIM against the original, and the verdict. Leaf element: it emits
// al-sanity-run / al-sanity-cancel and <al-app> talks to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { base64ToFloat32 } from '../../../src/shared/base64';
import type { SanityPayload, SanityStepPayload } from '../../../src/shared/sanityProtocol';
import { visualizeImageAttr } from '../../../src/shared/visualize';
import { blankImage } from '../image';
import { AlElement, h, nodes } from './base';

const CSS = `
.intro { font-size: 12px; margin: 0 0 6px; }
.status { font-size: 12px; margin-top: 6px; }
.error { color: var(--vscode-errorForeground); font-size: 12px; margin-top: 6px; }
.strip { display: flex; gap: 10px; overflow-x: auto; margin-top: 10px; padding-bottom: 4px; }
.step { margin: 0; flex: 0 0 132px; font-size: 11px; }
.step canvas { width: 128px; height: 128px; image-rendering: pixelated; display: block;
  border: 1px solid var(--vscode-panel-border, transparent); background: var(--vscode-editor-background); }
.step .title { font-weight: 600; overflow-wrap: anywhere; margin-top: 4px; }
.step .nums { font-variant-numeric: tabular-nums; }
.step.similar .nums { color: var(--vscode-editorWarning-foreground, var(--vscode-foreground)); }
.step .failed { width: 128px; height: 128px; display: flex; align-items: center; justify-content: center; text-align: center;
  color: var(--vscode-errorForeground); border: 1px dashed var(--vscode-panel-border, var(--vscode-descriptionForeground)); }
.verdict { font-size: 12px; margin-top: 8px; }
.verdict b.pass { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
.verdict b.fail { color: var(--vscode-testing-iconFailed, var(--vscode-errorForeground)); }
`;

const num = (v: number | null): string => (v === null ? '—' : v.toFixed(2));

export class AlSanity extends AlElement {
  /** false while the panel cannot run a method (no image, restricted workspace, a run under way) */
  private canRun = true;
  private live: { requestId: string; done: number; total: number; phase?: string } | undefined;
  private last: SanityPayload | undefined;
  private error = '';
  private readonly button = h('vscode-button', { 'attr:id': 'sanity-run', 'on:click': () => this.clicked() }, 'Sanity check');

  constructor() {
    super(CSS);
  }

  set enabled(v: boolean) {
    if (v === this.canRun) return;
    this.canRun = v;
    this.requestUpdate();
  }

  /** The request under way (its progress and end are matched by id). */
  get requestId(): string | undefined {
    return this.live?.requestId;
  }

  start(requestId: string): void {
    this.live = { requestId, done: 0, total: 0 };
    this.error = '';
    this.requestUpdate();
  }

  progress(requestId: string, done: number, total: number, phase?: string): void {
    if (this.live?.requestId !== requestId) return;
    this.live = { requestId, done, total, phase };
    this.requestUpdate();
  }

  result(requestId: string, r: SanityPayload): void {
    if (this.live?.requestId !== requestId) return;
    this.live = undefined;
    this.last = r;
    this.requestUpdate();
  }

  ended(requestId: string, cancelled: boolean, message?: string): void {
    if (this.live?.requestId !== requestId) return;
    this.live = undefined;
    this.error = cancelled ? 'Sanity check cancelled.' : message ?? '';
    this.requestUpdate();
  }

  private clicked(): void {
    if (this.live) this.emit('al-sanity-cancel', { requestId: this.live.requestId });
    else if (this.canRun) this.emit('al-sanity-run', {});
  }

  protected update(): void {
    this.button.textContent = this.live ? 'Cancel sanity check' : 'Sanity check';
    this.button.toggleAttribute('disabled', !this.live && !this.canRun);
    this.button.toggleAttribute('secondary', !!this.live);
    const r = this.last;
    this.root.replaceChildren(
      ...nodes(
        h('p', { class: 'intro muted' }, 'Randomises the model\'s weights layer by layer from the top and compares each map with the original: a map that does not change does not explain the model.'),
        this.button,
        this.live && h('div', { class: 'status', 'attr:id': 'sanity-progress', 'attr:role': 'status' },
          h('vscode-progress-bar', { 'attr:value': this.live.total ? String(this.live.done / this.live.total) : undefined }),
          `${this.live.phase ?? 'starting'} (${this.live.done}/${this.live.total || '?'})`),
        this.error && h('div', { class: 'error', 'attr:id': 'sanity-error', 'attr:role': 'alert' }, this.error),
        r && h('div', { 'attr:id': 'sanity-result' },
          h('div', { class: 'verdict', 'attr:id': 'sanity-verdict' },
            h('b', { class: r.verdict }, r.verdict === 'pass' ? 'PASS' : 'FAIL'), ` — ${r.summary}`),
          h('div', { class: 'muted status' },
            `${r.method} for ${r.targetLabel ?? r.targetText}${r.image ? ` on ${r.image}` : ''}, seed ${r.seed}, ${r.layerCount} parametrised layers, ${r.seconds.toFixed(1)} s. ` +
            `Similar (marked) = Spearman |·| ≥ ${r.thresholds.spearmanAbs} or SSIM ≥ ${r.thresholds.ssim} (7×7 window); maps show Σ|·| over channels, each on its own scale.`),
          h('div', { class: 'strip', 'attr:id': 'sanity-strip' }, ...r.steps.map((s, i) => this.tile(s, i)))),
      ),
    );
  }

  private tile(s: SanityStepPayload, i: number): HTMLElement {
    const fig = h('figure', { class: `step${s.kind !== 'original' && s.similar ? ' similar' : ''}`, 'attr:data-step': String(i), 'attr:data-kind': s.kind });
    fig.append(s.map ? drawMap(s.map.dims, base64ToFloat32(s.map.data)) : h('div', { class: 'failed' }, 'failed'));
    fig.append(h('div', { class: 'title' }, s.title));
    if (s.error) fig.append(h('div', { class: 'error' }, s.error));
    else if (s.kind !== 'original') fig.append(h('div', { class: 'nums' }, `Spearman |·| ${num(s.spearmanAbs)}`), h('div', { class: 'nums' }, `Spearman ${num(s.spearman)} · SSIM ${num(s.ssim)}${s.similar ? ' · similar' : ''}`));
    else fig.append(h('div', { class: 'nums muted' }, 'the reference'));
    return fig;
  }
}

/**
 * Σ|·| over the channels, drawn as Captum's heat map on its own scale: (…, C, H, W), or
 * channels-last (1, H, W, C) when only the last axis is small (C ≤ 4, H and W > 4).
 */
function drawMap(dims: number[], data: Float32Array): HTMLCanvasElement {
  const last = dims.length === 4 && dims[3] <= 4 && dims[1] > 4 && dims[2] > 4;
  const w = last ? dims[2] : dims[dims.length - 1] ?? 1;
  const hgt = last ? dims[1] : dims.length >= 2 ? dims[dims.length - 2] : 1;
  const plane = w * hgt;
  const c = last ? dims[3] : 1;
  const abs = new Float32Array(plane);
  for (let k = 0; k < data.length; k++) abs[last ? Math.floor(k / c) : k % plane] += Math.abs(data[k]);
  const v = visualizeImageAttr(abs, [hgt, w], blankImage(w, hgt), { method: 'heat_map', sign: 'absolute_value' });
  const canvas = h('canvas', { width: v.width, height: v.height });
  canvas.getContext('2d')?.putImageData(new ImageData(v.rgba, v.width, v.height), 0, 0);
  return canvas;
}

customElements.define('al-sanity', AlSanity);

declare global {
  interface HTMLElementTagNameMap {
    'al-sanity': AlSanity;
  }
}
