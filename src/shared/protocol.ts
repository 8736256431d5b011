// The typed message protocol between the extension host and the Attribution panel webview.
// One discriminated union per direction; requests from the webview carry a `requestId` that the
// host echoes on every reply. The webview bundle depends on this module (and src/shared) only.
import type { MethodInfo, ParamSpec, ParamKind, MethodFamily, Prediction } from '../engine/methods/types';
import type { TextAttributionResult, TextToken, TextWord } from '../engine/text/attributeText';
import type { RegionMask } from './regionMask';
import { SANITY_LIMITS, type RunSanityMessage, type SanityToWebview } from './sanityProtocol';

export type { MethodInfo, ParamSpec, ParamKind, MethodFamily, Prediction };
export type { TextToken, TextWord };

/** Bumped on any breaking change; the host sends it in `init`. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Plain data carried by messages

/** Captum's `visualize_image_attr` methods. */
export type VisualizeMethod = 'heat_map' | 'blended_heat_map' | 'masked_image' | 'alpha_scaling' | 'original_image';
/** Captum's `sign` argument. */
export type VisualizeSign = 'absolute_value' | 'positive' | 'negative' | 'all';
/** `auto` = Captum's default for the sign (RdWhGn / Greens / Reds / Blues). */
export type ColormapName = 'auto' | 'viridis' | 'inferno' | 'jet' | 'gray';

/** How the heatmap is drawn; host may send defaults (from settings), the webview owns it after. */
export interface ViewSettings {
  method: VisualizeMethod;
  sign: VisualizeSign;
  /** percent of cumulative attribution mass that saturates, Captum's `outlier_perc` (default 2) */
  outlierPerc: number;
  /** heat map opacity over the grayscale image for `blended_heat_map` (default 0.5) */
  alphaOverlay: number;
  colormap: ColormapName;
  /** `blended_heat_map` over the greyscale image (Captum's, the default) or over the colour image */
  blendOver?: 'grayscale' | 'color';
  /** the original image drawn beside the map (default true; false = the map alone) */
  beside?: boolean;
}

/** The model as the panel needs it (a subset of the engine's ModelInspection). */
export interface ModelSummary {
  /** display name, usually the file's base name */
  name: string;
  inputs: Array<{ name: string; dims: Array<number | string | null>; dtype?: string }>;
  outputs?: Array<{ name: string; dims: Array<number | string | null>; dtype?: string }>;
  /** class labels by output index, when known */
  labels?: string[];
  /** layers a layer method can target; when absent the panel offers a free text field */
  layers?: Array<{ name: string; module: string; op: string; dims: number[] }>;
  /** false when the model has ops without gradient rules (gradient methods will fail) */
  gradientsSupported?: boolean;
}

/**
 * The image the attribution is drawn over, as the model sees it (after resize/crop).
 * `rgba8-base64` is preferred: a `uri` image may taint the canvas (no pixel reads, no PNG export).
 */
export type PanelImage =
  | { encoding: 'rgba8-base64'; width: number; height: number; /** width*height*4 bytes */ data: string; input?: string }
  | { encoding: 'uri'; width: number; height: number; /** a webview URI (asWebviewUri) */ uri: string; input?: string };

export type WorkspaceTrust = { restricted: false } | { restricted: true; /** one line, shown to the user */ reason: string };

/** A raw attribution map: float32 little-endian in base64 plus its shape and raw value range. */
export interface AttributionMap {
  /** (1,C,H,W), (C,H,W), (1,1,h,w) or (h,w); small maps are upsampled to the image */
  dims: number[];
  data: string;
  /** raw minimum and maximum over all values (before channel summing) */
  min: number;
  max: number;
  /** which model input this map belongs to */
  input?: string;
}

