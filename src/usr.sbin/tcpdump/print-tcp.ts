/**
 * TCP: OpenBSD's print-tcp.c.  "SRC.SPORT > DST.DPORT: FLAGS SEQ:END(LEN)
 * ack N win N urg N <OPTIONS>", flags as the letters S F R P W E or "." for
 * none; the range is printed when there is data or SYN/FIN/RST (always with
 * -vv).  Unless -S, sequence and acknowledgement numbers are relative to the
 * first packet with ACK seen on the connection (tcp_seq_hash: one entry for
 * both directions, made anew on SYN).  -v adds " [tcp sum ok]" or
 * " [bad tcp cksum X! -> Y]", and the text of RST segments.
 *
 * Not decoded: NFS over TCP (port 2049), BGP and OpenFlow payloads.
 */

import { IPPROTO_TCP } from '../../wire/ip4.js';
import { get32, get32le } from '../../wire/bytes.js';
import { checksum, pseudoSum4, pseudoSum6 } from '../../wire/checksum.js';
import { in_cksum_shouldbe } from './print-ip.js';
import {
  TCPOPT_EOL,
  TCPOPT_MAXSEG,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERMITTED,
  TCPOPT_SIGNATURE,
  TCPOPT_TIMESTAMP,
  TCPOPT_WINDOW,
  TH_ACK,
  TH_CWR,
  TH_ECE,
  TH_FIN,
  TH_PUSH,
  TH_RST,
  TH_SYN,
  TH_URG,
} from '../../wire/tcp.js';
import type { PrintState } from './print.js';

const TH_ECNECHO = TH_ECE;
const TCPOPT_WSCALE = TCPOPT_WINDOW;
const TCPOPT_SACKOK = TCPOPT_SACK_PERMITTED;
const TCPOPT_ECHO = 6;
const TCPOPT_ECHOREPLY = 7;
const TCPOPT_CC = 11;
const TCPOPT_CCNEW = 12;
const TCPOPT_CCECHO = 13;
const TCPOLEN_SACK = 8;
const MAX_RST_DATA_LEN = 30;

const TSEQ_HASHSIZE = 919;
/** Key words per entry: source address (4), destination address (4), ports. */
const KW = 9;

/**
 * The relative-sequence table (tcp_seq_hash): chained buckets in typed
 * arrays; memory grows only when a new connection appears.
 */
export class TcpSeqTable {
  private heads = new Int32Array(TSEQ_HASHSIZE).fill(-1);
  private keys = new Uint32Array(64 * KW);
  private nexts = new Int32Array(64);
  /** Per entry: the sequence number (seq) and the acknowledgement base (ack) of the collating direction. */
  seq = new Uint32Array(64);
  ack = new Uint32Array(64);
  count = 0;
  /** The key being looked up. */
  readonly k = new Uint32Array(KW);

  /** Index of the entry for `k`, or -1. */
  find(): number {
    const k = this.k;
    for (let i = this.heads[k[8]! % TSEQ_HASHSIZE]!; i >= 0; i = this.nexts[i]!) {
      const o = i * KW;
      const ks = this.keys;
      if (
        ks[o + 8] === k[8] &&
        ks[o] === k[0] &&
        ks[o + 1] === k[1] &&
        ks[o + 2] === k[2] &&
        ks[o + 3] === k[3] &&
        ks[o + 4] === k[4] &&
        ks[o + 5] === k[5] &&
        ks[o + 6] === k[6] &&
        ks[o + 7] === k[7]
      )
        return i;
    }
    return -1;
  }

  /** Append an entry for `k` at the end of its chain, as OpenBSD does. */
  add(): number {
    const i = this.count++;
    if (i >= this.nexts.length) this.grow();
    this.keys.set(this.k, i * KW);
    this.nexts[i] = -1;
    const h = this.k[8]! % TSEQ_HASHSIZE;
    let j = this.heads[h]!;
    if (j < 0) this.heads[h] = i;
    else {
      while (this.nexts[j]! >= 0) j = this.nexts[j]!;
      this.nexts[j] = i;
    }
    return i;
  }

  private grow(): void {
    const n = this.nexts.length * 2;
    const keys = new Uint32Array(n * KW);
    keys.set(this.keys);
    this.keys = keys;
    const nexts = new Int32Array(n);
    nexts.set(this.nexts);
    this.nexts = nexts;
    const seq = new Uint32Array(n);
    seq.set(this.seq);
    this.seq = seq;
    const ack = new Uint32Array(n);
    ack.set(this.ack);
    this.ack = ack;
  }
}

