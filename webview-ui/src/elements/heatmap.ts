// <al-heatmap>: one attribution drawn over the image with visualize.ts, in a <canvas>; with
// `paired`, the original (in colour, as the model saw it) beside it, a toggle for the map alone,
// and a readout of the pixel under the pointer (or the keyboard cursor: arrow keys on the map).
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { PanelTarget, StructuredTargets, ViewSettings } from '../../../src/shared/protocol';
import { colorbarFor, renderFigure } from '../../../src/shared/figure';
import { DEFAULT_VIEW, valuesAt, visualizeImageAttr, type RgbaImage, type Visualization } from '../../../src/shared/visualize';
import { decodeRegionMask, maskFillPath, maskOutlinePath, type RegionMask } from '../../../src/shared/regionMask';
import { AlElement, fmt, h } from './base';
import type { RetargetDetail } from './predictions';
import type { ViewChangeDetail } from './view-controls';

const SVG = 'http://www.w3.org/2000/svg';
/** one colour per class for boxes and regions */
const CLASS_COLOURS = ['#f14c4c', '#23d18b', '#3b8eea', '#e5e510', '#d670d6', '#29b8db', '#f5a623', '#b4b4b4'];

function svg(tag: string, attrs: Record<string, string | number>, ...children: Array<Node | string>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

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
.overlay { position: absolute; left: 0; bottom: 0; width: 100%; height: auto; pointer-events: none; overflow: visible; }
.overlay .target { pointer-events: all; cursor: pointer; }
.overlay .target:focus-visible { outline: none; }
.overlay .target:focus-visible rect.tag, .overlay .target[aria-pressed="true"] rect.tag { stroke: var(--vscode-focusBorder); stroke-width: 1px; }
.overlay text { font: 600 11px var(--vscode-font-family, sans-serif); fill: #000; }
.sequence { display: flex; flex-wrap: wrap; gap: 2px; margin-top: 6px; font-family: var(--vscode-editor-font-family, monospace); }
.sequence button { all: unset; cursor: pointer; min-width: 1.2em; text-align: center; padding: 2px 4px; border-radius: 2px;
  border: 1px solid var(--vscode-panel-border, transparent); }
.sequence button:hover { background: var(--vscode-list-hoverBackground); }
.sequence button:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.sequence button[aria-pressed="true"] { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
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
  private _structured: StructuredTargets | undefined;
  private _target: PanelTarget | undefined;
  private _labels: string[] | undefined;
  /** the detections or regions drawn over the original (and the map); the decoded sequence under them */
  private readonly mapOverlay = svg('svg', { class: 'overlay', 'data-testid': 'map-overlay' }) as SVGSVGElement;
  private readonly originalOverlay = svg('svg', { class: 'overlay', 'data-testid': 'original-overlay' }) as SVGSVGElement;
  private readonly sequence = h('div', { class: 'sequence', 'attr:data-testid': 'sequence', 'attr:role': 'group', 'attr:aria-label': 'decoded sequence: click a character to explain it' });
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
    this.root.append(this.tools, this.pics, this.sequence, this.readout, this.captionEl);
    this.mapCell.append(this.mapOverlay);
    this.originalCell.append(this.originalOverlay);
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

  /** a detection, dense or sequence output: boxes and regions drawn over the image, steps under it */
  get structured(): StructuredTargets | undefined { return this._structured; }
  set structured(v: StructuredTargets | undefined) { this._structured = v; this.requestUpdate(); }

  /** the target explained, highlighted */
  get target(): PanelTarget | undefined { return this._target; }
  set target(v: PanelTarget | undefined) { this._target = v; this.requestUpdate(); }

  get labels(): string[] | undefined { return this._labels; }
  set labels(v: string[] | undefined) { this._labels = v; this.requestUpdate(); }

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
    this.drawTargets(img.width, img.height, beside);
    this.showProbe();
  }

  /**
   * A region's mask stretched over the image (w × hgt image pixels; cells scaled nearest, edges
   * crisp): a translucent fill in the class's colour and its outline, both in one group.
   */
  private maskShape(mask: RegionMask, w: number, hgt: number, colour: string, pressed: boolean): SVGElement {
    const cells = decodeRegionMask(mask);
    return svg('g', { class: 'mask', transform: `scale(${w / mask.width} ${hgt / mask.height})` },
      svg('path', { class: 'mask-fill', d: maskFillPath(mask), fill: colour, 'fill-opacity': pressed ? 0.45 : 0.3, stroke: 'none', 'shape-rendering': 'crispEdges' }),
      svg('path', { class: 'mask-outline', d: maskOutlinePath(mask, cells), fill: 'none', stroke: colour, 'stroke-width': pressed ? 2 : 1.25, 'vector-effect': 'non-scaling-stroke' }));
  }

  /**
   * Detections (boxes with label and score) or regions (their mask, a translucent fill in the
   * class's colour with its outline, scaled nearest to the image; a dashed box without a mask) over the image,
   * each a button whose tag explains it; the decoded sequence under the image, one button a step.
   */
  private drawTargets(w: number, hgt: number, beside: boolean): void {
    const s = this.paired ? this._structured : undefined;
    const current = typeof this._target === 'string' ? this._target.replace(/[=+@].*$/, '') : undefined;
    const label = (cls: number, own?: string): string => own ?? this._labels?.[cls] ?? `class ${cls}`;
    const items: Array<{ target: string; box: number[]; cls: number; text: string; dashed: boolean; title: string; mask?: RegionMask }> = [];
    if (s?.kind === 'detection') {
      for (const d of s.detections ?? []) {
        items.push({ target: d.target, box: d.box, cls: d.class, text: `${d.index} ${label(d.class, d.label)} ${d.score.toFixed(2)}`, dashed: false, title: `box ${d.index}: ${label(d.class, d.label)} ${d.score.toFixed(2)} · click to explain it` });
      }
    } else if (s?.kind === 'dense') {
      // the background covers most of a picture: drawn only while it is the target (the list still offers it)
      const background = (s.regions ?? []).length > 1 ? 0 : -1;
      for (const r of s.regions ?? []) {
        if (r.class === background && r.target !== current) continue;
        items.push({ target: r.target, box: r.box, cls: r.class, text: `${label(r.class, r.label)} · ${r.pixels} px`, dashed: true, title: `region ${r.class}: ${label(r.class, r.label)}, ${r.pixels} px · click to explain it`, mask: r.mask });
      }
    }
    for (const [overlay, on] of [[this.mapOverlay, true], [this.originalOverlay, beside]] as const) {
      overlay.replaceChildren();
      overlay.toggleAttribute('hidden', !on || items.length === 0);
      if (!on || items.length === 0) continue;
      overlay.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
      // tags are sized in image pixels: about 11 screen pixels tall at the drawn size
      const scale = Math.max(0.25, w / Math.max(1, (overlay === this.mapOverlay ? this.canvas : this.originalCanvas).getBoundingClientRect().width || 448));
      const tagH = 14 * scale;
      for (const it of items) {
        const [x0, y0, x1, y1] = it.box;
        const colour = CLASS_COLOURS[it.cls % CLASS_COLOURS.length];
        const pressed = it.target === current;
        // the tag stays inside the picture: shifted left where the box ends at its right edge
        const tagW = Math.max(20 * scale, (it.text.length * 6.4 + 6) * scale);
        const tagX = Math.max(0, Math.min(x0, w - tagW));
        const text = svg('text', { x: tagX + 3 * scale, y: Math.max(y0, tagH) - 3.5 * scale, 'font-size': 11 * scale }, it.text);
        text.style.fontSize = `${11 * scale}px`;
        const g = svg('g', { class: 'target', role: 'button', tabindex: 0, 'data-target': it.target, 'aria-pressed': String(pressed), 'aria-label': it.title },
          svg('title', {}, it.title),
          it.mask ? this.maskShape(it.mask, w, hgt, colour, pressed) : svg('rect', {
            x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0), fill: 'none', stroke: colour,
            'stroke-width': (pressed ? 2.5 : 1.25) * scale, ...(it.dashed ? { 'stroke-dasharray': `${4 * scale} ${3 * scale}` } : {}),
          }),
          svg('rect', { class: 'tag', x: tagX, y: Math.max(y0, tagH) - tagH, width: tagW, height: tagH, fill: colour, 'fill-opacity': pressed ? 1 : 0.8 }),
          text);
        g.addEventListener('click', () => this.emit<RetargetDetail>('al-retarget', { target: it.target }));
        g.addEventListener('keydown', (e) => {
          if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') {
            e.preventDefault();
            this.emit<RetargetDetail>('al-retarget', { target: it.target });
          }
        });
        overlay.append(g);
      }
    }
    const steps = s?.kind === 'sequence' ? s.steps ?? [] : [];
    this.sequence.hidden = steps.length === 0;
    this.sequence.replaceChildren(...steps.map((t) => h('button', {
      'attr:data-target': t.target, 'attr:aria-pressed': String(t.target === current),
      title: `step ${t.step}: ${label(t.index, t.label)} (${(t.probability * 100).toFixed(1)}%) · click to explain it`,
      'on:click': () => this.emit<RetargetDetail>('al-retarget', { target: t.target }),
    }, label(t.index, t.label))));
  }
}

customElements.define('al-heatmap', AlHeatmap);
