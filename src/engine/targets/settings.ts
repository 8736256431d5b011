import { OutputKindName, OutputSettings } from './types';

export const OUTPUT_KINDS: readonly OutputKindName[] = ['classification', 'dense', 'sequence', 'detection', 'other'];
const DECODES = ['ctc', 'argmax'] as const;
const KEYS = ['kind', 'threshold', 'decode', 'blank', 'dictionary', 'iou', 'format'] as const;

/** Checks the `output` key of `<model>.attrlens.json`; `fail` throws with the file's name. */
export function validateOutputSettings(v: unknown, fail: (msg: string) => never): OutputSettings {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail('"output" must be an object such as {"kind": "dense", "threshold": 0.3}');
  const out: OutputSettings = {};
  for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined || x === null) continue;
    switch (key) {
      case 'kind':
        if (!OUTPUT_KINDS.includes(x as OutputKindName)) fail(`"output.kind" must be one of ${OUTPUT_KINDS.map((k) => `"${k}"`).join(', ')} (got ${JSON.stringify(x)})`);
        out.kind = x as OutputKindName;
        break;
      case 'decode':
        if (!DECODES.includes(x as 'ctc')) fail(`"output.decode" must be one of "ctc", "argmax" (got ${JSON.stringify(x)})`);
        out.decode = x as 'ctc' | 'argmax';
        break;
      case 'threshold':
      case 'iou':
        if (typeof x !== 'number' || !Number.isFinite(x)) fail(`"output.${key}" must be a number such as ${key === 'iou' ? 0.45 : 0.3} (got ${JSON.stringify(x)})`);
        out[key] = x as number;
        break;
      case 'blank':
        if (!Number.isInteger(x) || (x as number) < 0) fail(`"output.blank" must be a class index such as 0 (got ${JSON.stringify(x)})`);
        out.blank = x as number;
        break;
      case 'dictionary':
      case 'format':
        if (typeof x !== 'string' || x === '') fail(`"output.${key}" must be ${key === 'dictionary' ? 'a file name beside the model such as "ppocr_keys_v1.txt"' : 'a name such as "yolov5"'} (got ${JSON.stringify(x)})`);
        out[key] = x as string;
        break;
      default:
        fail(`unknown key "output.${key}"; allowed keys in "output": ${KEYS.join(', ')}`);
    }
  }
  return out;
}
