// A region's mask as the engine lists it (src/engine/targets/region.ts) and the panel draws it:
// the row-major mask of the output map run-length encoded, runs alternating off/on starting with
// off. A mask whose runs would exceed MAX_MASK_RUNS is downsampled by an integer `factor` (a cell
// is on when any map cell it covers is), so `width` × `height` may be smaller than the map.

export interface RegionMask {
  width: number;
  height: number;
  /** alternating off/on run lengths, starting with off (possibly 0), summing to width × height */
  runs: number[];
  /** each cell covers factor × factor cells of the output map (1 when absent) */
  factor?: number;
}

/** At most this many runs in one mask (about 40 KB of JSON). */
export const MAX_MASK_RUNS = 8000;
/** At most this many cells a side. */
export const MAX_MASK_SIDE = 4096;

const isCount = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** A well-formed, bounded mask: sizes and runs capped, the runs covering the grid exactly. */
export function isRegionMask(v: unknown): v is RegionMask {
  if (!v || typeof v !== 'object') return false;
  const m = v as Record<string, unknown>;
  if (!isCount(m.width, MAX_MASK_SIDE) || !isCount(m.height, MAX_MASK_SIDE) || m.width < 1 || m.height < 1) return false;
  if (m.factor !== undefined && (!isCount(m.factor, MAX_MASK_SIDE) || m.factor < 1)) return false;
  if (!Array.isArray(m.runs) || m.runs.length > MAX_MASK_RUNS) return false;
  const total = m.width * m.height;
  let sum = 0;
  for (const r of m.runs) {
    if (!isCount(r, total)) return false;
    sum += r;
  }
  return sum === total;
}

/** The mask's cells, row-major, 1 where the region is. */
export function decodeRegionMask(m: RegionMask): Uint8Array {
  const out = new Uint8Array(m.width * m.height);
  let at = 0;
  m.runs.forEach((r, i) => {
    if (i % 2 === 1) out.fill(1, at, Math.min(out.length, at + r));
    at += r;
  });
  return out;
}

/** A mask's copy with only its known fields, or undefined when it is malformed or too large. */
export function cleanRegionMask(v: unknown): RegionMask | undefined {
  if (!isRegionMask(v)) return undefined;
  return { width: v.width, height: v.height, runs: v.runs.slice(), ...(v.factor !== undefined && v.factor !== 1 ? { factor: v.factor } : {}) };
}

/** An SVG path filling the mask's cells (one rectangle a row's run), in mask cells. */
export function maskFillPath(m: RegionMask): string {
  const parts: string[] = [];
  let at = 0;
  m.runs.forEach((r, i) => {
    if (i % 2 === 1) {
      let a = at;
      const end = Math.min(at + r, m.width * m.height);
      while (a < end) {
        const y = Math.floor(a / m.width), x = a % m.width;
        const len = Math.min(end - a, m.width - x);
        parts.push(`M${x} ${y}h${len}v1h${-len}z`);
        a += len;
      }
    }
    at += r;
  });
  return parts.join('');
}

/** An SVG path along the mask's boundary (cell edges between in and out), in mask cells. */
export function maskOutlinePath(m: RegionMask, cells: Uint8Array = decodeRegionMask(m)): string {
  const { width: w, height: h } = m;
  const on = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && cells[y * w + x] === 1;
  const parts: string[] = [];
  for (let y = 0; y <= h; y++) {
    for (let x = 0; x < w; ) {
      if (on(x, y - 1) === on(x, y)) { x++; continue; }
      const x0 = x;
      while (x < w && on(x, y - 1) !== on(x, y)) x++;
      parts.push(`M${x0} ${y}H${x}`);
    }
  }
  for (let x = 0; x <= w; x++) {
    for (let y = 0; y < h; ) {
      if (on(x - 1, y) === on(x, y)) { y++; continue; }
      const y0 = y;
      while (y < h && on(x - 1, y) !== on(x, y)) y++;
      parts.push(`M${x} ${y0}V${y}`);
    }
  }
  return parts.join('');
}
