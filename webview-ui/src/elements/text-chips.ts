// <al-text-chips>: the text inline as chips shaded by score — per token, per word or for the
// whole sentence — with a gamma control that lifts faint pieces (|v|^gamma) and a scale legend.
import type { TextAttributionPayload } from '../../../src/shared/protocol';
import { maxAbsScore, shade, textPieces, type TextUnit } from '../../../src/shared/textScores';
import { AlElement, fmt, h } from './base';
import { shadeBackground } from './text-table';

export interface TextDisplayDetail {
  unit: TextUnit;
  gamma: number;
}

const UNITS: Array<[TextUnit, string]> = [['token', 'Token'], ['word', 'Word'], ['sentence', 'Sentence']];

const CSS = `
.controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-bottom: 8px; font-size: 12px; }
.seg { display: inline-flex; border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent)); border-radius: 2px; overflow: hidden; }
.seg button { all: unset; cursor: pointer; padding: 2px 10px; background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
.seg button:hover { background: var(--vscode-button-secondaryHoverBackground); }
.seg button[aria-pressed="true"] { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
.seg button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
label.gamma { display: inline-flex; gap: 6px; align-items: center; }
input[type=range] { accent-color: var(--vscode-button-background); width: 120px; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; line-height: 1.6; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 13px); }
.chip { display: inline-flex; flex-direction: column; align-items: center; padding: 1px 6px; border-radius: 3px;
  border: 1px solid var(--vscode-widget-border, transparent); }
.chip.special { color: var(--vscode-descriptionForeground); }
.chip .s { font-size: 10px; opacity: .8; font-family: var(--vscode-font-family); font-variant-numeric: tabular-nums; }
.legend { display: flex; gap: 6px; align-items: center; font-size: 11px; margin-top: 8px; }
.ramp { display: inline-flex; height: 8px; width: 160px; border-radius: 2px; overflow: hidden; }
.ramp span { flex: 1; }
`;

export class AlTextChips extends AlElement {
  private _result: TextAttributionPayload | undefined;
  private _unit: TextUnit = 'token';
  private _gamma = 1;

  private readonly unitButtons = UNITS.map(([unit, label]) =>
    h('button', { 'attr:data-unit': unit, 'on:click': () => this.change({ unit, gamma: this._gamma }) }, label));
  private readonly gammaInput = h('input', {
    type: 'range', min: '0.2', max: '3', step: '0.1', 'attr:id': 'gamma', 'attr:aria-label': 'Gamma',
    'on:input': (e: Event) => this.change({ unit: this._unit, gamma: Number((e.target as HTMLInputElement).value) }),
  });
  private readonly gammaValue = h('span', { class: 'muted' });
  private readonly chips = h('div', { class: 'chips', 'attr:id': 'chips' });
  private readonly legend = h('div', { class: 'legend muted' });

  constructor() {
    super(CSS);
    this.root.append(
      h('div', { class: 'controls' },
        h('span', { class: 'seg', 'attr:role': 'group', 'attr:aria-label': 'Granularity' }, ...this.unitButtons),
        h('label', { class: 'gamma', title: 'Shading = (|score| / max |score|)^gamma: below 1 brings faint pieces up' }, 'Gamma', this.gammaInput, this.gammaValue)),
      this.chips, this.legend);
  }

  get result(): TextAttributionPayload | undefined { return this._result; }
  set result(v: TextAttributionPayload | undefined) { this._result = v; this.requestUpdate(); }

  get unit(): TextUnit { return this._unit; }
  set unit(v: TextUnit) { this._unit = v; this.requestUpdate(); }

  get gamma(): number { return this._gamma; }
  set gamma(v: number) { this._gamma = v > 0 ? v : 1; this.requestUpdate(); }

  private change(d: TextDisplayDetail): void {
    this._unit = d.unit;
    this._gamma = d.gamma;
    this.requestUpdate();
    this.emit<TextDisplayDetail>('al-text-display', d);
  }

  protected update(): void {
    for (const b of this.unitButtons) b.setAttribute('aria-pressed', String(b.dataset.unit === this._unit));
    if (this.gammaInput.value !== String(this._gamma)) this.gammaInput.value = String(this._gamma);
    this.gammaValue.textContent = this._gamma.toFixed(1);
    const r = this._result;
    if (!r) {
      this.chips.replaceChildren(h('span', { class: 'muted' }, 'Run to see the tokens coloured by their attribution.'));
      this.legend.replaceChildren();
      return;
    }
    const pieces = textPieces(r, this._unit);
    // the sentence alone has nothing to compare with: scale it by the largest token instead
    const max = this._unit === 'sentence' ? Math.max(maxAbsScore(pieces), maxAbsScore(r.tokens)) : maxAbsScore(pieces);
    this.chips.replaceChildren(...pieces.map((p) => {
      const v = shade(p.score, max, this._gamma);
      const chip = h('span', {
        class: `chip${p.special ? ' special' : ''}`,
        title: `${p.text}: ${fmt(p.score)}`,
        'attr:data-score': String(p.score),
        'attr:data-shade': v.toFixed(4),
      }, h('span', { class: 't' }, p.text), h('span', { class: 's' }, fmt(p.score)));
      chip.style.setProperty('background-color', shadeBackground(v));
      return chip;
    }));
    const ramp = h('span', { class: 'ramp' }, ...[-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1].map((v) => {
      const s = h('span');
      s.style.setProperty('background-color', shadeBackground(v === 0 ? 0 : Math.sign(v) * Math.pow(Math.abs(v), this._gamma)));
      return s;
    }));
    this.legend.replaceChildren(h('span', {}, fmt(-max)), ramp, h('span', {}, fmt(max)),
      h('span', {}, `· red against, green for ${r.targetLabel ?? `class ${r.target}`}`));
  }
}

customElements.define('al-text-chips', AlTextChips);
