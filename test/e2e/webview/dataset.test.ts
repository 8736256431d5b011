// The dataset view (webview-ui/src/dataset.ts) in real Chromium against a stub host, under the
// extension's CSP. A synthetic report of 10,000 items (generated here: this tests the UI, not the
// engine): the grid keeps fewer than 300 item elements in the DOM, scrolling to the end shows the
// last item, filters and sorts answer at once and show exactly the matching items; a confusion
// cell filters to its items; a click on an item posts openItem; progress, Cancel and errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { DatasetItem, DatasetReport, ToDatasetView } from '../../../src/shared/datasetProtocol';
import { ROOT, SHOTS, posted, waitFor } from './harness';

let server: Server | undefined;
let browser: Browser | undefined;
let base = '';
const imageRequests: string[] = [];

before(async () => {
  await esbuild.build({
    bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: true,
    entryPoints: { dataset: join(ROOT, 'webview-ui/src/dataset.ts') }, outdir: join(ROOT, 'dist'), logLevel: 'warning',
  });
  const html = readFileSync(join(__dirname, 'fixtures', 'dataset.html'), 'utf8');
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 60, b: 40 } } }).png().toBuffer();
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/' || url.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html.replaceAll('{{NONCE}}', randomBytes(16).toString('base64')));
    } else if (url === '/theme.css') {
      res.writeHead(200, { 'content-type': 'text/css' }).end(readFileSync(join(__dirname, 'fixtures', 'theme.css')));
    } else if (url === '/dataset.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(ROOT, 'dist', 'dataset.js')));
    } else if (url.startsWith('/data/')) {
      imageRequests.push(decodeURIComponent(url.slice('/data/'.length)));
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    } else if (url === '/favicon.ico') {
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  });
  const s = server;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

async function open(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(base);
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'ready'), 'ready message');
  await send(page, { type: 'init', folder: 'data/pets', model: 'model.onnx', imageBase: `${base}data` });
  return { page, problems };
}

function send(page: Page, msg: ToDatasetView): Promise<void> {
  return page.evaluate((m) => window.postMessage(m, '*'), msg);
}

/** A seeded report in the engine's order: mistakes (most confident first), correct (least confident first), errors. */
function syntheticReport(n: number, classes: string[]): DatasetReport {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const k = classes.length;
  const confusion = classes.map(() => new Array<number>(k).fill(0));
  const items: DatasetItem[] = [];
  for (let i = 0; i < n; i++) {
    const t = i % k;
    const path = `${classes[t]}/img-${String(i).padStart(5, '0')}.png`;
    if (i % 500 === 499) {
      items.push({ path, label: classes[t], predicted: null, predictedIndex: null, probability: null, trueProbability: null, loss: null, correct: null, error: 'cannot read the image: unsupported image format' });
      continue;
    }
    const p = rand() < 0.85 ? t : (t + 1 + Math.floor(rand() * (k - 1))) % k;
    const probability = 0.3 + 0.7 * rand();
    const trueProbability = p === t ? probability : (1 - probability) * rand();
    confusion[t][p]++;
    items.push({ path, label: classes[t], predicted: classes[p], predictedIndex: p, probability, trueProbability, loss: -Math.log(Math.max(trueProbability, 1e-12)), correct: p === t });
  }
  const rank = (it: DatasetItem): number => (it.error ? 2 : it.correct ? 1 : 0);
  items.sort((a, b) => rank(a) - rank(b) || (rank(a) === 0 ? b.probability! - a.probability! : rank(a) === 1 ? a.probability! - b.probability! : 0));
  const scored = items.filter((it) => it.correct !== null);
  const correct = scored.filter((it) => it.correct).length;
  return {
    model: '/ws/model.onnx', data: '/ws/data/pets', classes,
    accuracy: correct / scored.length,
    confusion,
    perClass: classes.map((label, c) => {
      const col = confusion.reduce((s, row) => s + row[c], 0);
      const row = confusion[c].reduce((s, x) => s + x, 0);
      return { label, precision: col ? confusion[c][c] / col : null, recall: row ? confusion[c][c] / row : null, support: row };
    }),
    items,
    summary: `${n} items: ${scored.length} predicted, ${n - scored.length} errors (${n - scored.length} unreadable); accuracy ${((correct / scored.length) * 100).toFixed(1)}%`,
  };
}

