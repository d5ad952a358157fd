/**
 * Socket buffers (sys/kern/uipc_socket2.c): struct sockbuf with OpenBSD's
 * accounting, so `netstat -an` Recv-Q/Send-Q (sb_cc) and the "dropped due
 * to full socket buffers" decisions (sbspace) come out as on OpenBSD.
 *
 * - sb_cc counts every byte queued, the sockaddr of a datagram included
 *   (sballoc() counts MT_SONAME mbufs too): one 100-byte UDP datagram
 *   from an IPv4 peer shows as Recv-Q 116.  sb_datacc counts data only.
 * - sb_mbcnt counts the storage the mbufs hold: MSIZE per mbuf plus the
 *   cluster of a packet.  Datagrams keep the mbuf they arrived in (a
 *   cluster: NICs and loopback receive into clusters) plus an MSIZE mbuf
 *   for the address.  Stream bytes are charged MCLBYTES per started
 *   cluster, as sbcompress() packs them.
 * - sbspace() = min(sb_hiwat - sb_cc, sb_mbmax - sb_mbcnt), may be < 0.
 *
 * Storage: a stream buffer is a byte ring (append, copy out at an offset
 * for tcp_output, drop from the front on ACK); a datagram buffer is a
 * queue of records, each the received mbuf trimmed to its payload with the
 * sender's address in a recycled Sockaddr slot.  Nothing is allocated per
 * datagram or per segment once the buffers have grown.
 */
import { MCLBYTES, type Mbuf } from './uipc_mbuf.js';
import { Sockaddr } from '../netinet/in_pcb.js';
import { sum16 } from '../../wire/checksum.js';

/** MSIZE: the size of an mbuf. */
export const MSIZE = 256;
/** SB_MAX: the most a socket buffer may reserve (kern.maxsockbuf default). */
export const SB_MAX = 2 * 1024 * 1024;

// sb_flags
export const SB_LOCK = 0x01;
export const SB_WANT = 0x02;
export const SB_WAIT = 0x04;
export const SB_ASYNC = 0x10;
export const SB_SPLICE = 0x20;
export const SB_NOINTR = 0x40;
/** Buffer size is tuned automatically (TCP receive/send autosizing). */
export const SB_AUTOSIZE = 0x800;

/** The smallest packet a stream receive buffer keeps rather than copies (a full-sized segment or an LRO packet). */
const MQ_MIN = 1024;
/** The most packets a stream receive buffer keeps; past that its data goes to the ring. */
const MQ_MAXPKTS = 4;

export class Sockbuf {
  /** Bytes queued (addresses of datagrams included): netstat's Recv-Q / Send-Q. */
  sb_cc = 0;
  /** Data bytes queued. */
  sb_datacc = 0;
  sb_hiwat = 0;
  /** Wanted size (sb_wat), for autosizing. */
  sb_wat = 0;
  sb_lowat = 0;
  sb_mbcnt = 0;
  sb_mbmax = 0;
  sb_flags = 0;
  /** SS_CANTSENDMORE / SS_CANTRCVMORE, as in current OpenBSD. */
  sb_state = 0;
  /** Records (datagrams) queued. */
  sb_reccnt = 0;
  /** Timeout of blocking calls in ns (0: none), SO_RCVTIMEO / SO_SNDTIMEO. */
  sb_timeo_nsecs = 0;

  // Stream ring.
  private ring: Uint8Array = new Uint8Array(0);
  private rhead = 0;

  // Stream packets (a receive buffer): the mbufs TCP handed over, linked by
  // m_nextpkt, the first with mqSkip of its bytes already read.  The data
  // is in the ring or in these, never in both.
  private mqHead: Mbuf | null = null;
  private mqTail: Mbuf | null = null;
  private mqSkip = 0;
  private mqCount = 0;

  // Datagram records: mbufs linked by m_nextpkt, addresses in a ring of slots.
  private recHead: Mbuf | null = null;
  private recTail: Mbuf | null = null;
  private addrs: Sockaddr[] = [];
  private ahead = 0;

  /** sbspace() */
  sbspace(): number {
    return Math.min(this.sb_hiwat - this.sb_cc, this.sb_mbmax - this.sb_mbcnt);
  }

  /**
   * sbreserve(): set the high water mark to cc (false when cc is 0 or
   * over SB_MAX); the storage limit is twice that, capped at SB_MAX.
   */
  sbreserve(cc: number): boolean {
    if (cc === 0 || cc > SB_MAX) return false;
    this.sb_hiwat = cc;
    this.sb_mbmax = Math.min(cc * 2, SB_MAX);
    if (this.sb_lowat > this.sb_hiwat) this.sb_lowat = this.sb_hiwat;
    return true;
  }

  // ---- stream sockets ----

