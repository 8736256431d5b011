import { OnnxModel } from './model';
import { NodeProto } from './proto';

/** The activation a model output ends in, read from the graph. */
export type OutputActivation = 'softmax' | 'sigmoid' | 'logsoftmax' | 'none';

// Ops that move or retype values without changing them: a Softmax behind them still gives the output its meaning.
const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose', 'Cast', 'Slice']);
const ACTIVATION: Record<string, OutputActivation> = { Softmax: 'softmax', Sigmoid: 'sigmoid', LogSoftmax: 'logsoftmax' };

/**
 * What the node producing `output` computes, looking through shape-only ops (and a Concat of
 * one input): 'softmax' / 'sigmoid' outputs already are probabilities, 'logsoftmax' their logs.
 */
export function outputActivation(model: OnnxModel, output: string): OutputActivation {
  const producer = new Map<string, NodeProto>();
  for (const n of model.graph.node) for (const o of n.output) if (o) producer.set(o, n);
  let name = output;
  for (let steps = 0; steps <= model.graph.node.length; steps++) {
    const n = producer.get(name);
    if (!n || (n.domain && n.domain !== 'ai.onnx')) return 'none';
    const act = ACTIVATION[n.opType];
    if (act) return act;
    const through = SHAPE_ONLY.has(n.opType) || (n.opType === 'Concat' && n.input.filter(Boolean).length === 1);
    if (!through || !n.input[0]) return 'none';
    name = n.input[0];
  }
  return 'none';
}