/** One finished attribution, ready to draw. */
export interface AttributionPayload {
  method: string;
  /** the class index the map explains (a structured target: the class it is about) */
  target: number;
  targetLabel?: string;
  /** a structured target (`box:0`, `region:1`, `step:3`) as it was asked for */
  spec?: string;
  /** what can be targeted on a detection, dense or sequence output (from the run) */
  structured?: StructuredTargets;
  map: AttributionMap;
  /** Captum's convergence delta where the method defines one */
  delta?: number;
  seconds: number;
  /** layer name for layer methods */
  layer?: string;
  /** parameters the method actually ran with (defaults filled in) */
  params: Record<string, unknown>;
}

/** What the panel shows for a text model: the text and the model, before any run. */
export interface TextContext {
  text: string;
  /** where the text came from (a file name), when it came from an editor */
  source?: string;
  model: ModelSummary;
  /** the methods that can attribute a text model, with their text-specific parameters */
  methods: MethodInfo[];
  current: { method: string; params: ParamValues; target?: number };
}

/** One finished text attribution: the engine's result plus the text it explains. */
export interface TextAttributionPayload extends Omit<TextAttributionResult, 'params'> {
  text: string;
  /** the true class, when known (Captum's `true_class`); the panel shows "—" without it */
  trueLabel?: string;
  params: Record<string, ParamValue>;
}

/** The keys of `<model>.attrlens.json`, in the order Save writes them. */
export const PREPROCESS_KEYS = ['input', 'layout', 'size', 'resize', 'cropPct', 'interpolation', 'channels', 'scale', 'mean', 'std'] as const;
export type PreprocessKey = (typeof PREPROCESS_KEYS)[number];
/** `height`: keep the aspect ratio at the model's height and pad the width (text lines). */
export type PreprocessResize = 'stretch' | 'cover' | 'contain' | 'height';
export type PreprocessInterpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

/** A preprocessing config on the wire (the engine's PreprocessConfig), every key optional. */
export interface PreprocessValues {
  input?: string;
  layout?: 'NCHW' | 'NHWC';
  /** [height, width] */
  size?: [number, number];
  resize?: PreprocessResize;
  /** for `cover`: the crop's share of the resized image (timm's crop_pct) */
  cropPct?: number;
  interpolation?: PreprocessInterpolation;
  channels?: 'RGB' | 'BGR' | 'grayscale';
  scale?: number;
  mean?: number[];
  std?: number[];
}

/** How the panel's image input is preprocessed, and where that came from. */
export interface PreprocessInfo {
  /** the config the image was fed with (every key the engine resolved) */
  config: PreprocessValues;
  /** "model.attrlens.json", "preprocessor_config.json (ViTImageProcessor)", "guessed" … */
  source: string;
  /** no source said how: the values are the engine's guess */
  guessed: boolean;
  /** what the source could not express (for a guess: how to set it, CLI-style) */
  note?: string;
  /** what the editor starts from and Save keeps: the keys `<model>.attrlens.json` sets, or every key a discovered source set (the file replaces it) */
  saved: PreprocessValues;
  /** the base name Save writes, beside the model */
  file: string;
  /** the model has several inputs, so the file names the image input */
  multiInput: boolean;
}

/** Values a parameter may take on the wire (numbers, flags, text, shapes). */
export type ParamValue = number | boolean | string | null | number[];

/**
 * What the panel explains: a class index (classifiers), or a structured target of a detection,
 * dense or sequence output, in the engine's grammar: `box:K[+iou]`, `region:CLASS[@x0,y0,x1,y1]`,
 * `step:T[=CLASS]` (src/engine/targets).
 */
export type PanelTarget = number | string;

const NUM = String.raw`\d{1,5}(?:\.\d{1,3})?`;
/** The structured targets the panel may send, strictly: nothing else is passed to the engine. */
export const STRUCTURED_TARGET = new RegExp(String.raw`^(?:box:\d{1,6}(?:\+iou)?|step:\d{1,6}(?:=\d{1,7})?|region:\d{1,7}(?:@${NUM},${NUM},${NUM},${NUM})?)$`);

