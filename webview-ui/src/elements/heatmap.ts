// <al-heatmap>: one attribution drawn over the image with visualize.ts, in a <canvas>.
import type { ViewSettings } from '../../../src/shared/protocol';
import { DEFAULT_VIEW, visualizeImageAttr, type RgbaImage, type Visualization } from '../../../src/shared/visualize';
import { AlElement, h } from './base';

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

const CSS = `
:host { position: relative; }
canvas { display: block; width: 100%; max-width: var(--al-heatmap-max, 448px); height: auto; image-rendering: auto;
  background: var(--vscode-editor-background); border: 1px solid var(--vscode-panel-border, transparent); }
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
  private readonly canvas = h('canvas', { 'attr:role': 'img' });
  private readonly captionEl = h('div', { class: 'caption muted' });
  private readonly badge = h('span', { class: 'badge' }, 'partial');
  /** the last successful drawing, or undefined */
  visualization: Visualization | undefined;

  constructor() {
    super(CSS);
    this.root.append(this.canvas, this.badge, this.captionEl);
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

  /** The canvas as drawn, for PNG export. */
  toDataURL(): string {
    return this.canvas.toDataURL('image/png');
  }

  protected update(): void {
    this.captionEl.textContent = this._caption;
    this.captionEl.hidden = !this._caption;
    this.badge.hidden = !this._partial;
    const img = this._image;
    if (!img) {
      this.canvas.width = 0;
      this.canvas.height = 0;
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
    const ctx = this.canvas.getContext('2d');
    ctx?.putImageData(new ImageData(rgba, img.width, img.height), 0, 0);
  }
}

customElements.define('al-heatmap', AlHeatmap);
