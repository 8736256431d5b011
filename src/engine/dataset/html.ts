// report.html: one self-contained page (inline CSS and script, the report as JSON) that shows
// the scores, the confusion matrix and the items as a grid of thumbnails with heat maps or as a
// sortable table, filtered by class and by right / wrong. Images are relative links into the
// report's folder (thumbs/, maps/). Every string from the data is set as text, never as HTML.
import * as fs from 'fs';
import type { DatasetReport } from './types';

/** JSON that can sit inside a <script> element: no `</script>`, no `<!--`. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSS = `
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--mut:#656d76;--line:#d0d7de;--bad:#cf222e;--good:#1a7f37;--err:#9a6700;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mut:#8d96a0;--line:#30363d;--bad:#f85149;--good:#3fb950;--err:#d29922;--card:#161b22}}
body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:16px 24px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}
.mut{color:var(--mut)}table{border-collapse:collapse}td,th{border:1px solid var(--line);padding:2px 8px;text-align:right}
th{background:var(--card);cursor:default}th.sort{cursor:pointer;user-select:none}td.l,th.l{text-align:left}
td.diag{font-weight:600}td.cell{cursor:pointer}td.cell:hover{outline:2px solid var(--mut)}
.bar{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:10px 0;position:sticky;top:0;background:var(--bg);padding:6px 0;z-index:1}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{background:var(--card);border:2px solid var(--line);border-radius:6px;padding:6px;font-size:12px;overflow-wrap:anywhere}
.card.wrong{border-color:var(--bad)}.card.right{border-color:var(--good)}.card.error{border-color:var(--err)}
img.mini{width:40px;image-rendering:pixelated;display:block}
.card img{width:100%;image-rendering:pixelated;display:block;background:#888;min-height:20px}
.wrong .v{color:var(--bad)}.right .v{color:var(--good)}.error .v{color:var(--err)}
tr.wrong td.v{color:var(--bad)}tr.right td.v{color:var(--good)}tr.error td.v{color:var(--err)}
`;

// The page's script: plain DOM, no libraries.
const SCRIPT = `
const R = JSON.parse(document.getElementById('report').textContent);
const $ = (t, a = {}, ...kids) => { const e = document.createElement(t); for (const [k, v] of Object.entries(a)) { if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v); } for (const c of kids) e.append(c); return e; };
const pct = (v) => v === null || v === undefined ? '' : (v * 100).toFixed(1) + '%';
const num = (v) => v === null || v === undefined ? '' : v.toFixed(3);
const status = (it) => it.error ? 'error' : it.correct === false ? 'wrong' : it.correct === true ? 'right' : 'unlabelled';
const st = { view: 'grid', truth: '', pred: '', status: '', q: '', heat: true, key: null, dir: 1, limit: 600 };
function header() {
  document.getElementById('meta').textContent = [R.summary, 'model: ' + R.model, 'data: ' + R.data, R.method ? 'attributions: ' + R.method + ' (of the predicted class)' : ''].filter(Boolean).join(' · ');
  document.getElementById('acc').textContent = R.accuracy === null ? 'no labelled predictions' : 'accuracy ' + pct(R.accuracy);
  const pc = document.getElementById('perclass');
  pc.append($('tr', {}, $('th', { class: 'l' }, 'class'), $('th', {}, 'precision'), $('th', {}, 'recall'), $('th', {}, 'support')));
  for (const c of R.perClass) pc.append($('tr', {}, $('td', { class: 'l' }, c.label), $('td', {}, pct(c.precision)), $('td', {}, pct(c.recall)), $('td', {}, String(c.support))));
  const cm = document.getElementById('confusion');
  cm.append($('tr', {}, $('th', { class: 'l' }, 'true \\\\ predicted'), ...R.classes.map((c) => $('th', {}, c))));
  R.confusion.forEach((row, t) => cm.append($('tr', {}, $('th', { class: 'l' }, R.classes[t]), ...row.map((n, p) => $('td', { class: 'cell' + (t === p ? ' diag' : ''), title: 'show these items', onclick: () => { st.truth = R.classes[t]; st.pred = R.classes[p]; st.status = ''; sync(); draw(); } }, String(n))))));
  for (const id of ['truth', 'pred']) {
    const s = document.getElementById(id);
    s.append($('option', { value: '' }, 'all'));
    for (const c of R.classes) s.append($('option', { value: c }, c));
  }
}
function sync() { for (const k of ['truth', 'pred', 'status']) document.getElementById(k).value = st[k]; }
// the sort menu names a column and a direction ("loss:-1": highest loss first); '' is the report's order
function syncSort() {
  const v = st.key ? st.key + ':' + st.dir : '';
  const sel = document.getElementById('sort');
  sel.value = [...sel.options].some((o) => o.value === v) ? v : '';
}
function shown() {
  const q = st.q.toLowerCase();
  let xs = R.items.filter((it) => (!st.truth || it.label === st.truth) && (!st.pred || it.predicted === st.pred) && (!st.status || status(it) === st.status) && (!q || it.path.toLowerCase().includes(q)));
  if (st.key) {
    const k = st.key;
    xs = [...xs].sort((a, b) => { const x = a[k], y = b[k]; if (x === y) return 0; if (x === null || x === undefined) return 1; if (y === null || y === undefined) return -1; return (x < y ? -1 : 1) * st.dir; });
  }
  return xs;
}
const COLS = [['path', 'path', 'l'], ['label', 'true', 'l'], ['predicted', 'predicted', 'l'], ['probability', 'probability', ''], ['trueProbability', 'p(true)', ''], ['loss', 'loss', ''], ['error', 'error', 'l']];
function draw() {
  const all = shown();
  document.getElementById('count').textContent = all.length + ' of ' + R.items.length + ' items';
  const box = document.getElementById('items');
  box.replaceChildren();
  const more = document.getElementById('more');
  if (more) more.remove();
  // a page of thousands of cards is slow to draw: the first ones, and a button for more
  const xs = all.slice(0, st.limit);
  if (all.length > xs.length) box.after($('button', { id: 'more', onclick: () => { st.limit += 600; draw(); } }, 'show ' + Math.min(600, all.length - xs.length) + ' more'));
  if (st.view === 'grid') {
    const g = $('div', { class: 'grid' });
    for (const it of xs) {
      const src = st.heat && it.attribution && it.attribution.png ? it.attribution.png : it.thumb;
      const card = $('div', { class: 'card ' + status(it), title: it.error || '' });
      if (src) card.append($('img', { src, alt: it.path, loading: 'lazy' }));
      card.append($('div', {}, it.path));
      card.append($('div', { class: 'v' }, it.error ? it.error : (it.label ?? '?') + ' → ' + it.predicted + ' (' + pct(it.probability) + ')'));
      if (it.attribution) card.append($('div', { class: 'mut' }, it.attribution.method + ' for ' + (it.attribution.target ?? it.predicted)));
      g.append(card);
    }
    box.append(g);
    return;
  }
  const t = $('table');
  t.append($('tr', {}, $('th', {}, ''), ...COLS.map(([k, name, c]) => $('th', { class: 'sort ' + c, onclick: () => { st.dir = st.key === k ? -st.dir : 1; st.key = k; syncSort(); draw(); } }, name + (st.key === k ? (st.dir > 0 ? ' ▲' : ' ▼') : '')))));
  for (const it of xs) {
    const link = it.attribution && it.attribution.png ? $('a', { href: it.attribution.png }, it.path) : it.path;
    const src = st.heat && it.attribution && it.attribution.png ? it.attribution.png : it.thumb;
    t.append($('tr', { class: status(it) }, $('td', { class: 'l' }, src ? $('img', { src, alt: '', loading: 'lazy', class: 'mini' }) : ''), $('td', { class: 'l' }, link), $('td', { class: 'l' }, it.label ?? ''), $('td', { class: 'l v' }, it.predicted ?? ''), $('td', {}, pct(it.probability)), $('td', {}, pct(it.trueProbability)), $('td', {}, num(it.loss)), $('td', { class: 'l v' }, it.error ?? it.attributionError ?? '')));
  }
  box.append(t);
}
header();
for (const k of ['truth', 'pred', 'status']) document.getElementById(k).addEventListener('change', (e) => { st[k] = e.target.value; draw(); });
document.getElementById('q').addEventListener('input', (e) => { st.q = e.target.value; draw(); });
document.getElementById('heat').addEventListener('change', (e) => { st.heat = e.target.checked; draw(); });
document.getElementById('view').addEventListener('change', (e) => { st.view = e.target.value; draw(); });
document.getElementById('sort').addEventListener('change', (e) => { const [k, d] = e.target.value.split(':'); st.key = k || null; st.dir = Number(d) || 1; draw(); });
draw();
`;

export function renderHtml(r: DatasetReport): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>attrlens dataset report</title><style>${CSS}</style></head>
<body>
<h1>Dataset report: <span id="acc"></span></h1>
<div class="mut" id="meta"></div>
<h2>Per class</h2><table id="perclass"></table>
<h2>Confusion matrix <span class="mut">(rows: true label, columns: predicted; click a cell to list its items)</span></h2><table id="confusion"></table>
<h2>Items <span class="mut" id="count"></span></h2>
<div class="bar">
<label>view <select id="view"><option value="grid">grid</option><option value="table">table (sortable)</option></select></label>
<label>sort <select id="sort"><option value="">mistakes first</option><option value="loss:-1">highest loss</option><option value="probability:1">least confident</option><option value="probability:-1">most confident</option><option value="path:1">path</option></select></label>
<label>true <select id="truth"></select></label>
<label>predicted <select id="pred"></select></label>
<label>status <select id="status"><option value="">all</option><option value="wrong">wrong</option><option value="right">right</option><option value="unlabelled">unlabelled</option><option value="error">errors</option></select></label>
<label>path <input id="q" type="search" placeholder="filter"></label>
<label><input id="heat" type="checkbox" checked> heat maps</label>
</div>
<div id="items"></div>
<script type="application/json" id="report">${scriptJson(r)}</script>
<script>
${SCRIPT}</script>
</body></html>
`;
}

export function writeHtmlReport(r: DatasetReport, file: string): void {
  fs.writeFileSync(file, renderHtml(r));
}
