/**
 * What em(4) and ix(4) have in common: an Ethernet NIC with fixed-size
 * transmit and receive DMA rings (one pair per queue), a PHY plugged into a
 * Cable, and interrupts that are events on the world's queue.
 *
 * Transmit: the driver's start routine (if_qstart) moves packets from the
 * interface queue onto the transmit ring (bpf OUT tap there) and sets
 * OACTIVE when fewer descriptors are free than a packet may need.  The MAC
 * sends posted descriptors one at a time onto the wire (rings are served
 * round-robin), marks each done when its last bit has left, and raises the
 * queue's interrupt; the interrupt's txeof frees the slots and, when the
 * queue was OACTIVE, restarts it.
 *
 * Receive: a frame from the cable is written into the next posted receive
 * buffer (or counted as missed when the ring has none), and the queue's
 * interrupt hands everything received to ifiq_input() (bpf IN tap, input
 * queue) and refills the ring from the kernel's mbuf pool.
 *
 * Interrupts are moderated as the ITR registers do: at most one per queue
 * every `itr` ns, so a burst is handed over in batches.
 *
 * Speed without changing what happens when: a single-queue MAC commits
 * every posted descriptor to the cable at once (each frame starts when the
 * one before it has left; the slot records when it completes, and txeof
 * reclaims what completed by the interrupt's time), and the receive side
 * takes frames ahead of their arrival time while its next interrupt is
 * later (cable_rx_ahead; the slot records the arrival time and rxeof only
 * takes what has arrived).  Buffers are exchanged with the cable instead
 * of copied.  A train of frames then costs no event per frame.
 *
 * TSO (IFCAP_TSOv4): a packet marked M_TCP_TSO leaves the ring as frames
 * of ph_mss payload bytes, each with the packet's Ethernet, IP and TCP
 * headers adjusted as the hardware does (IP length, id counting up from
 * the packet's, IP header checksum; sequence number, PUSH/FIN on the last
 * frame only, TCP checksum), as em_tso_setup()/ixgbe_tso_setup() program
 * it; tcps_outpkttso counts the frames.  bpf sees the large packet (the
 * tap is in the start routine), the cable and the peer see the frames.
 * The MAC's checksum work is the simulator's CPU time.
 *
 * LRO (IFXF_LRO, ix's default; `ifconfig ix0 -tcplro` turns it off): the
 * receive side coalesces consecutive in-order segments of one TCP flow
 * taken off the ring in one interrupt into one packet, as the 82599/X550
 * RSC engine does (at most 16 frames, IPv4, ACK/PUSH only, no options but
 * timestamps): the hardware checks every frame's checksums, the aggregate
 * goes up with M_IPV4_CSUM_IN_OK | M_TCP_CSUM_IN_OK, M_TCP_TSO and
 * ph_mss (so a router cuts it again), and ixgbe_rx_offload() counts it:
 * tcps_inhwlro, tcps_inpktlro.  A frame that stays alone is handed up as
 * it came.
 *
 * Attaching prints the dmesg line and calls ether_ifattach(), as the
 * drivers' attach routines do; the interface starts down (ifconfig up or
 * an address brings it up and runs the driver's init).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { M_TCP_TSO, MAX_LINKHDR, MbufList } from '../kern/uipc_mbuf.js';
import { tcps_inhwlro, tcps_inpktlro, tcps_outbadtso, tcps_outpkttso } from '../kern/counters.gen.js';
import { M_IPV4_CSUM_IN_OK, M_IPV4_CSUM_OUT, M_TCP_CSUM_IN_OK, M_TCP_CSUM_OUT } from '../kern/uipc_mbuf.js';
import { sum16, sum16Copy } from '../../wire/checksum.js';
import { ipv4FillChecksum20, ipv4Sum20 } from '../../wire/ip4.js';
import { TIME_ZERO, Timeout } from '../kern/kern_timeout.js';
import {
  IFCAP_LRO,
  Ifnet,
  IFT_ETHER,
  IFF_BROADCAST,
  IFF_SIMPLEX,
  IFF_MULTICAST,
  IFF_RUNNING,
  IFXF_MPSAFE,
  IFXF_LRO,
  LINK_STATE_DOWN,
  LINK_STATE_FULL_DUPLEX,
  if_attach_queues,
  if_attach_iqueues,
  if_linkstate,
} from '../net/if.js';
import type { IfQueue, IfiQueue } from '../net/ifq.js';
import { ifq_dequeue, ifq_init_maxlen, ifq_purge, ifq_restart, ifq_set_oactive, ifq_clr_oactive, ifiq_input, ifiq_trace_segments } from '../net/ifq.js';
import { bpf_mtap_ether, bpfattach, BPF_DIRECTION_OUT, DLT_EN10MB } from '../net/bpf.js';
import { ether_ifattach } from '../net/if_ethersubr.js';
import { formatMac, parseMac } from '../../wire/addr.js';
import type { Cable, CablePort } from './cable.js';
import { traceEvent, traceSegment, type Journey, type TraceCode } from '../kern/kern_trace.js';

/** Trace event of a frame handed to the transmit ring's tap. */
const T_TAP_OUT = traceEvent('tap', 'bpf_mtap_ether', 'OUT');

const ETHER_HDR_LEN = 14;
const ETHER_CRC_LEN = 4;
const ETHER_VLAN_ENCAP_LEN = 4;

