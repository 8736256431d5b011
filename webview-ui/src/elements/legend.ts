// <al-legend>: the colour bar with the raw value scale: where colours saturate, and the raw range.
import type { ViewSettings } from '../../../src/shared/protocol';
import { cssGradient, getColormap, type BuiltinColormap } from '../../../src/shared/colormaps';
import { AlElement, fmt, h } from './base';
import type { RenderedDetail } from './heatmap';

const CSS = `
.bar { height: 10px; border: 1px solid var(--vscode-panel-border, transparent); border-radius: 2px; }
.ticks { display: flex; justify-content: space-between; font-size: 11px; font-variant-numeric: tabular-nums; margin-top: 2px; }
.note { font-size: 11px; margin-top: 4px; }
`;

export class AlLegend extends AlElement {
  private _info: RenderedDetail | undefined;
  private _view: ViewSettings | undefined;

  constructor() {
    super(CSS);
  }

  get info(): RenderedDetail | undefined { return this._info; }
  set info(v: RenderedDetail | undefined) { this._info = v; this.requestUpdate(); }

  get view(): ViewSettings | undefined { return this._view; }
  set view(v: ViewSettings | undefined) { this._view = v; this.requestUpdate(); }

  protected update(): void {
    const info = this._info;
    const view = this._view;
    if (!info || !view || view.method === 'original_image') {
      this.root.replaceChildren();
      return;
    }
    // |threshold| is the raw value that maps to the end of the scale (Captum's scale factor)
    const t = Math.abs(info.threshold);
    const heat = view.method === 'heat_map' || view.method === 'blended_heat_map';
    const bar = h('div', { class: 'bar', 'attr:data-testid': 'legend-bar' });
    // masked_image multiplies the image by the normalised value: 0 is black, the top keeps the
    // pixel whole, whatever the theme; alpha_scaling fades from the page to the pixel
    bar.style.background = heat && info.colormap
      ? cssGradient(getColormap(info.colormap as BuiltinColormap))
      : view.method === 'masked_image'
        ? cssGradient(getColormap('gray'))
        : 'linear-gradient(to right, var(--vscode-editor-background), var(--vscode-editor-foreground))';
    bar.dataset.start = view.method === 'masked_image' ? 'black' : heat ? 'colormap' : 'background';
    const ticks = view.sign === 'all'
      ? [fmt(-t), '0', fmt(t)]
      : view.sign === 'negative' ? ['0', fmt(-t)] : ['0', fmt(t)];
    const what = view.sign === 'absolute_value' ? '|attribution|' : view.sign === 'positive' ? 'positive attribution'
      : view.sign === 'negative' ? 'negative attribution' : 'attribution';
    this.root.replaceChildren(
      bar,
      h('div', { class: 'ticks', 'attr:data-testid': 'legend-ticks' }, ...ticks.map((x) => h('span', {}, x))),
      h('div', { class: 'note muted', 'attr:data-testid': 'legend-note' },
        t === 0 ? 'All attributions are zero.'
          : `Colour saturates at ${view.sign === 'all' ? `${what} ≤ ${fmt(-t)} and ≥ ${fmt(t)}` : `${what} ${view.sign === 'negative' ? '≤' : '≥'} ${fmt(view.sign === 'negative' ? -t : t)}`}` +
            ` (top ${view.outlierPerc}% of the mass clipped). Raw range of the channel sum [${fmt(info.min)}, ${fmt(info.max)}].`),
    );
  }
}

customElements.define('al-legend', AlLegend);
