/**
 * IPv6 (RFC 8200): the fixed header, extension headers (hop-by-hop,
 * routing, fragment, destination options) and their option TLVs, and a
 * walker over the header chain that finds the upper-layer protocol.
 * Protocol numbers (IPPROTO_*) live in ip4.ts.
 *
 * Jumbograms (payload length 0 with a Jumbo option) are not supported:
 * `check()` takes the payload length field literally.
 */

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { WireCode, WireError } from './error.js';
import { IpOptionWalk } from './tlv.js';
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
} from './ip4.js';

export const IPV6_VERSION = 6;
export const IP6_HDR_LEN = 40;
export const IPV6_MAXPACKET = 65535;
export const IPV6_DEFHLIM = 64;
export const IPV6_MAXHLIM = 255;
export const IPV6_HLIMDEC = 1;
/** Minimum link MTU: every link carries 1280 bytes. */
export const IPV6_MMTU = 1280;
export const IPV6_FLOWLABEL_MASK = 0xfffff;
/** Traffic class ECN bits. */
export const IP6TOS_CE = 0x01;
export const IP6TOS_ECT = 0x02;

/** Hop-by-hop, routing and destination options headers count in 8-byte units. */
export const IP6_EXT_UNIT = 8;
export const IP6_FRAG_LEN = 8;
/** Smallest AH (no ICV): 12 bytes; its length counts 4-byte words minus 2. */
export const AH_MIN_LEN = 12;

// Option types in hop-by-hop and destination options headers.
export const IP6OPT_PAD1 = 0x00;
export const IP6OPT_PADN = 0x01;
export const IP6OPT_TUNNEL_LIMIT = 0x04;
export const IP6OPT_ROUTER_ALERT = 0x05;
export const IP6OPT_JUMBO = 0xc2;
export const IP6OPT_NSAP_ADDR = 0xc3;
export const IP6OPT_HOME_ADDRESS = 0xc9;
export const IP6OPT_MINLEN = 2;
export const IP6OPT_RTALERT_LEN = 4;
export const IP6OPT_JUMBO_LEN = 6;
export const IP6OPT_RTALERT_MLD = 0;
export const IP6OPT_RTALERT_RSVP = 1;
export const IP6OPT_RTALERT_ACTNET = 2;
/** The two high bits of an option type: what to do when it is unknown. */
export const IP6OPT_TYPE_SKIP = 0x00;
export const IP6OPT_TYPE_DISCARD = 0x40;
export const IP6OPT_TYPE_FORCEICMP = 0x80;
export const IP6OPT_TYPE_ICMP = 0xc0;
/** Option data may change en route (excluded from AH's ICV). */
export const IP6OPT_MUTABLE = 0x20;

/** IP6OPT_TYPE(): the action bits of an option type. */
export function ip6OptType(type: number): number {
  return type & 0xc0;
}

// Routing header types.
/** Deprecated by RFC 5095; routers must refuse it (ip6_check_rh0hdr). */
export const IPV6_RTHDR_TYPE_0 = 0;
export const IPV6_RTHDR_TYPE_2 = 2;
export const IPV6_RTHDR_TYPE_RPL = 3;
export const IPV6_RTHDR_TYPE_SRH = 4;

// Fragment header offset/flags word.
export const IP6F_OFF_MASK = 0xfff8;
export const IP6F_RESERVED_MASK = 0x0006;
export const IP6F_MORE_FRAG = 0x0001;

/** Whether `nh` names a header this module walks through. */
export function isIpv6ExtHeader(nh: number): boolean {
  return nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT || nh === IPPROTO_DSTOPTS;
}

function copy16(dst: Uint8Array, doff: number, src: Uint8Array, soff: number): void {
  for (let i = 0; i < 16; i++) dst[doff + i] = src[soff + i];
}

/** A reusable view of an IPv6 fixed header at `off`. */
export class Ipv6Packet {
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
   * Truncated when the 40-byte header or the payload length it declares
   * does not fit; Malformed on a version other than 6.  Bytes past the
   * payload (link-layer padding) are allowed.
   */
  check(): WireCode {
    if (this.len < IP6_HDR_LEN) return WireCode.Truncated;
    if (this.version !== IPV6_VERSION) return WireCode.Malformed;
    if (IP6_HDR_LEN + this.payloadLength > this.len) return WireCode.Truncated;
    return WireCode.Ok;
  }

