// Text models in Restricted Mode, in a real VS Code (code-server): Attribute Prediction for
// Selection runs no model; the panel and a notification say why.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import { ROOT, clickMenuItem, openWorkbench, type Workbench, waitForPanelFrame } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({ sample: 'text', prefix: 'attrlens-e2e-text-restricted-', restricted: true });
  page = wb.page;
});

after(async () => {
  await wb?.close('vscode-text-restricted-last.png');
});

const panelFrame = (timeout?: number): Promise<Frame> => waitForPanelFrame(page, timeout);

test('in Restricted Mode a selected sentence is not run through the text model', async () => {
  await page.getByRole('button', { name: /No, I don't trust the authors/ }).click({ timeout: 60_000 });
  const row = page.locator('.explorer-folders-view .monaco-list-row[aria-label="sentences.txt"]');
  await row.waitFor({ timeout: 60_000 });
  await row.dblclick();
  const line = page.locator('.monaco-editor .view-line', { hasText: 'The movie was great.' }).first();
  await line.waitFor({ timeout: 20_000 });
  await line.click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.locator('.statusbar-item', { hasText: /\(20 selected\)/ }).first().waitFor({ timeout: 10_000 });
  await line.click({ button: 'right', position: { x: 20, y: 5 } });
  await clickMenuItem(page, /^Attribute Prediction for Selection$/);
  await page.locator('.notifications-toasts', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 20_000 });
  const frame = await panelFrame();
  await frame.getByText(/Restricted Mode, so Attribution Lens does not run models/).first().waitFor({ timeout: 20_000 });
  await page.waitForTimeout(1000);
  assert.equal(await frame.locator('al-text-view').count(), 0, 'no text result: the model was not loaded');
  assert.equal(await frame.locator('al-predictions button').count(), 0, 'no predictions: the model was not run');
  await page.screenshot({ path: join(SHOTS, 'vscode-text-restricted.png') });
});
