// <al-preprocess-editor>: how the image becomes the model's input — where that came from, the
// values (size, resize, scale, mean, std, channels, layout), a preview of what the model sees
// and its top predictions. Reports edits, Save and Reset as events; <al-app> talks to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { Prediction, PreprocessInfo, PreprocessKey, PreprocessValues } from '../../../src/shared/protocol';
import type { RgbaImage } from '../../../src/shared/visualize';
import { AlElement, h } from './base';

export interface PreprocessChangeDetail {
  /** every key the user set (the saved file's keys plus the edits) */
  values: PreprocessValues;
  key: PreprocessKey;
}

export interface PreprocessSaveDetail {
  values: PreprocessValues;
}

export interface PreprocessPreview {
  image?: RgbaImage;
  predictions: Prediction[];
}

/** The engine's one-line refusal and the key it is about (none: shown above the fields). */
export interface PreprocessError {
  key?: PreprocessKey;
  message: string;
}

type Field = HTMLElement & { value: string };
type EditableKey = Exclude<PreprocessKey, 'input'>;

const CHOICES = {
  resize: [
    ['stretch', 'stretch', 'to the size, aspect ratio not kept'],
    ['cover', 'cover', 'scale to cover the size, crop the centre'],
    ['contain', 'contain', 'scale to fit inside the size, pad'],
    ['height', 'height', 'keep the aspect ratio at the height, pad the width (text lines)'],
  ],
  interpolation: [['', '(default)'], ['nearest', 'nearest'], ['bilinear', 'bilinear'], ['bicubic', 'bicubic'], ['lanczos', 'lanczos']],
  channels: [['RGB', 'RGB'], ['BGR', 'BGR'], ['grayscale', 'grayscale']],
  layout: [['NCHW', 'NCHW'], ['NHWC', 'NHWC']],
} as const;

const CSS = `
.source { font-size: 12px; margin-bottom: 6px; overflow-wrap: anywhere; }
.guessed { padding: 6px 8px; margin: 0 0 8px; border: 1px solid var(--vscode-inputValidation-warningBorder);
  background: var(--vscode-inputValidation-warningBackground); border-radius: 2px; overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(118px, 1fr)); gap: 8px 12px; }
.field { min-width: 0; }
.field .name { font-size: 12px; }
.field.invalid .name { color: var(--vscode-errorForeground); }
.err { color: var(--vscode-errorForeground); font-size: 12px; overflow-wrap: anywhere; }
.pair { display: flex; gap: 4px; align-items: center; min-width: 0; }
.pair vscode-textfield { flex: 1; min-width: 0; }
vscode-single-select, vscode-textfield { width: 100%; min-width: 0; }
.general { margin: 0 0 6px; }
.preview { display: flex; flex-wrap: wrap; gap: 8px 16px; margin-top: 10px; align-items: flex-start; }
.preview figure { margin: 0; min-width: 0; }
canvas { display: block; width: min(100%, 192px); height: auto; image-rendering: pixelated;
  border: 1px solid var(--vscode-panel-border, transparent); background: var(--vscode-editor-background); }
figcaption { font-size: 12px; margin-top: 2px; }
ol { margin: 0; padding-left: 20px; font-size: 12px; min-width: 0; flex: 1; }
li { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.prob { font-variant-numeric: tabular-nums; }
.actions { margin-top: 10px; }
.status { font-size: 12px; }
`;

export class AlPreprocessEditor extends AlElement {
  private _info: PreprocessInfo | undefined;
  private _values: PreprocessValues = {};
  private _error: PreprocessError | undefined;
  private _preview: PreprocessPreview | undefined;
  private _busy = false;
  private _status = '';
  private _disabled = false;
  /** fields whose text does not parse, by key (never sent) */
  private readonly local = new Map<EditableKey, string>();
  /** the fields show values set from outside; a user's own edit does not re-fill them */
  private refill = true;

  private readonly sourceEl = h('div', { class: 'source muted', 'attr:id': 'source' });
  private readonly guessedEl = h('div', { class: 'guessed', 'attr:id': 'guessed', 'attr:role': 'status' });
  private readonly generalErr = h('div', { class: 'err general', 'attr:id': 'general-error', 'attr:role': 'alert' });
  private readonly canvas = h('canvas', { 'attr:id': 'preview-image', 'attr:role': 'img', 'attr:aria-label': 'the image as the model sees it' });
  private readonly caption = h('figcaption', { class: 'muted' });
  private readonly list = h('ol', { 'attr:id': 'preview-predictions', 'attr:aria-label': 'top predictions with these values' });
  private readonly statusEl = h('span', { class: 'status muted', 'attr:id': 'preprocess-status', 'attr:role': 'status' });
  private readonly save = h('vscode-button', { 'attr:id': 'preprocess-save', 'on:click': () => this.onSave() }, 'Save');
  private readonly reset = h('vscode-button', { 'attr:id': 'preprocess-reset', secondary: true, 'on:click': () => this.onReset() }, 'Reset');
  private readonly wraps = new Map<EditableKey, HTMLElement>();
  private readonly errs = new Map<EditableKey, HTMLElement>();
  // built once and updated in place: replacing an open vscode-single-select breaks its dropdown
  private readonly controls = {
    height: this.text('size', 'number', 'height'),
    width: this.text('size', 'number', 'width'),
    resize: this.select('resize', CHOICES.resize),
    cropPct: this.text('cropPct', 'number'),
    interpolation: this.select('interpolation', CHOICES.interpolation),
    scale: this.text('scale', 'text'),
    mean: this.text('mean', 'text'),
    std: this.text('std', 'text'),
    channels: this.select('channels', CHOICES.channels),
    layout: this.select('layout', CHOICES.layout),
  };