  get version(): number {
    return this.buf[this.off] >>> 4;
  }
  set version(v: number) {
    this.buf[this.off] = ((v & 0xf) << 4) | (this.buf[this.off] & 0xf);
  }
  get trafficClass(): number {
    return ((this.buf[this.off] & 0xf) << 4) | (this.buf[this.off + 1] >>> 4);
  }
  set trafficClass(v: number) {
    const b = this.buf;
    const o = this.off;
    b[o] = (b[o] & 0xf0) | ((v >>> 4) & 0xf);
    b[o + 1] = ((v & 0xf) << 4) | (b[o + 1] & 0xf);
  }
  get flowLabel(): number {
    return get32(this.buf, this.off) & IPV6_FLOWLABEL_MASK;
  }
  set flowLabel(v: number) {
    put32(this.buf, this.off, ((get32(this.buf, this.off) & ~IPV6_FLOWLABEL_MASK) | (v & IPV6_FLOWLABEL_MASK)) >>> 0);
  }
  /** Bytes after the fixed header, extension headers included. */
  get payloadLength(): number {
    return get16(this.buf, this.off + 4);
  }
  set payloadLength(v: number) {
    put16(this.buf, this.off + 4, v);
  }
  get nextHeader(): number {
    return this.buf[this.off + 6];
  }
  set nextHeader(v: number) {
    this.buf[this.off + 6] = v;
  }
  get hopLimit(): number {
    return this.buf[this.off + 7];
  }
  set hopLimit(v: number) {
    this.buf[this.off + 7] = v;
  }
  get srcOffset(): number {
    return this.off + 8;
  }
  get dstOffset(): number {
    return this.off + 24;
  }
  setSrc(a: Uint8Array, aoff = 0): void {
    copy16(this.buf, this.off + 8, a, aoff);
  }
  setDst(a: Uint8Array, aoff = 0): void {
    copy16(this.buf, this.off + 24, a, aoff);
  }
  copySrc(to: Uint8Array, toff = 0): void {
    copy16(to, toff, this.buf, this.off + 8);
  }
  copyDst(to: Uint8Array, toff = 0): void {
    copy16(to, toff, this.buf, this.off + 24);
  }
  get headerLength(): number {
    return IP6_HDR_LEN;
  }
  get payloadOffset(): number {
    return this.off + IP6_HDR_LEN;
  }
}

/**
 * A reusable view of one extension header at `off`, of the kind named by
 * the previous next-header field (`kind`).  Accessors for a kind's own
 * fields are meaningful only for that kind.
 */
export class Ipv6ExtHeader {
  constructor(
    public buf: Uint8Array = EMPTY,
    public off = 0,
    public len = buf.length - off,
    public kind: number = IPPROTO_HOPOPTS,
  ) {}

  wrap(buf: Uint8Array, off: number, len: number, kind: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.kind = kind;
    return this;
  }

  /** Truncated when the header's declared length does not fit; Unsupported for a kind that is not an extension header here. */
  check(): WireCode {
    if (!isIpv6ExtHeader(this.kind) && this.kind !== IPPROTO_AH) return WireCode.Unsupported;
    if (this.len < 2) return WireCode.Truncated;
    return this.headerLength > this.len ? WireCode.Truncated : WireCode.Ok;
  }

  get nextHeader(): number {
    return this.buf[this.off];
  }
  set nextHeader(v: number) {
    this.buf[this.off] = v;
  }
  /** The raw length byte (reserved in the fragment header). */
  get hdrExtLen(): number {
    return this.buf[this.off + 1];
  }
  set hdrExtLen(v: number) {
    this.buf[this.off + 1] = v;
  }
  get headerLength(): number {
    return ip6ExtHeaderLength(this.kind, this.buf[this.off + 1]);
  }
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }

  /** Options area of hop-by-hop and destination options headers. */
  get optionsOffset(): number {
    return this.off + 2;
  }
  get optionsLength(): number {
    return this.headerLength - 2;
  }

  // Routing header.
  get routingType(): number {
    return this.buf[this.off + 2];
  }
  set routingType(v: number) {
    this.buf[this.off + 2] = v;
  }
  get segmentsLeft(): number {
    return this.buf[this.off + 3];
  }
  set segmentsLeft(v: number) {
    this.buf[this.off + 3] = v;
  }

  // Fragment header.
  /** Fragment offset in 8-byte units. */
  get fragOffset(): number {
    return get16(this.buf, this.off + 2) >>> 3;
  }
  set fragOffset(v: number) {
    put16(this.buf, this.off + 2, ((v << 3) & IP6F_OFF_MASK) | (get16(this.buf, this.off + 2) & 7));
  }
  get fragByteOffset(): number {
    return get16(this.buf, this.off + 2) & IP6F_OFF_MASK;
  }
  get more(): boolean {
    return (this.buf[this.off + 3] & IP6F_MORE_FRAG) !== 0;
  }
  set more(v: boolean) {
    const o = this.off + 3;
    this.buf[o] = v ? this.buf[o] | IP6F_MORE_FRAG : this.buf[o] & ~IP6F_MORE_FRAG;
  }
  get ident(): number {
    return get32(this.buf, this.off + 4);
  }
  set ident(v: number) {
    put32(this.buf, this.off + 4, v);
  }
}

