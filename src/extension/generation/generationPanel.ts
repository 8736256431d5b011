// The generation view's host side: one webview panel, showing one prompt of one causal LM at a
// time. It runs Captum's LLM attributions in the engine process (progress streamed, Cancel
// aborts the engine-side run) and posts each result. Every webview message is checked
// (isFromGenerationView); the model and the prompt come from the command, never from the webview.
import * as vscode from 'vscode';
import {
  type FromGenerationView, type ToGenerationView, GENERATION_METHODS, MAX_NEW_TOKENS, isFromGenerationView,
} from '../../shared/generationProtocol';
import type { GenerationAttributionResult, GenerationRequest } from '../../engine/generative';
import { readSettings } from '../config';
import type { Deps } from '../deps';
import { CallCancelledError, type EngineCall } from '../engine/engineClient';
import { displayName } from '../models';
import { errorMessage } from '../panel/attributionPanel';
import { trustState } from '../trust';
import { GENERATION_RESOURCE_DIRS, generationDocument } from './generationDocument';

export const GENERATION_VIEW_TYPE = 'attributionLens.generation';
/** new tokens generated when the view asks for a generation without a number */
export const DEFAULT_NEW_TOKENS = 16;

type State =
  | { kind: 'running'; method: string; done: number; total: number; phase?: string }
  | { kind: 'result'; result: GenerationAttributionResult }
  | { kind: 'cancelled' }
  | { kind: 'error'; message: string };

export class GenerationPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private ready = false;
  private model: string | undefined;
  private prompt = '';
  /** every result of this prompt, in order: the view's method comparison is rebuilt from them */
  private results: GenerationAttributionResult[] = [];
  private state: State | undefined;
  private call: EngineCall<GenerationAttributionResult> | undefined;
  private runSeq = 0;
  /** the method comparison under way; anything the user asks for ends it */
  private series = 0;

  constructor(private readonly deps: Deps) {}

  /** Shows the view for `prompt` of `model` and explains a greedy generation with the default method. */
  show(model: string, prompt: string): void {
    this.model = model;
    this.prompt = prompt;
    this.results = [];
    this.state = undefined;
    this.series++;
    this.open();
    if (this.ready) this.postInit();
    void this.run({ method: GENERATION_METHODS[0].id, generate: DEFAULT_NEW_TOKENS });
  }

  /** The results of the prompt shown (tests, diagnostics). */
  get shown(): readonly GenerationAttributionResult[] {
    return this.results;
  }

  private open(): void {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    const ext = this.deps.context.extensionUri;
    const panel = vscode.window.createWebviewPanel(
      GENERATION_VIEW_TYPE,
      vscode.l10n.t('Explain Generation'),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: true, enableCommandUris: false, retainContextWhenHidden: false, localResourceRoots: GENERATION_RESOURCE_DIRS.map((d) => vscode.Uri.joinPath(ext, d)) },
    );
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(ext, 'media', 'attribution-lens.svg');
    panel.webview.html = generationDocument({
      cspSource: panel.webview.cspSource,
      resourceUri: (rel) => panel.webview.asWebviewUri(vscode.Uri.joinPath(ext, ...rel.split('/'))).toString(),
      lang: vscode.env.language,
      title: panel.title,
    });
    this.subs.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      // a hidden webview is torn down; it says `ready` again when shown and gets the state replayed
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        this.call?.cancel();
        this.call = undefined;
        this.ready = false;
        this.panel = undefined;
        this.subs.splice(0).forEach((s) => s.dispose());
      }),
    );
  }

  /** Explains with one method; a run already going is cancelled first. */
  private run(req: { method: string; generate?: number; targetText?: string }): Promise<void> {
    const model = this.model;
    if (!model) return Promise.resolve();
    this.call?.cancel();
    const seq = ++this.runSeq;
    const trust = trustState();
    if (trust.restricted) {
      this.setState({ kind: 'error', message: trust.reason });
      return Promise.resolve();
    }
    this.setState({ kind: 'running', method: req.method, done: 0, total: 0 });
    const request: GenerationRequest = { text: this.prompt, method: req.method, ...(req.targetText !== undefined ? { targetText: req.targetText } : { generate: req.generate ?? DEFAULT_NEW_TOKENS }) };
    const call = this.deps.models.engine.call('attributeGeneration', { model: { file: model, runtime: readSettings(vscode.Uri.file(model)).runtime }, request }, (p) => {
      if (seq !== this.runSeq) return;
      this.state = { kind: 'running', method: req.method, done: p.done, total: p.total, phase: p.phase };
      this.post({ type: 'progress', method: req.method, done: p.done, total: p.total, phase: p.phase });
    });
    this.call = call;
    return call.promise.then(
      (result) => {
        if (seq !== this.runSeq) return;
        this.call = undefined;
        this.deps.log(`explain generation ${displayName(model)}: ${result.method} on "${result.continuation.slice(0, 80)}" in ${result.seconds.toFixed(2)} s`);
        this.results.push(result);
        this.setState({ kind: 'result', result });
      },
      (e: unknown) => {
        if (seq !== this.runSeq) return;
        this.call = undefined;
        if (e instanceof CallCancelledError) return this.setState({ kind: 'cancelled' });
        this.deps.log(`explain generation ${displayName(model)}: ${(e as Error)?.stack ?? e}`);
        this.setState({ kind: 'error', message: errorMessage(e) });
      },
    );
  }

  /** Every method on one continuation, one after another (a new request or Cancel ends the series). */
  private async compare(targetText: string): Promise<void> {
    const series = ++this.series;
    for (const m of GENERATION_METHODS) {
      await this.run({ method: m.id, targetText });
      if (series !== this.series || this.state?.kind !== 'result') return;
    }
  }

  private setState(s: State): void {
    this.state = s;
    this.postState();
  }

  private postInit(): void {
    this.post({ type: 'init', model: this.model ? displayName(this.model) : '', prompt: this.prompt, methods: GENERATION_METHODS, maxNewTokens: MAX_NEW_TOKENS });
  }

  private postState(): void {
    const s = this.state;
    if (!s) return;
    switch (s.kind) {
      case 'running':
        return this.post({ type: 'progress', method: s.method, done: s.done, total: s.total, phase: s.phase });
      case 'result':
        return this.post({ type: 'result', result: s.result });
      case 'cancelled':
        return this.post({ type: 'cancelled' });
      case 'error':
        return this.post({ type: 'error', message: s.message });
    }
  }

  private post(msg: ToGenerationView): void {
    if (this.ready && this.panel) void this.panel.webview.postMessage(msg);
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isFromGenerationView(raw)) {
      this.deps.log(`ignored a malformed message from the generation view: ${preview(raw)}`);
      return;
    }
    const msg: FromGenerationView = raw;
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.postInit();
        // the earlier results first (the comparison), then the current state
        for (const r of this.results) if (r !== (this.state?.kind === 'result' ? this.state.result : undefined)) this.post({ type: 'result', result: r });
        this.postState();
        return;
      case 'cancel':
        this.series++;
        this.call?.cancel();
        return;
      case 'run':
        this.series++;
        await this.run({ method: msg.method, targetText: msg.targetText, generate: msg.maxNewTokens });
        return;
      case 'compare':
        await this.compare(msg.targetText);
        return;
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

function preview(raw: unknown): string {
  try {
    return (JSON.stringify(raw) ?? String(raw)).slice(0, 200);
  } catch {
    return String(raw).slice(0, 200);
  }
}
