// The stub host for the panel's browser tests: serves the webview bundle (rebuilt, never stale)
// in fixtures/host.html under the extension's CSP, opens it in real Chromium, and reads back what
// the panel posted. Shared by every test file in this folder.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ToWebview } from '../../../src/shared/protocol';

export const ROOT = join(__dirname, '..', '..', '..');
export const SHOTS = join(ROOT, 'out', 'screenshots');

export interface Harness {
  page: Page;
  /** console errors and page errors: a test ends with none */
  problems: string[];
}

/** Registers before/after hooks for the server and browser; returns how to open a fresh panel page. */
export function stubHost(): { open(viewport?: { width: number; height: number }): Promise<Harness> } {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let base = '';
  before(async () => {
    // the same bundle scripts/build.mjs makes
    await esbuild.build({
      bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: true,
      entryPoints: { webview: join(ROOT, 'webview-ui/src/main.ts') }, outdir: join(ROOT, 'dist'), logLevel: 'warning',
    });
    const html = readFileSync(join(__dirname, 'fixtures', 'host.html'), 'utf8');
    server = createServer((req, res) => {
      if (req.url === '/' || req.url?.startsWith('/?')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(html.replaceAll('{{NONCE}}', randomBytes(16).toString('base64')));
      } else if (req.url === '/theme.css') {
        res.writeHead(200, { 'content-type': 'text/css' }).end(readFileSync(join(__dirname, 'fixtures', 'theme.css')));
      } else if (req.url === '/webview.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(ROOT, 'dist', 'webview.js')));
      } else res.writeHead(404).end();
    });
    const s = server;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });
  return {
    async open(viewport = { width: 1100, height: 900 }): Promise<Harness> {
      const page = await browser!.newPage({ viewport });
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(String(e)));
      await page.goto(base);
      await waitFor(page, () => posted(page).then((p) => p.some((m) => (m as { type: string }).type === 'ready')), 'ready message');
      return { page, problems };
    },
  };
}

export function send(page: Page, msg: ToWebview): Promise<void> {
  return page.evaluate((m) => window.postMessage(m, '*'), msg);
}

export function posted(page: Page): Promise<unknown[]> {
  return page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted);
}

export async function waitFor(page: Page, cond: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await page.waitForTimeout(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Pixels of a canvas inside nested shadow roots: path of selectors, one per shadow level. */
export function pixels(page: Page, path: string[]): Promise<number[] | null> {
  return page.evaluate((sels) => {
    let node: Element | null = document.querySelector(sels[0]);
    for (const s of sels.slice(1)) node = node?.shadowRoot?.querySelector(s) ?? null;
    const c = node as HTMLCanvasElement | null;
    if (!c || c.width === 0) return null;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  }, path);
}

/** Picks an option of a vscode-single-select inside `host`. */
export async function pick(page: Page, host: string, select: string, option: string): Promise<void> {
  await page.locator(`${host} ${select}`).click();
  await page.locator(`${host} ${select}`).getByRole('option', { name: option, exact: true }).click();
}