/** Length in bytes of an extension header of `kind` whose length byte is `lenByte`. */
export function ip6ExtHeaderLength(kind: number, lenByte: number): number {
  if (kind === IPPROTO_FRAGMENT) return IP6_FRAG_LEN;
  if (kind === IPPROTO_AH) return (lenByte + 2) << 2;
  return (lenByte + 1) << 3;
}

/**
 * Walks an IPv6 header chain without allocating.  Each `next()` yields one
 * extension header: `kind` (the next-header value that named it), `offset`,
 * `length`, `nextHeader` (the value inside it) and `nhOffset` (the byte that
 * named it, for ICMPv6 parameter problem pointers).
 *
 * The walk ends at the first header that is not hop-by-hop, routing,
 * fragment or destination options: `proto` and `protoOffset` then name the
 * upper layer, or a terminator: ESP, no-next-header, and AH (unless walking
 * through AH was asked for).  After a fragment header with a non-zero
 * offset the walk also ends: `proto` is the fragment's next header and
 * `protoOffset` points at fragment data, not at a header; `fragOffset`
 * tells (-1 without a fragment header, else the offset in bytes).
 *
 * `code` is Ok, Truncated (a header runs past the payload) or Malformed:
 * a hop-by-hop header anywhere but first (`errorOffset` is then the
 * next-header byte naming it, RFC 8200's pointer), or an AH shorter than
 * 12 bytes (`errorOffset` at its length byte).
 */
export class Ipv6ExtIterator {
  buf: Uint8Array = EMPTY;
  /** Current header. */
  kind = 0;
  offset = 0;
  length = 0;
  nextHeader = 0;
  nhOffset = 0;
  /** Results, valid once next() returned false. */
  proto = 0;
  protoOffset = 0;
  code: WireCode = WireCode.Ok;
  errorOffset = -1;
  fragOffset = -1;
  fragMore = false;
  /** Number of extension headers yielded. */
  count = 0;
  private pos = 0;
  private end = 0;
  private nh = 0;
  private nhAt = 0;
  private walkAh = false;
  private done = true;

  /**
   * Walk the headers at `off` (just after the fixed header), `len` bytes of
   * payload, the first being `first`; `nhOff` is the offset of the byte
   * holding `first` (-1 if unknown).
   */
  reset(buf: Uint8Array, off: number, len: number, first: number, nhOff = -1, walkAh = false): this {
    this.buf = buf;
    this.pos = off;
    this.end = off + (len > 0 ? len : 0);
    this.nh = first;
    this.nhAt = nhOff;
    this.walkAh = walkAh;
    this.kind = this.offset = this.length = this.nextHeader = this.count = 0;
    this.nhOffset = -1;
    this.proto = this.protoOffset = 0;
    this.code = WireCode.Ok;
    this.errorOffset = -1;
    this.fragOffset = -1;
    this.fragMore = false;
    this.done = false;
    return this;
  }

  /** Walk the chain of a packet (its payload, bounded by the buffer). */
  resetPacket(p: Ipv6Packet, walkAh = false): this {
    const avail = p.len - IP6_HDR_LEN;
    const plen = p.payloadLength;
    return this.reset(p.buf, p.payloadOffset, plen < avail ? plen : avail, p.nextHeader, p.off + 6, walkAh);
  }

