/**
 * IPv4 headers (RFC 791) with options, fragment fields and the header
 * checksum, plus the IP protocol numbers shared with IPv6's next header.
 *
 * `check()` validates what ipv4_check() in OpenBSD's ip_input does before
 * looking inside: version, header length, total length against the
 * buffer.  Options are validated separately (`Ipv4OptionIterator`), as
 * ip_dooptions does later on the input path.
 */

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { adjust16, adjust32, checksum, sum16 } from './checksum.js';
import { WireCode, WireError } from './error.js';
import { IpOptionWalk } from './tlv.js';

export const IPVERSION = 4;
/** Header without options (sizeof(struct ip)). */
export const IP_HDR_LEN = 20;
export const IP_MAXHLEN = 60;
/** Room for options: 40 bytes. */
export const MAX_IPOPTLEN = IP_MAXHLEN - IP_HDR_LEN;
export const IP_MAXPACKET = 65535;
export const IPDEFTTL = 64;
export const MAXTTL = 255;
/** What a router subtracts from the TTL. */
export const IPTTLDEC = 1;

// The ip_off field: three flag bits, then the fragment offset in 8-byte units.
export const IP_RF = 0x8000;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;

// Type of service / DS field.
export const IPTOS_LOWDELAY = 0x10;
export const IPTOS_THROUGHPUT = 0x08;
export const IPTOS_RELIABILITY = 0x04;
export const IPTOS_DSCP_MASK = 0xfc;
export const IPTOS_ECN_MASK = 0x03;
export const IPTOS_ECN_NOTECT = 0x00;
export const IPTOS_ECN_ECT1 = 0x01;
export const IPTOS_ECN_ECT0 = 0x02;
export const IPTOS_ECN_CE = 0x03;

// Protocol numbers (IPv4 protocol, IPv6 next header), as in <netinet/in.h>.
export const IPPROTO_IP = 0;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_GGP = 3;
export const IPPROTO_IPIP = 4;
export const IPPROTO_IPV4 = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_EGP = 8;
export const IPPROTO_PUP = 12;
export const IPPROTO_UDP = 17;
export const IPPROTO_IDP = 22;
export const IPPROTO_TP = 29;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_RSVP = 46;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_MOBILE = 55;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_EON = 80;
export const IPPROTO_ETHERIP = 97;
export const IPPROTO_ENCAP = 98;
export const IPPROTO_PIM = 103;
export const IPPROTO_IPCOMP = 108;
export const IPPROTO_CARP = 112;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;
export const IPPROTO_MPLS = 137;
export const IPPROTO_PFSYNC = 240;
export const IPPROTO_RAW = 255;

// Option kinds.  The kind byte holds a copied flag, a class and a number.
export const IPOPT_EOL = 0;
export const IPOPT_NOP = 1;
export const IPOPT_RR = 7;
export const IPOPT_TS = 68;
export const IPOPT_SECURITY = 130;
export const IPOPT_LSRR = 131;
export const IPOPT_SATID = 136;
export const IPOPT_SSRR = 137;
export const IPOPT_RA = 148;
// Offsets inside an option, and the smallest legal route/timestamp pointer.
export const IPOPT_OPTVAL = 0;
export const IPOPT_OLEN = 1;
export const IPOPT_OFFSET = 2;
export const IPOPT_MINOFF = 4;
// Timestamp option flags (low nibble of its fourth byte).
export const IPOPT_TS_TSONLY = 0;
export const IPOPT_TS_TSANDADDR = 1;
export const IPOPT_TS_PRESPEC = 3;

/** Whether fragmentation copies the option into every fragment. */
export function ipoptCopied(kind: number): boolean {
  return (kind & 0x80) !== 0;
}

/**
 * The folded one's complement sum of a 20-byte header at b[o], unrolled
 * (sum16 without its loop): 0xffff when the header's checksum is right.
 */
