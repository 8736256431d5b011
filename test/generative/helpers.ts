// The designed recall decoder of samples/lm and the values its weights give by hand
// (scripts/make-lm-sample.ts: a recalled value's logit is 10, <eos> after a value 15, 23 tokens).
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const LM = path.join(ROOT, 'samples', 'lm', 'model.onnx');
export const PAST_KV = path.join(__dirname, 'fixtures', 'past-kv', 'model.onnx');
export const TEXT_MODEL = path.join(ROOT, 'samples', 'text', 'model.onnx');
export const IMAGE_MODEL = path.join(ROOT, 'samples', 'shapes', 'model.onnx');

/** <bos> + 10 tokens; the answer is rome */
export const PROMPT = 'alice paris , bob rome , carol oslo ? bob';
export const FEATURES = ['alice', 'paris', ',', 'bob', 'rome', ',', 'carol', 'oslo', '?', 'bob'];
/** the features the answer depends on: the bound key, its value, the queried key */
export const DEPENDS = [3, 4, 9];
const V = 23;

/** log p(rome): the induction head finds it, logit 10 against 22 zeros */
export const LP_RECALL = -Math.log(1 + (V - 1) * Math.exp(-10));
/** log p(rome) when the query finds no match: attention spreads over the 11 positions, 3 of them values */
export const LP_NO_MATCH = 10 / 11 - Math.log(3 * Math.exp(10 / 11) + (V - 3));
/** log p(rome) when the matched position holds <pad> (embeds to zeros): every logit 0 */
export const LP_UNIFORM = -Math.log(V);
/** log p(<eos>) after "… rome" with the prompt intact: uniform attention over 12 positions, rome twice among them */
export const LP_EOS = 15 - Math.log(Math.exp(15) + Math.exp(20 / 12) + 2 * Math.exp(10 / 12) + (V - 4));
/** log p(<eos>) after the all-<pad> prompt + rome: rome (itself) is the only value among 12 positions */
export const LP_EOS_PADS = 15 - Math.log(Math.exp(15) + Math.exp(10 / 12) + (V - 2));