export interface NicOptions {
  /** Link-layer address, "0c:c4:7a:78:f3:55" or 6 bytes. */
  lladdr: string | Uint8Array;
  /** Interface name; default the driver name and the next free unit. */
  name?: string;
  /** PCI location for the attach line; default a new bus, dev 0 function 0. */
  pci?: { bus: number; dev: number; fn: number };
  /** Transmit and receive ring sizes (descriptors). */
  txSlots?: number;
  rxSlots?: number;
  /** Queues (ix: 4). */
  queues?: number;
  /** Minimum ns between two interrupts of a queue (default: 8000 per second). */
  itr?: number;
}

/** Static description of a driver model. */
export interface NicModel {
  driver: string;
  /** PCI product string, e.g. "Intel I210". */
  product: string;
  rev: number;
  /** "msi" or "msix". */
  intr: string;
  txSlots: number;
  rxSlots: number;
  queues: number;
  /** Largest frame the MAC takes (max_frame_size). */
  maxFrame: number;
  /** Free descriptors below which the start routine stops (OACTIVE). */
  txThreshold: number;
  /** Media names by link rate. */
  media: (rate: number) => string;
  /** Extra if_xflags set at attach (ix: LRO). */
  xflags: number;
  /** if_capabilities (IFCAP_*) set at attach. */
  capabilities: number;
  /** The driver's interrupt and start routines, as journeys name them (default em_intr, em_start). */
  intrName?: string;
  startName?: string;
}

/** One transmit DMA ring. */
export class TxRing {
  readonly slots: Array<Mbuf | null>;
  /** Next slot the driver fills (sc_tx_desc_head). */
  head = 0;
  /** Next slot txeof reclaims (sc_tx_desc_tail). */
  tail = 0;
  /** Next slot the MAC sends (slots before it are committed to the wire). */
  hw = 0;
  /** When each committed slot's frame has left the wire (DD set from then on). */
  readonly ends: Float64Array;
  /** Packets and bytes sent on the wire. */
  packets = 0;
  bytes = 0;

  constructor(
    readonly nic: EtherNic,
    readonly me: number,
    readonly n: number,
    readonly ifq: IfQueue,
  ) {
    this.slots = new Array<Mbuf | null>(n).fill(null);
    this.ends = new Float64Array(n);
  }

  /** Free descriptors, as em_start computes them. */
  get free(): number {
    let free = this.tail;
    if (free <= this.head) free += this.n;
    return free - this.head;
  }

  /** Descriptors in use (posted, not yet reclaimed). */
  get used(): number {
    return this.n - this.free;
  }
}

/** One receive DMA ring. */
export class RxRing {
  readonly slots: Array<Mbuf | null>;
  /** Next slot the MAC writes. */
  hw = 0;
  /** Next slot rxeof takes. */
  tail = 0;
  /** Posted empty buffers the MAC may write into. */
  avail = 0;
  /** Written buffers waiting for rxeof. */
  ready = 0;
  /** Next slot to refill. */
  prod = 0;
  /** Frames lost for want of a posted buffer (mpc). */
  missed = 0;
  /** Arrival time of each written slot (frames taken ahead of time are not ready before it). */
  readonly times: Float64Array;
  /** A reused list for ifiq_input(). */
  readonly ml = new MbufList();
  /** LRO: the packet being coalesced (the list's tail), its frame count, largest payload, next sequence number, header length. */
  lroHead: Mbuf | null = null;
  lroPkts = 0;
  lroMss = 0;
  lroNext = 0;
  lroHlen = 0;

  constructor(
    readonly nic: EtherNic,
    readonly me: number,
    readonly n: number,
    readonly ifiq: IfiQueue,
  ) {
    this.slots = new Array<Mbuf | null>(n).fill(null);
    this.times = new Float64Array(n);
  }
}

/** A queue's interrupt vector. */
class Vector {
  lastIntr = -Infinity;
  readonly timeout: Timeout<Vector>;
  constructor(
    readonly nic: EtherNic,
    readonly me: number,
  ) {
    this.timeout = new Timeout<Vector>(nic.kernel.world, Vector.fire, this);
    // An interrupt, not a timer: received frames bring their journeys.
    this.timeout.name = '';
  }
  private static fire(v: Vector): void {
    v.lastIntr = v.nic.kernel.world.now;
    v.nic.intr(v.me);
  }
}

export abstract class EtherNic implements CablePort {
  readonly ifp: Ifnet;
  readonly kernel: Kernel;
  readonly model: NicModel;
  readonly txr: TxRing[] = [];
  readonly rxr: RxRing[] = [];
  readonly nqueues: number;
  readonly itr: number;
  cable: Cable | null = null;
  link_active = false;
  /** Frames dropped for being longer than the MAC takes (roc). */
  rx_oversize = 0;
  /** Receive buffers that could not be allocated. */
  rx_nombuf = 0;

  private readonly vectors: Vector[] = [];
  /** The MAC's TSO frame buffer (a cluster's size: the cable takes it and leaves another) and the headers it copies into each. */
  private readonly tsoHolder = { buf: new Uint8Array(2048) };
  private readonly tsoHdr = new Uint8Array(128);
  /**
   * Views of the payload pieces of TSO packets, by the packet's buffer and
   * piece: made once per buffer, offset and mss (pool buffers come back),
   * not once per frame.
   */
  private readonly tsoViews = new Map<Uint8Array, Uint8Array[]>();
  /** Time the MAC's wire is busy until (the end of the last committed frame). */
  private txBusy = TIME_ZERO;
  private txRR = 0;
  /** Multi-queue MACs pick the next ring when the wire is free (round-robin): this wakes them. */
  private readonly txDone: Timeout<EtherNic>;
  /** Trace point names: em_intr/em_start, ixgbe_queue_intr/ixgbe_start. */
  readonly intrName: string;
  readonly startName: string;
  /** Trace events of the interrupt taking a frame off the receive ring and of the start routine putting one on the transmit ring (and its tap). */
  private readonly tIntr: TraceCode<1>;
  /** tIntr with ifiq_input's events for the frame: [without the bpf tap, with it] (ifiq_trace_segments). */
  private readonly tIntrIfiq: [TraceCode<2>, TraceCode<2>];
  private readonly tStart: TraceCode<2>;