export function tcp_print(st: PrintState, bp: number, length: number, bp2: number): void {
  const out = st.out;
  const b = st.buf;
  const ipv = b[bp2]! >>> 4;
  if (ipv !== 4 && ipv !== 6) {
    out.str('invalid ip version');
    return;
  }
  const v6 = ipv === 6;
  if (length < 20) {
    out.str('truncated-tcp ');
    out.dec(length);
    return;
  }
  if (bp + 4 > st.snapend) {
    addrs(st, bp2, v6);
    out.str(': [|tcp]');
    return;
  }
  const sport = (b[bp]! << 8) | b[bp + 1]!;
  const dport = (b[bp + 2]! << 8) | b[bp + 3]!;
  if (b[v6 ? bp2 + 6 : bp2 + 9] === IPPROTO_TCP) {
    if (v6) out.ip6(b, bp2 + 8);
    else out.ip4at(b, bp2 + 12);
    out.ch(46);
    out.dec(sport);
    out.str(' > ');
    if (v6) out.ip6(b, bp2 + 24);
    else out.ip4at(b, bp2 + 16);
    out.ch(46);
    out.dec(dport);
    out.str(': ');
  } else {
    out.dec(sport);
    out.str(' > ');
    out.dec(dport);
    out.str(': ');
  }
  if (bp + 20 > st.snapend) {
    if (!st.qflag && bp + 8 <= st.snapend && bp + 12 > st.snapend) {
      out.dec(get32(b, bp + 4));
      out.ch(32);
    }
    out.str('[|tcp]');
    return;
  }
  let seq = get32(b, bp + 4);
  let ack = get32(b, bp + 8);
  const win = (b[bp + 14]! << 8) | b[bp + 15]!;
  const urp = (b[bp + 18]! << 8) | b[bp + 19]!;
  let hlen = (b[bp + 12]! >>> 4) * 4;
  if (st.qflag) {
    out.str('tcp ');
    out.dec(length - hlen);
    return;
  }
  const flags = b[bp + 13]!;
  if (flags & (TH_SYN | TH_FIN | TH_RST | TH_PUSH | TH_ECNECHO | TH_CWR)) {
    if (flags & TH_SYN) out.ch(83);
    if (flags & TH_FIN) out.ch(70);
    if (flags & TH_RST) out.ch(82);
    if (flags & TH_PUSH) out.ch(80);
    if (flags & TH_CWR) out.ch(87);
    if (flags & TH_ECNECHO) out.ch(69);
  } else out.ch(46);

  let rev = false;
  let th = -1;
  const tab = st.tcpSeq;
  if (!st.Sflag && flags & TH_ACK) {
    // One entry per connection, keyed in an arbitrary but fixed order of the two ends.
    const k = tab.k;
    if (v6) {
      if (sport > dport) rev = true;
      else if (sport === dport) {
        // As in the C code: the first word where source > destination decides (host byte order).
        for (let i = 0; i < 16; i += 4) {
          if (get32le(b, bp2 + 8 + i) > get32le(b, bp2 + 24 + i)) {
            rev = true;
            break;
          }
        }
      }
      const s = rev ? bp2 + 24 : bp2 + 8;
      const d = rev ? bp2 + 8 : bp2 + 24;
      for (let i = 0; i < 4; i++) {
        k[i] = get32(b, s + 4 * i);
        k[4 + i] = get32(b, d + 4 * i);
      }
    } else {
      if (sport > dport || (sport === dport && get32le(b, bp2 + 12) > get32le(b, bp2 + 16))) rev = true;
      k[0] = get32(b, rev ? bp2 + 16 : bp2 + 12);
      k[4] = get32(b, rev ? bp2 + 12 : bp2 + 16);
      k[1] = k[2] = k[3] = k[5] = k[6] = k[7] = 0;
    }
    k[8] = rev ? ((dport << 16) | sport) >>> 0 : ((sport << 16) | dport) >>> 0;
    th = tab.find();
    if (th < 0 || flags & TH_SYN) {
      // New conversation (or a new SYN on an old one): remember where it starts.
      if (th < 0) th = tab.add();
      if (rev) {
        tab.ack[th] = seq;
        tab.seq[th] = ack - 1;
      } else {
        tab.seq[th] = seq;
        tab.ack[th] = ack - 1;
      }
    } else if (rev) {
      seq = (seq - tab.ack[th]!) >>> 0;
      ack = (ack - tab.seq[th]!) >>> 0;
    } else {
      seq = (seq - tab.seq[th]!) >>> 0;
      ack = (ack - tab.ack[th]!) >>> 0;
    }
  }
  if (hlen > length) {
    out.str(' [bad hdr length]');
    return;
  }
  if (st.vflag && bp + length <= st.snapend && (!v6 || (b[bp2 + 4]! | b[bp2 + 5]!) !== 0)) {
    const ph = v6 ? pseudoSum6(b, bp2 + 8, bp2 + 24, IPPROTO_TCP, length) : pseudoSum4(get32(b, bp2 + 12), get32(b, bp2 + 16), IPPROTO_TCP, length);
    const sum = checksum(b, bp, length, ph);
    if (sum !== 0) {
      const field = (b[bp + 16]! << 8) | b[bp + 17]!;
      out.str(' [bad tcp cksum ');
      out.hex(field);
      out.str('! -> ');
      out.hex(in_cksum_shouldbe(field, sum));
      out.ch(93);
    } else out.str(' [tcp sum ok]');
  }
  length -= hlen;
  if (st.vflag > 1 || length > 0 || flags & (TH_SYN | TH_FIN | TH_RST)) {
    out.ch(32);
    out.dec(seq);
    out.ch(58);
    out.dec((seq + length) >>> 0);
    out.ch(40);
    out.dec(length);
    out.ch(41);
  }
  if (flags & TH_ACK) {
    out.str(' ack ');
    out.dec(ack);
  }
  out.str(' win ');
  out.dec(win);
  if (flags & TH_URG) {
    out.str(' urg ');
    out.dec(urp);
  }
  hlen -= 20;
  if (hlen > 0 && !tcp_options(st, bp + 20, hlen, flags, rev, th)) return;
  if (length <= 0) return;
  if (flags & TH_RST && st.vflag) print_tcp_rst_data(st, bp + (b[bp + 12]! >>> 4) * 4, length);
}

