// <al-app>: the Attribution panel. The only element that talks to the host; children report
// user actions with bubbling events and get data through properties.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { base64ToFloat32 } from '../../../src/shared/base64';
import type {
  AttributionMap, AttributionPayload, CompareResultMessage, FromWebview, HostPanelState, InitMessage, MethodInfo, PanelImage, PanelTarget, ParamValues,
  Prediction, PreprocessValues, TextAttributionPayload, TextContext, ToWebview, ViewSettings, WorkspaceTrust,
} from '../../../src/shared/protocol';
import { compareSet } from '../../../src/shared/compare';
import { layerDisplayName } from '../../../src/shared/layerNames';
import { structuredTitle, targetWords } from '../../../src/shared/targets';
import { DEFAULT_VIEW, type RgbaImage } from '../../../src/shared/visualize';
import { blankImage, loadPanelImage } from '../image';
import { defaultParams, missingRequired } from '../params';
import { connectHost, type Host } from '../vscode';
import { AlElement, h } from './base';
import type { AlCompare, CompareChangeDetail, CompareExportDetail, CompareItem, CompareOpenDetail } from './compare';
import type { ExportDetail, AlExportBar } from './export-bar';
import type { AlHeatmap, DecodedMap, RenderedDetail, RenderErrorDetail } from './heatmap';
import type { AlLegend } from './legend';
import type { AlMethodPicker, MethodChangeDetail, ParamsChangeDetail } from './method-picker';
import type { AlNotice } from './notice';
import type { AlPredictions, RetargetDetail } from './predictions';
import type { AlPreprocessEditor, PreprocessChangeDetail, PreprocessError, PreprocessSaveDetail } from './preprocess-editor';
import type { AlRunBar, TargetChangeDetail } from './run-bar';
import type { AlViewControls, ViewChangeDetail } from './view-controls';
import './compare';
import './sanityStrip';
import type { AlSanity } from './sanityStrip';
import './export-bar';
import './heatmap';
import './legend';
import './method-picker';
import './notice';
import './predictions';
import './preprocess-editor';
import './run-bar';
import './view-controls';
import { freshTextUi, type AlTextView, type TextExportDetail, type TextRunDetail, type TextUiState } from './text-view';

/** What survives the panel being hidden (getState/setState); JSON only. */
export interface PanelState {
  version: 1;
  view: ViewSettings;
  method?: string;
  /** edited parameters per method */
  params: Record<string, ParamValues>;
  /** a class index, or a structured target (`box:0`, `region:1`, `step:3`) */
  target?: PanelTarget;
  compareSelected: string[];
  sharedScale: boolean;
  init?: InitMessage;
  predictions?: Prediction[];
  result?: AttributionPayload;
  /** the request `result` answered: drawn only while the host's state says it is the one shown */
  resultRequestId?: string;
  /** the host's whole state, last received: it wins over everything above */
  host?: HostPanelState;
  compare?: CompareResultMessage;
  error?: string;
  /** the preprocessing editor: `base` is the host's info the values started from */
  prep?: {
    base: string;
    /** the keys the user set (the saved file's, then edits) */
    values: PreprocessValues;
    /** the config of the last preview the host answered: what runs use now */
    effective?: PreprocessValues;
    preview?: { image?: PanelImage; predictions: Prediction[] };
    error?: PreprocessError;
    status?: string;
  };
  /** the preprocessing and the image the shown map was made with: another config makes it stale */
  mapMade?: { config: string; image?: PanelImage };
  /** text mode: a text model's context, its last result and the user's choices */
  text?: { context: TextContext; result?: TextAttributionPayload; predictions?: Prediction[]; ui: TextUiState };
}

interface Running {
  requestId: string;
  kind: 'single' | 'compare' | 'export';
}

const CSS = `
:host { padding: 8px 12px 24px; max-width: 1200px; }
header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; margin-bottom: 4px; }
header h2 { font-size: 14px; margin: 0; font-weight: 600; }
header .spacer { flex: 1; }
.main { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); gap: 16px 24px; align-items: start; }
section { min-width: 0; }
.stale { font-size: 12px; margin-top: 4px; color: var(--vscode-editorWarning-foreground, var(--vscode-foreground)); }
.summary { font-size: 12px; margin-top: 6px; }
.note { font-size: 12px; margin-top: 4px; }
al-legend { margin-top: 6px; max-width: 448px; }
`;

function decodeMap(m: AttributionMap): DecodedMap {
  return { data: base64ToFloat32(m.data), dims: m.dims };
}

