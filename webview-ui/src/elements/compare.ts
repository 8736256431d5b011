// <al-compare>: several methods' maps for one target side by side. Each tile has its own legend
// (value scale, colormap) and caption (method, target, seconds), opens as the main map on click,
// and exports as a PNG figure or NPY; the whole grid exports as one figure. Maps share one colour
// scale only when the user asks for it and the methods measure the same thing.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { COMPARE_LABEL, comparableMethods, sharedScaleRefusal } from '../../../src/shared/compare';
import { cssGradient, getColormap, type BuiltinColormap } from '../../../src/shared/colormaps';
import { colorbarFor, renderFigure } from '../../../src/shared/figure';
import type { AttributionPayload, MethodInfo, ViewSettings } from '../../../src/shared/protocol';
import { DEFAULT_VIEW, reduceToMap, signThreshold, type RgbaImage } from '../../../src/shared/visualize';
import { AlElement, fmt, h, nodes } from './base';
import type { AlHeatmap, DecodedMap, RenderedDetail } from './heatmap';
import './heatmap';

export interface CompareChangeDetail {
  selected: string[];
  sharedScale: boolean;
}

/** A tile asks to become the main map. */
export interface CompareOpenDetail {
  method: string;
}

/** Export one tile (`method`) or the whole grid (PNG only); PNGs come drawn as figures. */
export interface CompareExportDetail {
  format: 'png' | 'npy';
  method?: string;
  pngDataUrl?: string;
}

export interface CompareItem {
  payload: AttributionPayload;
  map: DecodedMap;
}

/** A comparison in progress: which methods, the one running and its progress, those finished. */
interface LiveRun {
  methods: string[];
  current?: { method: string; done: number; total: number; phase?: string };
  done: Map<string, CompareItem | { error: string }>;
}

const CSS = `
.methods { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-bottom: 8px; }
.scale { font-size: 12px; margin-top: 6px; }
.errors { color: var(--vscode-errorForeground); font-size: 12px; margin-top: 6px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 14px; margin-top: 10px; scroll-margin-top: 8px; }
.tile { margin: 0; min-width: 0; padding: 6px; border: 1px solid var(--vscode-panel-border, transparent); border-radius: 3px; }
.tile al-heatmap { cursor: pointer; --al-heatmap-max: 100%; }
.tile al-heatmap:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
.tile figcaption { font-size: 12px; margin-top: 4px; overflow-wrap: anywhere; }
.tile .actions { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
.tile .pending { aspect-ratio: 1; display: flex; flex-direction: column; justify-content: center; gap: 6px; padding: 8px;
  background: var(--vscode-editor-background); border: 1px dashed var(--vscode-panel-border, var(--vscode-descriptionForeground)); font-size: 12px; }
.tile .failed { color: var(--vscode-errorForeground); }
.bar { height: 8px; margin-top: 6px; border: 1px solid var(--vscode-panel-border, transparent); border-radius: 2px; }
.ticks { display: flex; justify-content: space-between; font-size: 11px; font-variant-numeric: tabular-nums; margin-top: 2px; }
.range { font-size: 11px; }
.status { font-size: 12px; margin-top: 6px; min-height: 1.2em; }
`;

export class AlCompare extends AlElement {
  private _methods: MethodInfo[] = [];
  private _selected: string[] = [];
  private _sharedScale = false;
  private _items: CompareItem[] = [];
  private _errors: Array<{ method: string; message: string }> = [];
  private _image: RgbaImage | undefined;
  private _view: ViewSettings = { ...DEFAULT_VIEW };
  private _disabled = false;
  private _status = '';
  private live: LiveRun | undefined;
  /** tiles by method, kept across updates so a canvas is not redrawn for every progress message */
  private readonly tiles = new Map<string, { item: CompareItem; el: HTMLElement; heatmap: AlHeatmap; legend: HTMLElement }>();
  private readonly top = h('div');
  private readonly grid = h('div', { class: 'grid', 'attr:id': 'compare-grid', 'attr:role': 'list' });
  private readonly statusEl = h('div', { class: 'status muted', 'attr:id': 'compare-status', 'attr:aria-live': 'polite' });

  constructor() {
    super(CSS);
    // the grid stays in place: moving a tile would redraw its canvas
    this.root.append(this.top, this.grid, this.statusEl);
  }

  get methods(): MethodInfo[] { return this._methods; }
  set methods(v: MethodInfo[]) { this._methods = v; this.requestUpdate(); }

  /** the `attributionLens.compareMethods` setting, as the host sent it */
  get selected(): string[] { return this._selected; }
  set selected(v: string[]) { this._selected = [...v]; this.requestUpdate(); }

  /** the user's choice; the maps share a scale only when their units agree too (see `effectiveShared`) */
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

