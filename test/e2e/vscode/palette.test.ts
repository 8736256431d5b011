// The command palette in a real VS Code (code-server): Inspect Model, Attribute Prediction…,
// Export Attribution… (PNG drawn by the panel), Compare Methods; and the activation cost measured
// by the extension itself. Needs scripts/e2e-setup.sh and the packaged .vsix (npm run test:e2e).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Frame, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ROOT, heatmapPixelsByMethod, type Profile, waitForOnnxEditorFrame, waitForPanelFrame, openWorkbench, type Workbench } from './codeServer';

const SHOTS = join(ROOT, 'out', 'screenshots');
const COMPARED = ['saliency', 'gradcam', 'occlusion'];
const ACTIVATION_LINE = /activated in ([\d.]+) ms \(bundle ([\d.]+) ms, activate ([\d.]+) ms\); engine modules on the extension host: (.*)$/m;
/** Issue 7's budget for activate() plus evaluating the bundle. */
const ACTIVATION_BUDGET_MS = 200;

let workspace: string;
let profile: Profile;
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  wb = await openWorkbench({
    sample: 'shapes',
    prefix: 'attrlens-e2e-palette-',
    settings: {
      'files.simpleDialog.enable': true,
      '[markdown]': { 'editor.wordWrap': 'off' },
      // occlusion's required window is filled in by the host: the panel must show it
      'attributionLens.defaultMethod': 'occlusion',
      'attributionLens.compareMethods': COMPARED,
    },
    viewport: { width: 1440, height: 1000 },
  });
  ({ workspace, profile, page } = wb);
});

after(async () => {
  await wb?.close('vscode-palette-last.png');
});

// ---- helpers ---------------------------------------------------------------------------------

const quickInput = () => page.locator('.quick-input-widget input');

/** Runs a palette command by its full title ("Attribution Lens: …"). */
async function runCommand(title: string): Promise<void> {
  await page.keyboard.press('F1');
  await quickInput().waitFor({ timeout: 10_000 });
  await quickInput().fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

/** Waits for a quick pick by its title, then accepts the row whose label is `label`. */
async function pick(titleText: RegExp, label: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: titleText }).waitFor({ timeout: 20_000 });
  await quickInput().fill(label, { timeout: 10_000 });
  const row = page.locator('.quick-input-widget .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

/**
 * Runs a palette command and accepts `label` in the quick pick it opens. The workbench closes a
 * quick pick that loses focus, which a loaded machine's late layout can cause between its
 * opening and the choice; then the command is run again (said in the output, at most 3 times).
 * `check` sees the pick first.
 */
async function runAndPick(command: string, titleText: RegExp, label: string, check?: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await runCommand(command);
    try {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: titleText }).waitFor({ timeout: 20_000 });
      await check?.();
      await pick(titleText, label);
      return;
    } catch (e) {
      if (attempt >= 3 || (await quickInput().isVisible())) throw e;
      console.log(`# ${command}: its quick pick closed before "${label}" was chosen (attempt ${attempt}); running it again`);
    }
  }
}

const panelFrame = (timeout?: number): Promise<Frame> => waitForPanelFrame(page, timeout);

const heatmaps = heatmapPixelsByMethod;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

// ---- the test --------------------------------------------------------------------------------

