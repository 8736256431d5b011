// End to end in a real VS Code (code-server) for text models: in a copy of samples/text, a
// sentence of sentences.txt is selected with the keyboard and explained from the editor's
// context menu; the panel's Captum table and token chips are read back from the webview.
// Needs `scripts/e2e-setup.sh` (npm run test:e2e runs it, builds and packages first).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import { ROOT, clickMenuItem, waitForPanelFrame, openWorkbench, type Workbench } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
const SAMPLE = join(ROOT, 'samples', 'text');
const EXPECTED = JSON.parse(readFileSync(join(SAMPLE, 'sentences.json'), 'utf8')) as Array<{ text: string; label: string; word: string }>;
const LINES = readFileSync(join(SAMPLE, 'sentences.txt'), 'utf8').split('\n');

let workspace: string;
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({
    sample: 'text',
    prefix: 'attrlens-e2e-text-',
    settings: { 'files.simpleDialog.enable': true, 'editor.minimap.enabled': false },
  });
  ({ workspace, page } = wb);
});

after(async () => {
  await wb?.close('vscode-text-last.png');
});

// ---- helpers ---------------------------------------------------------------------------------

/** The frame (nested in the webview's iframes) that holds the panel's <al-app>. */
const panelFrame = (timeout?: number): Promise<Frame> => waitForPanelFrame(page, timeout);

interface Chip {
  text: string;
  score: number;
  shade: number;
  /** computed background as r, g, b in 0…255 and alpha in 0…1 */
  rgba: [number, number, number, number];
}

/** Chips (`.chip` in <al-text-chips>) or the table's marks (`mark` in <al-text-table>), with their scores and computed backgrounds. */
async function readChips(frame: Frame, which: 'chips' | 'table'): Promise<Chip[]> {
  const [host, inner] = which === 'chips' ? ['AL-TEXT-CHIPS', '.chip'] : ['AL-TEXT-TABLE', 'mark'];
  // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
  return frame.evaluate(`(() => {
    function find(root) {
      for (const el of root.querySelectorAll('*')) {
        if (el.tagName === ${JSON.stringify(host)}) return el;
        if (el.shadowRoot) {
          const f = find(el.shadowRoot);
          if (f) return f;
        }
      }
      return undefined;
    }
    function rgba(css) {
      const n = (css.match(/-?[\\d.]+(e-?\\d+)?/g) || []).map(Number);
      if (css.startsWith('color(srgb')) return [n[0] * 255, n[1] * 255, n[2] * 255, n.length > 3 ? n[3] : 1];
      return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1];
    }
    const host = find(document);
    if (!host) throw new Error('no ${host.toLowerCase()} in the panel');
    return Array.from(host.shadowRoot.querySelectorAll(${JSON.stringify(inner)})).map((el) => ({
      text: (el.querySelector('.t') || el).textContent,
      score: Number(el.getAttribute('data-score')),
      shade: Number(el.getAttribute('data-shade') || 'NaN'),
      rgba: rgba(getComputedStyle(el).backgroundColor),
    }));
  })()`);
}

const cell = (frame: Frame, col: string) => frame.locator(`al-text-table td[data-col="${col}"]`);

/** Puts the cursor on line `n` (1-based) of the active editor and selects the line with the keyboard. */
async function selectLine(n: number): Promise<void> {
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`:${n}`);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
}

function largest(chips: Chip[]): Chip {
  return chips.reduce((a, b) => (Math.abs(b.score) > Math.abs(a.score) ? b : a));
}

// ---- the test --------------------------------------------------------------------------------