export function ipv4Sum20(b: Uint8Array, o: number): number {
  let s =
    ((b[o] << 8) | b[o + 1]) + ((b[o + 2] << 8) | b[o + 3]) + ((b[o + 4] << 8) | b[o + 5]) +
    ((b[o + 6] << 8) | b[o + 7]) + ((b[o + 8] << 8) | b[o + 9]) + ((b[o + 10] << 8) | b[o + 11]) +
    ((b[o + 12] << 8) | b[o + 13]) + ((b[o + 14] << 8) | b[o + 15]) + ((b[o + 16] << 8) | b[o + 17]) +
    ((b[o + 18] << 8) | b[o + 19]);
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/**
 * Fill in the checksum of a 20-byte header at b[o] (fillChecksum() for a
 * header without options, unrolled): the sum skips the checksum field.
 */
export function ipv4FillChecksum20(b: Uint8Array, o: number): void {
  let s =
    ((b[o] << 8) | b[o + 1]) + ((b[o + 2] << 8) | b[o + 3]) + ((b[o + 4] << 8) | b[o + 5]) +
    ((b[o + 6] << 8) | b[o + 7]) + ((b[o + 8] << 8) | b[o + 9]) +
    ((b[o + 12] << 8) | b[o + 13]) + ((b[o + 14] << 8) | b[o + 15]) + ((b[o + 16] << 8) | b[o + 17]) +
    ((b[o + 18] << 8) | b[o + 19]);
  s = (s & 0xffff) + (s >>> 16);
  s = ~((s & 0xffff) + (s >>> 16)) & 0xffff;
  b[o + 10] = s >>> 8;
  b[o + 11] = s & 0xff;
}

/** A reusable view of an IPv4 header at `off`. */
export class Ipv4Packet {
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
   * Truncated when the buffer is shorter than 20 bytes, the header length
   * or the total length; Malformed on a version other than 4, a header
   * length below 20 or a total length below the header length.  Bytes past
   * the total length (link-layer padding) are allowed.
   */
  check(): WireCode {
    if (this.len < IP_HDR_LEN) return WireCode.Truncated;
    if (this.version !== IPVERSION) return WireCode.Malformed;
    const hl = this.headerLength;
    if (hl < IP_HDR_LEN) return WireCode.Malformed;
    if (hl > this.len) return WireCode.Truncated;
    const tl = this.totalLength;
    if (tl < hl) return WireCode.Malformed;
    if (tl > this.len) return WireCode.Truncated;
    return WireCode.Ok;
  }

  get version(): number {
    return this.buf[this.off] >>> 4;
  }
  set version(v: number) {
    this.buf[this.off] = ((v & 0xf) << 4) | (this.buf[this.off] & 0xf);
  }
  /** Header length in 32-bit words (ip_hl). */
  get ihl(): number {
    return this.buf[this.off] & 0xf;
  }
  set ihl(v: number) {
    this.buf[this.off] = (this.buf[this.off] & 0xf0) | (v & 0xf);
  }
  /** Header length in bytes, options included. */
  get headerLength(): number {
    return (this.buf[this.off] & 0xf) << 2;
  }
  get tos(): number {
    return this.buf[this.off + 1];
  }
  set tos(v: number) {
    this.buf[this.off + 1] = v;
  }
  get ecn(): number {
    return this.buf[this.off + 1] & IPTOS_ECN_MASK;
  }
  get totalLength(): number {
    return get16(this.buf, this.off + 2);
  }
  set totalLength(v: number) {
    put16(this.buf, this.off + 2, v);
  }
  get id(): number {
    return get16(this.buf, this.off + 4);
  }
  set id(v: number) {
    put16(this.buf, this.off + 4, v);
  }
  /** The whole 16-bit ip_off field: flags and fragment offset. */
  get ipOff(): number {
    return get16(this.buf, this.off + 6);
  }
  set ipOff(v: number) {
    put16(this.buf, this.off + 6, v);
  }
  get rf(): boolean {
    return (this.buf[this.off + 6] & 0x80) !== 0;
  }
  set rf(v: boolean) {
    this.setFlag(0x80, v);
  }
  get df(): boolean {
    return (this.buf[this.off + 6] & 0x40) !== 0;
  }
  set df(v: boolean) {
    this.setFlag(0x40, v);
  }
  get mf(): boolean {
    return (this.buf[this.off + 6] & 0x20) !== 0;
  }
  set mf(v: boolean) {
    this.setFlag(0x20, v);
  }
  /** Fragment offset in 8-byte units. */
  get fragOffset(): number {
    return this.ipOff & IP_OFFMASK;
  }
  set fragOffset(v: number) {
    this.ipOff = (this.ipOff & ~IP_OFFMASK) | (v & IP_OFFMASK);
  }
  /** Fragment offset in bytes. */
  get fragByteOffset(): number {
    return (this.ipOff & IP_OFFMASK) << 3;
  }
  /** More fragments follow, or this is not the first: part of a fragmented datagram. */
  get isFragment(): boolean {
    return (this.ipOff & (IP_MF | IP_OFFMASK)) !== 0;
  }
  get ttl(): number {
    return this.buf[this.off + 8];
  }
  set ttl(v: number) {
    this.buf[this.off + 8] = v;
  }
  get protocol(): number {
    return this.buf[this.off + 9];
  }
  set protocol(v: number) {
    this.buf[this.off + 9] = v;
  }
  get checksum(): number {
    return get16(this.buf, this.off + 10);
  }
  set checksum(v: number) {
    put16(this.buf, this.off + 10, v);
  }
  get srcOffset(): number {
    return this.off + 12;
  }
  get dstOffset(): number {
    return this.off + 16;
  }
  get src(): number {
    return get32(this.buf, this.off + 12);
  }
  set src(v: number) {
    put32(this.buf, this.off + 12, v);
  }
  get dst(): number {
    return get32(this.buf, this.off + 16);
  }
  set dst(v: number) {
    put32(this.buf, this.off + 16, v);
  }
  /**
   * ip_src and ip_dst as int32 (addresses above 2^31 negative): a small
   * integer, never a heap number, for the forwarding path; compare with
   * ===, mask with &, and turn back with >>> 0 where a u32 is printed.
   */
  get srcI32(): number {
    const b = this.buf;
    const o = this.off + 12;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }
  get dstI32(): number {
    const b = this.buf;
    const o = this.off + 16;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }

  get optionsOffset(): number {
    return this.off + IP_HDR_LEN;
  }
  get optionsLength(): number {
    return this.headerLength - IP_HDR_LEN;
  }
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  /** Total length minus header length: link-layer padding excluded. */
  get payloadLength(): number {
    return this.totalLength - this.headerLength;
  }

  /** Whether the header (options included) sums to all ones. */
  verifyChecksum(): boolean {
    return sum16(this.buf, this.off, this.headerLength) === 0xffff;
  }
  /** The checksum the header should carry (the field itself counted as zero). */
  computeChecksum(): number {
    return checksum(this.buf, this.off, this.headerLength, (~this.checksum & 0xffff));
  }
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.headerLength);
  }

  // Field updates that keep a valid checksum valid (RFC 1624), for
  // forwarding and rewriting without summing the header again.

  /** Set the TTL, adjusting the checksum (ip_forward's decrement). */
  updateTtl(ttl: number): void {
    const o = this.off + 8;
    const old = get16(this.buf, o);
    this.buf[o] = ttl;
    this.checksum = adjust16(this.checksum, old, get16(this.buf, o));
  }
  /** Subtract IPTTLDEC from the TTL with a checksum update; returns the new TTL. */
  decTtl(): number {
    const t = this.ttl - IPTTLDEC;
    this.updateTtl(t < 0 ? 0 : t);
    return this.ttl;
  }
  updateTos(tos: number): void {
    const old = get16(this.buf, this.off);
    this.buf[this.off + 1] = tos;
    this.checksum = adjust16(this.checksum, old, get16(this.buf, this.off));
  }
  updateId(id: number): void {
    const old = this.id;
    this.id = id;
    this.checksum = adjust16(this.checksum, old, id & 0xffff);
  }
  updateIpOff(v: number): void {
    const old = this.ipOff;
    this.ipOff = v;
    this.checksum = adjust16(this.checksum, old, v & 0xffff);
  }
  /** Rewrite the source (NAT); the transport checksum is the caller's to adjust. */
  updateSrc(a: number): void {
    const old = this.src;
    this.src = a;
    this.checksum = adjust32(this.checksum, old, a >>> 0);
  }
  updateDst(a: number): void {
    const old = this.dst;
    this.dst = a;
    this.checksum = adjust32(this.checksum, old, a >>> 0);
  }

  private setFlag(bit: number, v: boolean): void {
    const o = this.off + 6;
    this.buf[o] = v ? this.buf[o] | bit : this.buf[o] & ~bit;
  }
}

