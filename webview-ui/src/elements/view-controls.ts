// <al-view-controls>: Captum's visualize_image_attr options (view, sign, outliers, overlay, colormap).
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { ViewSettings } from '../../../src/shared/protocol';
import { COLORMAPS, DEFAULT_VIEW, VIEWS_USING, VISUALIZE_METHODS, VISUALIZE_SIGNS } from '../../../src/shared/visualize';
import { AlElement, h } from './base';

export interface ViewChangeDetail {
  view: ViewSettings;
}

const CSS = `
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(130px, 100%), 1fr)); gap: 8px 12px; }
label.field { min-width: 0; }
vscode-single-select, vscode-textfield { width: 100%; }
.name { font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
label[data-inactive] .name { opacity: .6; }
`;

export class AlViewControls extends AlElement {
  private _view: ViewSettings = { ...DEFAULT_VIEW };

  constructor() {
    super(CSS);
  }

  get view(): ViewSettings { return this._view; }
  set view(v: ViewSettings) { this._view = { ...v }; this.requestUpdate(); }

  private set<K extends keyof ViewSettings>(key: K, value: ViewSettings[K]): void {
    this._view = { ...this._view, [key]: value };
    this.emit<ViewChangeDetail>('al-view-change', { view: this._view });
  }

  // built once and updated in place: replacing an open vscode-single-select breaks its dropdown
  private readonly selects = {
    method: this.select('method', VISUALIZE_METHODS),
    sign: this.select('sign', VISUALIZE_SIGNS),
    colormap: this.select('colormap', COLORMAPS),
    blendOver: this.select('blendOver', ['grayscale', 'color']),
  };
  private readonly numbers = {
    outlierPerc: this.number('outlierPerc', 0, 100, 0.5),
    alphaOverlay: this.number('alphaOverlay', 0, 1, 0.05),
  };
  private built = false;

  private select<K extends 'method' | 'sign' | 'colormap' | 'blendOver'>(key: K, values: readonly NonNullable<ViewSettings[K]>[]): HTMLElement & { value: string } {
    return h('vscode-single-select', {
      'attr:id': key,
      'on:change': (e: Event) => this.set(key, (e.target as HTMLElement & { value: string }).value as ViewSettings[K]),
    }, ...values.map((x) => h('vscode-option', { value: x }, x)));
  }

  /** Off, with the reason as its tooltip, in views the setting does not change. */
  private applies(key: keyof typeof VIEWS_USING, el: HTMLElement): void {
    const views: readonly string[] = VIEWS_USING[key];
    const on = views.includes(this._view.method);
    el.toggleAttribute('disabled', !on);
    (el as HTMLElement & { disabled: boolean }).disabled = !on;
    const field = el.closest('label');
    const why = on ? '' : `No effect in ${this._view.method}: only ${views.join(', ')} use it`;
    field?.toggleAttribute('data-inactive', !on);
    if (field) field.title = why;
    el.title = why;
  }

  private number(key: 'outlierPerc' | 'alphaOverlay', min: number, max: number, step: number): HTMLElement & { value: string } {
    return h('vscode-textfield', {
      'attr:id': key,
      type: 'number', min, max, step,
      'on:change': (e: Event) => {
        const n = Number((e.target as HTMLElement & { value: string }).value);
        if (Number.isFinite(n)) this.set(key, Math.min(max, Math.max(min, n)));
      },
    });
  }

  protected update(): void {
    if (!this.built) {
      this.built = true;
      const field = (label: string, el: HTMLElement) => h('label', { class: 'field' }, h('span', { class: 'name' }, label), el);
      this.root.replaceChildren(h('div', { class: 'grid' },
        field('View', this.selects.method),
        field('Sign', this.selects.sign),
        field('Outlier %', this.numbers.outlierPerc),
        field('Overlay opacity', this.numbers.alphaOverlay),
        field('Colormap', this.selects.colormap),
        field('Blend over', this.selects.blendOver),
      ));
    }
    const v = this._view;
    for (const k of ['method', 'sign', 'colormap'] as const) if (this.selects[k].value !== v[k]) this.selects[k].value = v[k];
    const blend = v.blendOver ?? 'grayscale';
    if (this.selects.blendOver.value !== blend) this.selects.blendOver.value = blend;
    this.applies('colormap', this.selects.colormap);
    this.applies('blendOver', this.selects.blendOver);
    this.applies('alphaOverlay', this.numbers.alphaOverlay);
    this.applies('sign', this.selects.sign);
    this.applies('outlierPerc', this.numbers.outlierPerc);
    for (const k of ['outlierPerc', 'alphaOverlay'] as const) if (Number(this.numbers[k].value) !== v[k]) this.numbers[k].value = String(v[k]);
  }
}

customElements.define('al-view-controls', AlViewControls);
