/**
 * TCP header and options (RFC 9293, RFC 7323, RFC 2018, RFC 2385).  Names
 * follow OpenBSD's <netinet/tcp.h>.  The checksum covers a pseudo-header
 * that the caller sums with pseudoSum4/pseudoSum6 from checksum.ts, using
 * IPPROTO_TCP (6) and the segment length (header plus data).
 *
 * check() validates the data offset only; like tcp_dooptions, the kernel
 * walks options with TcpOptionIter and stops at a malformed one instead of
 * dropping the segment.  parseTcp() is strict and rejects it.
 */

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum, sum16 } from './checksum.js';
import { WireCode, WireError } from './error.js';
import { CheckedOptionWalk } from './tlv.js';

/** Header without options. */
export const TCP_HDRLEN = 20;
/** Largest header: data offset 15 words. */
export const TCP_MAXHLEN = 60;
/** Absolute maximum option bytes (MAX_TCPOPTLEN). */
export const MAX_TCPOPTLEN = 40;

/* Flag bits of th_flags. */
export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PUSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;
export const TH_ECE = 0x40;
export const TH_CWR = 0x80;

/* Option kinds and their total lengths. */
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MAXSEG = 2;
export const TCPOLEN_MAXSEG = 4;
export const TCPOPT_WINDOW = 3;
export const TCPOLEN_WINDOW = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOLEN_SACK_PERMITTED = 2;
export const TCPOPT_SACK = 5;
/** Per SACK block: two sequence numbers. */
export const TCPOLEN_SACK = 8;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOLEN_TIMESTAMP = 10;
/** TCP MD5 signature (RFC 2385). */
export const TCPOPT_SIGNATURE = 19;
export const TCPOLEN_SIGNATURE = 18;
/** Most SACK blocks an option can hold in 40 bytes. */
export const TCP_SACK_MAXBLOCKS = 4;
/** Largest window shift (RFC 7323). */
export const TCP_MAX_WINSHIFT = 14;

/** A reusable view of a TCP segment at `off` of `buf`, `len` bytes long (the IP payload). */
export class TcpPacket {
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

  /** Ok when 20 bytes fit, the data offset is at least 5 words and the header fits in len. */
  check(): WireCode {
    if (this.len < TCP_HDRLEN) return WireCode.Truncated;
    const hl = this.headerLength;
    if (hl < TCP_HDRLEN) return WireCode.Malformed;
    if (hl > this.len) return WireCode.Truncated;
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

  get seq(): number {
    return get32(this.buf, this.off + 4);
  }
  set seq(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  get ack(): number {
    return get32(this.buf, this.off + 8);
  }
  set ack(v: number) {
    put32(this.buf, this.off + 8, v);
  }

  /** Header length in 32-bit words (th_off). */
  get dataOffset(): number {
    return this.buf[this.off + 12] >> 4;
  }
  set dataOffset(v: number) {
    this.buf[this.off + 12] = ((v & 0xf) << 4) | (this.buf[this.off + 12] & 0x0f);
  }

  /** The 4 reserved bits beside the data offset (th_x2); the old NS bit is the lowest. */
  get reserved(): number {
    return this.buf[this.off + 12] & 0x0f;
  }
  set reserved(v: number) {
    this.buf[this.off + 12] = (this.buf[this.off + 12] & 0xf0) | (v & 0x0f);
  }

  /** TH_* bits. */
  get flags(): number {
    return this.buf[this.off + 13];
  }
  set flags(v: number) {
    this.buf[this.off + 13] = v;
  }

  get window(): number {
    return get16(this.buf, this.off + 14);
  }
  set window(v: number) {
    put16(this.buf, this.off + 14, v);
  }

  get checksum(): number {
    return get16(this.buf, this.off + 16);
  }
  set checksum(v: number) {
    put16(this.buf, this.off + 16, v);
  }

  /** Urgent pointer (th_urp), meaningful with TH_URG. */
  get urgent(): number {
    return get16(this.buf, this.off + 18);
  }
  set urgent(v: number) {
    put16(this.buf, this.off + 18, v);
  }

  get headerLength(): number {
    return this.dataOffset << 2;
  }

  get optionsOffset(): number {
    return this.off + TCP_HDRLEN;
  }

  get optionsLength(): number {
    return this.headerLength - TCP_HDRLEN;
  }

  get payloadOffset(): number {
    return this.off + this.headerLength;
  }

  get payloadLength(): number {
    return this.len - this.headerLength;
  }

  /** True when the segment (`len` bytes) sums correctly with the pseudo-header sum. */
  verifyChecksum(pseudo: number): boolean {
    return sum16(this.buf, this.off, this.len, pseudo) === 0xffff;
  }

  fillChecksum(pseudo: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudo);
  }
}

/**
 * Walks the options of a header without allocating.  After reset(),
 * each next() that returns true leaves `kind`, `offset` (of the kind byte
 * in `buf`) and `length` (whole option) set.  EOL is reported once and
 * ends the walk.  next() returns false at the end or on a malformed option
 * (a length below 2 or running past the header); `error` then says which.
 * `badLength` marks a known kind whose length its format forbids: the
 * kernel skips such an option, as tcp_dooptions does.
 */
export class TcpOptionIter extends CheckedOptionWalk {

