// <al-export-bar>: export the current result as PNG (the canvas as drawn), NPY or JSON.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { AlElement, h } from './base';

export interface ExportDetail {
  format: 'png' | 'npy' | 'json';
}

const CSS = `
.status { font-size: 12px; margin-top: 4px; }
`;

export class AlExportBar extends AlElement {
  private _disabled = true;
  private _status = '';
  private readonly buttons = (['png', 'npy', 'json'] as const).map((format) =>
    h('vscode-button', { 'attr:id': `export-${format}`, secondary: true, 'on:click': () => this.emit<ExportDetail>('al-export', { format }) },
      `Export ${format.toUpperCase()}`));
  private readonly statusEl = h('div', { class: 'status muted', 'attr:aria-live': 'polite' });

  constructor() {
    super(CSS);
    this.root.append(h('div', { class: 'row' }, ...this.buttons), this.statusEl);
  }

  /** off until there is a result */
  get disabled(): boolean { return this._disabled; }
  set disabled(v: boolean) { this._disabled = v; this.requestUpdate(); }

  get status(): string { return this._status; }
  set status(v: string) { this._status = v; this.requestUpdate(); }

  protected update(): void {
    for (const b of this.buttons) b.disabled = this._disabled;
    this.statusEl.textContent = this._status;
  }
}

customElements.define('al-export-bar', AlExportBar);
