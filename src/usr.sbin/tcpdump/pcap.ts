/**
 * Capture files: a streaming reader for libpcap and pcapng files and a
 * buffered libpcap writer (what tcpdump -r and -w use).
 *
 * The reader is built for a hot loop over big files: it reads the file in
 * large chunks into one buffer and `next()` points its public fields at the
 * next packet inside that buffer.  Nothing is allocated per packet; a record
 * that straddles the end of the buffer is handled by moving the unread tail
 * to the front and reading on.  A packet's bytes are valid until the next
 * call to `next()`.
 *
 * Bad data never throws: `next()` returns false and `error` names what was
 * wrong and at which byte offset of the file, after every good packet before
 * that point has been returned.
 */

import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';

import { EMPTY, get16, get16le, get32, get32le, put16, put16le, put32, put32le } from '../../wire/bytes.js';
import { linktypeToDlt } from './dlt.js';
import {
  PCAPNG_BT_EPB,
  PCAPNG_BT_IDB,
  PCAPNG_BT_PB,
  PCAPNG_BT_SHB,
  PCAPNG_BT_SPB,
  PCAPNG_BLOCK_MIN,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_EPB_MIN,
  PCAPNG_IDB_MIN,
  PCAPNG_IF_NAME,
  PCAPNG_IF_TSOFFSET,
  PCAPNG_IF_TSRESOL,
  PCAPNG_OPT_ENDOFOPT,
  PCAPNG_PB_MIN,
  PCAPNG_SHB_MIN,
  PCAPNG_SPB_MIN,
  PCAPNG_TSRESOL_BINARY,
  PCAPNG_VERSION_MAJOR,
} from './pcapng.js';

/** libpcap file magic, microsecond timestamps. */
export const TCPDUMP_MAGIC = 0xa1b2c3d4;
/** libpcap file magic, nanosecond timestamps. */
export const NSEC_TCPDUMP_MAGIC = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** struct pcap_file_header: magic, major, minor, thiszone, sigfigs, snaplen, linktype. */
export const PCAP_FILE_HDRLEN = 24;
/** Per-packet record header in a file: tv_sec, tv_usec, caplen, len (all 32 bits). */
export const PCAP_PKTHDR_LEN = 16;
/** Largest caplen accepted by default (libpcap's MAXIMUM_SNAPLEN). */
export const MAXIMUM_SNAPLEN = 262144;
/** Default size of each read(2) and write(2). */
export const PCAP_CHUNK = 1 << 20;
/** Largest pcapng block we decode (packets, interfaces, sections). Others are skipped at any size. */
export const PCAPNG_MAX_BLOCK = 16 << 20;

const TWO32 = 4294967296;

export type CaptureFormat = 'pcap' | 'pcapng';

export interface PcapReaderOptions {
  /** Bytes per read(2) (the buffer grows only for a single record larger than this). */
  chunkSize?: number;
  /** Largest caplen accepted before the file is called corrupt. */
  maxCaplen?: number;
  /** Largest pcapng packet/interface/section block decoded. */
  maxBlock?: number;
}

/** strerror()-style text for the errno codes a capture file open/read meets. */
export function errnoText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'EIO':
      return 'Input/output error';
    case 'ENOSPC':
      return 'No space left on device';
    case 'EPIPE':
      return 'Broken pipe';
    case 'EBADF':
      return 'Bad file descriptor';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * Reads a libpcap or pcapng capture, one packet per `next()`.
 *
 * Per-packet fields (valid after `next()` returned true, until the next call):
 * `buf`/`off`/`caplen` (the captured bytes), `len` (length on the wire),
 * `tsSec` + `tsFrac`/`tsUnits` (seconds and a sub-second count in units of
 * 1/tsUnits s; `tsNsec`/`tsUsec` convert), `linktype` (file LINKTYPE) and
 * `dlt` (OpenBSD DLT) of the packet's interface, its `snaplen`, `ifIndex`
 * (pcapng interface id within `section`; 0 for libpcap files) and
 * `recordOffset` (file offset of the record or block).  Before the first
 * `next()` the link fields describe the first interface.
 *
 *     const r = PcapReader.open(path);
 *     while (r.next()) handle(r.dlt, r.buf, r.off, r.caplen, r.len, r.tsSec, r.tsUsec);
 *     if (r.error !== null) warn(r.error);
 *     r.close();
 */