  constructor(kernel: Kernel, model: NicModel, opts: NicOptions) {
    this.kernel = kernel;
    this.model = model;
    const lladdr = typeof opts.lladdr === 'string' ? parseMac(opts.lladdr) : opts.lladdr;
    if (lladdr === null || lladdr.length !== 6) throw new Error(`${model.driver}: bad lladdr`);
    const name = opts.name ?? `${model.driver}${kernel.dv_unit(model.driver)}`;
    const ifp = new Ifnet(kernel, name, IFT_ETHER, lladdr);
    this.ifp = ifp;
    this.nqueues = opts.queues ?? model.queues;
    const txSlots = opts.txSlots ?? model.txSlots;
    const rxSlots = opts.rxSlots ?? model.rxSlots;
    this.itr = opts.itr ?? 125_000;
    this.intrName = model.intrName ?? `${model.driver}_intr`;
    this.startName = model.startName ?? `${model.driver}_start`;
    this.tIntr = traceEvent('fn', this.intrName, `rxq %d: ${this.intrName === 'em_intr' ? 'em_rxeof' : 'ixgbe_rxeof'} takes the frame off the receive ring`);
    this.tIntrIfiq = ifiq_trace_segments(this.tIntr);
    this.tStart = traceSegment(traceEvent('fn', this.startName, 'txq %d: onto the transmit ring, %d descriptors free'), T_TAP_OUT);

    ifp.if_flags = IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST;
    ifp.if_xflags = IFXF_MPSAFE | model.xflags;
    ifp.if_capabilities = model.capabilities;
    ifp.if_hardmtu = model.maxFrame - ETHER_HDR_LEN - ETHER_CRC_LEN;
    ifp.if_softc = this;
    ifq_init_maxlen(ifp.if_snd, txSlots - 1);
    ifp.if_qstart = (ifq) => this.start(ifq);
    ifp.if_init = () => this.init();
    ifp.if_stop = () => this.stop();
    ifp.if_media = { type: 'Ethernet', current: 'autoselect', active: 'none', linkActive: false };
    ifp.if_link_state = LINK_STATE_DOWN;
    ether_ifattach(ifp);
    bpfattach(ifp, DLT_EN10MB);
    if_attach_queues(ifp, this.nqueues);
    if_attach_iqueues(ifp, this.nqueues);
    for (let i = 0; i < this.nqueues; i++) {
      const tx = new TxRing(this, i, txSlots, ifp.if_ifqs[i]!);
      ifp.if_ifqs[i]!.ifq_softc = tx;
      this.txr.push(tx);
      const rx = new RxRing(this, i, rxSlots, ifp.if_iqs[i]!);
      ifp.if_iqs[i]!.ifiq_softc = rx;
      this.rxr.push(rx);
      this.vectors.push(new Vector(this, i));
    }
    this.txDone = new Timeout<EtherNic>(kernel.world, EtherNic.txdone, this);

    const pci = opts.pci ?? { bus: kernel.pci_newbus(), dev: 0, fn: 0 };
    const rev = model.rev.toString(16).padStart(2, '0');
    const q = this.nqueues > 1 || model.intr === 'msix' ? `, ${this.nqueues} queue${this.nqueues === 1 ? '' : 's'}` : '';
    kernel.printf(
      // ix/ixgbe_allocate_msix() prints ", msix, 4 queues"; em prints ": msi".
      `${name} at pci${pci.bus} dev ${pci.dev} function ${pci.fn} "${model.product}" rev 0x${rev}${model.intr === 'msix' ? ',' : ':'} ${model.intr}${q}, address ${formatMac(lladdr, 0)}`,
    );
  }

  // ---- driver side ----

  /** em_init(): rings filled, RUNNING set. */
  init(): void {
    const ifp = this.ifp;
    for (const rx of this.rxr) this.rxfill(rx);
    for (const tx of this.txr) ifq_clr_oactive(tx.ifq);
    ifp.if_flags |= IFF_RUNNING;
  }

  /** em_stop(): RUNNING cleared, rings emptied. */
  stop(): void {
    const ifp = this.ifp;
    ifp.if_flags &= ~IFF_RUNNING;
    this.txDone.del();
    for (const v of this.vectors) v.timeout.del();
    for (const tx of this.txr) {
      ifq_clr_oactive(tx.ifq);
      for (let i = 0; i < tx.n; i++) {
        const m = tx.slots[i];
        if (m) m.free();
        tx.slots[i] = null;
      }
      tx.head = tx.tail = tx.hw = 0;
    }
    for (const rx of this.rxr) {
      for (let i = 0; i < rx.n; i++) {
        const m = rx.slots[i];
        if (m) m.free();
        rx.slots[i] = null;
      }
      rx.hw = rx.tail = rx.prod = rx.avail = rx.ready = 0;
      rx.ml.purge();
    }
  }

