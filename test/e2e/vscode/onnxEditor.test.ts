// The .onnx editor in a real VS Code (code-server): opening a model shows its inspection, not
// binary; Set Active Model from it and from the Explorer's context menu take effect (the Models
// view and the editor follow); Inspect Model opens the same read-only view and never leaves a
// dirty editor; Attribute Prediction… from it runs that model; in Restricted Mode nothing is read.
// Needs scripts/e2e-setup.sh and the packaged .vsix (npm run test:e2e).
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Locator, type Page } from 'playwright-core';
import { ROOT, clickMenuItem, openWorkbench, waitForOnnxEditorFrame, waitForPanelFrame, type Workbench } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({
    sample: 'shapes',
    prefix: 'attrlens-e2e-onnx-',
    settings: {},
    prepare: async (ws) => {
      // a second model, so that "active" can move from one to the other
      copyFileSync(join(ws, 'model.onnx'), join(ws, 'other.onnx'));
    },
  });
  ({ page } = wb);
});

after(async () => {
  await wb?.close('vscode-onnx-editor-last.png');
});

const explorerRow = (name: string) => page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
const squash = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();
/** A table row's cells, space-separated. */
const cells = async (row: Locator) => squash((await row.locator('td').allTextContents()).join(' '));

/** Shows the Explorer or the Attribution Lens side bar (clicking an open one's icon would close it). */
async function showSideBar(p: Page, view: 'Explorer' | 'Attribution Lens'): Promise<void> {
  const content = view === 'Explorer' ? p.locator('.explorer-folders-view') : p.locator('.pane-header', { hasText: 'Models' });
  if (await content.first().isVisible().catch(() => false)) return;
  await p.locator(`.activitybar .action-item a[aria-label^="${view}"]`).click({ timeout: 60_000 });
  await content.first().waitFor({ timeout: 30_000 });
}