export class PcapReader {
  /** 'pcap' or 'pcapng'; '' when the header could not be read. */
  format: CaptureFormat | '' = '';
  /** Why reading stopped early; null while all is well and at a clean end of file. */
  error: string | null = null;
  /** Byte order of the file (libpcap) or of the current section (pcapng). */
  bigEndian = false;
  versionMajor = 0;
  versionMinor = 0;
  /** libpcap header thiszone (GMT offset of the writer, almost always 0). */
  thiszone = 0;

  linktype = -1;
  dlt = -1;
  snaplen = 0;
  ifIndex = 0;
  /** pcapng section number, from 0; interface ids restart in each section. */
  section = -1;

  buf: Uint8Array = EMPTY;
  off = 0;
  caplen = 0;
  len = 0;
  tsSec = 0;
  tsFrac = 0;
  tsUnits = 1e6;
  recordOffset = 0;
  /** Packets returned so far. */
  count = 0;

  private data: Uint8Array;
  private pos = 0; // next unread byte in data
  private end = 0; // end of valid bytes in data
  private base = 0; // file offset of data[0]
  private fd: number;
  private ownsFd: boolean;
  private eof: boolean;
  private ioError: string | null = null;
  private done = false;
  private le = true;
  private priming = false;
  private readonly maxCaplen: number;
  private readonly maxBlock: number;

  // libpcap: caplen/len swapped in files older than 2.3
  private swapLens = 0;

  // pcapng interfaces of the current section, indexed by interface id
  private ifCount = 0;
  private readonly ifLinktype: number[] = [];
  private readonly ifSnaplen: number[] = [];
  private readonly ifUnits: number[] = [];
  private readonly ifOffset: number[] = [];
  private readonly ifName: string[] = [];

  private constructor(
    data: Uint8Array,
    end: number,
    fd: number,
    ownsFd: boolean,
    opts: PcapReaderOptions,
    openError: string | null = null,
  ) {
    this.data = data;
    this.end = end;
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.eof = fd < 0;
    this.maxCaplen = opts.maxCaplen ?? MAXIMUM_SNAPLEN;
    this.maxBlock = Math.max(opts.maxBlock ?? PCAPNG_MAX_BLOCK, this.maxCaplen + 64);
    if (openError !== null) this.fail(openError);
    else this.readHeader();
  }

  /** A reader over bytes already in memory (no copy). */
  static fromBytes(bytes: Uint8Array, opts: PcapReaderOptions = {}): PcapReader {
    return new PcapReader(bytes, bytes.length, -1, false, opts);
  }

  /** A reader over an open file descriptor (not closed by the reader). */
  static fromFd(fd: number, opts: PcapReaderOptions = {}): PcapReader {
    return new PcapReader(new Uint8Array(chunkSize(opts)), 0, fd, false, opts);
  }