function freshState(): PanelState {
  return { version: 1, view: { ...DEFAULT_VIEW }, params: {}, compareSelected: [], sharedScale: false };
}

export class AlApp extends AlElement {
  private host: Host<PanelState> | undefined;
  private state: PanelState = freshState();
  private running: Running | undefined;
  private exportRequest: string | undefined;
  private image: RgbaImage | undefined;
  private resultMap: DecodedMap | undefined;
  private seq = 0;
  /** user changed the view: host defaults no longer apply */
  private viewTouched = false;

  private readonly titleEl = h('h2');
  private readonly inputEl = h('span', { class: 'muted' });
  private readonly restricted = h('al-notice', { 'attr:id': 'restricted', kind: 'warning', dismissible: false }) as AlNotice;
  private readonly errorEl = h('al-notice', { 'attr:id': 'error', kind: 'error' }) as AlNotice;
  private readonly heatmap = h('al-heatmap', { 'attr:id': 'heatmap', 'attr:paired': true }) as AlHeatmap;
  private readonly legend = h('al-legend', { 'attr:id': 'legend' }) as AlLegend;
  private readonly viewControls = h('al-view-controls', { 'attr:id': 'view' }) as AlViewControls;
  private readonly summary = h('div', { class: 'summary muted', 'attr:id': 'summary' });
  private readonly predictions = h('al-predictions', { 'attr:id': 'predictions' }) as AlPredictions;
  private readonly picker = h('al-method-picker', { 'attr:id': 'picker' }) as AlMethodPicker;
  private readonly runBar = h('al-run-bar', { 'attr:id': 'runbar' }) as AlRunBar;
  private readonly exportBar = h('al-export-bar', { 'attr:id': 'export' }) as AlExportBar;
  private readonly compare = h('al-compare', { 'attr:id': 'compare' }) as AlCompare;
  private readonly sanity = h('al-sanity', { 'attr:id': 'sanity' }) as AlSanity;
  private paramErrors: string[] = [];
  /** the parameters object the picker was last given or reported */
  private pickerSource: ParamValues | undefined;
  private readonly textView = h('al-text-view', { 'attr:id': 'text-view' }) as AlTextView;
  private readonly prepEditor = h('al-preprocess-editor', { 'attr:id': 'preprocess' }) as AlPreprocessEditor;
  private readonly prepGuessed = h('al-notice', { 'attr:id': 'preprocess-guessed', kind: 'warning', dismissible: false }) as AlNotice;
  private readonly staleEl = h('div', { class: 'stale', 'attr:id': 'stale', 'attr:role': 'status' });
  private readonly noteEl = h('div', { class: 'note muted', 'attr:id': 'note', 'attr:role': 'status' });
  private prepTimer: ReturnType<typeof setTimeout> | undefined;
  /** the newest preview and save requests; older answers are dropped */
  private prepRequest: string | undefined;
  private saveRequest: string | undefined;
  private previewImage: RgbaImage | undefined;
  /** the picture the map was made on, drawn while the map is stale */
  private mapImage: RgbaImage | undefined;
  /** what only image mode shows */
  private imageParts: Element[] = [];

