// The preprocessing editor's host side with the real engine process and onnxruntime: a preview
// predicts exactly what the engine predicts with that config, newer edits drop older previews,
// refusals name the key, and Save writes exactly the keys given beside the model — and nowhere else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInputs, openModel, predict } from '../../src/engine';
import { EngineClient } from '../../src/extension/engine/engineClient';
import { PreprocessSession, preprocessInfo, preprocessJson, type PreviewTarget } from '../../src/extension/panel/preprocessSession';
import { gateFromWebview } from '../../src/extension/panel/webviewGate';
import { isFromWebview, type Prediction } from '../../src/shared/protocol';
import { ROOT, bundleEngine } from './engineBundle';

const SAMPLE = join(ROOT, 'samples', 'shapes');
const IMAGE = join(SAMPLE, 'images', 'red-circle.png');
let client: EngineClient;
let tmp: string;
let model: string;

before(async () => {
  client = new EngineClient(await bundleEngine('test-preprocess'), () => undefined);
  tmp = mkdtempSync(join(tmpdir(), 'attrlens-prep-'));
  mkdirSync(join(tmp, 'models'));
  model = join(tmp, 'models', 'model.onnx');
  copyFileSync(join(SAMPLE, 'model.onnx'), model);
  copyFileSync(join(SAMPLE, 'labels.txt'), join(tmp, 'models', 'labels.txt'));
});
after(() => {
  client?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const target = (): PreviewTarget => ({ model: { file: model, runtime: { threads: 1, executionProvider: 'cpu' } }, imageFile: IMAGE, settings: {} });
const configFile = () => join(tmp, 'models', 'model.attrlens.json');

/** The in-process engine's top 5 for the image under a preprocessing config. */
async function direct(preprocess: Record<string, unknown>): Promise<Prediction[]> {
  const lm = await openModel(model, { threads: 1 });
  const { feeds } = await loadInputs(lm, IMAGE, { preprocess });
  return predict(lm, feeds);
}

function samePredictions(a: Prediction[], b: Prediction[]): void {
  assert.deepEqual(a.map((p) => [p.index, p.label]), b.map((p) => [p.index, p.label]));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i].probability - b[i].probability) < 1e-6 && Math.abs(a[i].logit - b[i].logit) < 1e-5, `prediction ${i}: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}`);
}

