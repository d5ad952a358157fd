/**
 * The packet printer's entry: per-link-type dispatch (tcpdump.c's printers[]
 * table and the *_if_print routines) and the timestamp (util.c ts_print).
 *
 * OpenBSD keeps the printer's state in globals (flags, snapend, packetp, the
 * TCP sequence table); here it lives in one PrintState per tcpdump run, and
 * every printer takes it first.  Offsets are indices into `st.buf`;
 * `st.snapend` is the end of the captured bytes, which every read is checked
 * against (TCHECK in the C code), so a short capture prints a "[|proto]"
 * marker and never reads past the capture.
 */

import { EMPTY } from '../../wire/bytes.js';
import type { OutBuf } from './outbuf.js';
import { ether_if_print } from './print-ether.js';
import { default_print } from './print-hex.js';
import { ip_print } from './print-ip.js';
import { ip6_print } from './print-ip6.js';
import { loop_if_print, null_if_print } from './print-null.js';
import { TcpSeqTable } from './print-tcp.js';
import { pflog_if_print } from './print-pflog.js';

/** Link types (DLT_* of OpenBSD's bpf.h, and LINKTYPE_* numbers of pcap files). */
export const DLT_NULL = 0;
export const DLT_EN10MB = 1;
export const DLT_IEEE802 = 6;
/** OpenBSD's DLT_LOOP; pcap files say LINKTYPE_LOOP (108). */
export const DLT_LOOP = 12;
/** OpenBSD's DLT_RAW; pcap files say LINKTYPE_RAW (101). */
export const DLT_RAW = 14;
/** pflog(4): struct pfloghdr, then the packet. */
export const DLT_PFLOG = 117;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;

/** Whether printPacket has a printer for this link type (tcpdump exits with "unknown data link type" otherwise). */
export function isSupportedLinktype(lt: number): boolean {
  switch (lt) {
    case DLT_NULL:
    case DLT_EN10MB:
    case DLT_IEEE802:
    case DLT_LOOP:
    case DLT_RAW:
    case LINKTYPE_RAW:
    case LINKTYPE_LOOP:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case DLT_PFLOG:
      return true;
  }
  return false;
}

export interface PrintOptions {
  /** -n: numbers, not names.  Only link-level names exist here (Broadcast, ether types). */
  nflag?: boolean;
  /** -e: print the link-level header. */
  eflag?: boolean;
  /** -v, -vv, -vvv. */
  vflag?: number;
  /** -x: hex dump of each packet. */
  xflag?: boolean;
  /** -X: hex and ASCII dump (implies xflag). */
  Xflag?: boolean;
  /** -A: ASCII dump (implies xflag). */
  Aflag?: boolean;
  /** -S: absolute TCP sequence numbers. */
  Sflag?: boolean;
  /** -q: quick, shorter output. */
  qflag?: boolean;
  /** 1 (default): local HH:MM:SS.uuuuuu; 0 (-t): none; -1 (-tt): seconds since the epoch; -2 (-ttt): date and time; -3 (-tttt): delta to the previous packet; -4 (-ttttt): delta to the first. */
  tflag?: number;
  /** Seconds east of UTC for local time; default: the zone's offset now, as gmt2local(0). */
  thiszone?: number;
}

/** Everything the printers share for one run: options, the packet being printed, and the TCP table. */
export class PrintState {
  nflag: boolean;
  eflag: boolean;
  vflag: number;
  xflag: boolean;
  Xflag: boolean;
  Aflag: boolean;
  Sflag: boolean;
  qflag: boolean;
  tflag: number;
  thiszone: number;

  /** Output of the packet being printed. */
  out!: OutBuf;
  /** The packet's bytes. */
  buf: Uint8Array = EMPTY;
  /** End of the captured bytes (index into buf). */
  snapend = 0;
  /** Start of the link-level header (ARP compares addresses with it). */
  packetp = 0;
  /** The ether type found last, for "(LLC ...)" after SNAP frames. */
  extracted_ethertype = 0;

  /** First/last timestamps for -tttt/-ttttt, in microseconds. */
  lastUsec = 0;
  lastSet = false;

  readonly tcpSeq = new TcpSeqTable();

  constructor(o: PrintOptions = {}) {
    this.nflag = o.nflag ?? true;
    this.eflag = o.eflag ?? false;
    this.vflag = o.vflag ?? 0;
    this.Xflag = o.Xflag ?? false;
    this.Aflag = o.Aflag ?? false;
    this.xflag = (o.xflag ?? false) || this.Xflag || this.Aflag;
    this.Sflag = o.Sflag ?? false;
    this.qflag = o.qflag ?? false;
    this.tflag = o.tflag ?? 1;
    this.thiszone = o.thiszone ?? -new Date().getTimezoneOffset() * 60;
  }