export function isStructuredTarget(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 64 && STRUCTURED_TARGET.test(v);
}

/** One detection (box in input pixels x0,y0,x1,y1), by descending score: `box:index`. */
export interface DetectionItem { target: string; index: number; box: number[]; class: number; label?: string; score: number }
/**
 * One predicted region: its class, pixel count, bounding box (input pixels) and its mask over the
 * output map, run-length encoded (src/shared/regionMask.ts; bounded there, checked by wire.ts).
 */
export interface RegionItem { target: string; class: number; label?: string; pixels: number; box: number[]; mask?: RegionMask }
/** One decoded step of a sequence (greedy or CTC): the step, its class and probability. */
export interface StepItem { target: string; step: number; index: number; label?: string; probability: number }

/** What can be targeted on a structured output (the engine's `targets` lists). */
export interface StructuredTargets {
  kind: 'detection' | 'dense' | 'sequence';
  detections?: DetectionItem[];
  regions?: RegionItem[];
  steps?: StepItem[];
}
export type ParamValues = Record<string, ParamValue>;

/**
 * The panel's whole state as the host holds it (src/extension/panel/panelState.ts): the webview
 * renders from the latest one it got and never overrides it (its own getState only shows the panel
 * at once while the host re-sends). Add fields freely; the host always sends the whole object.
 */
export interface HostPanelState {
  modelFile?: string;
  /** the image the predictions and the next run are for */
  imageFile?: string;
  predictions: Prediction[];
  /** what the picker shows and Run runs */
  method: string;
  /** parameters per method, as the picker shows them and Run sends them */
  params: Record<string, ParamValues>;
  target: PanelTarget;
  /** a detection, dense or sequence output: what can be targeted (boxes, regions, steps) */
  structured?: StructuredTargets;
  /** the run under way: `caption` names its method and target (or neuron) */
  run?: { requestId: string; kind: 'single' | 'compare'; caption: string };
  /** what produced the map shown (the `requestId` of its result): the webview draws no other map */
  shown?: { requestId: string; method: string; params: ParamValues; target: PanelTarget; imageFile: string; caption: string };
  /** the shown map is not what the panel is set to: one line naming what it was computed with */
  stale?: string;
  /** one line about the last automatic choice ("ran Saliency again, the last method; …") */
  note?: string;
  /** how the map is drawn (view, sign, outliers, opacity, colormap, …): the user's choice, else the settings' defaults */
  view?: ViewSettings;
}

// ---------------------------------------------------------------------------------------------
// Host → webview

/** First message after `ready`: everything the panel shows before any run. */
export interface InitMessage {
  type: 'init';
  protocolVersion: number;
  model: ModelSummary;
  image?: PanelImage;
  methods: MethodInfo[];
  current: { method: string; params: ParamValues; target?: PanelTarget };
  trust: WorkspaceTrust;
  predictions?: Prediction[];
  /** default view settings (from user settings) */
  view?: Partial<ViewSettings>;
  /** the image input's preprocessing (image models) */
  preprocess?: PreprocessInfo;
  /** the `attributionLens.compareMethods` setting: what Compare Methods runs, here and in the palette */
  compareMethods?: string[];
  /** the panel's whole state (image mode); when present it wins over `current` and `predictions` */
  panel?: HostPanelState;
}

/** A partial update of what `init` set (e.g. trust granted, new image, method list changed). */
export interface StateMessage {
  type: 'state';
  model?: ModelSummary;
  image?: PanelImage;
  methods?: MethodInfo[];
  current?: { method: string; params: ParamValues; target?: PanelTarget };
  trust?: WorkspaceTrust;
  view?: Partial<ViewSettings>;
  preprocess?: PreprocessInfo;
  compareMethods?: string[];
  /** the panel's whole state, sent whole on every change */
  panel?: HostPanelState;
}

/** Top-5 predictions for the current input. */
export interface PredictionsMessage {
  type: 'predictions';
  predictions: Prediction[];
}