  /** em_start()/ixgbe_start(): from the interface queue onto the ring. */
  start(ifq: IfQueue): void {
    const ifp = this.ifp;
    const tx = ifq.ifq_softc as TxRing;
    if (!this.link_active) {
      this.startNoLink(ifq);
      return;
    }
    let free = tx.free;
    let post = false;
    for (;;) {
      if (free <= this.model.txThreshold) {
        ifq_set_oactive(ifq);
        if (this.kernel.trace !== null) this.kernel.trace.branch(this.kernel, ifq.peek(), '%s: transmit ring full → OACTIVE, packets wait in the queue', 'txq', 0, 0, 0, this.startName);
        break;
      }
      const m = ifq_dequeue(ifq);
      if (m === null) break;
      tx.slots[tx.head] = m;
      if (++tx.head === tx.n) tx.head = 0;
      free--;
      const tr = this.kernel.trace;
      if (tr !== null) {
        tr.tapi2(this.kernel, m, this.tStart, ifp, tx.me, free);
      }
      if (ifp.if_bpf !== null) bpf_mtap_ether(ifp.if_bpf, m, BPF_DIRECTION_OUT);
      post = true;
    }
    if (post) this.txkick();
  }

  /** Without link em purges its queue; ix leaves it. */
  protected startNoLink(ifq: IfQueue): void {
    ifq_purge(ifq);
  }

  /** Interrupt of queue `qid`: reclaim transmitted slots, hand received frames up. */
  intr(qid: number): void {
    if ((this.ifp.if_flags & IFF_RUNNING) === 0) return;
    const tx = this.txr[qid]!;
    this.txeof(tx);
    const rx = this.rxr[qid]!;
    if (this.rxeof(rx)) this.rxfill(rx);
    // Frames still on the wire, or received ahead of time, interrupt again when they are done.
    const now = this.kernel.world.now;
    if (tx.tail !== tx.hw) this.raiseIn(qid, tx.ends[tx.tail]! - now);
    if (rx.ready > 0) this.raiseIn(qid, rx.times[rx.tail]! - now);
  }

  private txeof(tx: TxRing): void {
    const now = this.kernel.world.now;
    let tail = tx.tail;
    let free = 0;
    while (tail !== tx.hw && tx.ends[tail]! <= now) {
      const m = tx.slots[tail];
      if (m) m.free();
      tx.slots[tail] = null;
      if (++tail === tx.n) tail = 0;
      free++;
    }
    if (free === 0) return;
    tx.tail = tail;
    if (tx.ifq.ifq_oactive) ifq_restart(tx.ifq);
  }

  private rxeof(rx: RxRing): boolean {
    const now = this.kernel.world.now;
    if (rx.ready === 0 || rx.times[rx.tail]! > now) return false;
    const ml = rx.ml;
    const lro = (this.ifp.if_xflags & IFXF_LRO) !== 0 && (this.model.capabilities & IFCAP_LRO) !== 0;
    const merged = this.kernel.trace !== null && !lro && this.rxfresh(rx, now);
    while (rx.ready > 0 && rx.times[rx.tail]! <= now) {
      const m = rx.slots[rx.tail]!;
      rx.slots[rx.tail] = null;
      if (++rx.tail === rx.n) rx.tail = 0;
      rx.ready--;
      if (this.kernel.trace !== null) this.rxtrace(rx, m, merged);
      if (lro && this.lro(rx, m)) continue;
      ml.enqueue(m);
    }
    if (rx.lroHead !== null) this.lroEnd(rx);
    ifiq_input(rx.ifiq, ml, merged);
    return true;
  }

  /** rxeof's trace point for frame m (out of line: rxeof stays small enough to inline untraced). */
  private rxtrace(rx: RxRing, m: Mbuf, merged: boolean): void {
    const tr = this.kernel.trace!;
    // A frame from a sender that was not tracing starts a journey of its own.
    tr.input(m, 'frame from the wire');
    // With the frame's events in ifiq_input when every frame of this batch starts its own journey (rxfresh).
    if (!merged) tr.evi1(this.kernel, m, this.tIntr, this.ifp, rx.me);
    else if (this.ifp.if_bpf_dlt === DLT_EN10MB) tr.tapi2(this.kernel, m, this.tIntrIfiq[1], this.ifp, rx.me, rx.ifiq.ifiq_idx);
    else tr.evi2(this.kernel, m, this.tIntrIfiq[0], this.ifp, rx.me, rx.ifiq.ifiq_idx);
  }

  /**
   * Whether every frame rxeof takes off ring rx now starts a journey of its
   * own (its sender did not trace): then each frame's ifiq_input events can
   * be recorded with its em_intr event, one record, for the order of each
   * journey's events stays the same.  Frames of one journey (a TSO
   * segment cut into frames, a duplicate) keep the order they had: all
   * em_intr events, then the ifiq_input ones.
   */
  private rxfresh(rx: RxRing, now: number): boolean {
    for (let i = rx.tail, n = rx.ready; n > 0 && rx.times[i]! <= now; n--) {
      if (rx.slots[i]!.trace !== null) return false;
      if (++i === rx.n) i = 0;
    }
    return true;
  }