/**
 * Iterates the options of an IPv4 header without allocating.  Each
 * `next()` yields `kind`, `offset` (of the kind byte) and `length` (whole
 * option, 1 for EOL and NOP).  EOL is yielded and ends the list, as the
 * rest of the area is padding.  When next() returns false, `code` is Ok or
 * Malformed, and `errorOffset` is the offset of the byte at fault (what
 * ip_dooptions reports as the ICMP parameter problem pointer, relative to
 * the header) or -1.
 *
 * Checked: every option but EOL/NOP has a length byte, a length of at
 * least 2 that fits the area; RR/LSRR/SSRR have a pointer >= 4, TS a length
 * >= 4 and a pointer >= 5, RA a length of 4.
 */
export class Ipv4OptionIterator extends IpOptionWalk {

  /** Iterate the options of a header that passed check(). */
  resetPacket(p: Ipv4Packet): this {
    return this.reset(p.buf, p.optionsOffset, p.optionsLength);
  }

  next(): boolean {
    const b = this.buf;
    const o = this.pos;
    const cnt = this.end - o;
    if (cnt <= 0) return false;
    const kind = b[o];
    let len: number;
    if (kind === IPOPT_EOL || kind === IPOPT_NOP) {
      len = 1;
    } else {
      if (cnt < 2) return this.fail(o + 1);
      len = b[o + 1];
      if (len < 2 || len > cnt) return this.fail(o + 1);
      switch (kind) {
        case IPOPT_RR:
        case IPOPT_LSRR:
        case IPOPT_SSRR:
          if (len < 3) return this.fail(o + 1);
          if (b[o + 2] < IPOPT_MINOFF) return this.fail(o + 2);
          break;
        case IPOPT_TS:
          if (len < 4 || b[o + 2] < 5) return this.fail(o);
          break;
        case IPOPT_RA:
          if (len !== 4) return this.fail(o + 1);
          break;
      }
    }
    this.kind = kind;
    this.offset = o;
    this.length = len;
    this.pos = kind === IPOPT_EOL ? this.end : o + len;
    return true;
  }
}

