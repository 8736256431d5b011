// The Attribution panel's text mode: one text model, one text, its runs and exports. The panel
// owns the webview and routes text messages here; runs go to the engine process.
import * as path from 'path';
import * as vscode from 'vscode';
import type {
  ModelSummary, ParamValues, Prediction, RunStartedMessage, TextAttributionPayload, TextContext, ToWebview,
} from '../../shared/protocol';
import { textCsv, textJson } from '../../shared/textScores';
import { tokenRanges } from '../../shared/tokenRanges';
import { readSettings } from '../config';
import { CallCancelledError, EngineCall } from '../engine/engineClient';
import type { ModelService } from '../models';
import { DEFAULT_TEXT_METHOD, isTextMethod, textMethodInfos, textRequest } from '../textMethods';
import { isTrusted, trustState } from '../trust';
import { plainParams, toModelSummary } from '../wire';
import type { ModelRef } from '../engine/engineProtocol';

const TEXT_CONTEXT_KEY = 'attributionLens.textContext';
/** Shades per sign for the scores drawn into the editor. */
const SHADES = 5;

export interface SavedText {
  modelFile: string;
  text: string;
  /** the file the text was selected in */
  source?: string;
}

interface Loaded extends SavedText {
  summary: ModelSummary;
  predictions: Prediction[];
}

export interface TextSessionHost {
  post(msg: ToWebview): void;
  showError(e: unknown, requestId?: string): void;
  log(line: string): void;
}

export class TextSession {
  private ctx: Loaded | undefined;
  private method: string = DEFAULT_TEXT_METHOD;
  private readonly paramsByMethod = new Map<string, ParamValues>();
  private target: number | undefined;
  private running: { requestId: string; started: RunStartedMessage; call?: EngineCall<unknown>; cancelled: boolean } | undefined;
  private last: TextAttributionPayload | undefined;
  private hostIds = 0;
  /** the editor selection the text came from (Attribute Prediction for Selection), while unchanged */
  private selection: { uri: string; offset: number; version: number } | undefined;
  /** token scores drawn on the selection: shades [negative…, positive…], and what clears them */
  private decoration: { types: vscode.TextEditorDecorationType[]; watch: vscode.Disposable } | undefined;

  constructor(private readonly models: ModelService, private readonly state: vscode.Memento, private readonly host: TextSessionHost) {}

  get active(): boolean {
    return this.ctx !== undefined;
  }

  /** The text of the panel title. */
  get title(): string | undefined {
    if (!this.ctx) return undefined;
    const t = this.ctx.text.replace(/\s+/g, ' ').trim();
    return `"${t.length > 24 ? `${t.slice(0, 23)}…` : t}"`;
  }

  /** What was loaded before a window reload. */
  saved(): SavedText | undefined {
    return this.state.get<SavedText>(TEXT_CONTEXT_KEY);
  }

  /** Points text mode at a model and a text: inspects, predicts, tells the webview. */
  async load(modelFile: string, text: string, source?: string): Promise<boolean> {
    if (!isTrusted()) return false;
    this.cancel();
    this.clearDecorations();
    const ed = vscode.window.activeTextEditor;
    this.selection = source && ed && !ed.selection.isEmpty && ed.document.uri.scheme === 'file' && ed.document.uri.fsPath === source &&
      ed.document.getText(ed.selection).startsWith(text)
      ? { uri: ed.document.uri.toString(), offset: ed.document.offsetAt(ed.selection.start), version: ed.document.version }
      : undefined;
    try {
      const [ins, methods, { predictions }] = await Promise.all([
        this.models.inspect(modelFile),
        this.models.methods(),
        this.models.engine.call('predictText', { model: this.modelRef(modelFile), text }).promise,
      ]);
      const same = this.ctx?.modelFile === modelFile && this.ctx.text === text;
      this.ctx = { modelFile, text, source, summary: toModelSummary(ins, path.basename(modelFile)), predictions };
      if (!same) {
        this.last = undefined;
        this.target = undefined;
      }
      await this.state.update(TEXT_CONTEXT_KEY, { modelFile, text, source } satisfies SavedText);
      this.host.post({ type: 'textContext', context: this.context(methods.length ? textMethodInfos(methods) : []) });
      this.host.post({ type: 'predictions', predictions });
      return true;
    } catch (e) {
      this.host.showError(e);
      return false;
    }
  }