/** The host accepted a request and started work (one per runAttribution/retarget/compare). */
export interface RunStartedMessage {
  type: 'runStarted';
  requestId: string;
  kind: 'single' | 'compare';
  /** the method(s) being run */
  methods: string[];
  target: PanelTarget;
  targetLabel?: string;
}

export interface RunProgressMessage {
  type: 'runProgress';
  requestId: string;
  done: number;
  total: number;
  phase?: string;
  /** for compare runs: which method this progress belongs to */
  method?: string;
  /** partial map so far (perturbation methods); drawn while running */
  partial?: AttributionMap;
}

export interface RunResultMessage {
  type: 'runResult';
  requestId: string;
  result: AttributionPayload;
}

/** Several methods for one target; failed methods are listed with their one-line error. */
export interface CompareResultMessage {
  type: 'compareResult';
  requestId: string;
  target: PanelTarget;
  targetLabel?: string;
  sharedScale: boolean;
  results: AttributionPayload[];
  errors?: Array<{ method: string; message: string }>;
}

/** One method of a running comparison finished (its map, or why not); `compareResult` still ends the run. */
export interface CompareTileMessage {
  type: 'compareTile';
  requestId: string;
  method: string;
  result?: AttributionPayload;
  error?: string;
}

/** One-line error. With a requestId it ends that request; without, it is a general error. */
export interface ErrorMessage {
  type: 'error';
  requestId?: string;
  message: string;
}

export interface RunCancelledMessage {
  type: 'runCancelled';
  requestId: string;
}

/** Reply to `export`: where it was written, or why not (one line). */
export interface ExportDoneMessage {
  type: 'exportDone';
  requestId: string;
  ok: boolean;
  message: string;
}

/**
 * Asks the panel for the view as drawn (the palette's Export Attribution… → PNG): the webview
 * answers with an `export` message carrying this requestId and the canvas as `pngDataUrl`.
 */
export interface RequestExportMessage {
  type: 'requestExport';
  requestId: string;
  format: 'png';
}

/** Switches the panel to a text model and its text; `context: null` leaves text mode. */
export interface TextContextMessage {
  type: 'textContext';
  context: TextContext | null;
}

export interface TextResultMessage {
  type: 'textResult';
  requestId: string;
  result: TextAttributionPayload;
}

/** Reply to `previewPreprocess`: the input as the edited config makes it, and the forward pass's top 5. */
export interface PreprocessPreviewMessage {
  type: 'preprocessPreview';
  requestId: string;
  /** the config the engine resolved from the edits */
  config: PreprocessValues;
  /** what the model sees, pads included */
  image?: PanelImage;
  predictions: Prediction[];
}

/** Reply to `previewPreprocess` or `savePreprocess`: the edits are refused (one line, and the key it is about). */
export interface PreprocessInvalidMessage {
  type: 'preprocessInvalid';
  requestId: string;
  key?: PreprocessKey;
  message: string;
}

/** Reply to `savePreprocess`: written (the host then sends the new `preprocess` state), or why not. */
export interface PreprocessSavedMessage {
  type: 'preprocessSaved';
  requestId: string;
  ok: boolean;
  message: string;
}

export type ToWebview =
  | InitMessage
  | StateMessage
  | PredictionsMessage
  | RunStartedMessage
  | RunProgressMessage
  | RunResultMessage
  | CompareResultMessage
  | CompareTileMessage
  | ErrorMessage
  | RunCancelledMessage
  | ExportDoneMessage
  | RequestExportMessage
  | TextContextMessage
  | TextResultMessage
  | PreprocessPreviewMessage
  | PreprocessInvalidMessage
  | PreprocessSavedMessage
  | SanityToWebview;

// ---------------------------------------------------------------------------------------------
// Webview → host

/** The webview's script has loaded; the host answers with `init`. */
export interface ReadyMessage {
  type: 'ready';
}

