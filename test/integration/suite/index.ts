// Runs inside VS Code's extension host (loaded by @vscode/test-electron); no mocha needed:
// each case is an async function, failures are collected and reported together.
import assert from 'node:assert/strict';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttributionLensApi } from '../../../src/extension/extension';

const EXT_ID = 'attribution-lens.attribution-lens';

const cases: Array<[string, () => Promise<void>]> = [
  ['every command in package.json is registered after activation', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.ok(ext, `${EXT_ID} is not installed`);
    await ext.activate();
    const declared = (ext.packageJSON.contributes.commands as Array<{ command: string }>).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((c) => !registered.has(c)), []);
  }],
  ['Attribute Prediction on an image runs Integrated Gradients for the top class in the engine process', async () => {
    const ext = vscode.extensions.getExtension<AttributionLensApi>(EXT_ID)!;
    const api = await ext.activate();
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await vscode.workspace.getConfiguration('attributionLens').update('defaultMethod', 'integrated-gradients', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('attributionLens.attributeImage', vscode.Uri.file(path.join(folder, 'images', 'red-circle.png')));
    const run = api.runs()[0];
    assert.ok(run, 'no run recorded');
    assert.equal(run.results[0].method, 'integrated-gradients');
    assert.equal(run.target, 0);
    assert.equal(run.targetLabel, 'red');
    assert.deepEqual(run.results[0].map.dims, [1, 3, 64, 64]);
    assert.ok(run.results[0].map.max > 0);
  }],
];

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const [name, fn] of cases) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (e) {
      console.log(`not ok - ${name}\n  ${(e as Error).stack ?? e}`);
      failures.push(name);
    }
  }
  console.log(`${cases.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`${failures.length} integration case(s) failed: ${failures.join('; ')}`);
}
