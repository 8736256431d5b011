// <al-heatmap>: one attribution drawn over the image with visualize.ts, in a <canvas>; with
// `paired`, the original (in colour, as the model saw it) beside it, a toggle for the map alone,
// and a readout of the pixel under the pointer (or the keyboard cursor: arrow keys on the map).
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { ViewSettings } from '../../../src/shared/protocol';
import { colorbarFor, renderFigure } from '../../../src/shared/figure';
import { DEFAULT_VIEW, valuesAt, visualizeImageAttr, type RgbaImage, type Visualization } from '../../../src/shared/visualize';
import { AlElement, fmt, h } from './base';
import type { ViewChangeDetail } from './view-controls';

export interface DecodedMap {
  data: Float32Array;
  dims: number[];
}

/** What the legend needs from the last drawing. */
export interface RenderedDetail {
  threshold: number;
  min: number;
  max: number;
  vmin: number;
  vmax: number;
  colormap?: string;
}

export interface RenderErrorDetail {
  message: string;
}

/** The pixel the readout shows, in the model's input pixels. */
export interface Probe {
  x: number;
  y: number;
}

const CSS = `
:host { position: relative; }
.pics { display: flex; gap: 8px; align-items: flex-start; max-width: var(--al-heatmap-max, 448px); }
:host([paired]) .pics.beside { max-width: calc(2 * var(--al-heatmap-max, 448px) + 8px); }
.cell { position: relative; flex: 1 1 0; min-width: 0; }
.cell.original { order: -1; }
.label { font-size: 11px; margin-bottom: 2px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
canvas { display: block; width: 100%; height: auto; image-rendering: pixelated;
  background: var(--vscode-editor-background); border: 1px solid var(--vscode-panel-border, transparent); box-sizing: border-box; }
canvas:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.cursor { position: absolute; pointer-events: none; box-sizing: border-box; min-width: 3px; min-height: 3px;
  border: 1px solid var(--vscode-editorCursor-foreground, var(--vscode-focusBorder)); }
.tools { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 4px; font-size: 12px; }
.readout { margin-top: 4px; font-size: 12px; font-variant-numeric: tabular-nums; min-height: 1.4em; overflow-wrap: anywhere; }
.caption { margin-top: 4px; font-size: 12px; }
.badge { position: absolute; top: 6px; left: 6px; padding: 1px 6px; border-radius: 8px; font-size: 11px;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
`;

export class AlHeatmap extends AlElement {
  private _image: RgbaImage | undefined;
  private _map: DecodedMap | undefined;
  private _view: ViewSettings = { ...DEFAULT_VIEW };
  private _threshold: number | undefined;
  private _caption = '';
  private _partial = false;
  private _probe: Probe | undefined;
  /** the map canvas comes first in the DOM (readers take the first canvas); CSS puts the original left */
  private readonly canvas = h('canvas', { 'attr:role': 'img', 'attr:data-testid': 'map-canvas' });
  private readonly originalCanvas = h('canvas', { 'attr:role': 'img', 'attr:aria-label': 'original image', 'attr:data-testid': 'original-canvas' });
  private readonly cursor = h('div', { class: 'cursor', hidden: true });
  private readonly badge = h('span', { class: 'badge' }, 'partial');
  private readonly mapCell = h('div', { class: 'cell map' }, h('div', { class: 'label muted' }, 'Attribution'), this.canvas, this.cursor, this.badge);
  private readonly originalCell = h('div', { class: 'cell original' }, h('div', { class: 'label muted' }, 'Original'), this.originalCanvas);
  private readonly pics = h('div', { class: 'pics' }, this.mapCell, this.originalCell);
  private readonly besideBox = h('vscode-checkbox', {
    'attr:id': 'beside', label: 'Original beside the map', 'attr:title': 'Show the image as the model saw it next to the map',
    'on:change': (e: Event) => this.emit<ViewChangeDetail>('al-view-change', { view: { ...this._view, beside: (e.target as HTMLInputElement).checked } }),
  }) as HTMLElement & { checked: boolean };
  private readonly tools = h('div', { class: 'tools' }, this.besideBox);
  private readonly readout = h('div', { class: 'readout muted', 'attr:id': 'readout', 'attr:aria-live': 'polite', 'attr:data-testid': 'readout' });
  private readonly captionEl = h('div', { class: 'caption muted' });
  /** the last successful drawing, or undefined */
  visualization: Visualization | undefined;