  constructor() {
    super(CSS);
    const c = this.controls;
    const size = h('span', { class: 'pair' }, c.height, '×', c.width);
    this.root.append(
      this.guessedEl, this.sourceEl, this.generalErr,
      h('div', { class: 'grid' },
        this.field('size', 'Size (H × W)', size),
        this.field('resize', 'Resize', c.resize),
        this.field('cropPct', 'Crop %', c.cropPct),
        this.field('interpolation', 'Interpolation', c.interpolation),
        this.field('scale', 'Scale', c.scale),
        this.field('mean', 'Mean', c.mean),
        this.field('std', 'Std', c.std),
        this.field('channels', 'Channels', c.channels),
        this.field('layout', 'Layout', c.layout)),
      h('div', { class: 'preview' }, h('figure', {}, this.canvas, this.caption), this.list),
      h('div', { class: 'row actions' }, this.save, this.reset, this.statusEl),
    );
  }

  /** the resolved preprocessing and its source; setting it shows its values */
  get info(): PreprocessInfo | undefined { return this._info; }
  set info(v: PreprocessInfo | undefined) { this._info = v; this.refill = true; this.requestUpdate(); }

  /** the keys the user set; setting it re-fills the fields */
  get values(): PreprocessValues { return this._values; }
  set values(v: PreprocessValues) { this._values = { ...v }; this.local.clear(); this.refill = true; this.requestUpdate(); }

  get error(): PreprocessError | undefined { return this._error; }
  set error(v: PreprocessError | undefined) { this._error = v; this.requestUpdate(); }

  get preview(): PreprocessPreview | undefined { return this._preview; }
  set preview(v: PreprocessPreview | undefined) { this._preview = v; this.requestUpdate(); }

  /** a preview is on its way */
  get busy(): boolean { return this._busy; }
  set busy(v: boolean) { this._busy = v; this.requestUpdate(); }

  get status(): string { return this._status; }
  set status(v: string) { this._status = v; this.requestUpdate(); }

  get disabled(): boolean { return this._disabled; }
  set disabled(v: boolean) { this._disabled = v; this.requestUpdate(); }

  private field(key: EditableKey, label: string, control: HTMLElement): HTMLElement {
    const err = h('div', { class: 'err', 'attr:role': 'alert' });
    const wrap = h('label', { class: 'field', 'attr:data-key': key }, h('span', { class: 'name' }, label), control, err);
    this.wraps.set(key, wrap);
    this.errs.set(key, err);
    return wrap;
  }

  private text(key: EditableKey, type: 'number' | 'text', part?: 'height' | 'width'): Field {
    return h('vscode-textfield', {
      type,
      'attr:data-part': part,
      'attr:aria-label': part ?? key,
      'on:change': () => this.changed(key),
    }) as Field;
  }

  private select(key: EditableKey, choices: ReadonlyArray<readonly [string, string, string?]>): Field {
    return h('vscode-single-select', { 'attr:aria-label': key, 'on:change': () => this.changed(key) },
      ...choices.map(([value, label, description]) => h('vscode-option', { value, description }, label))) as Field;
  }

  /** What a key shows: the user's value, else the resolved one. */
  private shown<K extends PreprocessKey>(key: K): PreprocessValues[K] {
    return this._values[key] ?? this._info?.config[key];
  }

  private changed(key: EditableKey): void {
    const r = this.parse(key);
    if ('error' in r) this.local.set(key, r.error);
    else this.local.delete(key);
    if (!('error' in r)) {
      const next: Record<string, unknown> = { ...this._values };
      if (r.value === undefined) delete next[key];
      else next[key] = r.value;
      this._values = next as PreprocessValues;
      this.emit<PreprocessChangeDetail>('al-preprocess-change', { values: this._values, key });
    }
    this.requestUpdate();
  }

  private parse(key: EditableKey): { value: unknown } | { error: string } {
    const c = this.controls;
    switch (key) {
      case 'size': {
        const hh = wholeNumber(c.height.value), ww = wholeNumber(c.width.value);
        if (hh === undefined || ww === undefined) return { error: 'size: give the height and the width as whole numbers of pixels' };
        return { value: [hh, ww] };
      }
      case 'scale': {
        const v = numberOrFraction(c.scale.value);
        return v === undefined ? { error: 'scale: give a number such as 1/255 or 0.00392' } : { value: v };
      }
      case 'cropPct': {
        if (c.cropPct.value.trim() === '') return { value: undefined };
        const v = numberOrFraction(c.cropPct.value);
        return v === undefined ? { error: 'crop %: give a fraction such as 0.875' } : { value: v };
      }
      case 'mean':
      case 'std': {
        const v = numberList(c[key].value);
        return v === undefined ? { error: `${key}: give one number, or one per channel separated by commas` } : { value: v };
      }
      case 'interpolation':
        return { value: c.interpolation.value || undefined };
      default:
        return { value: c[key].value };
    }
  }

