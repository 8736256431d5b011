// The panel's preprocessing editor, host side (vscode-free, tested directly): edits are checked
// with the engine's validatePreprocess, previewed with one forward pass in the engine process (a
// newer request cancels the older one), and saved as the keys the user set in
// `<model>.attrlens.json` beside the model — the only file this module writes.
import * as fs from 'fs';
import * as path from 'path';
import { configPathFor, readPreprocessFile, validatePreprocess, type PreprocessConfig } from '../../engine/inputs/preprocess';
import {
  PREPROCESS_KEYS, type PreprocessInfo, type PreprocessInvalidMessage, type PreprocessKey, type PreprocessPreviewMessage,
  type PreprocessSavedMessage, type PreprocessValues, type Prediction,
} from '../../shared/protocol';
import { CallCancelledError, type EngineCall, type EngineClient } from '../engine/engineClient';
import { toPanelImage } from '../wire';
import type { ImagePixels, ModelRef, EngineCalls } from '../engine/engineProtocol';

/** What a preview feeds: the model, the image, and the `attributionLens.preprocessing` setting. */
export interface PreviewTarget {
  model: ModelRef;
  imageFile: string;
  settings: Partial<PreprocessConfig>;
}

export type PreviewOutcome =
  | { ok: true; reply: PreprocessPreviewMessage; predictions: Prediction[]; image?: ImagePixels; config?: PreprocessConfig }
  | { ok: false; reply: PreprocessInvalidMessage };

type Predict = EngineCalls['predict']['result'];

export class PreprocessSession {
  /** the edits the panel's runs use until the next load (undefined: none) */
  private edits: Partial<PreprocessConfig> | undefined;
  private call: EngineCall<Predict> | undefined;
  private latest: string | undefined;

  constructor(private readonly engine: Pick<EngineClient, 'call'>) {}

  /** Back to the model's own preprocessing (a new model or image, or the edits were saved). */
  reset(): void {
    this.call?.cancel();
    this.call = undefined;
    this.latest = undefined;
    this.edits = undefined;
  }

  get edited(): boolean {
    return this.edits !== undefined;
  }

  /** The engine's preprocessing options: the setting, then the editor's edits over it. */
  overrides(settings: Partial<PreprocessConfig>): Partial<PreprocessConfig> {
    return this.edits ? { ...settings, ...this.edits } : settings;
  }

  /**
   * Decodes and predicts with `values`; undefined when a newer preview (or a reset) superseded
   * this one, so the webview never gets an answer it no longer waits for.
   */
  async preview(requestId: string, target: PreviewTarget, values: PreprocessValues): Promise<PreviewOutcome | undefined> {
    this.call?.cancel();
    this.latest = requestId;
    const out = await this.check(requestId, target, values);
    if (this.latest !== requestId) return undefined;
    this.call = undefined;
    if (out.ok) this.edits = validatePreprocess(values, 'edits');
    return out;
  }

  /** Saves `values` once the engine accepts them; the file holds exactly the keys given (and `input` for multi-input models). */
  async save(
    requestId: string,
    target: PreviewTarget,
    values: PreprocessValues,
    opts: { multiInput: boolean },
  ): Promise<{ reply: PreprocessSavedMessage; invalid?: PreprocessInvalidMessage; file?: string }> {
    this.call?.cancel();
    this.latest = requestId;
    const file = path.basename(configPathFor(target.model.file));
    try {
      saveTarget(target.model.file);
    } catch (e) {
      return { reply: { type: 'preprocessSaved', requestId, ok: false, message: (e as Error).message } };
    }
    const out = await this.check(requestId, target, values);
    if (this.latest === requestId) this.call = undefined;
    if (!out.ok) return { reply: { type: 'preprocessSaved', requestId, ok: false, message: `Not saved: ${out.reply.message}` }, invalid: out.reply };
    const keep = opts.multiInput ? { ...values, input: values.input ?? out.config?.input } : values;
    try {
      const written = writePreprocessFile(target.model.file, keep);
      return { reply: { type: 'preprocessSaved', requestId, ok: true, message: `Saved ${file}` }, file: written };
    } catch (e) {
      return { reply: { type: 'preprocessSaved', requestId, ok: false, message: (e as Error).message } };
    }
  }

  private async check(requestId: string, target: PreviewTarget, values: PreprocessValues): Promise<PreviewOutcome> {
    const label = path.basename(configPathFor(target.model.file));
    const invalid = (e: unknown): PreviewOutcome => {
      const message = editorMessage(e, label);
      return { ok: false, reply: { type: 'preprocessInvalid', requestId, key: keyOf(message), message } };
    };
    let checked: Partial<PreprocessConfig>;
    try {
      checked = validatePreprocess(values, label);
    } catch (e) {
      return invalid(e);
    }
    const call = this.engine.call('predict', { model: target.model, input: { file: target.imageFile, options: { preprocess: { ...target.settings, ...checked } } } });
    if (this.latest === requestId) this.call = call;
    try {
      const r = await call.promise;
      const reply: PreprocessPreviewMessage = {
        type: 'preprocessPreview', requestId, config: r.preprocess ? toValues(r.preprocess) : { ...values }, predictions: r.predictions,
        image: r.image ? toPanelImage(r.image, r.preprocess?.input) : undefined,
      };
      return { ok: true, reply, predictions: r.predictions, image: r.image, config: r.preprocess };
    } catch (e) {
      if (e instanceof CallCancelledError) return { ok: false, reply: { type: 'preprocessInvalid', requestId, message: 'cancelled' } };
      return invalid(e);
    }
  }
}

