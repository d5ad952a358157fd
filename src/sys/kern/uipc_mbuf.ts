/**
 * Packets: an mbuf(9)-like object from a per-kernel pool.  Unlike OpenBSD's
 * chains of small mbufs, a packet here is one contiguous buffer with
 * headroom, so headers are prepended in place and read through wire/ views
 * over (buf, off, len); m_pullup() is a length check.
 *
 * Two buffer classes: clusters of MCLBYTES (every frame up to the usual
 * MTUs, with headroom) and large buffers for up to MAXMCLBYTES (reassembled
 * datagrams, jumbo frames).  A prepend or append that does not fit moves the
 * data within the buffer, or into a large buffer.  Headers and buffers are
 * recycled through free lists: after warm-up get()/free() allocate nothing.
 * A class at its limit fails the get() and counts a drop, as a kernel whose
 * mbuf pool is exhausted does ("requests for memory denied").
 *
 * The packet header fields are flattened onto the mbuf with OpenBSD's names:
 * m->m_pkthdr.ph_ifidx is m.ph_ifidx, m->m_pkthdr.pf.statekey is
 * m.pf_statekey.
 */

// mbuf flags (m_flags), sys/sys/mbuf.h
export const M_EXT = 0x0001;
export const M_PKTHDR = 0x0002;
export const M_EOR = 0x0004;
export const M_EXTWR = 0x0008;
export const M_PROTO1 = 0x0010;
export const M_VLANTAG = 0x0020;
export const M_LOOP = 0x0040;
export const M_BCAST = 0x0100;
export const M_MCAST = 0x0200;
export const M_CONF = 0x0400;
export const M_AUTH = 0x0800;
export const M_TUNNEL = 0x1000;
export const M_ZEROIZE = 0x2000;
export const M_COMP = 0x4000;
export const M_LINK0 = 0x8000;
/** Flags copied with the packet header. */
export const M_COPYFLAGS =
  M_PKTHDR | M_EOR | M_PROTO1 | M_BCAST | M_MCAST | M_CONF | M_COMP | M_AUTH | M_LOOP | M_TUNNEL | M_LINK0 | M_VLANTAG | M_ZEROIZE;

// checksum flags (csum_flags)
export const M_IPV4_CSUM_OUT = 0x0001;
export const M_TCP_CSUM_OUT = 0x0002;
export const M_UDP_CSUM_OUT = 0x0004;
export const M_IPV4_CSUM_IN_OK = 0x0008;
export const M_IPV4_CSUM_IN_BAD = 0x0010;
export const M_TCP_CSUM_IN_OK = 0x0020;
export const M_TCP_CSUM_IN_BAD = 0x0040;
export const M_UDP_CSUM_IN_OK = 0x0080;
export const M_UDP_CSUM_IN_BAD = 0x0100;
export const M_ICMP_CSUM_OUT = 0x0200;
export const M_ICMP_CSUM_IN_OK = 0x0400;
export const M_ICMP_CSUM_IN_BAD = 0x0800;
export const M_IPV6_DF_OUT = 0x1000;
export const M_TIMESTAMP = 0x2000;
export const M_FLOWID = 0x4000;
export const M_TCP_TSO = 0x8000;

// pkthdr_pf.flags
export const PF_TAG_GENERATED = 0x01;
export const PF_TAG_SYNCOOKIE_RECREATED = 0x02;
export const PF_TAG_TRANSLATE_LOCALHOST = 0x04;
export const PF_TAG_DIVERTED = 0x08;
export const PF_TAG_DIVERTED_PACKET = 0x10;
export const PF_TAG_REROUTE = 0x20;
export const PF_TAG_REFRAGMENTED = 0x40;
export const PF_TAG_PROCESSED = 0x80;

/**
 * PACKET_TAG_PF_REASSEMBLED (struct pf_fragment_tag): what pf_refragment6
 * needs of an IPv6 datagram pf reassembled.
 */
export interface PfFragmentTag {
  /** the unfragmentable part's length */
  hdrlen: number;
  /** the last extension header in it (offset from the IPv6 header), 0 none */
  extoff: number;
  /** the largest fragment's data */
  maxlen: number;
}

