import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { attributeTextCommand, scoreBar } from '../../src/cli/text';

const SAMPLE = path.join(__dirname, '..', '..', 'samples', 'text', 'model.onnx');
const SHAPES = path.join(__dirname, '..', '..', 'samples', 'shapes', 'model.onnx');

async function run(opts: Omit<Parameters<typeof attributeTextCommand>[0], 'model'> & { model?: string }) {
  const out: string[] = [];
  const res = await attributeTextCommand({ model: SAMPLE, ...opts }, (s) => out.push(s), new AbortController().signal);
  return { res, text: out.join('\n') };
}

describe('attrlens attribute --text', () => {
  it('draws bars: 20 marks for the largest score, proportionally fewer, minus signs left of the axis', () => {
    assert.equal(scoreBar(2, 2), `${' '.repeat(20)}|${'+'.repeat(20)}`);
    assert.equal(scoreBar(-0.5, 2), `${' '.repeat(15)}-----|`);
    assert.equal(scoreBar(0, 2), `${' '.repeat(20)}|`);
  });

  it('prints one line per token with its score and bar, then the sentence score and delta', async () => {
    const { res, text } = await run({ text: 'The plot was terrible.', target: 'positive' });
    const lines = text.split('\n');
    const row = (tok: string) => lines.find((l) => new RegExp(`^\\s+\\d+  ${tok.replace('.', '\\.')}\\s`).test(l))!;
    assert.match(row('terrible'), /-\d\.\d{4}\s+-{20}\|$/);
    assert.match(row('\\[CLS\\]'), /\+0\.0000\s+\|$/);
    const terrible = res.tokens.find((t) => t.text === 'terrible')!;
    assert.ok(row('terrible').includes(terrible.score.toFixed(4)));
    assert.equal(lines.filter((l) => /^\s+\d+  /.test(l)).length, res.tokens.length);
    assert.match(text, /layer-integrated-gradients for target 1 \(positive\) at \/embeddings\/word_embeddings\/Gather_output_0; baseline token \[PAD\]/);
    assert.match(lines[lines.length - 1], /^sentence score -\d\.\d{4}; convergence delta -?\d\.\d+e[-+]\d+$/);
  });

  it('--json carries tokens and words with scores, predictions, target and delta', async () => {
    const { res, text } = await run({ text: 'We loved the ending of the show.', json: true, target: '1' });
    const j = JSON.parse(text) as typeof res & { model: string };
    assert.equal(j.model, SAMPLE);
    assert.equal(j.target, 1);
    assert.equal(j.targetLabel, 'positive');
    assert.equal(j.predictions[0].label, 'positive');
    assert.equal(typeof j.delta, 'number');
    assert.deepEqual(j.tokens.map((t) => t.text), ['[CLS]', 'we', 'love', '##d', 'the', 'ending', 'of', 'the', 'show', '.', '[SEP]']);
    assert.deepEqual(j.tokens.map((t) => t.score), res.tokens.map((t) => t.score));
    const loved = j.words.find((w) => w.text === 'loved')!;
    assert.deepEqual(loved.tokenIndices, [2, 3]);
    assert.ok(Math.abs(loved.score - (j.tokens[2].score + j.tokens[3].score)) < 1e-12);
  });

  it('--granularity word prints words', async () => {
    const { text } = await run({ text: 'We loved the show.', method: 'feature-ablation', granularity: 'word' });
    assert.match(text, /^\s+1  loved\s+\+\d\.\d{4}\s+\|\+{20}$/m);
    assert.doesNotMatch(text, /##d/);
  });

  it('fails with one-line errors for an image model, a missing label and an empty text', async () => {
    await assert.rejects(run({ model: SHAPES, text: 'great' }), /model\.onnx is not a text model: it needs an integer token-id input/);
    await assert.rejects(run({ text: 'great', target: 'neutral' }), /target 'neutral' is not a label of model\.onnx/);
    await assert.rejects(run({ text: ' ' }), /--text is empty/);
  });
});