  /** the last export's one line */
  get status(): string { return this._status; }
  set status(v: string) { this._status = v; this.requestUpdate(); }

  // ---- a comparison in progress (not persisted) -----------------------------------------------

  /** The host started comparing these methods: one waiting tile each, in view. */
  startRun(methods: string[]): void {
    this.live = { methods: [...methods], done: new Map() };
    this.requestUpdate();
    this.reveal();
  }

  /** Progress of the method running now; the ones before it in the list have finished. */
  progress(method: string, done: number, total: number, phase?: string): void {
    if (!this.live) return;
    this.live.current = { method, done, total, phase };
    this.requestUpdate();
  }

  /** One method finished: its map (drawn at once) or its one-line error. */
  tileDone(method: string, item: CompareItem | undefined, error?: string): void {
    if (!this.live) return;
    this.live.done.set(method, item ?? { error: error ?? 'failed' });
    if (this.live.current?.method === method) this.live.current = undefined;
    this.requestUpdate();
  }

  /** The run ended (result, error or cancel): the grid shows `items` again. */
  endRun(): void {
    this.live = undefined;
    this.requestUpdate();
  }

  /** Scrolls the results into view once this update has laid them out: the whole grid when it fits, else its top. */
  reveal(): void {
    queueMicrotask(() => requestAnimationFrame(() => {
      const el = this.grid.isConnected && this.grid.childElementCount > 0 ? this.grid : this;
      const r = el.getBoundingClientRect();
      if (r.top >= 0 && r.bottom <= window.innerHeight) return;
      el.scrollIntoView({ block: r.height <= window.innerHeight ? 'end' : 'start', behavior: 'auto' });
    }));
  }

  // ---- scales -----------------------------------------------------------------------------------

  /** The methods the scale is about: the shown maps, else the ones that would run. */
  private scaleMethods(): string[] {
    if (this.live) return this.live.methods;
    return this._items.length > 0 ? this._items.map((it) => it.payload.method) : this._selected;
  }

  private name(id: string): string {
    return this._methods.find((m) => m.id === id)?.captumName ?? id;
  }

  /** Why these maps cannot share a scale, or undefined. */
  sharedRefusal(): string | undefined {
    return sharedScaleRefusal(this.scaleMethods(), (id) => this.name(id));
  }

  /** Shared only when asked for and the units agree. */
  get effectiveShared(): boolean {
    return this._sharedScale && this.sharedRefusal() === undefined;
  }

  /** One threshold over all maps (their concatenation), as if they were one picture. */
  sharedThreshold(items = this._items): number | undefined {
    const img = this._image;
    if (!this.effectiveShared || !img || items.length === 0) return undefined;
    const maps = items.map((it) => reduceToMap(it.map.data, it.map.dims, img.width, img.height));
    return signThreshold(maps, this._view.sign, this._view.outlierPerc);
  }

  // ---- export -----------------------------------------------------------------------------------

  /** One tile as the export's figure (src/shared/figure.ts): title, the map scaled up, its colour bar with the value scale. */
  tileFigure(method: string): string | undefined {
    const t = this.tiles.get(method);
    const fig = t ? this.figure(t.item, t.heatmap) : undefined;
    return fig ? pngDataUrl([fig], 1) : undefined;
  }

  /** The whole grid as one figure: the tiles' figures side by side, four to a row, in the grid's order. */
  gridFigure(): string | undefined {
    const figs = this._items.flatMap((it) => {
      const t = this.tiles.get(it.payload.method);
      const fig = t ? this.figure(it, t.heatmap) : undefined;
      return fig ? [fig] : [];
    });
    return figs.length > 0 ? pngDataUrl(figs, Math.min(figs.length, 4)) : undefined;
  }

  private figure(item: CompareItem, heatmap: AlHeatmap): RgbaImage | undefined {
    const v = heatmap.visualization;
    if (!v) return undefined;
    return renderFigure({ map: { width: v.width, height: v.height, data: v.rgba }, title: this.caption(item.payload), colorbar: colorbarFor(this._view, v) });
  }

  private caption(p: AttributionPayload): string {
    return `${this.name(p.method)} · ${p.targetLabel ?? `output ${p.target}`} · ${p.seconds.toFixed(2)} s`;
  }

  // ---- render -----------------------------------------------------------------------------------

  private changed(): void {
    this.emit<CompareChangeDetail>('al-compare-change', { selected: this._selected, sharedScale: this._sharedScale });
  }

