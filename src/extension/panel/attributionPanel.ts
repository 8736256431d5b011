// The Attribution panel's host side: one reusable webview panel, its model+image context, and
// the runs it starts in the engine process. Every webview message is validated before use.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MethodInfo } from '../../engine';
import {
  AttributionPayload, CompareResultMessage, FromWebview, InitMessage, ModelSummary, PanelImage, PanelTarget, ParamValues, Prediction,
  PreprocessInfo, PreprocessValues, PROTOCOL_VERSION, RunProgressMessage, RunResultMessage, RunStartedMessage, StructuredTargets, ToWebview, ViewSettings,
} from '../../shared/protocol';
import { compareSet } from '../../shared/compare';
import { readSettings } from '../config';
import { CallCancelledError, EngineCall, EngineError } from '../engine/engineClient';
import { ExportFormat, exportFileName, jsonBytes, npyBytes, pngFromDataUrl } from '../exportFormats';
import { outputFolder } from '../modelPicker';
import { ModelService } from '../models';
import { engineParams, neuronToPropose, withSuggestedDefaults } from '../paramDefaults';
import { RunRecord, RunStore } from '../runs';
import { isTrusted, trustState } from '../trust';
import { toAttributionMap, toModelSummary, toPanelImage, toPayload } from '../wire';
import type { ImagePixels, ModelRef } from '../engine/engineProtocol';
import { panelHtml, panelOptions } from './panelHtml';
import { GateContext, classCount, receiveFromWebview } from './webviewGate';
import { TextSession } from './textSession';
import { PreprocessSession, preprocessInfo } from './preprocessSession';
import { SanitySession } from './sanitySession';
import type { RunSanityMessage } from '../../shared/sanityProtocol';
import {
  CaptionContext, HostPanelState, caption, defaultStructuredTarget, fromPersisted, gestureRuns, methodForNewImage, methodName, paramsBrief, persisted, sameParams,
  staleReason, structuredName, targetName,
} from './panelState';

export const PANEL_VIEW_TYPE = 'attributionLens.panel';
const CONTEXT_KEY = 'attributionLens.panelContext';
const CAM_LAYERS_KEY = 'attributionLens.camLayers';
/** the panel's state (panelState.ts) as a window reload restores it */
const STATE_KEY = 'attributionLens.panelState';
/** the shown result itself, when its map is small enough to keep (a browser reload may lose the webview's own state) */
const RESULT_KEY = 'attributionLens.panelResult';
const MAX_SAVED_MAP = 4_000_000;

/** What the panel is about: one model and one input. */
interface PanelContext {
  modelFile: string;
  imageFile: string;
  summary: ModelSummary;
  image?: PanelImage;
  predictions: Prediction[];
  preprocess?: PreprocessInfo;
  /** a detection, dense or sequence output: its boxes, regions or decoded steps */
  structured?: StructuredTargets;
}

interface Running {
  requestId: string;
  started: RunStartedMessage;
  call?: EngineCall<unknown>;
  cancelled: boolean;
  lastProgress?: RunProgressMessage;
  /** the parameters of a single run: what its result is captioned and compared with */
  params?: ParamValues;
}

/** Messages after which the webview gets the panel's whole state again. */
const PANEL_CHANGES = new Set<ToWebview['type']>(['state', 'predictions', 'runStarted', 'runResult', 'compareResult', 'runCancelled', 'error', 'preprocessPreview']);

export interface RunRequest {
  requestId?: string;
  method?: string;
  target?: PanelTarget;
  params?: ParamValues;
}

