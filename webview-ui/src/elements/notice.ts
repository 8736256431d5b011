// <al-notice>: a one-line message (error, restricted mode, info) that never blocks the panel.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { AlElement, h } from './base';

export type NoticeKind = 'error' | 'warning' | 'info';

const CSS = `
.box { display: flex; gap: 8px; align-items: center; padding: 6px 8px; margin: 6px 0; border-radius: 2px; border: 1px solid; }
.error { border-color: var(--vscode-inputValidation-errorBorder); background: var(--vscode-inputValidation-errorBackground); }
.warning { border-color: var(--vscode-inputValidation-warningBorder); background: var(--vscode-inputValidation-warningBackground); }
.info { border-color: var(--vscode-inputValidation-infoBorder); background: var(--vscode-inputValidation-infoBackground); }
.text { flex: 1; overflow-wrap: anywhere; }
`;

export class AlNotice extends AlElement {
  private _kind: NoticeKind = 'info';
  private _message = '';
  private _dismissible = true;

  constructor() {
    super(CSS);
  }

  get kind(): NoticeKind { return this._kind; }
  set kind(v: NoticeKind) { this._kind = v; this.requestUpdate(); }

  /** empty = hidden */
  get message(): string { return this._message; }
  set message(v: string) { this._message = v; this.requestUpdate(); }

  get dismissible(): boolean { return this._dismissible; }
  set dismissible(v: boolean) { this._dismissible = v; this.requestUpdate(); }

  protected update(): void {
    this.hidden = !this._message;
    if (!this._message) {
      this.root.replaceChildren();
      return;
    }
    this.root.replaceChildren(h('div', { class: `box ${this._kind}`, 'attr:role': this._kind === 'error' ? 'alert' : 'status' },
      h('span', { class: 'text' }, this._message),
      this._dismissible ? h('vscode-button', { secondary: true, 'attr:aria-label': 'Dismiss', 'on:click': () => this.emit('al-dismiss', {}) }, 'Dismiss') : null));
  }
}

customElements.define('al-notice', AlNotice);