  /** Open a file; on failure the reader's `error` says why ("f: No such file or directory"). */
  static open(path: string, opts: PcapReaderOptions = {}): PcapReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      return new PcapReader(EMPTY, 0, -1, false, opts, `${path}: ${errnoText(e)}`);
    }
    return new PcapReader(new Uint8Array(chunkSize(opts)), 0, fd, true, opts);
  }

  /** Timestamp's sub-second part in nanoseconds (exact for every resolution we keep). */
  get tsNsec(): number {
    const u = this.tsUnits;
    if (u <= 1e9 && 1e9 % u === 0) return this.tsFrac * (1e9 / u);
    // a binary resolution 2^k, 9 < k <= 32: 1e9 = 1953125 * 2^9, products stay below 2^53
    return Math.floor((this.tsFrac * 1953125) / (u / 512));
  }

  get tsUsec(): number {
    return Math.floor(this.tsNsec / 1000);
  }

  /** Number of interfaces of the current pcapng section (1 for libpcap files). */
  get interfaceCount(): number {
    return this.format === 'pcap' ? 1 : this.ifCount;
  }

  /** if_name of a pcapng interface of the current section, '' when absent. */
  interfaceName(i: number): string {
    return i < this.ifCount ? this.ifName[i] : '';
  }

  /** Advance to the next packet. False at end of file or on error (see `error`). */
  next(): boolean {
    if (this.done) return false;
    return this.format === 'pcap' ? this.nextPcap() : this.nextNg();
  }

  /** Close the file descriptor if the reader opened it. */
  close(): void {
    if (this.ownsFd && this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // nothing useful to do
      }
    }
    this.fd = -1;
    this.eof = true;
  }

  // ---- input buffer ----

  /** Make at least n unread bytes available; false at end of input. */
  private ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.eof) return false;
    const unread = this.end - this.pos;
    if (n > this.data.length) {
      // one record larger than the buffer: grow (rare, bounded by maxBlock)
      const grown = new Uint8Array(Math.max(n, this.data.length * 2));
      grown.set(this.data.subarray(this.pos, this.end));
      this.data = grown;
    } else if (this.pos > 0) {
      this.data.copyWithin(0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = unread;
    while (this.end < n) {
      let r: number;
      try {
        r = readSync(this.fd, this.data, this.end, this.data.length - this.end, null);
      } catch (e) {
        this.ioError = `read error at offset ${this.base + this.end}: ${errnoText(e)}`;
        r = 0;
      }
      if (r === 0) {
        this.eof = true;
        break;
      }
      this.end += r;
    }
    return this.end >= n;
  }

  /** Discard n bytes, reading through the file in chunks; false if the input ends first. */
  private skip(n: number): boolean {
    for (;;) {
      const have = this.end - this.pos;
      if (have >= n) {
        this.pos += n;
        return true;
      }
      this.pos = this.end;
      n -= have;
      if (!this.ensure(Math.min(n, this.data.length))) {
        this.pos = this.end;
        return false;
      }
    }
  }

  private get at(): number {
    return this.base + this.pos;
  }

  private fail(msg: string): boolean {
    this.error = this.ioError ?? msg;
    return this.finish();
  }

  private finish(): boolean {
    if (this.ioError !== null && this.error === null) this.error = this.ioError;
    this.done = true;
    this.buf = EMPTY;
    this.caplen = 0;
    if (this.ownsFd) this.close();
    return false;
  }

  private u16(o: number): number {
    return this.le ? get16le(this.data, o) : get16(this.data, o);
  }

  private u32(o: number): number {
    return this.le ? get32le(this.data, o) : get32(this.data, o);
  }

  // ---- file header ----

  private readHeader(): void {
    if (!this.ensure(4)) {
      this.fail(`truncated file header at offset 0: ${PCAP_FILE_HDRLEN} bytes needed, ${this.end} left`);
      return;
    }
    const magic = get32(this.data, 0);
    if (magic === PCAPNG_BT_SHB) {
      this.format = 'pcapng';
      this.priming = true;
      // run up to the first interface so linktype/snaplen describe the file
      this.nextNg();
      this.priming = false;
      return;
    }
    let usec: boolean;
    if (magic === TCPDUMP_MAGIC || magic === NSEC_TCPDUMP_MAGIC) {
      this.le = false;
      usec = magic === TCPDUMP_MAGIC;
    } else if (get32le(this.data, 0) === TCPDUMP_MAGIC || get32le(this.data, 0) === NSEC_TCPDUMP_MAGIC) {
      this.le = true;
      usec = get32le(this.data, 0) === TCPDUMP_MAGIC;
    } else {
      this.fail(`bad magic ${hex32(magic)} at offset 0`);
      return;
    }
    this.format = 'pcap';
    this.bigEndian = !this.le;
    if (!this.ensure(PCAP_FILE_HDRLEN)) {
      this.fail(`truncated file header at offset 0: ${PCAP_FILE_HDRLEN} bytes needed, ${this.end - this.pos} left`);
      return;
    }
    this.versionMajor = this.u16(4);
    this.versionMinor = this.u16(6);
    if (this.versionMajor !== PCAP_VERSION_MAJOR) {
      this.fail(`unsupported pcap version ${this.versionMajor}.${this.versionMinor} at offset 4`);
      return;
    }
    this.thiszone = this.u32(8) | 0;
    this.snaplen = this.u32(16);
    // the top bits of linktype carry FCS information in newer libpcap files
    this.linktype = this.u32(20) & 0x03ffffff;
    this.dlt = linktypeToDlt(this.linktype);
    this.tsUnits = usec ? 1e6 : 1e9;
    this.swapLens = this.versionMinor < 3 ? 2 : this.versionMinor === 3 ? 1 : 0;
    this.section = 0;
    this.pos = PCAP_FILE_HDRLEN;
  }

  // ---- libpcap records ----

  private nextPcap(): boolean {
    const at = this.at;
    if (!this.ensure(PCAP_PKTHDR_LEN)) {
      const left = this.end - this.pos;
      if (left === 0) return this.finish();
      return this.fail(`truncated packet header at offset ${at}: ${PCAP_PKTHDR_LEN} bytes needed, ${left} left`);
    }
    let p = this.pos;
    const sec = this.u32(p);
    const frac = this.u32(p + 4);
    let caplen = this.u32(p + 8);
    let len = this.u32(p + 12);
    // files before 2.3 (and some labelled 2.3) had caplen and len the other way round
    if (this.swapLens === 2 || (this.swapLens === 1 && caplen > len)) {
      const t = caplen;
      caplen = len;
      len = t;
    }
    if (caplen > this.maxCaplen) {
      return this.fail(`caplen ${caplen} exceeds limit ${this.maxCaplen} at offset ${at}`);
    }
    if (!this.ensure(PCAP_PKTHDR_LEN + caplen)) {
      const left = this.end - this.pos - PCAP_PKTHDR_LEN;
      return this.fail(`truncated packet record at offset ${at}: caplen ${caplen} but ${left} bytes left`);
    }
    p = this.pos; // ensure() may have moved the bytes
    this.buf = this.data;
    this.off = p + PCAP_PKTHDR_LEN;
    this.caplen = caplen;
    this.len = len;
    this.tsSec = sec;
    this.tsFrac = frac;
    this.recordOffset = at;
    this.pos = p + PCAP_PKTHDR_LEN + caplen;
    this.count++;
    return true;
  }

  // ---- pcapng blocks ----

  private nextNg(): boolean {
    for (;;) {
      const at = this.at;
      if (!this.ensure(8)) {
        const left = this.end - this.pos;
        if (left === 0) return this.finish();
        return this.fail(`truncated block header at offset ${at}: 8 bytes needed, ${left} left`);
      }
      let p = this.pos;
      const type = this.u32(p);
      if (type === PCAPNG_BT_SHB) {
        // the byte order may change with every section
        if (!this.ensure(12)) {
          return this.fail(`truncated section header at offset ${at}: 12 bytes needed, ${this.end - this.pos} left`);
        }
        p = this.pos;
        if (get32(this.data, p + 8) === PCAPNG_BYTE_ORDER_MAGIC) this.le = false;
        else if (get32le(this.data, p + 8) === PCAPNG_BYTE_ORDER_MAGIC) this.le = true;
        else return this.fail(`bad byte-order magic ${hex32(get32(this.data, p + 8))} at offset ${at + 8}`);
      } else if (this.section < 0) {
        return this.fail(`bad magic ${hex32(type)} at offset ${at}`);
      }
      const total = this.u32(p + 4);
      if (total < PCAPNG_BLOCK_MIN || total % 4 !== 0) {
        return this.fail(`bad block length ${total} at offset ${at}`);
      }
      const decoded =
        type === PCAPNG_BT_EPB ||
        type === PCAPNG_BT_SPB ||
        type === PCAPNG_BT_IDB ||
        type === PCAPNG_BT_SHB ||
        type === PCAPNG_BT_PB;
      if (!decoded) {
        // unknown or uninteresting: skip at any size, still checking the framing
        if (!this.skip(total - 4) || !this.ensure(4)) {
          return this.fail(`truncated block at offset ${at}: block length ${total} but ${this.at - at + this.end - this.pos} bytes left`);
        }
        const trailer = this.u32(this.pos);
        if (trailer !== total) {
          return this.fail(`block length mismatch at offset ${at}: ${total} at start, ${trailer} at end`);
        }
        this.pos += 4;
        continue;
      }
      if (total > this.maxBlock) {
        return this.fail(`block length ${total} exceeds limit ${this.maxBlock} at offset ${at}`);
      }
      if (!this.ensure(total)) {
        return this.fail(`truncated block at offset ${at}: block length ${total} but ${this.end - this.pos} bytes left`);
      }
      p = this.pos;
      const trailer = this.u32(p + total - 4);
      if (trailer !== total) {
        return this.fail(`block length mismatch at offset ${at}: ${total} at start, ${trailer} at end`);
      }
      switch (type) {
        case PCAPNG_BT_SHB: {
          if (total < PCAPNG_SHB_MIN) return this.fail(`section header block too short (${total} bytes) at offset ${at}`);
          const major = this.u16(p + 12);
          const minor = this.u16(p + 14);
          if (major !== PCAPNG_VERSION_MAJOR) {
            return this.fail(`unsupported pcapng version ${major}.${minor} at offset ${at + 12}`);
          }
          this.versionMajor = major;
          this.versionMinor = minor;
          this.bigEndian = !this.le;
          this.section++;
          this.ifCount = 0;
          this.pos = p + total;
          continue;
        }
        case PCAPNG_BT_IDB: {
          if (total < PCAPNG_IDB_MIN) return this.fail(`interface description block too short (${total} bytes) at offset ${at}`);
          if (!this.addInterface(p, total)) return false;
          this.pos = p + total;
          if (this.priming && this.ifCount === 1) {
            this.selectInterface(0);
            return true;
          }
          continue;
        }
        case PCAPNG_BT_EPB:
        case PCAPNG_BT_PB: {
          const min = type === PCAPNG_BT_EPB ? PCAPNG_EPB_MIN : PCAPNG_PB_MIN;
          if (total < min) return this.fail(`packet block too short (${total} bytes) at offset ${at}`);
          const ifid = type === PCAPNG_BT_EPB ? this.u32(p + 8) : this.u16(p + 8);
          if (ifid >= this.ifCount) {
            return this.fail(`packet block at offset ${at} names interface ${ifid}, but the section has ${this.ifCount}`);
          }
          const caplen = this.u32(p + 20);
          if (caplen > this.maxCaplen) return this.fail(`caplen ${caplen} exceeds limit ${this.maxCaplen} at offset ${at}`);
          if (caplen > total - min) {
            return this.fail(`caplen ${caplen} overruns block of length ${total} at offset ${at}`);
          }
          this.selectInterface(ifid);
          this.setTimestamp(this.u32(p + 12), this.u32(p + 16), ifid);
          this.len = this.u32(p + 24);
          this.caplen = caplen;
          this.off = p + 28;
          break;
        }
        default: {
          // PCAPNG_BT_SPB: implicitly interface 0, no timestamp
          if (total < PCAPNG_SPB_MIN) return this.fail(`simple packet block too short (${total} bytes) at offset ${at}`);
          if (this.ifCount === 0) {
            return this.fail(`simple packet block at offset ${at}, but the section has no interface`);
          }
          this.selectInterface(0);
          const orig = this.u32(p + 8);
          let caplen = Math.min(orig, total - PCAPNG_SPB_MIN);
          if (this.snaplen !== 0 && caplen > this.snaplen) caplen = this.snaplen;
          if (caplen > this.maxCaplen) return this.fail(`caplen ${caplen} exceeds limit ${this.maxCaplen} at offset ${at}`);
          this.tsSec = 0;
          this.tsFrac = 0;
          this.len = orig;
          this.caplen = caplen;
          this.off = p + 12;
          break;
        }
      }
      this.buf = this.data;
      this.recordOffset = at;
      this.pos = p + total;
      this.count++;
      return true;
    }
  }

  private selectInterface(i: number): void {
    this.ifIndex = i;
    this.linktype = this.ifLinktype[i];
    this.dlt = linktypeToDlt(this.linktype);
    this.snaplen = this.ifSnaplen[i];
    this.tsUnits = this.ifUnits[i];
  }

  /** Decode an IDB at p (already framed); false after fail(). */
  private addInterface(p: number, total: number): boolean {
    let units = 1e6;
    let offset = 0;
    let name = '';
    const stop = p + total - 4;
    let o = p + 16;
    while (o + 4 <= stop) {
      const code = this.u16(o);
      const olen = this.u16(o + 2);
      if (code === PCAPNG_OPT_ENDOFOPT) break;
      if (o + 4 + olen > stop) {
        return this.fail(`option ${code} of length ${olen} overruns its block at offset ${this.base + o}`);
      }
      const v = o + 4;
      if (code === PCAPNG_IF_TSRESOL) {
        if (olen !== 1) return this.fail(`if_tsresol of length ${olen} at offset ${this.base + o}`);
        const r = this.data[v];
        const exp = r & ~PCAPNG_TSRESOL_BINARY;
        if ((r & PCAPNG_TSRESOL_BINARY) !== 0 ? exp > 63 : exp > 19) {
          return this.fail(`if_tsresol 0x${r.toString(16)} too fine at offset ${this.base + o}`);
        }
        units = (r & PCAPNG_TSRESOL_BINARY) !== 0 ? 2 ** exp : 10 ** exp;
      } else if (code === PCAPNG_IF_TSOFFSET) {
        if (olen !== 8) return this.fail(`if_tsoffset of length ${olen} at offset ${this.base + o}`);
        // 64-bit signed, in the section's byte order
        const hi = this.le ? this.u32(v + 4) : this.u32(v);
        const lo = this.le ? this.u32(v) : this.u32(v + 4);
        offset = (hi | 0) * TWO32 + lo;
      } else if (code === PCAPNG_IF_NAME) {
        name = new TextDecoder().decode(this.data.subarray(v, v + olen)).replace(/\0.*$/s, '');
      }
      o = v + ((olen + 3) & ~3);
    }
    const i = this.ifCount++;
    this.ifLinktype[i] = this.u16(p + 8);
    this.ifSnaplen[i] = this.u32(p + 12);
    this.ifUnits[i] = units;
    this.ifOffset[i] = offset;
    this.ifName[i] = name;
    return true;
  }

  /**
   * Split a 64-bit count of 1/units seconds into seconds and remainder,
   * exactly and without allocating: long division in 16-bit digits keeps
   * every intermediate below 2^53 while units <= 2^32.
   */
  private setTimestamp(hi: number, lo: number, i: number): void {
    const units = this.ifUnits[i];
    if (units > TWO32) {
      // picoseconds and finer: rare, so BigInt is fine; keep nanoseconds
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const u = BigInt(units);
      this.tsSec = Number(t / u) + this.ifOffset[i];
      this.tsFrac = Number(((t % u) * 1000000000n) / u);
      this.tsUnits = 1e9;
      return;
    }
    let r = 0;
    let q = 0;
    for (let k = 0; k < 4; k++) {
      const digit = k === 0 ? hi >>> 16 : k === 1 ? hi & 0xffff : k === 2 ? lo >>> 16 : lo & 0xffff;
      const cur = r * 65536 + digit;
      const d = Math.floor(cur / units);
      r = cur - d * units;
      q = q * 65536 + d;
    }
    this.tsSec = q + this.ifOffset[i];
    this.tsFrac = r;
  }
}