/** One option as plain data: `data` is what follows the kind and length bytes. */
export interface Ipv4OptionRepr {
  kind: number;
  data: Uint8Array;
}

/**
 * An IPv4 header.  `flags` holds IP_RF/IP_DF/IP_MF as in ip_off;
 * `fragOffset` is in 8-byte units; `payloadLength` is the total length
 * minus the header length.  `options` never holds EOL: emit pads with it.
 */
export interface Ipv4Repr {
  tos: number;
  id: number;
  flags: number;
  fragOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  options: Ipv4OptionRepr[];
  payloadLength: number;
}

function optionLength(o: Ipv4OptionRepr): number {
  return o.kind === IPOPT_NOP || o.kind === IPOPT_EOL ? 1 : 2 + o.data.length;
}

/** Header length of a repr: 20 plus its options padded to 4 bytes. */
export function ipv4ReprLength(repr: Ipv4Repr): number {
  let n = 0;
  for (const o of repr.options) n += optionLength(o);
  return IP_HDR_LEN + ((n + 3) & ~3);
}

/** Options as an array, for tools and tests; EOL and what follows it are left out. */
export function parseIpv4Options(buf: Uint8Array, off: number, len: number): Ipv4OptionRepr[] | WireError {
  const it = new Ipv4OptionIterator().reset(buf, off, len);
  const out: Ipv4OptionRepr[] = [];
  while (it.next()) {
    if (it.kind === IPOPT_EOL) break;
    out.push({ kind: it.kind, data: it.length > 1 ? buf.slice(it.offset + 2, it.offset + it.length) : new Uint8Array(0) });
  }
  if (it.code !== WireCode.Ok) {
    return new WireError('ip', 'malformed', `bad option at byte ${it.errorOffset - off + IP_HDR_LEN} of the header`);
  }
  return out;
}

