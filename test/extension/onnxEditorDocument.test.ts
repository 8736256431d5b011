// The .onnx editor's page (src/extension/editors/onnxEditorDocument.ts): the sample model's real
// inspection rendered under a strict CSP, names escaped, and only known messages accepted back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inspectModel, type ModelInspection } from '../../src/engine';
import { errorBody, inspectionBody, onnxEditorPage, restrictedBody } from '../../src/extension/editors/onnxEditorDocument';
import { isFromOnnxEditor } from '../../src/shared/onnxEditorProtocol';

const MODEL = join(__dirname, '..', '..', 'samples', 'shapes', 'model.onnx');
const CSP_SOURCE = 'https://*.vscode-cdn.net';
const page = (body: string) => onnxEditorPage({ cspSource: CSP_SOURCE, resourceUri: (rel) => `https://file.vscode-cdn.net/ext/${rel}`, lang: 'en', title: 'model.onnx', body });

/** Text of the page without tags, whitespace collapsed. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))).replace(/\s+/g, ' ');

test('the sample model: inputs, outputs, format, labels, preprocessing and its source, gradients, layers by module with one name each', async () => {
  const ins = await inspectModel(MODEL);
  const html = page(inspectionBody(MODEL, ins, { displayPath: 'model.onnx', active: false }));
  const t = text(html);
  assert.match(html, /<tr data-name="input"><td><code>input<\/code><\/td><td>\[1, 3, 64, 64\]<\/td><td>float32/);
  assert.match(html, /<tr data-name="logits"><td><code>logits<\/code><\/td><td>\[1, 4\]<\/td>/);
  assert.match(t, new RegExp(`IR ${ins.irVersion} · opset ${ins.opset} · attribution-lens/make-sample 1`));
  assert.match(t, /Labels 4 \(from labels\.txt\) ?: red, green, blue, yellow/);
  assert.match(t, /Preprocessing NCHW RGB 64×64 .* from model\.attrlens\.json/);
  assert.match(t, /Gradients supported/);
  assert.match(html, /<span class="count" data-testid="layer-count">8<\/span>/);
  // grouped by module: features holds five layers, named by their module path; the tensor name beside
  assert.match(html, /<details class="module" open data-module="features"><summary><span class="segment">features<\/span> <span class="muted">5 layers<\/span>/);
  assert.match(html, /<tr class="layer" data-name="\/features\/conv2\/Conv_output_0"><td class="display">features\.conv2<\/td><td>Conv \[1, 8, 32, 32\]<\/td><td class="tensor muted" title="tensor name"><code>\/features\/conv2\/Conv_output_0<\/code>/);
  assert.match(html, /<td class="display">classifier\.fc<\/td><td>Gemm \[1, 4\]<\/td>/);
  assert.match(html, /<td class="display">Flatten<\/td>/);
  // the actions: Set Active is offered until the model is active
  assert.match(html, /<button type="button" data-action="attribute" title="[^"]*">Attribute Prediction…<\/button>/);
  assert.match(html, /<button type="button" data-action="setActive" class="secondary" title="[^"]*">Set Active Model<\/button>/);
  const active = page(inspectionBody(MODEL, ins, { displayPath: 'model.onnx', active: true }));
  assert.match(active, /data-action="setActive" class="secondary" disabled[^>]*>Active Model</);
  assert.match(active, /<span class="badge" data-testid="active">active<\/span>/);
});

test('strict CSP: nothing but the nonce\'d bundle runs; no inline style or script', () => {
  const html = page(restrictedBody('This workspace is in Restricted Mode.'));
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  const p = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(p.get('default-src'), ["'none'"]);
  assert.deepEqual(p.get('style-src'), [CSP_SOURCE]);
  const nonce = /^'nonce-([A-Za-z0-9_-]{24,})'$/.exec(p.get('script-src')?.[0] ?? '')?.[1];
  assert.ok(nonce && p.get('script-src')!.length === 1, `script-src ${p.get('script-src')}`);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0][1], ` nonce="${nonce}" src="https://file.vscode-cdn.net/ext/dist/onnxEditor.js"`);
  assert.equal(scripts[0][2], '');
  assert.ok(!/\sstyle=|<style|\son\w+=/i.test(html), 'no inline style or handler');
  assert.match(html, /data-action="manageTrust"/);
  assert.ok(!/data-action="(attribute|setActive)"/.test(html), 'Restricted Mode offers no model action');
});

test('names from the model are escaped', () => {
  const ins: ModelInspection = {
    irVersion: 8, opset: 17, producer: '<img src=x onerror=alert(1)>', opCounts: { Relu: 1 }, batchable: true,
    inputs: [{ name: '"><script>alert(1)</script>', elemType: 1, dims: [1, 'batch', null] }], outputs: [{ name: 'y', elemType: 1, dims: [1] }],
    layers: [{ name: '/a<b>/Relu_output_0', module: 'a<b>', op: 'Relu', dims: [1, 2] }], gradients: { supported: false, unsupportedOps: ['Foo<x>'] },
  };
  const html = inspectionBody('/m/<evil>.onnx', ins, { displayPath: '<evil>.onnx', active: false });
  assert.ok(!/<script|<img|<b>|<x>|<evil>/.test(html), html);
  assert.match(text(html), /\[1, batch, \?\]/);
  assert.match(text(html), /not available \(no gradient rule for Foo<x>\); perturbation methods still work/);
  // no image input: the attribute action is there but off, and says why
  assert.match(html, /data-action="attribute" disabled title="This model takes no image/);
  assert.match(errorBody('/m/x.onnx', 'bad <proto>'), /bad &#60;proto&#62;/);
});

test('the host accepts only the editor\'s own messages', () => {
  for (const type of ['attribute', 'setActive', 'manageTrust', 'reload']) assert.ok(isFromOnnxEditor({ type }), type);
  for (const m of [null, 'attribute', [], {}, { type: 'run' }, { type: 'attribute', file: '/etc/passwd' }, { type: 1 }]) {
    assert.ok(!isFromOnnxEditor(m), JSON.stringify(m));
  }
});
