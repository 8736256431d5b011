// <al-text-view>: the panel for a text model — Captum's table, the token chips, the run's
// summary, predictions (click to retarget), the text-capable methods and export. It keeps the
// user's choices and reports actions with `al-text-*` events; <al-app> talks to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { MethodInfo, ParamValues, Prediction, TextAttributionPayload, TextContext } from '../../../src/shared/protocol';
import type { TextUnit } from '../../../src/shared/textScores';
import { defaultParams, missingRequired } from '../params';
import { AlElement, h } from './base';
import type { AlMethodPicker, MethodChangeDetail, ParamsChangeDetail } from './method-picker';
import type { AlPredictions, RetargetDetail } from './predictions';
import type { AlRunBar, RunProgressState, TargetChangeDetail } from './run-bar';
import type { AlTextChips, TextDisplayDetail } from './text-chips';
import type { AlTextTable } from './text-table';
import './method-picker';
import './predictions';
import './run-bar';
import './text-chips';
import './text-table';

/** What the user chose in text mode; <al-app> keeps it across a hidden panel. */
export interface TextUiState {
  method?: string;
  params: Record<string, ParamValues>;
  target?: number;
  unit: TextUnit;
  gamma: number;
}

export interface TextRunDetail {
  method: string;
  target?: number;
  params: ParamValues;
}

export interface TextExportDetail {
  format: 'json' | 'csv';
}

export function freshTextUi(): TextUiState {
  return { params: {}, unit: 'token', gamma: 1 };
}

const CSS = `
.text { font-family: var(--vscode-editor-font-family); margin: 4px 0 8px; padding: 6px 8px; border-left: 2px solid var(--vscode-textBlockQuote-border);
  background: var(--vscode-textBlockQuote-background); white-space: pre-wrap; overflow-wrap: anywhere; max-height: 8em; overflow: auto; }
.main { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(320px, 100%), 1fr)); gap: 16px 24px; align-items: start; }
section { min-width: 0; }
.summary { font-size: 12px; margin-top: 8px; }
.error { color: var(--vscode-errorForeground); font-size: 12px; min-height: 1.2em; }
.status { font-size: 12px; margin-top: 4px; }
`;

export class AlTextView extends AlElement {
  private _context: TextContext | undefined;
  private _result: TextAttributionPayload | undefined;
  private _predictions: Prediction[] = [];
  private _ui: TextUiState = freshTextUi();
  private _running = false;
  private _progress: RunProgressState | undefined;
  private _disabled = false;
  private _exportStatus = '';
  private paramErrors: string[] = [];
  private localError = '';
  private pickerSource: ParamValues | undefined;

  private readonly textEl = h('div', { class: 'text', 'attr:id': 'text' });
  private readonly table = h('al-text-table', { 'attr:id': 'text-table' }) as AlTextTable;
  private readonly chips = h('al-text-chips', { 'attr:id': 'text-chips' }) as AlTextChips;
  private readonly summary = h('div', { class: 'summary muted', 'attr:id': 'text-summary' });
  private readonly predictionsEl = h('al-predictions', { 'attr:id': 'text-predictions' }) as AlPredictions;
  private readonly picker = h('al-method-picker', { 'attr:id': 'text-picker' }) as AlMethodPicker;
  private readonly runBar = h('al-run-bar', { 'attr:id': 'text-runbar' }) as AlRunBar;
  private readonly errorEl = h('div', { class: 'error', 'attr:aria-live': 'polite' });
  private readonly exportButtons = (['json', 'csv'] as const).map((format) =>
    h('vscode-button', { 'attr:id': `export-text-${format}`, secondary: true, 'on:click': () => this.emit<TextExportDetail>('al-text-export', { format }) },
      `Export ${format.toUpperCase()}`));
  private readonly exportStatusEl = h('div', { class: 'status muted', 'attr:aria-live': 'polite' });

  constructor() {
    super(CSS);
    this.root.append(
      this.textEl,
      h('div', { class: 'main' },
        h('section', {},
          h('h3', {}, 'Captum visualize_text'), this.table,
          h('h3', {}, 'Tokens'), this.chips, this.summary),
        h('section', {},
          h('h3', {}, 'Predictions'), this.predictionsEl,
          h('h3', {}, 'Method'), this.picker,
          h('h3', {}, 'Run'), this.runBar, this.errorEl,
          h('h3', {}, 'Export'), h('div', { class: 'row' }, ...this.exportButtons), this.exportStatusEl)),
    );
    // Children's events stop here and come out as this element's own.
    const own = <T>(name: string, f: (d: T) => void) => this.root.addEventListener(name, (e) => {
      e.stopPropagation();
      f((e as CustomEvent<T>).detail);
    });
    own<RetargetDetail>('al-retarget', (d) => {
      if (typeof d.target !== 'number') return;
      this.setUi({ target: d.target });
      this.run();
    });
    own<TargetChangeDetail>('al-target-change', (d) => { if (typeof d.target === 'number') this.setUi({ target: d.target }); });
    own('al-run', () => this.run());
    own('al-cancel', () => this.emit('al-text-cancel', {}));
    own<MethodChangeDetail>('al-method-change', (d) => {
      const info = this.methodInfo(d.method);
      if (!info) return;
      this.paramErrors = [];
      this.setUi({ method: d.method, params: { ...this._ui.params, [d.method]: this._ui.params[d.method] ?? this.defaultsFor(info) } });
    });
    own<ParamsChangeDetail>('al-params-change', (d) => {
      this.paramErrors = d.errors;
      this.pickerSource = d.params;
      this.setUi({ params: { ...this._ui.params, [d.method]: d.params } }, false);
    });
    own<TextDisplayDetail>('al-text-display', (d) => this.setUi({ unit: d.unit, gamma: d.gamma }));
  }

