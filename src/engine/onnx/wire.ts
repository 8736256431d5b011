import { TensorProto } from './proto';

// Initializer bytes exactly as they sit in the file they were read from. Re-encoding a model
// then copies them once instead of running them through the protobuf encoder.
const encodedInitializers = new WeakMap<TensorProto, Uint8Array>();

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let v = 0, shift = 0, b: number;
  do {
    if (pos >= buf.length) throw new Error('truncated varint');
    b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80 && shift < 64);
  return [v, pos];
}

function skip(buf: Uint8Array, pos: number, wt: number): number {
  switch (wt) {
    case 0: return readVarint(buf, pos)[1];
    case 1: return pos + 8;
    case 2: { const [len, p] = readVarint(buf, pos); return p + len; }
    case 5: return pos + 4;
    default: throw new Error(`wire type ${wt}`);
  }
}

/**
 * Records, for each decoded initializer, the byte range of its TensorProto in `bytes`
 * (ModelProto field 7 graph → GraphProto field 5 initializer, in order; protobuf merges
 * repeated `graph` occurrences, and so does this scan). Leaves nothing on malformed input.
 */
export function indexInitializers(bytes: Uint8Array, inits: TensorProto[]): void {
  const ranges: Uint8Array[] = [];
  try {
    let pos = 0;
    while (pos < bytes.length) {
      const [tag, p] = readVarint(bytes, pos);
      const field = Math.floor(tag / 8), wt = tag & 7;
      if (field === 7 && wt === 2) {
        const [len, start] = readVarint(bytes, p);
        const end = start + len;
        let q = start;
        while (q < end) {
          const [t2, q2] = readVarint(bytes, q);
          if (Math.floor(t2 / 8) === 5 && (t2 & 7) === 2) {
            const [l2, s2] = readVarint(bytes, q2);
            ranges.push(bytes.subarray(s2, s2 + l2));
            q = s2 + l2;
          } else q = skip(bytes, q2, t2 & 7);
        }
        pos = end;
      } else pos = skip(bytes, p, wt);
    }
  } catch {
    return;
  }
  if (ranges.length !== inits.length) return;
  inits.forEach((t, i) => encodedInitializers.set(t, ranges[i]));
}

/** Drop the recorded bytes of an initializer that was changed in place. */
export function forgetEncoding(t: TensorProto): void {
  encodedInitializers.delete(t);
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * `header` (a ModelProto encoded without initializers) followed by a second `graph` field that
 * holds only the initializers; protobuf merges the two. Known initializers are copied as they
 * were read; others go through `encode`.
 */
export function assembleModel(header: Uint8Array, inits: TensorProto[], encode: (t: TensorProto) => Uint8Array, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Uint8Array {
  if (inits.length === 0) return header;
  const parts = inits.map((t) => encodedInitializers.get(t) ?? encode(t));
  let inner = 0;
  for (const p of parts) inner += 1 + varintSize(p.length) + p.length;
  const total = header.length + 1 + varintSize(inner) + inner;
  const out = alloc(total);
  out.set(header, 0);
  let pos = header.length;
  out[pos++] = (7 << 3) | 2;
  pos = writeVarint(out, pos, inner);
  for (const p of parts) {
    out[pos++] = (5 << 3) | 2;
    pos = writeVarint(out, pos, p.length);
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * One reusable buffer for model bytes that onnxruntime reads once (it copies what it keeps
 * while the session is created). Fresh memory is slow to touch on small VMs (~4 ms/MB here), and
 * a cold start serialises the 45 MB of weights twice (probe, backward graph); the second one
 * reuses the first one's pages. A holder (e.g. a background disk write) keeps it from reuse.
 */
let scratch: Buffer | undefined;
let scratchHeld = false;

export interface ScratchLease {
  alloc: (size: number) => Buffer;
  release: () => void;
}

export function leaseScratch(): ScratchLease {
  let mine = false;
  return {
    alloc(size) {
      if (scratchHeld) return Buffer.allocUnsafe(size);
      // room to grow: the next model (e.g. a backward graph) is the same weights and a bit more;
      // pages never written are never touched
      if (!scratch || scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
      scratchHeld = mine = true;
      return scratch.subarray(0, size);
    },
    release() {
      if (mine) scratchHeld = mine = false;
    },
  };
}
