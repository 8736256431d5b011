import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../engine/core/errors';
import { readNpy } from '../engine/inputs/npy';
import { LoadedModel } from '../engine/model/loadedModel';
import { attribute } from '../engine/methods/registry';
import { Tensor, asFloat32 } from '../engine/core/tensor';

interface Case {
  id: string;
  model: string;
  inputs: Record<string, string>;
  method: string;
  target: number;
  params: Record<string, unknown>;
  expected: string;
  tolerance: number;
}

export interface CaseResult {
  id: string;
  ok: boolean;
  relError?: number;
  seconds?: number;
  why?: string;
}

/** Runs every case of DIR/cases.json against Captum's numbers; prints one line per case. */
export async function runConformance(dir: string, log: (line: string) => void, filter?: string): Promise<CaseResult[]> {
  const file = path.join(dir, 'cases.json');
  if (!fs.existsSync(file)) throw new AttrLensError(`${file} not found: pass the folder that holds cases.json`);
  const cases = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cases: Case[] }).cases.filter((c) => !filter || c.id.includes(filter));
  const results: CaseResult[] = [];
  for (const c of cases) {
    const started = performance.now();
    let r: CaseResult;
    try {
      const lm = await LoadedModel.open(path.join(dir, c.model));
      const feeds: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(c.inputs)) feeds[k] = readNpy(path.join(dir, v));
      const res = await attribute(lm, feeds, { method: c.method, target: c.target, params: c.params, baseDir: dir, input: Object.keys(c.inputs)[0] });
      const actual = Object.values(res.attributions)[0];
      const expected = readNpy(path.join(dir, c.expected));
      if (actual.data.length !== expected.data.length) {
        r = { id: c.id, ok: false, why: `shape [${actual.dims}] but Captum's is [${expected.dims}]` };
      } else {
        const a = asFloat32(actual), e = asFloat32(expected);
        let maxDiff = 0, maxExp = 0;
        for (let i = 0; i < e.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[i] - e[i]) || (Number.isNaN(a[i]) ? Infinity : 0));
          maxExp = Math.max(maxExp, Math.abs(e[i]));
        }
        const rel = maxDiff / (maxExp || 1);
        r = { id: c.id, ok: rel <= c.tolerance, relError: rel, ...(dimsDiffer(actual.dims, expected.dims) ? { why: `shape [${actual.dims}] vs [${expected.dims}]` } : {}) };
        if (r.why) r.ok = false;
      }
    } catch (e) {
      r = { id: c.id, ok: false, why: (e as Error).message.split('\n')[0] };
    }
    r.seconds = (performance.now() - started) / 1000;
    results.push(r);
    const rel = r.relError !== undefined ? `rel ${r.relError.toExponential(2)}` : '';
    log(`${r.ok ? 'PASS' : 'FAIL'} ${c.id} ${rel}${r.why ? ` (${r.why})` : ''} ${r.seconds.toFixed(2)}s`);
  }
  const passed = results.filter((r) => r.ok).length;
  log(`${passed} passed, ${results.length - passed} failed`);
  return results;
}

function dimsDiffer(a: number[], b: number[]): boolean {
  return a.length !== b.length || a.some((d, i) => d !== b[i]);
}