  /**
   * LRO of frame m taken off ring rx: true when it was merged into the
   * packet being coalesced (and freed); false when it goes up on its own,
   * after it possibly became the packet to coalesce into.
   */
  private lro(rx: RxRing, m: Mbuf): boolean {
    const b = m.buf;
    const o = m.off;
    const hlen = lro_check(b, o, m.len);
    const h = rx.lroHead;
    if (hlen !== 0 && h !== null && rx.lroHlen === hlen && rx.lroPkts < LRO_MAXPKTS && this.lroMerge(rx, h, m, hlen)) return true;
    if (h !== null) this.lroEnd(rx);
    if (hlen !== 0) {
      // Ethernet padding is not payload.
      const iplen = (b[o + 16]! << 8) | b[o + 17]!;
      if (14 + iplen < m.len) m.len = 14 + iplen;
      rx.lroHead = m;
      rx.lroPkts = 1;
      rx.lroHlen = hlen;
      rx.lroMss = m.len - hlen;
      rx.lroNext = (((b[o + 38]! << 24) | (b[o + 39]! << 16) | (b[o + 40]! << 8) | b[o + 41]!) + rx.lroMss) >>> 0;
    }
    return false;
  }

  /** Append m's payload to h when it continues h's flow and sequence and its checksums are right. */
  private lroMerge(rx: RxRing, h: Mbuf, m: Mbuf, hlen: number): boolean {
    const b = m.buf;
    const o = m.off;
    const hb = h.buf;
    const ho = h.off;
    // Same addresses and ports (12 bytes from the IP source), the next sequence number.
    for (let i = 26; i < 38; i++) if (b[o + i] !== hb[ho + i]) return false;
    const seq = ((b[o + 38]! << 24) | (b[o + 39]! << 16) | (b[o + 40]! << 8) | b[o + 41]!) >>> 0;
    if (seq !== rx.lroNext) return false;
    const iplen = (b[o + 16]! << 8) | b[o + 17]!;
    const paylen = iplen - (hlen - 14);
    if (h.len - 14 + paylen > 65535 - MAX_LINKHDR) return false;
    // Timestamps of the tail no older than the head's.
    if (hlen === 66 && (tstmp_lt(b, o + 58, hb, ho + 58) || tstmp_lt(b, o + 62, hb, ho + 62))) return false;
    // The hardware checks the checksums of both (the head's when it gets its first tail).
    if (rx.lroPkts === 1 && !lro_cksum_ok(hb, ho, h.len - 14)) return false;
    if (ipv4Sum20(b, o + 14) !== 0xffff) return false;
    const at = h.len;
    if (!h.append(paylen)) return false;
    const nb = h.buf;
    const no = h.off;
    // The DMA of the tail's payload after the head's, its TCP checksum (header and payload) checked on the way.
    const tph = ((b[o + 26]! << 8) | b[o + 27]!) + ((b[o + 28]! << 8) | b[o + 29]!) +
      ((b[o + 30]! << 8) | b[o + 31]!) + ((b[o + 32]! << 8) | b[o + 33]!) + 6 + iplen - 20;
    if (sum16Copy(b, o + 34, iplen - 20, tph, hlen - 34, nb, no + at) !== 0xffff) {
      h.truncate(at);
      return false;
    }
    // IP length; TCP ack, window, PUSH and timestamps of the tail.
    const tot = h.len - 14;
    nb[no + 16] = tot >>> 8;
    nb[no + 17] = tot & 0xff;
    for (let i = 42; i < 46; i++) nb[no + i] = b[o + i]!;
    nb[no + 47] |= b[o + 47]! & 0x08;
    nb[no + 48] = b[o + 48]!;
    nb[no + 49] = b[o + 49]!;
    if (hlen === 66) for (let i = 58; i < 66; i++) nb[no + i] = b[o + i]!;
    rx.lroPkts++;
    if (paylen > rx.lroMss) rx.lroMss = paylen;
    rx.lroNext = (seq + paylen) >>> 0;
    const k = this.kernel;
    if (k.trace !== null) k.trace.branch(k, m, '%s: LRO: %d payload bytes appended to the packet before (%d frames)', '', paylen, rx.lroPkts, 0, this.ifp.if_xname);
    m.free();
    return true;
  }

  /** The packet being coalesced is complete: flags and counters as ixgbe_rx_offload() sets them. */
  private lroEnd(rx: RxRing): void {
    const h = rx.lroHead!;
    const pkts = rx.lroPkts;
    rx.lroHead = null;
    rx.lroPkts = 0;
    if (pkts < 2) return;
    const b = h.buf;
    const o = h.off;
    // The headers' checksums no longer hold: the hardware vouched for the frames.
    b[o + 24] = b[o + 25] = 0;
    b[o + 50] = b[o + 51] = 0;
    h.csum_flags |= M_IPV4_CSUM_IN_OK | M_TCP_CSUM_IN_OK | M_IPV4_CSUM_OUT | M_TCP_CSUM_OUT | M_TCP_TSO;
    h.ph_mss = rx.lroMss;
    const st = this.kernel.stats.tcpstat;
    st.inc(tcps_inhwlro);
    st.add(tcps_inpktlro, pkts);
  }

  /** Post empty buffers into every free slot of the ring. */
  private rxfill(rx: RxRing): void {
    const pool = this.kernel.mbufs;
    while (rx.avail + rx.ready < rx.n) {
      const m = pool.get(0);
      if (m === null) {
        this.rx_nombuf++;
        break;
      }
      rx.slots[rx.prod] = m;
      if (++rx.prod === rx.n) rx.prod = 0;
      rx.avail++;
    }
  }

  // ---- the MAC and PHY ----

  /** Schedule the queue's interrupt, moderated to one per `itr` ns. */
  private raise(qid: number): void {
    this.raiseIn(qid, 0);
  }

