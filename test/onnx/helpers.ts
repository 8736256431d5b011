// Shared helpers for the ONNX, runtime and CLI tests: temp folders, the shared data folder,
// small models built in the test and a plain onnxruntime run.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Session } from '../../src/engine/runtime/session';
import { Tensor, asFloat32 } from '../../src/engine/core/tensor';

/** ../shared beside the checkout (the conformance data and ResNet-18); may be absent. */
export const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
export const CONF = path.join(SHARED, 'conformance');
export const RESNET = path.join(SHARED, 'models', 'resnet18.onnx');

/**
 * The `skip` reason for a test that reads `file` from ../shared. Away from CI the test skips
 * when the file is absent; in CI (CI=true) it runs, and fails, since ../shared must be there.
 */
export function sharedAbsent(file: string): string | false {
  if (fs.existsSync(file)) return false;
  return process.env.CI === 'true' ? false : `${file} is absent`;
}
export const confAbsent = sharedAbsent(path.join(CONF, 'cases.json'));

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temp folder, removed when the test process exits. */
export function tmpDir(tag = 'onnx'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `attrlens-${tag}-`));
  made.push(d);
  return d;
}

export function f32(dims: number[], values: number[] | ((i: number) => number)): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = typeof values === 'function' ? values(i) : values[i];
  return { dtype: 'float32', dims, data };
}

/** Runs model bytes once in a fresh onnxruntime session. */
export async function runBytes(bytes: Uint8Array, feeds: Record<string, Tensor>, outputs?: string[]): Promise<Record<string, Tensor>> {
  const s = await Session.create(bytes);
  try {
    return await s.run(feeds, outputs);
  } finally {
    await s.release();
  }
}

export function values(t: Tensor): number[] {
  return Array.from(asFloat32(t));
}

/** Asserts two float arrays agree elementwise within `tol` (absolute + relative). */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) throw new Error(`element ${i}: ${a} != ${e} (tol ${tol})`);
  }
}

/** A model with one float input `x` of `dims`; `body` adds nodes and returns the output names. */
export function buildModel(opset: number, dims: Array<number | string>, body: (b: GraphBuilder, x: string) => string[]): OnnxModel {
  const m = OnnxModel.empty(opset);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, dims);
  const outs = body(b, 'x');
  for (const o of outs) b.addOutput(o);
  return m;
}

export interface ProcessRun { code: number | null; stdout: string; stderr: string; seconds: number }

/** Runs `node ...args` to the end (killed after `timeoutMs`), collecting its output. */
export function runNode(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}