function chunkSize(opts: PcapReaderOptions): number {
  const n = opts.chunkSize ?? PCAP_CHUNK;
  return n >= 16 ? Math.floor(n) : 16;
}

// ---- writing ----

/** Where a writer's bytes go.  write() may throw; the writer turns that into `error`. */
export interface PcapSink {
  write(buf: Uint8Array, off: number, len: number): void;
  close?(): void;
}

/** Collects everything written, for tests and in-process consumers. */
export class MemorySink implements PcapSink {
  private parts: Uint8Array[] = [];
  length = 0;

  write(buf: Uint8Array, off: number, len: number): void {
    this.parts.push(buf.slice(off, off + len));
    this.length += len;
  }

  /** All bytes written so far, as one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Writes through a file descriptor with write(2), looping on short writes. */
export class FdSink implements PcapSink {
  constructor(
    readonly fd: number,
    private readonly ownsFd = false,
  ) {}

  write(buf: Uint8Array, off: number, len: number): void {
    while (len > 0) {
      const n = writeSync(this.fd, buf, off, len);
      off += n;
      len -= n;
    }
  }

  close(): void {
    if (this.ownsFd) closeSync(this.fd);
  }
}

export interface PcapWriterOptions {
  /** LINKTYPE_* value for the file header (see dltToLinktype()). */
  linktype: number;
  /** Packets are cut to this many bytes, as tcpdump -s does. Default MAXIMUM_SNAPLEN. */
  snaplen?: number;
  /** Byte order of headers; default the host's, as libpcap writes. */
  bigEndian?: boolean;
  /** Nanosecond timestamps (magic 0xa1b23c4d); default microseconds. */
  nanosecond?: boolean;
  /** Header thiszone field; 0 as everyone writes. */
  thiszone?: number;
  /** Bytes buffered before each write(2). Default PCAP_CHUNK. */
  bufferSize?: number;
}

/**
 * A libpcap file writer (pcap_dump_open()/pcap_dump()): buffers records and
 * writes them out in large chunks.  Errors from the sink do not throw; they
 * land in `error` and later writes are dropped.
 */
export class PcapWriter {
  error: string | null = null;
  /** Packets written (accepted into the buffer). */
  packets = 0;
  readonly snaplen: number;
  readonly linktype: number;
  readonly bigEndian: boolean;
  readonly nanosecond: boolean;

