// Entry of the dataset view's bundle (dist/dataset.js): a model evaluated over a folder of
// labelled images. Metrics, the confusion matrix (a cell filters the grid to its items), and a
// virtualised grid of thumbnails with filters and sorts; a click on an item asks the host to open
// the Attribution panel on it. The host sends init, progress, then a report (or cancelled / error).
import {
  type DatasetItem, type DatasetReport, type FromDatasetView, type ToDatasetView, thumbnailUri,
} from '../../src/shared/datasetProtocol';
import { VirtualGrid } from './dataset/grid';
import {
  DEFAULT_QUERY, type DatasetQuery, type Outcome, type SortKey, accuracyCounts, isOutcome, isSortKey, matrixClasses, percent, select,
} from './dataset/query';

interface SavedState {
  query: DatasetQuery;
  /** the host's key for this view (DatasetInitMessage.restoreKey): a reloaded window reopens it from this */
  restoreKey?: string;
}

declare function acquireVsCodeApi(): { postMessage(m: FromDatasetView): void; getState(): SavedState | undefined; setState(s: SavedState): void };
const host = acquireVsCodeApi();

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
body { margin: 0; padding: 10px 20px 24px; background: var(--vscode-editor-background); color: var(--vscode-foreground);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.4; }
h1 { font-size: 1.4em; font-weight: 600; margin: 6px 0 2px; overflow-wrap: anywhere; }
h2 { font-size: 1.05em; font-weight: 600; margin: 0 0 6px; }
.muted { color: var(--vscode-descriptionForeground); }
.error-text { color: var(--vscode-errorForeground); }
button { font: inherit; padding: 3px 12px; border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; cursor: pointer;
  background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button:disabled { opacity: 0.5; cursor: default; }
button:focus-visible, select:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
select { font: inherit; padding: 2px 4px; background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground);
  border: 1px solid var(--vscode-dropdown-border, transparent); }
#status { margin: 8px 0; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
#status:empty { display: none; }
progress { width: min(360px, 60vw); accent-color: var(--vscode-progressBar-background); }
.panels { display: flex; flex-wrap: wrap; gap: 16px 40px; margin: 10px 0; align-items: flex-start; }
.panels:empty { display: none; }
#accuracy { font-size: 1.25em; font-weight: 600; margin-bottom: 6px; }
table { border-collapse: collapse; }
th { font-weight: 600; color: var(--vscode-descriptionForeground); text-align: left; }
.metrics th, .metrics td { padding: 1px 14px 1px 0; }
.metrics td.num { text-align: right; font-variant-numeric: tabular-nums; }
.confusion th, .confusion td { padding: 0; text-align: center; }
.confusion th { padding: 2px 6px; font-weight: normal; max-width: 9em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.confusion th.corner { text-align: left; font-size: 0.9em; max-width: none; }
.confusion button.cell { min-width: 3.2em; padding: 4px 6px; border-radius: 0; border: 1px solid var(--vscode-editor-background);
  font-variant-numeric: tabular-nums; background: var(--vscode-editorWidget-background, transparent); color: var(--vscode-foreground); }
.confusion button.cell.diag { background: var(--vscode-testing-iconPassed, #388a34); color: var(--vscode-editor-background); font-weight: 600; }
.confusion button.cell.off.some { background: var(--vscode-inputValidation-errorBackground, #5a1d1d); color: var(--vscode-foreground);
  border-color: var(--vscode-inputValidation-errorBorder, #be1100); font-weight: 600; }
.confusion button.cell.zero { color: var(--vscode-disabledForeground, var(--vscode-descriptionForeground)); font-weight: normal; }
.confusion button.cell.selected { outline: 2px solid var(--vscode-focusBorder); outline-offset: -2px; }
#summary { margin: 8px 0; }
#errors { margin: 4px 0 0 18px; padding: 0; }
#controls { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; padding: 8px 0;
  background: var(--vscode-editor-background); border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border, transparent)); }
#controls:empty { display: none; }
#controls label { display: inline-flex; gap: 6px; align-items: center; }
.grid { position: relative; margin-top: 8px; contain: strict; width: 100%; }
.item { position: absolute; left: 0; top: 0; width: 140px; height: 182px; box-sizing: border-box; padding: 4px; margin: 0;
  display: flex; flex-direction: column; align-items: stretch; gap: 2px; text-align: left; border-radius: 3px; cursor: pointer;
  background: var(--vscode-editorWidget-background, transparent); color: var(--vscode-foreground); border: 1px solid var(--vscode-widget-border, transparent); }
.item:hover { background: var(--vscode-list-hoverBackground); }
.item img { width: 130px; height: 120px; object-fit: contain; image-rendering: pixelated; background: var(--vscode-editor-background); }
.item .labels, .item .prob, .item .name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 0.9em; }
.item .name { color: var(--vscode-descriptionForeground); }
.item.wrong { border: 2px solid var(--vscode-errorForeground); }
.item .mark { position: absolute; top: 6px; right: 6px; padding: 0 5px; border-radius: 3px; font-size: 0.85em; font-weight: 600;
  background: var(--vscode-errorForeground); color: var(--vscode-editor-background); }
.item .noimage { width: 130px; height: 120px; display: flex; align-items: center; justify-content: center; font-size: 2em;
  color: var(--vscode-errorForeground); background: var(--vscode-editor-background); }
.item.failed .labels { color: var(--vscode-errorForeground); white-space: normal; }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; id?: string } = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.id) e.id = props.id;
  if (props.text !== undefined) e.textContent = props.text;
  e.append(...children);
  return e;
}

