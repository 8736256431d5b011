// Builds the .vsix for one platform: bundles in production mode, stages the repository into
// .cache/vsix/<target>, copies the native modules (onnxruntime-node, sharp) for that target
// only into dist/node_modules there, then runs `vsce package --no-dependencies`.
// Usage: node scripts/package-vsix.mjs [--target linux-x64] [--out file.vsix] [--skip-build]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const target = arg('--target') ?? `${process.platform}-${process.arch}`;

// vsce target → how onnxruntime-node and sharp name the platform
const TARGETS = {
  'linux-x64': { ort: 'linux/x64', sharp: 'linux-x64' },
  'linux-arm64': { ort: 'linux/arm64', sharp: 'linux-arm64' },
  'darwin-arm64': { ort: 'darwin/arm64', sharp: 'darwin-arm64' },
  'win32-x64': { ort: 'win32/x64', sharp: 'win32-x64' },
  'win32-arm64': { ort: 'win32/arm64', sharp: 'win32-arm64' },
};
const plat = TARGETS[target];
if (!plat) {
  console.error(`package-vsix: no native builds for target '${target}' (onnxruntime-node ships ${Object.keys(TARGETS).join(', ')}); pass --target with one of these`);
  process.exit(1);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(arg('--out') ?? join(root, `${pkg.name}-${pkg.version}-${target}.vsix`));
const stage = join(root, '.cache', 'vsix', target);

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package-vsix: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

// 1. Production bundles.
if (!process.argv.includes('--skip-build')) run(process.execPath, ['scripts/build.mjs', '--production']);
for (const f of ['extension.js', 'engine.js', 'webview.js', 'onnxEditor.js']) {
  if (!existsSync(join(root, 'dist', f))) {
    console.error(`package-vsix: dist/${f} is missing after the build; check scripts/build.mjs`);
    process.exit(1);
  }
}

// 2. Stage the repository without what is never packaged (.vscodeignore filters the rest).
const SKIP = new Set(['node_modules', '.git', '.e2e', '.cache', 'out', 'scratch']);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const name of readdirSync(root)) {
  if (SKIP.has(name) || name.endsWith('.vsix')) continue;
  cpSync(join(root, name), join(stage, name), { recursive: true });
}
// Built already: vsce must not run the build again inside the stage.
const staged = { ...pkg, scripts: { ...pkg.scripts } };
delete staged.scripts['vscode:prepublish'];
writeFileSync(join(stage, 'package.json'), JSON.stringify(staged, null, 2) + '\n');

// 3. Native modules and their runtime dependencies, for this target only.
const nm = join(root, 'node_modules');
const dest = join(stage, 'dist', 'node_modules');
const version = (name) => JSON.parse(readFileSync(join(nm, name, 'package.json'), 'utf8')).version;
function copyModule(name, keep) {
  const from = join(nm, name);
  if (!existsSync(from)) {
    const v = name.startsWith('@img/sharp-libvips') ? version('sharp') && JSON.parse(readFileSync(join(nm, 'sharp', 'package.json'), 'utf8')).optionalDependencies[name] : version('sharp');
    console.error(`package-vsix: ${name} is not installed; for target ${target} run: npm install --no-save --force ${name}@${v}`);
    process.exit(1);
  }
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      const rel = relative(from, p).replace(/\\/g, '/');
      if (statSync(p).isDirectory()) walk(p);
      else if (keep(rel)) cpSync(p, join(dest, name, rel));
    }
  };
  walk(from);
}
const meta = (rel) => rel === 'package.json' || /^(LICENSE|NOTICE|ThirdPartyNotices)/i.test(rel);
copyModule('onnxruntime-node', (rel) => meta(rel) || /^dist\/[^/]+\.js$/.test(rel) || rel.startsWith(`bin/napi-v6/${plat.ort}/`));
copyModule('onnxruntime-common', (rel) => meta(rel) || (rel.startsWith('dist/cjs/') && !rel.endsWith('.map') && !rel.endsWith('.d.ts')));
copyModule('sharp', (rel) => meta(rel) || /^dist\/[^/]+\.cjs$/.test(rel));
copyModule(`@img/sharp-${plat.sharp}`, () => true);
if (!plat.sharp.startsWith('win32')) copyModule(`@img/sharp-libvips-${plat.sharp}`, () => true);
copyModule('@img/colour', (rel) => !rel.endsWith('.map'));
copyModule('detect-libc', (rel) => meta(rel) || rel.startsWith('lib/'));
copyModule('semver', (rel) => meta(rel) || /^(index\.js|preload\.js|range\.bnf|classes|functions|internal|ranges)(\/|$)/.test(rel));

// 4. Package.
const vsce = join(nm, '@vscode', 'vsce', 'vsce');
const args = ['package', '--no-dependencies', '--allow-missing-repository', '--target', target, '--out', out];
// No repository to point relative README images at (docs/ is not packaged): keep them as they are.
if (!pkg.repository) args.push('--no-rewrite-relative-links');
if (!existsSync(join(stage, 'LICENSE')) && !existsSync(join(stage, 'LICENSE.md')) && !existsSync(join(stage, 'LICENSE.txt'))) args.push('--skip-license');
run(process.execPath, [vsce, ...args], stage);
const mb = (statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`package-vsix: ${relative(process.cwd(), out)} (${mb} MB, target ${target})`);