  /** Walk the options of a checked TcpPacket. */
  resetFrom(p: TcpPacket): this {
    return this.reset(p.buf, p.optionsOffset, p.optionsLength);
  }

  next(): boolean {
    const b = this.buf;
    const pos = this.pos;
    if (pos >= this.end) return false;
    const kind = b[pos];
    this.kind = kind;
    this.offset = pos;
    this.badLength = false;
    if (kind === TCPOPT_EOL) {
      this.length = 1;
      this.pos = this.end;
      return true;
    }
    if (kind === TCPOPT_NOP) {
      this.length = 1;
      this.pos = pos + 1;
      return true;
    }
    if (pos + 1 >= this.end) return this.fail();
    const l = b[pos + 1];
    if (l < 2 || pos + l > this.end) return this.fail();
    this.length = l;
    this.pos = pos + l;
    switch (kind) {
      case TCPOPT_MAXSEG:
        this.badLength = l !== TCPOLEN_MAXSEG;
        break;
      case TCPOPT_WINDOW:
        this.badLength = l !== TCPOLEN_WINDOW;
        break;
      case TCPOPT_SACK_PERMITTED:
        this.badLength = l !== TCPOLEN_SACK_PERMITTED;
        break;
      case TCPOPT_SACK:
        this.badLength = l < 2 + TCPOLEN_SACK || (l - 2) % TCPOLEN_SACK !== 0;
        break;
      case TCPOPT_TIMESTAMP:
        this.badLength = l !== TCPOLEN_TIMESTAMP;
        break;
      case TCPOPT_SIGNATURE:
        this.badLength = l !== TCPOLEN_SIGNATURE;
        break;
    }
    return true;
  }

  private fail(): boolean {
    this.error = WireCode.Malformed;
    this.pos = this.end;
    return false;
  }

  /** MAXSEG: the MSS. */
  get mss(): number {
    return get16(this.buf, this.offset + 2);
  }

  /** WINDOW: the shift count. */
  get wscale(): number {
    return this.buf[this.offset + 2];
  }

  /** TIMESTAMP: TSval. */
  get tsval(): number {
    return get32(this.buf, this.offset + 2);
  }

  /** TIMESTAMP: TSecr. */
  get tsecr(): number {
    return get32(this.buf, this.offset + 6);
  }

  /** SACK: number of blocks. */
  get sackBlocks(): number {
    return (this.length - 2) >> 3;
  }

  /** SACK: left edge of block `i`. */
  sackStart(i: number): number {
    return get32(this.buf, this.offset + 2 + i * 8);
  }

  /** SACK: right edge of block `i` (first sequence number after it). */
  sackEnd(i: number): number {
    return get32(this.buf, this.offset + 6 + i * 8);
  }
}

export interface TcpSackBlock {
  start: number;
  end: number;
}

/**
 * One option as plain data.  `kind` names it as tcpdump does; options this
 * layer does not decode keep their number in `code` and their bytes.
 */
export type TcpOptionRepr =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; mss: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: TcpSackBlock[] }
  | { kind: 'timestamp'; tsval: number; tsecr: number }
  | { kind: 'md5'; digest: Uint8Array }
  | { kind: 'unknown'; code: number; data: Uint8Array };

