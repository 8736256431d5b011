// Issue 8, item 5: the panel's HTML runs under a strict Content-Security-Policy. The policy is
// parsed from the generated <meta> tag and every directive and tag is checked, not just searched for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PANEL_RESOURCE_DIRS, PANEL_WEBVIEW_OPTIONS, panelDocument } from '../../src/extension/panel/panelDocument';

// What VS Code passes: webview.cspSource and asWebviewUri's form of the extension's files.
const CSP_SOURCE = 'https://*.vscode-cdn.net';
const EXT = '/home/u/.vscode/extensions/attribution-lens.attribution-lens-0.1.0';
const resourceUri = (rel: string) => `https://file%2B.vscode-resource.vscode-cdn.net${EXT}/${rel}`;

function render(over: Partial<Parameters<typeof panelDocument>[0]> = {}): string {
  return panelDocument({ cspSource: CSP_SOURCE, resourceUri, hasStylesheet: true, lang: 'en', title: 'Attribution: red-circle.png', ...over });
}

interface Tag {
  name: string;
  attrs: Map<string, string>;
}

/** Start tags with their attributes (quoted, unquoted or bare), lower-cased names. */
function tags(html: string): Tag[] {
  const out: Tag[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const a of m[2].matchAll(/([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
      attrs.set(a[1].toLowerCase(), a[2] ?? a[3] ?? a[4] ?? '');
    }
    out.push({ name: m[1].toLowerCase(), attrs });
  }
  return out;
}

/** directive → its sources, from the one CSP <meta> of the page. */
function policy(html: string): Map<string, string[]> {
  const metas = tags(html).filter((t) => t.name === 'meta' && t.attrs.get('http-equiv')?.toLowerCase() === 'content-security-policy');
  assert.equal(metas.length, 1, 'exactly one CSP meta tag');
  const p = new Map<string, string[]>();
  for (const part of metas[0].attrs.get('content')!.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    assert.ok(!p.has(name), `directive ${name} given twice`);
    p.set(name, sources);
  }
  return p;
}

test("default-src 'none', and scripts only by a nonce of at least 128 random bits", () => {
  const html = render();
  const p = policy(html);
  assert.deepEqual(p.get('default-src'), ["'none'"]);
  const scriptSrc = p.get('script-src') ?? [];
  assert.equal(scriptSrc.length, 1, `script-src is ${scriptSrc.join(' ')}`);
  const nonce = /^'nonce-([A-Za-z0-9+/_-]+={0,2})'$/.exec(scriptSrc[0])?.[1];
  assert.ok(nonce, `script-src ${scriptSrc[0]} is not a nonce`);
  assert.ok(Buffer.from(nonce.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length * 8 >= 128, `nonce ${nonce} has fewer than 128 bits`);
  // nothing may widen scripts: no inline, eval, wildcards, hosts or schemes
  for (const [name, sources] of p) {
    for (const s of sources) {
      assert.ok(!["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", "'strict-dynamic'", '*'].includes(s), `${name} allows ${s}`);
    }
  }
});

test('a fresh nonce per render', () => {
  const nonces = new Set<string>();
  for (let i = 0; i < 50; i++) nonces.add(policy(render()).get('script-src')![0]);
  assert.equal(nonces.size, 50);
});

test('no remote sources: every origin is the webview resource origin, data: or blob:', () => {
  const p = policy(render());
  assert.deepEqual(p.get('style-src'), [CSP_SOURCE]);
  assert.deepEqual(p.get('font-src'), [CSP_SOURCE]);
  assert.deepEqual(p.get('img-src'), [CSP_SOURCE, 'data:', 'blob:']);
  for (const [name, sources] of p) {
    for (const s of sources) {
      if (/^(https?:|wss?:|ftp:)/i.test(s)) assert.equal(s, CSP_SOURCE, `${name} allows the remote source ${s}`);
      assert.ok(!/^(https?|wss?):?$/i.test(s), `${name} allows a whole scheme (${s})`);
    }
  }
  assert.ok(!p.has('connect-src') && !p.has('frame-src') && !p.has('child-src') && !p.has('worker-src'), 'no fetches, frames or workers');
});

test('every <script> carries the nonce and loads from dist; no inline handlers or javascript: URLs', () => {
  const html = render({ title: 'x" onload="alert(1)' });
  const nonce = /'nonce-([^']+)'/.exec(policy(html).get('script-src')![0])![1];
  const all = tags(html);
  const scripts = all.filter((t) => t.name === 'script');
  assert.equal(scripts.length, 1);
  for (const s of scripts) {
    assert.equal(s.attrs.get('nonce'), nonce);
    assert.equal(s.attrs.get('src'), resourceUri('dist/webview.js'));
  }
  // an inline script would be text between <script> and </script>
  for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) assert.equal(m[1].trim(), '', 'inline script text');
  for (const t of all) {
    for (const [name, value] of t.attrs) {
      assert.ok(!/^on/.test(name), `<${t.name}> has the inline handler ${name}`);
      assert.ok(!/^\s*javascript:/i.test(value), `<${t.name} ${name}> is a javascript: URL`);
    }
  }
  assert.ok(!/style\s*=/.test(html), 'no inline styles');
});

test('resources come from the extension only, and the webview may read only dist and media', () => {
  assert.deepEqual([...PANEL_WEBVIEW_OPTIONS.localResourceRoots], ['dist', 'media']);
  assert.equal(PANEL_RESOURCE_DIRS, PANEL_WEBVIEW_OPTIONS.localResourceRoots);
  assert.equal(PANEL_WEBVIEW_OPTIONS.enableCommandUris, false, 'no command: links');
  const html = render();
  const urls = tags(html).flatMap((t) => ['src', 'href'].map((a) => t.attrs.get(a)).filter((v): v is string => v !== undefined));
  assert.deepEqual(urls.sort(), [resourceUri('dist/webview.css'), resourceUri('dist/webview.js')]);
  for (const u of urls) {
    const rel = u.slice(resourceUri('').length);
    assert.ok(PANEL_RESOURCE_DIRS.some((d) => rel.startsWith(`${d}/`)), `${u} is outside the resource roots`);
  }
  // without a stylesheet, no <link> at all
  assert.equal(tags(render({ hasStylesheet: false })).filter((t) => t.name === 'link').length, 0);
});

test('text from outside (title, language) is escaped and cannot add tags', () => {
  const html = render({ title: '</title><script>alert(1)</script>', lang: 'en"><script>x</script>' });
  assert.equal(tags(html).filter((t) => t.name === 'script').length, 1);
  assert.ok(html.includes('&#60;/title&#62;&#60;script&#62;'));
});
