// Forged messages from the webview through the panel's gate (receiveFromWebview) with the
// engine's real method list: what the gate drops, what it refuses with a one-line answer, and
// that real messages reach the handler unchanged. Spies on `fs` show the gate itself touches no
// file. The real panel behind the gate is driven with forged messages in a real VS Code by
// test/e2e/vscode/forged.test.ts.
import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { listMethods } from '../../src/engine';
import { type GateContext, gateFromWebview, isInsideModelFolder, receiveFromWebview } from '../../src/extension/panel/webviewGate';
import { type FromWebview, type ToWebview, isFromWebview } from '../../src/shared/protocol';

const ctx: GateContext = { methods: listMethods(), classes: 4 };
// 1×1 RGBA PNG (a real one: signature, IHDR, IDAT, IEND)
const PNG_1x1 = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** what the gate let through to the panel's handler */
const passed: FromWebview[] = [];
const fsCalls: string[] = [];
const replies: ToWebview[] = [];
const logs: string[] = [];

before(() => {
  // every way the host could touch a file
  const sync = ['readFileSync', 'writeFileSync', 'openSync', 'statSync', 'lstatSync', 'existsSync', 'readdirSync', 'realpathSync', 'createReadStream', 'createWriteStream', 'copyFileSync', 'symlinkSync'] as const;
  for (const name of sync) mock.method(fs, name, (...a: unknown[]) => void fsCalls.push(`${name} ${String(a[0])}`));
  for (const name of ['readFile', 'writeFile', 'open', 'stat', 'readdir', 'copyFile'] as const) {
    mock.method(fs.promises, name, async (...a: unknown[]) => void fsCalls.push(`promises.${name} ${String(a[0])}`));
  }
});
after(() => mock.restoreAll());

async function handle(msg: FromWebview): Promise<void> {
  passed.push(msg);
}

async function send(raw: unknown): Promise<boolean> {
  return receiveFromWebview(raw, async () => ctx, { handle, reply: (m) => replies.push(m), log: (l) => logs.push(l) });
}

function reset(): void {
  passed.length = 0;
  fsCalls.length = 0;
  replies.length = 0;
  logs.length = 0;
}

const run = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) =>
  ({ type: 'runAttribution', requestId: 'r1', method: 'integrated-gradients', target: 0, params, ...over });

