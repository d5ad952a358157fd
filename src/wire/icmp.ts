/**
 * ICMP for IPv4 (RFC 792 and its successors).  Names follow OpenBSD's
 * <netinet/ip_icmp.h>.  The checksum covers the whole message and needs no
 * pseudo-header.  Error messages quote the offending datagram (its IP header
 * and at least 8 bytes) at ICMP_MINLEN; quoteOffset points there.
 */

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum, sum16 } from './checksum.js';
import { WireCode, WireError } from './error.js';

/* Types. */
export const ICMP_ECHOREPLY = 0;
export const ICMP_UNREACH = 3;
export const ICMP_SOURCEQUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ALTHOSTADDR = 6;
export const ICMP_ECHO = 8;
export const ICMP_ROUTERADVERT = 9;
export const ICMP_ROUTERSOLICIT = 10;
export const ICMP_TIMXCEED = 11;
export const ICMP_PARAMPROB = 12;
export const ICMP_TSTAMP = 13;
export const ICMP_TSTAMPREPLY = 14;
export const ICMP_IREQ = 15;
export const ICMP_IREQREPLY = 16;
export const ICMP_MASKREQ = 17;
export const ICMP_MASKREPLY = 18;
export const ICMP_TRACEROUTE = 30;
export const ICMP_DATACONVERR = 31;
export const ICMP_MOBILE_REDIRECT = 32;
export const ICMP_IPV6_WHEREAREYOU = 33;
export const ICMP_IPV6_IAMHERE = 34;
export const ICMP_MOBILE_REGREQUEST = 35;
export const ICMP_MOBILE_REGREPLY = 36;
export const ICMP_SKIP = 39;
export const ICMP_PHOTURIS = 40;
export const ICMP_MAXTYPE = 40;

/* Destination unreachable codes. */
export const ICMP_UNREACH_NET = 0;
export const ICMP_UNREACH_HOST = 1;
export const ICMP_UNREACH_PROTOCOL = 2;
export const ICMP_UNREACH_PORT = 3;
/** Fragmentation needed and DF set; carries the next-hop MTU (RFC 1191). */
export const ICMP_UNREACH_NEEDFRAG = 4;
export const ICMP_UNREACH_SRCFAIL = 5;
export const ICMP_UNREACH_NET_UNKNOWN = 6;
export const ICMP_UNREACH_HOST_UNKNOWN = 7;
export const ICMP_UNREACH_ISOLATED = 8;
export const ICMP_UNREACH_NET_PROHIB = 9;
export const ICMP_UNREACH_HOST_PROHIB = 10;
export const ICMP_UNREACH_TOSNET = 11;
export const ICMP_UNREACH_TOSHOST = 12;
export const ICMP_UNREACH_FILTER_PROHIB = 13;
export const ICMP_UNREACH_HOST_PRECEDENCE = 14;
export const ICMP_UNREACH_PRECEDENCE_CUTOFF = 15;

/* Redirect codes. */
export const ICMP_REDIRECT_NET = 0;
export const ICMP_REDIRECT_HOST = 1;
export const ICMP_REDIRECT_TOSNET = 2;
export const ICMP_REDIRECT_TOSHOST = 3;

/* Router advertisement codes (RFC 1256, RFC 2002). */
export const ICMP_ROUTERADVERT_NORMAL = 0;
export const ICMP_ROUTERADVERT_NOROUTE_COMMON = 16;

/* Time exceeded codes. */
export const ICMP_TIMXCEED_INTRANS = 0;
export const ICMP_TIMXCEED_REASS = 1;

/* Parameter problem codes. */
export const ICMP_PARAMPROB_ERRATPTR = 0;
export const ICMP_PARAMPROB_OPTABSENT = 1;
export const ICMP_PARAMPROB_LENGTH = 2;

/* Photuris codes (RFC 2521). */
export const ICMP_PHOTURIS_UNKNOWN_INDEX = 1;
export const ICMP_PHOTURIS_AUTH_FAILED = 2;
export const ICMP_PHOTURIS_DECRYPT_FAILED = 3;

/* Lengths. */
/** The fixed header: type, code, checksum and 4 type-specific bytes. */
export const ICMP_MINLEN = 8;
/** Timestamp request/reply: header plus originate, receive, transmit. */
export const ICMP_TSLEN = 20;
/** Address mask request/reply. */
export const ICMP_MASKLEN = 12;
/** Smallest useful error: header, a 20-byte IP header, 8 bytes of its payload. */
export const ICMP_ADVLENMIN = 8 + 20 + 8;
/** Largest quote an error needs: header, a 60-byte IP header, 40 bytes. */
export const ICMP_ADVLENMAX = 8 + 60 + 40;
/** Router advertisement entry size in 32-bit words (address, preference). */
export const ICMP_RA_WPA = 2;

