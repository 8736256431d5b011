// In a real VS Code (code-server): the panel shows the original beside the map (the README
// screenshot), Export PNG writes a figure into the output folder and offers Open / Reveal in
// Explorer, and the exported image is never offered as an input (Explorer menu, image pick).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ROOT, clickMenuItem, waitForPanelFrame, openWorkbench, type Workbench } from './codeServer';

const FIGURE = 'red-circle-integrated-gradients-0.png';

let workspace = '';
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({
    sample: 'shapes',
    prefix: 'attrlens-views-',
    settings: {
      'files.simpleDialog.enable': true, 'attributionLens.defaultMethod': 'integrated-gradients',
      // exported dot-folders must stay visible in the Explorer for Reveal
      'files.exclude': {},
    },
  });
  ({ workspace, page } = wb);
});

after(async () => {
  await wb?.close('vscode-views-last.png');
});

const explorerRow = (name: string) => page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);

async function contextMenuLabels(): Promise<string[]> {
  await page.waitForSelector('.monaco-menu .action-label', { timeout: 10_000 });
  return (await page.locator('.monaco-menu .action-label').allTextContents()).map((s) => s.trim()).filter(Boolean);
}

test('the original beside the map, a figure exported to the output folder, never offered as an input', async (t) => {
  let frame!: Frame;

  await t.test('the panel shows the original in colour beside the map (README screenshot)', async () => {
    await explorerRow('images').waitFor({ timeout: 60_000 });
    await explorerRow('images').click();
    await explorerRow('red-circle.png').click({ button: 'right' });
    await clickMenuItem(page, /^Attribute Prediction$/);
    frame = await waitForPanelFrame(page);
    await frame.getByText(/IntegratedGradients for red · [\d.]+ s/).first().waitFor({ timeout: 90_000 });
    const original = frame.locator('al-heatmap#heatmap canvas[data-testid="original-canvas"]');
    const map = frame.locator('al-heatmap#heatmap canvas[data-testid="map-canvas"]');
    await original.waitFor({ timeout: 10_000 });
    const [ob, mb] = [await original.boundingBox(), await map.boundingBox()];
    assert.ok(ob && mb && ob.x + ob.width <= mb.x && Math.abs(ob.y - mb.y) < 1, 'the original is left of the map');
    // the original is the picture in colour as the model saw it (the sample is 64×64: unchanged)
    const drawn = await original.evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 64, 64).data));
    const file = await sharp(join(workspace, 'images', 'red-circle.png')).ensureAlpha().raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < file.length; i++) diff = Math.max(diff, Math.abs(file[i] - drawn[i]));
    assert.ok(drawn.length === file.length && diff <= 1, `the original differs from red-circle.png by up to ${diff}`);
    const mask = await sharp(join(workspace, 'images', 'red-circle.mask.png')).raw().toBuffer({ resolveWithObject: true });
    const onDisc = [...Array(64 * 64).keys()].find((p) => mask.data[p * mask.info.channels] > 127)!;
    const [r, g, b] = drawn.slice(onDisc * 4, onDisc * 4 + 3);
    assert.ok(r > g + 60 && r > b + 60, `the disc is red in the original: rgb(${r}, ${g}, ${b})`);
    // the readout under the pointer
    await page.mouse.move(mb!.x + mb!.width / 2, mb!.y + mb!.height / 2);
    await frame.locator('al-heatmap#heatmap [data-testid="readout"]', { hasText: /^x 32, y 32 · raw .* · channel sum .* · normalised / }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'vscode-panel.png') });
  });

  await t.test('Export PNG writes a figure into .attribution-lens/exports and offers Open and Reveal in Explorer', async () => {
    await frame.locator('#export-png').click();
    await frame.locator('al-export-bar#export .status', { hasText: /^Saved .*\.attribution-lens\/exports\/red-circle-integrated-gradients-0\.png/ }).waitFor({ timeout: 20_000 });
    const file = join(workspace, '.attribution-lens', 'exports', FIGURE);
    assert.ok(existsSync(file), `${file} was not written`);
    assert.ok(!existsSync(join(workspace, 'images', FIGURE)), 'nothing beside the inputs');
    const meta = await sharp(file).metadata();
    assert.ok((meta.width ?? 0) >= 1024 && (meta.height ?? 0) > 512, `a figure, bigger than the 64×64 map: ${meta.width}×${meta.height}`);
    const toast = page.locator('.notification-toast', { hasText: `Exported ${FIGURE}` });
    await toast.waitFor({ timeout: 20_000 });
    const buttons = (await toast.locator('.monaco-button').allTextContents()).map((s) => s.trim());
    assert.deepEqual(buttons.filter((b) => b === 'Open' || b === 'Reveal in Explorer'), ['Open', 'Reveal in Explorer']);
    await toast.locator('.monaco-button', { hasText: 'Reveal in Explorer' }).click();
    await explorerRow(FIGURE).waitFor({ timeout: 20_000 });
    assert.equal(await explorerRow(FIGURE).getAttribute('aria-selected'), 'true', 'revealed and selected');
  });

  await t.test('the exported PNG is not offered as an input: no Explorer menu entry, not in the image pick', async () => {
    await explorerRow(FIGURE).click({ button: 'right' });
    const labels = await contextMenuLabels();
    assert.ok(!labels.includes('Attribute Prediction'), `menu on the exported figure: ${labels.join(', ')}`);
    await page.keyboard.press('Escape');
    // the palette's Attribute Prediction… lists the workspace's images
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('>Attribution Lens: Attribute Prediction…');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Attribute Prediction…' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'choose the image' }).waitFor({ timeout: 20_000 });
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'red-circle.png' }).first().waitFor({ timeout: 20_000 });
    const rows = (await page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents()).map((s) => s.trim());
    assert.ok(rows.includes('blue-triangle.png'), `the inputs are offered: ${rows.join(', ')}`);
    assert.ok(!rows.some((r) => r.includes('integrated-gradients')), `no exported figure offered: ${rows.join(', ')}`);
    await page.keyboard.press('Escape');
    assert.deepEqual(readdirSync(join(workspace, '.attribution-lens', 'exports')), [FIGURE]);
  });
});
