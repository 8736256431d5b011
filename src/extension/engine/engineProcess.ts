// The engine's process: one FIFO queue of calls from the extension host, each cancellable.
// onnxruntime and sharp load here only, never in the extension host. A process rather than a
// worker thread: a native crash ends this process, not the extension host, and it starts with
// glibc's huge pages (see engine/runtime/hugePages.ts), which halve session creation.
import * as os from 'os';
import * as path from 'path';
import {
  attribute, attributeText, fitLength, inspectModel, listMethods, loadInputs, openModel, predict, requireTextInputs, textFeeds, tokenizerFor,
} from '../../engine';
import type { AttributeRequest, LoadedModel, Tensor } from '../../engine';
import { runDataset } from '../../engine/dataset';
import { attributeGeneration, requireCausalLm } from '../../engine/generative';
import { sanityCheck } from '../../engine/sanity';
import type { PreprocessConfig } from '../../engine/inputs';
import { mostActiveNeuron } from '../../engine/methods/layerTarget';
import { labelsOf } from '../../engine/methods/registry';
import { outputKindOf, targetEnv } from '../../engine/targets/env';
import { listTargets } from '../../engine/targets/registry';
import type { StructuredTargets } from '../../shared/protocol';
import { structuredTargets } from '../wire';
import {
  CallMessage, FromEngine, ImagePixels, InputRef, ModelRef, PARTIAL_INTERVAL_MS, ToEngine, EngineCalls, EngineMethod,
} from './engineProtocol';

// Lower priority on Linux, where a nice value belongs to a thread and the onnxruntime pool
// threads created later inherit it: the extension host keeps its cores while an attribution
// uses every core. (Elsewhere the call lowers the whole process, which is also what we want.)
try {
  os.setPriority(10);
} catch {
  // not permitted: run at normal priority
}

// The extension host went away (even killed): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

interface Job {
  call: CallMessage;
  controller: AbortController;
}

const queue: Job[] = [];
let running: Job | undefined;

function post(msg: FromEngine): void {
  process.send?.(msg);
}

process.on('message', (msg: ToEngine) => {
  if (msg.type === 'cancel') {
    const i = queue.findIndex((j) => j.call.id === msg.id);
    if (i >= 0) {
      queue.splice(i, 1);
      post({ type: 'error', id: msg.id, name: 'CancelledError', message: 'cancelled' });
    } else if (running?.call.id === msg.id) {
      running.controller.abort();
    }
    return;
  }
  queue.push({ call: msg, controller: new AbortController() });
  void pump();
});

async function pump(): Promise<void> {
  if (running) return;
  while (queue.length > 0) {
    const job = queue.shift()!;
    running = job;
    try {
      const value = await handle(job);
      post({ type: 'result', id: job.call.id, value });
    } catch (e) {
      const err = e as Error;
      const cancelled = err?.name === 'CancelledError' || job.controller.signal.aborted;
      post({
        type: 'error',
        id: job.call.id,
        name: cancelled ? 'CancelledError' : err?.name ?? 'Error',
        message: cancelled ? 'cancelled' : err?.message ?? String(e),
        stack: err?.name === 'AttrLensError' || cancelled ? undefined : err?.stack,
      });
    } finally {
      running = undefined;
    }
  }
}

function handle(job: Job): Promise<EngineCalls[EngineMethod]['result']> {
  const { call } = job;
  switch (call.method) {
    case 'inspect':
      return inspectModel(call.args.file);
    case 'methods':
      return Promise.resolve(listMethods());
    case 'predict':
      return runPredict(call.args.model, call.args.input);
    case 'attribute':
      return runAttribute(job, call.args);
    case 'mostActiveNeuron':
      return runMostActiveNeuron(job, call.args);
    case 'textModel':
      return textModel(call.args.model);
    case 'predictText':
      return predictText(call.args.model, call.args.text);
    case 'attributeText':
      return runAttributeText(job, call.args);
    case 'dataset':
      return runDatasetCall(job, call.args);
    case 'lmModel':
      return lmModel(call.args.model);
    case 'attributeGeneration':
      return runAttributeGeneration(job, call.args);
    case 'sanity':
      return runSanity(job, call.args);
  }
}

async function open(ref: ModelRef): Promise<LoadedModel> {
  return openModel(ref.file, { threads: ref.runtime.threads, executionProvider: ref.runtime.executionProvider });
}

async function inputs(model: LoadedModel, input: InputRef): Promise<{ feeds: Record<string, Tensor>; image?: ImagePixels; preprocess?: PreprocessConfig }> {
  const loaded = await loadInputs(model, input.file, input.options);
  return { feeds: loaded.feeds, image: loaded.image, preprocess: loaded.preprocess };
}

async function runPredict(ref: ModelRef, input: InputRef): Promise<EngineCalls['predict']['result']> {
  const model = await open(ref);
  const { feeds, image, preprocess } = await inputs(model, input);
  return { predictions: await predict(model, feeds), image, preprocess, structured: await structuredOf(model, feeds) };
}

/**
 * A detection, dense or sequence output (the first one, as attribute explains): what can be
 * targeted, so the panel can draw boxes, regions or the decoded sequence before any run.
 */
async function structuredOf(model: LoadedModel, feeds: Record<string, Tensor>): Promise<StructuredTargets | undefined> {
  const out = model.outputs[0];
  // a [N, C] output is a classifier's: no second pass for it
  if (!out || out.dims.length === 2) return undefined;
  const clean = await model.forward(feeds, model.outputs.map((o) => o.name));
  const kind = outputKindOf(model, out.name, clean[out.name].dims);
  if (kind.kind !== 'detection' && kind.kind !== 'dense' && kind.kind !== 'sequence') return undefined;
  const input = (model.inputs.find((i) => i.dtype === 'float32') ?? model.inputs[0]).name;
  try {
    const env = await targetEnv(model, feeds, input, out.name, labelsOf(model), { clean });
    return structuredTargets(kind.kind, listTargets(env));
  } catch {
    return undefined;
  }
}