/**
 * All options of `len` bytes at `off` as an array, for tools and tests.
 * The walk stops at EOL, which is not listed (it and what follows are
 * padding).  Malformed options and known kinds of a wrong length are errors.
 */
export function parseTcpOptions(buf: Uint8Array, off: number, len: number): TcpOptionRepr[] | WireError {
  const it = new TcpOptionIter().reset(buf, off, len);
  const out: TcpOptionRepr[] = [];
  while (it.next()) {
    if (it.badLength) return new WireError('tcp', 'malformed', `option ${it.kind} with length ${it.length}`);
    const o = it.offset;
    switch (it.kind) {
      case TCPOPT_EOL:
        return out;
      case TCPOPT_NOP:
        out.push({ kind: 'nop' });
        break;
      case TCPOPT_MAXSEG:
        out.push({ kind: 'mss', mss: it.mss });
        break;
      case TCPOPT_WINDOW:
        out.push({ kind: 'wscale', shift: it.wscale });
        break;
      case TCPOPT_SACK_PERMITTED:
        out.push({ kind: 'sackOK' });
        break;
      case TCPOPT_SACK: {
        const blocks: TcpSackBlock[] = [];
        for (let i = 0; i < it.sackBlocks; i++) blocks.push({ start: it.sackStart(i), end: it.sackEnd(i) });
        out.push({ kind: 'sack', blocks });
        break;
      }
      case TCPOPT_TIMESTAMP:
        out.push({ kind: 'timestamp', tsval: it.tsval, tsecr: it.tsecr });
        break;
      case TCPOPT_SIGNATURE:
        out.push({ kind: 'md5', digest: buf.subarray(o + 2, o + it.length) });
        break;
      default:
        out.push({ kind: 'unknown', code: it.kind, data: buf.subarray(o + 2, o + it.length) });
    }
  }
  if (it.error !== WireCode.Ok) {
    return WireError.fromCode('tcp', it.error, `option ${it.kind} at byte ${it.offset - off} runs past the header`);
  }
  return out;
}

/** Bytes an option takes on the wire. */
export function tcpOptionLength(o: TcpOptionRepr): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return TCPOLEN_MAXSEG;
    case 'wscale':
      return TCPOLEN_WINDOW;
    case 'sackOK':
      return TCPOLEN_SACK_PERMITTED;
    case 'sack':
      return 2 + TCPOLEN_SACK * o.blocks.length;
    case 'timestamp':
      return TCPOLEN_TIMESTAMP;
    case 'md5':
      return TCPOLEN_SIGNATURE;
    case 'unknown':
      return 2 + o.data.length;
  }
}

/** Option bytes including the padding to a 4-byte boundary. */
export function tcpOptionsLength(options: readonly TcpOptionRepr[]): number {
  let n = 0;
  for (const o of options) n += tcpOptionLength(o);
  return (n + 3) & ~3;
}

/**
 * Write options in the order given and pad with EOL (zero) bytes to a
 * 4-byte boundary; returns the padded length.  Throws RangeError for an
 * option no receiver could parse (over 40 bytes in all, 0 or more than 4
 * SACK blocks, a digest not 16 bytes, an unknown option over 255 bytes).
 */