export class AttributionPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelSubs: vscode.Disposable[] = [];
  private ready = false;
  private ctx: PanelContext | undefined;
  private loading: Promise<boolean> | undefined;
  private current: { method: string; params: ParamValues; target?: PanelTarget };
  private readonly paramsByMethod = new Map<string, ParamValues>();
  private running: Running | undefined;
  private lastResult: RunResultMessage | CompareResultMessage | undefined;
  private lastRecord: RunRecord | undefined;
  /** the last comparison, kept when one of its maps is opened as the main map (its tiles stay exportable) */
  private lastCompare: { msg: CompareResultMessage; record?: RunRecord } | undefined;
  /** small messages posted while the webview was not listening, replayed on `ready` */
  private pendingNotes: ToWebview[] = [];
  private hostIds = 0;
  /** what produced the map shown, the last automatic choice, and whether the image has had no run yet */
  private shown: HostPanelState['shown'];
  private note: string | undefined;
  /** how the user set the map to be drawn; undefined: the attributionLens.visualization defaults */
  private view: ViewSettings | undefined;
  private fresh = false;
  private loadSeq = 0;
  private syncQueued = false;
  private readonly subs: vscode.Disposable[] = [];
  /** text mode: a text model and a text instead of an image */
  readonly text: TextSession;
  private mode: 'image' | 'text' = 'image';
  /** the preprocessing editor's previews and saves */
  private readonly prep: PreprocessSession;
  /** the Sanity check button's weight-randomisation cascades */
  private readonly sanity: SanitySession;

  constructor(
    private readonly ext: vscode.ExtensionContext,
    private readonly models: ModelService,
    private readonly runs: RunStore,
    private readonly log: (line: string) => void,
  ) {
    this.current = { method: readSettings().defaultMethod, params: {} };
    this.prep = new PreprocessSession(models.engine);
    this.sanity = new SanitySession(models.engine, (m) => this.post(m), log);
    this.text = new TextSession(models, ext.workspaceState, { post: (m) => this.post(m), showError: (e, id) => this.showError(e, id), log });
    this.subs.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.post({ type: 'state', trust: trustState() })),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('attributionLens.visualization')) {
          // new defaults in the settings replace the panel's own choice
          this.view = undefined;
          this.post({ type: 'state', view: readSettings().view });
        }
        if (e.affectsConfiguration('attributionLens.compareMethods')) this.post({ type: 'state', compareMethods: readSettings().compareMethods });
      }),
    );
  }

  get visible(): boolean {
    return this.panel !== undefined;
  }
  get viewColumn(): vscode.ViewColumn | undefined {
    return this.panel?.viewColumn;
  }
  get context(): { modelFile: string; imageFile: string } | undefined {
    return this.ctx;
  }
  get lastRun(): RunRecord | undefined {
    return this.lastRecord;
  }

  /** Opens the panel beside the active editor, or reveals it where it is. */
  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      this.title(),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      panelOptions(this.ext.extensionUri),
    );
    this.adopt(panel);
  }

  /** Takes over a panel VS Code restored after a reload (see the serializer). */
  restore(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.adopt(panel);
    const saved = this.ext.workspaceState.get<{ modelFile: string; imageFile: string }>(CONTEXT_KEY);
    const savedText = this.text.saved();
    if (savedText && !this.text.active) void this.loadText(savedText.modelFile, savedText.text, savedText.source);
    else if (saved && !this.ctx) {
      // the method, its parameters, the target and what the map was made with come back whole
      const state = fromPersisted(this.readSaved(STATE_KEY));
      const same = state && state.modelFile === saved.modelFile && state.imageFile === saved.imageFile;
      if (state && same) {
        this.paramsByMethod.clear();
        for (const [m, p] of Object.entries(state.params)) this.paramsByMethod.set(m, p);
        this.current = { method: state.method, params: state.params[state.method] ?? {}, target: state.target };
        this.shown = state.shown;
        this.view = state.view;
        const result = this.readSaved(RESULT_KEY) as RunResultMessage | undefined;
        if (result?.type === 'runResult' && result.requestId === state.shown?.requestId) this.lastResult = result;
      }
      void this.load(saved.modelFile, vscode.Uri.file(saved.imageFile), { restored: !!same });
    }
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.ext.extensionUri, 'media', 'attribution-lens.svg');
    panel.webview.options = panelOptions(this.ext.extensionUri);
    panel.webview.html = panelHtml(panel.webview, this.ext.extensionUri, this.title());
    this.panelSubs.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      // A hidden webview is torn down: it says `ready` again when shown and gets the state replayed.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel !== panel) return;
        this.cancel();
        this.text.cancel();
        this.sanity.cancel();
        for (const s of this.panelSubs) s.dispose();
        this.panelSubs = [];
        this.panel = undefined;
        this.ready = false;
      }),
    );
  }

  private title(): string {
    if (this.mode === 'text' && this.text.title) return vscode.l10n.t('Attribution: {0}', this.text.title);
    return this.ctx ? vscode.l10n.t('Attribution: {0}', path.basename(this.ctx.imageFile)) : vscode.l10n.t('Attribution');
  }

  // -------------------------------------------------------------------------------------------
  // Context

  /** Points the panel at a model and an image: inspects, predicts, and tells the webview. */
  load(modelFile: string, image: vscode.Uri, opts: { restored?: boolean } = {}): Promise<boolean> {
    const p = this.doLoad(modelFile, image.fsPath, ++this.loadSeq, opts.restored ?? false);
    this.loading = p;
    return p;
  }

  /** `seq`: a later load supersedes this one (the last image asked for wins, whatever finishes first). */
  private async doLoad(modelFile: string, imageFile: string, seq: number, restored: boolean): Promise<boolean> {
    if (!isTrusted()) {
      this.post({ type: 'state', trust: trustState() });
      return false;
    }
    this.leaveText();
    if (this.ctx?.modelFile !== modelFile || this.ctx?.imageFile !== imageFile) this.cancel();
    // a load starts from the model's own preprocessing (saved edits are in the file by now)
    this.prep.reset();
    try {
      const ins = await this.models.inspect(modelFile);
      const summary = toModelSummary(ins, path.basename(modelFile));
      const { predictions, image, preprocess, structured } = await this.models.engine.call('predict', { model: this.modelRef(modelFile), input: this.inputRef(imageFile) }).promise;
      if (seq !== this.loadSeq) return false;
      const imageInput = ins.inputs[0]?.name;
      const same = restored || (this.ctx?.modelFile === modelFile && this.ctx?.imageFile === imageFile);
      this.ctx = {
        modelFile, imageFile, summary, image: image ? toPanelImage(image, imageInput) : undefined, predictions,
        preprocess: preprocessInfo(modelFile, preprocess, ins.inputs.length), structured,
      };
      // a structured output starts from its first box, its largest region or step 0
      const first = defaultStructuredTarget(structured) ?? predictions[0]?.index;
      // A new model or image starts from its top prediction; the same one keeps the chosen target.
      if (!same) {
        this.lastResult = undefined;
        this.current.target = first;
        // the old map is another image's: it goes, and the next run without a method chooses one for the new image
        this.shown = undefined;
        this.note = undefined;
        this.fresh = true;
      } else if (restored && this.current.target === undefined) {
        this.current.target = first;
      }
      // the method list first: suggested defaults (occlusion's window) depend on the method's parameters
      await this.models.methods().then((m) => (this.methodsCache = m), () => undefined);
      await this.proposeNeuron(this.current.method);
      this.current.params = this.paramsFor(this.current.method);
      await this.ext.workspaceState.update(CONTEXT_KEY, { modelFile, imageFile });
      if (this.panel) this.panel.title = this.title();
      this.post({ type: 'state', model: summary, image: this.ctx.image, current: this.current, trust: trustState(), preprocess: this.ctx.preprocess });
      this.post({ type: 'predictions', predictions });
      return true;
    } catch (e) {
      this.showError(e);
      return false;
    }
  }

  /** Points the panel at a text model and a text (text mode); `source` is the file it came from. */
  async loadText(modelFile: string, text: string, source?: string): Promise<boolean> {
    if (!isTrusted()) {
      this.post({ type: 'state', trust: trustState() });
      return false;
    }
    this.cancel();
    this.mode = 'text';
    const p = this.text.load(modelFile, text, source);
    this.loading = p;
    const ok = await p;
    if (this.panel) this.panel.title = this.title();
    return ok;
  }

  private leaveText(): void {
    if (this.mode !== 'text') return;
    this.mode = 'image';
    this.text.leave();
  }

  private modelRef(file: string): ModelRef {
    return { file, runtime: readSettings(vscode.Uri.file(file)).runtime };
  }

  private inputRef(file: string): { file: string; options: { preprocess: ReturnType<typeof readSettings>['preprocessing'] } } {
    return { file, options: { preprocess: this.prep.overrides(readSettings(vscode.Uri.file(file)).preprocessing) } };
  }

  // -------------------------------------------------------------------------------------------
  // Webview messages

  private receive(msg: unknown): void {
    const io = { handle: (m: FromWebview) => this.handle(m), reply: (m: ToWebview) => this.post(m), log: this.log };
    void receiveFromWebview(msg, () => this.gateContext(), io).catch((e) => this.showError(e));
  }

  /** What the gate checks messages against: the engine's methods, the image model's outputs. */
  private async gateContext(): Promise<GateContext> {
    const methods = await this.models.methods().catch(() => []);
    return { methods, classes: this.mode === 'text' ? undefined : classCount(this.ctx?.summary.outputs) };
  }

  private async handle(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready':
        return this.sendInit();
      case 'runAttribution':
        await this.run({ requestId: msg.requestId, method: msg.method, target: msg.target, params: msg.params });
        return;
      case 'retarget':
        if (this.mode === 'text') {
          if (typeof msg.target === 'number') await this.text.run({ requestId: msg.requestId, target: msg.target });
        }
        else await this.retarget(msg.requestId, msg.target);
        return;
      case 'cancel':
        if (!msg.requestId || msg.requestId === this.running?.requestId) this.cancel();
        this.text.cancel();
        this.sanity.cancel(msg.requestId);
        return;
      case 'runText':
        await this.text.run({ requestId: msg.requestId, method: msg.method, target: msg.target, params: msg.params });
        return;
      case 'exportText':
        await this.text.export(msg.format, msg.requestId);
        return;
      case 'compare':
        await this.compare({ requestId: msg.requestId, methods: msg.methods, target: msg.target, sharedScale: msg.sharedScale, params: msg.params });
        return;
      case 'export':
        await this.export(msg.format, msg.pngDataUrl, msg.requestId, { method: msg.method, grid: msg.grid });
        return;
      case 'setCompareMethods':
        await this.setCompareMethods(msg.methods);
        return;
      case 'openCompareMap':
        this.openCompareMap(msg.requestId, msg.method);
        return;
      case 'changeMethod':
        await this.changeMethod(msg.method, msg.params);
        return;
      case 'changeView':
        this.view = msg.view;
        this.sync();
        return;
      case 'openSettings':
        await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:attribution-lens.attribution-lens');
        return;
      case 'previewPreprocess':
      case 'savePreprocess':
        await this.editPreprocess(msg.type === 'savePreprocess', msg.requestId, msg.config);
        return;
      case 'runSanity':
        await this.runSanity(msg);
        return;
    }
  }

  /** The Sanity check button: the cascade for the panel's image, with the method, target and parameters the webview sent. */
  private async runSanity(msg: RunSanityMessage): Promise<void> {
    if (this.loading) await this.loading;
    const ctx = this.ctx;
    const refuse = (message: string) => this.post({ type: 'sanityEnded', requestId: msg.requestId, cancelled: false, message });
    if (!isTrusted()) return refuse((trustState() as { reason: string }).reason);
    if (!ctx || this.mode !== 'image') return refuse(vscode.l10n.t('No image yet: right-click an image in the Explorer and choose Attribute Prediction.'));
    const settings = readSettings(vscode.Uri.file(ctx.modelFile));
    const request = { method: msg.method, target: msg.target, params: engineParams(msg.params), ...(msg.layers ? { layers: msg.layers } : {}), ...(msg.seed !== undefined ? { seed: msg.seed } : {}) };
    await this.sanity.run(msg.requestId, { model: this.modelRef(ctx.modelFile), input: this.inputRef(ctx.imageFile), request, batchSize: settings.batchSize }, ctx.summary.inputs[0]?.name);
  }

  /** The editor's preview (decode + forward with the edits) or Save (the same check, then the file, then a reload). */
  private async editPreprocess(save: boolean, requestId: string, config: PreprocessValues): Promise<void> {
    if (this.loading) await this.loading;
    const ctx = this.ctx;
    if (!ctx || this.mode === 'text' || !isTrusted()) {
      const message = !isTrusted() ? (trustState() as { reason: string }).reason : vscode.l10n.t('No image yet: right-click an image in the Explorer and choose Attribute Prediction.');
      this.post({ type: 'preprocessInvalid', requestId, message });
      return;
    }
    const target = { model: this.modelRef(ctx.modelFile), imageFile: ctx.imageFile, settings: readSettings(vscode.Uri.file(ctx.imageFile)).preprocessing };
    if (!save) {
      const out = await this.prep.preview(requestId, target, config);
      if (!out) return; // a newer edit superseded it
      if (out.ok) ctx.predictions = out.predictions;
      this.post(out.reply);
      return;
    }
    const r = await this.prep.save(requestId, target, config, { multiInput: ctx.preprocess?.multiInput ?? false });
    if (r.invalid) this.post(r.invalid);
    if (r.file) {
      this.log(`saved ${r.file}`);
      // the file is the model's preprocessing now: predict with it and show where it came from
      await this.load(ctx.modelFile, vscode.Uri.file(ctx.imageFile));
    }
    this.post(r.reply);
  }

  /** The webview picked a method or edited its parameters; values the host fills in (a CAM layer, occlusion's window) go back so the fields show them. */
  private async changeMethod(method: string, params?: ParamValues): Promise<void> {
    await this.models.methods().then((m) => (this.methodsCache = m), () => undefined);
    const before = { method: this.current.method, params: this.current.params };
    this.current.method = method;
    if (params) this.paramsByMethod.set(method, params);
    await this.proposeNeuron(method);
    this.current.params = this.paramsFor(method);
    if (JSON.stringify(sortedEntries(params ?? {})) !== JSON.stringify(sortedEntries(this.current.params))) this.post({ type: 'state', current: this.current });
    const changed = before.method !== method || !sameParams(this.methodInfo(method), before.params, this.current.params);
    if (changed) await this.gesture();
    this.sync();
  }

  /** A clicked prediction: the same rule as a changed method (run at once when cheap, else the map is marked stale). */
  private async retarget(requestId: string, target: PanelTarget): Promise<void> {
    this.current.target = target;
    if (!(await this.gesture(requestId))) this.sync();
  }

  /**
   * After a change of method, parameters or target: cheap methods run at once, others leave the
   * map marked stale (the state says what it was computed with) and say why they wait for Run.
   */
  private async gesture(requestId?: string): Promise<boolean> {
    if (!this.ctx || this.mode !== 'image' || !isTrusted()) return false;
    const info = this.methodInfo(this.current.method);
    if (gestureRuns(info, this.current.params)) {
      await this.run({ requestId, method: this.current.method, target: this.current.target });
      return true;
    }
    const brief = paramsBrief(info, this.current.params);
    this.note = `${methodName(this.methodsCache ?? [], this.current.method)}${brief ? ` (${brief})` : ''} is slow: press Run to start it.`;
    if (requestId) this.post({ type: 'runCancelled', requestId });
    return false;
  }

  private async sendInit(): Promise<void> {
    if (this.loading) await this.loading;
    let methods: MethodInfo[] = [];
    try {
      methods = await this.models.methods();
      this.methodsCache = methods;
      if (this.ctx) this.current.params = this.paramsFor(this.current.method);
    } catch (e) {
      this.log(`cannot list methods: ${(e as Error).message}`);
    }
    const ctx = this.ctx;
    const init: InitMessage = {
      type: 'init',
      protocolVersion: PROTOCOL_VERSION,
      model: ctx?.summary ?? { name: '', inputs: [] },
      image: ctx?.image,
      methods,
      current: this.current,
      trust: trustState(),
      predictions: ctx?.predictions,
      view: readSettings().view,
      preprocess: ctx?.preprocess,
      compareMethods: readSettings().compareMethods,
      panel: this.mode === 'image' ? this.snapshot() : undefined,
    };
    if (!this.panel) return;
    this.ready = true;
    this.send(init);
    if (this.lastCompare && this.lastResult !== this.lastCompare.msg) this.send(this.lastCompare.msg);
    if (this.lastResult) this.send(this.lastResult);
    if (this.running) {
      this.send(this.running.started);
      if (this.running.lastProgress) this.send(this.running.lastProgress);
    }
    if (this.mode === 'text') this.text.replay((m) => this.send(m));
    for (const m of this.pendingNotes.splice(0)) this.send(m);
    if (!ctx && isTrusted() && this.mode !== 'text') {
      this.send({ type: 'error', message: vscode.l10n.t('No image yet: right-click an image in the Explorer and choose Attribute Prediction.') });
    }
  }

  private send(msg: ToWebview): void {
    void this.panel?.webview.postMessage(msg);
  }

  /** Sends now when the webview listens; otherwise state is replayed on `ready` (errors are kept). */
  private post(msg: ToWebview): void {
    if (msg.type === 'runResult') this.noteShown(msg);
    if (this.ready) this.send(msg);
    else if (msg.type === 'error' || msg.type === 'exportDone') this.pendingNotes.push(msg);
    if (msg.type === 'runProgress' && this.running?.requestId === msg.requestId) this.running.lastProgress = msg;
    // whatever changed the panel's state, the webview gets the whole of it again
    if (PANEL_CHANGES.has(msg.type) && !(msg.type === 'state' && msg.panel)) this.sync();
  }

  // -------------------------------------------------------------------------------------------
  // The panel's state (panelState.ts): held here, sent whole, restored after a reload

  private captionContext(): CaptionContext {
    return { methods: this.methodsCache ?? [], summary: this.ctx?.summary, predictions: this.ctx?.predictions ?? [], structured: this.ctx?.structured };
  }

  /** The panel's whole state, from what the host holds. */
  snapshot(): HostPanelState {
    const ctx = this.ctx;
    const params: Record<string, ParamValues> = Object.fromEntries(this.paramsByMethod);
    params[this.current.method] = this.current.params;
    const r = this.running;
    const cc = this.captionContext();
    let run: HostPanelState['run'];
    if (r) {
      const st = r.started;
      const what = st.kind === 'single'
        ? caption(cc, st.methods[0], r.params ?? {}, st.target)
        : `${st.methods.map((m) => methodName(cc.methods, m)).join(', ')} for ${targetName(st.target, cc.summary, cc.predictions, cc.structured)}`;
      run = { requestId: r.requestId, kind: st.kind, caption: what };
    }
    const s: HostPanelState = {
      modelFile: ctx?.modelFile, imageFile: ctx?.imageFile, predictions: ctx?.predictions ?? [],
      method: this.current.method, params, target: this.current.target ?? defaultStructuredTarget(ctx?.structured) ?? ctx?.predictions[0]?.index ?? 0,
      structured: ctx?.structured, run, shown: this.shown, note: this.note, view: this.view,
    };
    s.stale = staleReason(s, cc);
    return s;
  }

  /** Sends the whole state once the current turn is over (several changes make one message) and saves it. */
  private sync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    queueMicrotask(() => {
      this.syncQueued = false;
      if (this.mode !== 'image') return;
      const s = this.snapshot();
      if (this.ready) this.send({ type: 'state', panel: s });
      const saved = persisted(s);
      if (saved) this.writeSaved(STATE_KEY, saved);
    });
  }

  /**
   * The panel's state is written at once to a file in the extension's workspace storage: a
   * workspaceState update made just before a window reload can be lost (the workbench flushes it
   * later), and the state must come back whole. Without a workspace, workspaceState serves.
   */
  private savedFile(key: string): string | undefined {
    const dir = this.ext.storageUri?.fsPath;
    return dir ? path.join(dir, `${key}.json`) : undefined;
  }

  private writeSaved(key: string, value: unknown): void {
    const file = this.savedFile(key);
    if (!file) {
      void this.ext.workspaceState.update(key, value);
      return;
    }
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (value === undefined) fs.rmSync(file, { force: true });
      else fs.writeFileSync(file, JSON.stringify(value));
    } catch (e) {
      this.log(`cannot save the panel's state: ${(e as Error).message}`);
    }
  }

  private readSaved(key: string): unknown {
    const file = this.savedFile(key);
    if (!file) return this.ext.workspaceState.get(key);
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /** A result is shown: remember what produced it (method, parameters, target, image) and its caption. */
  private noteShown(msg: RunResultMessage): void {
    const r = msg.result;
    const params = this.running?.requestId === msg.requestId && this.running.params ? this.running.params
      : this.current.method === r.method ? this.current.params : (r.params as ParamValues);
    this.shown = {
      requestId: msg.requestId, method: r.method, params, target: r.spec ?? r.target, imageFile: this.ctx?.imageFile ?? '',
      caption: caption(this.captionContext(), r.method, params, r.spec ?? r.target),
    };
    this.writeSaved(RESULT_KEY, r.map.data.length <= MAX_SAVED_MAP ? msg : undefined);
  }

  private showError(e: unknown, requestId?: string): void {
    const message = errorMessage(e);
    if (!(e instanceof EngineError && e.user)) this.log(`error: ${(e as Error)?.stack ?? message}`);
    this.post({ type: 'error', requestId, message });
    if (!this.ready || !this.panel?.visible) void vscode.window.showErrorMessage(message);
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  /** Unique across reloads too: a restored panel's shown result is matched by its id. */
  private nextId(): string {
    return `host-${Date.now().toString(36)}-${++this.hostIds}`;
  }

  private targetLabel(target: PanelTarget): string | undefined {
    if (typeof target === 'string') return structuredName(target, this.ctx?.structured, this.ctx?.summary);
    return this.ctx?.summary.labels?.[target] ?? this.ctx?.predictions.find((p) => p.index === target)?.label;
  }

  /**
   * A structured target's result: it names the target as asked (`step:0`, not the engine's
   * `step:0=5`: what the panel is set to), and its lists refresh what the panel draws.
   */
  private structuredPayload(payload: AttributionPayload, target: PanelTarget): AttributionPayload {
    if (typeof target === 'string') payload.spec = target;
    else delete payload.spec;
    if (payload.structured && this.ctx) this.ctx.structured = payload.structured;
    if (payload.spec) payload.targetLabel = structuredName(payload.spec, this.ctx?.structured, this.ctx?.summary);
    return payload;
  }

  /**
   * Parameters for a method: what the user set in the panel, else settings; a CAM layer fills
   * `layer` params; then withSuggestedDefaults (a required layer, the proposed neuron, windows).
   */
  paramsFor(method: string, given?: ParamValues): ParamValues {
    const own = given ?? this.paramsByMethod.get(method);
    const fromSettings = given ? {} : readSettings().methodParams[method] ?? {};
    const params: ParamValues = { ...fromSettings, ...(own ?? {}) };
    const camLayer = this.ctx ? this.camLayer(this.ctx.modelFile) : undefined;
    const info = this.methodInfo(method);
    for (const p of info?.params ?? []) {
      if (p.kind === 'layer' && (params[p.name] === undefined || params[p.name] === null || params[p.name] === '') && camLayer) params[p.name] = camLayer;
    }
    return withSuggestedDefaults(info, params, this.ctx?.summary.inputs[0]?.dims, {
      layers: this.ctx?.summary.layers,
      neuron: (layer, toInput, current) => {
        const key = this.neuronKey(layer, toInput);
        const mine = key === undefined ? undefined : this.proposedNeurons.get(key);
        // a selector the panel proposed for another layer or image follows the layer; the user's own stays
        const proposedElsewhere = current !== undefined && [...this.proposedNeurons].some(([k, v]) => k !== key && JSON.stringify(v) === JSON.stringify(current));
        return current === undefined || proposedElsewhere ? mine : current;
      },
    });
  }

  /** The panel's proposed neurons (argmax of the layer's activation), by model, input and its preprocessing, layer and side. */
  private readonly proposedNeurons = new Map<string, number[]>();

  private neuronKey(layer: string, toInput: boolean): string | undefined {
    const ctx = this.ctx;
    return ctx && JSON.stringify([ctx.modelFile, ctx.imageFile, this.inputRef(ctx.imageFile).options, layer, toInput]);
  }

  /** A neuron method without a neuronSelector: the engine computes the layer's most active unit for this image, and paramsFor fills it in. */
  private async proposeNeuron(method: string, given?: ParamValues): Promise<void> {
    const ctx = this.ctx;
    const want = ctx && this.mode === 'image' ? neuronToPropose(this.methodInfo(method), this.paramsFor(method, given)) : undefined;
    const key = want && this.neuronKey(want.layer, want.toInput);
    if (!ctx || !want || key === undefined || this.proposedNeurons.has(key)) return;
    try {
      const r = await this.models.engine.call('mostActiveNeuron', { model: this.modelRef(ctx.modelFile), input: this.inputRef(ctx.imageFile), layer: want.layer, toInput: want.toInput }).promise;
      if (this.proposedNeurons.size >= 256) this.proposedNeurons.clear();
      this.proposedNeurons.set(key, r.selector);
    } catch (e) {
      // nothing proposed: the field stays empty and Run says what is missing
      this.log(`no neuron proposed for ${want.layer}: ${errorMessage(e)}`);
    }
  }

  private methodsCache: MethodInfo[] | undefined;
  private methodInfo(id: string): MethodInfo | undefined {
    if (!this.methodsCache) void this.models.methods().then((m) => (this.methodsCache = m), () => undefined);
    return this.methodsCache?.find((m) => m.id === id);
  }

  camLayer(modelFile: string): string | undefined {
    return this.ext.workspaceState.get<Record<string, string>>(CAM_LAYERS_KEY, {})[modelFile];
  }

  async setCamLayer(modelFile: string, layer: string): Promise<void> {
    await this.ext.workspaceState.update(CAM_LAYERS_KEY, { ...this.ext.workspaceState.get<Record<string, string>>(CAM_LAYERS_KEY, {}), [modelFile]: layer });
    if (this.ctx?.modelFile === modelFile) {
      await this.models.methods().then((m) => (this.methodsCache = m), () => undefined);
      const info = this.methodInfo(this.current.method);
      for (const p of info?.params ?? []) if (p.kind === 'layer') this.current.params = { ...this.current.params, [p.name]: layer };
      this.post({ type: 'state', current: this.current });
    }
  }

  cancel(): void {
    const r = this.running;
    if (!r) return;
    r.cancelled = true;
    r.call?.cancel();
  }

  /** Runs one method (the current one by default) for a target (the top prediction by default). */
  async run(req: RunRequest = {}): Promise<RunRecord | undefined> {
    const requestId = req.requestId ?? this.nextId();
    if (this.loading) await this.loading;
    const ctx = this.ctx;
    if (!isTrusted()) {
      this.post({ type: 'error', requestId, message: (trustState() as { reason: string }).reason });
      return undefined;
    }
    if (!ctx) {
      this.post({ type: 'error', requestId, message: vscode.l10n.t('No image yet: right-click an image in the Explorer and choose Attribute Prediction.') });
      return undefined;
    }
    this.cancel();
    await this.models.methods().then((m) => (this.methodsCache = m), () => undefined);
    let method = req.method ?? this.current.method;
    if (!req.method && this.fresh) {
      // a new image: the configured default, or the last method again only when it is cheap (and the panel says so)
      const choice = methodForNewImage(this.methodsCache ?? [], { method: this.current.method, params: this.current.params }, readSettings().defaultMethod);
      method = choice.method;
      if (choice.isDefault) this.paramsByMethod.delete(method);
      this.note = choice.note;
    } else if (req.method || req.params) {
      this.note = undefined;
    }
    this.fresh = false;
    if (req.params) this.paramsByMethod.set(method, req.params);
    await this.proposeNeuron(method, req.params);
    const params = this.paramsFor(method, req.params);
    const target = req.target ?? this.current.target ?? defaultStructuredTarget(ctx.structured) ?? ctx.predictions[0]?.index ?? 0;
    this.current = { method, params, target };
    const started: RunStartedMessage = { type: 'runStarted', requestId, kind: 'single', methods: [method], target, targetLabel: this.targetLabel(target) };
    const running: Running = { requestId, started, cancelled: false, params };
    this.running = running;
    // Runs started from commands (not the panel) tell the panel which method and parameters they use.
    if (!req.requestId) this.post({ type: 'state', current: this.current });
    this.post(started);
    const settings = readSettings(vscode.Uri.file(ctx.modelFile));
    const imageInput = ctx.summary.inputs[0]?.name;
    try {
      const call = this.models.engine.call(
        'attribute',
        { model: this.modelRef(ctx.modelFile), input: this.inputRef(ctx.imageFile), request: { method, target, params: engineParams(params) }, batchSize: settings.batchSize },
        (p) => this.post({ type: 'runProgress', requestId, done: p.done, total: p.total, phase: p.phase, partial: p.partial ? toAttributionMap(p.partial, imageInput) : undefined }),
      );
      running.call = call;
      const { result, image } = await call.promise;
      this.adoptRunImage(image, imageInput);
      const payload = this.structuredPayload(toPayload(result, imageInput), target);
      const msg: RunResultMessage = { type: 'runResult', requestId, result: payload };
      this.lastResult = msg;
      this.post(msg);
      this.lastRecord = this.runs.add({
        kind: 'single', modelFile: ctx.modelFile, imageFile: ctx.imageFile, target: payload.target, targetLabel: payload.targetLabel ?? this.targetLabel(payload.target),
        results: [payload], summary: ctx.summary, image: ctx.image, predictions: ctx.predictions,
      });
      return this.lastRecord;
    } catch (e) {
      if (e instanceof CallCancelledError || running.cancelled) this.post({ type: 'runCancelled', requestId });
      else this.showError(e, requestId);
      return undefined;
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /** Runs several methods for one target, one after another, and sends them together. */
  async compare(req: { requestId?: string; methods: string[]; target?: PanelTarget; sharedScale?: boolean; params?: Record<string, ParamValues> }): Promise<RunRecord | undefined> {
    const requestId = req.requestId ?? this.nextId();
    if (this.loading) await this.loading;
    const ctx = this.ctx;
    if (!ctx || !isTrusted()) return this.run({ requestId });
    this.cancel();
    await this.models.methods().then((m) => (this.methodsCache = m), () => undefined);
    const target = req.target ?? this.current.target ?? defaultStructuredTarget(ctx.structured) ?? ctx.predictions[0]?.index ?? 0;
    const targetLabel = this.targetLabel(target);
    const started: RunStartedMessage = { type: 'runStarted', requestId, kind: 'compare', methods: req.methods, target, targetLabel };
    const running: Running = { requestId, started, cancelled: false };
    this.running = running;
    this.post(started);
    const settings = readSettings(vscode.Uri.file(ctx.modelFile));
    const imageInput = ctx.summary.inputs[0]?.name;
    const results: AttributionPayload[] = [];
    const errors: Array<{ method: string; message: string }> = [];
    try {
      for (const method of req.methods) {
        if (running.cancelled) break;
        await this.proposeNeuron(method, req.params?.[method]);
        const params = this.paramsFor(method, req.params?.[method]);
        const call = this.models.engine.call(
          'attribute',
          { model: this.modelRef(ctx.modelFile), input: this.inputRef(ctx.imageFile), request: { method, target, params: engineParams(params) }, batchSize: settings.batchSize },
          (p) => this.post({ type: 'runProgress', requestId, method, done: p.done, total: p.total, phase: p.phase, partial: p.partial ? toAttributionMap(p.partial, imageInput) : undefined }),
        );
        running.call = call;
        try {
          const r = await call.promise;
          this.adoptRunImage(r.image, imageInput);
          const payload = this.structuredPayload(toPayload(r.result, imageInput), target);
          results.push(payload);
          this.post({ type: 'compareTile', requestId, method, result: payload });
        } catch (e) {
          if (e instanceof CallCancelledError || running.cancelled) break;
          errors.push({ method, message: errorMessage(e) });
          this.post({ type: 'compareTile', requestId, method, error: errorMessage(e) });
        }
      }
      if (running.cancelled) {
        this.post({ type: 'runCancelled', requestId });
        return undefined;
      }
      const msg: CompareResultMessage = { type: 'compareResult', requestId, target, targetLabel, sharedScale: req.sharedScale ?? false, results, errors: errors.length ? errors : undefined };
      this.lastResult = msg;
      this.lastCompare = { msg };
      this.post(msg);
      if (results.length === 0) return undefined;
      this.lastRecord = this.runs.add({
        kind: 'compare', modelFile: ctx.modelFile, imageFile: ctx.imageFile, target: typeof target === 'number' ? target : results[0].target, targetLabel, results, errors: msg.errors,
        sharedScale: msg.sharedScale, summary: ctx.summary, image: ctx.image, predictions: ctx.predictions,
      });
      this.lastCompare.record = this.lastRecord;
      return this.lastRecord;
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /** The panel's Compare checkboxes: written to the setting the palette's Compare Methods reads (where it is set now). */
  async setCompareMethods(methods: string[]): Promise<void> {
    const known = this.methodsCache ?? (await this.models.methods().catch(() => []));
    if (known.length === 0) return; // without the engine's list nothing can be checked: keep the setting
    const ids = compareSet(known, methods);
    const c = vscode.workspace.getConfiguration('attributionLens');
    const where = c.inspect<string[]>('compareMethods');
    const target = where?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
      : where?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    if (JSON.stringify(c.get<string[]>('compareMethods') ?? []) === JSON.stringify(ids)) return;
    await c.update('compareMethods', ids, target);
  }

  /** A tile of the last comparison becomes the main map: its method and the parameters it ran with, so nothing is stale. */
  private openCompareMap(requestId: string, method: string): void {
    const cmp = this.lastCompare;
    const payload = cmp?.msg.results.find((r) => r.method === method);
    if (!cmp || !payload || !this.ctx) {
      this.post({ type: 'error', requestId, message: vscode.l10n.t('{0} is not in the last comparison: compare again.', method) });
      return;
    }
    const info = this.methodInfo(method);
    const ran: ParamValues = {};
    for (const p of info?.params ?? []) {
      const v = payload.params[p.name];
      if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) ran[p.name] = v as ParamValues[string];
    }
    this.paramsByMethod.set(method, ran);
    this.current = { method, params: this.paramsFor(method, ran), target: payload.spec ?? payload.target };
    const msg: RunResultMessage = { type: 'runResult', requestId, result: payload };
    this.lastResult = msg;
    const rec = cmp.record;
    if (rec) this.lastRecord = { ...rec, kind: 'single', results: [payload], errors: undefined };
    this.post({ type: 'state', current: this.current });
    this.post(msg);
  }

  /** With preprocessing edits the run's image is not the one the panel showed: the map is drawn over its own. */
  private adoptRunImage(image: ImagePixels | undefined, input: string | undefined): void {
    if (!image || !this.ctx || !this.prep.edited) return;
    this.ctx.image = toPanelImage(image, input);
    this.post({ type: 'state', image: this.ctx.image });
  }

  /** Shows a finished run again (from the Runs view) without re-running it. */
  showRun(run: RunRecord): void {
    this.show();
    this.leaveText();
    if (this.ctx?.modelFile !== run.modelFile || this.ctx?.imageFile !== run.imageFile) this.cancel();
    this.prep.reset(); // unsaved edits belonged to the context shown before
    this.fresh = false;
    this.ctx = { modelFile: run.modelFile, imageFile: run.imageFile, summary: run.summary, image: run.image, predictions: run.predictions, structured: run.results[0]?.structured };
    this.loading = undefined;
    void this.ext.workspaceState.update(CONTEXT_KEY, { modelFile: run.modelFile, imageFile: run.imageFile });
    if (this.panel) this.panel.title = this.title();
    const requestId = `run-${run.id}`;
    this.lastResult =
      run.kind === 'single'
        ? { type: 'runResult', requestId, result: run.results[0] }
        : { type: 'compareResult', requestId, target: run.results[0]?.spec ?? run.target, targetLabel: run.targetLabel, sharedScale: run.sharedScale ?? false, results: run.results, errors: run.errors };
    this.lastRecord = run;
    this.lastCompare = this.lastResult.type === 'compareResult' ? { msg: this.lastResult, record: run } : undefined;
    if (run.kind === 'single') this.current = { method: run.results[0].method, params: this.paramsFor(run.results[0].method), target: run.results[0].spec ?? run.target };
    this.post({ type: 'state', model: run.summary, image: run.image, current: this.current, trust: trustState() });
    this.post({ type: 'predictions', predictions: run.predictions });
    this.post(this.lastResult);
  }

  // -------------------------------------------------------------------------------------------
  // Export

  /** The palette's PNG export: the webview draws the view and answers with an `export` message. */
  requestPngExport(): boolean {
    if (!this.lastRecord) return false;
    this.show();
    const msg: ToWebview = { type: 'requestExport', requestId: this.nextId(), format: 'png' };
    if (this.ready) this.send(msg);
    else this.pendingNotes.push(msg);
    return true;
  }

  /** Writes the last result into the output folder (attributionLens.outputFolder), then offers Open and Reveal. */
  async export(format: ExportFormat, pngDataUrl?: string, requestId?: string, pick: { method?: string; grid?: boolean } = {}): Promise<boolean> {
    const fromCompare = pick.method !== undefined || pick.grid === true;
    const run = fromCompare ? this.lastCompare?.record : this.lastRecord;
    const done = (ok: boolean, message: string): boolean => {
      if (requestId) this.post({ type: 'exportDone', requestId, ok, message });
      // a written file gets the Open/Reveal notification (offerExported)
      else if (!ok) void vscode.window.showWarningMessage(message);
      return ok;
    };
    if (!run) return done(false, vscode.l10n.t('Nothing to export yet: run an attribution first.'));
    const payload = pick.method !== undefined ? run.results.find((r) => r.method === pick.method) : run.results[0];
    if (!payload) return done(false, vscode.l10n.t('{0} is not in the last comparison: compare again.', pick.method ?? ''));
    let bytes: Uint8Array;
    try {
      if (format === 'png') {
        if (!pngDataUrl) return done(false, vscode.l10n.t('PNG export comes from the panel: use its Export button.'));
        bytes = pngFromDataUrl(pngDataUrl);
      } else if (format === 'npy') {
        bytes = npyBytes(payload);
      } else {
        bytes = jsonBytes(payload, { model: run.modelFile, image: run.imageFile, predictions: run.predictions });
      }
    } catch (e) {
      return done(false, errorMessage(e));
    }
    // into the output folder, never beside the inputs (where a PNG would be offered as an input)
    const folder = outputFolder(vscode.Uri.file(run.imageFile), path.dirname(run.modelFile));
    const uri = vscode.Uri.file(path.join(folder, exportFileName(run.imageFile, pick.grid ? 'compare' : payload.method, payload.target, format)));
    try {
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(folder));
      await vscode.workspace.fs.writeFile(uri, bytes);
    } catch (e) {
      return done(false, vscode.l10n.t('Cannot write {0}: {1}', uri.fsPath, (e as Error).message));
    }
    void offerExported(uri);
    return done(true, vscode.l10n.t('Saved {0}', uri.fsPath));
  }

  dispose(): void {
    this.cancel();
    this.text.cancel();
    this.sanity.cancel();
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}

function sortedEntries(p: ParamValues): Array<[string, unknown]> {
  return Object.entries(p).sort(([a], [b]) => a.localeCompare(b));
}

/** The notification after an export: Open the file, or Reveal it in the Explorer. */
async function offerExported(uri: vscode.Uri): Promise<void> {
  const open = vscode.l10n.t('Open');
  const reveal = vscode.l10n.t('Reveal in Explorer');
  const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Exported {0}', path.basename(uri.fsPath)), open, reveal);
  if (choice === open) await vscode.commands.executeCommand('vscode.open', uri);
  else if (choice === reveal) await vscode.commands.executeCommand('revealInExplorer', uri);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0];
  return String(e);
}