async function runAttribute(job: Job, args: EngineCalls['attribute']['args']): Promise<EngineCalls['attribute']['result']> {
  const signal = job.controller.signal;
  const model = await open(args.model);
  const { feeds, image } = await inputs(model, args.input);
  // Tensor parameters given as .npy paths resolve beside the model.
  const request = withBatchSize({ baseDir: path.dirname(args.model.file), ...args.request }, args.batchSize);
  let lastPartial = 0;
  const result = await attribute(model, feeds, request, {
    signal,
    onProgress: (p) => {
      const now = Date.now();
      // Partial maps are throttled; plain counters are cheap and always sent.
      const sendPartial = p.partial !== undefined && (now - lastPartial >= PARTIAL_INTERVAL_MS || p.done >= p.total);
      if (sendPartial) lastPartial = now;
      post({ type: 'progress', id: job.call.id, done: p.done, total: p.total, phase: p.phase, partial: sendPartial ? p.partial : undefined });
    },
  });
  return { result, image };
}

async function runMostActiveNeuron(job: Job, args: EngineCalls['mostActiveNeuron']['args']): Promise<EngineCalls['mostActiveNeuron']['result']> {
  const model = await open(args.model);
  const { feeds } = await inputs(model, args.input);
  return mostActiveNeuron(model, feeds, args.layer, args.toInput ?? false, job.controller.signal);
}

async function textModel(ref: ModelRef): Promise<EngineCalls['textModel']['result']> {
  const model = await open(ref);
  try {
    requireTextInputs(model);
    return { text: true };
  } catch (e) {
    if ((e as Error)?.name !== 'AttrLensError') throw e;
    return { text: false, reason: (e as Error).message };
  }
}

async function predictText(ref: ModelRef, text: string): Promise<EngineCalls['predictText']['result']> {
  const model = await open(ref);
  const ti = requireTextInputs(model);
  const tk = tokenizerFor(model);
  const enc = tk.encode(text);
  // the same length rule as attributeTokens: fixed lengths pad or cut, symbolic ones up to the tokenizer's limit
  const fit = fitLength(enc, ti.seqLen ?? (tk.maxLength && enc.ids.length > tk.maxLength ? tk.maxLength : undefined), tk.padId ?? tk.unkId ?? 0);
  return { predictions: await predict(model, textFeeds(ti, fit.ids, fit.real)) };
}

async function runAttributeText(job: Job, args: EngineCalls['attributeText']['args']): Promise<EngineCalls['attributeText']['result']> {
  const model = await open(args.model);
  const { params } = withBatchSize({ method: args.request.method ?? 'layer-integrated-gradients', params: args.request.params }, args.batchSize);
  // Text maps are a few numbers per token: progress counters only, no partial maps.
  return attributeText(model, args.text, { ...args.request, params }, {
    signal: job.controller.signal,
    onProgress: (p) => post({ type: 'progress', id: job.call.id, done: p.done, total: p.total, phase: p.phase }),
  });
}

/** The dataset view's run: predictions only (no method, no output folder), progress per batch, cancellable. */
async function runDatasetCall(job: Job, args: EngineCalls['dataset']['args']): Promise<EngineCalls['dataset']['result']> {
  const model = await open(args.model);
  return runDataset(
    { model: args.model.file, data: args.data, batchSize: args.batchSize, preprocess: args.preprocess },
    (done, total, phase) => post({ type: 'progress', id: job.call.id, done, total, phase }),
    job.controller.signal,
    model,
  );
}

/** The panel's sanity check: progress per randomised model, cancellable between and within runs. */
async function runSanity(job: Job, args: EngineCalls['sanity']['args']): Promise<EngineCalls['sanity']['result']> {
  const model = await open(args.model);
  const { feeds } = await inputs(model, args.input);
  const { params } = withBatchSize({ method: args.request.method, params: args.request.params }, args.batchSize);
  return sanityCheck(model, feeds, { baseDir: path.dirname(args.model.file), ...args.request, params }, {
    signal: job.controller.signal,
    onProgress: (p) => post({ type: 'progress', id: job.call.id, done: p.done, total: p.total, phase: p.phase }),
  });
}

async function lmModel(ref: ModelRef): Promise<EngineCalls['lmModel']['result']> {
  const model = await open(ref);
  try {
    requireCausalLm(model);
    return { lm: true };
  } catch (e) {
    if ((e as Error)?.name !== 'AttrLensError') throw e;
    return { lm: false, reason: (e as Error).message };
  }
}

/** A generation explained; progress counters only (the matrix is small and comes at the end). */
async function runAttributeGeneration(job: Job, args: EngineCalls['attributeGeneration']['args']): Promise<EngineCalls['attributeGeneration']['result']> {
  const model = await open(args.model);
  return attributeGeneration(model, args.request, {
    signal: job.controller.signal,
    onProgress: (p) => post({ type: 'progress', id: job.call.id, done: p.done, total: p.total, phase: p.phase }),
  });
}

/** Fills the method's own batching parameter from the batch-size setting when the user left it unset. */
function withBatchSize(request: AttributeRequest, batchSize?: number): AttributeRequest {
  if (!batchSize || batchSize <= 0) return request;
  const info = listMethods().find((m) => m.id === request.method);
  const params = { ...(request.params ?? {}) };
  for (const name of ['internalBatchSize', 'perturbationsPerEval']) {
    if (info?.params.some((p) => p.name === name) && params[name] === undefined) params[name] = batchSize;
  }
  return { ...request, params };
}