/** Size of a cluster buffer. */
export const MCLBYTES = 2048;
/** Largest packet: a reassembled 64 KiB datagram. */
export const MAXMCLBYTES = 64 * 1024;
/** Default room kept in front of new packets for headers prepended later. */
export const MAX_LINKHDR = 128;

const CLUSTER = 0;
const LARGE = 1;

/** net/ifq.h IFQ_DEFPRIO (not imported: ifq.ts imports this module). */
const IFQ_DEFPRIO = 3;

export class Mbuf {
  /** The storage; the packet is buf[off, off + len). */
  buf: Uint8Array;
  off = 0;
  len = 0;
  m_flags = 0;

  // struct pkthdr
  ph_ifidx = 0;
  ph_rtableid = 0;
  ph_flowid = 0;
  csum_flags = 0;
  ether_vtag = 0;
  ph_mss = 0;
  ph_loopcnt = 0;
  ph_family = 0;
  /** Virtual time (ns) when M_TIMESTAMP is set. */
  ph_timestamp = 0;

  // struct pkthdr_pf
  /**
   * pf's state key link (struct pf_state_key *): the number of the state
   * key pf_test(IN) matched, -1 none; a hint the OUT pass checks.
   */
  pf_statekey = -1;
  /** the connected PCB of an outgoing packet. */
  pf_inp: object | null = null;
  pf_qid = 0;
  pf_tag = 0;
  pf_delay = 0;
  pf_flags = 0;
  pf_routed = 0;
  /** m_inithdr(): a packet starts at IFQ_DEFPRIO (3), the middle of priq's 0..7. */
  pf_prio = IFQ_DEFPRIO;
  /** m_tag PACKET_TAG_PF_REASSEMBLED, null without */
  pf_ftag: PfFragmentTag | null = null;

  /** The journey this packet belongs to; null when not tracing. */
  trace: object | null = null;
  /** Next packet in a queue (mbuf_list, ifq). */
  m_nextpkt: Mbuf | null = null;

  /** Buffer class: 0 cluster, 1 large. */
  cls = CLUSTER;
  /** True while on the pool's free list. */
  isFree = false;

  constructor(
    readonly pool: MbufPool,
    buf: Uint8Array,
  ) {
    this.buf = buf;
  }

  /** M_LEADINGSPACE */
  get leadingSpace(): number {
    return this.off;
  }

  /** M_TRAILINGSPACE */
  get trailingSpace(): number {
    return this.buf.length - this.off - this.len;
  }

  /**
   * Make room for n bytes of header in front (M_PREPEND): the packet then
   * starts n bytes earlier.  False when the packet would pass MAXMCLBYTES,
   * or a larger buffer was needed and the pool is exhausted (the packet is
   * unchanged; the caller frees it).
   */
  prepend(n: number): boolean {
    if (this.len + n > MAXMCLBYTES) return false;
    if (n <= this.off) {
      this.off -= n;
      this.len += n;
      return true;
    }
    if (!this.pool.reserve(this, n, 0)) return false;
    this.off -= n;
    this.len += n;
    return true;
  }

  /**
   * Grow the packet by n bytes at the tail (the bytes are not cleared).
   * False when the pool is exhausted, as prepend().
   */
  append(n: number): boolean {
    if (this.len + n > MAXMCLBYTES) return false;
    if (n > this.trailingSpace && !this.pool.reserve(this, 0, n)) return false;
    this.len += n;
    return true;
  }

  /** m_adj(): n > 0 trims n bytes from the front, n < 0 from the back. */
  adj(n: number): void {
    if (n >= 0) {
      if (n > this.len) n = this.len;
      this.off += n;
      this.len -= n;
    } else {
      n = -n;
      if (n > this.len) n = this.len;
      this.len -= n;
    }
  }

  /** Cut the packet to n bytes (as m_adj(m, n - len) when shorter). */
  truncate(n: number): void {
    if (n < this.len) this.len = n < 0 ? 0 : n;
  }

  /** m_pullup(): the first n bytes are contiguous; false when the packet is shorter. */
  pullup(n: number): boolean {
    return n <= this.len;
  }

