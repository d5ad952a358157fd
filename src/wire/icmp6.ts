/**
 * ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861) and MLD (RFC 2710,
 * RFC 3810) messages.  Names follow OpenBSD's <netinet/icmp6.h>.
 *
 * The checksum covers the IPv6 pseudo-header: the caller passes the buffer
 * offsets of the IPv6 source and destination addresses (normally in the
 * same buffer, ahead of the message) and the sum is taken with pseudoSum6
 * over the message length `len`.
 *
 * For ND messages check() also walks the options, because RFC 4861 says a
 * message with an option of length 0 must be discarded whole.
 */

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum, pseudoSum6, sum16 } from './checksum.js';
import { WireCode, WireError } from './error.js';
import { CheckedOptionWalk } from './tlv.js';

const IPPROTO_ICMPV6 = 58;

/* Types. */
export const ICMP6_DST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROB = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const MLD_LISTENER_QUERY = 130;
export const MLD_LISTENER_REPORT = 131;
export const MLD_LISTENER_DONE = 132;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_REDIRECT = 137;
export const ICMP6_ROUTER_RENUMBERING = 138;
/** Node information query and reply (RFC 4620). */
export const ICMP6_NI_QUERY = 139;
export const ICMP6_NI_REPLY = 140;
/** MLDv2 listener report (RFC 3810); MLDv2 queries use MLD_LISTENER_QUERY. */
export const MLDV2_LISTENER_REPORT = 143;
export const MLD_MTRACE_RESP = 200;
export const MLD_MTRACE = 201;
export const ICMP6_MAXTYPE = 201;
/** Types with this bit are informational; without it, errors. */
export const ICMP6_INFOMSG_MASK = 0x80;

/* Destination unreachable codes. */
export const ICMP6_DST_UNREACH_NOROUTE = 0;
export const ICMP6_DST_UNREACH_ADMIN = 1;
export const ICMP6_DST_UNREACH_BEYONDSCOPE = 2;
export const ICMP6_DST_UNREACH_ADDR = 3;
export const ICMP6_DST_UNREACH_NOPORT = 4;
/** RFC 4443 codes OpenBSD's header lacks: source address failed ingress/egress policy, reject route. */
export const ICMP6_DST_UNREACH_POLICY = 5;
export const ICMP6_DST_UNREACH_REJROUTE = 6;

/* Time exceeded codes. */
export const ICMP6_TIME_EXCEED_TRANSIT = 0;
export const ICMP6_TIME_EXCEED_REASSEMBLY = 1;

/* Parameter problem codes. */
export const ICMP6_PARAMPROB_HEADER = 0;
export const ICMP6_PARAMPROB_NEXTHEADER = 1;
export const ICMP6_PARAMPROB_OPTION = 2;
/** RFC 7112: the first fragment lacks the whole header chain. */
export const ICMP6_PARAMPROB_FRAGHDRCHAIN = 3;

/* Router advertisement flags (the byte after the hop limit). */
export const ND_RA_FLAG_MANAGED = 0x80;
export const ND_RA_FLAG_OTHER = 0x40;
export const ND_RA_FLAG_HOME_AGENT = 0x20;
export const ND_RA_FLAG_RTPREF_MASK = 0x18;
export const ND_RA_FLAG_RTPREF_HIGH = 0x08;
export const ND_RA_FLAG_RTPREF_MEDIUM = 0x00;
export const ND_RA_FLAG_RTPREF_LOW = 0x18;
export const ND_RA_FLAG_RTPREF_RSV = 0x10;

/* Neighbor advertisement flags, as bits of the byte after the checksum (OpenBSD's are the 32-bit word). */
export const ND_NA_FLAG_ROUTER = 0x80;
export const ND_NA_FLAG_SOLICITED = 0x40;
export const ND_NA_FLAG_OVERRIDE = 0x20;