const CLASSES = ['cat', 'dog', 'bird', 'fish', 'horse', 'sheep', 'cow', 'frog', 'deer', 'truck'];
const report = syntheticReport(10_000, CLASSES);

/** The grid's item elements in grid order: their report index and whether they are inside the viewport. */
async function gridItems(page: Page): Promise<Array<{ index: number; pos: number; visible: boolean; wrong: boolean; text: string }>> {
  const items = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.grid .item')].map((e) => {
    const r = e.getBoundingClientRect();
    return { index: Number(e.dataset.index), pos: Number(e.dataset.pos), visible: r.bottom > 0 && r.top < window.innerHeight, wrong: e.classList.contains('wrong'), text: e.textContent ?? '' };
  }));
  return items.sort((a, b) => a.pos - b.pos);
}

/** Each item element: whether it sits where its position in the order puts it (148 × 190 cells, `cols` per row). */
function cellPlacement(page: Page): Promise<Array<{ ok: boolean; cols: number }>> {
  return page.evaluate(() => {
    const grid = document.querySelector('.grid')!;
    const g = grid.getBoundingClientRect();
    const cols = Math.floor(grid.clientWidth / 148);
    return [...grid.querySelectorAll<HTMLElement>('.item')].map((e) => {
      const r = e.getBoundingClientRect();
      const pos = Number(e.dataset.pos);
      return { ok: Math.round(r.left - g.left) === (pos % cols) * 148 && Math.round(r.top - g.top) === Math.floor(pos / cols) * 190, cols };
    });
  });
}

/** Scrolls so that the grid's first row is in view (a stuck #controls' offsetTop would be where it is stuck). */
async function toGrid(page: Page): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, document.querySelector('.grid')!.getBoundingClientRect().top + window.scrollY - 120));
}

/** Picks an option as a user does (its change event); returns how long the view took to answer, timed in the page. */
function choose(page: Page, select: string, value: string): Promise<number> {
  return page.evaluate(([sel, v]) => {
    const el = document.querySelector<HTMLSelectElement>(sel)!;
    el.value = v;
    const t = performance.now();
    el.dispatchEvent(new Event('change'));
    return performance.now() - t;
  }, [select, value]);
}

