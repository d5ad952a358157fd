/**
 * UDP (RFC 768).  The checksum covers a pseudo-header that the caller sums
 * with pseudoSum4/pseudoSum6 from checksum.ts, using IPPROTO_UDP (17) and the
 * UDP length field as the upper-layer length.
 */

import { EMPTY, get16, put16 } from './bytes.js';
import { checksum, sum16 } from './checksum.js';
import { WireCode, WireError } from './error.js';

export const UDP_HDRLEN = 8;

/** A reusable view of a UDP datagram at `off` of `buf`, `len` bytes long. */
export class UdpPacket {
  constructor(
    public buf: Uint8Array = EMPTY,
    public off = 0,
    public len = buf.length - off,
  ) {}

  wrap(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /**
   * Ok when the header fits and 8 <= length <= len.  A length shorter than
   * len is allowed (the IP layer may carry trailing bytes; udp_input trims).
   */
  check(): WireCode {
    if (this.len < UDP_HDRLEN) return WireCode.Truncated;
    const l = this.length;
    if (l < UDP_HDRLEN) return WireCode.Malformed;
    if (l > this.len) return WireCode.Truncated;
    return WireCode.Ok;
  }

  get srcPort(): number {
    return get16(this.buf, this.off);
  }
  set srcPort(v: number) {
    put16(this.buf, this.off, v);
  }

  get dstPort(): number {
    return get16(this.buf, this.off + 2);
  }
  set dstPort(v: number) {
    put16(this.buf, this.off + 2, v);
  }

  /** The length field: header plus payload. */
  get length(): number {
    return get16(this.buf, this.off + 4);
  }
  set length(v: number) {
    put16(this.buf, this.off + 4, v);
  }

  get checksum(): number {
    return get16(this.buf, this.off + 6);
  }
  set checksum(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  get headerLength(): number {
    return UDP_HDRLEN;
  }

  get payloadOffset(): number {
    return this.off + UDP_HDRLEN;
  }

  /** From the length field, not from len. */
  get payloadLength(): number {
    return this.length - UDP_HDRLEN;
  }

  /**
   * True when the datagram (`length` bytes) sums correctly with the
   * pseudo-header sum `pseudo`.  Over IPv4 a zero checksum field means the
   * sender computed none: test `checksum === 0` before calling this.
   */
  verifyChecksum(pseudo: number): boolean {
    return sum16(this.buf, this.off, this.length, pseudo) === 0xffff;
  }

  /** Compute and store the checksum; a computed 0 is sent as 0xffff (0 means "none"). */
  fillChecksum(pseudo: number): void {
    this.checksum = 0;
    const c = checksum(this.buf, this.off, this.length, pseudo);
    this.checksum = c === 0 ? 0xffff : c;
  }
}

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** The payload (length field minus 8 bytes); aliases the parsed buffer. */
  payload: Uint8Array;
}

/**
 * Parse and validate a datagram.  With `pseudo` (the pseudo-header sum), a
 * non-zero checksum is verified; with `ipv6` a zero checksum is an error
 * too, since IPv6 makes the checksum mandatory (RFC 8200 8.1).
 */
export function parseUdp(buf: Uint8Array, off: number, len: number, pseudo?: number, ipv6 = false): UdpRepr | WireError {
  const p = new UdpPacket(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) {
    const detail = len < UDP_HDRLEN ? `${len} bytes, header needs ${UDP_HDRLEN}` : `length field ${p.length}, ${len} bytes available`;
    return WireError.fromCode('udp', code, detail);
  }
  if (pseudo !== undefined) {
    if (p.checksum === 0) {
      if (ipv6) return new WireError('udp', 'malformed', 'zero checksum over IPv6');
    } else if (!p.verifyChecksum(pseudo)) {
      return new WireError('udp', 'malformed', `bad checksum 0x${p.checksum.toString(16)}`);
    }
  }
  return { srcPort: p.srcPort, dstPort: p.dstPort, payload: buf.subarray(p.payloadOffset, off + p.length) };
}

export function udpReprLength(repr: UdpRepr): number {
  return UDP_HDRLEN + repr.payload.length;
}

/**
 * Write header and payload; returns the bytes written.  With `pseudo` (the
 * pseudo-header sum over udpReprLength(repr)) the checksum is filled, else
 * it is left 0, which IPv4 reads as "no checksum".
 */
export function emitUdp(repr: UdpRepr, buf: Uint8Array, off: number, pseudo?: number): number {
  const n = UDP_HDRLEN + repr.payload.length;
  put16(buf, off, repr.srcPort);
  put16(buf, off + 2, repr.dstPort);
  put16(buf, off + 4, n);
  put16(buf, off + 6, 0);
  buf.set(repr.payload, off + UDP_HDRLEN);
  if (pseudo !== undefined) {
    const c = checksum(buf, off, n, pseudo);
    put16(buf, off + 6, c === 0 ? 0xffff : c);
  }
  return n;
}