  private readonly out: Uint8Array;
  private used = 0;
  private closed = false;

  constructor(
    readonly sink: PcapSink,
    opts: PcapWriterOptions,
  ) {
    this.linktype = opts.linktype;
    this.snaplen = opts.snaplen ?? MAXIMUM_SNAPLEN;
    this.bigEndian = opts.bigEndian ?? endianness() === 'BE';
    this.nanosecond = opts.nanosecond ?? false;
    this.out = new Uint8Array(Math.max(opts.bufferSize ?? PCAP_CHUNK, PCAP_FILE_HDRLEN + PCAP_PKTHDR_LEN));
    const b = this.out;
    this.put32(b, 0, this.nanosecond ? NSEC_TCPDUMP_MAGIC : TCPDUMP_MAGIC);
    this.put16(b, 4, PCAP_VERSION_MAJOR);
    this.put16(b, 6, PCAP_VERSION_MINOR);
    this.put32(b, 8, opts.thiszone ?? 0);
    this.put32(b, 12, 0); // sigfigs
    this.put32(b, 16, this.snaplen);
    this.put32(b, 20, this.linktype);
    this.used = PCAP_FILE_HDRLEN;
  }

  /** Write to an in-memory sink; after close(), `w.sink.bytes()` is the file. */
  static memory(opts: PcapWriterOptions): PcapWriter & { readonly sink: MemorySink } {
    return new PcapWriter(new MemorySink(), opts) as PcapWriter & { readonly sink: MemorySink };
  }