/** The .onnx editor frame whose page is for `file` (several can be open). */
async function editorFor(file: string): Promise<Frame> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      const attr = await f.locator('main#inspection').getAttribute('data-file', { timeout: 200 }).catch(() => null);
      if (attr?.endsWith(`/${file}`)) return f;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no .onnx editor shows ${file}`);
}

/** The Models view's row description ("active", …) of a model. */
async function modelsRow(name: string): Promise<string> {
  const models = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) });
  const row = models.locator('.monaco-list-row', { has: page.locator('.label-name').getByText(name, { exact: true }) });
  await row.first().waitFor({ timeout: 20_000 });
  return squash(await row.first().textContent());
}

async function noDirtyOrUntitled(): Promise<void> {
  assert.equal(await page.locator('.tab.dirty').count(), 0, 'a dirty editor');
  assert.equal(await page.locator('.tab', { hasText: /Untitled/ }).count(), 0, 'an untitled buffer');
}

test('the .onnx editor in a real VS Code', async (t) => {
  await t.test('opening model.onnx shows its inspection, not binary', async () => {
    await showSideBar(page, 'Explorer');
    await explorerRow('model.onnx').click({ timeout: 60_000 });
    const view = await editorFor('model.onnx');
    await page.locator('.tab', { hasText: 'model.onnx' }).first().waitFor({ timeout: 10_000 });
    // no text editor (the binary) for it: the tab's content is the webview
    assert.equal(await page.locator('.editor-group-container.active .monaco-editor').count(), 0, 'a text editor opened the model');
    assert.equal(await cells(view.locator('table[data-role="inputs"] tr[data-name="input"]')), 'input [1, 3, 64, 64] float32');
    assert.equal(await cells(view.locator('table[data-role="outputs"] tr[data-name="logits"]')), 'logits [1, 4] float32');
    assert.match(squash(await view.locator('[data-testid="preprocessing"]').textContent()), /^NCHW RGB 64×64 .* from model\.attrlens\.json$/);
    assert.equal(squash(await view.locator('[data-testid="gradients"]').textContent()), 'supported: every method can run');
    assert.equal(await view.locator('[data-testid="layer-count"]').textContent(), '8');
    assert.equal(await cells(view.locator('tr.layer[data-name="/features/conv2/Conv_output_0"]')), 'features.conv2 Conv [1, 8, 32, 32] /features/conv2/Conv_output_0');
    assert.equal(await view.locator('details.module[data-module="features"] tr.layer').count(), 5, 'five layers under features');

    // type-to-find over the layers
    await view.locator('#layer-filter').fill('relu');
    assert.deepEqual(await view.locator('tr.layer:not(.hidden) td.display').allTextContents(), ['features.relu1', 'features.relu2']);
    await view.locator('#layer-filter').fill('');
    assert.equal(await view.locator('tr.layer:not(.hidden)').count(), 8);
    await page.screenshot({ path: join(SHOTS, 'vscode-onnx-editor.png') });
    await noDirtyOrUntitled();
  });

  await t.test('Set Active Model from the editor: the Models view and the editor say so', async () => {
    let view = await editorFor('model.onnx');
    assert.equal(await view.locator('[data-testid="active"]').count(), 0);
    await view.locator('button[data-action="setActive"]').click();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      view = await editorFor('model.onnx');
      if (await view.locator('[data-testid="active"]').count()) break;
      await page.waitForTimeout(250);
    }
    assert.equal(squash(await view.locator('[data-testid="active"]').textContent()), 'active');
    assert.equal(await view.locator('button[data-action="setActive"]').isDisabled(), true);
    await showSideBar(page, 'Attribution Lens');
    assert.match(await modelsRow('model.onnx'), /active/);
    assert.doesNotMatch(await modelsRow('other.onnx'), /active/);
  });

  await t.test('Explorer → Set as Active Model on another model moves "active" to it', async () => {
    await showSideBar(page, 'Explorer');
    await explorerRow('other.onnx').click({ button: 'right' });
    await clickMenuItem(page, /^Set as Active Model$/);
    await showSideBar(page, 'Attribution Lens');
    const deadline = Date.now() + 20_000;
    while (!/active/.test(await modelsRow('other.onnx')) && Date.now() < deadline) await page.waitForTimeout(250);
    assert.match(await modelsRow('other.onnx'), /active/);
    assert.doesNotMatch(await modelsRow('model.onnx'), /active/);
    // the open editor of model.onnx follows: Set Active Model is offered again
    const view = await editorFor('model.onnx');
    await view.locator('button[data-action="setActive"]:not([disabled])').waitFor({ timeout: 20_000 });
    assert.equal(await view.locator('[data-testid="active"]').count(), 0);
  });

  await t.test('Explorer → Inspect Model opens the same read-only view, never a dirty editor', async () => {
    await showSideBar(page, 'Explorer');
    await explorerRow('other.onnx').click({ button: 'right' });
    await clickMenuItem(page, /^Inspect Model$/);
    const view = await editorFor('other.onnx');
    assert.equal(squash(await view.locator('h1').textContent()), 'other.onnx active');
    assert.equal(await view.locator('[data-testid="layer-count"]').textContent(), '8');
    await noDirtyOrUntitled();
    // closing it asks nothing: no save dialog
    const tab = page.locator('.tab', { hasText: 'other.onnx' });
    await tab.hover();
    await tab.locator('.tab-actions .action-label').first().click();
    await tab.waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'a save dialog');
  });

  await t.test('Attribute Prediction… from the editor runs this model on the picked image', async () => {
    await page.locator('.tab', { hasText: 'model.onnx' }).first().click();
    const view = await editorFor('model.onnx');
    await view.locator('button[data-action="attribute"]').click();
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /choose the image/ }).waitFor({ timeout: 20_000 });
    await page.locator('.quick-input-widget input').fill('red-circle.png');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'red-circle.png' }).first().click();
    // no model pick: the editor's model is used even though other.onnx is active
    const frame = await waitForPanelFrame(page);
    await frame.locator('al-predictions').getByText(/red/).first().waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('.quick-input-widget .quick-input-title', { hasText: /model/i }).isVisible().catch(() => false), false);
    await showSideBar(page, 'Attribution Lens');
    const deadline = Date.now() + 20_000;
    while (!/active/.test(await modelsRow('model.onnx')) && Date.now() < deadline) await page.waitForTimeout(250);
    assert.match(await modelsRow('model.onnx'), /active/, 'attributing with a model makes it the active one');
    await page.screenshot({ path: join(SHOTS, 'vscode-onnx-editor-attribute.png') });
  });
});

test('in Restricted Mode the .onnx editor reads nothing and says why', async () => {
  const wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-e2e-onnx-restricted-', restricted: true });
  try {
    const p = wb.page;
    await p.getByRole('button', { name: /No, I don't trust the authors/ }).click({ timeout: 60_000 });
    // the .onnx editor is known once the extension's contributions are (else the file opens as text)
    await p.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').waitFor({ timeout: 60_000 });
    await showSideBar(p, 'Explorer');
    await p.locator('.explorer-folders-view .monaco-list-row[aria-label="model.onnx"]').click({ timeout: 30_000 });
    const view = await waitForOnnxEditorFrame(p, 'restricted');
    assert.match(squash(await view.locator('[data-testid="restricted"]').textContent()), /Restricted Mode, so Attribution Lens does not run models/);
    assert.equal(await view.locator('main#inspection, table, button[data-action="attribute"]').count(), 0, 'nothing of the model is shown');
    assert.equal(await view.locator('button[data-action="manageTrust"]').count(), 1);
  } finally {
    await wb.close('vscode-onnx-editor-restricted-last.png');
  }
});