// Malformed: the shared protocol's check drops them, with a log line and no answer.
const malformed: Array<[string, unknown]> = [
  ['unknown type', { type: 'readFile', path: '/etc/passwd' }],
  ['unknown type like a command', { type: 'executeCommand', command: 'workbench.action.terminal.new' }],
  ['extra key', { ...run(), extra: 1 }],
  ['a path field', { ...run(), path: '/etc/passwd' }],
  ['a file field', { ...run(), file: '../../secret.onnx' }],
  ['a uri field', { ...run(), uri: 'file:///etc/shadow' }],
  ['a model field', { ...run(), model: '/tmp/evil.onnx' }],
  ["a method id with '../'", run({ method: '../../tmp/evil' })],
  ['a method id with a slash', run({ method: 'saliency/../x' })],
  ['target 1e12', run({ target: 1e12 })],
  ['target -1', run({ target: -1 })],
  ['target NaN', run({ target: NaN })],
  ['target Infinity', run({ target: Infinity })],
  ['target as text', run({ target: '0' })],
  ['retarget 1e12', { type: 'retarget', requestId: 'r', target: 1e12 }],
  ['compare with target NaN', { type: 'compare', requestId: 'c', methods: ['saliency'], target: NaN, sharedScale: true }],
  ['__proto__ key in params', run({}, JSON.parse('{"__proto__": {"polluted": true}}'))],
  ['__proto__ key on the message', JSON.parse('{"type": "ready", "__proto__": {"polluted": true}}')],
  ['constructor key in params', run({}, { constructor: 1 })],
  ['a huge string parameter', run({}, { baselines: 'x'.repeat(1_000_000) })],
  ['a huge request id', run({ requestId: 'r'.repeat(100_000) })],
  ['a huge PNG data URL', { type: 'export', requestId: 'e', format: 'png', pngDataUrl: `data:image/png;base64,${'A'.repeat(64 * 1024 * 1024 + 4)}` }],
  ['export with an SVG data URL', { type: 'export', requestId: 'e', format: 'png', pngDataUrl: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' }],
  ['export with an HTML data URL', { type: 'export', requestId: 'e', format: 'png', pngDataUrl: 'data:text/html,<script>alert(1)</script>' }],
  ['export with a file URL', { type: 'export', requestId: 'e', format: 'png', pngDataUrl: 'file:///etc/passwd' }],
  ['export with a target file', { type: 'export', requestId: 'e', format: 'json', file: '/etc/cron.d/x' }],
  ['a class instance', new (class { type = 'ready'; })()],
  ['an array', [{ type: 'ready' }]],
  ['null', null],
];

// Well-formed but wrong for this engine and model: refused with a one-line answer.
const refused: Array<[string, unknown, RegExp]> = [
  ['an unknown method', run({ method: 'read-file' }), /unknown method 'read-file'/],
  ['an unknown method in a compare', { type: 'compare', requestId: 'c1', methods: ['saliency', 'shell'], target: 0, sharedScale: true }, /unknown method 'shell'/],
  ['an unknown method picked', { type: 'changeMethod', method: 'exec' }, /unknown method 'exec'/],
  ['target beyond the outputs', run({ target: 4 }), /target 4 is out of range: the model has 4 outputs/],
  ['retarget beyond the outputs', { type: 'retarget', requestId: 'r2', target: 1000 }, /target 1000 is out of range/],
  ['an absolute .npy baseline', run({}, { baselines: '/etc/secret.npy' }), /'\/etc\/secret\.npy' is outside the model's folder/],
  ['a .npy baseline above the model', run({}, { baselines: '../../home/u/.ssh/id.npy' }), /outside the model's folder/],
  ['a .npy baseline through a subfolder', run({}, { baselines: 'sub/../../x.npy' }), /outside the model's folder/],
  ['a Windows path baseline', run({}, { baselines: 'C:\\Users\\u\\x.npy' }), /outside the model's folder/],
  ['a home-relative baseline', run({}, { baselines: '~/x.npy' }), /outside the model's folder/],
  ['a file URI baseline', run({}, { baselines: 'file:///etc/x.npy' }), /outside the model's folder/],
  ['a path in a tensor parameter', run({ method: 'feature-ablation' }, { featureMask: '/etc/mask.npy' }), /outside the model's folder/],
  ['a path hidden in JSON parameters', run({ method: 'noise-tunnel' }, { baseParams: '{"baselines": {"x": ["/etc/x.npy"]}}' }), /'\/etc\/x\.npy' is outside/],
  ['a path in compare parameters', { type: 'compare', requestId: 'c2', methods: ['saliency', 'integrated-gradients'], target: 0, sharedScale: true, params: { 'integrated-gradients': { baselines: '/x.npy' } } }, /outside the model's folder/],
  ['a path kept for later runs', { type: 'changeMethod', method: 'occlusion', params: { baselines: '../x.npy' } }, /outside the model's folder/],
  ['a parameter the method does not have', run({ method: 'saliency' }, { inputFile: 'x' }), /Saliency has no parameter 'inputFile'/],
  ['a PNG data URL that is not a PNG', { type: 'export', requestId: 'e2', format: 'png', pngDataUrl: 'data:image/png;base64,R0lGODlhAQABAAAAACw=' }, /not a PNG image/],
];

test('malformed messages are dropped before the panel sees them', async () => {
  for (const [what, raw] of malformed) {
    reset();
    assert.equal(isFromWebview(raw), false, `${what}: passes the protocol check`);
    assert.equal(await send(raw), false, what);
    assert.deepEqual(passed, [], `${what}: reached the panel`);
    assert.deepEqual(fsCalls, [], `${what}: touched the file system`);
    assert.deepEqual(replies, [], `${what}: answered`);
    assert.equal(logs.length, 1, `${what}: logged once`);
    assert.ok(logs[0].length < 300 && !logs[0].includes('\n'), `${what}: log line ${logs[0].length} characters`);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

test('well-formed but forged messages are refused with a one-line error for their request', async () => {
  for (const [what, raw, expected] of refused) {
    reset();
    assert.equal(isFromWebview(raw), true, `${what}: the protocol check alone would let it through`);
    assert.equal(await send(raw), false, what);
    assert.deepEqual(passed, [], `${what}: reached the panel`);
    assert.deepEqual(fsCalls, [], `${what}: touched the file system`);
    assert.equal(replies.length, 1, `${what}: one answer`);
    const r = replies[0];
    const message = r.type === 'error' || r.type === 'exportDone' ? r.message : '';
    assert.match(message, expected, what);
    assert.ok(!message.includes('\n') && message.length < 300, `${what}: "${message}" is not one line`);
    const m = raw as { type: string; requestId?: string };
    if (m.type === 'export') assert.deepEqual(r, { type: 'exportDone', requestId: m.requestId, ok: false, message });
    else assert.deepEqual(r, { type: 'error', requestId: m.requestId, message });
  }
});

test('real messages pass to the panel unchanged, without the gate touching a file', async () => {
  reset();
  const real: FromWebview[] = [
    run({ method: 'occlusion', target: 3 }, { slidingWindowShapes: [3, 8, 8], baselines: 'baselines/zero.npy' }) as FromWebview,
    { type: 'retarget', requestId: 'r3', target: 2 },
    { type: 'compare', requestId: 'c3', methods: ['saliency', 'gradcam'], target: 1, sharedScale: true, params: { gradcam: { layer: '/features/conv2/Conv_output_0' } } },
    { type: 'changeMethod', method: 'noise-tunnel', params: { baseParams: '{"baselines": "zero.npy"}' } },
    { type: 'export', requestId: 'e3', format: 'png', pngDataUrl: PNG_1x1 },
  ];
  for (const m of real) assert.equal(await send(m), true, m.type);
  assert.deepEqual(replies, []);
  assert.deepEqual(passed, real);
  assert.deepEqual(fsCalls, []);
});

test('.npy names: plain relative names below the model folder only', () => {
  for (const ok of ['zero.npy', 'baselines/zero.npy', 'a..b.npy', './x.npy']) assert.equal(isInsideModelFolder(ok), true, ok);
  for (const bad of ['', '/x.npy', '..', '../x.npy', 'a/../../x.npy', 'a\\..\\..\\x.npy', 'C:x.npy', '\\\\server\\share\\x.npy', '~/x.npy', 'x\0.npy', 'file:x.npy']) {
    assert.equal(isInsideModelFolder(bad), false, bad);
  }
});

test('without a known output count, targets are left to the engine', () => {
  const v = gateFromWebview(run({ target: 999 }), { methods: ctx.methods });
  assert.equal(v.ok, true);
});