  private textMethodsCache: ReturnType<typeof textMethodInfos> | undefined;

  private context(methods = this.textMethodsCache ?? []): TextContext {
    this.textMethodsCache = methods;
    const ctx = this.ctx!;
    return {
      text: ctx.text,
      source: ctx.source ? path.basename(ctx.source) : undefined,
      model: ctx.summary,
      methods,
      current: { method: this.method, params: this.paramsByMethod.get(this.method) ?? {}, target: this.target },
    };
  }

  /** Leaves text mode (the panel shows an image again). */
  leave(): void {
    if (!this.ctx) return;
    this.cancel();
    this.clearDecorations();
    this.selection = undefined;
    this.ctx = undefined;
    this.last = undefined;
    void this.state.update(TEXT_CONTEXT_KEY, undefined);
    this.host.post({ type: 'textContext', context: null });
  }

  /** After the webview (re)loads: context, predictions, last result, the run in flight. */
  replay(send: (m: ToWebview) => void): void {
    if (!this.ctx) return;
    send({ type: 'textContext', context: this.context() });
    send({ type: 'predictions', predictions: this.last?.predictions ?? this.ctx.predictions });
    if (this.last) send({ type: 'textResult', requestId: `text-last`, result: this.last });
    if (this.running) send(this.running.started);
  }

  cancel(): void {
    const r = this.running;
    if (!r) return;
    r.cancelled = true;
    r.call?.cancel();
  }

  private modelRef(file: string): ModelRef {
    return { file, runtime: readSettings(vscode.Uri.file(file)).runtime };
  }