  /** m_copydata(): copy len bytes at packet offset off into dst. */
  copydata(off: number, len: number, dst: Uint8Array, dstOff = 0): void {
    dst.set(this.buf.subarray(this.off + off, this.off + off + len), dstOff);
  }

  /** m_copyback() within the current length: write src at packet offset off. */
  copyback(off: number, src: Uint8Array, srcOff = 0, len = src.length - srcOff): void {
    this.buf.set(src.subarray(srcOff, srcOff + len), this.off + off);
  }

  /** Set the packet to a copy of bytes, keeping the pool's headroom.  False when exhausted. */
  setBytes(src: Uint8Array, srcOff = 0, len = src.length - srcOff): boolean {
    this.off = Math.min(this.pool.headroom, this.buf.length);
    this.len = 0;
    if (!this.append(len)) return false;
    this.buf.set(src.subarray(srcOff, srcOff + len), this.off);
    return true;
  }

  /**
   * A NIC's DMA write: the frame at src[off, off + len) lands at the same
   * offset of this packet's buffer.  When src fits, the whole source buffer
   * is copied (one memcpy, no allocation, unlike a subarray view per
   * packet); bytes outside the frame are not meaningful afterwards.
   * Otherwise as setBytes().  False when the pool is exhausted.
   */
  setFrame(src: Uint8Array, off: number, len: number): boolean {
    if (src.length > this.buf.length || off < 0) return this.setBytes(src, off, len);
    this.buf.set(src);
    this.off = off;
    this.len = len;
    return true;
  }

  /** A copy of the packet's bytes (allocates: for tools and tests). */
  bytes(): Uint8Array {
    return this.buf.slice(this.off, this.off + this.len);
  }

  /** Copy the packet header from m (m_dup_pkthdr()); trace and queue link are not copied. */
  copyPkthdr(m: Mbuf): void {
    this.m_flags = (this.m_flags & ~M_COPYFLAGS) | (m.m_flags & M_COPYFLAGS);
    this.ph_ifidx = m.ph_ifidx;
    this.ph_rtableid = m.ph_rtableid;
    this.ph_flowid = m.ph_flowid;
    this.csum_flags = m.csum_flags;
    this.ether_vtag = m.ether_vtag;
    this.ph_mss = m.ph_mss;
    this.ph_loopcnt = m.ph_loopcnt;
    this.ph_family = m.ph_family;
    this.ph_timestamp = m.ph_timestamp;
    this.pf_statekey = m.pf_statekey;
    this.pf_inp = m.pf_inp;
    this.pf_qid = m.pf_qid;
    this.pf_tag = m.pf_tag;
    this.pf_delay = m.pf_delay;
    this.pf_flags = m.pf_flags;
    this.pf_routed = m.pf_routed;
    this.pf_prio = m.pf_prio;
    this.pf_ftag = m.pf_ftag;
  }

  /** m_dup_pkt(): a copy of bytes and header from the same pool, or null when exhausted. */
  dup(): Mbuf | null {
    const m = this.pool.get(this.len);
    if (m === null) return null;
    m.copyPkthdr(this);
    m.buf.set(this.buf.subarray(this.off, this.off + this.len), m.off);
    m.len = this.len;
    return m;
  }

  /** m_freem() */
  free(): void {
    this.pool.free(this);
  }

  /** Back to a fresh packet header (called by the pool). */
  reset(headroom: number): void {
    this.off = headroom;
    this.len = 0;
    this.m_flags = M_PKTHDR;
    this.clearhdr();
    this.trace = null;
    this.m_nextpkt = null;
  }

  /**
   * m_resethdr(): the same bytes as a new packet (icmp_reflect,
   * icmp6_reflect): the header's fields cleared, pf's links and tags with
   * them, but for its length and loop count; of the flags only the
   * storage's stay.  (The journey, m.trace, goes on: the reply is traced
   * as the request's consequence.)
   */
  resethdr(): void {
    const loopcnt = this.ph_loopcnt;
    this.m_flags &= M_EXT | M_PKTHDR | M_EOR | M_EXTWR | M_ZEROIZE;
    this.clearhdr();
    this.ph_loopcnt = loopcnt;
  }

