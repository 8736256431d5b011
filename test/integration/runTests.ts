// `npm run test:integration`: runs test/integration/suite inside a VS Code that
// @vscode/test-electron downloads (needs internet to update.code.visualstudio.com, so it is not
// run on the build machines here; the code-server test in test/e2e/vscode covers the same ground).
import * as path from 'path';
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const outdir = path.join(root, '.cache', 'integration');
  await esbuild.build({
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'],
    entryPoints: { suite: path.join(__dirname, 'suite', 'index.ts') }, outdir, logLevel: 'warning',
  });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(outdir, 'suite.js'),
    launchArgs: [path.join(root, 'samples', 'shapes'), '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
