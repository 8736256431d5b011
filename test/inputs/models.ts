// Tiny models for input tests: every input passes through an Identity to its own output.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LoadedModel } from '../../src/engine/loaded';
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