  protected update(): void {
    const comparable = comparableMethods(this._methods);
    const boxes = comparable.map((m) => h('vscode-checkbox', {
      label: m.captumName,
      checked: this._selected.includes(m.id),
      'attr:data-method': m.id,
      title: m.description,
      'on:change': (e: Event) => {
        const on = (e.target as HTMLElement & { checked: boolean }).checked;
        const set = new Set(on ? [...this._selected, m.id] : this._selected.filter((x) => x !== m.id));
        this._selected = comparable.filter((x) => set.has(x.id)).map((x) => x.id);
        this.changed();
        this.requestUpdate();
      },
    }));
    const refusal = this.sharedRefusal();
    const shared = h('vscode-checkbox', {
      'attr:id': 'shared-scale',
      label: 'Shared colour scale',
      checked: this._sharedScale && !refusal,
      disabled: !!refusal,
      title: refusal ?? 'Draw every map on one scale (only for methods in the same units)',
      'on:change': (e: Event) => {
        this._sharedScale = (e.target as HTMLElement & { checked: boolean }).checked;
        this.changed();
        this.requestUpdate();
      },
    });
    const n = this._selected.length;
    const run = h('vscode-button', {
      'attr:id': 'compare-run',
      disabled: this._disabled || n === 0,
      title: `Runs ${n} method${n === 1 ? '' : 's'} (the attributionLens.compareMethods setting)`,
      'on:click': () => this.emit<CompareChangeDetail>('al-compare-run', { selected: this._selected, sharedScale: this.effectiveShared }),
    }, COMPARE_LABEL);
    const exportGrid = h('vscode-button', {
      'attr:id': 'compare-export-grid',
      secondary: true,
      disabled: this._items.length === 0 || !!this.live,
      'on:click': () => {
        const png = this.gridFigure();
        if (png) this.emit<CompareExportDetail>('al-compare-export', { format: 'png', pngDataUrl: png });
      },
    }, 'Export grid');

    const threshold = this.sharedThreshold();
    const scaleNote = refusal && this._sharedScale
      ? refusal
      : threshold !== undefined ? `One scale for all maps: saturates at ${fmt(Math.abs(threshold))}.`
        : this._items.length > 0 || this.live ? 'Each map on its own scale: see its legend.' : '';
    this.renderGrid(threshold);
    this.top.replaceChildren(...nodes(
      h('div', { class: 'methods', 'attr:id': 'compare-methods' }, ...boxes),
      h('div', { class: 'row' }, run, h('span', { class: 'muted', 'attr:id': 'compare-count' }, `${n} selected`), shared, exportGrid),
      scaleNote ? h('div', { class: 'scale muted', 'attr:id': 'compare-scale', 'attr:role': 'note' }, scaleNote) : null,
      !this.live && this._errors.length > 0
        ? h('div', { class: 'errors' }, ...this._errors.map((e) => h('div', {}, `${this.name(e.method)}: ${e.message}`))) : null,
    ));
    this.statusEl.textContent = this._status;
  }

  /** The tiles: finished maps, and during a run a waiting or running tile per method to come. */
  private renderGrid(threshold: number | undefined): void {
    const live = this.live;
    const order = live ? live.methods : this._items.map((it) => it.payload.method);
    const byMethod = new Map(this._items.map((it) => [it.payload.method, it]));
    const children: HTMLElement[] = [];
    const keep = new Set<string>();
    // during a run, the shared threshold covers the maps finished so far
    const liveItems = live ? [...live.done.values()].filter((x): x is CompareItem => 'payload' in x) : undefined;
    const t = live ? this.sharedThreshold(liveItems) : threshold;
    for (const method of order) {
      const got = live ? live.done.get(method) : byMethod.get(method);
      if (got && 'payload' in got) {
        children.push(this.mapTile(got, t));
        keep.add(method);
      } else if (got) {
        children.push(h('figure', { class: 'tile', 'attr:data-method': method, 'attr:role': 'listitem' },
          h('div', { class: 'pending failed' }, `${this.name(method)} failed`, h('span', {}, got.error))));
      } else {
        const cur = live?.current?.method === method ? live.current : undefined;
        const bar = cur ? h('vscode-progress-bar', { 'attr:aria-label': `${this.name(method)} progress`, ...(cur.total > 0 ? { max: cur.total, value: cur.done } : {}) }) : null;
        children.push(h('figure', { class: 'tile', 'attr:data-method': method, 'attr:data-state': cur ? 'running' : 'waiting', 'attr:role': 'listitem' },
          h('div', { class: 'pending muted' },
            h('strong', {}, this.name(method)),
            h('span', { class: 'tile-status' }, cur ? `${cur.phase ?? 'running'} ${cur.done}/${cur.total}` : 'waiting'),
            bar)));
      }
    }
    for (const m of [...this.tiles.keys()]) if (!keep.has(m)) this.tiles.delete(m);
    const same = children.length === this.grid.children.length && children.every((c, i) => this.grid.children[i] === c);
    if (!same) this.grid.replaceChildren(...children);
  }