/* ND option types. */
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;
export const ND_OPT_PREFIX_INFORMATION = 3;
export const ND_OPT_REDIRECTED_HEADER = 4;
export const ND_OPT_MTU = 5;
export const ND_OPT_NONCE = 14;
export const ND_OPT_ROUTE_INFO = 24;
export const ND_OPT_RDNSS = 25;
export const ND_OPT_DNSSL = 31;

/* Prefix information flags. */
export const ND_OPT_PI_FLAG_ONLINK = 0x80;
export const ND_OPT_PI_FLAG_AUTO = 0x40;
/** RFC 6275: the prefix field holds the router's full address. */
export const ND_OPT_PI_FLAG_ROUTER = 0x20;

/* Lengths of the fixed parts. */
export const ICMP6_HDRLEN = 8;
export const ND_ROUTER_SOLICIT_LEN = 8;
export const ND_ROUTER_ADVERT_LEN = 16;
export const ND_NEIGHBOR_SOLICIT_LEN = 24;
export const ND_NEIGHBOR_ADVERT_LEN = 24;
export const ND_REDIRECT_LEN = 40;
export const MLD_MINLEN = 24;
/** Option lengths count 8-byte units. */
export const ND_OPT_UNIT = 8;
/** The prefix information option: 4 units. */
export const ND_OPT_PI_LEN = 32;
/** The MTU option: 1 unit. */
export const ND_OPT_MTU_LEN = 8;
/** Largest ICMPv6 error that fits the minimum MTU (1280 - 40 - 8 bytes of payload). */
export const ICMPV6_PLD_MAXLEN = 1232;

/** Error types (1-127) quote the invoking packet at ICMP6_HDRLEN. */
export function icmp6ErrorType(type: number): boolean {
  return (type & ICMP6_INFOMSG_MASK) === 0;
}

/** The Neighbor Discovery types, 133-137, which carry options. */
export function icmp6NdType(type: number): boolean {
  return type >= ND_ROUTER_SOLICIT && type <= ND_REDIRECT;
}

/** Fixed bytes of a message of `type` before its data or options. */
export function icmp6HeaderLength(type: number): number {
  switch (type) {
    case ND_ROUTER_ADVERT:
      return ND_ROUTER_ADVERT_LEN;
    case ND_NEIGHBOR_SOLICIT:
    case ND_NEIGHBOR_ADVERT:
    case MLD_LISTENER_QUERY:
    case MLD_LISTENER_REPORT:
    case MLD_LISTENER_DONE:
      return 24;
    case ND_REDIRECT:
      return ND_REDIRECT_LEN;
    default:
      return ICMP6_HDRLEN;
  }
}

/**
 * A reusable view of an ICMPv6 message at `off` of `buf`, `len` bytes long
 * (the upper-layer payload).  Each accessor names the types it belongs to.
 */
export class Icmpv6Packet {
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
   * Ok when the fixed part of this type fits and, for ND messages, every
   * option is well formed: length 0 is Malformed, an option running past
   * the message is Truncated.
   */
  check(): WireCode {
    if (this.len < ICMP6_HDRLEN) return WireCode.Truncated;
    const t = this.type;
    if (icmp6HeaderLength(t) > this.len) return WireCode.Truncated;
    if (!icmp6NdType(t)) return WireCode.Ok;
    // Inline walk (no iterator object) so check() allocates nothing.
    const b = this.buf;
    const end = this.off + this.len;
    let p = this.optionsOffset;
    while (p < end) {
      if (end - p < 2) return WireCode.Truncated;
      const units = b[p + 1];
      if (units === 0) return WireCode.Malformed;
      p += units * ND_OPT_UNIT;
      if (p > end) return WireCode.Truncated;
    }
    return WireCode.Ok;
  }

  get type(): number {
    return this.buf[this.off];
  }
  set type(v: number) {
    this.buf[this.off] = v;
  }

  get code(): number {
    return this.buf[this.off + 1];
  }
  set code(v: number) {
    this.buf[this.off + 1] = v;
  }

  get checksum(): number {
    return get16(this.buf, this.off + 2);
  }
  set checksum(v: number) {
    put16(this.buf, this.off + 2, v);
  }

