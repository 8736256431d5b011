// <al-predictions>: the top-5 predictions; clicking one asks to explain that output instead.
import type { Prediction } from '../../../src/shared/protocol';
import { AlElement, h } from './base';

export interface RetargetDetail {
  target: number;
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
  private _target: number | undefined;

  constructor() {
    super(CSS);
  }

  get predictions(): Prediction[] { return this._predictions; }
  set predictions(v: Prediction[]) { this._predictions = v; this.requestUpdate(); }

  /** the output currently explained, highlighted */
  get target(): number | undefined { return this._target; }
  set target(v: number | undefined) { this._target = v; this.requestUpdate(); }

  protected update(): void {
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
}

customElements.define('al-predictions', AlPredictions);
