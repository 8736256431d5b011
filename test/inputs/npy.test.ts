import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { AttrLensError } from '../../src/engine/core/errors';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../src/engine/inputs/npy';
import { Tensor } from '../../src/engine/core/tensor';
import { CONF, sharedAbsent } from '../onnx/helpers';
import { tmpDir } from './models';

/** A v1.0 .npy file built by hand: magic, version, u16 length, dict padded to 64 bytes, data. */
function handBuilt(dict: string, data: Uint8Array, version: 1 | 2 = 1): Buffer {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = Buffer.from(dict.padEnd(total - prefix - 1, ' ') + '\n', 'latin1');
  const lead = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(lead);
  if (version === 1) lead.writeUInt16LE(header.length, 8);
  else lead.writeUInt32LE(header.length, 8);
  return Buffer.concat([lead, header, Buffer.from(data)]);
}

const bytesOf = (d: Tensor['data']): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

const CASES: Array<{ t: Tensor; descr: string; shape: string }> = [
  { t: { dtype: 'float32', dims: [2, 3], data: Float32Array.from([1.5, -2, 0, 3.25, 1e-8, -7]) }, descr: '<f4', shape: '(2, 3)' },
  { t: { dtype: 'float64', dims: [5], data: Float64Array.from([Math.PI, -1, 0, 1e300, -0.5]) }, descr: '<f8', shape: '(5,)' },
  { t: { dtype: 'int64', dims: [1, 3], data: BigInt64Array.from([-(2n ** 62n), 0n, 12345678901234n]) }, descr: '<i8', shape: '(1, 3)' },
  { t: { dtype: 'int32', dims: [1, 3, 2, 2], data: Int32Array.from([1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 2 ** 31 - 1, -(2 ** 31)]) }, descr: '<i4', shape: '(1, 3, 2, 2)' },
  { t: { dtype: 'uint8', dims: [4], data: Uint8Array.from([0, 1, 128, 255]) }, descr: '|u1', shape: '(4,)' },
  { t: { dtype: 'bool', dims: [2, 2], data: Uint8Array.from([1, 0, 0, 1]) }, descr: '|b1', shape: '(2, 2)' },
  { t: { dtype: 'float32', dims: [], data: Float32Array.from([42]) }, descr: '<f4', shape: '()' },
];

describe('npy', () => {
  for (const { t, descr, shape } of CASES) {
    it(`encodes ${t.dtype} ${shape} exactly like numpy.save and reads it back`, () => {
      const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
      const expected = handBuilt(dict, bytesOf(t.data));
      const enc = encodeNpy(t);
      assert.deepEqual(enc, expected);
      assert.equal((enc.length - t.data.byteLength) % 64, 0);
      const back = parseNpy(enc, 'x.npy');
      assert.equal(back.dtype, t.dtype);
      assert.deepEqual(back.dims, t.dims);
      assert.deepEqual(back.data, t.data);
    });
  }

  it('reads version 2.0 headers and unaligned data, and writes files', () => {
    const data = Float32Array.from([1, 2, 3]);
    const v2 = handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", bytesOf(data), 2);
    // place the file at an odd offset inside a larger buffer: the reader must copy, not view
    const shifted = Buffer.concat([Buffer.from([0]), v2]).subarray(1);
    const t = parseNpy(shifted, 'v2.npy');
    assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 3]);
    const file = path.join(tmpDir(), 'w.npy');
    writeNpy(file, { dtype: 'int32', dims: [2], data: Int32Array.from([7, -7]) });
    assert.deepEqual(Array.from(readNpy(file).data as Int32Array), [7, -7]);
  });

  const f = path.join(CONF, 'tensors', 'mini_resnet.input.npy');
  it('reads a file numpy wrote (conformance data) back to identical bytes', { skip: sharedAbsent(f) }, () => {
    const raw = fs.readFileSync(f);
    const x = readNpy(f);
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(x.dims, [1, 3, 32, 32]);
    assert.deepEqual(encodeNpy(x), raw);
    assert.equal((x.data as Float32Array)[0], raw.readFloatLE(128));
  });

  const f4 = (shape: string, n: number, extra = ''): Buffer =>
    handBuilt(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, ${extra}}`, new Uint8Array(n));

  it('rejects a header whose shape does not match the byte count', () => {
    assert.throws(() => parseNpy(f4('(4, 4)', 24), 'lying.npy'), (e: Error) => {
      assert.ok(e instanceof AttrLensError);
      assert.match(e.message, /^lying\.npy: the header says shape \(4, 4\) of float32 = 64 bytes of data, but there are 24 \(the file is truncated\)/);
      assert.match(e.message, /numpy\.save/);
      return true;
    });
    assert.throws(() => parseNpy(f4('(2,)', 12), 'long.npy'), /long\.npy: .* 8 bytes of data, but there are 12 \(the file has extra bytes\)/);
  });

  it('rejects a truncated file, inside the header or the data', () => {
    const good = encodeNpy({ dtype: 'float64', dims: [3], data: Float64Array.from([1, 2, 3]) });
    assert.throws(() => parseNpy(good.subarray(0, 40), 'cut.npy'), /^AttrLensError: cut\.npy is truncated inside the \.npy header/);
    assert.throws(() => parseNpy(good.subarray(0, good.length - 5), 'cut.npy'), /cut\.npy: the header says shape \(3\) of float64 = 24 bytes of data, but there are 19/);
  });

  it('rejects Fortran order, unsupported and big-endian dtypes, and non-npy bytes', () => {
    const fortran = handBuilt("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16));
    assert.throws(() => parseNpy(fortran, 'f.npy'), /f\.npy is stored in Fortran order.*numpy\.ascontiguousarray/);
    const complex = handBuilt("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    assert.throws(() => parseNpy(complex, 'c.npy'), /c\.npy has dtype '<c8', which is not supported \(supported: float32.*astype/);
    const big = handBuilt("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    assert.throws(() => parseNpy(big, 'b.npy'), /b\.npy has dtype '>f4'.*big-endian/);
    assert.throws(() => parseNpy(Buffer.from('hello world, not numpy'), 'h.npy'), /h\.npy is not a \.npy file/);
    const badBool = handBuilt("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", Uint8Array.from([1, 7]));
    assert.throws(() => parseNpy(badBool, 'bool.npy'), /bool\.npy: bool data holds the byte 7 at element 1/);
    assert.throws(() => parseNpy(f4('(2, x)', 8), 's.npy'), /s\.npy has a malformed \.npy header \(shape \(2, x\) is not a tuple/);
    assert.throws(() => parseNpy(f4('(2,)', 8, "'extra': 1, "), 'k.npy'), /k\.npy has a malformed \.npy header/);
  });

  it('names the file when it cannot be read', () => {
    assert.throws(() => readNpy('/nonexistent/dir/x.npy'), /cannot read \/nonexistent\/dir\/x\.npy: no such file; check the path/);
  });
});
