// Explore Dataset in Restricted Mode in a real VS Code (code-server with Workspace Trust on): the
// user declines to trust the folder; right-click a folder → Explore Dataset runs nothing, the
// notification offers to manage trust and the dataset view says why in one line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { clickMenuItem, openWorkbench, type Workbench } from './codeServer';

let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({ sample: 'shapes', prefix: 'attrlens-e2e-dataset-restricted-', restricted: true });
  page = wb.page;
});

after(async () => {
  await wb?.close('vscode-dataset-restricted-last.png');
});

test('in Restricted Mode Explore Dataset runs nothing and the view says why', async () => {
  await page.getByRole('button', { name: /No, I don't trust the authors/ }).click({ timeout: 60_000 });
  const row = page.locator('.explorer-folders-view .monaco-list-row[aria-label="images"]');
  await row.waitFor({ timeout: 60_000 });
  // the extension's menu entries appear once it is registered: retry the menu until it offers the command
  const deadline = Date.now() + 60_000;
  for (;;) {
    await row.click({ button: 'right' });
    await page.locator('.monaco-menu .action-label').first().waitFor({ timeout: 10_000 });
    if (await page.locator('.monaco-menu .action-label', { hasText: /^Explore Dataset$/ }).count()) break;
    await page.keyboard.press('Escape');
    assert.ok(Date.now() < deadline, 'Explore Dataset in the folder\'s context menu');
    await page.waitForTimeout(1000);
  }
  await clickMenuItem(page, /^Explore Dataset$/);
  await page.locator('.notifications-toasts', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 20_000 });
  let frame: Frame | undefined;
  const until = Date.now() + 30_000;
  while (!frame && Date.now() < until) {
    for (const f of page.frames()) if (await f.locator('main#dataset #status-text').count().catch(() => 0)) frame = f;
    if (!frame) await page.waitForTimeout(250);
  }
  assert.ok(frame, 'the dataset view shows a status line');
  assert.match(await frame.locator('#status-text').textContent() ?? '', /^This workspace is in Restricted Mode, so Attribution Lens does not run models from it\./);
  assert.equal(await frame.locator('#accuracy').count(), 0, 'no report: nothing was run');
  assert.equal(await frame.locator('.grid .item').count(), 0);
});
