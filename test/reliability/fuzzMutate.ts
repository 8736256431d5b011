// Byte-level mutations of ONNX model files for the fuzz test: deterministic from (seed, index),
// so any mutant can be rebuilt from the two numbers the test prints.
import { rng } from './corpus';

export interface Mutant {
  model: string;
  bytes: Uint8Array;
  /** the mutations applied, for the report */
  ops: string[];
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];

/**
 * A position biased towards the graph structure: exporters write nodes first and the graph's
 * inputs and outputs last, with initializer bytes in between, so half the picks land in the
 * first or last 10 % of the file.
 */
function pos(r: () => number, n: number): number {
  const u = r();
  if (u < 0.25) return Math.floor(r() * n * 0.1);
  if (u < 0.5) return n - 1 - Math.floor(r() * n * 0.1);
  return Math.floor(r() * n);
}

function mutateOnce(r: () => number, b: Uint8Array): [Uint8Array, string] {
  const n = b.length;
  if (n < 2) return [b, 'none'];
  const kind = Math.floor(r() * 7);
  switch (kind) {
    case 0: {
      const out = b.slice();
      const flips = 1 + Math.floor(r() * 8);
      for (let k = 0; k < flips; k++) out[pos(r, n)] ^= 1 << Math.floor(r() * 8);
      return [out, `flip${flips}`];
    }
    case 1: {
      const out = b.slice();
      const p = pos(r, n);
      const len = 1 + Math.floor(r() * 16);
      for (let k = p; k < Math.min(n, p + len); k++) out[k] = r() < 0.5 ? INTERESTING[Math.floor(r() * INTERESTING.length)] : Math.floor(r() * 256);
      return [out, `overwrite@${p}+${len}`];
    }
    case 2: {
      const p = Math.floor(r() * n);
      return [b.slice(0, p), `truncate@${p}`];
    }
    case 3: {
      const a = pos(r, n);
      const len = Math.min(n - a, 1 + Math.floor(r() * 256));
      const at = pos(r, n);
      const out = new Uint8Array(n + len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(a, a + len), at);
      out.set(b.subarray(at), at + len);
      return [out, `dup${a}+${len}@${at}`];
    }
    case 4: {
      const a = pos(r, n);
      const len = Math.min(n - a, 1 + Math.floor(r() * 256));
      const out = new Uint8Array(n - len);
      out.set(b.subarray(0, a));
      out.set(b.subarray(a + len), a);
      return [out, `delete${a}+${len}`];
    }
    default: {
      // Varints: find a continuation byte (high bit set) near a structural position and make
      // the number huge, end it early, or turn a length into a long run of 0xff.
      const out = b.slice();
      let p = pos(r, n);
      for (let k = 0; k < 64 && p < n && (out[p] & 0x80) === 0; k++) p++;
      if (p >= n) p = Math.floor(r() * n);
      const how = Math.floor(r() * 3);
      if (how === 0) out[p] &= 0x7f;
      else if (how === 1) out[p] |= 0x80;
      else for (let k = p; k < Math.min(n, p + 1 + Math.floor(r() * 9)); k++) out[k] = 0xff;
      return [out, `varint${how}@${p}`];
    }
  }
}

export function makeMutant(models: Array<{ name: string; bytes: Uint8Array }>, seed: number, index: number): Mutant {
  const r = rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const m = models[index % models.length];
  let bytes = m.bytes;
  const ops: string[] = [];
  const count = 1 + Math.floor(r() * 3);
  for (let k = 0; k < count; k++) {
    const [b, op] = mutateOnce(r, bytes);
    bytes = b;
    ops.push(op);
  }
  return { model: m.name, bytes, ops };
}