  /**
   * The queue's interrupt for an event `delay` ns from now, moderated.
   * Times cross calls relative to now: small integers, where absolute
   * times in ns would be heap numbers allocated per packet.
   */
  private raiseIn(qid: number, delay: number): void {
    const t = this.kernel.world.now + delay;
    const v = this.vectors[qid]!;
    let at = v.lastIntr + this.itr;
    if (at < t) at = t;
    const to = v.timeout;
    if (to.index < 0 || to.when > at) to.at(at);
  }

  /** The tail register was written: commit posted descriptors to the wire. */
  private txkick(): void {
    const cable = this.cable;
    if (cable === null || !this.link_active) return;
    const now = this.kernel.world.now;
    if (this.txr.length === 1) {
      // One ring: frames leave back to back in ring order, all known now.
      const tx = this.txr[0]!;
      let after = this.txBusy > now ? this.txBusy - now : 0;
      while (tx.hw !== tx.head) after = this.txcommit(cable, tx, after);
      return;
    }
    if (this.txBusy > now) {
      if (!this.txDone.pending) this.txDone.at(this.txBusy);
      return;
    }
    this.txnext();
  }

  /** Put the next posted descriptor (round-robin over rings) on the wire. */
  private txnext(): void {
    const cable = this.cable;
    if (cable === null || !this.link_active) return;
    const nq = this.txr.length;
    for (let k = 0; k < nq; k++) {
      const tx = this.txr[(this.txRR + k) % nq]!;
      if (tx.hw === tx.head) continue;
      this.txRR = (tx.me + 1) % nq;
      this.txDone.at(this.kernel.world.now + this.txcommit(cable, tx, 0));
      return;
    }
  }

  /** The frame of slot tx.hw starts `after` ns from now; returns when it has left, ns from now. */
  private txcommit(cable: Cable, tx: TxRing, after: number): number {
    const hw = tx.hw;
    const m = tx.slots[hw]!;
    const len = m.len;
    let done: number;
    if (m.csum_flags & M_TCP_TSO) done = this.txtso(cable, tx, m, after);
    else {
      // The cable takes the cluster and leaves the mbuf one of its own (the slot's bytes are done with).
      done = after + cable.transmitIn(this, m.buf, m.off, len, m.trace, m.cls === 0 ? m : null, after);
      tx.packets++;
      tx.bytes += len;
    }
    const end = this.kernel.world.now + done;
    tx.ends[hw] = end;
    tx.hw = hw + 1 === tx.n ? 0 : hw + 1;
    this.txBusy = end;
    this.raiseIn(tx.me, done);
    return done;
  }

  /**
   * The hardware's TSO: m (Ethernet, IPv4 without options, TCP) goes out as
   * frames of m.ph_mss payload bytes, the first starting `after` ns from
   * now; returns when the last has left, ns from now.  A packet the
   * hardware cannot parse is not sent (tcps_outbadtso).
   */
  private txtso(cable: Cable, tx: TxRing, m: Mbuf, after: number): number {
    const k = this.kernel;
    const b = m.buf;
    const o = m.off;
    const len = m.len;
    const mss = m.ph_mss;
    let eh = 14;
    let type = len >= 18 ? (b[o + 12]! << 8) | b[o + 13]! : 0;
    if (type === 0x8100) {
      eh = 18;
      type = (b[o + 16]! << 8) | b[o + 17]!;
    }
    const ip = o + eh;
    const iphl = (b[ip]! & 0x0f) << 2;
    const th = ip + iphl;
    const thl = len >= eh + iphl + 20 ? (b[th + 12]! >> 4) << 2 : 0;
    const hlen = eh + iphl + thl;
    if (type !== 0x0800 || iphl !== 20 || b[ip + 9] !== 6 || thl < 20 || mss === 0 || hlen >= len) {
      k.stats.tcpstat.inc(tcps_outbadtso);
      if (k.trace !== null) k.trace.drop(k, m, '%s: TSO packet the hardware cannot parse → not sent, tcps_outbadtso', '', 0, 0, 0, this.ifp.if_xname);
      return after;
    }
    if (k.trace !== null) k.trace.branch(k, m, '%s: TSO: %d payload bytes cut into frames of mss %d', '', len - hlen, mss, 0, this.ifp.if_xname);
    const holder = this.tsoHolder;
    const hdr = this.tsoHdr;
    // The frame in a cluster-sized buffer the cable takes in exchange for one of its own.
    const fo = 64;
    const fth = fo + eh + iphl;
    const fpay = fo + hlen;
    const seq0 = ((b[th + 4]! << 24) | (b[th + 5]! << 16) | (b[th + 6]! << 8) | b[th + 7]!) >>> 0;
    const id0 = (b[ip + 4]! << 8) | b[ip + 5]!;
    const flags0 = b[th + 13]!;
    // Pseudo-header without the length: addresses and protocol.
    const ph = ((b[ip + 12]! << 8) | b[ip + 13]!) + ((b[ip + 14]! << 8) | b[ip + 15]!) +
      ((b[ip + 16]! << 8) | b[ip + 17]!) + ((b[ip + 18]! << 8) | b[ip + 19]!) + 6;
    for (let i = 0; i < hlen; i++) hdr[i] = b[o + i]!;
    let views = this.tsoViews.get(b);
    if (views === undefined) {
      // Bounded: buffers that left the pool are forgotten now and then.
      if (this.tsoViews.size >= 256) this.tsoViews.clear();
      views = [];
      this.tsoViews.set(b, views);
    }
    let n = 0;
    for (let p = hlen; p < len; p += mss, n++) {
      const plen = len - p < mss ? len - p : mss;
      const last = p + plen >= len;
      const fb = holder.buf;
      fb.set(hdr, fo);
      let v = views[n];
      if (v === undefined || v.byteOffset !== b.byteOffset + o + p || v.length !== plen) {
        v = b.subarray(o + p, o + p + plen);
        views[n] = v;
      }
      fb.set(v, fpay);
      // Headers: IP length, id, checksum; TCP sequence, flags.
      const iplen = iphl + thl + plen;
      fb[fo + eh + 2] = iplen >>> 8;
      fb[fo + eh + 3] = iplen & 0xff;
      const id = (id0 + n) & 0xffff;
      fb[fo + eh + 4] = id >>> 8;
      fb[fo + eh + 5] = id & 0xff;
      ipv4FillChecksum20(fb, fo + eh);
      const seq = (seq0 + (p - hlen)) >>> 0;
      fb[fth + 4] = seq >>> 24;
      fb[fth + 5] = (seq >>> 16) & 0xff;
      fb[fth + 6] = (seq >>> 8) & 0xff;
      fb[fth + 7] = seq & 0xff;
      // CWR on the first frame only, PUSH and FIN on the last only.
      fb[fth + 13] = flags0 & ~((n > 0 ? 0x80 : 0) | (last ? 0 : 0x09));
      fb[fth + 16] = 0;
      fb[fth + 17] = 0;
      // TCP header and payload summed in the frame (a cluster-sized buffer: the vector sum).
      const tsum = ~sum16(fb, fth, thl + plen, ph + thl + plen) & 0xffff;
      fb[fth + 16] = tsum >>> 8;
      fb[fth + 17] = tsum & 0xff;
      const flen = hlen + plen;
      after += cable.transmitIn(this, fb, fo, flen, m.trace, holder, after);
      tx.packets++;
      tx.bytes += flen;
    }
    k.stats.tcpstat.add(tcps_outpkttso, n);
    return after;
  }

