// Entry of the generation view's bundle (dist/generation.js): a causal LM's continuation of a
// prompt and Captum's LLM attributions of it. The continuation's tokens (hover one to see its
// row over the prompt: plot_token_attr's row), the prompt coloured by the sequence attribution
// (plot_seq_attr) with its bar chart, the token × prompt heat map, a method switch, a continuation
// box to retarget, and a comparison of every method run on the same continuation.
import {
  type FromGenerationView, type GenerationAttributionResult, type GenerationMethodInfo, type ToGenerationView, MAX_NEW_TOKENS, attrColor, maxAbs, promptRow,
} from '../../src/shared/generationProtocol';

declare function acquireVsCodeApi(): { postMessage(m: FromGenerationView): void };
const host = acquireVsCodeApi();

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
body { margin: 0; padding: 10px 20px 24px; background: var(--vscode-editor-background); color: var(--vscode-foreground);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.4; }
h1 { font-size: 1.4em; font-weight: 600; margin: 6px 0 2px; }
h2 { font-size: 1.05em; font-weight: 600; margin: 16px 0 6px; }
.muted { color: var(--vscode-descriptionForeground); }
.error-text { color: var(--vscode-errorForeground); }
button { font: inherit; padding: 3px 12px; border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; cursor: pointer;
  background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button:disabled { opacity: 0.5; cursor: default; }
select, input { font: inherit; padding: 2px 4px; background: var(--vscode-input-background); color: var(--vscode-input-foreground);
  border: 1px solid var(--vscode-input-border, var(--vscode-dropdown-border, transparent)); }
input.target { width: min(420px, 60vw); }
input.count { width: 4em; }
#controls { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin: 8px 0; }
#controls label { display: inline-flex; gap: 6px; align-items: center; }
#status { margin: 6px 0; min-height: 1.4em; display: flex; gap: 10px; align-items: center; }
progress { width: min(300px, 50vw); accent-color: var(--vscode-progressBar-background); }
.prompt { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); padding: 6px 8px; border-radius: 3px;
  background: var(--vscode-textCodeBlock-background, transparent); }
.tokens { display: flex; flex-wrap: wrap; gap: 3px; font-family: var(--vscode-editor-font-family); }
.tok { padding: 1px 5px; border-radius: 3px; border: 1px solid var(--vscode-widget-border, transparent); white-space: pre; }
.gen { cursor: default; background: var(--vscode-editorWidget-background, transparent); }
.gen.active { outline: 2px solid var(--vscode-focusBorder); }
.bars { display: flex; gap: 4px; align-items: stretch; height: 110px; font-family: var(--vscode-editor-font-family); font-size: 0.85em; }
.bar { display: grid; grid-template-rows: 2fr 1fr auto; width: 3.4em; text-align: center; }
.bar .up, .bar .down { position: relative; }
.bar .fill { position: absolute; left: 20%; width: 60%; }
.bar .up .fill { bottom: 0; background: rgba(46, 160, 67, 0.85); }
.bar .down .fill { top: 0; background: rgba(218, 54, 51, 0.85); }
.bar .down { border-top: 1px solid var(--vscode-descriptionForeground); }
.bar .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.matrix { border-collapse: collapse; font-family: var(--vscode-editor-font-family); font-size: 0.9em; }
table.matrix th { font-weight: normal; padding: 2px 4px; color: var(--vscode-descriptionForeground); white-space: pre; }
table.matrix th.row { text-align: right; color: var(--vscode-foreground); }
table.matrix td { padding: 3px 6px; text-align: center; min-width: 3em; border: 1px solid var(--vscode-editor-background); font-variant-numeric: tabular-nums; }
table.matrix tr.active th.row { outline: 2px solid var(--vscode-focusBorder); }
.scroll { overflow-x: auto; }
.caption { margin: 4px 0; }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; id?: string; title?: string } = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.id) e.id = props.id;
  if (props.title) e.title = props.title;
  if (props.text !== undefined) e.textContent = props.text;
  e.append(...children);
  return e;
}

const fmt = (v: number, d = 3) => `${v >= 0 ? '+' : ''}${v.toFixed(d)}`;
// a cell's value; scores that round to zero are shown without a sign
const cellText = (v: number) => (Math.abs(v) < 0.005 ? '0.00' : v.toFixed(2));
// tokens are shown as they are, with whitespace visible
const shown = (t: string) => (t === '' ? '∅' : t.replace(/\n/g, '↵'));

let methods: readonly GenerationMethodInfo[] = [];
let result: GenerationAttributionResult | undefined;
/** every result of this prompt: the comparison shows those on the continuation shown */
let results: GenerationAttributionResult[] = [];
let hovered: number | undefined;