  /**
   * sbappendstream() of a packet's data, m.len bytes at m.buf[m.off]; m
   * belongs to the buffer afterwards.  Into an empty buffer a packet of
   * MQ_MIN bytes or more is kept as it is (its bytes copied once, by the
   * reader), and so are the next ones up to MQ_MAXPKTS; otherwise the
   * bytes are copied into the ring and m is freed.  The accounting
   * (sb_cc, sb_mbcnt) is the same either way.
   */
  sbappendstream_m(m: Mbuf): void {
    const len = m.len;
    let keep = false;
    // Only while the packet's class has more than half of its buffers to spare (every packet kept, so
    // many sockets with unread data cannot take the pool the NICs receive into).
    const st = m.cls === 0 ? m.pool.cluster : m.pool.large;
    const spare = st.nout * 2 <= st.limit;
    if (this.mqHead !== null) {
      // Past MQ_MAXPKTS the reader lags (or the pool runs short): what is kept moves to the ring, this packet after it.
      if (this.mqCount < MQ_MAXPKTS && spare) keep = true;
      else this.mqFlush();
    } else if (len >= MQ_MIN && this.sb_datacc === 0) {
      keep = spare;
    }
    if (keep && len > 0) {
      this.mqCount++;
      m.m_nextpkt = null;
      if (this.mqTail === null) this.mqHead = m;
      else this.mqTail.m_nextpkt = m;
      this.mqTail = m;
      this.sb_cc += len;
      this.sb_datacc += len;
      this.sb_mbcnt = this.streamMbcnt();
      return;
    }
    this.sbappendstream(m.buf, m.off, len);
    m.free();
  }

  /** The kept packets' bytes into the ring (before bytes are appended there), the packets freed. */
  private mqFlush(): void {
    const n = this.sb_datacc;
    if (n > this.ring.length) {
      let cap = this.ring.length || 4096;
      while (cap < n) cap *= 2;
      this.ring = new Uint8Array(cap);
    }
    this.copyout(0, this.ring, 0, n);
    for (let m = this.mqHead; m !== null; ) {
      const next = m.m_nextpkt;
      m.m_nextpkt = null;
      m.free();
      m = next;
    }
    this.mqHead = this.mqTail = null;
    this.mqSkip = 0;
    this.mqCount = 0;
    this.rhead = 0;
  }

  /** sbappendstream(): queue len bytes of src at the tail. */
  sbappendstream(src: Uint8Array, off: number, len: number): void {
    if (len <= 0) return;
    if (this.mqHead !== null) this.mqFlush();
    const need = this.sb_datacc + len;
    if (need > this.ring.length) this.grow(need);
    const cap = this.ring.length;
    const tail = (this.rhead + this.sb_datacc) & (cap - 1);
    const first = Math.min(len, cap - tail);
    this.ring.set(src.subarray(off, off + first), tail);
    if (first < len) this.ring.set(src.subarray(off + first, off + len), 0);
    this.sb_cc += len;
    this.sb_datacc += len;
    this.sb_mbcnt = this.streamMbcnt();
  }

  /** Copy len bytes starting off bytes into the buffer to dst, leaving them queued (m_copydata of so_snd). */
  copyout(off: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (len <= 0) return;
    if (this.mqHead !== null) {
      let m: Mbuf = this.mqHead;
      let skip = this.mqSkip + off;
      while (skip >= m.len) {
        skip -= m.len;
        m = m.m_nextpkt!;
      }
      for (;;) {
        const n = Math.min(len, m.len - skip);
        const from = m.off + skip;
        dst.set(m.buf.subarray(from, from + n), dstOff);
        len -= n;
        if (len === 0) return;
        dstOff += n;
        skip = 0;
        m = m.m_nextpkt!;
      }
    }
    const cap = this.ring.length;
    const start = (this.rhead + off) & (cap - 1);
    const first = Math.min(len, cap - start);
    dst.set(this.ring.subarray(start, start + first), dstOff);
    if (first < len) dst.set(this.ring.subarray(0, len - first), dstOff + first);
  }

  /**
   * One's complement sum (folded, RFC 1071) of len bytes starting off bytes
   * into the stream, as if they were contiguous: what they add to the
   * checksum of a segment that carries them at an even offset.  tcp_output
   * sums the payload here, in the buffer it copies from.
   */
  sum16(off: number, len: number): number {
    if (len <= 0) return 0;
    if (this.mqHead !== null) this.mqFlush();
    const cap = this.ring.length;
    const start = (this.rhead + off) & (cap - 1);
    const first = Math.min(len, cap - start);
    let s = sum16(this.ring, start, first);
    if (first < len) {
      let t = sum16(this.ring, 0, len - first);
      // The second piece starts at an odd distance: its bytes swap halves.
      if (first & 1) t = ((t & 0xff) << 8) | (t >>> 8);
      s += t;
      s = (s & 0xffff) + (s >>> 16);
    }
    return s;
  }

