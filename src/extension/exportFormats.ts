// Bytes for Export Attribution: NPY (NumPy), JSON, PNG from the panel's canvas (vscode-free).
import * as path from 'path';
import { encodeNpy } from '../engine/inputs/npy';
import { base64ToBytes, base64ToFloat32 } from '../shared/base64';
import type { AttributionPayload, Prediction } from '../shared/protocol';

export type ExportFormat = 'png' | 'npy' | 'json';

export interface ExportContext {
  model: string;
  image?: string;
  predictions?: Prediction[];
}

/** The raw attribution map as a float32 .npy, in the shape the engine returned. */
export function npyBytes(payload: AttributionPayload): Uint8Array {
  const data = base64ToFloat32(payload.map.data);
  return encodeNpy({ dtype: 'float32', dims: [...payload.map.dims], data });
}

/** Everything about one run, with the values flattened row-major next to their dims. */
export function jsonBytes(payload: AttributionPayload, ctx: ExportContext): Uint8Array {
  const values = Array.from(base64ToFloat32(payload.map.data));
  const doc = {
    model: ctx.model,
    image: ctx.image,
    method: payload.method,
    target: payload.target,
    targetLabel: payload.targetLabel,
    layer: payload.layer,
    params: payload.params,
    delta: payload.delta,
    seconds: payload.seconds,
    predictions: ctx.predictions,
    input: payload.map.input,
    dims: payload.map.dims,
    min: payload.map.min,
    max: payload.map.max,
    values,
  };
  return new TextEncoder().encode(JSON.stringify(doc, null, 1) + '\n');
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The PNG inside a `data:image/png;base64,` URL; throws when it is not one. */
export function pngFromDataUrl(url: string): Uint8Array {
  const prefix = 'data:image/png;base64,';
  if (!url.startsWith(prefix)) throw new Error('not a PNG data URL');
  const bytes = base64ToBytes(url.slice(prefix.length));
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error('the data is not a PNG image');
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Where exports go: one output folder, never beside the inputs (an exported PNG there would be
// offered as an input image).

/** The `attributionLens.outputFolder` default, relative to the workspace folder. */
export const DEFAULT_OUTPUT_FOLDER = '.attribution-lens/exports';

/**
 * The folder exports are written to. `setting` may be absolute, relative to the workspace folder,
 * start with `~/`, or use `${workspaceFolder}`; empty means the default. Without a workspace
 * folder, relative paths resolve against `fallbackDir` (the model's folder).
 */
export function resolveOutputFolder(setting: string | undefined, workspaceFolder: string | undefined, fallbackDir: string, home = ''): string {
  const base = workspaceFolder ?? fallbackDir;
  let s = (setting ?? '').trim() || DEFAULT_OUTPUT_FOLDER;
  s = s.replace(/\$\{workspaceFolder\}/g, base);
  if (home && (s === '~' || s.startsWith('~/'))) s = path.join(home, s.slice(1));
  return path.resolve(base, s);
}

/** True when `file` is `folder` or lies under it. */
export function isUnder(file: string, folder: string): boolean {
  const rel = path.relative(path.resolve(folder), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** `red-circle-integrated-gradients-0.png`: the image's base name, method, target. */
export function exportFileName(imageFile: string, method: string, target: number, format: ExportFormat): string {
  const stem = path.basename(imageFile, path.extname(imageFile)) || 'attribution';
  return `${stem}-${method}-${target}.${format}`;
}
