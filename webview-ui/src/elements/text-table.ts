// <al-text-table>: Captum's visualize_text table for one example — true label, predicted label
// (probability), attribution label, attribution score (sum), and the tokens shaded green
// (positive) or red (negative) by their score over the largest |score|, clipped to [-1, 1].
import type { TextAttributionPayload } from '../../../src/shared/protocol';
import { maxAbsScore, shade, textPieces } from '../../../src/shared/textScores';
import { AlElement, fmt, h } from './base';

const CSS = `
:host { container-type: inline-size; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); vertical-align: top; }
th { font-weight: 600; color: var(--vscode-descriptionForeground); }
td[data-col="tokens"] { width: 45%; overflow-wrap: anywhere; }
/* too narrow for five columns side by side: one row per column, its heading as a label */
@container (max-width: 640px) {
  table, tbody, tr, td { display: block; width: auto; }
  thead { display: none; }
  td { display: grid; grid-template-columns: minmax(7em, 30%) 1fr; gap: 8px; padding: 3px 4px; }
  td[data-col="tokens"] { width: auto; display: block; }
  td::before { content: attr(data-label); font-weight: 600; color: var(--vscode-descriptionForeground); }
  td[data-col="tokens"]::before { display: block; }
}
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
mark { color: inherit; padding: 0 2px; margin: 0 1px; border-radius: 2px; line-height: 1.9; background: transparent; }
mark.special { color: var(--vscode-descriptionForeground); }
`;

/** A score's background: the theme's chart green or red, mixed in by the shade's size. */
export function shadeBackground(v: number, maxAlpha = 75): string {
  if (v === 0) return 'transparent';
  const colour = v > 0 ? 'var(--vscode-charts-green, #388a34)' : 'var(--vscode-charts-red, #f14c4c)';
  return `color-mix(in srgb, ${colour} ${(Math.abs(v) * maxAlpha).toFixed(1)}%, transparent)`;
}

export class AlTextTable extends AlElement {
  private _result: TextAttributionPayload | undefined;

  constructor() {
    super(CSS);
  }

  get result(): TextAttributionPayload | undefined { return this._result; }
  set result(v: TextAttributionPayload | undefined) { this._result = v; this.requestUpdate(); }

  protected update(): void {
    const r = this._result;
    if (!r) {
      this.root.replaceChildren(h('div', { class: 'muted' }, 'No attribution yet: Run explains the top prediction.'));
      return;
    }
    const top = r.predictions[0];
    const pieces = textPieces(r, 'token');
    const max = maxAbsScore(pieces);
    const marks = pieces.map((p) => {
      const v = shade(p.score, max);
      const m = h('mark', { class: p.special ? 'special' : '', title: `${p.text}: ${fmt(p.score)}`, 'attr:data-score': String(p.score) }, p.text);
      m.style.setProperty('background-color', shadeBackground(v));
      return m;
    });
    const label = (i: number | undefined, l?: string) => (l ?? (i === undefined ? '—' : `class ${i}`));
    this.root.replaceChildren(h('table', {},
      h('thead', {}, h('tr', {}, ...['True Label', 'Predicted Label', 'Attribution Label', 'Attribution Score', 'Word Importance'].map((t) => h('th', {}, t)))),
      h('tbody', {}, h('tr', {},
        h('td', { 'attr:data-col': 'true', 'attr:data-label': 'True Label' }, r.trueLabel ?? '—'),
        h('td', { 'attr:data-col': 'predicted', 'attr:data-label': 'Predicted Label' }, top ? `${label(top.index, top.label)} (${top.probability.toFixed(2)})` : '—'),
        h('td', { 'attr:data-col': 'attribution', 'attr:data-label': 'Attribution Label' }, label(r.target, r.targetLabel)),
        h('td', { class: 'num', 'attr:data-col': 'score', 'attr:data-label': 'Attribution Score' }, r.sentenceScore.toFixed(2)),
        h('td', { 'attr:data-col': 'tokens', 'attr:data-label': 'Word Importance' }, ...marks)))));
  }
}

customElements.define('al-text-table', AlTextTable);