  /** m_clearhdr(): the packet header's fields to their empty values. */
  private clearhdr(): void {
    this.ph_ifidx = 0;
    this.ph_rtableid = 0;
    this.ph_flowid = 0;
    this.csum_flags = 0;
    this.ether_vtag = 0;
    this.ph_mss = 0;
    this.ph_loopcnt = 0;
    this.ph_family = 0;
    this.ph_timestamp = 0;
    this.pf_statekey = -1;
    this.pf_inp = null;
    this.pf_qid = 0;
    this.pf_tag = 0;
    this.pf_delay = 0;
    this.pf_flags = 0;
    this.pf_routed = 0;
    this.pf_prio = IFQ_DEFPRIO;
    this.pf_ftag = null;
  }
}

/** pool(9)-style statistics of one buffer class. */
export class PoolStats {
  /** Successful gets. */
  nget = 0;
  /** Frees. */
  nput = 0;
  /** Gets refused at the limit. */
  nfail = 0;
  /** Buffers created: misses of the free list (growth). */
  nalloc = 0;
  /** In use now. */
  nout = 0;
  /** Most ever in use. */
  hiwat = 0;

  constructor(
    readonly name: string,
    readonly size: number,
    /** Most buffers of this class that may exist. */
    readonly limit: number,
  ) {}
}

export interface MbufPoolOptions {
  /** Most cluster packets in existence (default 8192). */
  limit?: number;
  /** Most large packets in existence (default 64). */
  largeLimit?: number;
  /** Cluster packets made up front (default 0: grow on demand). */
  prealloc?: number;
  /** Room kept in front of new packets (default MAX_LINKHDR). */
  headroom?: number;
}

/** The mbuf pool of one kernel. */
export class MbufPool {
  readonly headroom: number;
  readonly cluster: PoolStats;
  readonly large: PoolStats;
  /** Packets refused for lack of memory (mbstat m_drops). */
  drops = 0;

  /** Free packet headers, each with its buffer, per class. */
  private readonly freeList: Mbuf[][] = [[], []];
  /** Spare buffers left behind when a packet moved to a larger one. */
  private readonly spareBufs: Uint8Array[][] = [[], []];

  constructor(opts: MbufPoolOptions = {}) {
    this.headroom = opts.headroom ?? MAX_LINKHDR;
    this.cluster = new PoolStats('mcl2k', MCLBYTES, opts.limit ?? 8192);
    this.large = new PoolStats('mcl64k', MAXMCLBYTES + this.headroom, opts.largeLimit ?? 64);
    if (this.headroom >= MCLBYTES) throw new RangeError('MbufPool: headroom must be smaller than MCLBYTES');
    const pre = Math.min(opts.prealloc ?? 0, this.cluster.limit);
    for (let i = 0; i < pre; i++) {
      const m = new Mbuf(this, new Uint8Array(MCLBYTES));
      this.cluster.nalloc++;
      m.isFree = true;
      this.freeList[CLUSTER]!.push(m);
    }
  }

  /** Largest packet a get() can hold. */
  get maxPacket(): number {
    return MAXMCLBYTES;
  }

  private stats(cls: number): PoolStats {
    return cls === CLUSTER ? this.cluster : this.large;
  }

  /**
   * A packet for `size` bytes (MGETHDR + MCLGET): empty (len 0) with the
   * pool's headroom in front.  null when the class is at its limit (a drop
   * is counted), or size is over MAXMCLBYTES (no drop counted: the caller
   * counts its own reason, e.g. ips_toolong).
   */
  get(size = 0): Mbuf | null {
    if (size > MAXMCLBYTES) return null;
    const cls = size + this.headroom <= MCLBYTES ? CLUSTER : LARGE;
    const st = this.stats(cls);
    let m = this.freeList[cls]!.pop();
    if (m === undefined) {
      if (st.nout >= st.limit) {
        st.nfail++;
        this.drops++;
        return null;
      }
      m = new Mbuf(this, this.newBuf(cls));
      m.cls = cls;
    }
    m.isFree = false;
    m.reset(this.headroom);
    st.nget++;
    if (++st.nout > st.hiwat) st.hiwat = st.nout;
    return m;
  }

