// Tiny models for input tests: every input passes through an Identity to its own output.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { valueInfo } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { encodeModel } from '../../src/engine/onnx/proto';

export interface InputDecl {
  name: string;
  /** ONNX element type code: 1 float32, 7 int64 */
  elemType?: number;
  dims: Array<number | string>;
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-inputs-'));
}

/** Writes `<dir>/<stem>.onnx` with the given inputs and opens it. */
export async function identityModel(inputs: InputDecl[], dir = tmpDir(), stem = 'model'): Promise<LoadedModel> {
  const bytes = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'identity',
      node: inputs.map((i) => ({ opType: 'Identity', name: `/id_${i.name}`, input: [i.name], output: [`out_${i.name}`] })),
      input: inputs.map((i) => valueInfo(i.name, i.elemType ?? 1, i.dims)),
      output: inputs.map((i) => valueInfo(`out_${i.name}`, i.elemType ?? 1, i.dims)),
      initializer: [],
      valueInfo: [],
    },
  });
  const file = path.join(dir, `${stem}.onnx`);
  OnnxModel.fromBytes(bytes); // validates
  fs.writeFileSync(file, bytes);
  return LoadedModel.open(file);
}

/** Writes `m` as `<dir>/<stem>.onnx` (with `metadata` as metadata_props) and opens it. */
export async function saveModel(m: OnnxModel, dir: string, stem = 'model', metadata: Record<string, string> = {}): Promise<LoadedModel> {
  m.proto.metadataProps = Object.entries(metadata).map(([key, value]) => ({ key, value }));
  const file = path.join(dir, `${stem}.onnx`);
  fs.writeFileSync(file, m.toBytes());
  return LoadedModel.open(file);
}

/** A w×h RGB picture with structure at every scale (gradients, stripes, a disc), as PNG. */
export async function writePicture(file: string, w: number, h: number): Promise<string> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (0.25 * Math.min(w, h)) ** 2;
      px[i] = disc ? 230 : Math.round((255 * x) / (w - 1));
      px[i + 1] = ((x >> 2) + (y >> 3)) % 2 ? 200 : 40;
      px[i + 2] = Math.round((255 * y) / (h - 1)) ^ (x & 15);
    }
  }
  const sharp = (await import('sharp')).default;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
  return file;
}