  private onSave(): void {
    if (this._disabled) return;
    if (this.local.size > 0) {
      this._status = 'Fix the marked values first.';
      this.requestUpdate();
      return;
    }
    this.emit<PreprocessSaveDetail>('al-preprocess-save', { values: this._values });
  }

  private onReset(): void {
    if (this._disabled) return;
    this.emit('al-preprocess-reset', {});
  }

  protected update(): void {
    const info = this._info;
    this.hidden = !info;
    if (!info) return;
    this.guessedEl.hidden = !info.guessed;
    this.guessedEl.textContent = info.guessed
      ? `The preprocessing is guessed: no ${info.file}, preprocessor_config.json or model metadata says how this model wants its images, ` +
        `so the predictions may be wrong. Set the values the model was trained with below and Save to write ${info.file}.`
      : '';
    const unsaved = JSON.stringify(sorted(this._values)) !== JSON.stringify(sorted(info.saved));
    this.sourceEl.textContent = `Source: ${info.source}${unsaved ? ' · unsaved changes' : ''}${!info.guessed && info.note ? ` · ${info.note}` : ''}`;

    const c = this.controls;
    if (this.refill) {
      this.refill = false;
      const size = this.shown('size');
      setValue(c.height, size ? String(size[0]) : '');
      setValue(c.width, size ? String(size[1]) : '');
      for (const k of ['resize', 'channels', 'layout', 'interpolation'] as const) setValue(c[k], String(this.shown(k) ?? ''));
      const scale = this.shown('scale');
      setValue(c.scale, scale === undefined ? '' : Math.abs(scale * 255 - 1) < 1e-9 ? '1/255' : String(scale));
      const crop = this.shown('cropPct');
      setValue(c.cropPct, crop === undefined ? '' : String(crop));
      for (const k of ['mean', 'std'] as const) setValue(c[k], (this.shown(k) ?? []).join(', '));
    }
    (this.wraps.get('cropPct') as HTMLElement).hidden = (this.shown('resize') ?? 'stretch') !== 'cover';

    // one message per key: the field's own parse error first, else the engine's
    const host = this._error;
    for (const [key, el] of this.errs) {
      const msg = this.local.get(key) ?? (host?.key === key ? host.message : '');
      el.textContent = msg;
      el.hidden = !msg;
      this.wraps.get(key)?.classList.toggle('invalid', !!msg);
    }
    const general = host && (!host.key || !this.errs.has(host.key as EditableKey)) ? host.message : '';
    this.generalErr.textContent = general;
    this.generalErr.hidden = !general;

    for (const el of [...Object.values(c), this.save, this.reset]) el.toggleAttribute('disabled', this._disabled);
    this.statusEl.textContent = this._busy ? 'Updating the preview…' : this._status;

    const img = this._preview?.image;
    if (img) {
      this.canvas.width = img.width;
      this.canvas.height = img.height;
      this.canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
      this.caption.textContent = `What the model sees: ${img.width}×${img.height}`;
    }
    this.canvas.hidden = !img;
    this.caption.hidden = !img;
    const preds = this._preview?.predictions ?? [];
    this.list.replaceChildren(...preds.map((p) => h('li', { title: `output ${p.index} · logit ${p.logit.toFixed(3)}` },
      p.label ?? `class ${p.index}`, ' ', h('span', { class: 'prob muted' }, `${(p.probability * 100).toFixed(1)}%`))));
    this.list.hidden = preds.length === 0;
  }
}

function setValue(el: Field, v: string): void {
  if (el.value !== v) el.value = v;
}

function sorted(v: PreprocessValues): Array<[string, unknown]> {
  return Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b));
}

function wholeNumber(text: string): number | undefined {
  const v = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(v) ? v : undefined;
}

/** `0.5`, `1/255` */
function numberOrFraction(text: string): number | undefined {
  const t = text.trim();
  const m = /^(-?[\d.]+(?:e-?\d+)?)\s*\/\s*([\d.]+(?:e-?\d+)?)$/i.exec(t);
  const v = m ? Number(m[1]) / Number(m[2]) : t === '' ? NaN : Number(t);
  return Number.isFinite(v) ? v : undefined;
}

function numberList(text: string): number[] | undefined {
  const inner = text.trim().replace(/^[[(]\s*|\s*[\])]$/g, '');
  if (inner === '') return undefined;
  const parts = inner.split(/\s*[,\s]\s*/);
  const nums = parts.map(numberOrFraction);
  return nums.every((n) => n !== undefined) ? (nums as number[]) : undefined;
}

customElements.define('al-preprocess-editor', AlPreprocessEditor);
