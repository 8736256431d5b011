// <al-method-picker>: method select (grouped by family, type to filter) plus that method's
// parameters, rendered from ParamSpec alone.
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { MethodInfo, ModelSummary, ParamSpec, ParamValues } from '../../../src/shared/protocol';
import { type ChoiceOption, formatParam, groupMethods, layerOptions, numberStep, parseParam } from '../params';
import { AlElement, h, nodes } from './base';

export interface MethodChangeDetail {
  method: string;
}

export interface ParamsChangeDetail {
  method: string;
  params: ParamValues;
  /** one message per field that does not parse */
  errors: string[];
}

type Layers = NonNullable<ModelSummary['layers']>;

const CSS = `
.fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(160px, 100%), 1fr)); gap: 8px 12px; margin-top: 8px; }
.field { min-width: 0; }
/* a long flag name (returnConvergenceDelta) wraps inside its cell instead of running into the next */
vscode-checkbox { max-width: 100%; }
.cb-name { overflow-wrap: anywhere; }
.desc { margin: 6px 0 0; }
.field .name { font-size: 12px; }
.field.invalid .name { color: var(--vscode-errorForeground); }
vscode-single-select, vscode-textfield { width: 100%; }
`;

export class AlMethodPicker extends AlElement {
  private _methods: MethodInfo[] = [];
  private _method = '';
  private _params: ParamValues = {};
  private _layers: Layers | undefined;
  private errors = new Map<string, string>();

  constructor() {
    super(CSS);
  }

  get methods(): MethodInfo[] { return this._methods; }
  set methods(v: MethodInfo[]) { this._methods = v; this.requestUpdate(); }

  get method(): string { return this._method; }
  set method(v: string) { this._method = v; this.requestUpdate(); }

  /** current values; setting it re-renders the fields */
  get params(): ParamValues { return this._params; }
  set params(v: ParamValues) { this._params = { ...v }; this.errors.clear(); this.requestUpdate(); }

  /** the model's layers, for `layer` parameters */
  get layers(): Layers | undefined { return this._layers; }
  set layers(v: Layers | undefined) { this._layers = v; this.requestUpdate(); }

  private get info(): MethodInfo | undefined {
    return this._methods.find((m) => m.id === this._method);
  }

  // the select is kept across updates (replacing an open vscode-single-select breaks it);
  // options are rebuilt when the method list changes, fields when the method or params change
  private readonly select = h('vscode-single-select', {
    'attr:id': 'method',
    'attr:aria-label': 'Attribution method',
    // type-to-find: the face is a text field that filters the list
    combobox: true,
    filter: 'contains',
    'on:change': (e: Event) => {
      const id = (e.target as HTMLElement & { value: string }).value;
      if (id && id !== this._method) this.emit<MethodChangeDetail>('al-method-change', { method: id });
    },
  }) as HTMLElement & { value: string };
  private readonly body = h('div');
  private shownMethods: MethodInfo[] | undefined;
  private shownFields: { method: string; params: ParamValues; layers: Layers | undefined } | undefined;

  protected update(): void {
    if (!this.select.isConnected) this.root.replaceChildren(this.select, this.body);
    if (this.shownMethods !== this._methods) {
      this.shownMethods = this._methods;
      // a disabled heading per family; the filter hides headings that do not match either
      this.select.replaceChildren(...groupMethods(this._methods).flatMap((g) => [
        h('vscode-option', { class: 'group', disabled: true, value: `family:${g.family}`, 'attr:data-family': g.family }, `${g.title} methods`),
        ...g.methods.map((m) => h('vscode-option', {
          value: m.id,
          description: m.description,
          'attr:data-family': m.family,
        }, m.captumName)),
      ]));
    }
    if (this.select.value !== this._method) this.select.value = this._method;
    const f = this.shownFields;
    if (f && f.method === this._method && f.params === this._params && f.layers === this._layers && this.shownMethods === this._methods) return;
    this.shownFields = { method: this._method, params: this._params, layers: this._layers };
    const info = this.info;
    this.body.replaceChildren(...nodes(
      info ? h('p', { class: 'desc muted' }, info.description) : null,
      info && info.params.length > 0 ? h('div', { class: 'fields' }, ...info.params.map((p) => this.field(p))) : null,
    ));
  }

  private field(p: ParamSpec): HTMLElement {
    const value = this._params[p.name];
    const wrap = h('label', { class: 'field' + (this.errors.has(p.name) ? ' invalid' : ''), title: p.description, 'attr:data-param': p.name });
    const changed = (input: string | boolean) => {
      const r = parseParam(p, input);
      if (r.error) this.errors.set(p.name, r.error);
      else this.errors.delete(p.name);
      wrap.classList.toggle('invalid', !!r.error);
      const next = { ...this._params };
      if (r.value === undefined) delete next[p.name];
      else if (!r.error) next[p.name] = r.value;
      this._params = next;
      if (this.shownFields) this.shownFields.params = next; // an edit, not a reason to rebuild the fields
      this.emit<ParamsChangeDetail>('al-params-change', { method: this._method, params: next, errors: [...this.errors.values()] });
    };
    const name = h('span', { class: 'name' }, p.name, p.required ? ' *' : '');

    if (p.kind === 'boolean') {
      const cb = h('vscode-checkbox', {
        checked: value === true,
        'on:change': (e: Event) => changed((e.target as HTMLElement & { checked: boolean }).checked),
      }, h('span', { class: 'cb-name' }, p.name));
      wrap.append(cb);
      return wrap;
    }
    const current = typeof value === 'string' ? value : '';
    const info = this.info;
    const isLayer = p.kind === 'layer' && info && this._layers && this._layers.length > 0;
    const options: ChoiceOption[] | undefined = p.kind === 'enum' ? (p.values ?? []).map((v) => ({ value: v, label: v }))
      : isLayer ? layerOptions(info, p, this._layers!, current)
        : undefined;
    if (options) {
      wrap.append(name, h('vscode-single-select', {
        // a model has hundreds of layers: type to find one
        combobox: isLayer,
        filter: 'contains',
        'on:change': (e: Event) => changed((e.target as HTMLElement & { value: string }).value),
      }, ...options.map((o) => h('vscode-option', { value: o.value, description: o.description ?? '', selected: o.value === current }, o.label))));
      return wrap;
    }
    const numeric = p.kind === 'int' || p.kind === 'number';
    wrap.append(name, h('vscode-textfield', {
      type: numeric ? 'number' : 'text',
      value: formatParam(value),
      min: numeric ? p.min : undefined,
      max: numeric ? p.max : undefined,
      step: numberStep(p),
      placeholder: p.kind === 'shape' ? 'e.g. 3, 15, 15' : p.required ? 'required' : '',
      'on:change': (e: Event) => changed((e.target as HTMLElement & { value: string }).value),
    }));
    return wrap;
  }
}

customElements.define('al-method-picker', AlMethodPicker);
