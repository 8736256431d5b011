import * as fs from 'fs';
import * as path from 'path';
import type { OnnxModel } from './model';

/** The tool that most likely wrote a model, from producer_name, metadata and tensor names. */
export type Exporter = 'pytorch' | 'optimum' | 'ultralytics' | 'tf2onnx' | 'keras2onnx' | 'paddle2onnx' | 'skl2onnx' | 'caffe2' | 'unknown';

export interface ModelOrigin {
  exporter: Exporter;
  /** producer_name and producer_version as written in the file ('' when absent) */
  producer: string;
  /** true when the exporter is guessed from tensor names (no producer_name) */
  guessed: boolean;
}

/** Methods that need no gradient: what a user can run without re-exporting anything. */
export const GRADIENT_FREE_METHODS = 'occlusion, feature-ablation, shapley-value-sampling, lime, kernel-shap';

export function modelOrigin(model: OnnxModel): ModelOrigin {
  const name = (model.proto.producerName ?? '').trim();
  const producer = [name, model.proto.producerVersion ?? ''].filter(Boolean).join(' ');
  const meta = new Map((model.proto.metadataProps ?? []).map((p) => [(p.key ?? '').toLowerCase(), p.value ?? '']));
  const p = name.toLowerCase();
  const of = (exporter: Exporter, guessed = false): ModelOrigin => ({ exporter, producer, guessed });
  if (/ultralytics/i.test(meta.get('author') ?? '') || (meta.has('imgsz') && meta.has('stride'))) return of('ultralytics');
  if (p.includes('tf2onnx')) return of('tf2onnx');
  if (p.includes('keras2onnx')) return of('keras2onnx');
  if (p.includes('paddle')) return of('paddle2onnx');
  if (p.includes('skl2onnx')) return of('skl2onnx');
  if (p.includes('caffe2')) return of('caffe2');
  if (p.includes('optimum')) return of('optimum');
  if (p.includes('pytorch') || p === 'torch') return of(besideHfConfig(model) ? 'optimum' : 'pytorch');
  if (p) return of('unknown');
  return of(guessFromNames(model), true);
}

/** A Hugging Face folder (config.json beside the model): exported by optimum. */
function besideHfConfig(model: OnnxModel): boolean {
  if (!model.file) return false;
  try {
    // a regular file of sane size only: a FIFO or a huge file must not hang an error message
    const file = path.join(path.dirname(model.file), 'config.json');
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > 4 << 20) return false;
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    return Array.isArray(cfg.architectures) || typeof cfg.model_type === 'string';
  } catch {
    return false;
  }
}

/** Each exporter names tensors its own way; a majority of a sample decides. */
function guessFromNames(model: OnnxModel): Exporter {
  const g = model.graph;
  const names = [...g.node.slice(0, 200).flatMap((n) => n.output), ...g.initializer.slice(0, 200).map((t) => t.name ?? '')];
  const count = (re: RegExp) => names.filter((n) => re.test(n)).length;
  const votes: Array<[Exporter, number]> = [
    ['paddle2onnx', count(/^[a-z][a-z0-9_]*_\d+\.(w|b|tmp)_\d+$/)], // conv2d_0.w_0, softmax_0.tmp_0
    ['tf2onnx', count(/:\d+$|StatefulPartitionedCall|^(model|sequential)[^/]*\//)],
    ['pytorch', count(/^onnx::|^\/.*_output_\d+$/)],
  ];
  const [best, n] = votes.reduce((a, c) => (c[1] > a[1] ? c : a));
  return n * 4 >= names.length && n > 0 ? best : 'unknown';
}

/** How to get the model at `opset` from the tool that made it (one clause, no trailing period). */
export function reexportAdvice(model: OnnxModel, opset = 17): string {
  const o = modelOrigin(model);
  const from = o.guessed ? ' (it looks like a Paddle2ONNX export)' : '';
  switch (o.exporter) {
    case 'pytorch':
      return `re-export it with torch.onnx.export(..., opset_version=${opset})`;
    case 'optimum':
      return `re-export it with optimum-cli export onnx --opset ${opset}`;
    case 'ultralytics':
      return `re-export it with yolo export format=onnx opset=${opset}`;
    case 'tf2onnx':
    case 'keras2onnx':
      return `re-convert it with python -m tf2onnx.convert --opset ${opset}`;
    case 'paddle2onnx':
      return `re-convert it with paddle2onnx --opset_version ${Math.min(opset, 16)}${from}`;
    case 'skl2onnx':
      return `re-convert it with skl2onnx's convert_sklearn(..., target_opset=${opset})`;
    default:
      return `convert it with onnx.version_converter.convert_version(model, ${Math.min(opset, 16)}) in Python`;
  }
}
