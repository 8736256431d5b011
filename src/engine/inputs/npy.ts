import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import { DType, Tensor, sizeOf } from '../core/tensor';

// NumPy's .npy format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// magic "\x93NUMPY", major, minor, header length (u16 in v1, u32 in v2/v3), a Python dict
// literal padded with spaces to a 64-byte boundary and ended by '\n', then the raw data.
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

interface DTypeInfo {
  dtype: DType;
  size: number;
}

/** descr without its byte-order character → our dtype. */
const DESCR: Record<string, DTypeInfo> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i8: { dtype: 'int64', size: 8 },
  i4: { dtype: 'int32', size: 4 },
  u1: { dtype: 'uint8', size: 1 },
  i1: { dtype: 'int8', size: 1 },
  b1: { dtype: 'bool', size: 1 },
  f2: { dtype: 'float16', size: 2 },
};
const DESCR_OF: Record<DType, string> = {
  float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1', int8: '|i1', bool: '|b1', float16: '<f2',
};
const SUPPORTED = 'float32, float64, int64, int32, uint8, int8, bool, float16';

/** Reads a .npy file into a tensor. */
export function readNpy(file: string): Tensor {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new AttrLensError(`cannot read ${file}: ${why}; check the path`);
  }
  return parseNpy(bytes, path.basename(file));
}

/** Parses .npy bytes; `label` names the source in errors. */
export function parseNpy(bytes: Uint8Array, label: string): Tensor {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const resave = 'save it again with numpy.save';
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new AttrLensError(`${label} is not a .npy file (no \\x93NUMPY magic): ${resave}`);
  }
  const major = buf[6];
  if (major < 1 || major > 3) throw new AttrLensError(`${label} has .npy format version ${major}.${buf[7]}, which is not supported (1.0 to 3.0): ${resave}`);
  const lenBytes = major === 1 ? 2 : 4;
  const start = 8 + lenBytes;
  if (buf.length < start) throw new AttrLensError(`${label} is truncated inside the .npy header: ${resave}`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (buf.length < start + headerLen) throw new AttrLensError(`${label} is truncated inside the .npy header: ${resave}`);
  const header = buf.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const { descr, fortranOrder, shape } = parseHeader(header, label);

  if (fortranOrder) {
    throw new AttrLensError(`${label} is stored in Fortran order, which is not supported: save it with numpy.save(f, numpy.ascontiguousarray(a))`);
  }
  const order = descr[0];
  const info = DESCR[descr.slice(1)];
  if (!info || !'<|='.includes(order) || (order === '|' && info.size !== 1)) {
    const hint = order === '>' ? 'big-endian data is not supported; ' : '';
    throw new AttrLensError(`${label} has dtype '${descr}', which is not supported (${hint}supported: ${SUPPORTED}): convert it with a.astype('float32') before saving`);
  }
  const count = sizeOf(shape);
  const want = count * info.size;
  const got = buf.length - start - headerLen;
  if (got !== want) {
    const what = got < want ? 'the file is truncated' : 'the file has extra bytes';
    throw new AttrLensError(`${label}: the header says shape (${shape.join(', ')}) of ${info.dtype} = ${want} bytes of data, but there are ${got} (${what}): ${resave}`);
  }
  // Copy into a fresh, aligned buffer: typed arrays cannot view misaligned bytes.
  const data = new ArrayBuffer(want);
  new Uint8Array(data).set(buf.subarray(start + headerLen));
  const t: Tensor = { dtype: info.dtype, dims: shape, data: typedView(info.dtype, data) };
  if (info.dtype === 'bool') {
    const u = t.data as Uint8Array;
    for (let i = 0; i < u.length; i++) {
      if (u[i] > 1) throw new AttrLensError(`${label}: bool data holds the byte ${u[i]} at element ${i} (only 0 and 1 are valid): ${resave}`);
    }
  }
  return t;
}

function typedView(dtype: DType, b: ArrayBuffer): Tensor['data'] {
  switch (dtype) {
    case 'float32': return new Float32Array(b);
    case 'float64': return new Float64Array(b);
    case 'int64': return new BigInt64Array(b);
    case 'int32': return new Int32Array(b);
    case 'uint8': case 'bool': return new Uint8Array(b);
    case 'int8': return new Int8Array(b);
    case 'float16': return new Uint16Array(b);
  }
}

/**
 * Parses the header dict strictly: exactly the keys descr, fortran_order and shape, in any
 * order, with Python literal syntax as numpy writes it.
 */
function parseHeader(header: string, label: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const bad = (why: string): AttrLensError => new AttrLensError(`${label} has a malformed .npy header (${why}): save it again with numpy.save`);
  let s = header.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) throw bad('not a dict');
  s = s.slice(1, -1);
  const out: { descr?: string; fortranOrder?: boolean; shape?: number[] } = {};
  const re = /\s*'([a-z_]+)'\s*:\s*('[^']*'|True|False|\([^)]*\))\s*(,|$)/y;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw bad(`cannot read '${s.slice(pos, pos + 20).trim()}'`);
    pos = re.lastIndex;
    const [, key, value] = m;
    if (key === 'descr') {
      if (!value.startsWith("'")) throw bad('descr is not a string');
      out.descr = value.slice(1, -1);
    } else if (key === 'fortran_order') {
      if (value !== 'True' && value !== 'False') throw bad('fortran_order is not True or False');
      out.fortranOrder = value === 'True';
    } else if (key === 'shape') {
      if (!value.startsWith('(')) throw bad('shape is not a tuple');
      const inner = value.slice(1, -1).trim();
      const parts = inner === '' ? [] : inner.split(',').map((p) => p.trim());
      if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      if (parts.some((p) => !/^\d+L?$/.test(p))) throw bad(`shape ${value} is not a tuple of non-negative integers`);
      out.shape = parts.map((p) => parseInt(p, 10));
    } else {
      throw bad(`unexpected key '${key}'`);
    }
  }
  if (out.descr === undefined || out.fortranOrder === undefined || out.shape === undefined) {
    throw bad('it needs descr, fortran_order and shape');
  }
  if (out.descr.startsWith('[') || out.descr.length < 3) throw bad(`descr '${out.descr}' is not a simple dtype`);
  return { descr: out.descr, fortranOrder: out.fortranOrder, shape: out.shape };
}

/** Encodes a tensor as .npy bytes (version 1.0, or 2.0 when the header needs it). */
export function encodeNpy(t: Tensor): Buffer {
  if (t.data.length !== sizeOf(t.dims)) throw new Error(`tensor has ${t.data.length} values, dims [${t.dims}] need ${sizeOf(t.dims)}`);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  const dict = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so that magic + version + length + header is a multiple of 64, as numpy does.
  const padded = (prefix: number): number => Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const v1 = padded(10) - 10 <= 0xffff;
  const prefix = v1 ? 10 : 12;
  const total = padded(prefix);
  const headerLen = total - prefix;
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  const out = Buffer.alloc(total + t.data.byteLength);
  MAGIC.copy(out, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  if (v1) out.writeUInt16LE(headerLen, 8);
  else out.writeUInt32LE(headerLen, 8);
  out.write(header, prefix, 'latin1');
  Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, total);
  return out;
}

export function writeNpy(file: string, t: Tensor): void {
  fs.writeFileSync(file, encodeNpy(t));
}