test('10,000 items: a virtualised grid, scrolled to the end, filtered and sorted', async () => {
  const { page, problems } = await open();
  // the message handler runs synchronously: timed inside the page, free of the test's round trips
  // (typically tens of ms; the bounds leave room for a loaded machine, the DOM count checks the virtualisation)
  const renderMs = await page.evaluate((m) => {
    const t = performance.now();
    window.dispatchEvent(new MessageEvent('message', { data: m }));
    return performance.now() - t;
  }, { type: 'report', report, seconds: 12.3 } as ToDatasetView);
  assert.ok(renderMs < 3000, `the report renders in ${renderMs.toFixed(0)} ms`);
  await page.locator('#accuracy').waitFor({ timeout: 5000 });
  // the grid sits under the metrics: scrolled to as a user would
  await toGrid(page);
  await page.locator('.grid .item').first().waitFor({ timeout: 5000 });

  const scored = report.items.filter((it) => it.correct !== null);
  const correct = scored.filter((it) => it.correct).length;
  assert.equal(await page.locator('#accuracy').textContent(), `Accuracy ${((correct / scored.length) * 100).toFixed(1)}% (${correct} of ${scored.length})`);
  assert.equal(await page.locator('#summary-line').textContent(), report.summary);
  assert.equal(await page.locator('#errors li.error-text').count(), 20, 'the 20 unreadable items are listed');
  assert.equal(await page.locator('#shown').textContent(), '10000 of 10000 items');
  assert.equal(await page.locator('.confusion button.cell').count(), 100);
  assert.equal(await page.locator('#per-class tbody tr').count(), 10);

  let items = await gridItems(page);
  assert.ok(items.length > 0 && items.length < 300, `${items.length} item elements in the DOM`);
  assert.deepEqual(items.slice(0, 3).map((i) => i.index), [0, 1, 2], 'the report order first (the most confident mistakes)');
  assert.ok(items[0].wrong && /wrong/.test(items[0].text), 'a mistake is marked');
  assert.match(items[0].text, new RegExp(`^${report.items[0].label} → ${report.items[0].predicted}p ${report.items[0].probability!.toFixed(3)}`));

  // scrolling to the end brings the last item into the viewport, still with a few hundred elements at most
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await waitFor(page, async () => (await gridItems(page)).some((i) => i.index === 9999 && i.visible), 'the last item in view');
  items = await gridItems(page);
  assert.ok(items.length < 300, `${items.length} item elements after scrolling`);
  assert.ok(!items.some((i) => i.index === 0), 'the first rows left the DOM');
  assert.match(items.find((i) => i.index === 9999)!.text, /cannot read the image/, 'the last item is an error, shown as such');

  // a narrower window: fewer columns, every cell placed again by its position in the order
  for (const width of [700, 1100]) {
    await page.setViewportSize({ width, height: 800 });
    await waitFor(page, async () => (await cellPlacement(page)).every((c) => c.ok), `cells placed for ${width} px`);
    const placed = await cellPlacement(page);
    assert.ok(placed.length > 0 && placed.length < 300);
    assert.equal(new Set(placed.map((c) => c.cols)).size, 1);
    assert.equal(placed[0].cols, Math.floor((width - 40) / 148), `columns at ${width} px`);
  }

  // filter: wrong only
  await toGrid(page);
  const wrongMs = await choose(page, '#filter-outcome', 'wrong');
  const wrongCount = report.items.filter((it) => it.correct === false).length;
  assert.equal(await page.locator('#shown').textContent(), `${wrongCount} of 10000 items`);
  items = await gridItems(page);
  assert.ok(items.length > 0 && items.every((i) => i.wrong), 'only mistakes');
  assert.ok(wrongMs < 1000, `the filter answered in ${wrongMs.toFixed(0)} ms`);

  // sort: loss, highest first (over the mistakes)
  const lossMs = await choose(page, '#sort', 'loss-desc');
  const byLoss = report.items.map((it, i) => ({ it, i })).filter(({ it }) => it.correct === false).sort((a, b) => b.it.loss! - a.it.loss! || a.i - b.i);
  items = await gridItems(page);
  assert.equal(items[0].pos, 0, 'the first row is in view');
  assert.deepEqual(items.slice(0, 4).map((i) => i.index), byLoss.slice(0, 4).map((x) => x.i), 'the highest losses first');
  assert.ok(lossMs < 1000, `the sort answered in ${lossMs.toFixed(0)} ms`);

  // class filter + confidence ascending over every item of class 'dog'
  await choose(page, '#filter-outcome', 'all');
  await choose(page, '#filter-true', 'dog');
  await choose(page, '#sort', 'confidence-asc');
  const dogs = report.items.map((it, i) => ({ it, i })).filter(({ it }) => it.label === 'dog');
  assert.equal(await page.locator('#shown').textContent(), `${dogs.length} of 10000 items`);
  const dogOrder = dogs.filter(({ it }) => it.probability !== null).sort((a, b) => a.it.probability! - b.it.probability! || a.i - b.i);
  items = await gridItems(page);
  assert.deepEqual(items.slice(0, 3).map((i) => i.index), dogOrder.slice(0, 3).map((x) => x.i), 'the least confident dogs first');

  // errors only
  await choose(page, '#filter-true', '');
  await choose(page, '#filter-outcome', 'errors');
  assert.equal(await page.locator('#shown').textContent(), '20 of 10000 items');

  // a confusion cell: true bird, predicted fish → exactly those items
  await page.locator('.confusion button.cell[data-true="bird"][data-predicted="fish"]').click();
  const birdFish = report.items.map((it, i) => ({ it, i })).filter(({ it }) => it.label === 'bird' && it.predicted === 'fish');
  assert.ok(birdFish.length > 0);
  assert.equal(await page.locator('.confusion button.cell[data-true="bird"][data-predicted="fish"]').textContent(), String(birdFish.length));
  assert.equal(await page.locator('#shown').textContent(), `${birdFish.length} of 10000 items`);
  items = await gridItems(page);
  assert.deepEqual(new Set(items.map((i) => i.index)), new Set(birdFish.map((x) => x.i)), 'the grid holds the cell\'s items');
  assert.equal(await page.locator('#filter-true').inputValue(), 'bird');
  assert.equal(await page.locator('#filter-predicted').inputValue(), 'fish');
  assert.equal(await page.locator('.confusion button.cell.selected').count(), 1);
  // the diagonal and the mistakes look different
  const [diagBg, offBg] = await Promise.all([
    page.locator('.confusion button.cell.diag').first().evaluate((e) => getComputedStyle(e).backgroundColor),
    page.locator('.confusion button.cell.off.some').first().evaluate((e) => getComputedStyle(e).backgroundColor),
  ]);
  assert.notEqual(diagBg, offBg);
  await page.screenshot({ path: join(SHOTS, 'dataset-webview.png') });

  // a click on an item asks the host for the Attribution panel on it
  const first = report.items[items[0].index];
  await page.locator(`.grid .item[data-index="${items[0].index}"]`).click();
  await waitFor(page, async () => (await posted(page)).some((m) => JSON.stringify(m) === JSON.stringify({ type: 'openItem', path: first.path })), 'openItem posted');
  // thumbnails come from the folder's base URI, one segment at a time
  assert.ok(imageRequests.includes(first.path), `the thumbnail of ${first.path} was requested`);

  // the filters survive the page being torn down and shown again (getState)
  await page.reload();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'ready'), 'ready again');
  await send(page, { type: 'init', folder: 'data/pets', model: 'model.onnx', imageBase: `${base}data` });
  await send(page, { type: 'report', report, seconds: 12.3 });
  await page.locator('.grid .item').first().waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#shown').textContent(), `${birdFish.length} of 10000 items`);
  await page.locator('#clear-filters').click();
  assert.equal(await page.locator('#shown').textContent(), '10000 of 10000 items');
  assert.deepEqual(problems, []);
  await page.close();
});