const title = el('h1', { text: 'Explain Generation' });
const subtitle = el('div', { className: 'muted', id: 'model' });
const promptBox = el('div', { className: 'prompt', id: 'prompt' });
const methodSelect = el('select', { id: 'method' });
const countInput = el('input', { className: 'count', id: 'max-new-tokens' });
countInput.type = 'number';
countInput.min = '1';
countInput.max = String(MAX_NEW_TOKENS);
countInput.value = '16';
const generateButton = el('button', { id: 'generate', text: 'Generate & explain' });
const targetInput = el('input', { className: 'target', id: 'target' });
targetInput.placeholder = 'continuation to explain';
const retargetButton = el('button', { id: 'retarget', text: 'Explain this continuation' });
const compareButton = el('button', { id: 'compare', className: 'secondary', text: 'Compare methods' });
const cancelButton = el('button', { id: 'cancel', className: 'secondary', text: 'Cancel' });
const controls = el(
  'div',
  { id: 'controls' },
  el('label', {}, 'Method', methodSelect),
  el('label', {}, 'New tokens', countInput),
  generateButton,
  el('label', {}, 'Continuation', targetInput),
  retargetButton,
  compareButton,
  cancelButton,
);
const status = el('div', { id: 'status' });
const output = el('section', { id: 'result' });
const comparison = el('section', { id: 'comparison' });
document.body.append(el('main', {}, title, subtitle, el('h2', { text: 'Prompt' }), promptBox, controls, status, output, comparison));

function post(m: FromGenerationView): void {
  host.postMessage(m);
}

generateButton.addEventListener('click', () => {
  const n = Math.max(1, Math.min(MAX_NEW_TOKENS, Math.round(Number(countInput.value) || 16)));
  post({ type: 'run', method: methodSelect.value, maxNewTokens: n });
});
const retarget = () => {
  const t = targetInput.value;
  if (t.trim()) post({ type: 'run', method: methodSelect.value, targetText: t });
};
retargetButton.addEventListener('click', retarget);
targetInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') retarget();
});
// a new method explains the continuation shown (the one in the box)
methodSelect.addEventListener('change', () => {
  if (targetInput.value.trim()) retarget();
});
compareButton.addEventListener('click', () => {
  if (targetInput.value.trim()) post({ type: 'compare', targetText: targetInput.value });
});
cancelButton.addEventListener('click', () => post({ type: 'cancel' }));

function setRunning(on: boolean): void {
  cancelButton.disabled = !on;
  for (const b of [generateButton, retargetButton, compareButton]) b.disabled = on;
}
setRunning(false);

function setStatus(...children: Array<Node | string>): void {
  status.replaceChildren(...children);
}

window.addEventListener('message', (e: MessageEvent<ToGenerationView>) => {
  const m = e.data;
  switch (m.type) {
    case 'init':
      methods = m.methods;
      subtitle.textContent = m.model;
      promptBox.textContent = m.prompt;
      methodSelect.replaceChildren(...methods.map((x) => {
        const o = el('option', { text: `${x.id} (${x.captumName})`, title: x.description });
        o.value = x.id;
        return o;
      }));
      countInput.max = String(m.maxNewTokens);
      results = [];
      result = undefined;
      output.replaceChildren();
      comparison.replaceChildren();
      return;
    case 'progress': {
      setRunning(true);
      const p = el('progress');
      p.max = Math.max(1, m.total);
      p.value = m.done;
      setStatus(el('span', { text: `${m.method}: ${m.phase ?? 'starting'} ${m.total ? `${m.done}/${m.total}` : ''}` }), p);
      return;
    }
    case 'result':
      setRunning(false);
      setStatus();
      result = m.result;
      results = [...results.filter((r) => !(r.method === m.result.method && r.continuation === m.result.continuation)), m.result];
      methodSelect.value = m.result.method;
      targetInput.value = m.result.continuation;
      hovered = undefined;
      render();
      return;
    case 'cancelled':
      setRunning(false);
      setStatus(el('span', { className: 'muted', text: 'Cancelled.' }));
      return;
    case 'error':
      setRunning(false);
      setStatus(el('span', { className: 'error-text', id: 'error', text: m.message }));
      return;
  }
});