  /** Create (truncate) a file; on failure `error` says why and nothing is written. */
  static open(path: string, opts: PcapWriterOptions): PcapWriter {
    try {
      return new PcapWriter(new FdSink(openSync(path, 'w'), true), opts);
    } catch (e) {
      const w = new PcapWriter(new MemorySink(), opts);
      w.error = `${path}: ${errnoText(e)}`;
      w.closed = true;
      return w;
    }
  }

  /**
   * Append one packet: `len` bytes at buf[off] were captured, `wireLen` is
   * its length on the wire (default len).  The record keeps at most
   * `snaplen` bytes.  `frac` is microseconds (nanoseconds for a nanosecond
   * file).  Returns false once the writer has failed or is closed.
   */
  writePacket(buf: Uint8Array, off: number, len: number, sec: number, frac: number, wireLen = len): boolean {
    if (this.closed || this.error !== null) return false;
    const caplen = len > this.snaplen ? this.snaplen : len;
    const orig = wireLen < caplen ? caplen : wireLen;
    if (this.used + PCAP_PKTHDR_LEN + caplen > this.out.length && !this.flush()) return false;
    const b = this.out;
    const o = this.used;
    this.put32(b, o, sec);
    this.put32(b, o + 4, frac);
    this.put32(b, o + 8, caplen);
    this.put32(b, o + 12, orig);
    this.used = o + PCAP_PKTHDR_LEN;
    if (this.used + caplen <= b.length) {
      b.set(buf.subarray(off, off + caplen), this.used);
      this.used += caplen;
    } else {
      // larger than the whole buffer: header out, then the bytes straight from the caller
      if (!this.flush() || !this.emit(buf, off, caplen)) return false;
    }
    this.packets++;
    return true;
  }

  /** Write out what is buffered (pcap_dump_flush()). */
  flush(): boolean {
    if (this.error !== null) return false;
    if (this.used === 0) return true;
    const n = this.used;
    this.used = 0;
    return this.emit(this.out, 0, n);
  }

  /** Flush and close the sink; returns false if anything failed along the way. */
  close(): boolean {
    if (this.closed) return this.error === null;
    const ok = this.flush();
    this.closed = true;
    try {
      this.sink.close?.();
    } catch (e) {
      if (this.error === null) this.error = `close: ${errnoText(e)}`;
    }
    return ok && this.error === null;
  }

  private emit(buf: Uint8Array, off: number, len: number): boolean {
    try {
      this.sink.write(buf, off, len);
      return true;
    } catch (e) {
      this.error = `write error: ${errnoText(e)}`;
      return false;
    }
  }

  private put32(b: Uint8Array, o: number, v: number): void {
    if (this.bigEndian) put32(b, o, v);
    else put32le(b, o, v);
  }

  private put16(b: Uint8Array, o: number, v: number): void {
    if (this.bigEndian) put16(b, o, v);
    else put16le(b, o, v);
  }
}