const scratch = new Ipv4Packet();

function describe(p: Ipv4Packet, code: WireCode): string {
  if (p.len < IP_HDR_LEN) return `${p.len} bytes, header needs ${IP_HDR_LEN}`;
  if (p.version !== IPVERSION) return `version ${p.version}`;
  const hl = p.headerLength;
  if (hl < IP_HDR_LEN) return `header length ${hl} < ${IP_HDR_LEN}`;
  if (hl > p.len) return `header length ${hl} > ${p.len} bytes`;
  if (p.totalLength < hl) return `total length ${p.totalLength} < header length ${hl}`;
  return code === WireCode.Truncated ? `total length ${p.totalLength} > ${p.len} bytes` : 'bad header';
}

/**
 * Parse and validate an IPv4 header, its options and (unless told not to)
 * its checksum.  Bytes past the total length are ignored.
 */
export function parseIpv4(buf: Uint8Array, off: number, len: number, verifyChecksum = true): Ipv4Repr | WireError {
  const p = scratch.wrap(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) return WireError.fromCode('ip', code, describe(p, code));
  if (verifyChecksum && !p.verifyChecksum()) {
    return new WireError('ip', 'malformed', `bad header checksum 0x${p.checksum.toString(16).padStart(4, '0')}`);
  }
  const options = parseIpv4Options(buf, p.optionsOffset, p.optionsLength);
  if (!Array.isArray(options)) return options;
  return {
    tos: p.tos,
    id: p.id,
    flags: p.ipOff & (IP_RF | IP_DF | IP_MF),
    fragOffset: p.fragOffset,
    ttl: p.ttl,
    protocol: p.protocol,
    src: p.src,
    dst: p.dst,
    options,
    payloadLength: p.payloadLength,
  };
}

/**
 * Write the header at `off` with its checksum; returns the header length.
 * The repr must be valid (options fit in 40 bytes, lengths in range).
 */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, off: number): number {
  const hl = ipv4ReprLength(repr);
  buf[off] = (IPVERSION << 4) | (hl >>> 2);
  buf[off + 1] = repr.tos;
  put16(buf, off + 2, hl + repr.payloadLength);
  put16(buf, off + 4, repr.id);
  put16(buf, off + 6, (repr.flags & (IP_RF | IP_DF | IP_MF)) | (repr.fragOffset & IP_OFFMASK));
  buf[off + 8] = repr.ttl;
  buf[off + 9] = repr.protocol;
  put16(buf, off + 10, 0);
  put32(buf, off + 12, repr.src);
  put32(buf, off + 16, repr.dst);
  let p = off + IP_HDR_LEN;
  for (const o of repr.options) {
    buf[p] = o.kind;
    if (optionLength(o) === 1) {
      p++;
      continue;
    }
    buf[p + 1] = 2 + o.data.length;
    buf.set(o.data, p + 2);
    p += 2 + o.data.length;
  }
  buf.fill(IPOPT_EOL, p, off + hl);
  put16(buf, off + 10, checksum(buf, off, hl));
  return hl;
}
