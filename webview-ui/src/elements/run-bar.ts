// <al-run-bar>: target, Run / Cancel and the progress of the running request.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { isStructuredTarget, type PanelTarget } from '../../../src/shared/protocol';
import { AlElement, h } from './base';

export interface TargetChangeDetail {
  target: PanelTarget;
}

export interface RunProgressState {
  done: number;
  total: number;
  phase?: string;
}

const CSS = `
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
vscode-textfield { width: 100px; }
.status { font-size: 12px; min-height: 1.4em; margin-top: 4px; }
vscode-progress-bar { margin-top: 6px; }
`;

export class AlRunBar extends AlElement {
  private _running = false;
  private _progress: RunProgressState | undefined;
  private _disabled = false;
  private _target: PanelTarget = 0;
  private _targetLabel = '';

  private readonly targetField = h('vscode-textfield', {
    'attr:id': 'target',
    type: 'number', min: 0, step: 1,
    'on:change': (e: Event) => {
      const v = (e.target as HTMLElement & { value: string }).value.trim();
      const n = Number(v);
      if (v !== '' && Number.isInteger(n) && n >= 0) this.emit<TargetChangeDetail>('al-target-change', { target: n });
      else if (isStructuredTarget(v)) this.emit<TargetChangeDetail>('al-target-change', { target: v });
    },
  });
  private readonly runButton = h('vscode-button', { 'attr:id': 'run', 'on:click': () => this.emit('al-run', {}) }, 'Run');
  private readonly cancelButton = h('vscode-button', { 'attr:id': 'cancel', secondary: true, 'on:click': () => this.emit('al-cancel', {}) }, 'Cancel');
  private readonly bar = h('vscode-progress-bar', { 'attr:aria-label': 'Attribution progress' });
  private readonly status = h('div', { class: 'status muted', 'attr:aria-live': 'polite' });
  private readonly labelEl = h('span', { class: 'muted' });

  constructor() {
    super(CSS);
    this.root.append(
      h('div', { class: 'row' },
        h('label', { class: 'field' }, h('span', {}, 'Target output'), this.targetField),
        this.runButton, this.cancelButton, this.labelEl),
      this.bar, this.status);
  }

  get running(): boolean { return this._running; }
  set running(v: boolean) { this._running = v; this.requestUpdate(); }

  get progress(): RunProgressState | undefined { return this._progress; }
  set progress(v: RunProgressState | undefined) { this._progress = v; this.requestUpdate(); }

  /** restricted mode: Run is off */
  get disabled(): boolean { return this._disabled; }
  set disabled(v: boolean) { this._disabled = v; this.requestUpdate(); }

  /** a class index, or a structured target (`box:0`, `region:1`, `step:3`: the field takes text then) */
  get target(): PanelTarget { return this._target; }
  set target(v: PanelTarget) { this._target = v; this.requestUpdate(); }

  get targetLabel(): string { return this._targetLabel; }
  set targetLabel(v: string) { this._targetLabel = v; this.requestUpdate(); }

  protected update(): void {
    const type = typeof this._target === 'string' ? 'text' : 'number';
    if ((this.targetField as HTMLElement & { type: string }).type !== type) (this.targetField as HTMLElement & { type: string }).type = type;
    if (this.targetField.value !== String(this._target)) this.targetField.value = String(this._target);
    this.labelEl.textContent = this._targetLabel;
    this.runButton.disabled = this._disabled || this._running;
    this.cancelButton.disabled = !this._running;
    const p = this._progress;
    this.bar.hidden = !this._running;
    if (p && p.total > 0) {
      this.bar.max = p.total;
      this.bar.value = p.done;
    } else {
      this.bar.value = undefined;
    }
    this.status.textContent = this._running
      ? `${p?.phase ?? 'running'}${p && p.total > 0 ? ` ${p.done}/${p.total}` : ''}…`
      : '';
  }
}

customElements.define('al-run-bar', AlRunBar);
