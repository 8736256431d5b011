// Restricted Mode in a real VS Code (code-server with Workspace Trust on): the user declines to
// trust the folder; models are listed but not inspected, Attribute Prediction runs nothing and the
// panel says why. Needs scripts/e2e-setup.sh and the packaged .vsix (npm run test:e2e).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import { ROOT, clickMenuItem, openWorkbench, type Workbench, waitForPanelFrame } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-e2e-restricted-', restricted: true });
  page = wb.page;
});

after(async () => {
  await wb?.close('vscode-restricted-last.png');
});

const panelFrame = (timeout?: number): Promise<Frame> => waitForPanelFrame(page, timeout);

test('in Restricted Mode no model runs and the panel says why', async () => {
  await page.getByRole('button', { name: /No, I don't trust the authors/ }).click({ timeout: 60_000 });
  await page.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').click({ timeout: 60_000 });
  const models = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) });
  await models.locator('.monaco-list-row', { hasText: 'model.onnx' }).click({ timeout: 30_000 });
  await models.getByText(/Restricted Mode: trust the workspace to inspect this model/).waitFor({ timeout: 20_000 });

  await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
  await page.locator('.explorer-folders-view .monaco-list-row[aria-label="images"]').click();
  await page.locator('.explorer-folders-view .monaco-list-row[aria-label="red-circle.png"]').click({ button: 'right' });
  await clickMenuItem(page, /^Attribute Prediction$/);
  await page.locator('.notifications-toasts', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 20_000 });
  const frame = await panelFrame();
  await frame.getByText(/Restricted Mode, so Attribution Lens does not run models/).first().waitFor({ timeout: 20_000 });
  assert.equal(await frame.locator('al-predictions button').count(), 0, 'no predictions: the model was not run');
  await page.screenshot({ path: join(SHOTS, 'vscode-restricted.png') });

  await page.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').click();
  const runs = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Runs' }) });
  assert.equal(await runs.locator('.monaco-list-row').count(), 0, 'no runs recorded');
});
