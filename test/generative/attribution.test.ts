// Captum's LLMAttribution / LLMGradientAttribution on the designed recall decoder of samples/lm:
// the values its weights give by hand, the tokens the answer depends on, Shapley efficiency and
// LIG completeness, batching and cancellation.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledError } from '../../src/engine/core/errors';
import { attributeGeneration, generativeMethods } from '../../src/engine/generative';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { OnnxModel } from '../../src/engine/onnx/model';
import { DEPENDS, FEATURES, LM, LP_EOS, LP_EOS_PADS, LP_NO_MATCH, LP_RECALL, LP_UNIFORM, PROMPT } from './helpers';

const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
const top = (scores: number[], n: number) => scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).slice(0, n).map(([, i]) => i).sort((a, b) => a - b);

describe('generation attribution (samples/lm)', () => {
  it('feature ablation equals the hand-computed log-probability drops, row by row', async () => {
    const lm = await LoadedModel.open(LM);
    const r = await attributeGeneration(lm, { text: PROMPT, targetText: 'rome', method: 'feature-ablation' });
    assert.deepEqual(r.prompt_tokens.map((p) => p.token), FEATURES);
    assert.equal(r.matrix!.length, 1);
    const expected = FEATURES.map((_, f) => (f === 3 || f === 9 ? LP_RECALL - LP_NO_MATCH : f === 4 ? LP_RECALL - LP_UNIFORM : 0));
    r.matrix![0].forEach((v, f) => near(v, expected[f], 1e-4, `feature ${f} (${FEATURES[f]})`));
    // one target token: the sequence attribution is its row
    r.prompt_tokens.forEach((p, f) => near(p.score, r.matrix![0][f], 1e-9, `sequence ${f}`));
    assert.equal(r.evaluations, 1 + FEATURES.length);
  });

  it('with a generated continuation the sequence row is the sum of the token rows', async () => {
    const lm = await LoadedModel.open(LM);
    const r = await attributeGeneration(lm, { text: PROMPT, generate: 4 });
    assert.deepEqual(r.generated_tokens.map((g) => g.token), ['rome', '<eos>']);
    assert.equal(r.matrix!.length, 2);
    r.prompt_tokens.forEach((p, f) => near(p.score, r.matrix![0][f] + r.matrix![1][f], 1e-9, `feature ${f}`));
    // <eos> follows any value: no prompt token moves it by more than a few 1e-6
    for (const v of r.matrix![1]) assert.ok(Math.abs(v) < 1e-4, `eos row ${v}`);
  });

  for (const m of generativeMethods()) {
    it(`${m.info.id}: the answer is generated and the bound key, its value and the queried key score highest`, async () => {
      const lm = await LoadedModel.open(LM);
      // the surrogates need more samples than Captum's 25 to separate 10 features reliably
      const params = m.info.id === 'lime' || m.info.id === 'kernel-shap' ? { nSamples: 300, seed: 1 } : undefined;
      const r = await attributeGeneration(lm, { text: PROMPT, generate: 4, method: m.info.id, params });
      assert.equal(r.continuation, 'rome <eos>');
      assert.deepEqual(top(r.prompt_tokens.map((p) => p.score), 3), DEPENDS);
      for (const f of DEPENDS) assert.ok(r.prompt_tokens[f].score > 0.3, `${FEATURES[f]} ${r.prompt_tokens[f].score}`);
      if (m.info.perToken) assert.deepEqual(top(r.matrix![0], 3), DEPENDS);
      else assert.equal(r.matrix, null);
    });
  }

  it('shapley-value-sampling is efficient: the scores of each row sum to f(prompt) − f(all baselines)', async () => {
    const lm = await LoadedModel.open(LM);
    const r = await attributeGeneration(lm, { text: PROMPT, generate: 4, method: 'shapley-value-sampling', params: { nSamples: 5, seed: 7 } });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    near(sum(r.matrix![0]), LP_RECALL - LP_UNIFORM, 1e-4, 'rome row');
    near(sum(r.matrix![1]), LP_EOS - LP_EOS_PADS, 1e-5, 'eos row');
    near(sum(r.prompt_tokens.map((p) => p.score)), r.sequenceLogprob - (LP_UNIFORM + LP_EOS_PADS), 1e-4, 'sequence');
  });

  it('layer-integrated-gradients is complete: Σ scores ≈ log p(continuation | prompt) − log p(continuation | pad prompt)', async () => {
    const lm = await LoadedModel.open(LM);
    const r = await attributeGeneration(lm, { text: PROMPT, generate: 4, method: 'layer-integrated-gradients' });
    assert.match(r.layer!, /wte/);
    near(r.sequenceLogprob, LP_RECALL + LP_EOS, 1e-5, 'log p(continuation | prompt)');
    const sum = r.prompt_tokens.reduce((a, p) => a + p.score, 0);
    near(sum, LP_RECALL + LP_EOS - (LP_UNIFORM + LP_EOS_PADS), 1e-3, 'completeness');
    near(r.matrix![0].reduce((a, b) => a + b, 0), LP_RECALL - LP_UNIFORM, 1e-3, 'rome row');
    assert.ok(Math.abs(r.delta!) < 1e-3, `delta ${r.delta}`);
    // tokens that the answer does not read get (nearly) nothing
    for (const f of [0, 2, 5, 6, 8]) assert.ok(Math.abs(r.prompt_tokens[f].score) < 0.05, `${FEATURES[f]} ${r.prompt_tokens[f].score}`);
  });

  it('template segments are the features, with per-segment baselines (TextTemplateInput)', async () => {
    const lm = await LoadedModel.open(LM);
    const template = { template: '{} paris , bob {} ? {}', values: ['alice', 'rome', 'bob'] };
    const r = await attributeGeneration(lm, { template, targetText: 'rome' });
    assert.equal(r.prompt, 'alice paris , bob rome ? bob');
    assert.equal(r.granularity, 'segment');
    assert.deepEqual(r.prompt_tokens.map((p) => p.token), ['alice', 'rome', 'bob']);
    // "" removes a segment: without rome the match lands on "?"; without the last bob the prompt ends in "?"
    near(r.prompt_tokens[0].score, 0, 1e-4, 'alice');
    assert.ok(r.prompt_tokens[1].score > 1.5 && r.prompt_tokens[2].score > 1.5, JSON.stringify(r.prompt_tokens));
    // a baseline that keeps the binding leaves the answer: dave instead of the queried bob has no value
    const b = await attributeGeneration(lm, { template: { ...template, baselines: ['carol', 'rome', 'dave'] }, targetText: 'rome' });
    near(b.prompt_tokens[0].score, 0, 1e-4, 'alice → carol');
    near(b.prompt_tokens[1].score, 0, 1e-4, 'rome → rome');
    near(b.prompt_tokens[2].score, LP_RECALL - (10 / 8 - Math.log(2 * Math.exp(10 / 8) + 21)), 1e-4, 'bob → dave');
    assert.deepEqual(b.baseline.segments, ['carol', 'rome', 'dave']);
  });

  it('word granularity groups tokens by word (one token per word in this whitespace vocabulary)', async () => {
    const lm = await LoadedModel.open(LM);
    const w = await attributeGeneration(lm, { text: PROMPT, targetText: 'rome', granularity: 'word' });
    const t = await attributeGeneration(lm, { text: PROMPT, targetText: 'rome', granularity: 'token' });
    assert.equal(w.granularity, 'word');
    assert.deepEqual(w.prompt_tokens.map((p) => [p.token, p.positions]), t.prompt_tokens.map((p) => [p.token, p.positions]));
    assert.deepEqual(w.matrix, t.matrix);
  });

  it('batches perturbations: one forward for all the ablated prompts, the same scores at batch 1', async () => {
    const lm = await LoadedModel.open(LM);
    assert.ok(lm.maxBatch > FEATURES.length);
    const forward = lm.forward.bind(lm);
    let calls = 0;
    lm.forward = (...a: Parameters<typeof forward>) => (calls++, forward(...a));
    try {
      await attributeGeneration(lm, { text: PROMPT, targetText: 'rome' });
    } finally {
      lm.forward = forward;
    }
    assert.equal(calls, 2, 'one clean teacher-forced pass, one for the 10 ablations');
    const single = await LoadedModel.fromModel(OnnxModel.load(LM));
    single.maxBatch = 1;
    const a = await attributeGeneration(lm, { text: PROMPT, generate: 2, method: 'shapley-value-sampling', params: { nSamples: 3 } });
    const b = await attributeGeneration(single, { text: PROMPT, generate: 2, method: 'shapley-value-sampling', params: { nSamples: 3 } });
    a.matrix!.forEach((row, k) => row.forEach((v, f) => near(v, b.matrix![k][f], 1e-6, `[${k}, ${f}]`)));
  });

  it('is seeded: the same seed gives the same scores, another seed other ones', async () => {
    const lm = await LoadedModel.open(LM);
    const run = (seed: number) => attributeGeneration(lm, { text: PROMPT, targetText: 'rome', method: 'lime', params: { seed } });
    const [a, b, c] = [await run(4), await run(4), await run(5)];
    assert.deepEqual(a.prompt_tokens, b.prompt_tokens);
    assert.notDeepEqual(a.prompt_tokens, c.prompt_tokens);
  });

  it('reports progress and stops when cancelled', async () => {
    const lm = await LoadedModel.open(LM);
    const seen: string[] = [];
    await attributeGeneration(lm, { text: PROMPT, generate: 4, method: 'shapley-value-sampling', params: { nSamples: 2 } }, { onProgress: (p) => seen.push(`${p.phase} ${p.done}/${p.total}`) });
    assert.ok(seen.includes('generating 1/4') && seen.includes('shapley-value-sampling 21/21'), seen.join(', '));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(attributeGeneration(lm, { text: PROMPT, generate: 4 }, { signal: ac.signal }), CancelledError);
    const late = new AbortController();
    await assert.rejects(
      attributeGeneration(lm, { text: PROMPT, targetText: 'rome', method: 'shapley-value-sampling' }, { signal: late.signal, onProgress: () => late.abort() }),
      CancelledError,
    );
  });
});