  private static txdone(nic: EtherNic): void {
    nic.txnext();
  }

  /** The receive queue a frame goes to (RSS for multi-queue NICs). */
  protected rxqueue(buf: Uint8Array, off: number, len: number): number {
    void buf;
    void off;
    void len;
    return 0;
  }

  /** Set the packet header fields the hardware fills (ix: the RSS hash as flow id). */
  protected rxpkthdr(m: Mbuf, qid: number): void {
    void m;
    void qid;
  }

  cable_rx(buf: Uint8Array, off: number, len: number, trace: object | null = null): Uint8Array | void {
    if ((this.ifp.if_flags & IFF_RUNNING) === 0) {
      if (this.kernel.trace !== null) this.rxdrop(trace, 'interface not running → frame ignored');
      return;
    }
    if (len > this.model.maxFrame - ETHER_CRC_LEN + ETHER_VLAN_ENCAP_LEN) {
      this.rx_oversize++;
      this.ifp.if_ierrors++;
      if (this.kernel.trace !== null) this.rxdrop(trace, 'frame longer than the MAC takes → drop, roc, if_ierrors');
      return;
    }
    const qid = this.nqueues > 1 ? this.rxqueue(buf, off, len) : 0;
    const rx = this.rxr[qid]!;
    if (rx.avail === 0) {
      rx.missed++;
      this.ifp.if_ierrors++;
      if (this.kernel.trace !== null) this.rxdrop(trace, 'receive ring %d full → drop, mpc (missed), if_ierrors', qid);
      this.raise(qid);
      return;
    }
    const m = rx.slots[rx.hw]!;
    const keep = this.rxdma(m, buf, off, len);
    if (keep === null) {
      this.ifp.if_ierrors++;
      if (this.kernel.trace !== null) this.rxdrop(trace, 'no room in the receive buffer → drop, if_ierrors');
      return;
    }
    m.trace = trace;
    this.rxpkthdr(m, qid);
    rx.times[rx.hw] = this.kernel.world.now;
    if (++rx.hw === rx.n) rx.hw = 0;
    rx.avail--;
    rx.ready++;
    this.raise(qid);
    if (keep !== buf) return keep;
  }

  /**
   * A frame that arrives at `when`, before the queue's next interrupt: it
   * goes into the ring now, marked with its arrival time.  Only the plain
   * case is taken ahead (running, a posted buffer free, a frame the MAC
   * takes); anything that counts an error waits for its arrival.
   */
  cable_rx_ahead(buf: Uint8Array, off: number, len: number, trace: object | null, ahead: number): Uint8Array | null {
    const when = this.kernel.world.now + ahead;
    if ((this.ifp.if_flags & IFF_RUNNING) === 0 || len > this.model.maxFrame - ETHER_CRC_LEN + ETHER_VLAN_ENCAP_LEN) return null;
    const qid = this.nqueues > 1 ? this.rxqueue(buf, off, len) : 0;
    const rx = this.rxr[qid]!;
    const v = this.vectors[qid]!.timeout;
    if (rx.avail === 0 || v.index < 0 || !(when < v.when)) return null;
    const m = rx.slots[rx.hw]!;
    const keep = this.rxdma(m, buf, off, len);
    if (keep === null) return null;
    m.trace = trace;
    this.rxpkthdr(m, qid);
    rx.times[rx.hw] = when;
    if (++rx.hw === rx.n) rx.hw = 0;
    rx.avail--;
    rx.ready++;
    return keep;
  }

  /**
   * The DMA write of a frame into m: a cluster takes the cable's buffer
   * (returned: the one the cable keeps instead), else the bytes are copied
   * (buf returned).  null when m has no room.
   */
  private rxdma(m: Mbuf, buf: Uint8Array, off: number, len: number): Uint8Array | null {
    const old = m.buf;
    if (m.cls === 0 && buf.length === old.length && off >= 0) {
      m.buf = buf;
      m.off = off;
      m.len = len;
      return old;
    }
    return m.setFrame(buf, off, len) ? buf : null;
  }