  next(): boolean {
    if (this.done) return false;
    const k = this.nh;
    const o = this.pos;
    if (k === IPPROTO_HOPOPTS && this.count > 0) return this.stop(WireCode.Malformed, this.nhAt);
    if (!isIpv6ExtHeader(k) && !(k === IPPROTO_AH && this.walkAh)) return this.stop(WireCode.Ok, -1);
    if (o + 2 > this.end) return this.stop(WireCode.Truncated, -1);
    const len = ip6ExtHeaderLength(k, this.buf[o + 1]);
    if (k === IPPROTO_AH && len < AH_MIN_LEN) return this.stop(WireCode.Malformed, o + 1);
    if (o + len > this.end) return this.stop(WireCode.Truncated, -1);
    this.kind = k;
    this.offset = o;
    this.length = len;
    this.nextHeader = this.buf[o];
    this.nhOffset = this.nhAt;
    this.count++;
    this.nhAt = o;
    this.nh = this.buf[o];
    this.pos = o + len;
    if (k === IPPROTO_FRAGMENT) {
      const w = get16(this.buf, o + 2);
      this.fragOffset = w & IP6F_OFF_MASK;
      this.fragMore = (w & IP6F_MORE_FRAG) !== 0;
      // Later fragments carry data, not the rest of the chain.
      if (this.fragOffset !== 0) {
        this.done = true;
        this.proto = this.nh;
        this.protoOffset = this.pos;
      }
    }
    return true;
  }

  /** Consume the rest of the chain; returns `code`. */
  skip(): WireCode {
    while (this.next());
    return this.code;
  }

  private stop(code: WireCode, errorOffset: number): false {
    this.done = true;
    this.code = code;
    this.errorOffset = errorOffset;
    this.proto = this.nh;
    this.protoOffset = this.pos;
    return false;
  }
}

/**
 * Iterates the option TLVs of a hop-by-hop or destination options header
 * without allocating: `type`, `offset`, `length` (whole option; 1 for
 * Pad1).  When next() returns false, `code` is Ok or Malformed with
 * `errorOffset` at the faulty byte: an option running past the header, or
 * a router alert or jumbo option of the wrong length (as OpenBSD's
 * ip6_process_hopopts checks).
 */
export class Ipv6OptionIterator extends IpOptionWalk {
  /** The option type (RFC 8200's name for the kind byte). */
  get type(): number {
    return this.kind;
  }

  /** Iterate the options of the header at `hdrOff`; its length must have been checked. */
  resetHeader(buf: Uint8Array, hdrOff: number): this {
    return this.reset(buf, hdrOff + 2, ((buf[hdrOff + 1] + 1) << 3) - 2);
  }

  /** IP6OPT_TYPE_*: what an unknown option of this type asks for. */
  get action(): number {
    return this.kind & 0xc0;
  }

  next(): boolean {
    const b = this.buf;
    const o = this.pos;
    const cnt = this.end - o;
    if (cnt <= 0) return false;
    const t = b[o];
    let len = 1;
    if (t !== IP6OPT_PAD1) {
      if (cnt < IP6OPT_MINLEN) return this.fail(o);
      len = b[o + 1] + 2;
      if (len > cnt) return this.fail(o + 1);
      if (t === IP6OPT_ROUTER_ALERT && len !== IP6OPT_RTALERT_LEN) return this.fail(o + 1);
      if (t === IP6OPT_JUMBO && len !== IP6OPT_JUMBO_LEN) return this.fail(o + 1);
    }
    this.kind = t;
    this.offset = o;
    this.length = len;
    this.pos = o + len;
    return true;
  }
}

/** The fixed header.  Addresses are 16-byte arrays. */
export interface Ipv6Repr {
  trafficClass: number;
  flowLabel: number;
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  payloadLength: number;
}

/** One option TLV: Pad1 has no data, every other type a length byte and `data`. */
export interface Ipv6OptionRepr {
  type: number;
  data: Uint8Array;
}

export interface Ipv6OptionsHeaderRepr {
  kind: typeof IPPROTO_HOPOPTS | typeof IPPROTO_DSTOPTS;
  nextHeader: number;
  /** Pads included, as found; emit pads the end to 8 bytes. */
  options: Ipv6OptionRepr[];
}

export interface Ipv6RoutingHeaderRepr {
  kind: typeof IPPROTO_ROUTING;
  nextHeader: number;
  routingType: number;
  segmentsLeft: number;
  /** Type-specific bytes after segments left; emit zero-pads to 8 bytes. */
  data: Uint8Array;
}

export interface Ipv6FragmentHeaderRepr {
  kind: typeof IPPROTO_FRAGMENT;
  nextHeader: number;
  /** In 8-byte units. */
  fragOffset: number;
  more: boolean;
  ident: number;
}

