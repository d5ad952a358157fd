/**
 * The seeded random source of a world: xoshiro128** (Blackman and Vigna),
 * 32-bit outputs, state seeded through splitmix32.  Where OpenBSD calls
 * arc4random(9) (ISNs, IP ids, ephemeral ports, SYN cache secrets) the
 * kernel here draws from its machine's Random, so a lab replays exactly.
 *
 * fork(label) derives a child from the parent's seed and the label only,
 * never from how much the parent was used, so adding a machine (or a cable)
 * to a lab leaves every other stream unchanged.
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit counter. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a label. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** The seed words this stream started from (forks derive from these). */
  private readonly key: readonly [number, number, number, number];

  /**
   * A stream from a seed: a non-negative integer up to 2^53 (both halves are
   * used), or four 32-bit key words (what fork() passes).
   */
  constructor(seed: number | readonly [number, number, number, number] = 0) {
    if (typeof seed === 'number') {
      if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Random: seed must be a non-negative safe integer, got ${seed}`);
      const lo = seed >>> 0;
      const hi = Math.floor(seed / 4294967296) >>> 0;
      const x = lo ^ mix32(hi);
      const k0 = mix32(x + 0x632be5ab);
      const k1 = mix32(x + 2 * 0x632be5ab);
      const k2 = mix32(x + 3 * 0x632be5ab);
      const k3 = mix32(x + 4 * 0x632be5ab);
      this.key = [k0, k1, k2, k3];
    } else {
      this.key = [seed[0] >>> 0, seed[1] >>> 0, seed[2] >>> 0, seed[3] >>> 0];
    }
    this.s0 = this.key[0] | 0;
    this.s1 = this.key[1] | 0;
    this.s2 = this.key[2] | 0;
    this.s3 = this.key[3] | 0;
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9 | 0;
  }

  /** A uniformly distributed 32-bit unsigned integer (arc4random()). */
  arc4random(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return r;
  }

  /**
   * Uniform in [0, bound) without modulo bias, by arc4random_uniform()'s
   * rejection: draws below 2^32 mod bound are discarded.  bound in [0, 2^32].
   */
  arc4random_uniform(bound: number): number {
    if (bound < 2) return 0;
    if (bound >= 4294967296) return this.arc4random();
    const min = 4294967296 % bound;
    let r: number;
    do r = this.arc4random();
    while (r < min);
    return r % bound;
  }

  /** Uniform integer in [lo, hi] (inclusive), hi - lo < 2^32. */
  range(lo: number, hi: number): number {
    return lo + this.arc4random_uniform(hi - lo + 1);
  }

  /** Uniform in [0, 1), 32 bits of precision. */
  float(): number {
    return this.arc4random() * 2.3283064365386963e-10;
  }

  /** True with probability p (cable loss and the like); p <= 0 never draws. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** Fill bytes (arc4random_buf()). */
  arc4random_buf(buf: Uint8Array, off = 0, len = buf.length - off): void {
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const r = this.arc4random();
      buf[off + i] = r;
      buf[off + i + 1] = r >>> 8;
      buf[off + i + 2] = r >>> 16;
      buf[off + i + 3] = r >>> 24;
    }
    if (i < len) {
      let r = this.arc4random();
      for (; i < len; i++, r >>>= 8) buf[off + i] = r;
    }
  }

  /**
   * An independent stream named by `label` (e.g. a machine's name): depends
   * on this stream's seed and the label, not on draws made so far.
   */
  fork(label: string): Random {
    const h = fnv1a(label);
    const [a, b, c, d] = this.key;
    const k0 = mix32(a ^ h);
    const k1 = mix32(b ^ mix32(h ^ k0));
    const k2 = mix32(c ^ mix32(h ^ k1));
    const k3 = mix32(d ^ mix32(h ^ k2));
    return new Random([k0, k1, k2, k3]);
  }

  /** The current state, to save and restore a stream (checkpoints, tests). */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(s: readonly [number, number, number, number]): void {
    this.s0 = s[0] | 0;
    this.s1 = s[1] | 0;
    this.s2 = s[2] | 0;
    this.s3 = s[3] | 0;
  }
}