const main = el('main', { id: 'dataset' });
const title = el('h1', { id: 'title', text: 'Dataset' });
const subtitle = el('div', { id: 'subtitle', className: 'muted' });
const status = el('div', { id: 'status' });
const panels = el('div', { className: 'panels' });
const summary = el('div', { id: 'summary' });
const controls = el('div', { id: 'controls' });
let imageBase = '';
let report: DatasetReport | undefined;
let query: DatasetQuery = sanitize(host.getState()?.query);
let restoreKey: string | undefined = typeof host.getState()?.restoreKey === 'string' ? host.getState()?.restoreKey : undefined;
let order: number[] = [];

const grid = new VirtualGrid(itemCell);
main.append(title, subtitle, status, panels, summary, controls, grid.el);
document.body.append(main);

/** A saved query, checked (old or foreign state must not break the view). */
function sanitize(q: unknown): DatasetQuery {
  if (typeof q !== 'object' || q === null) return { ...DEFAULT_QUERY };
  const r = q as Record<string, unknown>;
  return {
    trueLabel: typeof r.trueLabel === 'string' ? r.trueLabel : undefined,
    predicted: typeof r.predicted === 'string' ? r.predicted : undefined,
    outcome: isOutcome(r.outcome) ? r.outcome : 'all',
    sort: isSortKey(r.sort) ? r.sort : 'report',
  };
}

function itemCell(index: number): HTMLElement {
  const item = report!.items[index];
  const b = el('button', { className: 'item' });
  b.setAttribute('role', 'listitem');
  b.dataset.index = String(index);
  b.dataset.path = item.path;
  b.title = tooltip(item);
  if (item.error === undefined) {
    const img = el('img');
    img.alt = item.path;
    img.loading = 'lazy';
    img.decoding = 'async';
    img.src = thumbnailUri(imageBase, item.path);
    b.append(img);
  } else {
    // a missing or unreadable file has no thumbnail to show
    b.append(el('span', { className: 'noimage', text: '⚠' }));
  }
  if (item.error !== undefined) {
    b.classList.add('failed');
    b.append(el('span', { className: 'labels', text: item.error }));
  } else {
    b.append(
      el('span', { className: 'labels', text: `${item.label ?? '—'} → ${item.predicted ?? '—'}` }),
      el('span', { className: 'prob', text: `p ${item.probability === null ? '—' : item.probability.toFixed(3)}${item.loss === null ? '' : ` · loss ${item.loss.toFixed(2)}`}` }),
    );
  }
  b.append(el('span', { className: 'name', text: item.path.split(/[\\/]/).pop() ?? item.path }));
  if (item.correct === false) {
    b.classList.add('wrong');
    b.append(el('span', { className: 'mark', text: 'wrong' }));
  }
  b.addEventListener('click', () => host.postMessage({ type: 'openItem', path: item.path }));
  return b;
}

function tooltip(item: DatasetItem): string {
  if (item.error !== undefined) return `${item.path}\n${item.error}`;
  return `${item.path}\ntrue: ${item.label ?? '—'}\npredicted: ${item.predicted ?? '—'} (p ${item.probability?.toFixed(4) ?? '—'})\np(true): ${item.trueProbability?.toFixed(4) ?? '—'}`;
}

function setQuery(q: DatasetQuery): void {
  query = q;
  host.setState({ query, restoreKey });
  applyQuery();
}