export type Ipv6ExtHeaderRepr = Ipv6OptionsHeaderRepr | Ipv6RoutingHeaderRepr | Ipv6FragmentHeaderRepr;

export function ipv6ReprLength(_repr?: Ipv6Repr): number {
  return IP6_HDR_LEN;
}

export function parseIpv6(buf: Uint8Array, off: number, len: number): Ipv6Repr | WireError {
  const p = new Ipv6Packet(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) {
    const detail =
      len < IP6_HDR_LEN
        ? `${len} bytes, header needs ${IP6_HDR_LEN}`
        : p.version !== IPV6_VERSION
          ? `version ${p.version}`
          : `payload length ${p.payloadLength} > ${len - IP6_HDR_LEN} bytes`;
    return WireError.fromCode('ip6', code, detail);
  }
  return {
    trafficClass: p.trafficClass,
    flowLabel: p.flowLabel,
    nextHeader: p.nextHeader,
    hopLimit: p.hopLimit,
    src: buf.slice(p.srcOffset, p.srcOffset + 16),
    dst: buf.slice(p.dstOffset, p.dstOffset + 16),
    payloadLength: p.payloadLength,
  };
}

/** Write the fixed header at `off`; returns 40. */
export function emitIpv6(repr: Ipv6Repr, buf: Uint8Array, off: number): number {
  put32(
    buf,
    off,
    ((IPV6_VERSION << 28) | ((repr.trafficClass & 0xff) << 20) | (repr.flowLabel & IPV6_FLOWLABEL_MASK)) >>> 0,
  );
  put16(buf, off + 4, repr.payloadLength);
  buf[off + 6] = repr.nextHeader;
  buf[off + 7] = repr.hopLimit;
  copy16(buf, off + 8, repr.src, 0);
  copy16(buf, off + 24, repr.dst, 0);
  return IP6_HDR_LEN;
}

function optionsLength(options: Ipv6OptionRepr[]): number {
  let n = 0;
  for (const o of options) n += o.type === IP6OPT_PAD1 ? 1 : 2 + o.data.length;
  return n;
}

/** Options with the trailing Pad1/PadN that make the header a multiple of 8 bytes. */
export function ipv6PadOptions(options: Ipv6OptionRepr[]): Ipv6OptionRepr[] {
  const r = (8 - ((2 + optionsLength(options)) & 7)) & 7;
  if (r === 0) return options.slice();
  const pad: Ipv6OptionRepr = r === 1 ? { type: IP6OPT_PAD1, data: new Uint8Array(0) } : { type: IP6OPT_PADN, data: new Uint8Array(r - 2) };
  return [...options, pad];
}

/** Bytes an extension header repr takes when emitted. */
export function ipv6ExtHeaderReprLength(repr: Ipv6ExtHeaderRepr): number {
  switch (repr.kind) {
    case IPPROTO_FRAGMENT:
      return IP6_FRAG_LEN;
    case IPPROTO_ROUTING:
      return (4 + repr.data.length + 7) & ~7;
    default:
      return (2 + optionsLength(repr.options) + 7) & ~7;
  }
}

/** Option TLVs as an array, for tools and tests. */
export function parseIpv6Options(buf: Uint8Array, off: number, len: number): Ipv6OptionRepr[] | WireError {
  const it = new Ipv6OptionIterator().reset(buf, off, len);
  const out: Ipv6OptionRepr[] = [];
  while (it.next()) out.push({ type: it.type, data: buf.slice(it.dataOffset, it.dataOffset + it.dataLength) });
  if (it.code !== WireCode.Ok) {
    return new WireError('ip6', 'malformed', `bad option at byte ${it.errorOffset - off + 2} of the header`);
  }
  return out;
}

