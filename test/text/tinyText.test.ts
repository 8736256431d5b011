// The conformance model tiny_text (one int64 input `input` [1, 12], no tokenizer) through the
// text path: token scores must equal Captum's reference attributions summed over the embedding.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readNpy } from '../../src/engine/inputs/npy';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attributeText, attributeTokens, findWordEmbedding, requireTextInputs } from '../../src/engine/text';
import { CONF, confAbsent } from '../onnx/helpers';

describe('tiny_text conformance model through attributeTokens', { skip: confAbsent }, async () => {
  const lm = confAbsent ? undefined! : await LoadedModel.open(path.join(CONF, 'models', 'tiny_text.onnx'));
  const ids = confAbsent ? [] : Array.from(readNpy(path.join(CONF, 'tensors', 'tiny_text.input.npy')).data as BigInt64Array, Number);
  const seq = () => ({ ids, tokens: ids.map(String), special: ids.map(() => false), wordOf: ids.map((_, i) => i), padId: 0 });

  it('takes the only integer input for the token ids and finds /embedding/Gather', () => {
    const ti = requireTextInputs(lm);
    assert.equal(ti.ids.name, 'input');
    assert.equal(ti.seqLen, 12);
    assert.equal(findWordEmbedding(lm, ti).layer, '/embedding/Gather_output_0');
  });

  it("layer-integrated-gradients per token = Captum's (1, 12, 16) reference summed over the embedding", async () => {
    const r = await attributeTokens(lm, seq(), { target: 0, params: { nSteps: 32 } });
    const e = readNpy(path.join(CONF, 'tensors', 'tiny_text.layer-integrated-gradients.npy'));
    assert.deepEqual(e.dims, [1, 12, 16]);
    const ed = e.data as Float32Array;
    const sums = Array.from({ length: 12 }, (_, t) => ed.subarray(t * 16, (t + 1) * 16).reduce((a, v) => a + v, 0));
    const max = Math.max(...sums.map(Math.abs));
    for (let t = 0; t < 12; t++) assert.ok(Math.abs(r.tokens[t].score - sums[t]) <= 1e-3 * max, `token ${t}: ${r.tokens[t].score} vs ${sums[t]}`);
    assert.ok(Math.abs(r.delta!) < 1e-4);
  });

  it("occlusion per token = Captum's reference", async () => {
    const r = await attributeTokens(lm, seq(), { method: 'occlusion', target: 0 });
    const e = readNpy(path.join(CONF, 'tensors', 'tiny_text.occlusion.npy')).data as Float32Array;
    const max = Math.max(...Array.from(e, Math.abs));
    for (let t = 0; t < 12; t++) assert.ok(Math.abs(r.tokens[t].score - e[t]) <= 1e-3 * max, `token ${t}`);
  });

  it('attributeText says which tokenizer files it looked for', async () => {
    await assert.rejects(attributeText(lm, 'hello'), (e: Error) => e.name === 'AttrLensError' && /no tokenizer for tiny_text\.onnx: looked for tokenizer\.json and vocab\.txt in .*conformance/.test(e.message));
  });
});