  /** m_freem(): back to the free list.  Freeing twice is a bug and throws. */
  free(m: Mbuf): void {
    if (m.pool !== this) throw new Error('m_freem: mbuf from another pool');
    if (m.isFree) throw new Error('m_freem: mbuf already free');
    if (m.m_flags & M_ZEROIZE) m.buf.fill(0);
    m.isFree = true;
    m.trace = null;
    m.pf_statekey = -1;
    m.pf_inp = null;
    m.m_nextpkt = null;
    const st = this.stats(m.cls);
    st.nput++;
    st.nout--;
    this.freeList[m.cls]!.push(m);
  }

  /** Packets in use, both classes. */
  get inUse(): number {
    return this.cluster.nout + this.large.nout;
  }

  /** Buffers created so far, both classes: stays flat in steady state. */
  get allocated(): number {
    return this.cluster.nalloc + this.large.nalloc;
  }

  private newBuf(cls: number): Uint8Array {
    const spare = this.spareBufs[cls]!.pop();
    if (spare) return spare;
    const st = this.stats(cls);
    st.nalloc++;
    return new Uint8Array(st.size);
  }

  /**
   * Make room for `front` more bytes before and `back` more bytes after the
   * packet: move the data within its buffer, or into a large buffer.
   * Used by Mbuf.prepend()/append().
   */
  reserve(m: Mbuf, front: number, back: number): boolean {
    const need = front + m.len + back;
    if (need > MAXMCLBYTES) return false;
    if (need <= m.buf.length) {
      // Keep the usual headroom in front when it fits, else what is left.
      const slack = m.buf.length - need;
      const newOff = front + Math.min(this.headroom, slack);
      m.buf.copyWithin(newOff, m.off, m.off + m.len);
      m.off = newOff;
      return true;
    }
    // Move to a large buffer.
    const st = this.large;
    if (st.nout >= st.limit) {
      st.nfail++;
      this.drops++;
      return false;
    }
    // Swap buffers with a free large packet when there is one (the free
    // header then carries the old buffer back to its class), so that a
    // workload that keeps growing packets reaches a steady state.
    const f = this.freeList[LARGE]!.pop();
    let nb: Uint8Array;
    if (f !== undefined) {
      nb = f.buf;
      f.buf = m.buf;
      f.cls = m.cls;
      this.freeList[m.cls]!.push(f);
    } else {
      nb = this.newBuf(LARGE);
      this.spareBufs[m.cls]!.push(m.buf);
    }
    const newOff = front + Math.min(this.headroom, nb.length - need);
    // The whole old buffer when it fits shifted so (no view allocated): the bytes around the packet are not meaningful.
    const ob = m.buf;
    if (newOff >= m.off && newOff - m.off + ob.length <= nb.length) nb.set(ob, newOff - m.off);
    else nb.set(ob.subarray(m.off, m.off + m.len), newOff);
    const old = this.stats(m.cls);
    old.nout--;
    m.buf = nb;
    m.cls = LARGE;
    m.off = newOff;
    st.nget++;
    if (++st.nout > st.hiwat) st.hiwat = st.nout;
    return true;
  }
}

/**
 * struct mbuf_list: a FIFO of packets linked through m_nextpkt, no
 * allocation per packet.
 */
export class MbufList {
  head: Mbuf | null = null;
  tail: Mbuf | null = null;
  len = 0;

  /** ml_enqueue() */
  enqueue(m: Mbuf): void {
    m.m_nextpkt = null;
    if (this.tail) this.tail.m_nextpkt = m;
    else this.head = m;
    this.tail = m;
    this.len++;
  }

  /** ml_dequeue() */
  dequeue(): Mbuf | null {
    const m = this.head;
    if (m === null) return null;
    this.head = m.m_nextpkt;
    if (this.head === null) this.tail = null;
    m.m_nextpkt = null;
    this.len--;
    return m;
  }

  /** ml_empty() */
  get empty(): boolean {
    return this.head === null;
  }

  /** ml_purge(): free every packet; returns how many. */
  purge(): number {
    let n = 0;
    for (let m = this.dequeue(); m !== null; m = this.dequeue()) {
      m.free();
      n++;
    }
    return n;
  }
}