function render(): void {
  const r = result;
  if (!r) return;
  const info = methods.find((x) => x.id === r.method);
  const caption = el(
    'div',
    { className: 'caption', id: 'caption' },
    `${r.method} (${r.captumName}) over prompt ${r.granularity}s · log p(continuation) ${r.sequenceLogprob.toFixed(4)} · baseline ${r.baseline.token ?? ''} · ${r.seconds.toFixed(2)} s`,
    r.delta !== undefined ? ` · convergence delta ${r.delta.toExponential(2)}` : '',
  );
  const gen = el('div', { className: 'tokens', id: 'continuation' });
  r.generated_tokens.forEach((g, k) => {
    const chip = el('span', { className: 'tok gen', text: shown(g.token), title: `log p ${g.logprob.toFixed(4)} (p ${Math.exp(g.logprob).toFixed(3)})` });
    chip.dataset.index = String(k);
    chip.addEventListener('mouseenter', () => hover(k));
    chip.addEventListener('mouseleave', () => hover(undefined));
    gen.append(chip);
  });
  const prompt = el('div', { className: 'tokens', id: 'prompt-tokens' });
  const bars = el('div', { className: 'bars', id: 'seq-bars' });
  const seqMax = maxAbs([r.prompt_tokens.map((p) => p.score)]);
  r.prompt_tokens.forEach((p) => {
    prompt.append(el('span', { className: 'tok', text: shown(p.token) }));
    const up = el('div', { className: 'up' });
    const down = el('div', { className: 'down' });
    const fill = el('div', { className: 'fill' });
    fill.style.height = `${seqMax > 0 ? (Math.abs(p.score) / seqMax) * 100 : 0}%`;
    (p.score >= 0 ? up : down).append(fill);
    bars.append(el('div', { className: 'bar', title: `${p.token}: ${fmt(p.score, 4)}` }, up, down, el('span', { className: 'label', text: shown(p.token) })));
  });
  const parts: Node[] = [
    caption,
    el('h2', { text: `Continuation (${r.targetSource}) — hover a token to see its row over the prompt` }),
    gen,
    el('h2', { text: 'Prompt, coloured by the attribution' }),
    prompt,
    el('h2', { text: 'Sequence attribution (log p of the whole continuation)' }),
    el('div', { className: 'scroll' }, bars),
  ];
  if (r.matrix) {
    const mMax = maxAbs(r.matrix);
    const table = el('table', { className: 'matrix', id: 'matrix' });
    table.append(el('tr', {}, el('th'), ...r.prompt_tokens.map((p) => el('th', { text: shown(p.token) }))));
    r.matrix.forEach((row, k) => {
      const tr = el('tr', {}, el('th', { className: 'row', text: shown(r.generated_tokens[k].token) }));
      tr.dataset.index = String(k);
      row.forEach((v, f) => {
        const td = el('td', { text: cellText(v), title: `${r.generated_tokens[k].token} ← ${r.prompt_tokens[f].token}: ${fmt(v, 5)}` });
        td.style.background = attrColor(v, mMax);
        tr.append(td);
      });
      tr.addEventListener('mouseenter', () => hover(k));
      tr.addEventListener('mouseleave', () => hover(undefined));
      table.append(tr);
    });
    parts.push(el('h2', { text: 'Token × prompt (rows: generated tokens; one colour scale)' }), el('div', { className: 'scroll' }, table));
  } else {
    parts.push(el('p', { className: 'muted', text: `${info?.captumName ?? r.captumName} gives the sequence attribution only, as in Captum: use feature-ablation, shapley-value-sampling or layer-integrated-gradients for the token × prompt matrix.` }));
  }
  output.replaceChildren(...parts);
  colourPrompt();
  renderComparison();
}

/** Colours the prompt by the hovered token's row, or by the sequence attribution. */
function colourPrompt(): void {
  const r = result;
  if (!r) return;
  const row = promptRow(r, hovered);
  // a hovered row is read on the matrix's one scale (Captum's plot_token_attr), the sequence on its own
  const max = hovered !== undefined && r.matrix ? maxAbs(r.matrix) : maxAbs([row]);
  document.querySelectorAll<HTMLElement>('#prompt-tokens .tok').forEach((t, f) => {
    t.style.background = attrColor(row[f], max);
    t.title = `${r.prompt_tokens[f].token}: ${fmt(row[f], 4)}${hovered !== undefined ? ` (for "${r.generated_tokens[hovered].token}")` : ' (whole continuation)'}`;
  });
  document.querySelectorAll<HTMLElement>('#continuation .gen').forEach((c, k) => c.classList.toggle('active', k === hovered));
  document.querySelectorAll<HTMLElement>('#matrix tr[data-index]').forEach((tr, k) => tr.classList.toggle('active', k === hovered));
}

function hover(k: number | undefined): void {
  if (!result?.matrix) return;
  hovered = k;
  colourPrompt();
}

/** The sequence attributions of every method run on the continuation shown, each on its own scale. */
function renderComparison(): void {
  const r = result;
  const same = r ? results.filter((x) => x.continuation === r.continuation && x.prompt_tokens.length === r.prompt_tokens.length) : [];
  if (!r || same.length < 2) {
    comparison.replaceChildren();
    return;
  }
  const table = el('table', { className: 'matrix', id: 'compare-table' });
  table.append(el('tr', {}, el('th'), ...r.prompt_tokens.map((p) => el('th', { text: shown(p.token) }))));
  for (const x of same) {
    const scores = x.prompt_tokens.map((p) => p.score);
    const max = maxAbs([scores]);
    const tr = el('tr', {}, el('th', { className: 'row', text: x.method }));
    scores.forEach((v, f) => {
      const td = el('td', { text: cellText(v), title: `${x.method} · ${x.prompt_tokens[f].token}: ${fmt(v, 5)}` });
      td.style.background = attrColor(v, max);
      tr.append(td);
    });
    table.append(tr);
  }
  comparison.replaceChildren(el('h2', { text: `Methods compared on "${r.continuation}" (sequence attribution, each row on its own scale)` }), el('div', { className: 'scroll' }, table));
}

post({ type: 'ready' });
