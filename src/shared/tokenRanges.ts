// Where each token of a text attribution lies in the text, for drawing the scores back into the
// editor. The tokenizers here give token strings, not offsets: each token's text (without its
// subword marks: `##`, `Ġ`, `▁`, `</w>`) is matched left to right, ignoring case and accents
// (uncased BERT lowercases and strips them). Tokens that match nowhere near ([UNK], byte-level
// pieces of non-ASCII text) and special tokens get no range.
import type { TextToken } from './protocol';

export interface TokenRange {
  /** offsets into the text, end exclusive */
  start: number;
  end: number;
}

/** One character as uncased tokenizers see it: lower case, accents stripped. */
function fold(ch: string): string {
  const f = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return f.length === 1 ? f : ch.toLowerCase().length === 1 ? ch.toLowerCase() : ch;
}

/** The token's text as it appears in the input. */
export function tokenSurface(token: string): string {
  return token.replace(/^(##|Ġ|▁|Ċ)+/, '').replace(/<\/w>$/, '').replace(/@@$/, '');
}

/** `maxSkip`: how many characters other than whitespace may lie between two matched tokens. */
export function tokenRanges(text: string, tokens: readonly Pick<TextToken, 'text' | 'special'>[], maxSkip = 2): Array<TokenRange | undefined> {
  const folded = Array.from(text, fold);
  // code-unit offset of each code point, so ranges index the original string
  const at: number[] = [];
  let o = 0;
  for (const ch of text) { at.push(o); o += ch.length; }
  at.push(o);
  const norm = folded.join('');
  // folded characters are one code unit each except the rare ones kept whole; map back by index
  const normAt: number[] = [];
  folded.forEach((f, i) => { for (let k = 0; k < f.length; k++) normAt.push(i); });
  normAt.push(folded.length);
  let cursor = 0; // in `norm`
  return tokens.map((t) => {
    if (t.special) return undefined;
    const piece = Array.from(tokenSurface(t.text), fold).join('');
    if (!piece || /^\[.*\]$|^<.*>$/.test(piece)) return undefined;
    const i = norm.indexOf(piece, cursor);
    if (i < 0) return undefined;
    const gap = norm.slice(cursor, i);
    if (gap.replace(/\s+/g, '').length > maxSkip) return undefined;
    cursor = i + piece.length;
    return { start: at[normAt[i]], end: at[normAt[i + piece.length]] };
  });
}
