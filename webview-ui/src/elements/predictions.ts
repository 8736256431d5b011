// <al-predictions>: the top-5 predictions; clicking one asks to explain that output instead. For a
// detection, dense or sequence output: its detections, regions or decoded steps (click one to
// explain it: `box:K`, `region:CLASS`, `step:T`).
import type { PanelTarget, Prediction, StructuredTargets } from '../../../src/shared/protocol';
import { AlElement, h } from './base';

export interface RetargetDetail {
  target: PanelTarget;
}

/** One row of a structured list: what it targets, its name, its value (score, pixels, probability), a bar. */
interface Row { target: string; name: string; sub: string; value: string; bar: number; title: string }

export function structuredRows(s: StructuredTargets, labels?: string[]): Row[] {
  const label = (cls: number, own?: string): string => own ?? labels?.[cls] ?? `class ${cls}`;
  if (s.kind === 'detection') {
    return (s.detections ?? []).map((d) => ({
      target: d.target, name: `box ${d.index}`, sub: ` ${label(d.class, d.label)}`, value: d.score.toFixed(2), bar: d.score,
      title: `${d.target} · ${label(d.class, d.label)} at (${d.box.map((v) => Math.round(v)).join(', ')}) · score ${d.score.toFixed(3)} · click to explain this box`,
    }));
  }
  if (s.kind === 'dense') {
    const regions = s.regions ?? [];
    const total = regions.reduce((a, r) => a + r.pixels, 0) || 1;
    return regions.map((r) => ({
      target: r.target, name: `region ${r.class}`, sub: ` ${label(r.class, r.label)}`, value: `${r.pixels} px`, bar: r.pixels / total,
      title: `${r.target} · ${label(r.class, r.label)}: ${r.pixels} pixels in (${r.box.map((v) => Math.round(v)).join(', ')}) · click to explain this region`,
    }));
  }
  return (s.steps ?? []).map((t) => ({
    target: t.target, name: `step ${t.step}`, sub: ` ${JSON.stringify(label(t.index, t.label))}`, value: `${(t.probability * 100).toFixed(1)}%`, bar: t.probability,
    title: `${t.target} · class ${t.index} · probability ${t.probability.toFixed(3)} · click to explain this step`,
  }));
}

const CSS = `
ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
button { all: unset; box-sizing: border-box; width: 100%; cursor: pointer; display: grid; grid-template-columns: 1fr auto; gap: 2px 8px;
  padding: 4px 6px; border-radius: 2px; border: 1px solid transparent; }
button:hover { background: var(--vscode-list-hoverBackground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
button[aria-pressed="true"] { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
.bar { grid-column: 1 / 3; height: 3px; background: var(--vscode-progressBar-background); border-radius: 1px; }
.label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.prob { font-variant-numeric: tabular-nums; }
`;

export class AlPredictions extends AlElement {
  private _predictions: Prediction[] = [];
  private _target: PanelTarget | undefined;
  private _structured: StructuredTargets | undefined;
  private _labels: string[] | undefined;

  constructor() {
    super(CSS);
  }

  get predictions(): Prediction[] { return this._predictions; }
  set predictions(v: Prediction[]) { this._predictions = v; this.requestUpdate(); }

  /** the output currently explained, highlighted */
  get target(): PanelTarget | undefined { return this._target; }
  set target(v: PanelTarget | undefined) { this._target = v; this.requestUpdate(); }

  /** a structured output's detections, regions or steps: listed instead of flat indices */
  get structured(): StructuredTargets | undefined { return this._structured; }
  set structured(v: StructuredTargets | undefined) { this._structured = v; this.requestUpdate(); }

  get labels(): string[] | undefined { return this._labels; }
  set labels(v: string[] | undefined) { this._labels = v; this.requestUpdate(); }

  protected update(): void {
    if (this._structured) return this.updateStructured(this._structured);
    if (this._predictions.length === 0) {
      this.root.replaceChildren(h('div', { class: 'muted' }, 'No predictions yet.'));
      return;
    }
    const items = this._predictions.map((p) => {
      const bar = h('div', { class: 'bar' });
      bar.style.width = `${Math.max(0.5, p.probability * 100).toFixed(1)}%`;
      return h('li', {},
        h('button', {
          'attr:data-index': p.index,
          'attr:aria-pressed': String(p.index === this._target),
          title: `output ${p.index} · ${p.independent ? 'sigmoid probability, independent of the others' : p.logit === p.probability ? 'the model outputs probabilities' : `logit ${p.logit.toFixed(3)}`} · click to explain this output`,
          'on:click': () => this.emit<RetargetDetail>('al-retarget', { target: p.index }),
        },
        h('span', { class: 'label' }, p.label ? `${p.label}` : `class ${p.index}`, h('span', { class: 'muted' }, ` #${p.index}`)),
        h('span', { class: 'prob' }, `${(p.probability * 100).toFixed(1)}%`),
        bar));
    });
    this.root.replaceChildren(h('ol', {}, ...items));
  }

  private updateStructured(s: StructuredTargets): void {
    const rows = structuredRows(s, this._labels);
    if (rows.length === 0) {
      const none = s.kind === 'detection' ? 'No detections.' : s.kind === 'dense' ? 'No class is predicted anywhere.' : 'Nothing decoded.';
      this.root.replaceChildren(h('div', { class: 'muted' }, none));
      return;
    }
    // `step:0` and `step:0=5` are one step: the list highlights by the step
    const current = typeof this._target === 'string' ? this._target.replace(/[=+@].*$/, '') : undefined;
    const items = rows.map((r) => {
      const bar = h('div', { class: 'bar' });
      bar.style.width = `${Math.max(0.5, Math.min(1, r.bar) * 100).toFixed(1)}%`;
      return h('li', {},
        h('button', {
          'attr:data-target': r.target,
          'attr:aria-pressed': String(r.target === current),
          title: r.title,
          'on:click': () => this.emit<RetargetDetail>('al-retarget', { target: r.target }),
        },
        h('span', { class: 'label' }, r.name, h('span', { class: 'muted' }, r.sub)),
        h('span', { class: 'prob' }, r.value),
        bar));
    });
    this.root.replaceChildren(h('ol', { 'attr:data-kind': s.kind }, ...items));
  }
}

customElements.define('al-predictions', AlPredictions);