function addrs(st: PrintState, ip: number, v6: boolean): void {
  if (v6) {
    st.out.ip6(st.buf, ip + 8);
    st.out.str(' > ');
    st.out.ip6(st.buf, ip + 24);
  } else {
    st.out.ip4at(st.buf, ip + 12);
    st.out.str(' > ');
    st.out.ip4at(st.buf, ip + 16);
  }
}

/** " <mss 1460,nop,...>"; false when the options ended in "[bad opt]" or "[|tcp]". */
function tcp_options(st: PrintState, cp: number, hlen: number, flags: number, rev: boolean, th: number): boolean {
  const out = st.out;
  const b = st.buf;
  const end = st.snapend;
  out.ch(32);
  let ch = 60;
  while (hlen > 0) {
    out.ch(ch);
    if (cp + 1 > end) return trunc(st);
    const opt = b[cp++]!;
    let len: number;
    const zerolen = opt === TCPOPT_EOL || opt === TCPOPT_NOP;
    if (zerolen) len = 1;
    else {
      if (cp + 1 > end) return trunc(st);
      len = b[cp++]!;
      if (len < 2 || len > hlen) return bad(st);
      --hlen;
    }
    --hlen;
    let datalen = 0;
    switch (opt) {
      case TCPOPT_MAXSEG:
        out.str('mss');
        datalen = 2;
        if (datalen > hlen) return bad(st);
        if (cp + datalen > end) return trunc(st);
        out.ch(32);
        out.dec((b[cp]! << 8) | b[cp + 1]!);
        break;
      case TCPOPT_EOL:
        out.str('eol');
        break;
      case TCPOPT_NOP:
        out.str('nop');
        break;
      case TCPOPT_WSCALE:
        out.str('wscale');
        datalen = 1;
        if (datalen > hlen) return bad(st);
        if (cp + datalen > end) return trunc(st);
        out.ch(32);
        out.dec(b[cp]!);
        break;
      case TCPOPT_SACKOK:
        out.str('sackOK');
        if (len !== 2) {
          out.str('[len ');
          out.dec(len);
          out.ch(93);
        }
        break;
      case TCPOPT_SACK: {
        datalen = len - 2;
        if (datalen % TCPOLEN_SACK !== 0 || !(flags & TH_ACK)) {
          out.str('malformed sack [len ');
          out.dec(datalen);
          out.str('] ');
          break;
        }
        out.str('sack ');
        out.dec(datalen / TCPOLEN_SACK);
        out.ch(32);
        for (let i = 0; i < datalen; i += TCPOLEN_SACK) {
          if (i + TCPOLEN_SACK > hlen) return bad(st);
          if (cp + i + TCPOLEN_SACK > end) return trunc(st);
          const base = st.Sflag ? 0 : rev ? st.tcpSeq.seq[th]! : st.tcpSeq.ack[th]!;
          out.ch(123);
          ulong_print(st, get32(b, cp + i), base);
          out.ch(58);
          ulong_print(st, get32(b, cp + i + 4), base);
          out.str('} ');
        }
        break;
      }
      case TCPOPT_ECHO:
      case TCPOPT_ECHOREPLY:
      case TCPOPT_CC:
      case TCPOPT_CCNEW:
      case TCPOPT_CCECHO:
        out.str(
          opt === TCPOPT_ECHO ? 'echo' : opt === TCPOPT_ECHOREPLY ? 'echoreply' : opt === TCPOPT_CC ? 'cc' : opt === TCPOPT_CCNEW ? 'ccnew' : 'ccecho',
        );
        datalen = 4;
        if (datalen > hlen) return bad(st);
        if (cp + datalen > end) return trunc(st);
        out.ch(32);
        out.dec(get32(b, cp));
        break;
      case TCPOPT_TIMESTAMP:
        out.str('timestamp');
        datalen = 8;
        if (4 > hlen) return bad(st);
        if (cp + 4 > end) return trunc(st);
        out.ch(32);
        out.dec(get32(b, cp));
        if (8 > hlen) return bad(st);
        if (cp + 8 > end) return trunc(st);
        out.ch(32);
        out.dec(get32(b, cp + 4));
        break;
      default:
        out.str(opt === TCPOPT_SIGNATURE ? 'tcpmd5:' : 'opt-');
        if (opt !== TCPOPT_SIGNATURE) {
          out.dec(opt);
          out.ch(58);
        }
        datalen = len - 2;
        for (let i = 0; i < datalen; ++i) {
          if (i + 1 > hlen) return bad(st);
          if (cp + i + 1 > end) return trunc(st);
          out.hex(b[cp + i]!, 2);
        }
        break;
    }
    cp += datalen;
    hlen -= datalen;
    // The length the option claims against what its kind takes.
    ++datalen;
    if (!zerolen) ++datalen;
    if (datalen !== len) {
      out.str('[len ');
      out.dec(len);
      out.ch(93);
    }
    ch = 44;
    if (opt === TCPOPT_EOL) break;
  }
  out.ch(62);
  return true;
}

