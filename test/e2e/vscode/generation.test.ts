// End to end in a real VS Code (code-server) for a causal LM: in a copy of samples/lm, a prompt
// selected with the keyboard is explained from the editor's context menu (Explain Generation);
// the generation view's continuation, token × prompt heat map, hover rows, retargeting, method
// switch and comparison are read back from the webview. Screenshot: docs/images/generation.png.
// Needs `scripts/e2e-setup.sh` (npm run test:e2e runs it, builds and packages first).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import { ROOT, clickMenuItem, openWorkbench, type Workbench } from './codeServer';

const PROMPT = 'alice paris , bob rome , carol oslo ? bob';
const FEATURES = ['alice', 'paris', ',', 'bob', 'rome', ',', 'carol', 'oslo', '?', 'bob'];
const DEPENDS = [3, 4, 9];

let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({
    sample: 'lm',
    prefix: 'attrlens-e2e-generation-',
    settings: { 'editor.minimap.enabled': false },
    prepare: async (ws) => {
      writeFileSync(join(ws, 'prompts.txt'), `${PROMPT}\nalice paris , dave lima ? dave\n`);
    },
  });
  ({ page } = wb);
});

after(async () => {
  await wb?.close('vscode-generation-last.png');
});

/** The generation view's frame (the one holding #prompt-tokens' main), once it appears. */
async function generationFrame(timeout = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of page.frames()) if (await f.locator('#controls #retarget').count().catch(() => 0)) return f;
    await page.waitForTimeout(250);
  }
  throw new Error('the generation view did not appear');
}

/** Computed backgrounds [r, g, b, a] of the elements matching `selector` in the frame. */
function backgrounds(frame: Frame, selector: string): Promise<Array<[number, number, number, number]>> {
  return frame.evaluate(`Array.from(document.querySelectorAll(${JSON.stringify(selector)})).map((el) => {
    const n = (getComputedStyle(el).backgroundColor.match(/-?[\\d.]+/g) || []).map(Number);
    return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1];
  })`);
}

const texts = (frame: Frame, selector: string) => frame.locator(selector).allTextContents();

async function waitForCaption(frame: Frame, re: RegExp, timeout = 120_000): Promise<void> {
  await frame.locator('#caption', { hasText: re }).waitFor({ timeout });
}

test('Explain Generation in a real VS Code', async (t) => {
  let frame!: Frame;

  await t.test('a prompt selected with the keyboard is offered in the editor context menu', async () => {
    const row = page.locator('.explorer-folders-view .monaco-list-row[aria-label="prompts.txt"]');
    await row.waitFor({ timeout: 60_000 });
    await row.dblclick();
    await page.locator('.monaco-editor .view-line', { hasText: PROMPT }).first().waitFor({ timeout: 20_000 });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+End');
    await page.locator('.statusbar-item', { hasText: new RegExp(`\\(${PROMPT.length} selected\\)`) }).first().waitFor({ timeout: 10_000 });
    await page.locator('.monaco-editor .view-line', { hasText: PROMPT }).first().click({ button: 'right', position: { x: 20, y: 5 } });
    await clickMenuItem(page, /^Explain Generation$/);
  });

  await t.test('the view shows the continuation and the token × prompt heat map; the answer\'s tokens are the strongest cells', async () => {
    frame = await generationFrame();
    await waitForCaption(frame, /^feature-ablation \(FeatureAblation\) over prompt tokens/);
    assert.equal(await frame.locator('#prompt').textContent(), PROMPT);
    assert.deepEqual(await texts(frame, '#continuation .gen'), ['rome', '<eos>']);
    assert.deepEqual(await texts(frame, '#prompt-tokens .tok'), FEATURES);
    assert.deepEqual((await texts(frame, '#matrix tr:first-child th')).slice(1), FEATURES);
    assert.deepEqual(await texts(frame, '#matrix th.row'), ['rome', '<eos>']);
    const cells = await backgrounds(frame, '#matrix tr[data-index="0"] td');
    assert.equal(cells.length, FEATURES.length);
    cells.forEach(([r, g, , a], f) => {
      if (DEPENDS.includes(f)) assert.ok(g > r + 60 && a > 0.5, `rome ← ${FEATURES[f]}: rgba(${cells[f].join(', ')})`);
      else assert.ok(a < 0.05, `rome ← ${FEATURES[f]}: rgba(${cells[f].join(', ')})`);
    });
    // <eos> follows any value: its row is blank on the matrix's scale
    for (const [, , , a] of await backgrounds(frame, '#matrix tr[data-index="1"] td')) assert.ok(a < 0.05);
    assert.equal(await frame.locator('#seq-bars .bar').count(), FEATURES.length);
  });

  await t.test('hovering a generated token colours the prompt by its row (the screenshot)', async () => {
    // the Explorer hidden, so the view has the width for the whole matrix
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+B');
    await page.locator('.explorer-folders-view').waitFor({ state: 'hidden', timeout: 10_000 });
    await frame.locator('#continuation .gen', { hasText: 'rome' }).hover();
    await frame.locator('#continuation .gen.active').waitFor({ timeout: 5000 });
    const rome = await backgrounds(frame, '#prompt-tokens .tok');
    DEPENDS.forEach((f) => assert.ok(rome[f][1] > rome[f][0] + 60 && rome[f][3] > 0.5, `${FEATURES[f]} rgba(${rome[f].join(', ')})`));
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'generation.png') });
    await frame.locator('#continuation .gen', { hasText: '<eos>' }).hover();
    for (const [, , , a] of await backgrounds(frame, '#prompt-tokens .tok')) assert.ok(a < 0.05, 'the <eos> row is blank');
  });

  await t.test('retargeting to another continuation explains it: the bound value now speaks against it', async () => {
    await frame.locator('#target').fill('oslo');
    await frame.locator('#target').press('Enter');
    await frame.locator('#continuation .gen', { hasText: /^oslo$/ }).waitFor({ timeout: 60_000 });
    assert.deepEqual(await texts(frame, '#continuation .gen'), ['oslo']);
    assert.match((await frame.locator('#caption').textContent()) ?? '', /log p\(continuation\) -10\.\d{4}/);
    const [, , , , rome] = await backgrounds(frame, '#matrix tr[data-index="0"] td');
    assert.ok(rome[0] > rome[1] + 60 && rome[3] > 0.5, `oslo ← rome is red: rgba(${rome.join(', ')})`);
  });

  await t.test('switching the method re-explains the continuation; Compare methods runs them all', async () => {
    await frame.locator('#method').selectOption('layer-integrated-gradients');
    await waitForCaption(frame, /^layer-integrated-gradients \(LayerIntegratedGradients\).* convergence delta/);
    assert.deepEqual(await texts(frame, '#continuation .gen'), ['oslo']);
    await frame.locator('#compare').click();
    await frame.locator('#compare-table th.row', { hasText: 'lime' }).waitFor({ timeout: 120_000 });
    await waitForCaption(frame, /^layer-integrated-gradients/);
    assert.deepEqual((await texts(frame, '#compare-table th.row')).sort(), ['feature-ablation', 'kernel-shap', 'layer-integrated-gradients', 'lime', 'shapley-value-sampling']);
    assert.deepEqual(wb!.cspViolations, []);
  });
});