export function emitTcpOptions(options: readonly TcpOptionRepr[], buf: Uint8Array, off: number): number {
  const total = tcpOptionsLength(options);
  if (total > MAX_TCPOPTLEN) throw new RangeError(`tcp options take ${total} bytes, at most ${MAX_TCPOPTLEN} fit`);
  let p = off;
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
        buf[p++] = TCPOPT_EOL;
        break;
      case 'nop':
        buf[p++] = TCPOPT_NOP;
        break;
      case 'mss':
        buf[p] = TCPOPT_MAXSEG;
        buf[p + 1] = TCPOLEN_MAXSEG;
        put16(buf, p + 2, o.mss);
        p += TCPOLEN_MAXSEG;
        break;
      case 'wscale':
        buf[p] = TCPOPT_WINDOW;
        buf[p + 1] = TCPOLEN_WINDOW;
        buf[p + 2] = o.shift;
        p += TCPOLEN_WINDOW;
        break;
      case 'sackOK':
        buf[p] = TCPOPT_SACK_PERMITTED;
        buf[p + 1] = TCPOLEN_SACK_PERMITTED;
        p += TCPOLEN_SACK_PERMITTED;
        break;
      case 'sack': {
        const n = o.blocks.length;
        if (n < 1 || n > TCP_SACK_MAXBLOCKS) throw new RangeError(`tcp sack option with ${n} blocks`);
        buf[p] = TCPOPT_SACK;
        buf[p + 1] = 2 + TCPOLEN_SACK * n;
        for (let i = 0; i < n; i++) {
          put32(buf, p + 2 + i * 8, o.blocks[i].start);
          put32(buf, p + 6 + i * 8, o.blocks[i].end);
        }
        p += 2 + TCPOLEN_SACK * n;
        break;
      }
      case 'timestamp':
        buf[p] = TCPOPT_TIMESTAMP;
        buf[p + 1] = TCPOLEN_TIMESTAMP;
        put32(buf, p + 2, o.tsval);
        put32(buf, p + 6, o.tsecr);
        p += TCPOLEN_TIMESTAMP;
        break;
      case 'md5':
        if (o.digest.length !== 16) throw new RangeError(`tcp md5 digest of ${o.digest.length} bytes`);
        buf[p] = TCPOPT_SIGNATURE;
        buf[p + 1] = TCPOLEN_SIGNATURE;
        buf.set(o.digest, p + 2);
        p += TCPOLEN_SIGNATURE;
        break;
      case 'unknown':
        buf[p] = o.code;
        buf[p + 1] = 2 + o.data.length;
        buf.set(o.data, p + 2);
        p += 2 + o.data.length;
        break;
    }
  }
  while (p < off + total) buf[p++] = TCPOPT_EOL;
  return total;
}

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TH_* bits. */
  flags: number;
  window: number;
  urgent: number;
  /** In wire order; padding is not listed. */
  options: TcpOptionRepr[];
  /** Segment data; aliases the parsed buffer. */
  payload: Uint8Array;
}

/**
 * Parse and validate a segment of `len` bytes (the IP payload).  With
 * `pseudo` (the pseudo-header sum over len) the checksum is verified.
 */
export function parseTcp(buf: Uint8Array, off: number, len: number, pseudo?: number): TcpRepr | WireError {
  const p = new TcpPacket(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) {
    const detail =
      len < TCP_HDRLEN
        ? `${len} bytes, header needs ${TCP_HDRLEN}`
        : `data offset ${p.dataOffset} words, ${len} bytes available`;
    return WireError.fromCode('tcp', code, detail);
  }
  if (pseudo !== undefined && !p.verifyChecksum(pseudo)) {
    return new WireError('tcp', 'malformed', `bad checksum 0x${p.checksum.toString(16)}`);
  }
  const options = parseTcpOptions(buf, p.optionsOffset, p.optionsLength);
  if (options instanceof WireError) return options;
  return {
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    seq: p.seq,
    ack: p.ack,
    flags: p.flags,
    window: p.window,
    urgent: p.urgent,
    options,
    payload: buf.subarray(p.payloadOffset, off + len),
  };
}

/** Header bytes, options and padding included. */
export function tcpHeaderLength(repr: TcpRepr): number {
  return TCP_HDRLEN + tcpOptionsLength(repr.options);
}

export function tcpReprLength(repr: TcpRepr): number {
  return tcpHeaderLength(repr) + repr.payload.length;
}

/**
 * Write header, options and payload; returns the bytes written.  With
 * `pseudo` (the pseudo-header sum over tcpReprLength(repr)) the checksum
 * is filled, else left 0.  Throws RangeError as emitTcpOptions does.
 */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, off: number, pseudo?: number): number {
  const optlen = emitTcpOptions(repr.options, buf, off + TCP_HDRLEN);
  const hl = TCP_HDRLEN + optlen;
  put16(buf, off, repr.srcPort);
  put16(buf, off + 2, repr.dstPort);
  put32(buf, off + 4, repr.seq);
  put32(buf, off + 8, repr.ack);
  buf[off + 12] = (hl >> 2) << 4;
  buf[off + 13] = repr.flags;
  put16(buf, off + 14, repr.window);
  put16(buf, off + 16, 0);
  put16(buf, off + 18, repr.urgent);
  buf.set(repr.payload, off + hl);
  const n = hl + repr.payload.length;
  if (pseudo !== undefined) put16(buf, off + 16, checksum(buf, off, n, pseudo));
  return n;
}
