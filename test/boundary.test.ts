// The engine, CLI, shared code and webview must run outside VS Code: none of their files may
// import `vscode` (import, import type, export from, require, dynamic import).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const GUARDED = ['src/engine', 'src/cli', 'src/shared', 'webview-ui/src'];

const VSCODE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]vscode(?:\/[^'"]*)?['"]/;

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return /\.(m|c)?tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Lines of `file` that import vscode, as "file:line: text". */
function offenders(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => (VSCODE_IMPORT.test(line) ? [`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : []));
}

test('the pattern catches every way of importing vscode, and only those', () => {
  const hits = [
    "import * as vscode from 'vscode';",
    'import { window } from "vscode";',
    "import type { Uri } from 'vscode';",
    "import 'vscode';",
    "export { Uri } from 'vscode';",
    "const vscode = require('vscode');",
    "import vscode = require('vscode');",
    "const v = await import('vscode');",
    "import { x } from 'vscode/lib/thing';",
  ];
  for (const h of hits) assert.match(h, VSCODE_IMPORT, h);
  const misses = ["import { x } from 'vscode-languageclient';", "import { y } from './vscodeish';", '// the engine never imports `vscode`', "const s = 'vscode is an editor';"];
  for (const m of misses) assert.doesNotMatch(m, VSCODE_IMPORT, m);
});

test('no file under src/engine, src/cli, src/shared or webview-ui/src imports vscode', () => {
  const files = GUARDED.flatMap((d) => tsFiles(path.join(ROOT, d)));
  assert.ok(files.some((f) => f.includes(`${path.sep}engine${path.sep}`)), 'found no engine files: is the layout different?');
  assert.ok(files.length >= 20, `only ${files.length} files scanned`);
  const bad = files.flatMap(offenders);
  assert.deepEqual(bad, [], `these files import vscode:\n${bad.join('\n')}`);
});

test('the scan does see imports where they are allowed (src/extension)', { skip: !fs.existsSync(path.join(ROOT, 'src/extension')) && 'no src/extension' }, () => {
  const ext = tsFiles(path.join(ROOT, 'src/extension')).flatMap(offenders);
  assert.ok(ext.length > 0, 'src/extension should import vscode somewhere');
});

test('the model layer (src/engine/onnx, src/engine/runtime) does not reach into gradients or methods', () => {
  const layered = ['src/engine/onnx', 'src/engine/runtime'].flatMap((d) => tsFiles(path.join(ROOT, d)));
  assert.ok(layered.length >= 10, `only ${layered.length} files scanned`);
  const upward = /\bfrom\s*['"](?:\.\.\/)+(?:autodiff|methods|gradients|reducedGradients)(?:\/[^'"]*)?['"]/;
  const bad = layered.flatMap((f) =>
    fs.readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (upward.test(line) ? [`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.deepEqual(bad, [], `these files import from the layers above them:\n${bad.join('\n')}`);
});