/** Parse one extension header of `kind` at `off`. */
export function parseIpv6ExtHeader(kind: number, buf: Uint8Array, off: number, len: number): Ipv6ExtHeaderRepr | WireError {
  const h = new Ipv6ExtHeader(buf, off, len, kind);
  const code = h.check();
  if (code === WireCode.Unsupported || kind === IPPROTO_AH) {
    return new WireError('ip6', 'unsupported', `next header ${kind} is not an extension header`);
  }
  if (code !== WireCode.Ok) {
    return new WireError('ip6', 'truncated', `extension header ${kind}: ${len} bytes, needs ${len < 2 ? 2 : h.headerLength}`);
  }
  const nextHeader = h.nextHeader;
  if (kind === IPPROTO_FRAGMENT) {
    return { kind, nextHeader, fragOffset: h.fragOffset, more: h.more, ident: h.ident };
  }
  if (kind === IPPROTO_ROUTING) {
    return {
      kind,
      nextHeader,
      routingType: h.routingType,
      segmentsLeft: h.segmentsLeft,
      data: buf.slice(off + 4, off + h.headerLength),
    };
  }
  const options = parseIpv6Options(buf, h.optionsOffset, h.optionsLength);
  if (!Array.isArray(options)) return options;
  return { kind: kind as typeof IPPROTO_HOPOPTS | typeof IPPROTO_DSTOPTS, nextHeader, options };
}

/** Write one extension header at `off`, padded to 8 bytes; returns its length. */
export function emitIpv6ExtHeader(repr: Ipv6ExtHeaderRepr, buf: Uint8Array, off: number): number {
  const len = ipv6ExtHeaderReprLength(repr);
  buf[off] = repr.nextHeader;
  switch (repr.kind) {
    case IPPROTO_FRAGMENT:
      buf[off + 1] = 0;
      put16(buf, off + 2, ((repr.fragOffset << 3) & IP6F_OFF_MASK) | (repr.more ? IP6F_MORE_FRAG : 0));
      put32(buf, off + 4, repr.ident);
      return len;
    case IPPROTO_ROUTING:
      buf[off + 1] = (len >>> 3) - 1;
      buf[off + 2] = repr.routingType;
      buf[off + 3] = repr.segmentsLeft;
      buf.set(repr.data, off + 4);
      buf.fill(0, off + 4 + repr.data.length, off + len);
      return len;
    default: {
      buf[off + 1] = (len >>> 3) - 1;
      let p = off + 2;
      for (const o of repr.options) {
        buf[p] = o.type;
        if (o.type === IP6OPT_PAD1) {
          p++;
          continue;
        }
        buf[p + 1] = o.data.length;
        buf.set(o.data, p + 2);
        p += 2 + o.data.length;
      }
      const r = off + len - p;
      if (r === 1) buf[p] = IP6OPT_PAD1;
      else if (r >= 2) {
        buf[p] = IP6OPT_PADN;
        buf[p + 1] = r - 2;
        buf.fill(0, p + 2, off + len);
      }
      return len;
    }
  }
}

/** A header chain as data: the extension headers, then the upper layer and where it starts. */
export interface Ipv6ChainRepr {
  headers: Ipv6ExtHeaderRepr[];
  proto: number;
  protoOffset: number;
  /** -1 without a fragment header, else its offset in bytes (non-zero: `protoOffset` is fragment data). */
  fragOffset: number;
}

/**
 * Parse the chain of the whole IPv6 packet at `off`, for tools and tests.
 * Stops at AH, ESP, no-next-header or the upper layer.
 */
export function parseIpv6Chain(buf: Uint8Array, off: number, len: number): Ipv6ChainRepr | WireError {
  const p = new Ipv6Packet(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) {
    const e = parseIpv6(buf, off, len);
    return e instanceof WireError ? e : WireError.fromCode('ip6', code, 'bad header');
  }
  const it = new Ipv6ExtIterator().resetPacket(p);
  const headers: Ipv6ExtHeaderRepr[] = [];
  while (it.next()) {
    const h = parseIpv6ExtHeader(it.kind, buf, it.offset, it.length);
    if (h instanceof WireError) return h;
    headers.push(h);
  }
  if (it.code === WireCode.Truncated) {
    return new WireError('ip6', 'truncated', `header ${it.proto} at byte ${it.protoOffset - off} runs past the payload`);
  }
  if (it.code !== WireCode.Ok) {
    return new WireError('ip6', 'malformed', `hop-by-hop header not first (next header at byte ${it.errorOffset - off})`);
  }
  return { headers, proto: it.proto, protoOffset: it.protoOffset - off, fragOffset: it.fragOffset };
}

/** The upper-layer protocol of the IPv6 packet at `off` and its offset from `off`. */
export function ipv6UpperLayer(buf: Uint8Array, off: number, len: number): { proto: number; offset: number } | WireError {
  const c = parseIpv6Chain(buf, off, len);
  if (c instanceof WireError) return c;
  return { proto: c.proto, offset: c.protoOffset };
}
