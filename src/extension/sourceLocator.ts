// Finds the Python line that defines a module (`self.layer4 = ...`) for "Go to Source" (vscode-free).
import { attributeName } from './moduleTree';

export interface SourceFile {
  path: string;
  text: string;
}

export interface SourceHit {
  path: string;
  /** 0-based */
  line: number;
  /** 0-based column of the attribute name */
  column: number;
  name: string;
}

function definitions(text: string, name: string): Array<{ line: number; column: number }> {
  // `self.name = ...` or `self.name: Type = ...`, not `self.name == ...`
  const re = new RegExp(`^([ \\t]*self\\.)${name}[ \\t]*(?::[^=\\n]*)?=(?!=)`, 'gm');
  const hits: Array<{ line: number; column: number }> = [];
  for (const m of text.matchAll(re)) {
    const before = text.slice(0, m.index);
    const line = before.split('\n').length - 1;
    hits.push({ line, column: m[1].length });
  }
  return hits;
}

/**
 * The definition of the deepest module in `path` that some file defines. When several files
 * define it, the one that also defines more of the path's other modules wins (then the first).
 */
export function findModuleDefinition(path: readonly string[], files: readonly SourceFile[]): SourceHit | undefined {
  const names = path.map(attributeName).filter((n): n is string => n !== undefined);
  for (let i = names.length - 1; i >= 0; i--) {
    const name = names[i];
    const others = names.filter((n) => n !== name);
    let best: { hit: SourceHit; score: number } | undefined;
    for (const f of files) {
      const defs = definitions(f.text, name);
      if (defs.length === 0) continue;
      const score = others.filter((o) => definitions(f.text, o).length > 0).length;
      if (!best || score > best.score) best = { hit: { path: f.path, line: defs[0].line, column: defs[0].column, name }, score };
    }
    if (best) return best.hit;
  }
  return undefined;
}