  /** sbdrop(): discard len bytes from the front of a stream buffer. */
  sbdrop(len: number): void {
    if (len > this.sb_datacc) len = this.sb_datacc;
    if (len <= 0) return;
    if (this.mqHead !== null) {
      let skip = this.mqSkip + len;
      let m: Mbuf | null = this.mqHead;
      while (m !== null && skip >= m.len) {
        skip -= m.len;
        const next: Mbuf | null = m.m_nextpkt;
        m.m_nextpkt = null;
        m.free();
        this.mqCount--;
        m = next;
      }
      this.mqHead = m;
      if (m === null) this.mqTail = null;
      this.mqSkip = m === null ? 0 : skip;
    } else this.rhead = (this.rhead + len) & (this.ring.length - 1);
    this.sb_cc -= len;
    this.sb_datacc -= len;
    if (this.sb_datacc === 0) this.rhead = 0;
    this.sb_mbcnt = this.streamMbcnt();
  }

  /** Take up to len bytes from the front into dst; returns the count. */
  read(dst: Uint8Array, dstOff: number, len: number, peek = false): number {
    const n = Math.min(len, this.sb_datacc);
    this.copyout(0, dst, dstOff, n);
    if (!peek) this.sbdrop(n);
    return n;
  }

  private streamMbcnt(): number {
    return this.sb_datacc === 0 ? 0 : Math.ceil(this.sb_datacc / MCLBYTES) * (MSIZE + MCLBYTES);
  }

  private grow(need: number): void {
    let cap = this.ring.length || 4096;
    while (cap < need) cap *= 2;
    const r = new Uint8Array(cap);
    this.copyout(0, r, 0, this.sb_datacc);
    this.ring = r;
    this.rhead = 0;
  }

  // ---- datagram sockets ----

  /**
   * sbappendaddr(): queue m (already trimmed to the payload) with the
   * sender's address.  False when it does not fit (the caller counts the
   * drop and frees m); m belongs to the buffer otherwise.
   */
  sbappendaddr(from: Sockaddr, m: Mbuf): boolean {
    const space = from.sa_len + m.len;
    if (space > this.sbspace()) return false;
    if (this.sb_reccnt === this.addrs.length) this.growAddrs();
    const slot = this.addrs[(this.ahead + this.sb_reccnt) % this.addrs.length]!;
    slot.set(from);
    m.m_nextpkt = null;
    if (this.recTail === null) this.recHead = m;
    else this.recTail.m_nextpkt = m;
    this.recTail = m;
    this.sb_reccnt++;
    this.sb_cc += space;
    this.sb_datacc += m.len;
    this.sb_mbcnt += recordMbcnt(m);
    return true;
  }

  /** The first record's payload, or null. */
  get firstRecord(): Mbuf | null {
    return this.recHead;
  }

  /** The first record's sender. */
  get firstAddr(): Sockaddr | null {
    return this.sb_reccnt > 0 ? this.addrs[this.ahead]! : null;
  }

  /** sbdroprecord(): remove the first record and return its mbuf (the caller frees it). */
  sbdroprecord(): Mbuf | null {
    const m = this.recHead;
    if (m === null) return null;
    this.recHead = m.m_nextpkt;
    if (this.recHead === null) this.recTail = null;
    m.m_nextpkt = null;
    const a = this.addrs[this.ahead]!;
    this.ahead = (this.ahead + 1) % this.addrs.length;
    this.sb_reccnt--;
    this.sb_cc -= a.sa_len + m.len;
    this.sb_datacc -= m.len;
    this.sb_mbcnt -= recordMbcnt(m);
    return m;
  }

  private growAddrs(): void {
    const n = Math.max(8, this.addrs.length * 2);
    const a: Sockaddr[] = [];
    for (let i = 0; i < this.sb_reccnt; i++) a.push(this.addrs[(this.ahead + i) % this.addrs.length]!);
    while (a.length < n) a.push(new Sockaddr());
    this.addrs = a;
    this.ahead = 0;
  }

  /** sbflush(): discard everything (records are freed to their pool). */
  sbflush(): void {
    for (let m = this.sbdroprecord(); m !== null; m = this.sbdroprecord()) m.free();
    this.sbdrop(this.sb_datacc);
    this.sb_cc = 0;
    this.sb_datacc = 0;
    this.sb_mbcnt = 0;
  }
}

/** Storage of one datagram record: the address mbuf, the packet mbuf and its clusters. */
function recordMbcnt(m: Mbuf): number {
  return MSIZE + MSIZE + Math.max(1, Math.ceil(m.len / MCLBYTES)) * MCLBYTES;
}