  /** Take back the frames written ahead of time that arrive after `now`. */
  private rxunahead(rx: RxRing, now: number): void {
    while (rx.ready > 0) {
      const last = rx.hw === 0 ? rx.n - 1 : rx.hw - 1;
      if (!(rx.times[last]! > now)) break;
      rx.hw = last;
      rx.slots[last]!.trace = null;
      rx.ready--;
      rx.avail++;
    }
  }

  /** A received frame dropped by the MAC, for the journey it belongs to. */
  private rxdrop(trace: object | null, why: string, a = 0): void {
    const t = this.kernel.trace!;
    const prev = t.current;
    t.current = trace as Journey | null;
    t.drop(this.kernel, null, '%s: ' + why, '', a, 0, 0, this.ifp.if_xname);
    t.current = prev;
  }

  cable_link(cable: Cable | null): void {
    const ifp = this.ifp;
    const media = ifp.if_media!;
    this.cable = cable;
    this.link_active = cable !== null;
    if (cable !== null) {
      media.active = this.model.media(cable.rate);
      media.linkActive = true;
      ifp.if_link_state = LINK_STATE_FULL_DUPLEX;
      ifp.if_baudrate = cable.rate;
    } else {
      media.active = 'none';
      media.linkActive = false;
      ifp.if_link_state = LINK_STATE_DOWN;
      ifp.if_baudrate = 0;
      this.txDone.del();
      // What the MAC committed to the wire is lost with it (the cable holds
      // the bytes); the descriptors complete.
      const now = this.kernel.world.now;
      for (const tx of this.txr) {
        for (let s = tx.tail; s !== tx.hw; s = s + 1 === tx.n ? 0 : s + 1) if (tx.ends[s]! > now) tx.ends[s] = now;
        if (tx.tail !== tx.hw) this.raise(tx.me);
      }
      this.txBusy = now;
      // Frames taken ahead of their arrival did not arrive.
      for (const rx of this.rxr) this.rxunahead(rx, now);
    }
    ifp.if_lastchange = this.kernel.world.now;
    if_linkstate(ifp);
    // Packets queued while the link was down may go now.
    if (cable !== null && (ifp.if_flags & IFF_RUNNING) !== 0) {
      for (const tx of this.txr) if (tx.ifq.ifq_len > 0 && !tx.ifq.ifq_oactive) this.start(tx.ifq);
      this.txkick();
    }
  }
}

/** Most frames the RSC engine coalesces (IXGBE_RSCCTL_MAXDESC_16 with one descriptor per frame). */
const LRO_MAXPKTS = 16;

/**
 * tcp_softlro_check() as the RSC engine applies it to a frame at b[o]:
 * Ethernet (untagged), IPv4 without options or fragmentation, TCP with
 * ACK (and PUSH) only, no options but RFC 1323 timestamps, some payload.
 * Returns the headers' length, or 0.
 */
function lro_check(b: Uint8Array, o: number, len: number): number {
  if (len < 54 || b[o + 12] !== 0x08 || b[o + 13] !== 0 || b[o + 14] !== 0x45 || b[o + 23] !== 6) return 0;
  if ((b[o + 20]! & 0x3f) !== 0 || b[o + 21] !== 0) return 0;
  const iplen = (b[o + 16]! << 8) | b[o + 17]!;
  const thl = (b[o + 46]! >> 4) << 2;
  if (thl < 20 || 14 + iplen > len || 20 + thl >= iplen) return 0;
  if ((b[o + 47]! & ~0x08) !== 0x10) return 0;
  if (thl === 20) return 54;
  if (thl === 32 && b[o + 54] === 1 && b[o + 55] === 1 && b[o + 56] === 8 && b[o + 57] === 10) return 66;
  return 0;
}

/** TSTMP_LT of the 32-bit timestamps at a[ao] and b[bo]. */
function tstmp_lt(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  const x = (a[ao]! << 24) | (a[ao + 1]! << 16) | (a[ao + 2]! << 8) | a[ao + 3]!;
  const y = (b[bo]! << 24) | (b[bo + 1]! << 16) | (b[bo + 2]! << 8) | b[bo + 3]!;
  return ((x - y) | 0) < 0;
}

/** The IPv4 header and TCP checksums of a frame at b[o] (IP length iplen) are right. */
function lro_cksum_ok(b: Uint8Array, o: number, iplen: number): boolean {
  if (ipv4Sum20(b, o + 14) !== 0xffff) return false;
  const ph = ((b[o + 26]! << 8) | b[o + 27]!) + ((b[o + 28]! << 8) | b[o + 29]!) +
    ((b[o + 30]! << 8) | b[o + 31]!) + ((b[o + 32]! << 8) | b[o + 33]!) + 6 + iplen - 20;
  return sum16(b, o + 34, iplen - 20, ph) === 0xffff;
}

/** Media subtypes by link rate, as ifconfig names them (copper). */
export function copperMedia(rate: number): string {
  if (rate >= 10e9) return '10GbaseT full-duplex';
  if (rate >= 5e9) return '5000baseT full-duplex';
  if (rate >= 2.5e9) return '2500baseT full-duplex';
  if (rate >= 1e9) return '1000baseT full-duplex';
  if (rate >= 100e6) return '100baseTX full-duplex';
  return '10baseT full-duplex';
}