test('a preview with edited mean/std predicts what the engine predicts with that config, and differs from the unedited one', async () => {
  const session = new PreprocessSession(client);
  const edited = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
  const out = await session.preview('prep-1', target(), edited);
  assert.ok(out?.ok, JSON.stringify(out?.reply));
  const reply = out.reply;
  assert.equal(reply.type, 'preprocessPreview');
  samePredictions(out.predictions, await direct(edited));
  // the edits matter: the sample's own preprocessing (mean 0, std 1) gives other numbers
  const plain = await direct({});
  assert.ok(Math.abs(plain[0].logit - out.predictions[0].logit) > 1e-3 || plain[0].index !== out.predictions[0].index, 'the edited config changed nothing');
  assert.deepEqual(reply.config.mean, [0.5, 0.5, 0.5]);
  assert.deepEqual(reply.config.size, [64, 64]);
  assert.equal(reply.image?.encoding, 'rgba8-base64');
  assert.deepEqual([reply.image?.width, reply.image?.height], [64, 64]);
  // runs use the edits until a reset
  assert.equal(session.edited, true);
  assert.deepEqual(session.overrides({ scale: 1 / 255 }), { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
  session.reset();
  assert.deepEqual(session.overrides({}), {});
});

test('a newer preview drops the older one: only the newest request is answered', async () => {
  const session = new PreprocessSession(client);
  const first = session.preview('prep-a', target(), { mean: [0.1, 0.1, 0.1] });
  const second = session.preview('prep-b', target(), { mean: [0.9, 0.9, 0.9] });
  assert.equal(await first, undefined);
  const out = await second;
  assert.ok(out?.ok);
  assert.equal(out.reply.requestId, 'prep-b');
  samePredictions(out.predictions, await direct({ mean: [0.9, 0.9, 0.9] }));
});

test('refusals are one line about one key: the engine\'s validatePreprocess, then what the model needs', async () => {
  const session = new PreprocessSession(client);
  const zero = await session.preview('prep-z', target(), { std: [0, 1, 1] });
  assert.ok(zero && !zero.ok);
  assert.equal(zero.reply.key, 'std');
  assert.match(zero.reply.message, /^"std" must not contain 0/);
  // the model's input is fixed at 64×64: the engine (in its process) says so
  const size = await session.preview('prep-s', target(), { size: [32, 48] });
  assert.ok(size && !size.ok);
  assert.equal(size.reply.key, 'size');
  assert.match(size.reply.message, /"size".*\[32,48\].*needs height 64 and width 64/);
  assert.doesNotMatch(size.reply.message, /\n/);
  const unknown = await session.preview('prep-u', target(), { channels: 'CMYK' } as never);
  assert.ok(unknown && !unknown.ok);
  assert.equal(unknown.reply.key, 'channels');
  assert.equal(session.edited, false, 'refused edits are not used by runs');
});

test('Save writes exactly the keys given, beside the model, and the engine then predicts with them', async () => {
  const session = new PreprocessSession(client);
  const values = { size: [64, 64] as [number, number], mean: [0.5, 0.5, 0.5], scale: 1 / 255 };
  const r = await session.save('save-1', target(), values, { multiInput: false });
  assert.equal(r.reply.ok, true, r.reply.message);
  assert.equal(r.reply.message, 'Saved model.attrlens.json');
  assert.equal(r.file, configFile());
  assert.equal(readFileSync(configFile(), 'utf8'), '{\n  "size": [64, 64],\n  "scale": 0.00392156862745098,\n  "mean": [0.5, 0.5, 0.5]\n}\n');
  samePredictions(await direct({}), await direct({ mean: [0.5, 0.5, 0.5] }));
  const info = preprocessInfo(model, { layout: 'NCHW', size: [64, 64], resize: 'stretch', channels: 'RGB', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [1, 1, 1], input: 'input' }, 1);
  assert.deepEqual(info?.saved, { size: [64, 64], scale: 1 / 255, mean: [0.5, 0.5, 0.5] });
  assert.equal(info?.file, 'model.attrlens.json');
  assert.equal(info?.guessed, false);

  // from a discovered source, the editor starts from all its keys: the file replaces that source
  rmSync(configFile());
  const hf = { layout: 'NCHW', size: [224, 224], resize: 'cover', cropPct: 0.875, channels: 'RGB', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], input: 'pixel_values' };
  const discovered = preprocessInfo(model, { ...hf, source: 'preprocessor_config.json (ViTImageProcessor)' } as never, 1);
  assert.equal(discovered?.source, 'preprocessor_config.json (ViTImageProcessor)');
  assert.equal(discovered?.guessed, false);
  assert.deepEqual(discovered?.saved, { layout: 'NCHW', size: [224, 224], resize: 'cover', cropPct: 0.875, channels: 'RGB', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  const guessed = preprocessInfo(model, { ...hf, source: 'guessed' } as never, 1);
  assert.deepEqual([guessed?.guessed, guessed?.saved], [true, {}], 'a guess sets no keys: Save writes only what the user set');

  // a multi-input model's file names the image input
  assert.equal(preprocessJson({ input: 'pixels', mean: [0.5] }), '{\n  "input": "pixels",\n  "mean": [0.5]\n}\n');
  const multi = await session.save('save-2', target(), { std: [0.5, 0.5, 0.5] }, { multiInput: true });
  assert.equal(multi.reply.ok, true, multi.reply.message);
  assert.equal(readFileSync(configFile(), 'utf8'), '{\n  "input": "input",\n  "std": [0.5, 0.5, 0.5]\n}\n');
});

test('Save refuses what the engine refuses, and never writes through a link out of the model\'s folder', async () => {
  const session = new PreprocessSession(client);
  writeFileSync(configFile(), '{"mean": [0, 0, 0]}\n');
  const bad = await session.save('save-bad', target(), { size: [10, 10] }, { multiInput: false });
  assert.equal(bad.reply.ok, false);
  assert.match(bad.reply.message, /^Not saved: "size"/);
  assert.equal(bad.invalid?.key, 'size');
  assert.equal(readFileSync(configFile(), 'utf8'), '{"mean": [0, 0, 0]}\n', 'a refused config leaves the file alone');

  // model.attrlens.json as a link to a file elsewhere: refused, the other file untouched
  const outside = join(tmp, 'outside.json');
  writeFileSync(outside, '{"mean": [0.2, 0.2, 0.2]}\n');
  rmSync(configFile());
  symlinkSync(outside, configFile());
  const linked = await session.save('save-link', target(), { mean: [0.5, 0.5, 0.5] }, { multiInput: false });
  assert.equal(linked.reply.ok, false);
  assert.match(linked.reply.message, /is a link.*replace it with a plain file/);
  assert.equal(readFileSync(outside, 'utf8'), '{"mean": [0.2, 0.2, 0.2]}\n');
  assert.ok(lstatSync(configFile()).isSymbolicLink());
  rmSync(configFile());
});

test('the gate: the editor\'s messages carry values, never paths; malformed ones are dropped', () => {
  const ctx = { methods: [], classes: 4 };
  const ok = { type: 'savePreprocess', requestId: 'save-1', config: { size: [64, 64], mean: [0.5], resize: 'height' } };
  assert.equal(gateFromWebview(ok, ctx).ok, true);
  for (const forged of [
    { ...ok, file: '/etc/passwd' },
    { ...ok, config: { ...ok.config, path: '../../x.json' } },
    { ...ok, config: { size: [64, Number.NaN] } },
    { ...ok, config: { mean: [1, 2, 3, 4, 5] } },
    { ...ok, config: { layout: 'N\0CHW' } },
    { type: 'previewPreprocess', requestId: 'x y', config: {} },
    { type: 'previewPreprocess', requestId: 'p', config: [] },
  ]) {
    assert.equal(isFromWebview(forged), false, JSON.stringify(forged));
    assert.equal(gateFromWebview(forged, ctx).ok, false);
  }
  assert.equal(existsSync('/etc/passwd.attrlens.json'), false);
});