/**
 * A SACK edge minus its base, as the C code's u_long arithmetic prints it:
 * below the base it wraps around 2^64.
 */
function ulong_print(st: PrintState, v: number, base: number): void {
  if (v >= base) st.out.dec(v - base);
  // Rare: a block below the connection's start.
  else st.out.str((18446744073709551616n - BigInt(base - v)).toString());
}

function bad(st: PrintState): boolean {
  st.out.str('[bad opt]>');
  return false;
}

function trunc(st: PrintState): boolean {
  st.out.str('[|tcp]>');
  return false;
}

/** safeputchar(): printable ASCII as is, anything else as \ooo. */
export function safeputchar(st: PrintState, c: number): void {
  if (c < 0x80 && c >= 0x20 && c < 0x7f) st.out.ch(c);
  else {
    st.out.ch(92);
    st.out.dec0(((c >>> 6) & 7) * 100 + ((c >>> 3) & 7) * 10 + (c & 7), 3);
  }
}

function print_tcp_rst_data(st: PrintState, sp: number, length: number): void {
  const out = st.out;
  out.str(sp + length <= st.snapend ? ' [RST' : ' [!RST');
  if (length > MAX_RST_DATA_LEN) {
    length = MAX_RST_DATA_LEN;
    out.ch(43);
  }
  out.ch(32);
  while (length-- && sp < st.snapend) safeputchar(st, st.buf[sp++]!);
  out.ch(93);
}