  get context(): TextContext | undefined { return this._context; }
  set context(v: TextContext | undefined) { this._context = v; this.requestUpdate(); }

  get result(): TextAttributionPayload | undefined { return this._result; }
  set result(v: TextAttributionPayload | undefined) { this._result = v; this.requestUpdate(); }

  get predictions(): Prediction[] { return this._predictions; }
  set predictions(v: Prediction[]) { this._predictions = v; this.requestUpdate(); }

  get ui(): TextUiState { return this._ui; }
  set ui(v: TextUiState) { this._ui = { ...freshTextUi(), ...v }; this.requestUpdate(); }

  get running(): boolean { return this._running; }
  set running(v: boolean) { this._running = v; this.requestUpdate(); }

  get progress(): RunProgressState | undefined { return this._progress; }
  set progress(v: RunProgressState | undefined) { this._progress = v; this.requestUpdate(); }

  /** restricted mode: nothing runs */
  get disabled(): boolean { return this._disabled; }
  set disabled(v: boolean) { this._disabled = v; this.requestUpdate(); }

  get exportStatus(): string { return this._exportStatus; }
  set exportStatus(v: string) { this._exportStatus = v; this.requestUpdate(); }

  private methodInfo(id: string | undefined): MethodInfo | undefined {
    return this._context?.methods.find((m) => m.id === id);
  }

  private get method(): string {
    const m = this._ui.method;
    return m && this.methodInfo(m) ? m : this._context?.current.method ?? '';
  }

  /** A method's defaults, with what the host says it runs with for the current method. */
  private defaultsFor(info: MethodInfo): ParamValues {
    const host = this._context?.current.method === info.id ? this._context.current.params : {};
    return { ...defaultParams(info), ...host };
  }

  private params(): ParamValues {
    const info = this.methodInfo(this.method);
    return this._ui.params[this.method] ?? (info ? this.defaultsFor(info) : {});
  }

  private get target(): number | undefined {
    return this._ui.target ?? this._result?.target ?? this._context?.current.target ?? this._predictions[0]?.index;
  }

  private setUi(patch: Partial<TextUiState>, render = true): void {
    this._ui = { ...this._ui, ...patch };
    this.localError = '';
    this.emit<TextUiState>('al-text-state', this._ui);
    if (render) this.requestUpdate();
  }

  private run(): void {
    const info = this.methodInfo(this.method);
    if (!info || this._disabled || this._running) return;
    const params = this.params();
    const missing = missingRequired(info, params);
    this.localError = this.paramErrors[0] ?? (missing.length ? `${info.captumName} needs ${missing.join(', ')}: fill it in under Method` : '');
    if (this.localError) return this.requestUpdate();
    this.emit<TextRunDetail>('al-text-run', { method: info.id, target: this.target, params });
  }

  protected update(): void {
    const ctx = this._context;
    const r = this._result;
    this.textEl.textContent = ctx ? ctx.text : '';
    this.textEl.title = ctx?.source ? `from ${ctx.source}` : '';
    this.table.result = r;
    this.chips.result = r;
    this.chips.unit = this._ui.unit;
    this.chips.gamma = this._ui.gamma;
    const name = (id: string) => this.methodInfo(id)?.captumName ?? id;
    this.summary.textContent = r
      ? [
        `${name(r.method)} for ${r.targetLabel ?? `output ${r.target}`} · ${r.seconds.toFixed(2)} s`,
        r.delta !== undefined ? `convergence delta ${r.delta.toExponential(2)}` : '',
        r.layer ? `layer ${r.layer}` : '',
        `baseline token ${r.baselineToken.text}`,
        r.method === 'layer-integrated-gradients' || r.method === 'layer-gradient-x-activation' ? '' : `features: ${r.granularity}s`,
        r.truncated ? `${r.truncated} tokens cut (the model reads ${r.tokens.length})` : '',
      ].filter(Boolean).join(' · ')
      : '';

    const target = this.target;
    this.predictionsEl.predictions = this._predictions;
    this.predictionsEl.target = target;
    const methods = ctx?.methods ?? [];
    this.picker.methods = methods;
    this.picker.layers = ctx?.model.layers;
    const params = this.params();
    if (this.picker.method !== this.method || this.pickerSource !== params) {
      this.picker.method = this.method;
      this.picker.params = params;
      this.pickerSource = params;
    }
    this.runBar.target = target ?? 0;
    this.runBar.targetLabel = target === undefined ? '' : ctx?.model.labels?.[target] ?? this._predictions.find((p) => p.index === target)?.label ?? '';
    this.runBar.running = this._running;
    this.runBar.progress = this._running ? this._progress : undefined;
    this.runBar.disabled = this._disabled || !ctx;
    this.errorEl.textContent = this.localError;
    for (const b of this.exportButtons) b.disabled = !r;
    this.exportStatusEl.textContent = this._exportStatus;
  }
}

customElements.define('al-text-view', AlTextView);
