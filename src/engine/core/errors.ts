/** An error meant for the user: one line saying what is wrong and what to do. */
export class AttrLensError extends Error {
  constructor(message: string, readonly code: string = 'EATTRLENS') {
    // Names inside messages come from user files and may hold control characters: keep the
    // message on one line whatever they contain.
    super(message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    this.name = 'AttrLensError';
  }
}

/** Thrown when work is cancelled through an AbortSignal. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Names closest to `name` by edit distance, for "did you mean" hints. */
export function closest(name: string, candidates: Iterable<string>, n = 3): string[] {
  const scored: Array<[number, string]> = [];
  for (const c of candidates) scored.push([editDistance(name.toLowerCase(), c.toLowerCase()), c]);
  scored.sort((a, b) => a[0] - b[0]);
  return scored.slice(0, n).map(([, c]) => c);
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
