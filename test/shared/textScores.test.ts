// Text attributions for display and export, on a hand-made result ("[CLS] we love ##d it [SEP]").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextAttributionPayload } from '../../src/shared/protocol';
import { maxAbsScore, shade, textCsv, textJson, textPieces } from '../../src/shared/textScores';

const result: TextAttributionPayload = {
  text: 'We loved it',
  method: 'layer-integrated-gradients',
  target: 1,
  targetLabel: 'positive',
  predictions: [{ index: 1, label: 'positive', probability: 0.9, logit: 1.1 }, { index: 0, label: 'negative', probability: 0.1, logit: -1.1 }],
  tokens: [
    { text: '[CLS]', id: 2, score: 0, special: true },
    { text: 'we', id: 10, score: -0.5, special: false },
    { text: 'love', id: 11, score: 2, special: false },
    { text: '##d', id: 12, score: 1, special: false },
    { text: 'it', id: 13, score: 0.25, special: false },
    { text: '[SEP]', id: 3, score: 0, special: true },
  ],
  words: [
    { text: 'we', score: -0.5, tokenIndices: [1] },
    { text: 'loved', score: 3, tokenIndices: [2, 3] },
    { text: 'it', score: 0.25, tokenIndices: [4] },
  ],
  sentenceScore: 2.75,
  delta: 1e-6,
  granularity: 'token',
  baselineToken: { id: 0, text: '[PAD]' },
  truncated: 0,
  params: { nSteps: 50 },
  seconds: 0.1,
};

test('pieces per token, per word (subwords joined, special tokens kept) and for the sentence', () => {
  assert.deepEqual(textPieces(result, 'token').map((p) => [p.text, p.score]), [['[CLS]', 0], ['we', -0.5], ['love', 2], ['##d', 1], ['it', 0.25], ['[SEP]', 0]]);
  const words = textPieces(result, 'word');
  assert.deepEqual(words.map((p) => [p.text, p.score, p.special, p.tokens]), [
    ['[CLS]', 0, true, [0]], ['we', -0.5, false, [1]], ['loved', 3, false, [2, 3]], ['it', 0.25, false, [4]], ['[SEP]', 0, true, [5]],
  ]);
  assert.deepEqual(textPieces(result, 'sentence').map((p) => [p.text, p.score, p.tokens.length]), [['We loved it', 2.75, 6]]);
});

test('shading: score over the largest |score|, clipped to [-1, 1], then |v|^gamma with the sign kept', () => {
  const tokens = textPieces(result, 'token');
  assert.equal(maxAbsScore(tokens), 2);
  assert.equal(maxAbsScore(textPieces(result, 'word')), 3);
  assert.equal(shade(2, 2), 1);
  assert.equal(shade(-0.5, 2), -0.25);
  assert.equal(shade(0.25, 2), 0.125);
  assert.equal(shade(-0.5, 2, 0.5), -0.5); // sqrt(0.25)
  assert.equal(shade(0.25, 2, 2), 0.015625); // 0.125²
  assert.equal(shade(5, 2), 1, 'clipped');
  assert.equal(shade(-5, 2, 3), -1, 'clipped');
  assert.equal(shade(1, 0), 0, 'all-zero scores stay unshaded');
  assert.equal(shade(Number.NaN, 2), 0);
});

test('CSV: one row per token with its word, quoted where needed', () => {
  const r = { ...result, tokens: result.tokens.map((t, i) => (i === 4 ? { ...t, text: 'it,"x"' } : t)) };
  assert.equal(textCsv(r), [
    'index,token,token_id,special,word_index,word,score',
    '0,[CLS],2,true,,,0',
    '1,we,10,false,0,we,-0.5',
    '2,love,11,false,1,loved,2',
    '3,##d,12,false,1,loved,1',
    '4,"it,""x""",13,false,2,it,0.25',
    '5,[SEP],3,true,,,0',
    '',
  ].join('\n'));
});

test('JSON: the result with where it came from', () => {
  const doc = JSON.parse(textJson(result, { model: '/w/model.onnx', source: '/w/s.txt' }));
  assert.equal(doc.model, '/w/model.onnx');
  assert.equal(doc.source, '/w/s.txt');
  assert.equal(doc.text, 'We loved it');
  assert.equal(doc.targetLabel, 'positive');
  assert.deepEqual(doc.tokens.map((t: { score: number }) => t.score), [0, -0.5, 2, 1, 0.25, 0]);
  assert.deepEqual(doc.words[1], { text: 'loved', score: 3, tokenIndices: [2, 3] });
  assert.equal(doc.sentenceScore, 2.75);
  assert.equal(doc.delta, 1e-6);
});
