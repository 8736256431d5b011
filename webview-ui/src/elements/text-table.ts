// <al-text-table>: Captum's visualize_text table for one example — true label, predicted label
// (probability), attribution label, attribution score (sum), and the tokens shaded green
// (positive) or red (negative) by their score over the largest |score|, clipped to [-1, 1].
import type { TextAttributionPayload } from '../../../src/shared/protocol';
import { maxAbsScore, shade, textPieces } from '../../../src/shared/textScores';
import { AlElement, fmt, h } from './base';

const CSS = `
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); vertical-align: top; }
th { font-weight: 600; color: var(--vscode-descriptionForeground); }
td[data-col="tokens"] { width: 45%; min-width: 12em; }
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
        h('td', { 'attr:data-col': 'true' }, r.trueLabel ?? '—'),
        h('td', { 'attr:data-col': 'predicted' }, top ? `${label(top.index, top.label)} (${top.probability.toFixed(2)})` : '—'),
        h('td', { 'attr:data-col': 'attribution' }, label(r.target, r.targetLabel)),
        h('td', { class: 'num', 'attr:data-col': 'score' }, r.sentenceScore.toFixed(2)),
        h('td', { 'attr:data-col': 'tokens' }, ...marks)))));
  }
}

customElements.define('al-text-table', AlTextTable);
