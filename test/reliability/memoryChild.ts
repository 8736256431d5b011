// Child process of the load test (run with --expose-gc): RSS after a warm-up, then after 20
// queued attributions of which a random half are cancelled at random moments. Prints one JSON line.
import { CancelledError } from '../../src/engine/core/errors';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { AttributeRequest } from '../../src/engine/methods/types';
import { rng } from './corpus';

const [model, image, seedArg] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;

const REQUESTS: AttributeRequest[] = [
  { method: 'occlusion', params: { slidingWindowShapes: [3, 8, 8], strides: [3, 8, 8], perturbationsPerEval: 4 } },
  { method: 'integrated-gradients', params: { nSteps: 32, internalBatchSize: 4 } },
  { method: 'feature-ablation', params: { perturbationsPerEval: 512 } },
  { method: 'saliency', params: {} },
];

async function settle(): Promise<number> {
  for (let k = 0; k < 3; k++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().rss;
}

void (async () => {
  const r = rng(Number(seedArg));
  const lm = await LoadedModel.open(model);
  const { feeds } = await loadInputs(lm, image);
  // Warm-up: every method once, so sessions and backward graphs exist before measuring.
  for (const q of REQUESTS) await attribute(lm, feeds, q);
  for (const q of REQUESTS) await attribute(lm, feeds, q);
  const before = await settle();
  let cancelled = 0, completed = 0, other = 0;
  const jobs = Array.from({ length: 20 }, (_, k) => {
    const ac = new AbortController();
    if (r() < 0.5) setTimeout(() => ac.abort(), Math.floor(r() * 400));
    return attribute(lm, feeds, REQUESTS[k % REQUESTS.length], { signal: ac.signal }).then(
      () => completed++,
      (e) => (e instanceof CancelledError ? cancelled++ : (other++, console.error(e))),
    );
  });
  await Promise.all(jobs);
  const after = await settle();
  process.stdout.write(`${JSON.stringify({ before, after, cancelled, completed, other, gc: !!gc })}\n`);
})();
