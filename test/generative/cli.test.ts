// `attrlens attribute --text` on a causal LM, as a user runs the built CLI (dist/cli.js): the
// continuation, the attributions as JSON, the terminal heat map, and one-line errors.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { heatCell } from '../../src/cli/generate';
import { runNode, tmpDir } from '../onnx/helpers';
import { DEPENDS, FEATURES, LM, LP_EOS, LP_RECALL, PROMPT, ROOT, TEXT_MODEL } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const dir = tmpDir('lm-cli');
const cli = (args: string[]) => runNode([CLI, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 30_000 });

function userError(r: Awaited<ReturnType<typeof cli>>, re: RegExp): void {
  assert.notEqual(r.code, 0);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^attrlens: error: /);
  assert.match(lines[0], re);
  assert.equal(r.stdout, '');
}

interface Json {
  model: string;
  continuation: string;
  prompt_tokens: Array<{ token: string; score: number }>;
  generated_tokens: Array<{ token: string; logprob: number }>;
  matrix: number[][] | null;
  method: string;
}

describe('attrlens attribute --text on a causal LM', () => {
  it('--generate 4 --json prints the continuation, prompt_tokens, generated_tokens and the token × prompt matrix', async () => {
    const r = await cli(['attribute', '--model', LM, '--text', PROMPT, '--generate', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Json;
    assert.equal(j.model, LM);
    assert.equal(j.method, 'feature-ablation');
    assert.equal(j.continuation, 'rome <eos>');
    assert.deepEqual(j.generated_tokens.map((g) => g.token), ['rome', '<eos>']);
    assert.ok(Math.abs(j.generated_tokens[0].logprob - LP_RECALL) < 1e-5 && Math.abs(j.generated_tokens[1].logprob - LP_EOS) < 1e-6);
    assert.deepEqual(j.prompt_tokens.map((p) => p.token), FEATURES);
    assert.equal(j.matrix!.length, 2);
    assert.ok(j.matrix!.every((row) => row.length === FEATURES.length));
    const order = j.prompt_tokens.map((p, i) => [p.score, i] as const).sort((a, b) => b[0] - a[0]);
    assert.deepEqual(order.slice(0, 3).map(([, i]) => i).sort((a, b) => a - b), DEPENDS);
  });

  it('prints a table of scores and a heat map row per generated token', async () => {
    const r = await cli(['attribute', '--model', LM, '--text', PROMPT, '--target-text', 'rome', '--method', 'layer-integrated-gradients']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^continuation \(given, 1 token\): rome {3}log p = -0\.0010$/m);
    assert.match(r.stdout, /^layer-integrated-gradients \(LayerIntegratedGradients\) over prompt tokens at \/transformer\/wte\/Gather_output_0; baseline token <pad>;/m);
    assert.match(r.stdout, /^ {3}4 {2}rome\s+\+\d\.\d{4} {2}\s+\|\+{20}$/m);
    assert.match(r.stdout, /^convergence delta -?\d\.\d\de[-+]\d+$/m);
    const row = r.stdout.split('\n').find((l) => l.startsWith('rome  '))!;
    const cells = row.slice(6).split(' ').filter((c) => c !== '');
    assert.equal(cells.length, FEATURES.length);
    for (let f = 0; f < FEATURES.length; f++) assert.equal(DEPENDS.includes(f), cells[f] !== '·', `cell ${f} '${cells[f]}'`);
  });

  it('a template with values, and lime without a matrix', async () => {
    const r = await cli(['attribute', '--model', LM, '--template', '{} paris , bob {} ? {}', '--values', '["alice","rome","bob"]', '--target-text', 'rome', '--method', 'lime', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Json;
    assert.deepEqual(j.prompt_tokens.map((p) => p.token), ['alice', 'rome', 'bob']);
    assert.equal(j.matrix, null);
  });

  it('bad input gets one line saying what to do', async () => {
    userError(await cli(['attribute', '--model', LM, '--text', Array(20).fill('bob rome').join(' ')]), /the prompt is 41 tokens but the model takes at most 32 positions/);
    userError(await cli(['attribute', '--model', LM, '--text', '', '--generate', '2']), /--text is empty/);
    userError(await cli(['attribute', '--model', LM, '--text', PROMPT, '--target-text', 'london']), /--target-text "london" has words the tokenizer does not know/);
    userError(await cli(['attribute', '--model', TEXT_MODEL, '--text', 'great', '--generate', '2']), /is not a causal language model/);
    userError(await cli(['attribute', '--model', LM, '--text', PROMPT, '--generate', 'two']), /--generate must be a whole number/);
    userError(await cli(['attribute', '--model', LM, '--template', '{} rome', '--values', 'bob']), /--values must be JSON/);
  });

  it('heat cells: shade by |score| / max, sign by character set, faint scores as a dot', () => {
    assert.equal(heatCell(1, 1), '██');
    assert.equal(heatCell(0.3, 1), '▒▒');
    assert.equal(heatCell(-0.6, 1), '==');
    assert.equal(heatCell(0.01, 1), ' ·');
    assert.equal(heatCell(1, 1, true), '\x1b[32m██\x1b[0m');
  });
});
