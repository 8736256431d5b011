// <al-compare>: several methods' maps for one target side by side, optionally on one colour scale.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { AttributionPayload, MethodInfo, ViewSettings } from '../../../src/shared/protocol';
import { DEFAULT_VIEW, reduceToMap, signThreshold, type RgbaImage } from '../../../src/shared/visualize';
import { AlElement, fmt, h, nodes } from './base';
import type { AlHeatmap, DecodedMap } from './heatmap';
import './heatmap';

export interface CompareChangeDetail {
  selected: string[];
  sharedScale: boolean;
}

export interface CompareItem {
  payload: AttributionPayload;
  map: DecodedMap;
}

const CSS = `
.methods { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-bottom: 8px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; margin-top: 10px; }
.errors { color: var(--vscode-errorForeground); font-size: 12px; }
.scale { font-size: 12px; margin-top: 6px; }
`;

export class AlCompare extends AlElement {
  private _methods: MethodInfo[] = [];
  private _selected: string[] = [];
  private _sharedScale = true;
  private _items: CompareItem[] = [];
  private _errors: Array<{ method: string; message: string }> = [];
  private _image: RgbaImage | undefined;
  private _view: ViewSettings = { ...DEFAULT_VIEW };
  private _disabled = false;

  constructor() {
    super(CSS);
  }

  get methods(): MethodInfo[] { return this._methods; }
  set methods(v: MethodInfo[]) { this._methods = v; this.requestUpdate(); }

  get selected(): string[] { return this._selected; }
  set selected(v: string[]) { this._selected = [...v]; this.requestUpdate(); }

  get sharedScale(): boolean { return this._sharedScale; }
  set sharedScale(v: boolean) { this._sharedScale = v; this.requestUpdate(); }

  get items(): CompareItem[] { return this._items; }
  set items(v: CompareItem[]) { this._items = v; this.requestUpdate(); }

  get errors(): Array<{ method: string; message: string }> { return this._errors; }
  set errors(v: Array<{ method: string; message: string }>) { this._errors = v; this.requestUpdate(); }

  get image(): RgbaImage | undefined { return this._image; }
  set image(v: RgbaImage | undefined) { this._image = v; this.requestUpdate(); }

  get view(): ViewSettings { return this._view; }
  set view(v: ViewSettings) { this._view = v; this.requestUpdate(); }

  /** restricted mode or running: Compare is off */
  get disabled(): boolean { return this._disabled; }
  set disabled(v: boolean) { this._disabled = v; this.requestUpdate(); }

  /** One threshold over all maps (their concatenation), as if they were one picture. */
  sharedThreshold(): number | undefined {
    const img = this._image;
    if (!this._sharedScale || !img || this._items.length === 0) return undefined;
    const maps = this._items.map((it) => reduceToMap(it.map.data, it.map.dims, img.width, img.height));
    return signThreshold(maps, this._view.sign, this._view.outlierPerc);
  }

  private changed(): void {
    this.emit<CompareChangeDetail>('al-compare-change', { selected: this._selected, sharedScale: this._sharedScale });
  }

  protected update(): void {
    const boxes = this._methods.map((m) => h('vscode-checkbox', {
      label: m.captumName,
      checked: this._selected.includes(m.id),
      'attr:data-method': m.id,
      title: m.description,
      'on:change': (e: Event) => {
        const on = (e.target as HTMLElement & { checked: boolean }).checked;
        this._selected = on ? [...new Set([...this._selected, m.id])] : this._selected.filter((x) => x !== m.id);
        this.changed();
        this.requestUpdate();
      },
    }));
    const shared = h('vscode-checkbox', {
      'attr:id': 'shared-scale',
      label: 'Shared colour scale',
      checked: this._sharedScale,
      'on:change': (e: Event) => {
        this._sharedScale = (e.target as HTMLElement & { checked: boolean }).checked;
        this.changed();
        this.requestUpdate();
      },
    });
    const run = h('vscode-button', {
      'attr:id': 'compare-run',
      disabled: this._disabled || this._selected.length === 0,
      'on:click': () => this.emit<CompareChangeDetail>('al-compare-run', { selected: this._selected, sharedScale: this._sharedScale }),
    }, `Compare ${this._selected.length} method${this._selected.length === 1 ? '' : 's'}`);

    const threshold = this.sharedThreshold();
    const names = new Map(this._methods.map((m) => [m.id, m.captumName]));
    const cells = this._items.map((it) => {
      const cell = h('al-heatmap') as AlHeatmap;
      cell.setAttribute('data-method', it.payload.method);
      cell.image = this._image;
      cell.map = it.map;
      cell.view = this._view;
      cell.threshold = threshold;
      cell.caption = `${names.get(it.payload.method) ?? it.payload.method} · ${it.payload.seconds.toFixed(2)} s`;
      return cell;
    });
    this.root.replaceChildren(...nodes(
      h('div', { class: 'methods' }, ...boxes),
      h('div', { class: 'row' }, shared, run),
      threshold !== undefined ? h('div', { class: 'scale muted' }, `One scale for all maps: saturates at ${fmt(Math.abs(threshold))}.`) : null,
      this._errors.length > 0 ? h('div', { class: 'errors' }, ...this._errors.map((e) => h('div', {}, `${names.get(e.method) ?? e.method}: ${e.message}`))) : null,
      cells.length > 0 ? h('div', { class: 'grid' }, ...cells) : null,
    ));
  }
}

customElements.define('al-compare', AlCompare);
