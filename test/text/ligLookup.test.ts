// LIG reads an embedding layer's values from its table instead of running the model: the rows
// must equal the forward pass's, and LIG's result must equal the one through forward passes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { lookupRows } from '../../src/engine/methods/layerIntegratedGradients';
import { attributeText, findWordEmbedding, fitLength, requireTextInputs, textFeeds, tokenizerFor } from '../../src/engine/text';
import { writeBertSample } from '../../scripts/make-text-sample';

const SAMPLE = path.join(__dirname, '..', '..', 'samples', 'text', 'model.onnx');

async function smallBert(): Promise<LoadedModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-lig-'));
  const file = writeBertSample({ layers: 2, hidden: 32, heads: 4, intermediate: 64, seq: 16, vocab: 300, seed: 3 }, dir);
  return LoadedModel.open(file);
}

describe('LIG embedding rows from the table', () => {
  for (const [name, open] of [['tiny sample', () => LoadedModel.open(SAMPLE)], ['BERT-shaped', smallBert]] as const) {
    it(`equal the forward pass's layer values (${name})`, async () => {
      const lm = await open();
      const ti = requireTextInputs(lm);
      const layer = findWordEmbedding(lm, ti).layer;
      const fit = fitLength(tokenizerFor(lm).encode('The food was wonderful and the room was big.'), ti.seqLen, 0);
      const feeds = textFeeds(ti, fit.ids, fit.real);
      const want = (await lm.intermediates(feeds, [layer]))[layer];
      const got = lookupRows(lm.model, layer, want.dims)!(feeds)!;
      assert.deepEqual(Array.from(got), Array.from(want.data as Float32Array));
      // an id outside the table: no rows (LIG falls back to the forward pass)
      const bad = textFeeds(ti, fit.ids.map(() => 100000), fit.real);
      assert.equal(lookupRows(lm.model, layer, want.dims)!(bad), undefined);
      // a layer that is not a lookup
      const other = lm.model.graph.node.find((n) => n.opType === 'LayerNormalization')!.output[0];
      assert.equal(lookupRows(lm.model, other, want.dims), undefined);
    });
  }

  it('LIG gives the same map as through forward passes', async () => {
    const lm = await smallBert();
    const text = 'I love this book.';
    const fast = await attributeText(lm, text);
    // the same model object without the table in its graph: lookupRows finds none, LIG runs the model
    const emb = findWordEmbedding(lm, requireTextInputs(lm));
    const model = lm.model.clone();
    model.graph.initializer = model.graph.initializer.filter((t) => t.name !== emb.table);
    const slow = Object.create(lm, { model: { value: model } }) as LoadedModel;
    assert.equal(lookupRows(slow.model, emb.layer, [1, 16, 32]), undefined);
    const viaForward = await attributeText(slow, text, { params: { layer: emb.layer } });
    assert.deepEqual(viaForward.tokens.map((t) => t.score), fast.tokens.map((t) => t.score));
    assert.equal(viaForward.delta, fast.delta);
    assert.ok(Math.abs(fast.delta!) < 1e-3, `delta ${fast.delta}`);
  });
});
