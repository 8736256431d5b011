/** Seeded PRNG (mulberry32) with a normal sampler: the same seed gives the same attribution. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    return (this.bits() >>> 0) / 4294967296;
  }
  /** 32 random bits as a signed int32 */
  private bits(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return t ^ (t >>> 14);
  }
  /** Standard normal by Marsaglia and Tsang's ziggurat: ~98.8% of draws take one table compare. */
  normal(): number {
    for (;;) {
      const i = this.bits() & 127;
      const hz = this.bits();
      if (Math.abs(hz) < ZIG.k[i]) return hz * ZIG.w[i];
      const x = hz * ZIG.w[i];
      if (i === 0) {
        // the tail beyond R, by Marsaglia's exponential rejection
        let a: number, b: number;
        do {
          a = -Math.log(1 - this.next()) / ZIG_R;
          b = -Math.log(1 - this.next());
        } while (b + b < a * a);
        return hz > 0 ? ZIG_R + a : -ZIG_R - a;
      }
      if (ZIG.f[i] + this.next() * (ZIG.f[i - 1] - ZIG.f[i]) < Math.exp(-0.5 * x * x)) return x;
    }
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fisher–Yates permutation of 0..n-1 */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}

// Ziggurat tables for the normal density (128 layers of equal area V, base strip to R).
const ZIG_R = 3.442619855899;
const ZIG = ((): { k: Float64Array; w: Float64Array; f: Float64Array } => {
  const V = 9.91256303526217e-3;
  const m = 2147483648;
  const k = new Float64Array(128), w = new Float64Array(128), f = new Float64Array(128);
  let d = ZIG_R, t = d;
  const q = V / Math.exp(-0.5 * d * d);
  k[0] = (d / q) * m;
  k[1] = 0;
  w[0] = q / m;
  w[127] = d / m;
  f[0] = 1;
  f[127] = Math.exp(-0.5 * d * d);
  for (let i = 126; i >= 1; i--) {
    d = Math.sqrt(-2 * Math.log(V / d + Math.exp(-0.5 * d * d)));
    k[i + 1] = (d / t) * m;
    t = d;
    f[i] = Math.exp(-0.5 * d * d);
    w[i] = d / m;
  }
  return { k, w, f };
})();
