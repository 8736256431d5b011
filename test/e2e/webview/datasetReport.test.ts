// report.html of `attrlens dataset` in real Chromium, opened as a user opens it (a file:// page):
// the scores and the confusion matrix of a hand-made shapes folder, the grid with every picture
// and the heat maps of the attributed items, filters by class and right / wrong, a confusion
// cell as a filter, the sortable table; no console errors under the page's own CSP.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runDataset } from '../../../src/engine/dataset';
import { tmpDir } from '../../onnx/helpers';
import { MIXED, MODEL, expectedConfusion, shapesFolder } from '../../dataset/shared';
import { SHOTS } from './harness';

const dir = tmpDir('dataset-report');
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
let pairs: Array<[string, string]> = [];

before(async () => {
  const data = path.join(dir, 'data');
  pairs = shapesFolder(data, MIXED);
  await runDataset({ model: MODEL, data, outDir: path.join(dir, 'out'), method: 'saliency', attributeTop: 3 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`file://${path.join(dir, 'out', 'report.html')}`);
  await page.waitForSelector('.card');
});

after(async () => {
  await browser?.close();
});

const cards = () => page.$$eval('.card', (xs) => xs.map((x) => ({ cls: x.className, text: x.textContent ?? '', src: x.querySelector('img')?.getAttribute('src') ?? '' })));

test('the scores, the confusion matrix and a grid of every picture, the attributed ones as heat maps', async () => {
  assert.equal(await page.textContent('#acc'), 'accuracy 66.7%');
  const matrix = await page.$$eval('#confusion tr', (rows) => rows.slice(1).map((r) => [...r.querySelectorAll('td')].map((td) => Number(td.textContent))));
  assert.deepEqual(matrix, expectedConfusion(pairs));
  const all = await cards();
  assert.equal(all.length, 12);
  assert.deepEqual(all.slice(0, 4).map((c) => c.cls), ['card wrong', 'card wrong', 'card wrong', 'card wrong']);
  assert.deepEqual(all.map((c) => c.src.startsWith('maps/')), [true, true, true, ...new Array(9).fill(false)]);
  // every image is there (a relative file the page's CSP lets it load)
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  assert.deepEqual(await page.$$eval('.card img', (xs) => xs.map((x) => (x as HTMLImageElement).naturalWidth)), new Array(12).fill(64));
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'dataset-report.png') });
  await page.uncheck('#heat');
  assert.ok((await cards()).every((c) => c.src.startsWith('thumbs/')));
  await page.check('#heat');
});

test('filters: right / wrong, true class, a confusion cell; the table sorts by a column', async () => {
  await page.selectOption('#status', 'wrong');
  assert.equal((await cards()).length, 4);
  await page.selectOption('#status', '');
  await page.selectOption('#truth', 'yellow');
  assert.deepEqual((await cards()).map((c) => c.text.split('yellow → ')[0]).length, 4);
  await page.selectOption('#truth', '');
  // row yellow, column red: the red circle filed under yellow
  await page.click('#confusion tr:nth-child(5) td:nth-of-type(1)');
  const one = await cards();
  assert.equal(one.length, 1);
  assert.match(one[0].text, /^yellow\/red-circle\.png/);
  assert.equal(await page.textContent('#count'), '1 of 12 items');
  await page.selectOption('#truth', '');
  await page.selectOption('#pred', '');
  await page.selectOption('#view', 'table');
  await page.click('th:has-text("loss")');
  const losses = async () => page.$$eval('#items tr', (rows) => rows.slice(1).map((r) => Number(r.querySelectorAll('td')[6].textContent)));
  const up = await losses();
  assert.equal(up.length, 12);
  assert.deepEqual(up, [...up].sort((a, b) => a - b));
  await page.click('th:has-text("loss")');
  const down = await losses();
  assert.deepEqual(down, [...up].reverse());
  assert.ok(down[0] > 1 && up[0] < 0.2, `${down[0]} ${up[0]}`);
  assert.equal(await page.inputValue('#sort'), 'loss:-1', 'the sort menu follows the clicked column');
  assert.equal(await page.$$eval('#items img.mini', (xs) => xs.length), 12, 'a thumbnail per row');
  // the grid sorted from the menu: least confident first
  await page.selectOption('#view', 'grid');
  await page.selectOption('#sort', 'probability:1');
  const probs = (await cards()).map((c) => Number(/\((\d+\.\d)%\)/.exec(c.text)![1]));
  assert.deepEqual(probs, [...probs].sort((a, b) => a - b));
  assert.ok(probs[0] < 95 && probs[11] > 99.5, probs.join(' '));
  assert.deepEqual(problems, []);
});