/** The editor's view of the resolved preprocessing: the config, where it came from, and what the file sets. */
export function preprocessInfo(modelFile: string, resolved: PreprocessConfig | undefined, inputCount: number): PreprocessInfo | undefined {
  if (!resolved) return undefined;
  let saved: PreprocessValues = {};
  try {
    saved = toValues(readPreprocessFile(modelFile) ?? {});
  } catch {
    // an invalid file already failed the predict that resolved `resolved`
  }
  const file = path.basename(configPathFor(modelFile));
  // the engine names its source; without one, the file beside the model or a guess
  const named = (resolved as { source?: unknown }).source;
  const source = typeof named === 'string' && named !== '' ? named : Object.keys(saved).length > 0 ? file : 'guessed';
  const guessed = /^guess/i.test(source);
  // <model>.attrlens.json replaces a discovered source (preprocessor_config.json, timm, metadata)
  // rather than adding to it, so the editor starts from every key that source set
  if (Object.keys(saved).length === 0 && !guessed) {
    const { input: _input, ...all } = toValues(resolved);
    saved = all;
  }
  const note = (resolved as { note?: unknown }).note;
  const info: PreprocessInfo = { config: toValues(resolved), source, guessed, saved, file, multiInput: inputCount > 1 };
  if (typeof note === 'string' && note !== '') info.note = note;
  return info;
}

/** Only the keys a config file may hold, copied. */
export function toValues(c: Partial<PreprocessConfig> | Record<string, unknown>): PreprocessValues {
  const out: Record<string, unknown> = {};
  for (const k of PREPROCESS_KEYS) {
    const v = (c as Record<string, unknown>)[k];
    if (v !== undefined && v !== null) out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out as PreprocessValues;
}

/** The file's text: the given keys in a fixed order, 2-space indent, lists on one line. */
export function preprocessJson(values: PreprocessValues): string {
  const lines = PREPROCESS_KEYS.filter((k) => values[k] !== undefined).map((k) => {
    const v = values[k];
    return `  ${JSON.stringify(k)}: ${Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : JSON.stringify(v)}`;
  });
  return lines.length === 0 ? '{}\n' : `{\n${lines.join(',\n')}\n}\n`;
}

/**
 * Writes `<model>.attrlens.json` beside `modelFile` and returns its path. Never through a link
 * (it could point outside the model's folder) and never anywhere else.
 */
export function writePreprocessFile(modelFile: string, values: PreprocessValues): string {
  const target = saveTarget(modelFile);
  const name = path.basename(target);
  // O_NOFOLLOW: a link created after the check is not followed either (where the platform has it)
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0);
  let fd: number;
  try {
    fd = fs.openSync(target, flags, 0o644);
  } catch (e) {
    throw new Error(`Not saved: cannot write ${name} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the folder's permissions`);
  }
  try {
    fs.writeFileSync(fd, preprocessJson(values));
  } finally {
    fs.closeSync(fd);
  }
  return target;
}

/** `<model>.attrlens.json` beside the model, when it may be written: not a link, not a folder. */
export function saveTarget(modelFile: string): string {
  const target = configPathFor(path.resolve(modelFile));
  const name = path.basename(target);
  if (path.dirname(target) !== path.dirname(path.resolve(modelFile))) throw new Error(`Not saved: ${name} would land outside the model's folder`);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(target);
  } catch {
    // not there yet
  }
  if (st?.isSymbolicLink()) throw new Error(`Not saved: ${name} is a link (it may point outside the model's folder); replace it with a plain file`);
  if (st && !st.isFile()) throw new Error(`Not saved: ${name} is not a plain file; remove it and save again`);
  return target;
}

/** The key an engine message is about: the first quoted config key in it. */
export function keyOf(message: string): PreprocessKey | undefined {
  for (const m of message.matchAll(/"([A-Za-z]+)"/g)) {
    if ((PREPROCESS_KEYS as readonly string[]).includes(m[1])) return m[1] as PreprocessKey;
  }
  return undefined;
}

/** One line for the editor, without the engine's "<source>: " prefix (the editor is the source). */
function editorMessage(e: unknown, label: string): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  for (const prefix of [`${label}: `, 'preprocessing settings: ', 'edits: ']) if (line.startsWith(prefix)) return line.slice(prefix.length);
  return line;
}