test('progress with Cancel, the cancelled line, Run again, and a one-line error', async () => {
  const { page, problems } = await open();
  await send(page, { type: 'progress', done: 0, total: 0 });
  assert.equal(await page.locator('#progress-text').textContent(), 'Starting…');
  await send(page, { type: 'progress', done: 96, total: 400, phase: 'predict' });
  assert.equal(await page.locator('#progress-text').textContent(), 'Predicting 96 of 400 images…');
  assert.equal(await page.locator('progress').evaluate((e) => (e as HTMLProgressElement).value / (e as HTMLProgressElement).max), 0.24);
  // progress streams in place: the Cancel button a user aims at stays the same element
  const cancel = await page.locator('#cancel').elementHandle();
  await send(page, { type: 'progress', done: 98, total: 400, phase: 'predict' });
  assert.equal(await cancel!.evaluate((e) => e.isConnected), true, 'Cancel survives a progress message');
  assert.equal(await page.locator('#progress-text').textContent(), 'Predicting 98 of 400 images…');
  await page.locator('#cancel').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'cancel'), 'cancel posted');
  assert.equal(await page.locator('#cancel').isDisabled(), true, 'one cancel per run');
  await send(page, { type: 'cancelled', done: 98, total: 400 });
  assert.equal(await page.locator('#status-text').textContent(), 'Cancelled after 98 of 400 images.');
  assert.equal(await page.locator('.grid .item').count(), 0);
  await page.locator('#rerun').click();
  await waitFor(page, async () => (await posted(page)).some((m) => (m as { type: string }).type === 'rerun'), 'rerun posted');

  // a report, then a new run: the old report goes, the progress shows
  await send(page, { type: 'report', report: syntheticReport(50, ['a', 'b']), seconds: 0.2 });
  await page.locator('.grid .item').first().waitFor({ timeout: 5000 });
  await send(page, { type: 'progress', done: 0, total: 50 });
  assert.equal(await page.locator('.grid .item').count(), 0);
  assert.equal(await page.locator('#accuracy').count(), 0);

  await send(page, { type: 'error', message: 'No images in data/empty: a dataset folder holds one sub-folder of images per label (empty/<label>/*.png).' });
  assert.equal(await page.locator('#status-text').textContent(), 'No images in data/empty: a dataset folder holds one sub-folder of images per label (empty/<label>/*.png).');
  assert.equal(await page.locator('#status-text.error-text').count(), 1);
  assert.deepEqual(problems, []);
  await page.close();
});
