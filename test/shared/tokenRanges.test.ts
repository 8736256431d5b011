import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenRanges } from '../../src/shared/tokenRanges';

const tok = (text: string, special = false) => ({ text, special });
const spans = (text: string, r: ReturnType<typeof tokenRanges>) => r.map((x) => (x ? text.slice(x.start, x.end) : null));

test('WordPiece (uncased): subwords, case and accents, specials left out', () => {
  const text = 'The Café was unbelievably good.';
  const r = tokenRanges(text, [tok('[CLS]', true), tok('the'), tok('cafe'), tok('was'), tok('un'), tok('##believ'), tok('##ably'), tok('good'), tok('.'), tok('[SEP]', true)]);
  assert.deepEqual(spans(text, r), [null, 'The', 'Café', 'was', 'un', 'believ', 'ably', 'good', '.', null]);
});

test('byte-level BPE and SentencePiece marks; an unknown token gets no range and does not move on', () => {
  const text = 'Hello world\nagain';
  assert.deepEqual(spans(text, tokenRanges(text, [tok('<s>', true), tok('Hello'), tok('Ġworld'), tok('Ċ'), tok('again'), tok('</s>', true)])), [null, 'Hello', 'world', null, 'again', null]);
  assert.deepEqual(spans(text, tokenRanges(text, [tok('▁Hello'), tok('[UNK]'), tok('▁world')])), ['Hello', null, 'world']);
  // a token from far ahead is not matched (it would skip text)
  assert.deepEqual(spans(text, tokenRanges(text, [tok('again'), tok('hello')])), [null, 'Hello']);
});

test('offsets index the original string with astral characters before the tokens', () => {
  const text = '😀 great movie';
  const r = tokenRanges(text, [tok('[UNK]'), tok('great'), tok('movie')]);
  assert.deepEqual(spans(text, r), [null, 'great', 'movie']);
  assert.equal(r[1]!.start, 3);
});