  constructor() {
    super(CSS);
    this.root.append(
      h('header', {}, this.titleEl, this.inputEl, h('span', { class: 'spacer' }),
        h('vscode-button', { 'attr:id': 'settings', secondary: true, 'on:click': () => this.post({ type: 'openSettings' }) }, 'Settings')),
      this.restricted,
      this.errorEl,
      this.prepGuessed,
      h('div', { class: 'main' },
        h('section', {}, this.heatmap, this.legend, this.summary, this.staleEl, this.noteEl, h('h3', {}, 'View'), this.viewControls),
        h('section', {},
          h('h3', {}, 'Predictions'), this.predictions,
          h('h3', {}, 'Preprocessing'), this.prepEditor,
          h('h3', {}, 'Method'), this.picker,
          h('h3', {}, 'Run'), this.runBar,
          h('h3', {}, 'Export'), this.exportBar)),
      h('h3', {}, 'Compare methods'), this.compare,
      h('h3', {}, 'Sanity check'), this.sanity,
    );
    this.imageParts = [...this.root.children].filter((el) => el.matches('.main, h3') || el === this.compare || el === this.sanity || el === this.prepGuessed);
    this.root.addEventListener('al-sanity-run', () => this.runSanity());
    this.root.addEventListener('al-sanity-cancel', () => this.sanity.requestId && this.post({ type: 'cancel', requestId: this.sanity.requestId }));
    this.root.addEventListener('al-preprocess-change', (e) => this.editPreprocess((e as CustomEvent<PreprocessChangeDetail>).detail.values));
    this.root.addEventListener('al-preprocess-save', (e) => this.savePreprocess((e as CustomEvent<PreprocessSaveDetail>).detail.values));
    this.root.addEventListener('al-preprocess-reset', () => this.editPreprocess({ ...(this.state.init?.preprocess?.saved ?? {}) }, true));
    this.root.addEventListener('al-text-run', (e) => this.runText((e as CustomEvent<TextRunDetail>).detail));
    this.root.addEventListener('al-text-cancel', () => this.cancel());
    this.root.addEventListener('al-text-export', (e) => this.exportText((e as CustomEvent<TextExportDetail>).detail.format));
    this.root.addEventListener('al-text-state', (e) => {
      if (!this.state.text) return;
      this.state.text.ui = (e as CustomEvent<TextUiState>).detail;
      this.save();
    });
    this.heatmap.addEventListener('al-rendered', (e) => { this.legend.info = (e as CustomEvent<RenderedDetail>).detail; });
    this.heatmap.addEventListener('al-render-error', (e) => {
      this.legend.info = undefined;
      this.showError((e as CustomEvent<RenderErrorDetail>).detail.message);
    });
    this.errorEl.addEventListener('al-dismiss', () => this.showError(''));
    this.root.addEventListener('al-retarget', (e) => this.retarget((e as CustomEvent<RetargetDetail>).detail.target));
    this.root.addEventListener('al-target-change', (e) => this.setTarget((e as CustomEvent<TargetChangeDetail>).detail.target));
    this.root.addEventListener('al-method-change', (e) => this.changeMethod((e as CustomEvent<MethodChangeDetail>).detail.method));
    this.root.addEventListener('al-params-change', (e) => this.changeParams((e as CustomEvent<ParamsChangeDetail>).detail));
    this.root.addEventListener('al-view-change', (e) => this.changeView((e as CustomEvent<ViewChangeDetail>).detail.view));
    this.root.addEventListener('al-run', () => this.run());
    this.root.addEventListener('al-cancel', () => this.cancel());
    this.root.addEventListener('al-export', (e) => this.export((e as CustomEvent<ExportDetail>).detail.format));
    this.root.addEventListener('al-compare-change', (e) => this.compareChanged((e as CustomEvent<CompareChangeDetail>).detail));
    this.root.addEventListener('al-compare-run', (e) => this.runCompare((e as CustomEvent<CompareChangeDetail>).detail));
    this.root.addEventListener('al-compare-open', (e) => {
      if (!this.running) this.post({ type: 'openCompareMap', requestId: this.nextId('open'), method: (e as CustomEvent<CompareOpenDetail>).detail.method });
    });
    this.root.addEventListener('al-compare-export', (e) => this.exportCompare((e as CustomEvent<CompareExportDetail>).detail));
  }

  override connectedCallback(): void {
    if (!this.host) {
      this.host = connectHost<PanelState>();
      const saved = this.host.getState();
      if (saved && saved.version === 1) this.restore(saved);
      window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
      this.post({ type: 'ready' });
    }
    super.connectedCallback();
  }

  // ---- host → panel ---------------------------------------------------------------------------