test('the command palette, in a real VS Code', async (t) => {
  let frame!: Frame;

  await t.test('Inspect Model opens the read-only model view with the inputs, outputs and layers', async () => {
    await runCommand('Attribution Lens: Inspect Model');
    // the only model of the workspace is taken without asking; the .onnx editor shows it
    const view = await waitForOnnxEditorFrame(page);
    const cells = async (row: string) => (await view.locator(`${row} td`).allTextContents()).join(' ').replace(/\s+/g, ' ').trim();
    await page.screenshot({ path: join(SHOTS, 'vscode-inspect-model.png') });
    assert.equal((await view.locator('h1').textContent())?.trim(), 'model.onnx');
    assert.equal(await cells('table[data-role="inputs"] tr[data-name="input"]'), 'input [1, 3, 64, 64] float32');
    assert.equal(await cells('table[data-role="outputs"] tr[data-name="logits"]'), 'logits [1, 4] float32');
    assert.match((await view.locator('[data-testid="labels"]').textContent()) ?? '', /^4 \(from labels\.txt\)\s*: red, green, blue, yellow$/);
    assert.equal(await view.locator('[data-testid="layer-count"]').textContent(), '8');
    // one row per layer: its display name, op and output shape, and the tensor name
    for (const [tensor, row] of [
      ['/features/conv1/Conv_output_0', 'features.conv1 Conv [1, 4, 64, 64] /features/conv1/Conv_output_0'],
      ['/features/pool1/MaxPool_output_0', 'features.pool1 MaxPool [1, 4, 32, 32] /features/pool1/MaxPool_output_0'],
      ['/avgpool/GlobalAveragePool_output_0', 'avgpool GlobalAveragePool [1, 8, 1, 1] /avgpool/GlobalAveragePool_output_0'],
      ['logits', 'classifier.fc Gemm [1, 4] logits'],
    ]) assert.equal(await cells(`tr.layer[data-name="${tensor}"]`), row);
    // a preview, never an unsaved buffer
    assert.equal(await page.locator('.tab', { hasText: /Untitled/ }).count(), 0);
    assert.equal(await page.locator('.tab.dirty').count(), 0);
  });

  await t.test(`activation takes at most ${ACTIVATION_BUDGET_MS} ms and leaves the engine off the extension host`, async () => {
    // The extension logs its own cost (bundle evaluation + activate()) to its output channel,
    // which VS Code writes to a log file in the profile.
    const logs = join(profile.userDataDir, 'logs');
    let line: string | undefined;
    const deadline = Date.now() + 20_000;
    while (!line && Date.now() < deadline) {
      for (const f of existsSync(logs) ? files(logs) : []) {
        if (!f.endsWith('.log')) continue;
        const hit = ACTIVATION_LINE.exec(readFileSync(f, 'utf8'));
        if (hit) line = hit[0];
      }
      if (!line) await page.waitForTimeout(500);
    }
    assert.ok(line, `no activation line in the logs under ${logs}`);
    const [, ms, bundle, activate, native] = ACTIVATION_LINE.exec(line)!;
    console.log(`# activation: ${ms} ms (bundle ${bundle} ms + activate() ${activate} ms; budget ${ACTIVATION_BUDGET_MS} ms); engine modules on the extension host: ${native}`);
    t.diagnostic(`activation ${ms} ms`);
    assert.ok(Number(ms) <= ACTIVATION_BUDGET_MS, `activation took ${ms} ms`);
    assert.equal(native, 'none');
    // and the host bundle cannot load them: it never names them (the engine process bundle does)
    const extDir = join(profile.extensionsDir, readdirSync(profile.extensionsDir).find((d) => d.startsWith('attribution-lens.attribution-lens-'))!);
    const hostBundle = readFileSync(join(extDir, 'dist', 'extension.js'), 'utf8');
    assert.doesNotMatch(hostBundle, /require\(["'](onnxruntime-node|onnxruntime-common|sharp)["']\)/);
    assert.match(readFileSync(join(extDir, 'dist', 'engine.js'), 'utf8'), /require\(["']onnxruntime-node["']\)/, 'the engine process bundle is where onnxruntime loads');
  });

  await t.test('Attribute Prediction… asks for the image; the panel shows occlusion with its filled-in window', async () => {
    await runAndPick('Attribution Lens: Attribute Prediction…', /choose the image/, 'red-circle.png');
    frame = await panelFrame();
    await frame.getByText(/Occlusion for red · [\d.]+ s/).first().waitFor({ timeout: 90_000 });
    // the picker shows the method that ran and the window the host filled in for a 64×64 input
    const picker = frame.locator('al-method-picker#picker');
    assert.equal(await picker.locator('#method').evaluate((el) => (el as HTMLElement & { value: string }).value), 'occlusion');
    const field = (name: string) => picker.locator(`label[data-param="${name}"] vscode-textfield`).evaluate((el) => (el as HTMLElement & { value: string }).value);
    assert.equal(await field('slidingWindowShapes'), '3, 8, 8');
    assert.equal(await field('strides'), '3, 4, 4');
    await page.screenshot({ path: join(SHOTS, 'vscode-palette-occlusion.png') });
  });

  await t.test('Export Attribution… offers PNG, which the panel draws and the host saves', async () => {
    const drawn = (await heatmaps(frame))[''];
    assert.deepEqual([drawn.width, drawn.height], [64, 64]);
    await runAndPick('Attribution Lens: Export Attribution…', /^Export Attribution$/, 'PNG', async () => {
      const labels = (await page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents()).map((s) => s.trim());
      assert.deepEqual(labels, ['PNG', 'NPY', 'JSON']);
    });
    // no dialog: into the output folder
    const file = join(workspace, '.attribution-lens', 'exports', 'red-circle-occlusion-0.png');
    await frame.locator('al-export-bar#export .status', { hasText: /^Saved .*red-circle-occlusion-0\.png/ }).waitFor({ timeout: 20_000 });
    assert.ok(existsSync(file), `${file} was not written`);
    const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    // a figure: the view scaled ×8 (nearest) with the original beside it, a colour bar and a title
    assert.ok(info.width >= 2 * 512 && info.height > 512, `figure is ${info.width}×${info.height}`);
    // the view as drawn appears in it, each pixel an 8×8 block: find the map by its top-left pixel block
    const px = (x: number, y: number) => [0, 1, 2].map((c) => data[(y * info.width + x) * info.channels + c]);
    let found = false;
    for (let y0 = 0; y0 < info.height - 512 && !found; y0++) for (let x0 = info.width - 512 - 40; x0 < info.width - 512; x0++) {
      let diff = 0;
      for (const [x, y] of [[0, 0], [63, 63], [31, 17], [5, 50]]) {
        const got = px(x0 + x * 8 + 4, y0 + y * 8 + 4);
        for (let c = 0; c < 3; c++) diff = Math.max(diff, Math.abs(got[c] - drawn.data[(y * 64 + x) * 4 + c]));
      }
      if (diff <= 1) { found = true; break; }
    }
    assert.ok(found, 'the saved figure holds the view the panel drew, scaled ×8');
  });

  await t.test('Compare Methods runs attributionLens.compareMethods; the panel shows the same set and label, and the maps in view on their own scales', async () => {
    const widget = page.locator('.quick-input-widget');
    // a started run shows a waiting tile per method at once
    const tiles = frame.locator('al-compare .tile');
    for (let attempt = 1; ; attempt++) {
      await runCommand('Attribution Lens: Compare Methods');
      await page.locator('.quick-input-widget .quick-input-title', { hasText: /Compare Methods/ }).waitFor({ timeout: 20_000 });
      // the methods of the compareMethods setting come checked
      const checked = await page.locator('.quick-input-widget .monaco-list-row[aria-checked="true"]').evaluateAll((rows) =>
        rows.map((r) => r.querySelector('.label-name')?.textContent?.trim() ?? ''));
      assert.deepEqual(checked.sort(), [...COMPARED].sort());
      // a busy machine may drop the Enter while the pick is still being laid out: accept until it closes
      for (let i = 0; i < 5 && (await widget.isVisible()); i++) {
        await page.keyboard.press('Enter');
        await widget.waitFor({ state: 'hidden', timeout: 3000 }).catch(() => undefined);
      }
      // on a loaded machine the pick can also close by losing focus, which runs nothing (seen in
      // CI: no tile, no progress for 120 s): then the command runs again, at most 3 times
      if (await tiles.first().waitFor({ timeout: 15_000 }).then(() => true, () => false)) break;
      if (attempt >= 3) break;
      console.log(`# Compare Methods: its quick pick closed without starting a run (attempt ${attempt}); running it again`);
    }
    const cells = frame.locator('al-compare al-heatmap');
    const deadline = Date.now() + 120_000;
    while ((await cells.count()) < COMPARED.length && Date.now() < deadline) await page.waitForTimeout(250);
    if ((await cells.count()) < COMPARED.length) {
      // say what the panel shows instead: a tile's error or a stuck progress line
      const shown = await frame.locator('al-compare').evaluate((e) => (e.shadowRoot ?? e).textContent?.replace(/\s+/g, ' ').slice(0, 600)).catch((e) => String(e));
      assert.fail(`${await cells.count()} of ${COMPARED.length} compare maps after 120 s; quick pick open: ${await widget.isVisible()}; the compare view: ${shown}`);
    }
    // exactly the setting's methods ran, and the panel's checkboxes and button say the same
    const ran = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-method')));
    assert.deepEqual([...ran].sort(), [...COMPARED].sort());
    const boxes = await frame.locator('al-compare #compare-methods vscode-checkbox').evaluateAll((els) =>
      els.filter((e) => (e as HTMLElement & { checked: boolean }).checked).map((e) => e.getAttribute('data-method')));
    assert.deepEqual([...boxes].sort(), [...COMPARED].sort());
    assert.equal((await frame.locator('al-compare #compare-run').innerText()).trim(), 'Compare Methods');
    // the results came into view by themselves (no scrolling here)
    const inView = await frame.locator('al-compare #compare-grid').evaluate((g) => {
      const r = g.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
    });
    assert.equal(inView, true, 'the compare grid is not in view');
    // these methods are in different units: no shared scale (off, and disabled with the reason)
    const shared = frame.locator('al-compare #shared-scale');
    assert.equal(await shared.evaluate((e) => (e as HTMLElement & { checked: boolean }).checked), false);
    assert.match((await shared.getAttribute('title')) ?? '', /One scale needs maps in one unit/);
    // Each map on its own scale, with its own legend: the three explanations differ pairwise and none is blank
    const meanDiff = (a: number[], b: number[]) => a.reduce((s, v, k) => s + Math.abs(v - b[k]), 0) / a.length;
    let problems: string[] = ['not drawn'];
    for (const end = Date.now() + 20_000; problems.length > 0 && Date.now() < end; await page.waitForTimeout(500)) {
      const maps = await heatmaps(frame);
      problems = [];
      const ids = Object.keys(maps).filter((k) => k !== '').sort();
      if (ids.join() !== [...COMPARED].sort().join()) problems.push(`cells ${ids.join(', ')}`);
      else {
        for (let i = 0; i < COMPARED.length; i++) {
          for (let j = i + 1; j < COMPARED.length; j++) {
            const d = meanDiff(maps[COMPARED[i]].data, maps[COMPARED[j]].data);
            if (d <= 2) problems.push(`${COMPARED[i]} and ${COMPARED[j]} differ by ${d.toFixed(2)} per channel`);
          }
        }
      }
    }
    for (const m of COMPARED) {
      const ticks = await frame.locator(`al-compare figure[data-method="${m}"] [data-testid="legend-ticks"] span`).allInnerTexts();
      assert.equal(ticks.length, 2, `${m} has no legend`);
      assert.ok(Number(ticks[1]) > 0, `${m}'s legend saturates at ${ticks[1]}`);
    }
    await page.screenshot({ path: join(SHOTS, 'vscode-palette-compare.png') });
    assert.deepEqual(problems, []);
    // the README's picture: the panel's group maximized, the grid in view
    await page.locator('.tab', { hasText: /^Attribution: red-circle\.png/ }).first().click();
    await runCommand('View: Maximize Editor Group and Hide Side Bars').catch(() => page.keyboard.press('Escape'));
    await page.waitForTimeout(1000);
    await frame.locator('al-compare #compare-methods').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await page.waitForTimeout(500);
    mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'vscode-compare.png') });
  });
});