function applyQuery(): void {
  if (!report) return;
  order = select(report.items, query);
  renderControls();
  for (const c of panels.querySelectorAll<HTMLButtonElement>('button.cell')) {
    c.classList.toggle('selected', c.dataset.true === query.trueLabel && c.dataset.predicted === query.predicted);
  }
  grid.setOrder(order);
}

function option(value: string, text: string, selected: boolean): HTMLOptionElement {
  const o = el('option', { text });
  o.value = value;
  o.selected = selected;
  return o;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', {}, text, control);
}

function renderControls(): void {
  if (!report) return;
  const classes = report.classes;
  const trueSel = el('select', { id: 'filter-true' }, option('', 'any', query.trueLabel === undefined), ...classes.map((c) => option(c, c, c === query.trueLabel)));
  const predSel = el('select', { id: 'filter-predicted' }, option('', 'any', query.predicted === undefined), ...classes.map((c) => option(c, c, c === query.predicted)));
  const outcomes: Array<[Outcome, string]> = [['all', 'all'], ['correct', 'correct'], ['wrong', 'wrong'], ['errors', 'errors']];
  const outcomeSel = el('select', { id: 'filter-outcome' }, ...outcomes.map(([v, t]) => option(v, t, v === query.outcome)));
  const sorts: Array<[SortKey, string]> = [
    ['report', 'mistakes first'], ['confidence-asc', 'confidence ↑'], ['confidence-desc', 'confidence ↓'], ['loss-desc', 'loss ↓'], ['path', 'path'],
  ];
  const sortSel = el('select', { id: 'sort' }, ...sorts.map(([v, t]) => option(v, t, v === query.sort)));
  trueSel.addEventListener('change', () => setQuery({ ...query, trueLabel: trueSel.value === '' ? undefined : trueSel.value }));
  predSel.addEventListener('change', () => setQuery({ ...query, predicted: predSel.value === '' ? undefined : predSel.value }));
  outcomeSel.addEventListener('change', () => setQuery({ ...query, outcome: outcomeSel.value as Outcome }));
  sortSel.addEventListener('change', () => setQuery({ ...query, sort: sortSel.value as SortKey }));
  const clear = el('button', { id: 'clear-filters', className: 'secondary', text: 'Clear filters' });
  clear.disabled = query.trueLabel === undefined && query.predicted === undefined && query.outcome === 'all';
  clear.addEventListener('click', () => setQuery({ ...DEFAULT_QUERY, sort: query.sort }));
  const shown = el('span', { id: 'shown', className: 'muted', text: `${order.length} of ${report.items.length} items` });
  controls.replaceChildren(
    labelled('True', trueSel), labelled('Predicted', predSel), labelled('Show', outcomeSel), labelled('Sort', sortSel), clear, shown,
  );
}

function renderReport(r: DatasetReport, seconds: number): void {
  report = r;
  // a saved filter naming a class this report lacks would hide everything
  if (query.trueLabel !== undefined && !r.classes.includes(query.trueLabel)) query = { ...query, trueLabel: undefined };
  if (query.predicted !== undefined && !r.classes.includes(query.predicted)) query = { ...query, predicted: undefined };
  status.replaceChildren();
  subtitle.textContent = `${r.model.split(/[\\/]/).pop()} · ${r.items.length} images · ${seconds.toFixed(1)} s`;

  const { correct, scored } = accuracyCounts(r);
  const acc = el('div', { id: 'accuracy', text: `Accuracy ${percent(r.accuracy)}` });
  if (scored > 0) acc.append(el('span', { className: 'muted', text: ` (${correct} of ${scored})` }));
  const metrics = el('table', { className: 'metrics', id: 'per-class' },
    el('thead', {}, el('tr', {}, el('th', { text: 'class' }), el('th', { text: 'precision' }), el('th', { text: 'recall' }), el('th', { text: 'support' }))),
  );
  const body = el('tbody');
  for (const m of r.perClass) {
    body.append(el('tr', {}, el('td', { text: m.label }), el('td', { className: 'num', text: percent(m.precision) }), el('td', { className: 'num', text: percent(m.recall) }), el('td', { className: 'num', text: String(m.support) })));
  }
  metrics.append(body);

  panels.replaceChildren(el('section', { id: 'metrics' }, el('h2', { text: 'Metrics' }), acc, metrics), confusionTable(r));

  summary.replaceChildren(el('div', { id: 'summary-line', text: r.summary }));
  const failed = r.items.filter((it) => it.error !== undefined);
  if (failed.length > 0) {
    const list = el('ul', { id: 'errors' });
    for (const it of failed.slice(0, 50)) list.append(el('li', { className: 'error-text', text: `${it.path}: ${it.error}` }));
    if (failed.length > 50) list.append(el('li', { className: 'muted', text: `and ${failed.length - 50} more (Show: errors lists them all)` }));
    // a long list would push the grid out of sight: open only when short
    const details = el('details', {}, el('summary', { text: `${failed.length} item${failed.length === 1 ? '' : 's'} could not be used` }), list);
    details.open = failed.length <= 5;
    summary.append(details);
  }
  applyQuery();
}