  /** The 4 bytes after the checksum as one number (reserved words, flags). */
  get rest(): number {
    return get32(this.buf, this.off + 4);
  }
  set rest(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  /** Echo request/reply: identifier. */
  get id(): number {
    return get16(this.buf, this.off + 4);
  }
  set id(v: number) {
    put16(this.buf, this.off + 4, v);
  }

  /** Echo request/reply: sequence number. */
  get seq(): number {
    return get16(this.buf, this.off + 6);
  }
  set seq(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  /** Packet too big: the next-hop MTU. */
  get mtu(): number {
    return get32(this.buf, this.off + 4);
  }
  set mtu(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  /** Parameter problem: offset of the faulty byte in the invoking packet. */
  get pointer(): number {
    return get32(this.buf, this.off + 4);
  }
  set pointer(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  /** Errors: where the invoking packet (its IPv6 header) starts. */
  get invokingOffset(): number {
    return this.off + ICMP6_HDRLEN;
  }

  /** Errors: how many bytes of the invoking packet were quoted. */
  get invokingLength(): number {
    return this.len - ICMP6_HDRLEN;
  }

  /** Router advertisement: Cur Hop Limit (0: unspecified). */
  get curHopLimit(): number {
    return this.buf[this.off + 4];
  }
  set curHopLimit(v: number) {
    this.buf[this.off + 4] = v;
  }

  /** Router advertisement: ND_RA_FLAG_* bits. */
  get raFlags(): number {
    return this.buf[this.off + 5];
  }
  set raFlags(v: number) {
    this.buf[this.off + 5] = v;
  }

  /** Router advertisement: router lifetime in seconds (0: not a default router). */
  get routerLifetime(): number {
    return get16(this.buf, this.off + 6);
  }
  set routerLifetime(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  /** Router advertisement: reachable time in ms. */
  get reachableTime(): number {
    return get32(this.buf, this.off + 8);
  }
  set reachableTime(v: number) {
    put32(this.buf, this.off + 8, v);
  }

  /** Router advertisement: retransmission timer in ms. */
  get retransTimer(): number {
    return get32(this.buf, this.off + 12);
  }
  set retransTimer(v: number) {
    put32(this.buf, this.off + 12, v);
  }

  /** Neighbor advertisement: ND_NA_FLAG_* bits. */
  get naFlags(): number {
    return this.buf[this.off + 4];
  }
  set naFlags(v: number) {
    this.buf[this.off + 4] = v;
  }

  /** Neighbor solicitation/advertisement, redirect: offset of the target address. */
  get targetOffset(): number {
    return this.off + 8;
  }

  /** Redirect: offset of the destination address. */
  get destOffset(): number {
    return this.off + 24;
  }

  copyTarget(to: Uint8Array, toOff = 0): void {
    to.set(this.buf.subarray(this.off + 8, this.off + 24), toOff);
  }

  setTarget(from: Uint8Array, fromOff = 0): void {
    this.buf.set(from.subarray(fromOff, fromOff + 16), this.off + 8);
  }

  copyDest(to: Uint8Array, toOff = 0): void {
    to.set(this.buf.subarray(this.off + 24, this.off + 40), toOff);
  }

  setDest(from: Uint8Array, fromOff = 0): void {
    this.buf.set(from.subarray(fromOff, fromOff + 16), this.off + 24);
  }

  /** MLD: maximum response delay in ms (queries). */
  get mldMaxDelay(): number {
    return get16(this.buf, this.off + 4);
  }
  set mldMaxDelay(v: number) {
    put16(this.buf, this.off + 4, v);
  }

  /** MLD: offset of the multicast address. */
  get mldAddrOffset(): number {
    return this.off + 8;
  }

  /** MLDv2 report: number of multicast address records, which start at ICMP6_HDRLEN. */
  get mld2RecordCount(): number {
    return get16(this.buf, this.off + 6);
  }
  set mld2RecordCount(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  /** Fixed bytes of this type; for ND messages the options start here. */
  get headerLength(): number {
    return icmp6HeaderLength(this.type);
  }

  /** ND messages: where the options start. */
  get optionsOffset(): number {
    return this.off + icmp6HeaderLength(this.type);
  }

  get optionsLength(): number {
    return this.len - icmp6HeaderLength(this.type);
  }

  /** Echo data, the invoking packet of errors, or ND options. */
  get payloadOffset(): number {
    return this.off + icmp6HeaderLength(this.type);
  }

  get payloadLength(): number {
    return this.len - icmp6HeaderLength(this.type);
  }

  /** True when the message sums correctly with the pseudo-header of the addresses at srcOff/dstOff of addrBuf. */
  verifyChecksum(srcOff: number, dstOff: number, addrBuf: Uint8Array = this.buf): boolean {
    const ps = pseudoSum6(addrBuf, srcOff, dstOff, IPPROTO_ICMPV6, this.len);
    return sum16(this.buf, this.off, this.len, ps) === 0xffff;
  }

  fillChecksum(srcOff: number, dstOff: number, addrBuf: Uint8Array = this.buf): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudoSum6(addrBuf, srcOff, dstOff, IPPROTO_ICMPV6, this.len));
  }
}

/**
 * Walks ND options without allocating.  After reset(), each next() that
 * returns true leaves `kind` (the option type), `offset` (of the type byte
 * in `buf`) and `length` (in bytes) set.  next() returns false at the end
 * or when an option is broken; `error` then says Malformed (length 0) or
 * Truncated (runs past the message).  `badLength` marks a prefix
 * information or MTU option of the wrong size, which nd6 skips.
 */
export class NdOptionIter extends CheckedOptionWalk {

  /** Walk the options of an ND message. */
  resetFrom(p: Icmpv6Packet): this {
    return this.reset(p.buf, p.optionsOffset, p.optionsLength);
  }

  next(): boolean {
    const pos = this.pos;
    if (pos >= this.end) return false;
    if (this.end - pos < 2) return this.fail(WireCode.Truncated);
    const units = this.buf[pos + 1];
    if (units === 0) return this.fail(WireCode.Malformed);
    const l = units * ND_OPT_UNIT;
    if (pos + l > this.end) return this.fail(WireCode.Truncated);
    this.kind = this.buf[pos];
    this.offset = pos;
    this.length = l;
    this.pos = pos + l;
    this.badLength =
      (this.kind === ND_OPT_PREFIX_INFORMATION && l !== ND_OPT_PI_LEN) || (this.kind === ND_OPT_MTU && l !== ND_OPT_MTU_LEN);
    return true;
  }

  private fail(code: WireCode): boolean {
    this.error = code;
    this.kind = this.buf[this.pos];
    this.offset = this.pos;
    this.pos = this.end;
    return false;
  }

  /** Link-layer address options: where the address starts (6 bytes on Ethernet, then padding). */
  get lladdrOffset(): number {
    return this.offset + 2;
  }

  /** Prefix information: prefix length in bits. */
  get prefixLength(): number {
    return this.buf[this.offset + 2];
  }

  /** Prefix information: ND_OPT_PI_FLAG_* bits. */
  get prefixFlags(): number {
    return this.buf[this.offset + 3];
  }

  /** Prefix information: valid lifetime in seconds (0xffffffff: infinity). */
  get validLifetime(): number {
    return get32(this.buf, this.offset + 4);
  }

  /** Prefix information: preferred lifetime in seconds. */
  get preferredLifetime(): number {
    return get32(this.buf, this.offset + 8);
  }

  /** Prefix information: offset of the 16-byte prefix. */
  get prefixOffset(): number {
    return this.offset + 16;
  }

  /** MTU option: the link MTU. */
  get mtu(): number {
    return get32(this.buf, this.offset + 4);
  }

  /** Redirected header: where the quoted IPv6 packet starts, after 6 reserved bytes. */
  get redirectedOffset(): number {
    return this.offset + 8;
  }

  get redirectedLength(): number {
    return this.length - 8;
  }
}

/**
 * One ND option as plain data; byte arrays alias the parsed buffer.  A
 * link-layer address holds every byte after type and length (6 bytes of
 * Ethernet address; longer link addresses keep their padding).
 */
export type NdOptionRepr =
  | { kind: 'sourceLinkAddr'; lladdr: Uint8Array }
  | { kind: 'targetLinkAddr'; lladdr: Uint8Array }
  | {
      kind: 'prefixInfo';
      prefixLength: number;
      flags: number;
      validLifetime: number;
      preferredLifetime: number;
      prefix: Uint8Array;
    }
  | { kind: 'redirectedHeader'; data: Uint8Array }
  | { kind: 'mtu'; mtu: number }
  | { kind: 'unknown'; code: number; data: Uint8Array };

/** All options of `len` bytes at `off`, for tools and tests; broken or wrongly sized options are errors. */
export function parseNdOptions(buf: Uint8Array, off: number, len: number): NdOptionRepr[] | WireError {
  const it = new NdOptionIter().reset(buf, off, len);
  const out: NdOptionRepr[] = [];
  while (it.next()) {
    if (it.badLength) return new WireError('icmp6', 'malformed', `nd option ${it.kind} of ${it.length} bytes`);
    const o = it.offset;
    const end = o + it.length;
    switch (it.kind) {
      case ND_OPT_SOURCE_LINKADDR:
        out.push({ kind: 'sourceLinkAddr', lladdr: buf.subarray(o + 2, end) });
        break;
      case ND_OPT_TARGET_LINKADDR:
        out.push({ kind: 'targetLinkAddr', lladdr: buf.subarray(o + 2, end) });
        break;
      case ND_OPT_PREFIX_INFORMATION:
        out.push({
          kind: 'prefixInfo',
          prefixLength: it.prefixLength,
          flags: it.prefixFlags,
          validLifetime: it.validLifetime,
          preferredLifetime: it.preferredLifetime,
          prefix: buf.subarray(o + 16, o + 32),
        });
        break;
      case ND_OPT_REDIRECTED_HEADER:
        out.push({ kind: 'redirectedHeader', data: buf.subarray(o + 8, end) });
        break;
      case ND_OPT_MTU:
        out.push({ kind: 'mtu', mtu: it.mtu });
        break;
      default:
        out.push({ kind: 'unknown', code: it.kind, data: buf.subarray(o + 2, end) });
    }
  }
  if (it.error !== WireCode.Ok) {
    const why = it.error === WireCode.Malformed ? 'has length 0' : 'runs past the message';
    return WireError.fromCode('icmp6', it.error, `nd option ${it.kind} at byte ${it.offset - off} ${why}`);
  }
  return out;
}

const roundUp8 = (n: number) => (n + 7) & ~7;

/** Bytes an option takes on the wire, padding included. */
export function ndOptionLength(o: NdOptionRepr): number {
  switch (o.kind) {
    case 'sourceLinkAddr':
    case 'targetLinkAddr':
      return roundUp8(2 + o.lladdr.length);
    case 'prefixInfo':
      return ND_OPT_PI_LEN;
    case 'redirectedHeader':
      return roundUp8(8 + o.data.length);
    case 'mtu':
      return ND_OPT_MTU_LEN;
    case 'unknown':
      return roundUp8(2 + o.data.length);
  }
}

export function ndOptionsLength(options: readonly NdOptionRepr[]): number {
  let n = 0;
  for (const o of options) n += ndOptionLength(o);
  return n;
}

/**
 * Write options in order, each zero-padded to 8 bytes; returns the bytes
 * written.  Throws RangeError for an option over 2040 bytes or a prefix
 * not 16 bytes long.
 */
export function emitNdOptions(options: readonly NdOptionRepr[], buf: Uint8Array, off: number): number {
  let p = off;
  for (const o of options) {
    const l = ndOptionLength(o);
    if (l > 255 * ND_OPT_UNIT) throw new RangeError(`nd option of ${l} bytes`);
    buf.fill(0, p, p + l);
    buf[p + 1] = l / ND_OPT_UNIT;
    switch (o.kind) {
      case 'sourceLinkAddr':
      case 'targetLinkAddr':
        buf[p] = o.kind === 'sourceLinkAddr' ? ND_OPT_SOURCE_LINKADDR : ND_OPT_TARGET_LINKADDR;
        buf.set(o.lladdr, p + 2);
        break;
      case 'prefixInfo':
        if (o.prefix.length !== 16) throw new RangeError(`prefix of ${o.prefix.length} bytes`);
        buf[p] = ND_OPT_PREFIX_INFORMATION;
        buf[p + 2] = o.prefixLength;
        buf[p + 3] = o.flags;
        put32(buf, p + 4, o.validLifetime);
        put32(buf, p + 8, o.preferredLifetime);
        buf.set(o.prefix, p + 16);
        break;
      case 'redirectedHeader':
        buf[p] = ND_OPT_REDIRECTED_HEADER;
        buf.set(o.data, p + 8);
        break;
      case 'mtu':
        buf[p] = ND_OPT_MTU;
        put32(buf, p + 4, o.mtu);
        break;
      case 'unknown':
        buf[p] = o.code;
        buf.set(o.data, p + 2);
        break;
    }
    p += l;
  }
  return p - off;
}

/** Echo request and reply. */
export interface Icmpv6EchoRepr {
  type: typeof ICMP6_ECHO_REQUEST | typeof ICMP6_ECHO_REPLY;
  code: number;
  id: number;
  seq: number;
  data: Uint8Array;
}

/** Destination unreachable and time exceeded: the invoking packet only. */
export interface Icmpv6QuoteRepr {
  type: typeof ICMP6_DST_UNREACH | typeof ICMP6_TIME_EXCEEDED;
  code: number;
  data: Uint8Array;
}

export interface Icmpv6PacketTooBigRepr {
  type: typeof ICMP6_PACKET_TOO_BIG;
  code: number;
  mtu: number;
  data: Uint8Array;
}

export interface Icmpv6ParamProbRepr {
  type: typeof ICMP6_PARAM_PROB;
  code: number;
  pointer: number;
  data: Uint8Array;
}

export interface NdRouterSolicitRepr {
  type: typeof ND_ROUTER_SOLICIT;
  code: number;
  options: NdOptionRepr[];
}

export interface NdRouterAdvertRepr {
  type: typeof ND_ROUTER_ADVERT;
  code: number;
  curHopLimit: number;
  /** ND_RA_FLAG_* bits. */
  flags: number;
  routerLifetime: number;
  reachableTime: number;
  retransTimer: number;
  options: NdOptionRepr[];
}

export interface NdNeighborSolicitRepr {
  type: typeof ND_NEIGHBOR_SOLICIT;
  code: number;
  target: Uint8Array;
  options: NdOptionRepr[];
}

export interface NdNeighborAdvertRepr {
  type: typeof ND_NEIGHBOR_ADVERT;
  code: number;
  /** ND_NA_FLAG_* bits. */
  flags: number;
  target: Uint8Array;
  options: NdOptionRepr[];
}

export interface NdRedirectRepr {
  type: typeof ND_REDIRECT;
  code: number;
  /** The better first hop. */
  target: Uint8Array;
  /** The destination being redirected. */
  dest: Uint8Array;
  options: NdOptionRepr[];
}

/** MLDv1 query, report and done; of an MLDv2 query only these fields are decoded. */
export interface MldRepr {
  type: typeof MLD_LISTENER_QUERY | typeof MLD_LISTENER_REPORT | typeof MLD_LISTENER_DONE;
  code: number;
  maxDelay: number;
  addr: Uint8Array;
}

/**
 * The messages the kernel sends and answers; others (MLDv2 reports, router
 * renumbering, node information) have the view only, and parseIcmpv6
 * reports them 'unsupported'.  Addresses and data alias the parsed buffer.
 */
export type Icmpv6Repr =
  | Icmpv6EchoRepr
  | Icmpv6QuoteRepr
  | Icmpv6PacketTooBigRepr
  | Icmpv6ParamProbRepr
  | NdRouterSolicitRepr
  | NdRouterAdvertRepr
  | NdNeighborSolicitRepr
  | NdNeighborAdvertRepr
  | NdRedirectRepr
  | MldRepr;

/**
 * Parse and validate a message of `len` bytes.  With srcOff/dstOff (the
 * IPv6 addresses in addrBuf, by default `buf`) the checksum is verified.
 * Hop limit 255 and code 0, which RFC 4861 demands of ND, are for nd6 to check.
 */
export function parseIcmpv6(
  buf: Uint8Array,
  off: number,
  len: number,
  srcOff?: number,
  dstOff?: number,
  addrBuf: Uint8Array = buf,
): Icmpv6Repr | WireError {
  const p = new Icmpv6Packet(buf, off, len);
  if (len < ICMP6_HDRLEN) return new WireError('icmp6', 'truncated', `${len} bytes, header needs ${ICMP6_HDRLEN}`);
  const t = p.type;
  const code = p.check();
  if (code !== WireCode.Ok) {
    const hl = icmp6HeaderLength(t);
    if (hl > len) return new WireError('icmp6', 'truncated', `${len} bytes, type ${t} needs ${hl}`);
    // The options are at fault: let the walk name the one.
    const e = parseNdOptions(buf, p.optionsOffset, p.optionsLength);
    return e instanceof WireError ? e : WireError.fromCode('icmp6', code, 'bad options');
  }
  if (srcOff !== undefined && dstOff !== undefined && !p.verifyChecksum(srcOff, dstOff, addrBuf)) {
    return new WireError('icmp6', 'malformed', `bad checksum 0x${p.checksum.toString(16)}`);
  }
  const c = p.code;
  const end = off + len;
  const data = buf.subarray(off + ICMP6_HDRLEN, end);
  const addr = (at: number) => buf.subarray(off + at, off + at + 16);
  let options: NdOptionRepr[] | WireError = [];
  if (icmp6NdType(t)) {
    options = parseNdOptions(buf, p.optionsOffset, p.optionsLength);
    if (options instanceof WireError) return options;
  }
  switch (t) {
    case ICMP6_ECHO_REQUEST:
    case ICMP6_ECHO_REPLY:
      return { type: t, code: c, id: p.id, seq: p.seq, data };
    case ICMP6_DST_UNREACH:
    case ICMP6_TIME_EXCEEDED:
      return { type: t, code: c, data };
    case ICMP6_PACKET_TOO_BIG:
      return { type: t, code: c, mtu: p.mtu, data };
    case ICMP6_PARAM_PROB:
      return { type: t, code: c, pointer: p.pointer, data };
    case ND_ROUTER_SOLICIT:
      return { type: t, code: c, options };
    case ND_ROUTER_ADVERT:
      return {
        type: t,
        code: c,
        curHopLimit: p.curHopLimit,
        flags: p.raFlags,
        routerLifetime: p.routerLifetime,
        reachableTime: p.reachableTime,
        retransTimer: p.retransTimer,
        options,
      };
    case ND_NEIGHBOR_SOLICIT:
      return { type: t, code: c, target: addr(8), options };
    case ND_NEIGHBOR_ADVERT:
      return { type: t, code: c, flags: p.naFlags, target: addr(8), options };
    case ND_REDIRECT:
      return { type: t, code: c, target: addr(8), dest: addr(24), options };
    case MLD_LISTENER_QUERY:
    case MLD_LISTENER_REPORT:
    case MLD_LISTENER_DONE:
      return { type: t, code: c, maxDelay: p.mldMaxDelay, addr: addr(8) };
    default:
      return new WireError('icmp6', 'unsupported', `type ${t}`);
  }
}

export function icmpv6ReprLength(repr: Icmpv6Repr): number {
  switch (repr.type) {
    case ICMP6_ECHO_REQUEST:
    case ICMP6_ECHO_REPLY:
    case ICMP6_DST_UNREACH:
    case ICMP6_TIME_EXCEEDED:
    case ICMP6_PACKET_TOO_BIG:
    case ICMP6_PARAM_PROB:
      return ICMP6_HDRLEN + repr.data.length;
    case MLD_LISTENER_QUERY:
    case MLD_LISTENER_REPORT:
    case MLD_LISTENER_DONE:
      return MLD_MINLEN;
    default:
      return icmp6HeaderLength(repr.type) + ndOptionsLength(repr.options);
  }
}

function putAddr(buf: Uint8Array, at: number, a: Uint8Array): void {
  if (a.length !== 16) throw new RangeError(`IPv6 address of ${a.length} bytes`);
  buf.set(a, at);
}

/**
 * Write the message; returns the bytes written.  With srcOff/dstOff (the
 * IPv6 addresses in addrBuf, by default `buf`) the checksum is filled, else
 * left 0.  Throws RangeError for an address not 16 bytes long or an option
 * emitNdOptions refuses.
 */
export function emitIcmpv6(
  repr: Icmpv6Repr,
  buf: Uint8Array,
  off: number,
  srcOff?: number,
  dstOff?: number,
  addrBuf: Uint8Array = buf,
): number {
  const n = icmpv6ReprLength(repr);
  buf.fill(0, off, off + icmp6HeaderLength(repr.type));
  buf[off] = repr.type;
  buf[off + 1] = repr.code;
  switch (repr.type) {
    case ICMP6_ECHO_REQUEST:
    case ICMP6_ECHO_REPLY:
      put16(buf, off + 4, repr.id);
      put16(buf, off + 6, repr.seq);
      buf.set(repr.data, off + ICMP6_HDRLEN);
      break;
    case ICMP6_DST_UNREACH:
    case ICMP6_TIME_EXCEEDED:
      buf.set(repr.data, off + ICMP6_HDRLEN);
      break;
    case ICMP6_PACKET_TOO_BIG:
      put32(buf, off + 4, repr.mtu);
      buf.set(repr.data, off + ICMP6_HDRLEN);
      break;
    case ICMP6_PARAM_PROB:
      put32(buf, off + 4, repr.pointer);
      buf.set(repr.data, off + ICMP6_HDRLEN);
      break;
    case ND_ROUTER_SOLICIT:
      emitNdOptions(repr.options, buf, off + ND_ROUTER_SOLICIT_LEN);
      break;
    case ND_ROUTER_ADVERT:
      buf[off + 4] = repr.curHopLimit;
      buf[off + 5] = repr.flags;
      put16(buf, off + 6, repr.routerLifetime);
      put32(buf, off + 8, repr.reachableTime);
      put32(buf, off + 12, repr.retransTimer);
      emitNdOptions(repr.options, buf, off + ND_ROUTER_ADVERT_LEN);
      break;
    case ND_NEIGHBOR_SOLICIT:
      putAddr(buf, off + 8, repr.target);
      emitNdOptions(repr.options, buf, off + ND_NEIGHBOR_SOLICIT_LEN);
      break;
    case ND_NEIGHBOR_ADVERT:
      buf[off + 4] = repr.flags;
      putAddr(buf, off + 8, repr.target);
      emitNdOptions(repr.options, buf, off + ND_NEIGHBOR_ADVERT_LEN);
      break;
    case ND_REDIRECT:
      putAddr(buf, off + 8, repr.target);
      putAddr(buf, off + 24, repr.dest);
      emitNdOptions(repr.options, buf, off + ND_REDIRECT_LEN);
      break;
    case MLD_LISTENER_QUERY:
    case MLD_LISTENER_REPORT:
    case MLD_LISTENER_DONE:
      put16(buf, off + 4, repr.maxDelay);
      putAddr(buf, off + 8, repr.addr);
      break;
  }
  if (srcOff !== undefined && dstOff !== undefined) {
    put16(buf, off + 2, checksum(buf, off, n, pseudoSum6(addrBuf, srcOff, dstOff, IPPROTO_ICMPV6, n)));
  }
  return n;
}
