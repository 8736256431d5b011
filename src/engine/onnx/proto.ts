import * as protobuf from 'protobufjs';
import { onnxSchema } from './schema';

// Plain shapes of the onnx.proto messages as protobufjs decodes them. int64 fields arrive as
// Long objects (or numbers when we wrote them), so every read goes through num().
export type Int64 = number | { toNumber(): number };

export interface OperatorSetIdProto { domain?: string; version?: Int64 }
export interface StringStringEntryProto { key?: string; value?: string }
export interface Dimension { dimValue?: Int64; dimParam?: string }
export interface TypeProto { tensorType?: { elemType?: number; shape?: { dim?: Dimension[] } } }
export interface ValueInfoProto { name?: string; type?: TypeProto; docString?: string }
export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  stringData?: Uint8Array[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
}
export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}
export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  docString?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}
export interface ModelProto {
  irVersion?: Int64;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  functions?: unknown[];
}

export const AttrType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;

const root = protobuf.Root.fromJSON(onnxSchema as unknown as protobuf.INamespace);
const ModelType = root.lookupType('onnx.ModelProto');
const TensorType = root.lookupType('onnx.TensorProto');

export function num(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decodes model bytes. Given a Node Buffer, bytes fields are views into it (no copy). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const m = ModelType.decode(bytes) as unknown as ModelProto;
  return m;
}

export function encodeModel(m: ModelProto): Uint8Array {
  return ModelType.encode(m as unknown as protobuf.Message).finish();
}

export function encodeTensor(t: TensorProto): Uint8Array {
  return TensorType.encode(t as unknown as protobuf.Message).finish();
}