export interface RunAttributionMessage {
  type: 'runAttribution';
  requestId: string;
  method: string;
  target: PanelTarget;
  params: ParamValues;
}

/** Re-run the current method for another output (clicked prediction). */
export interface RetargetMessage {
  type: 'retarget';
  requestId: string;
  target: PanelTarget;
}

/** Cancel one request, or whatever is running when requestId is absent. */
export interface CancelMessage {
  type: 'cancel';
  requestId?: string;
}

export interface CompareMessage {
  type: 'compare';
  requestId: string;
  methods: string[];
  target: PanelTarget;
  /** one saturation threshold for all maps instead of one per map */
  sharedScale: boolean;
  /** per-method parameters; methods not listed run with their defaults */
  params?: Record<string, ParamValues>;
}

/** Export the last result. The host asks the user where to save; the webview never sends paths. */
export interface ExportMessage {
  type: 'export';
  requestId: string;
  format: 'png' | 'npy' | 'json';
  /** required for `png` (the canvas as drawn), absent otherwise */
  pngDataUrl?: string;
  /** one map of the last comparison instead of the last result */
  method?: string;
  /** `png` only: the last comparison's whole grid, drawn as one figure */
  grid?: boolean;
}

/** The panel's Compare checkboxes changed: the host writes them to `attributionLens.compareMethods`. */
export interface SetCompareMethodsMessage {
  type: 'setCompareMethods';
  methods: string[];
}

/** A tile of the last comparison was clicked: the host shows it as the main map, with its method and parameters. */
export interface OpenCompareMapMessage {
  type: 'openCompareMap';
  requestId: string;
  method: string;
}

/** The user picked another method (or edited its parameters); the host remembers it. */
export interface ChangeMethodMessage {
  type: 'changeMethod';
  method: string;
  params?: ParamValues;
}

/** The user changed how the map is drawn; the host keeps it with the rest of the panel's state. */
export interface ChangeViewMessage {
  type: 'changeView';
  view: ViewSettings;
}

/** Open the extension's settings. */
export interface OpenSettingsMessage {
  type: 'openSettings';
}

/**
 * Attribute the panel's text (text mode). `target` absent = the top prediction. Besides the
 * method's own parameters, `params` may carry `baselineToken` and, for the perturbation
 * methods that switch off features, `granularity` ('token' or 'word').
 */
export interface RunTextMessage {
  type: 'runText';
  requestId: string;
  method: string;
  target?: number;
  params: ParamValues;
}

/** Export the last text result (tokens with their scores); the host asks where to save. */
export interface ExportTextMessage {
  type: 'exportText';
  requestId: string;
  format: 'json' | 'csv';
}

/**
 * Feed the image with these preprocessing edits (the keys the user set, over the model's own
 * source) and answer with `preprocessPreview`; later runs use them too until the model changes.
 */
export interface PreviewPreprocessMessage {
  type: 'previewPreprocess';
  requestId: string;
  config: PreprocessValues;
}

/** Write the keys the user set to `<model>.attrlens.json` beside the model (the host picks the path). */
export interface SavePreprocessMessage {
  type: 'savePreprocess';
  requestId: string;
  config: PreprocessValues;
}

export type FromWebview =
  | ReadyMessage
  | RunAttributionMessage
  | RetargetMessage
  | CancelMessage
  | CompareMessage
  | ExportMessage
  | ChangeMethodMessage
  | ChangeViewMessage
  | OpenSettingsMessage
  | RunTextMessage
  | ExportTextMessage
  | PreviewPreprocessMessage
  | SavePreprocessMessage
  | SetCompareMethodsMessage
  | OpenCompareMapMessage
  | RunSanityMessage;

// ---------------------------------------------------------------------------------------------
// Validation of webview messages (the host treats the webview as untrusted input)