test('Attribute Prediction for Selection in a real VS Code', async (t) => {
  let frame!: Frame;
  const first = EXPECTED[0];
  assert.equal(LINES[0], first.text, 'sentences.txt line 1 is the first example');

  await t.test('a sentence selected with the keyboard is offered in the editor context menu', async () => {
    const row = page.locator('.explorer-folders-view .monaco-list-row[aria-label="sentences.txt"]');
    await row.waitFor({ timeout: 60_000 });
    await row.dblclick();
    await page.locator('.tab.active', { hasText: 'sentences.txt' }).waitFor({ timeout: 20_000 });
    await page.locator('.monaco-editor .view-line', { hasText: first.text }).first().waitFor({ timeout: 20_000 });
    await selectLine(1);
    await page.locator('.statusbar-item', { hasText: new RegExp(`Ln 1, Col \\d+ \\(${first.text.length} selected\\)`) }).first().waitFor({ timeout: 10_000 });
    // right-clicking inside the selection keeps it
    await page.locator('.monaco-editor .view-line', { hasText: first.text }).first().click({ button: 'right', position: { x: 20, y: 5 } });
    await clickMenuItem(page, /^Attribute Prediction for Selection$/);
  });

  await t.test('the panel shows Captum\'s table and coloured token chips; the sentiment word leads', async () => {
    frame = await panelFrame();
    await frame.locator('al-text-view al-text-chips .chip').first().waitFor({ timeout: 120_000 });
    await frame.getByText(new RegExp(`LayerIntegratedGradients for ${first.label} · [\\d.]+ s`)).first().waitFor({ timeout: 60_000 });
    const chips = await readChips(frame, 'chips');
    assert.deepEqual(chips.map((c) => c.text), ['[CLS]', 'the', 'movie', 'was', 'great', '.', '[SEP]']);
    const top = largest(chips);
    assert.equal(top.text, first.word);
    assert.ok(top.score > 0 && top.shade === 1, `${top.text}: score ${top.score}, shade ${top.shade}`);
    // the leading word is shaded in the theme's green, strongly; a zero-score token is not shaded
    const [r, g, b, a] = top.rgba;
    assert.ok(g > r + 30 && g > b && a > 0.5, `background of "${top.text}": rgba(${top.rgba.join(', ')})`);
    const cls = chips.find((c) => c.text === '[CLS]')!;
    assert.equal(cls.rgba[3], 0, `[CLS] (score ${cls.score}) has no background: rgba(${cls.rgba.join(', ')})`);
    // every other word is faint next to it
    for (const c of chips) if (c !== top) assert.ok(Math.abs(c.score) < 0.1 * top.score, `${c.text} ${c.score} vs ${top.score}`);

    // Captum's table: true label unknown, predicted label with probability, attribution label and score (sum)
    assert.equal(await cell(frame, 'true').textContent(), '—');
    assert.match((await cell(frame, 'predicted').textContent()) ?? '', new RegExp(`^${first.label} \\((0\\.99|1\\.00)\\)$`));
    assert.equal(await cell(frame, 'attribution').textContent(), first.label);
    const sum = chips.reduce((s, c) => s + c.score, 0);
    assert.equal(await cell(frame, 'score').textContent(), sum.toFixed(2));
    const marks = await readChips(frame, 'table');
    assert.deepEqual(marks.map((m) => m.text), chips.map((c) => c.text));
    const mark = marks.find((m) => m.text === first.word)!;
    assert.ok(mark.rgba[1] > mark.rgba[0] + 30 && mark.rgba[3] > 0.5, `table mark rgba(${mark.rgba.join(', ')})`);
    await frame.getByText(/convergence delta/).first().waitFor({ timeout: 5000 });
    // only the text-capable methods are offered
    const options = await frame.locator('al-text-view al-method-picker #method vscode-option:not(.group)').allTextContents();
    assert.deepEqual(options.map((o) => o.replace(/ \(.*\)$/, '').trim()),
      ['LayerIntegratedGradients', 'LayerGradientXActivation', 'Occlusion', 'FeatureAblation', 'Lime', 'KernelShap']);
    await page.screenshot({ path: join(SHOTS, 'vscode-text.png') });
  });

  await t.test('the token scores are drawn on the selection in the editor, and Clear Token Scores removes them', async () => {
    // the decorations' spans in the editor: one per scored token, the sentiment word the greenest
    const decorated = () => page.evaluate(`(() => {
      const out = [];
      for (const el of document.querySelectorAll('.monaco-editor .view-overlays [class*="ced-"], .monaco-editor .view-lines [class*="ced-"]')) {
        const bg = getComputedStyle(el).backgroundColor;
        const r = el.getBoundingClientRect();
        if (bg && bg !== 'rgba(0, 0, 0, 0)' && r.width > 0) out.push({ x: r.x, w: r.width, bg });
      }
      return out;
    })()`) as Promise<Array<{ x: number; w: number; bg: string }>>;
    const deadline = Date.now() + 10_000;
    let spans = await decorated();
    while (spans.length === 0 && Date.now() < deadline) { await page.waitForTimeout(100); spans = await decorated(); }
    assert.ok(spans.length >= 3, `${spans.length} decorated token ranges`);
    const rgba = (bg: string) => (/rgba?\(([^)]*)\)/.exec(bg)?.[1] ?? '').split(',').map(Number);
    const greenest = spans.map((d) => rgba(d.bg)).sort((a, b) => (b[3] ?? 1) - (a[3] ?? 1))[0];
    assert.ok(greenest[1] > greenest[0] + 30, `strongest token background rgba(${greenest.join(', ')})`);
    // the strongest one sits on the sentiment word
    const word = page.locator('.monaco-editor .view-line', { hasText: first.text }).first();
    const wordBox = await word.evaluate((line, w) => {
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = (n.textContent ?? '').indexOf(w);
        if (i >= 0) { const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + w.length); const b = r.getBoundingClientRect(); return { x: b.x, w: b.width }; }
      }
      return undefined;
    }, first.word);
    assert.ok(wordBox, `${first.word} on the line`);
    const strongest = spans.sort((a, b) => (rgba(b.bg)[3] ?? 1) - (rgba(a.bg)[3] ?? 1))[0];
    assert.ok(Math.abs(strongest.x - wordBox.x) < 3 && Math.abs(strongest.w - wordBox.w) < 3, `strongest decoration at ${strongest.x}+${strongest.w}, "${first.word}" at ${wordBox.x}+${wordBox.w}`);
    await page.screenshot({ path: join(SHOTS, 'vscode-text-decorations.png') });
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('>Clear Token Scores in Editor');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Clear Token Scores in Editor' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    const end = Date.now() + 10_000;
    while ((await decorated()).length > 0 && Date.now() < end) await page.waitForTimeout(100);
    assert.equal((await decorated()).length, 0, 'cleared');
  });

  await t.test('word and sentence granularity, and gamma lifting faint tokens', async () => {
    const faintBefore = (await readChips(frame, 'chips')).find((c) => c.text === 'the')!;
    await frame.locator('al-text-chips button[data-unit="sentence"]').click();
    await frame.locator('al-text-chips .chip').nth(1).waitFor({ state: 'detached', timeout: 5000 });
    const sentence = await readChips(frame, 'chips');
    assert.deepEqual(sentence.map((c) => c.text), [first.text]);
    await frame.locator('al-text-chips button[data-unit="word"]').click();
    await frame.locator('al-text-chips .chip').nth(6).waitFor({ timeout: 5000 });
    await frame.locator('al-text-chips button[data-unit="token"]').click();
    // gamma 0.2: (|s|/max)^0.2 — "the" gets a visible shade
    await frame.locator('al-text-chips input#gamma').fill('0.2');
    const faintAfter = (await readChips(frame, 'chips')).find((c) => c.text === 'the')!;
    assert.ok(Math.abs(faintAfter.shade - Math.sign(faintBefore.shade) * Math.pow(Math.abs(faintBefore.shade), 0.2)) < 1e-3,
      `shade ${faintBefore.shade} → ${faintAfter.shade}`);
    assert.ok(faintAfter.rgba[3] > faintBefore.rgba[3]);
    await frame.locator('al-text-chips input#gamma').fill('1');
  });

  await t.test('clicking the other class re-runs for it: the sentiment word turns red', async () => {
    await frame.locator('al-text-view al-predictions button', { hasText: 'negative' }).click();
    await frame.getByText(/LayerIntegratedGradients for negative · [\d.]+ s/).first().waitFor({ timeout: 60_000 });
    assert.equal(await cell(frame, 'attribution').textContent(), 'negative');
    const chips = await readChips(frame, 'chips');
    const top = largest(chips);
    assert.equal(top.text, first.word);
    assert.ok(top.score < 0 && top.shade === -1);
    assert.ok(top.rgba[0] > top.rgba[1] + 30 && top.rgba[3] > 0.5, `background of "${top.text}": rgba(${top.rgba.join(', ')})`);
    await page.screenshot({ path: join(SHOTS, 'vscode-text-retarget.png') });
  });

  await t.test('Export CSV writes the tokens with their scores where the save dialog points', async () => {
    await frame.locator('#export-text-csv').click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 20_000 });
    const deadline = Date.now() + 10_000;
    while (!(await input.inputValue()).endsWith('.csv') && Date.now() < deadline) await page.waitForTimeout(100);
    assert.match(await input.inputValue(), /\/text-layer-integrated-gradients-0\.csv$/);
    await page.keyboard.press('Enter');
    await frame.getByText(/^Saved .*text-layer-integrated-gradients-0\.csv/).first().waitFor({ timeout: 20_000 });
    const rows = readFileSync(join(workspace, 'text-layer-integrated-gradients-0.csv'), 'utf8').trim().split('\n');
    assert.equal(rows[0], 'index,token,token_id,special,word_index,word,score');
    assert.deepEqual(rows.slice(1).map((r) => r.split(',')[1]), ['[CLS]', 'the', 'movie', 'was', 'great', '.', '[SEP]']);
    const great = rows.find((r) => r.split(',')[1] === 'great')!.split(',');
    assert.ok(Number(great[6]) < -1, `great scores ${great[6]} for negative`);
  });

  await t.test('without a selection, the palette command asks for the text', async () => {
    const neg = EXPECTED.find((e) => e.word === 'awful')!;
    await page.locator('.tab', { hasText: 'sentences.txt' }).first().click();
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('>Attribute Prediction for Selection');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Attribute Prediction for Selection' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Attribute Prediction for Text' }).waitFor({ timeout: 10_000 });
    await input.fill(neg.text);
    await page.keyboard.press('Enter');
    frame = await panelFrame();
    // the panel still shows the last sentence (explained for negative too) until the new run ends
    await frame.locator('al-text-chips .chip', { hasText: neg.word }).first().waitFor({ timeout: 60_000 });
    await frame.getByText(new RegExp(`LayerIntegratedGradients for ${neg.label} · [\\d.]+ s`)).first().waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('al-text-view #text').textContent(), neg.text);
    const chips = await readChips(frame, 'chips');
    assert.deepEqual(chips.map((c) => c.text), ['[CLS]', 'what', 'an', 'awful', 'day', '.', '[SEP]']);
    assert.equal(largest(chips).text, neg.word);
    assert.ok(largest(chips).score > 0, 'for the predicted class (negative) "awful" is evidence for it');
    assert.match((await cell(frame, 'predicted').textContent()) ?? '', new RegExp(`^${neg.label} `));
    assert.deepEqual(wb!.cspViolations, [], 'the panel runs under its strict CSP without violations');
  });
});
