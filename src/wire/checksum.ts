/**
 * The Internet checksum (RFC 1071), its pseudo-headers for IPv4 and IPv6,
 * and the incremental update of RFC 1624 used when a router rewrites a field
 * (TTL, NAT addresses) without summing the whole packet again.
 */

/**
 * One's complement sum of `len` bytes at `off`, folded to 16 bits, starting
 * from `initial` (an unfolded partial sum, e.g. of a pseudo-header).
 * An odd trailing byte is padded with zero, as the RFC says.
 *
 * Long runs are summed 32 bits at a time through a Uint32Array over the
 * buffer (little-endian hosts): carries are deferred in a double, and the
 * little-endian word sum is the byte-swapped big-endian one (RFC 1071's
 * byte order independence), swapped back unless the aligned run starts at
 * an odd distance from `off`.
 */
export function sum16(b: Uint8Array, off: number, len: number, initial = 0): number {
  if (len >= FAST_MIN && LITTLE_ENDIAN) {
    if (len >= SIMD_MIN && b.length <= SIMD_BYTES && simdSum !== null) return sum16Simd(b, off, len, initial);
    return sum16Fast(b, off, len, initial);
  }
  return sum16Bytes(b, off, len, initial);
}

/** The byte-at-a-time sum: short runs, big-endian hosts, and the reference for tests. */
export function sum16Bytes(b: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  if (len < FAST_MIN && initial < 0x40000000) {
    // A header: fewer than 32 words cannot carry the sum past 2^31.
    for (; i + 3 < end; i += 4) sum += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]);
  }
  // Sum 16-bit words; fold every so often so the number stays a small integer.
  for (; i + 1 < end; i += 2) {
    sum += (b[i] << 8) | b[i + 1];
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Below this many bytes the word view is not worth its lookup. */
const FAST_MIN = 64;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Words summed before the double is folded (2^20 words of < 2^32 stay below 2^53). */
const CHUNK_WORDS = 1 << 20;

/** One Uint32Array per large buffer, made once (buffers are recycled, not reallocated). */
const views = new WeakMap<ArrayBufferLike, Uint32Array>();
/** The last buffer looked up: a socket buffer's ring is summed segment after segment. */
let lastBuffer: ArrayBufferLike | null = null;
let lastView: Uint32Array | null = null;
/**
 * Packet-sized buffers are copied here whole (one memcpy, no allocation)
 * rather than looked up: cheaper than a WeakMap lookup per packet.
 */
const SCRATCH = 4096;
const scratch8 = new Uint8Array(SCRATCH);
const scratch32 = new Uint32Array(scratch8.buffer);

function u32view(ab: ArrayBufferLike): Uint32Array {
  if (ab === lastBuffer) return lastView!;
  let v = views.get(ab);
  if (v === undefined) {
    v = new Uint32Array(ab, 0, ab.byteLength >>> 2);
    views.set(ab, v);
  }
  lastBuffer = ab;
  lastView = v;
  return v;
}

/** Fold a non-negative integer below 2^53 to 16 bits with end-around carry. */
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

function sum16Fast(b: Uint8Array, off: number, len: number, initial: number): number {
  const end = off + len;
  // Packet buffers are copied, larger ones (a socket buffer's ring) viewed
  // in place; .buffer and .byteOffset are getters, read only when needed.
  let bo = 0;
  let u: Uint32Array;
  if (b.length <= SCRATCH) {
    scratch8.set(b);
    u = scratch32;
  } else {
    u = u32view(b.buffer);
    bo = b.byteOffset;
  }
  let i = off;
  // Bytes before the first 4-byte boundary: high byte at an even distance from off.
  let edge = 0;
  while (((bo + i) & 3) !== 0) {
    edge += (i - off) & 1 ? b[i]! : b[i]! << 8;
    i++;
  }
  const odd = (i - off) & 1;
  let j = (bo + i) >>> 2;
  const je = j + ((end - i) >>> 2);
  i = end - ((end - i) & 3);
  let le = 0;
  while (j < je) {
    const stop = je - j > CHUNK_WORDS ? j + CHUNK_WORDS : je;
    let a = 0;
    // Sixteen words a step, added as a tree (shorter dependency chains than a row of adds).
    for (; j + 15 < stop; j += 16) {
      a +=
        u[j]! + u[j + 1]! + (u[j + 2]! + u[j + 3]!) + (u[j + 4]! + u[j + 5]! + (u[j + 6]! + u[j + 7]!)) +
        (u[j + 8]! + u[j + 9]! + (u[j + 10]! + u[j + 11]!) + (u[j + 12]! + u[j + 13]! + (u[j + 14]! + u[j + 15]!)));
    }
    for (; j + 3 < stop; j += 4) a += u[j]! + u[j + 1]! + (u[j + 2]! + u[j + 3]!);
    for (; j < stop; j++) a += u[j]!;
    le = fold(le + fold(a));
  }
  // le sums little-endian 16-bit words from i0: swap unless i0 - off is odd.
  if (!odd) le = ((le & 0xff) << 8) | (le >>> 8);
  for (; i < end; i++) edge += (i - off) & 1 ? b[i]! : b[i]! << 8;
  return fold(initial + edge + le);
}

/**
 * Packet-sized buffers (a frame in its cluster) are summed by a small
 * WebAssembly function with 128-bit vectors: the buffer is copied whole
 * into the module's memory (one memcpy, nothing allocated) and summed
 * there as little-endian 16-bit words, eight lanes at a time, widened
 * pairwise into four 32-bit lanes.  Its source is checksum.wat beside
 * this file (WebAssembly text); SIMD_WASM is its binary encoding, and a
 * test assembles the text with wabt and compares the bytes.
 *
 * A lane gains at most 2 * 0xffff per vector, so 4096 bytes cannot carry
 * it out.  Without WebAssembly SIMD (or on a big-endian host) the word
 * path sums instead.
 */
export const SIMD_WASM =
  'AGFzbQEAAAABBwFgAn9/AX8DAgEABQMBAAEHCQIBbQIAAXMAAAqRAgGOAgMBfwJ7AX8gACABQUBxaiECAkADQCAAIAJPDQEgAyAA/QAEAP1//a4BIQMgBCAA/QAEEP1//a4B' +
  'IQQgAyAA/QAEIP1//a4BIQMgBCAA/QAEMP1//a4BIQQgAEHAAGohAAwACwsgACABQTBxaiECAkADQCAAIAJPDQEgAyAA/QAEAP1//a4BIQMgAEEQaiEADAALCyADIAT9rgEh' +
  'AyAD/RsAIAP9GwFqIAP9GwIgA/0bA2pqIQUgACABQQ5xaiECAkADQCAAIAJPDQEgBSAALwEAaiEFIABBAmohAAwACwsgAUEBcQRAIAUgAC0AAGohBQsgBUH//wNxIAVBEHZq' +
  'IQUgBUH//wNxIAVBEHZqCw==';
/** Largest buffer copied into the module's memory (larger ones are summed in place by the word path). */
const SIMD_BYTES = 4096;
/** Below this many bytes the copy into the module costs more than the vectors save. */
const SIMD_MIN = 256;
/** What is used here of the WebAssembly API (not in the ES2022 library's typings). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};
let simdSum: ((p: number, n: number) => number) | null = null;
let simdMem: Uint8Array | null = null;
try {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SIMD_WASM, 'base64')));
  const ex = inst.exports as { m: { buffer: ArrayBuffer }; s: (p: number, n: number) => number };
  simdMem = new Uint8Array(ex.m.buffer);
  simdSum = ex.s;
} catch {
  simdSum = null;
}

/** Whether packet-sized runs are summed with the WebAssembly vectors on this host. */
export const SUM16_SIMD = simdSum !== null && LITTLE_ENDIAN;

function sum16Simd(b: Uint8Array, off: number, len: number, initial: number): number {
  simdMem!.set(b);
  const le = simdSum!(off, len);
  // Little-endian words: the big-endian sum byte-swapped (RFC 1071's byte order independence).
  return fold(initial + (((le & 0xff) << 8) | (le >>> 8)));
}

/** The last view of the module's memory sum16Copy() copied from (frames of one flow: the same run each time). */
let copyView: Uint8Array | null = null;
let copyStart = -1;

/**
 * sum16() of len bytes at b[off], copying the last len - skip of them to
 * dst[dstOff] on the way: a NIC's DMA of a frame's payload that checks
 * its checksum.  A cluster-sized buffer is copied once, into the vector
 * sum's memory, and the payload from there; nothing is allocated while
 * frames of one size follow each other.
 */
export function sum16Copy(b: Uint8Array, off: number, len: number, initial: number, skip: number, dst: Uint8Array, dstOff: number): number {
  const start = off + skip;
  const n = len - skip;
  if (len >= SIMD_MIN && b.length <= SIMD_BYTES && SUM16_SIMD) {
    simdMem!.set(b);
    const le = simdSum!(off, len);
    let v = copyView;
    if (v === null || copyStart !== start || v.length !== n) {
      v = simdMem!.subarray(start, start + n);
      copyView = v;
      copyStart = start;
    }
    dst.set(v, dstOff);
    return fold(initial + (((le & 0xff) << 8) | (le >>> 8)));
  }
  for (let i = 0; i < n; i++) dst[dstOff + i] = b[start + i]!;
  return sum16(b, off, len, initial);
}

/** The checksum field value: complement of the folded sum. */
export function checksum(b: Uint8Array, off: number, len: number, initial = 0): number {
  return ~sum16(b, off, len, initial) & 0xffff;
}

/** Partial sum of the IPv4 pseudo-header (src, dst, protocol, upper-layer length). */
export function pseudoSum4(src: number, dst: number, proto: number, len: number): number {
  let s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/**
 * Partial sum of the IPv6 pseudo-header: source and destination addresses
 * (16 bytes each, read in place at `srcOff`/`dstOff` of `b`), the 32-bit
 * upper-layer length and the next header.
 */
export function pseudoSum6(b: Uint8Array, srcOff: number, dstOff: number, proto: number, len: number): number {
  let s = proto + (len >>> 16) + (len & 0xffff);
  for (let i = 0; i < 16; i += 2) {
    s += (b[srcOff + i] << 8) | b[srcOff + i + 1];
    s += (b[dstOff + i] << 8) | b[dstOff + i + 1];
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/**
 * RFC 1624 eqn. 3: the new checksum after a 16-bit word of the covered data
 * changed from `oldWord` to `newWord`.  HC' = ~(~HC + ~m + m').
 */
export function adjust16(cksum: number, oldWord: number, newWord: number): number {
  let s = (~cksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** RFC 1624 update for a changed 32-bit value (an IPv4 address). */
export function adjust32(cksum: number, oldVal: number, newVal: number): number {
  return adjust16(adjust16(cksum, oldVal >>> 16, newVal >>> 16), oldVal & 0xffff, newVal & 0xffff);
}