/** Limits enforced by `isFromWebview`. */
export const LIMITS = {
  requestId: /^[A-Za-z0-9_-]{1,64}$/,
  methodId: /^[a-z][a-z0-9-]{0,63}$/,
  paramName: /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
  maxTarget: 10_000_000,
  maxParams: 64,
  maxStringParam: 4096,
  maxArrayParam: 64,
  maxCompareMethods: 12,
  /** 64 MiB of base64 */
  maxPngDataUrl: 64 * 1024 * 1024,
} as const;

const PNG_PREFIX = 'data:image/png;base64,';
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Exactly the required keys, plus any of the optional ones, and nothing else. */
function keysAre(o: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = Object.keys(o);
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) return false;
  for (const k of keys) if (!required.includes(k) && !optional.includes(k)) return false;
  return true;
}

const isRequestId = (v: unknown): v is string => typeof v === 'string' && LIMITS.requestId.test(v);
const isMethodId = (v: unknown): v is string => typeof v === 'string' && LIMITS.methodId.test(v);
const isIndexTarget = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= LIMITS.maxTarget;
/** A class index, or a structured target matching the grammar strictly. */
const isTarget = (v: unknown): v is PanelTarget => isIndexTarget(v) || isStructuredTarget(v);

function isParamValue(v: unknown): v is ParamValue {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'string') return v.length <= LIMITS.maxStringParam && !v.includes('\0');
  if (Array.isArray(v)) return v.length <= LIMITS.maxArrayParam && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  return false;
}

const VIEW_METHODS = ['heat_map', 'blended_heat_map', 'masked_image', 'alpha_scaling', 'original_image'];
const VIEW_SIGNS = ['absolute_value', 'positive', 'negative', 'all'];
const VIEW_COLORMAPS = ['auto', 'viridis', 'inferno', 'jet', 'gray'];

export function isViewSettings(v: unknown): v is ViewSettings {
  if (!isRecord(v) || !keysAre(v, ['method', 'sign', 'outlierPerc', 'alphaOverlay', 'colormap'], ['blendOver', 'beside'])) return false;
  const num = (x: unknown, lo: number, hi: number): boolean => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
  return VIEW_METHODS.includes(v.method as string) && VIEW_SIGNS.includes(v.sign as string) && VIEW_COLORMAPS.includes(v.colormap as string) &&
    num(v.outlierPerc, 0, 50) && num(v.alphaOverlay, 0, 1) &&
    (v.blendOver === undefined || v.blendOver === 'grayscale' || v.blendOver === 'color') && (v.beside === undefined || typeof v.beside === 'boolean');
}

function isParamValues(v: unknown): v is ParamValues {
  if (!isRecord(v)) return false;
  const keys = Object.keys(v);
  if (keys.length > LIMITS.maxParams) return false;
  return keys.every((k) => !FORBIDDEN_KEYS.has(k) && LIMITS.paramName.test(k) && isParamValue(v[k]));
}