/** Query/reply types, which the kernel answers and never sends errors about (ICMP_INFOTYPE). */
export function icmpInfoType(type: number): boolean {
  switch (type) {
    case ICMP_ECHOREPLY:
    case ICMP_ECHO:
    case ICMP_ROUTERADVERT:
    case ICMP_ROUTERSOLICIT:
    case ICMP_TSTAMP:
    case ICMP_TSTAMPREPLY:
    case ICMP_IREQ:
    case ICMP_IREQREPLY:
    case ICMP_MASKREQ:
    case ICMP_MASKREPLY:
      return true;
    default:
      return false;
  }
}

/** Error types, which quote the offending datagram at ICMP_MINLEN. */
export function icmpErrorType(type: number): boolean {
  return (
    type === ICMP_UNREACH ||
    type === ICMP_SOURCEQUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIMXCEED ||
    type === ICMP_PARAMPROB
  );
}

/**
 * A reusable view of an ICMP message at `off` of `buf`, `len` bytes long
 * (the IP payload).  The bytes after the checksum mean different things per
 * type; each accessor names the type it belongs to.
 */
export class IcmpPacket {
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
   * Ok when the part of the message this type defines fits: 8 bytes, 20
   * for timestamps, 12 for masks, and a router advertisement's entries.
   * The quote inside an error is not checked here: icmp_input decides
   * what it needs of it (ICMP_ADVLENMIN).
   */
  check(): WireCode {
    if (this.len < ICMP_MINLEN) return WireCode.Truncated;
    const t = this.type;
    if (t === ICMP_ROUTERADVERT && this.numAddrs > 0 && this.wpa < ICMP_RA_WPA) return WireCode.Malformed;
    return this.headerLength > this.len ? WireCode.Truncated : WireCode.Ok;
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

  /** The 4 bytes after the checksum as one number (icmp_void for errors that leave them unused). */
  get rest(): number {
    return get32(this.buf, this.off + 4);
  }
  set rest(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  /** Echo, timestamp, information and mask messages: identifier. */
  get id(): number {
    return get16(this.buf, this.off + 4);
  }
  set id(v: number) {
    put16(this.buf, this.off + 4, v);
  }

  /** Echo, timestamp, information and mask messages: sequence number. */
  get seq(): number {
    return get16(this.buf, this.off + 6);
  }
  set seq(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  /** Redirect: the better gateway, as a u32. */
  get gateway(): number {
    return get32(this.buf, this.off + 4);
  }
  set gateway(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  /** Parameter problem: offset of the faulty byte in the quoted datagram. */
  get pointer(): number {
    return this.buf[this.off + 4];
  }
  set pointer(v: number) {
    this.buf[this.off + 4] = v;
  }

  /** Unreachable, need-frag: the next-hop MTU (RFC 1191); 0 from old routers. */
  get nextMtu(): number {
    return get16(this.buf, this.off + 6);
  }
  set nextMtu(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  /** Unreachable, time exceeded, parameter problem: original datagram length in 32-bit words when RFC 4884 extensions follow, else 0. */
  get origLength(): number {
    return this.buf[this.off + 5];
  }
  set origLength(v: number) {
    this.buf[this.off + 5] = v;
  }

  /** Timestamp: originate time, ms since midnight UT. */
  get otime(): number {
    return get32(this.buf, this.off + 8);
  }
  set otime(v: number) {
    put32(this.buf, this.off + 8, v);
  }

  /** Timestamp: receive time. */
  get rtime(): number {
    return get32(this.buf, this.off + 12);
  }
  set rtime(v: number) {
    put32(this.buf, this.off + 12, v);
  }

  /** Timestamp: transmit time. */
  get ttime(): number {
    return get32(this.buf, this.off + 16);
  }
  set ttime(v: number) {
    put32(this.buf, this.off + 16, v);
  }

  /** Address mask request/reply: the mask, as a u32. */
  get mask(): number {
    return get32(this.buf, this.off + 8);
  }
  set mask(v: number) {
    put32(this.buf, this.off + 8, v);
  }

  /** Router advertisement: number of entries. */
  get numAddrs(): number {
    return this.buf[this.off + 4];
  }
  set numAddrs(v: number) {
    this.buf[this.off + 4] = v;
  }

  /** Router advertisement: entry size in 32-bit words (2). */
  get wpa(): number {
    return this.buf[this.off + 5];
  }
  set wpa(v: number) {
    this.buf[this.off + 5] = v;
  }

  /** Router advertisement: lifetime in seconds. */
  get lifetime(): number {
    return get16(this.buf, this.off + 6);
  }
  set lifetime(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  /** Router advertisement: router address of entry `i`. */
  raAddr(i: number): number {
    return get32(this.buf, this.off + 8 + i * this.wpa * 4);
  }

  /** Router advertisement: preference of entry `i` (signed). */
  raPreference(i: number): number {
    return get32(this.buf, this.off + 12 + i * this.wpa * 4) | 0;
  }

  /** Bytes this type defines before its data (echo data, quote, ...). */
  get headerLength(): number {
    switch (this.type) {
      case ICMP_TSTAMP:
      case ICMP_TSTAMPREPLY:
        return ICMP_TSLEN;
      case ICMP_MASKREQ:
      case ICMP_MASKREPLY:
        return ICMP_MASKLEN;
      case ICMP_ROUTERADVERT:
        return ICMP_MINLEN + this.numAddrs * this.wpa * 4;
      default:
        return ICMP_MINLEN;
    }
  }

  get payloadOffset(): number {
    return this.off + this.headerLength;
  }

  get payloadLength(): number {
    return this.len - this.headerLength;
  }

  /** Errors: where the quoted original datagram (its IP header) starts. */
  get quoteOffset(): number {
    return this.off + ICMP_MINLEN;
  }

  /** Errors: how many bytes of the original datagram were quoted. */
  get quoteLength(): number {
    return this.len - ICMP_MINLEN;
  }

  /**
   * Errors: the bytes the message must hold to be useful, from the quoted IP
   * header length (ICMP_ADVLEN); needs len > ICMP_MINLEN.
   */
  get advLength(): number {
    return ICMP_MINLEN + ((this.buf[this.off + ICMP_MINLEN] & 0x0f) << 2) + 8;
  }

  verifyChecksum(): boolean {
    return sum16(this.buf, this.off, this.len) === 0xffff;
  }

  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len);
  }
}

/** Echo request/reply and information request/reply. */
export interface IcmpEchoRepr {
  type: typeof ICMP_ECHO | typeof ICMP_ECHOREPLY | typeof ICMP_IREQ | typeof ICMP_IREQREPLY;
  code: number;
  id: number;
  seq: number;
  data: Uint8Array;
}

/** Destination unreachable; nextMtu is meaningful for ICMP_UNREACH_NEEDFRAG and 0 otherwise. */
export interface IcmpUnreachRepr {
  type: typeof ICMP_UNREACH;
  code: number;
  nextMtu: number;
  /** The quoted datagram. */
  data: Uint8Array;
}

/** Time exceeded and source quench: errors with nothing but the quote. */
export interface IcmpQuoteRepr {
  type: typeof ICMP_TIMXCEED | typeof ICMP_SOURCEQUENCH;
  code: number;
  data: Uint8Array;
}

export interface IcmpRedirectRepr {
  type: typeof ICMP_REDIRECT;
  code: number;
  gateway: number;
  data: Uint8Array;
}

export interface IcmpParamProbRepr {
  type: typeof ICMP_PARAMPROB;
  code: number;
  pointer: number;
  data: Uint8Array;
}

export interface IcmpTstampRepr {
  type: typeof ICMP_TSTAMP | typeof ICMP_TSTAMPREPLY;
  code: number;
  id: number;
  seq: number;
  otime: number;
  rtime: number;
  ttime: number;
}

export interface IcmpMaskRepr {
  type: typeof ICMP_MASKREQ | typeof ICMP_MASKREPLY;
  code: number;
  id: number;
  seq: number;
  mask: number;
}

/**
 * The messages the kernel sends and answers.  Router discovery and the
 * rarer types have only the view; parseIcmp reports them 'unsupported'.
 * `data` fields alias the parsed buffer.
 */
export type IcmpRepr =
  | IcmpEchoRepr
  | IcmpUnreachRepr
  | IcmpQuoteRepr
  | IcmpRedirectRepr
  | IcmpParamProbRepr
  | IcmpTstampRepr
  | IcmpMaskRepr;

/** Parse and validate, checksum included (it needs no pseudo-header). */
export function parseIcmp(buf: Uint8Array, off: number, len: number): IcmpRepr | WireError {
  const p = new IcmpPacket(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) {
    const detail =
      len < ICMP_MINLEN
        ? `${len} bytes, header needs ${ICMP_MINLEN}`
        : code === WireCode.Malformed
          ? `router advertisement entry size ${p.wpa}`
          : `${len} bytes, type ${p.type} needs ${p.headerLength}`;
    return WireError.fromCode('icmp', code, detail);
  }
  if (!p.verifyChecksum()) return new WireError('icmp', 'malformed', `bad checksum 0x${p.checksum.toString(16)}`);
  const end = off + len;
  const data = buf.subarray(off + ICMP_MINLEN, end);
  const c = p.code;
  switch (p.type) {
    case ICMP_ECHO:
    case ICMP_ECHOREPLY:
    case ICMP_IREQ:
    case ICMP_IREQREPLY:
      return { type: p.type as IcmpEchoRepr['type'], code: c, id: p.id, seq: p.seq, data };
    case ICMP_UNREACH:
      return { type: ICMP_UNREACH, code: c, nextMtu: p.nextMtu, data };
    case ICMP_TIMXCEED:
    case ICMP_SOURCEQUENCH:
      return { type: p.type as IcmpQuoteRepr['type'], code: c, data };
    case ICMP_REDIRECT:
      return { type: ICMP_REDIRECT, code: c, gateway: p.gateway, data };
    case ICMP_PARAMPROB:
      return { type: ICMP_PARAMPROB, code: c, pointer: p.pointer, data };
    case ICMP_TSTAMP:
    case ICMP_TSTAMPREPLY:
      return {
        type: p.type as IcmpTstampRepr['type'],
        code: c,
        id: p.id,
        seq: p.seq,
        otime: p.otime,
        rtime: p.rtime,
        ttime: p.ttime,
      };
    case ICMP_MASKREQ:
    case ICMP_MASKREPLY:
      return { type: p.type as IcmpMaskRepr['type'], code: c, id: p.id, seq: p.seq, mask: p.mask };
    default:
      return new WireError('icmp', 'unsupported', `type ${p.type}`);
  }
}

export function icmpReprLength(repr: IcmpRepr): number {
  switch (repr.type) {
    case ICMP_TSTAMP:
    case ICMP_TSTAMPREPLY:
      return ICMP_TSLEN;
    case ICMP_MASKREQ:
    case ICMP_MASKREPLY:
      return ICMP_MASKLEN;
    default:
      return ICMP_MINLEN + repr.data.length;
  }
}

/** Write the message and fill its checksum; returns the bytes written. */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array, off: number): number {
  buf[off] = repr.type;
  buf[off + 1] = repr.code;
  put16(buf, off + 2, 0);
  put32(buf, off + 4, 0);
  switch (repr.type) {
    case ICMP_ECHO:
    case ICMP_ECHOREPLY:
    case ICMP_IREQ:
    case ICMP_IREQREPLY:
      put16(buf, off + 4, repr.id);
      put16(buf, off + 6, repr.seq);
      buf.set(repr.data, off + ICMP_MINLEN);
      break;
    case ICMP_UNREACH:
      put16(buf, off + 6, repr.nextMtu);
      buf.set(repr.data, off + ICMP_MINLEN);
      break;
    case ICMP_TIMXCEED:
    case ICMP_SOURCEQUENCH:
      buf.set(repr.data, off + ICMP_MINLEN);
      break;
    case ICMP_REDIRECT:
      put32(buf, off + 4, repr.gateway);
      buf.set(repr.data, off + ICMP_MINLEN);
      break;
    case ICMP_PARAMPROB:
      buf[off + 4] = repr.pointer;
      buf.set(repr.data, off + ICMP_MINLEN);
      break;
    case ICMP_TSTAMP:
    case ICMP_TSTAMPREPLY:
      put16(buf, off + 4, repr.id);
      put16(buf, off + 6, repr.seq);
      put32(buf, off + 8, repr.otime);
      put32(buf, off + 12, repr.rtime);
      put32(buf, off + 16, repr.ttime);
      break;
    case ICMP_MASKREQ:
    case ICMP_MASKREPLY:
      put16(buf, off + 4, repr.id);
      put16(buf, off + 6, repr.seq);
      put32(buf, off + 8, repr.mask);
      break;
  }
  const n = icmpReprLength(repr);
  put16(buf, off + 2, checksum(buf, off, n));
  return n;
}