function confusionTable(r: DatasetReport): HTMLElement {
  const { shown, hidden } = matrixClasses(r);
  const section = el('section', { id: 'confusion' }, el('h2', { text: 'Confusion matrix' }));
  if (shown.length === 0) {
    section.append(el('div', { className: 'muted', text: 'No item has both a label and a prediction.' }));
    return section;
  }
  const table = el('table', { className: 'confusion' });
  const head = el('tr', {}, el('th', { className: 'corner muted', text: 'true ↓  predicted →' }));
  for (const p of shown) head.append(el('th', { text: r.classes[p] }));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const t of shown) {
    const row = el('tr', {}, el('th', { text: r.classes[t] }));
    for (const p of shown) {
      const n = r.confusion[t]?.[p] ?? 0;
      const cell = el('button', { className: `cell ${t === p ? 'diag' : 'off'} ${n > 0 ? 'some' : 'zero'}`, text: String(n) });
      cell.dataset.true = r.classes[t];
      cell.dataset.predicted = r.classes[p];
      cell.title = `${n} item${n === 1 ? '' : 's'} of ${r.classes[t]} predicted as ${r.classes[p]}`;
      cell.addEventListener('click', () => setQuery({ ...query, trueLabel: r.classes[t], predicted: r.classes[p], outcome: 'all' }));
      row.append(el('td', {}, cell));
    }
    body.append(row);
  }
  table.append(body);
  section.append(table);
  if (hidden > 0) section.append(el('div', { className: 'muted', text: `${hidden} more classes not shown (the ${shown.length} with the most items are)` }));
  return section;
}

function clearReport(): void {
  report = undefined;
  order = [];
  panels.replaceChildren();
  summary.replaceChildren();
  controls.replaceChildren();
  grid.setOrder([]);
}

function rerunButton(): HTMLButtonElement {
  const b = el('button', { id: 'rerun', className: 'secondary', text: 'Run again' });
  b.addEventListener('click', () => host.postMessage({ type: 'rerun' }));
  return b;
}

/** The progress line is built once per run and updated in place, so Cancel stays clickable while messages stream. */
function showProgress(done: number, total: number, phase?: string): void {
  let bar = status.querySelector('progress');
  let text = status.querySelector<HTMLElement>('#progress-text');
  if (!bar || !text) {
    bar = el('progress');
    text = el('span', { id: 'progress-text' });
    const cancel = el('button', { id: 'cancel', className: 'secondary', text: 'Cancel' });
    cancel.addEventListener('click', () => {
      cancel.disabled = true;
      host.postMessage({ type: 'cancel' });
    });
    status.replaceChildren(bar, text, cancel);
  }
  bar.max = Math.max(1, total);
  bar.value = done;
  const verb = !phase || phase === 'predict' ? 'Predicting' : phase[0].toUpperCase() + phase.slice(1);
  text.textContent = total > 0 ? `${verb} ${done} of ${total} images…` : 'Starting…';
}

window.addEventListener('message', (ev: MessageEvent<ToDatasetView>) => {
  const m = ev.data;
  switch (m?.type) {
    case 'init':
      imageBase = m.imageBase;
      restoreKey = m.restoreKey;
      host.setState({ query, restoreKey });
      title.textContent = `Dataset ${m.folder}`;
      if (m.model && !report) subtitle.textContent = m.model;
      return;
    case 'progress':
      if (report) clearReport();
      showProgress(m.done, m.total, m.phase);
      return;
    case 'report':
      renderReport(m.report, m.seconds);
      return;
    case 'cancelled':
      clearReport();
      status.replaceChildren(el('span', { id: 'status-text', text: `Cancelled after ${m.done} of ${m.total} images.` }), rerunButton());
      return;
    case 'error':
      clearReport();
      status.replaceChildren(el('span', { id: 'status-text', className: 'error-text', text: m.message }), rerunButton());
      return;
  }
});

host.postMessage({ type: 'ready' });