  /** Runs a text method (the current one by default) for a target (the top prediction by default). */
  async run(req: { requestId?: string; method?: string; target?: number; params?: ParamValues } = {}): Promise<TextAttributionPayload | undefined> {
    const requestId = req.requestId ?? `text-${++this.hostIds}`;
    const ctx = this.ctx;
    if (!isTrusted()) {
      this.host.post({ type: 'error', requestId, message: (trustState() as { reason: string }).reason });
      return undefined;
    }
    if (!ctx) {
      this.host.post({ type: 'error', requestId, message: vscode.l10n.t('No text yet: select text in an editor and run Attribute Prediction for Selection.') });
      return undefined;
    }
    const method = req.method ?? this.method;
    if (!isTextMethod(method)) {
      this.host.post({ type: 'error', requestId, message: vscode.l10n.t('{0} cannot attribute a text model; choose one of the methods the panel lists.', method) });
      return undefined;
    }
    this.cancel();
    this.clearDecorations();
    if (req.params) this.paramsByMethod.set(method, req.params);
    const params = this.paramsByMethod.get(method) ?? readSettings().methodParams[method] ?? {};
    const target = req.target ?? this.target ?? ctx.predictions[0]?.index ?? 0;
    this.method = method;
    this.target = target;
    const targetLabel = ctx.summary.labels?.[target] ?? ctx.predictions.find((p) => p.index === target)?.label;
    const started: RunStartedMessage = { type: 'runStarted', requestId, kind: 'single', methods: [method], target, targetLabel };
    const running: NonNullable<TextSession['running']> = { requestId, started, cancelled: false };
    this.running = running;
    this.host.post(started);
    const settings = readSettings(vscode.Uri.file(ctx.modelFile));
    try {
      const request = { ...textRequest(method, params), target };
      const call = this.models.engine.call('attributeText', { model: this.modelRef(ctx.modelFile), text: ctx.text, request, batchSize: settings.batchSize }, (p) =>
        this.host.post({ type: 'runProgress', requestId, done: p.done, total: p.total, phase: p.phase }),
      );
      running.call = call;
      const res = await call.promise;
      const result: TextAttributionPayload = { ...res, text: ctx.text, params: plainParams(res.params) };
      this.last = result;
      this.host.post({ type: 'textResult', requestId, result });
      this.decorate(result);
      return result;
    } catch (e) {
      if (e instanceof CallCancelledError || running.cancelled) this.host.post({ type: 'runCancelled', requestId });
      else this.host.showError(e, requestId);
      return undefined;
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /**
   * Draws each token's score on the selection it came from: a green (positive) or red (negative)
   * background, stronger with |score| over the largest; the score on hover. Cleared when that
   * document changes, a new run starts, or by Clear Token Scores in Editor.
   */
  private decorate(r: TextAttributionPayload): void {
    const sel = this.selection;
    if (!sel) return;
    const editors = vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === sel.uri);
    if (editors.length === 0 || editors[0].document.version !== sel.version) return;
    const doc = editors[0].document;
    const ranges = tokenRanges(r.text, r.tokens);
    let max = 0;
    r.tokens.forEach((t, i) => { if (ranges[i]) max = Math.max(max, Math.abs(t.score)); });
    if (max === 0) return;
    const types = Array.from({ length: 2 * SHADES }, (_, k) => {
      const positive = k >= SHADES;
      const alpha = (((k % SHADES) + 1) / SHADES) * 0.55;
      return vscode.window.createTextEditorDecorationType({
        backgroundColor: positive ? `rgba(56, 166, 72, ${alpha.toFixed(2)})` : `rgba(229, 62, 62, ${alpha.toFixed(2)})`,
        borderRadius: '2px',
      });
    });
    const byType: vscode.DecorationOptions[][] = types.map(() => []);
    r.tokens.forEach((t, i) => {
      const range = ranges[i];
      if (!range || t.score === 0) return;
      const shade = Math.min(SHADES - 1, Math.floor((Math.abs(t.score) / max) * SHADES - 1e-9));
      byType[(t.score > 0 ? SHADES : 0) + Math.max(0, shade)].push({
        range: new vscode.Range(doc.positionAt(sel.offset + range.start), doc.positionAt(sel.offset + range.end)),
        hoverMessage: `${r.targetLabel ?? `output ${r.target}`} · ${t.text}: ${t.score.toPrecision(3)}`,
      });
    });
    const watch = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() === sel.uri && e.contentChanges.length > 0) {
        this.selection = undefined;
        this.clearDecorations();
      }
    });
    this.decoration = { types, watch };
    for (const ed of editors) types.forEach((ty, k) => ed.setDecorations(ty, byType[k]));
    void vscode.commands.executeCommand('setContext', 'attributionLens.textDecorations', true);
  }

  /** Removes the token scores from the editor. */
  clearDecorations(): void {
    const d = this.decoration;
    if (!d) return;
    this.decoration = undefined;
    d.watch.dispose();
    for (const t of d.types) t.dispose();
    void vscode.commands.executeCommand('setContext', 'attributionLens.textDecorations', false);
  }

  /** Writes the last text result as JSON or CSV where the user chooses. */
  async export(format: 'json' | 'csv', requestId: string): Promise<boolean> {
    const done = (ok: boolean, message: string): boolean => {
      this.host.post({ type: 'exportDone', requestId, ok, message });
      return ok;
    };
    const r = this.last;
    const ctx = this.ctx;
    if (!r || !ctx) return done(false, vscode.l10n.t('Nothing to export yet: run an attribution first.'));
    const bytes = new TextEncoder().encode(format === 'csv' ? textCsv(r) : textJson(r, { model: ctx.modelFile, source: ctx.source }));
    const dir = ctx.source && path.isAbsolute(ctx.source) ? path.dirname(ctx.source) : path.dirname(ctx.modelFile);
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(dir, `text-${r.method}-${r.target}.${format}`)),
      filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      title: vscode.l10n.t('Export Attribution'),
    });
    if (!uri) return done(false, vscode.l10n.t('Export cancelled.'));
    try {
      await vscode.workspace.fs.writeFile(uri, bytes);
    } catch (e) {
      return done(false, vscode.l10n.t('Cannot write {0}: {1}', uri.fsPath, (e as Error).message));
    }
    return done(true, vscode.l10n.t('Saved {0}', uri.fsPath));
  }
}