  /** A byte of the packet, or 0 past the capture (where C would read whatever follows). */
  byteAt(i: number): number {
    return i < this.snapend ? this.buf[i]! : 0;
  }
}

/**
 * Print one packet as one line (more with -x/-X/-A), newline included.
 * `off`/`caplen` locate the captured bytes in `buf`, `wirelen` is the length
 * on the wire; the timestamp is seconds and nanoseconds since the epoch.
 */
export function printPacket(
  out: OutBuf,
  st: PrintState,
  linktype: number,
  tsSec: number,
  tsNsec: number,
  buf: Uint8Array,
  off: number,
  caplen: number,
  wirelen: number,
): void {
  st.out = out;
  st.buf = buf;
  if (caplen > buf.length - off) caplen = buf.length - off;
  if (caplen < 0) caplen = 0;
  st.snapend = off + caplen;
  st.packetp = off;
  ts_print(st, tsSec, tsNsec);
  switch (linktype) {
    case DLT_EN10MB:
    case DLT_IEEE802:
      ether_if_print(st, off, wirelen);
      break;
    case DLT_NULL:
      null_if_print(st, off, caplen, wirelen);
      break;
    case DLT_LOOP:
    case LINKTYPE_LOOP:
      loop_if_print(st, off, caplen, wirelen);
      break;
    case DLT_RAW:
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      raw_if_print(st, off, caplen, wirelen);
      break;
    case DLT_PFLOG:
      pflog_if_print(st, off, caplen, wirelen);
      break;
    default:
      out.nl();
      break;
  }
}

/** print-raw.c: a bare IPv4 or IPv6 packet, told apart by the version nibble. */
function raw_if_print(st: PrintState, p: number, caplen: number, length: number): void {
  if (caplen >= 1) {
    const v = st.buf[p]! >>> 4;
    switch (v) {
      case 4:
        if (st.eflag) st.out.str('ip: ');
        ip_print(st, p, length);
        break;
      case 6:
        if (st.eflag) st.out.str('ip6: ');
        ip6_print(st, p, length);
        break;
      default:
        if (st.eflag) {
          st.out.ch(118);
          st.out.dec(v);
          st.out.str(': ');
        }
        break;
    }
  }
  if (st.xflag) default_print(st, p, caplen);
  st.out.nl();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** util.c ts_print. */
export function ts_print(st: PrintState, sec: number, nsec: number): void {
  const out = st.out;
  const usec = Math.floor(nsec / 1000);
  switch (st.tflag) {
    case 0:
      break;
    case -1:
      out.dec(sec);
      out.ch(46);
      out.dec0(usec, 6);
      out.ch(32);
      break;
    case -2: {
      // strftime("%b %d %T") of local time, with the UTC offset fixed at startup (thiszone).
      const t = sec + st.thiszone;
      const days = Math.floor(t / 86400);
      const s = t - days * 86400;
      // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
      const z = days + 719468;
      const era = Math.floor(z / 146097);
      const doe = z - era * 146097;
      const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
      const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
      const mp = Math.floor((5 * doy + 2) / 153);
      const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
      const m = mp < 10 ? mp + 3 : mp - 9;
      out.str(MONTHS[m - 1]!);
      out.ch(32);
      out.dec0(d, 2);
      out.ch(32);
      hms(st, s);
      out.ch(46);
      out.dec0(usec, 6);
      out.ch(32);
      break;
    }
    case -3:
    case -4: {
      const cur = sec * 1e6 + usec;
      const diff = cur - st.lastUsec;
      const ds = Math.floor(diff / 1e6);
      out.dec(ds);
      out.ch(46);
      out.dec0(diff - ds * 1e6, 6);
      out.ch(32);
      if (!st.lastSet || st.tflag === -3) {
        st.lastUsec = cur;
        st.lastSet = cur !== 0;
      }
      break;
    }
    default: {
      // (tv_sec + thiszone) % 86400 in the C code's unsigned arithmetic.
      hms(st, ((sec + st.thiszone) >>> 0) % 86400);
      out.ch(46);
      out.dec0(usec, 6);
      out.ch(32);
      break;
    }
  }
}

function hms(st: PrintState, s: number): void {
  const out = st.out;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  out.dec0(h, 2);
  out.ch(58);
  out.dec0(m, 2);
  out.ch(58);
  out.dec0(s % 60, 2);
}
