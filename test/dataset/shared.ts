// Hand-made datasets on the shapes sample: every picture's colour is known (samples/shapes:
// the model predicts each one's colour with probability > 0.6, test/sample/shapes.test.ts),
// so a folder that files some pictures under another colour has a known confusion matrix.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHAPES = path.join(ROOT, 'samples', 'shapes');
export const MODEL = path.join(SHAPES, 'model.onnx');
export const CLASSES = ['red', 'green', 'blue', 'yellow'];

/** The colour a sample picture shows, from its name (red-circle.png → red). */
export const colourOf = (picture: string): string => picture.split('-')[0];

/** Copies sample pictures into DIR/<label>/ as the layout says; returns the (label, picture) pairs. */
export function shapesFolder(dir: string, layout: Record<string, string[]>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [label, pictures] of Object.entries(layout)) {
    fs.mkdirSync(path.join(dir, label), { recursive: true });
    for (const p of pictures) {
      fs.copyFileSync(path.join(SHAPES, 'images', p), path.join(dir, label, p));
      pairs.push([label, p]);
    }
  }
  return pairs;
}

/** confusion[true][predicted] from the ground truth: the folder is the true label, the picture's colour the prediction. */
export function expectedConfusion(pairs: Array<[string, string]>, classes = CLASSES): number[][] {
  const m = classes.map(() => classes.map(() => 0));
  for (const [label, picture] of pairs) m[classes.indexOf(label)][classes.indexOf(colourOf(picture))]++;
  return m;
}

/** The layout most tests use: 8 pictures under their own colour, 4 under another one. */
export const MIXED: Record<string, string[]> = {
  red: ['red-circle.png', 'red-triangle.png', 'blue-square.png'],
  green: ['green-circle.png', 'green-square.png', 'yellow-circle.png'],
  blue: ['blue-square.png', 'blue-triangle.png'],
  yellow: ['yellow-circle.png', 'yellow-triangle.png', 'red-circle.png', 'green-square.png'],
};
