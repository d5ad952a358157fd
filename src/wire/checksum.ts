/**
 * The Internet checksum (RFC 1071), its pseudo-headers for IPv4 and IPv6,
 * and the incremental update of RFC 1624 used when a router rewrites a field
 * (TTL, NAT addresses) without summing the whole packet again.
 */

/**
 * One's complement sum of `len` bytes at `off`, folded to 16 bits, starting
 * from `initial` (an unfolded partial sum, e.g. of a pseudo-header).
 * An odd trailing byte is padded with zero, as the RFC says.
 */
export function sum16(b: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  // Sum 16-bit words; fold every so often so the number stays a small integer.
  for (; i + 1 < end; i += 2) {
    sum += (b[i] << 8) | b[i + 1];
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
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