  private receive(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') return;
    const m = msg as ToWebview;
    switch (m.type) {
      case 'init':
        this.applyInit(m);
        if (m.panel) this.applyHost(m.panel);
        break;
      case 'state': {
        const base = this.state.init;
        if (!base) break;
        this.applyInit({ ...base, ...Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)), type: 'init' } as InitMessage);
        if (m.panel) this.applyHost(m.panel);
        else if (m.current) this.followCurrent(m.current);
        break;
      }
      case 'predictions':
        if (this.state.text) this.state.text.predictions = m.predictions;
        else this.state.predictions = m.predictions;
        break;
      case 'textContext': {
        const prev = this.state.text;
        const same = prev && m.context && prev.context.text === m.context.text && prev.context.model.name === m.context.model.name;
        this.state.text = m.context
          ? { context: m.context, result: same ? prev.result : undefined, predictions: same ? prev.predictions : undefined, ui: prev?.ui ?? freshTextUi() }
          : undefined;
        if (m.context && !same) this.state.text!.ui = { ...this.state.text!.ui, target: undefined };
        break;
      }
      case 'textResult':
        if (this.running?.requestId === m.requestId) this.running = undefined;
        if (!this.state.text) break;
        this.state.text.result = m.result;
        this.state.text.predictions = m.result.predictions;
        this.state.text.ui = { ...this.state.text.ui, target: m.result.target };
        break;
      case 'runStarted':
        this.running = { requestId: m.requestId, kind: m.kind };
        this.runBar.progress = undefined;
        if (m.kind === 'single' && !this.state.text) this.state.target = m.target;
        if (m.kind === 'compare') this.compare.startRun(m.methods);
        this.showError('');
        break;
      case 'runProgress':
        if (this.running?.requestId !== m.requestId) return;
        this.runBar.progress = { done: m.done, total: m.total, phase: m.method ? `${m.method}: ${m.phase ?? 'running'}` : m.phase };
        this.textView.progress = this.runBar.progress;
        if (m.method && this.running.kind === 'compare') this.compare.progress(m.method, m.done, m.total, m.phase);
        if (m.partial && this.running.kind === 'single') {
          this.heatmap.map = decodeMap(m.partial);
          this.heatmap.partial = true;
        }
        return; // progress is not persisted
      case 'runResult':
        if (this.running?.requestId === m.requestId) this.running = undefined;
        this.state.result = m.result;
        this.state.resultRequestId = m.requestId;
        this.state.target = m.result.spec ?? m.result.target;
        this.resultMap = decodeMap(m.result.map);
        this.mapMade();
        break;
      case 'compareTile':
        if (this.running?.requestId !== m.requestId) return;
        this.compare.tileDone(m.method, m.result ? { payload: m.result, map: decodeMap(m.result.map) } : undefined, m.error);
        return; // the tiles so far are not persisted: compareResult is
      case 'compareResult':
        if (this.running?.requestId === m.requestId) {
          this.running = undefined;
          this.compare.reveal();
        }
        this.compare.endRun();
        this.state.compare = m;
        this.mapMade();
        break;
      case 'preprocessPreview': {
        if (m.requestId !== this.prepRequest || !this.state.prep) return;
        this.prepRequest = undefined;
        this.state.prep = { ...this.state.prep, effective: m.config, preview: { image: m.image, predictions: m.predictions }, error: undefined, status: undefined };
        this.state.predictions = m.predictions;
        void this.loadPreviewImage();
        break;
      }
      case 'preprocessInvalid':
        if ((m.requestId !== this.prepRequest && m.requestId !== this.saveRequest) || !this.state.prep) return;
        if (m.requestId === this.prepRequest) this.prepRequest = undefined;
        this.state.prep.error = { key: m.key, message: m.message };
        break;
      case 'preprocessSaved':
        if (m.requestId !== this.saveRequest || !this.state.prep) return;
        this.saveRequest = undefined;
        this.state.prep.status = m.message;
        break;
      case 'runCancelled':
        if (this.running?.requestId === m.requestId) this.running = undefined;
        if (!this.running) this.compare.endRun();
        break;
      case 'error':
        if (m.requestId && this.running?.requestId === m.requestId) this.running = undefined;
        if (!this.running) this.compare.endRun();
        if (m.requestId && m.requestId === this.exportRequest) this.exportRequest = undefined;
        this.showError(m.message);
        break;
      case 'requestExport':
        this.export(m.format, m.requestId);
        return;
      case 'sanityProgress':
        this.sanity.progress(m.requestId, m.done, m.total, m.phase);
        return;
      case 'sanityResult':
        this.sanity.result(m.requestId, m.result);
        return;
      case 'sanityEnded':
        this.sanity.ended(m.requestId, m.cancelled, m.message);
        return;
      case 'exportDone':
        if (m.requestId === this.exportRequest) this.exportRequest = undefined;
        this.exportBar.status = m.message;
        this.textView.exportStatus = m.message;
        if (m.requestId === this.compareExport) this.compare.status = m.message;
        if (!m.ok) this.showError(m.message);
        return;
      default:
        return;
    }
    this.save();
    this.requestUpdate();
  }

  private applyInit(m: InitMessage): void {
    const prev = this.state.init;
    this.state.init = m;
    if (m.predictions) this.state.predictions = m.predictions;
    const methods = m.methods;
    if (!this.state.method || !methods.some((x) => x.id === this.state.method)) this.state.method = m.current.method;
    if (!this.state.params[m.current.method] && m.current.method === this.state.method) {
      const info = methods.find((x) => x.id === m.current.method);
      this.state.params[m.current.method] = { ...(info ? defaultParams(info) : {}), ...m.current.params };
    }
    this.state.target ??= m.current.target ?? m.predictions?.[0]?.index ?? 0;
    if (m.view && !this.viewTouched) this.state.view = { ...DEFAULT_VIEW, ...m.view };
    // the attributionLens.compareMethods setting, as the palette's Compare Methods runs it
    if (m.compareMethods) this.state.compareSelected = compareSet(methods, m.compareMethods);
    this.state.compareSelected = this.state.compareSelected.filter((id) => methods.some((x) => x.id === id));
    if (!prev || prev.image !== m.image) void this.loadImage();
    const base = JSON.stringify(m.preprocess ?? null);
    // new preprocessing from the host (another model, a saved file): the editor starts from it
    if (m.preprocess && this.state.prep?.base !== base) {
      const same = prev?.preprocess?.file === m.preprocess.file;
      this.state.prep = { base, values: { ...m.preprocess.saved }, preview: same ? this.state.prep?.preview : undefined, status: same ? this.state.prep?.status : undefined };
      this.prepRequest = undefined;
    }
  }

  /** The shown map was made now, with the current preprocessing, on the current image. */
  private mapMade(): void {
    this.state.mapMade = { config: JSON.stringify(this.effectivePreprocess() ?? null), image: this.state.init?.image };
    this.mapImage = undefined;
  }

  private effectivePreprocess(): PreprocessValues | undefined {
    return this.state.prep?.effective ?? this.state.init?.preprocess?.config;
  }

  private get mapStale(): boolean {
    const made = this.state.mapMade;
    return !!made && !!(this.state.result || this.state.compare) && made.config !== JSON.stringify(this.effectivePreprocess() ?? null);
  }

  private async loadPreviewImage(): Promise<void> {
    const img = this.state.prep?.preview?.image;
    this.previewImage = img ? await loadPanelImage(img).catch(() => undefined) : undefined;
    this.requestUpdate();
  }

  private async loadMapImage(): Promise<void> {
    const img = this.state.mapMade?.image;
    if (!img || this.mapImage) return;
    this.mapImage = await loadPanelImage(img).catch(() => undefined);
    this.requestUpdate();
  }

  /**
   * The host's whole state: the picker, its parameters, the target and the predictions follow it,
   * whatever this webview restored or chose before (the host answers every choice with it).
   */
  private applyHost(p: HostPanelState): void {
    this.state.host = p;
    const methods = this.state.init?.methods ?? [];
    for (const [id, values] of Object.entries(p.params)) {
      const info = methods.find((x) => x.id === id);
      const next = { ...(info ? defaultParams(info) : {}), ...values };
      if (JSON.stringify(next) !== JSON.stringify(this.state.params[id])) this.state.params[id] = next;
    }
    if (this.state.method !== p.method) this.paramErrors = [];
    this.state.method = p.method;
    this.state.target = p.target;
    this.state.predictions = p.predictions;
    if (p.view) this.state.view = { ...DEFAULT_VIEW, ...p.view };
  }

  /** The result drawn: with the host's state, only the one it says is shown (another image's map never lingers). */
  private get shownResult(): AttributionPayload | undefined {
    const r = this.state.result;
    const host = this.state.host;
    if (!host) return r;
    return r && host.shown && host.shown.requestId === this.state.resultRequestId ? r : undefined;
  }

  /** The host changed the method (a run started from a command): the picker shows it, with the host's values. */
  private followCurrent(current: InitMessage['current']): void {
    const info = this.state.init?.methods.find((x) => x.id === current.method);
    if (!info) return;
    this.state.method = current.method;
    this.state.params[current.method] = { ...defaultParams(info), ...current.params };
    this.paramErrors = [];
  }

  private async loadImage(): Promise<void> {
    const img = this.state.init?.image;
    try {
      this.image = img ? await loadPanelImage(img) : undefined;
    } catch (e) {
      this.image = undefined;
      this.showError(e instanceof Error ? e.message : String(e));
    }
    this.requestUpdate();
  }

  private restore(saved: PanelState): void {
    this.state = { ...freshState(), ...saved };
    this.viewTouched = true;
    if (saved.result) this.resultMap = decodeMap(saved.result.map);
    if (saved.init) {
      const init = saved.init;
      this.state.init = undefined;
      this.applyInit(init);
    }
    if (saved.prep?.preview) void this.loadPreviewImage();
  }

  // ---- panel → host ---------------------------------------------------------------------------

  private post(msg: FromWebview): void {
    this.host?.post(msg);
  }

  private nextId(prefix: string): string {
    return `${prefix}${Date.now().toString(36)}-${++this.seq}`;
  }

  private get methodInfo(): MethodInfo | undefined {
    return this.state.init?.methods.find((m) => m.id === this.state.method);
  }

  private get trust(): WorkspaceTrust {
    return this.state.init?.trust ?? { restricted: false };
  }

  private currentParams(): ParamValues {
    const info = this.methodInfo;
    return this.state.params[this.state.method ?? ''] ?? (info ? defaultParams(info) : {});
  }

  private run(): void {
    const info = this.methodInfo;
    if (!info || this.trust.restricted || this.running) return;
    if (this.paramErrors.length > 0) return this.showError(this.paramErrors[0]);
    const params = this.currentParams();
    const missing = missingRequired(info, params);
    if (missing.length > 0) {
      return this.showError(`${info.captumName} needs ${missing.join(', ')}: fill ${missing.length > 1 ? 'them' : 'it'} in under Method and run again`);
    }
    this.post({ type: 'runAttribution', requestId: this.nextId('run'), method: info.id, target: this.state.target ?? 0, params });
  }

  /** The Sanity check button: the cascade for the method, target and parameters the panel shows (the strip keeps its own result). */
  private runSanity(): void {
    const info = this.methodInfo;
    if (!info || this.trust.restricted) return;
    if (this.paramErrors.length > 0) return this.showError(this.paramErrors[0]);
    const requestId = this.nextId('sanity');
    this.sanity.start(requestId);
    this.post({ type: 'runSanity', requestId, method: info.id, target: this.state.target ?? 0, params: this.currentParams() });
  }

  private retarget(target: PanelTarget): void {
    this.setTarget(target);
    if (this.trust.restricted) return;
    this.post({ type: 'retarget', requestId: this.nextId('retarget'), target });
  }

  private setTarget(target: PanelTarget): void {
    this.state.target = target;
    this.save();
    this.requestUpdate();
  }

  private cancel(): void {
    this.post(this.running ? { type: 'cancel', requestId: this.running.requestId } : { type: 'cancel' });
  }

  private changeMethod(method: string): void {
    const info = this.state.init?.methods.find((m) => m.id === method);
    if (!info) return;
    this.state.method = method;
    this.state.params[method] ??= defaultParams(info);
    this.paramErrors = [];
    this.post({ type: 'changeMethod', method, params: this.state.params[method] });
    this.save();
    this.requestUpdate();
  }

  private changeParams(d: ParamsChangeDetail): void {
    this.state.params[d.method] = d.params;
    this.pickerSource = d.params;
    this.paramErrors = d.errors;
    if (d.errors.length === 0) this.post({ type: 'changeMethod', method: d.method, params: d.params });
    this.save();
  }

  private changeView(view: ViewSettings): void {
    this.state.view = view;
    this.viewTouched = true;
    this.post({ type: 'changeView', view });
    this.showError('');
    this.save();
    this.requestUpdate();
  }

  /** `requestId` is the host's when it asked for the view (palette export). */
  private export(format: 'png' | 'npy' | 'json', requestId = this.nextId('export')): void {
    if (!this.state.result) return this.showError('Nothing to export yet: run an attribution first.');
    this.exportRequest = requestId;
    this.exportBar.status = `Exporting ${format.toUpperCase()}…`;
    if (format === 'png') this.post({ type: 'export', requestId, format, pngDataUrl: this.heatmap.figureDataURL(this.figureTitle()) });
    else this.post({ type: 'export', requestId, format });
  }

  /** The exported figure's title: method, target, model (as Captum users caption theirs). */
  private figureTitle(): string {
    const r = this.state.result;
    if (!r) return this.state.init?.model.name ?? '';
    const name = this.state.init?.methods.find((m) => m.id === r.method)?.captumName ?? r.method;
    if (r.spec) return `${name} for ${structuredTitle(r.spec, r.structured ?? this.state.host?.structured, this.state.init?.model)} · ${this.state.init?.model.name ?? ''}`;
    return `${name} for ${r.targetLabel ?? `output ${r.target}`} (${r.target}) · ${this.state.init?.model.name ?? ''}`;
  }

  private compareChanged(d: CompareChangeDetail): void {
    // the checkboxes are the attributionLens.compareMethods setting: the host writes it (and the palette reads it)
    if (d.selected.join() !== this.state.compareSelected.join()) this.post({ type: 'setCompareMethods', methods: d.selected });
    this.state.compareSelected = d.selected;
    this.state.sharedScale = d.sharedScale;
    this.save();
    this.requestUpdate();
  }

  private runCompare(d: CompareChangeDetail): void {
    if (this.trust.restricted || this.running || d.selected.length === 0) return;
    const params: Record<string, ParamValues> = {};
    for (const id of d.selected) if (this.state.params[id]) params[id] = this.state.params[id];
    this.post({ type: 'compare', requestId: this.nextId('compare'), methods: d.selected, target: this.state.target ?? 0, sharedScale: d.sharedScale, params });
  }

  /** the last export of a compare tile or grid: its answer shows under the grid */
  private compareExport: string | undefined;

  /** A compare tile (PNG figure or NPY of its values) or the whole grid (PNG figure). */
  private exportCompare(d: CompareExportDetail): void {
    if (!this.state.compare) return;
    const requestId = this.nextId('export');
    this.exportRequest = requestId;
    this.compareExport = requestId;
    this.compare.status = `Exporting ${d.format.toUpperCase()}…`;
    const what = d.method ? { method: d.method } : { grid: true as const };
    if (d.format === 'png') this.post({ type: 'export', requestId, format: 'png', pngDataUrl: d.pngDataUrl, ...what });
    else this.post({ type: 'export', requestId, format: d.format, ...what });
  }

  private runText(d: TextRunDetail): void {
    if (this.trust.restricted || this.running || !this.state.text) return;
    this.post({ type: 'runText', requestId: this.nextId('text'), method: d.method, params: d.params, ...(d.target === undefined ? {} : { target: d.target }) });
  }

  private exportText(format: 'json' | 'csv'): void {
    if (!this.state.text?.result) return;
    const requestId = this.nextId('export');
    this.exportRequest = requestId;
    this.textView.exportStatus = `Exporting ${format.toUpperCase()}…`;
    this.post({ type: 'exportText', requestId, format });
  }

  /** Edits go to the host as one preview request once the user pauses; `now` skips the wait (Reset). */
  private editPreprocess(values: PreprocessValues, now = false): void {
    if (!this.state.prep || this.trust.restricted) return;
    this.state.prep = { ...this.state.prep, values, error: undefined, status: undefined };
    if (now) this.prepEditor.values = values;
    clearTimeout(this.prepTimer);
    const requestId = this.nextId('prep');
    this.prepRequest = requestId;
    this.prepTimer = setTimeout(() => this.post({ type: 'previewPreprocess', requestId, config: values }), now ? 0 : 250);
    this.save();
    this.requestUpdate();
  }

  private savePreprocess(values: PreprocessValues): void {
    if (!this.state.prep || this.trust.restricted) return;
    // Save checks the values itself (the host answers for them): a preview still waiting is moot
    clearTimeout(this.prepTimer);
    this.prepRequest = undefined;
    const requestId = this.nextId('save');
    this.saveRequest = requestId;
    this.state.prep = { ...this.state.prep, values, error: undefined, status: 'Saving…' };
    this.post({ type: 'savePreprocess', requestId, config: values });
    this.save();
    this.requestUpdate();
  }

  private showError(message: string): void {
    this.state.error = message || undefined;
    this.errorEl.message = message;
    this.save();
  }

  private save(): void {
    this.host?.setState(this.state);
  }

  // ---- render ---------------------------------------------------------------------------------

  protected update(): void {
    const s = this.state;
    const init = s.init;
    const text = s.text;
    const model = text?.context.model ?? init?.model;
    this.titleEl.textContent = model ? model.name : 'Attribution Lens';
    this.inputEl.textContent = model ? model.inputs.map((i) => `${i.name} [${i.dims.map((d) => d ?? '?').join('×')}]`).join(', ') : 'waiting for the model…';
    const trust = this.trust;
    this.restricted.message = trust.restricted ? `Restricted mode: ${trust.reason}` : '';
    this.errorEl.message = s.error ?? '';
    for (const el of this.imageParts) (el as HTMLElement).hidden = !!text;
    // in the page only in text mode, so image mode's elements stay the only ones of their kind
    if (text && !this.textView.isConnected) this.errorEl.after(this.textView);
    else if (!text && this.textView.isConnected) this.textView.remove();
    if (text) {
      this.textView.context = text.context;
      this.textView.result = text.result;
      this.textView.predictions = text.predictions ?? [];
      if (this.textView.ui !== text.ui) this.textView.ui = text.ui;
      this.textView.running = !!this.running && this.running.kind === 'single';
      this.textView.disabled = trust.restricted;
      return;
    }

    const labels = model?.labels;
    const target = s.target ?? 0;
    const running = !!this.running && this.running.kind !== 'export';
    const structured = s.host?.structured;
    this.predictions.predictions = s.predictions ?? [];
    this.predictions.structured = structured;
    this.predictions.labels = labels;
    this.predictions.target = target;
    this.heatmap.structured = structured;
    this.heatmap.labels = labels;
    this.heatmap.target = target;
    this.picker.methods = init?.methods ?? [];
    this.picker.layers = model?.layers;
    // re-render the fields only when the method or the stored parameters changed from outside
    const params = this.currentParams();
    if (this.picker.method !== (s.method ?? '') || this.pickerSource !== params) {
      this.picker.method = s.method ?? '';
      this.picker.params = params;
      this.pickerSource = params;
    }
    this.runBar.target = target;
    this.runBar.targetLabel = typeof target === 'string' ? targetWords(target, structured, labels)
      : labels?.[target] ?? s.predictions?.find((p) => p.index === target)?.label ?? '';
    this.runBar.running = running;
    if (!running) this.runBar.progress = undefined;
    this.runBar.disabled = trust.restricted || !init;
    this.sanity.enabled = !trust.restricted && !!init && !running;
    const shown = this.shownResult;
    const shownMap = shown ? this.resultMap : undefined;
    this.exportBar.disabled = !shown;

    const prep = s.prep;
    const info = init?.preprocess;
    if (this.prepEditor.info !== info) {
      this.prepEditor.info = info;
      if (prep) this.prepEditor.values = prep.values;
    }
    this.prepEditor.error = prep?.error;
    this.prepEditor.status = prep?.status ?? '';
    this.prepEditor.busy = this.prepRequest !== undefined;
    this.prepEditor.preview = prep?.preview ? { image: this.previewImage, predictions: prep.preview.predictions } : undefined;
    this.prepEditor.disabled = trust.restricted;
    this.prepGuessed.message = info?.guessed
      ? 'The preprocessing is guessed, so the predictions may be wrong: set it under Preprocessing and Save.' : '';
    const stale = this.mapStale;
    if (stale) void this.loadMapImage();
    const staleText = [stale ? 'The preprocessing changed since this map was made: run again to update it.' : '', shown ? s.host?.stale ?? '' : '']
      .filter(Boolean).join(' ');
    this.staleEl.textContent = staleText;
    this.staleEl.hidden = !staleText;
    this.noteEl.textContent = s.host?.note ?? '';
    this.noteEl.hidden = !s.host?.note;

    const current = (stale ? this.mapImage : undefined) ?? this.image;
    const img = current ?? (shownMap ? blankFor(shownMap) : undefined);
    this.heatmap.image = img;
    this.heatmap.view = s.view;
    if (!running || this.running?.kind !== 'single' || !this.heatmap.partial) {
      this.heatmap.map = shownMap;
      this.heatmap.partial = false;
    }
    this.legend.view = s.view;
    if (!shownMap) this.legend.info = undefined;
    this.viewControls.view = s.view;
    const r = shown;
    const hostRun = s.host?.run;
    const named = s.host?.shown?.caption;
    const neuron = init?.methods.find((m) => m.id === r?.method)?.family === 'neuron';
    // during a run the summary names what runs; after, what the shown map was computed with
    this.summary.textContent = hostRun && running
      ? `Running ${hostRun.caption}…`
      : r
        ? `${named ?? `${init?.methods.find((m) => m.id === r.method)?.captumName ?? r.method} for ${r.targetLabel ?? `output ${r.target}`}`} · ${r.seconds.toFixed(2)} s` +
          (r.delta !== undefined ? ` · convergence delta ${r.delta.toExponential(2)}` : '') + (r.layer && !neuron ? ` · layer ${layerDisplayName(r.layer, init?.model.layers)}` : '')
        : '';

    this.compare.methods = init?.methods ?? [];
    this.compare.selected = s.compareSelected;
    this.compare.sharedScale = s.sharedScale;
    this.compare.image = img;
    this.compare.view = s.view;
    this.compare.disabled = trust.restricted || running || !init;
    this.compare.items = this.compareItems();
    this.compare.errors = s.compare?.errors ?? [];
  }

  private compareCache: { msg: CompareResultMessage; items: CompareItem[] } | undefined;

  private compareItems(): CompareItem[] {
    const msg = this.state.compare;
    if (!msg) return [];
    if (this.compareCache?.msg !== msg) {
      this.compareCache = { msg, items: msg.results.map((payload) => ({ payload, map: decodeMap(payload.map) })) };
    }
    return this.compareCache.items;
  }
}

/** Without an image, draw the map over grey at the map's own size. */
function blankFor(map: DecodedMap): RgbaImage {
  const d = map.dims;
  return blankImage(d[d.length - 1], d[d.length - 2]);
}

customElements.define('al-app', AlApp);