function isPngDataUrl(v: unknown): v is string {
  return typeof v === 'string' && v.length <= LIMITS.maxPngDataUrl && v.startsWith(PNG_PREFIX) &&
    /^[A-Za-z0-9+/]+={0,2}$/.test(v.slice(PNG_PREFIX.length));
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isShortString = (v: unknown): v is string => typeof v === 'string' && v.length <= 256 && !v.includes('\0');

/** Known keys with plainly typed values; whether they fit the model is the engine's check. */
function isPreprocessValues(v: unknown): v is PreprocessValues {
  if (!isRecord(v) || !keysAre(v, [], PREPROCESS_KEYS)) return false;
  return Object.entries(v).every(([k, x]) => {
    switch (k as PreprocessKey) {
      case 'size':
        return Array.isArray(x) && x.length === 2 && x.every(isNum);
      case 'mean':
      case 'std':
        return Array.isArray(x) && x.length >= 1 && x.length <= 4 && x.every(isNum);
      case 'scale':
      case 'cropPct':
        return isNum(x);
      default:
        return isShortString(x);
    }
  });
}

/** Strict check of a message from the webview: known type, known keys only, typed and bounded values. */
export function isFromWebview(msg: unknown): msg is FromWebview {
  if (!isRecord(msg) || typeof msg.type !== 'string') return false;
  const m = msg;
  switch (m.type) {
    case 'ready':
    case 'openSettings':
      return keysAre(m, ['type']);
    case 'runAttribution':
      return keysAre(m, ['type', 'requestId', 'method', 'target', 'params']) &&
        isRequestId(m.requestId) && isMethodId(m.method) && isTarget(m.target) && isParamValues(m.params);
    case 'retarget':
      return keysAre(m, ['type', 'requestId', 'target']) && isRequestId(m.requestId) && isTarget(m.target);
    case 'cancel':
      return keysAre(m, ['type'], ['requestId']) && (m.requestId === undefined || isRequestId(m.requestId));
    case 'compare': {
      if (!keysAre(m, ['type', 'requestId', 'methods', 'target', 'sharedScale'], ['params'])) return false;
      if (!isRequestId(m.requestId) || !isTarget(m.target) || typeof m.sharedScale !== 'boolean') return false;
      const methods = m.methods;
      if (!Array.isArray(methods) || methods.length < 1 || methods.length > LIMITS.maxCompareMethods) return false;
      if (!methods.every(isMethodId) || new Set(methods).size !== methods.length) return false;
      if (m.params === undefined) return true;
      if (!isRecord(m.params)) return false;
      const per = m.params;
      return Object.keys(per).every((k) => methods.includes(k) && isParamValues(per[k]));
    }
    case 'export':
      if (!keysAre(m, ['type', 'requestId', 'format'], ['pngDataUrl', 'method', 'grid']) || !isRequestId(m.requestId)) return false;
      if (m.method !== undefined && !isMethodId(m.method)) return false;
      if (m.grid !== undefined && (m.grid !== true || m.method !== undefined || m.format !== 'png')) return false;
      if (m.format === 'png') return isPngDataUrl(m.pngDataUrl);
      return (m.format === 'npy' || m.format === 'json') && m.pngDataUrl === undefined;
    case 'setCompareMethods': {
      if (!keysAre(m, ['type', 'methods'])) return false;
      const methods = m.methods;
      return Array.isArray(methods) && methods.length <= LIMITS.maxCompareMethods && methods.every(isMethodId) && new Set(methods).size === methods.length;
    }
    case 'openCompareMap':
      return keysAre(m, ['type', 'requestId', 'method']) && isRequestId(m.requestId) && isMethodId(m.method);
    case 'changeMethod':
      return keysAre(m, ['type', 'method'], ['params']) && isMethodId(m.method) &&
        (m.params === undefined || isParamValues(m.params));
    case 'changeView':
      return keysAre(m, ['type', 'view']) && isViewSettings(m.view);
    case 'runText':
      return keysAre(m, ['type', 'requestId', 'method', 'params'], ['target']) && isRequestId(m.requestId) &&
        isMethodId(m.method) && (m.target === undefined || isIndexTarget(m.target)) && isParamValues(m.params);
    case 'exportText':
      return keysAre(m, ['type', 'requestId', 'format']) && isRequestId(m.requestId) && (m.format === 'json' || m.format === 'csv');
    case 'previewPreprocess':
    case 'savePreprocess':
      return keysAre(m, ['type', 'requestId', 'config']) && isRequestId(m.requestId) && isPreprocessValues(m.config);
    case 'runSanity': {
      const whole = (v: unknown, lo: number, hi: number) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi);
      return keysAre(m, ['type', 'requestId', 'method', 'target', 'params'], ['layers', 'seed']) && isRequestId(m.requestId) && isMethodId(m.method) &&
        isTarget(m.target) && isParamValues(m.params) && whole(m.layers, 1, SANITY_LIMITS.maxLayers) && whole(m.seed, 0, SANITY_LIMITS.maxSeed);
    }
    default:
      return false;
  }
}