  constructor() {
    super(CSS);
    this.root.append(this.tools, this.pics, this.readout, this.captionEl);
    for (const c of [this.canvas, this.originalCanvas]) {
      c.addEventListener('pointermove', (e) => this.pointAt(c, e));
      c.addEventListener('pointerleave', () => { if (this.root.activeElement !== this.canvas) this.probe = undefined; });
    }
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => { if (!this._probe && this._image) this.probe = { x: this._image.width >> 1, y: this._image.height >> 1 }; });
    this.canvas.addEventListener('blur', () => { this.probe = undefined; });
  }

  get image(): RgbaImage | undefined { return this._image; }
  set image(v: RgbaImage | undefined) { this._image = v; this.requestUpdate(); }

  get map(): DecodedMap | undefined { return this._map; }
  set map(v: DecodedMap | undefined) { this._map = v; this.requestUpdate(); }

  get view(): ViewSettings { return this._view; }
  set view(v: ViewSettings) { this._view = v; this.requestUpdate(); }

  /** a scale shared with other maps (compare mode); undefined = this map's own */
  get threshold(): number | undefined { return this._threshold; }
  set threshold(v: number | undefined) { this._threshold = v; this.requestUpdate(); }

  get caption(): string { return this._caption; }
  set caption(v: string) { this._caption = v; this.requestUpdate(); }

  /** marks a map that is still being computed */
  get partial(): boolean { return this._partial; }
  set partial(v: boolean) { this._partial = v; this.requestUpdate(); }

  /** The main view: the original beside the map (per `view.beside`), the toggle and the readout. */
  get paired(): boolean { return this.hasAttribute('paired'); }
  set paired(v: boolean) { this.toggleAttribute('paired', v); this.requestUpdate(); }

  /** the pixel the readout describes (pointer or keyboard); undefined hides it */
  get probe(): Probe | undefined { return this._probe; }
  set probe(v: Probe | undefined) { this._probe = v; this.showProbe(); }

  private get beside(): boolean {
    return this.paired && this._view.beside !== false && this._view.method !== 'original_image';
  }

  /** The canvas as drawn. */
  toDataURL(): string {
    return this.canvas.toDataURL('image/png');
  }

  /**
   * The figure for PNG export: the view scaled up (nearest) to ≥ 512 px, a colour bar with the
   * value scale, `title`, and the original beside it when the panel shows it so.
   */
  figureDataURL(title: string): string {
    const img = this._image;
    if (!img) return this.toDataURL();
    const v = this.visualization;
    const map: RgbaImage = v ? { width: v.width, height: v.height, data: v.rgba } : img;
    const fig = renderFigure({
      map,
      original: this.beside && v ? img : undefined,
      title,
      colorbar: v ? colorbarFor(this._view, v) : undefined,
    });
    const c = document.createElement('canvas');
    c.width = fig.width;
    c.height = fig.height;
    c.getContext('2d')?.putImageData(new ImageData(fig.data, fig.width, fig.height), 0, 0);
    return c.toDataURL('image/png');
  }

  private pointAt(c: HTMLCanvasElement, e: PointerEvent): void {
    const img = this._image;
    if (!img) return;
    const r = c.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return;
    const x = Math.floor(((e.clientX - r.left) / r.width) * img.width);
    const y = Math.floor(((e.clientY - r.top) / r.height) * img.height);
    this.probe = { x: Math.min(img.width - 1, Math.max(0, x)), y: Math.min(img.height - 1, Math.max(0, y)) };
  }

  private key(e: KeyboardEvent): void {
    const img = this._image;
    if (!img) return;
    const step = e.shiftKey ? 8 : 1;
    const d: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === 'Escape') { this.probe = undefined; return; }
    const move = d[e.key];
    if (!move) return;
    e.preventDefault();
    const p = this._probe ?? { x: img.width >> 1, y: img.height >> 1 };
    this.probe = { x: Math.min(img.width - 1, Math.max(0, p.x + move[0])), y: Math.min(img.height - 1, Math.max(0, p.y + move[1])) };
  }

  /** The readout's text for a pixel: coordinates, raw value(s), channel sum as drawn, normalised value. */
  readoutText(p: Probe): string {
    const img = this._image;
    const v = this.visualization;
    const m = this._map;
    if (!img) return '';
    const where = `x ${p.x}, y ${p.y}`;
    if (!v || !m) return `${where} · no map`;
    const i = p.y * img.width + p.x;
    const { cell, channels } = valuesAt(m.data, m.dims, img.width, img.height, p.x, p.y);
    const parts = [where];
    const small = cell.width !== img.width || cell.height !== img.height;
    if (channels.length > 1) {
      parts.push(`raw ${channels.map(fmt).join(', ')}`, `channel sum ${fmt(v.map[i])}`);
    } else if (small) {
      parts.push(`map cell (${cell.x}, ${cell.y}) ${fmt(channels[0])}`, `upsampled ${fmt(v.map[i])}`);
    } else {
      parts.push(`value ${fmt(v.map[i])}`);
    }
    parts.push(`normalised ${fmt(v.normalized[i])}`);
    return parts.join(' · ');
  }

  private showProbe(): void {
    const p = this._probe;
    const img = this._image;
    this.readout.textContent = p && img ? this.readoutText(p) : this.paired && this._map ? 'Point at the map (or focus it and use the arrow keys) to read a value.' : '';
    this.cursor.hidden = !p || !img;
    if (p && img) {
      const cr = this.canvas.getBoundingClientRect();
      const cellR = this.mapCell.getBoundingClientRect();
      const sx = cr.width / img.width, sy = cr.height / img.height;
      this.cursor.style.left = `${cr.left - cellR.left + p.x * sx}px`;
      this.cursor.style.top = `${cr.top - cellR.top + p.y * sy}px`;
      this.cursor.style.width = `${sx}px`;
      this.cursor.style.height = `${sy}px`;
    }
  }

  protected update(): void {
    this.captionEl.textContent = this._caption;
    this.captionEl.hidden = !this._caption;
    this.badge.hidden = !this._partial;
    const paired = this.paired;
    const beside = this.beside;
    this.tools.hidden = !paired;
    this.besideBox.checked = this._view.beside !== false;
    this.besideBox.toggleAttribute('disabled', this._view.method === 'original_image');
    this.besideBox.title = this._view.method === 'original_image' ? 'The view is the original image already' : 'Show the image as the model saw it next to the map';
    this.originalCell.hidden = !beside;
    this.pics.classList.toggle('beside', beside);
    for (const l of this.root.querySelectorAll<HTMLElement>('.label')) l.hidden = !beside;
    this.canvas.tabIndex = paired ? 0 : -1;
    const img = this._image;
    if (!img) {
      this.canvas.width = 0;
      this.canvas.height = 0;
      this.originalCanvas.width = 0;
      this.originalCanvas.height = 0;
      this.showProbe();
      return;
    }
    let rgba = new Uint8ClampedArray(img.data);
    this.visualization = undefined;
    if (this._map) {
      try {
        const v = visualizeImageAttr(this._map.data, this._map.dims, img, { ...this._view, threshold: this._threshold });
        rgba = v.rgba;
        this.visualization = v;
        this.emit<RenderedDetail>('al-rendered', { threshold: v.threshold, min: v.min, max: v.max, vmin: v.vmin, vmax: v.vmax, colormap: v.colormap });
      } catch (e) {
        this.emit<RenderErrorDetail>('al-render-error', { message: e instanceof Error ? e.message : String(e) });
      }
    }
    this.canvas.width = img.width;
    this.canvas.height = img.height;
    this.canvas.setAttribute('aria-label', this._caption || 'attribution heatmap');
    this.canvas.getContext('2d')?.putImageData(new ImageData(rgba, img.width, img.height), 0, 0);
    if (beside) {
      this.originalCanvas.width = img.width;
      this.originalCanvas.height = img.height;
      this.originalCanvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
    }
    if (this._probe && (this._probe.x >= img.width || this._probe.y >= img.height)) this._probe = undefined;
    this.showProbe();
  }
}

customElements.define('al-heatmap', AlHeatmap);