  private mapTile(item: CompareItem, threshold: number | undefined): HTMLElement {
    const method = item.payload.method;
    let t = this.tiles.get(method);
    if (!t || t.item !== item) {
      const heatmap = h('al-heatmap', {
        'attr:data-method': method,
        'attr:tabindex': '0',
        'attr:role': 'button',
        'attr:title': 'Open as the main map',
        'on:click': () => this.emit<CompareOpenDetail>('al-compare-open', { method }),
        'on:keydown': (e: KeyboardEvent) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            this.emit<CompareOpenDetail>('al-compare-open', { method });
          }
        },
      }) as AlHeatmap;
      const legend = h('div', { class: 'legend', 'attr:data-testid': 'tile-legend' });
      heatmap.addEventListener('al-rendered', (e) => {
        e.stopPropagation();
        renderLegend(legend, (e as CustomEvent<RenderedDetail>).detail, this._view);
      });
      heatmap.addEventListener('al-render-error', (e) => {
        e.stopPropagation();
        legend.replaceChildren(h('div', { class: 'failed' }, (e as CustomEvent<{ message: string }>).detail.message));
      });
      const el = h('figure', { class: 'tile', 'attr:data-method': method, 'attr:role': 'listitem' },
        heatmap, legend,
        h('figcaption', {}, this.caption(item.payload)),
        h('div', { class: 'actions' },
          h('vscode-button', { secondary: true, 'attr:data-action': 'open', 'on:click': () => this.emit<CompareOpenDetail>('al-compare-open', { method }) }, 'Open'),
          h('vscode-button', {
            secondary: true, 'attr:data-action': 'png', title: 'PNG figure: the map scaled up, its colour bar and caption',
            'on:click': () => {
              const png = this.tileFigure(method);
              if (png) this.emit<CompareExportDetail>('al-compare-export', { format: 'png', method, pngDataUrl: png });
            },
          }, 'PNG'),
          h('vscode-button', {
            secondary: true, 'attr:data-action': 'npy', title: 'the raw values for NumPy',
            'on:click': () => this.emit<CompareExportDetail>('al-compare-export', { format: 'npy', method }),
          }, 'NPY')));
      t = { item, el, heatmap, legend };
      this.tiles.set(method, t);
    }
    const hm = t.heatmap;
    if (hm.image !== this._image) hm.image = this._image;
    if (hm.map !== item.map) hm.map = item.map;
    if (hm.view !== this._view) hm.view = this._view;
    if (hm.threshold !== threshold) hm.threshold = threshold;
    return t.el;
  }
}

/** Colour bar, the value where colour saturates, and the raw range: one map's scale. */
function renderLegend(el: HTMLElement, info: RenderedDetail, view: ViewSettings): void {
  if (view.method === 'original_image') {
    el.replaceChildren();
    return;
  }
  const t = Math.abs(info.threshold);
  const bar = h('div', { class: 'bar', 'attr:data-testid': 'legend-bar' });
  const heat = view.method === 'heat_map' || view.method === 'blended_heat_map';
  bar.style.background = heat && info.colormap
    ? cssGradient(getColormap(info.colormap as BuiltinColormap))
    : 'linear-gradient(to right, var(--vscode-editor-background), var(--vscode-editor-foreground))';
  el.replaceChildren(
    bar,
    h('div', { class: 'ticks', 'attr:data-testid': 'legend-ticks' }, ...ticks(view, t).map((x) => h('span', {}, x))),
    h('div', { class: 'range muted' }, t === 0 ? 'all zero' : `raw [${fmt(info.min)}, ${fmt(info.max)}]`),
  );
  el.dataset.threshold = String(t);
}

function ticks(view: ViewSettings, t: number): string[] {
  return view.sign === 'all' ? [fmt(-t), '0', fmt(t)] : view.sign === 'negative' ? ['0', fmt(-t)] : ['0', fmt(t)];
}

/** Figures on one white page, `cols` to a row, as a PNG data URL. */
function pngDataUrl(figs: RgbaImage[], cols: number): string | undefined {
  const w = Math.max(...figs.map((f) => f.width));
  const hh = Math.max(...figs.map((f) => f.height));
  const out = document.createElement('canvas');
  out.width = w * cols;
  out.height = hh * Math.ceil(figs.length / cols);
  const g = out.getContext('2d');
  if (!g) return undefined;
  g.fillStyle = 'white'; // the figures' own page colour
  g.fillRect(0, 0, out.width, out.height);
  figs.forEach((f, k) => g.putImageData(new ImageData(new Uint8ClampedArray(f.data), f.width, f.height), (k % cols) * w, Math.floor(k / cols) * hh));
  return out.toDataURL('image/png');
}

customElements.define('al-compare', AlCompare);
