/**
 * Interface queues, as sys/net/ifq.c: the transmit queue (struct ifqueue,
 * between ether_output() and the driver's start routine) and the receive
 * queue (struct ifiqueue, between the driver's interrupt and the softnet
 * task that runs ether_input()).  Both are bounded, count what they drop
 * and export their counters as kstats (em0:0:txq:0, em0:0:rxq:0).
 *
 * Transmit: ifq_enqueue() puts a packet on one of eight priority lists
 * (priq, by m.pf_prio); when the queue is full a packet of lower priority is
 * dropped instead if there is one, else the new one (qdrops).  ifq_start()
 * calls the driver's if_qstart now when at least if_txmit packets wait,
 * else it bundles: a softnet task calls it later, in the same instant.  The
 * driver sets OACTIVE while its transmit ring is full (ifq_set_oactive,
 * counted in oactives) and ifq_restart() clears it from the transmit
 * completion interrupt.
 *
 * Receive: ifiq_input() stamps the interface index, counts, passes every
 * packet to bpf *before* the queue (so a packet dropped because the queue is
 * full was still seen by tcpdump), then queues the list unless more than
 * ifiq_maxlen_drop packets already wait (qdrops).  Its return value is the
 * "pressure" a driver uses to shrink its receive ring (if_rxr_livelocked).
 * A softnet task takes the whole queue (dequeues) and calls ifp.if_input for
 * every packet (if_input_process).
 */
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { MbufList } from '../kern/uipc_mbuf.js';
import * as uipc_mbuf_ from '../kern/uipc_mbuf.js';
import { Task } from '../kern/kern_task.js';
import type { TaskQueue } from '../kern/kern_task.js';
import {
  kstat_kv,
  KSTAT_KV_T_BOOL,
  KSTAT_KV_T_COUNTER32,
  KSTAT_KV_T_COUNTER64,
  KSTAT_KV_T_UINT32,
  KSTAT_KV_U_BYTES,
  KSTAT_KV_U_PACKETS,
  type Kstat,
  type KstatKv,
} from '../kern/kern_kstat.js';
import * as errno_ from '../sys/errno.js';
import { traceEvent, traceSegment, type TraceCode } from '../kern/kern_trace.js';
import type { Ifnet } from './if.js';
import { BPF_DIRECTION_IN, DLT_EN10MB } from './bpf.js';
import { pf_prefetch } from './pf.js';
import { ether_input } from './if_ethersubr.js';

// Imported constants and functions as the module's own constants: V8
// folds a module's const like a literal, but reads an imported binding from
// its cell, with a TDZ check, at every use (dozens per forwarded packet).
// Only from modules without imports back here, so they are always
// initialized first.
const { M_MCAST, M_FLOWID } = uipc_mbuf_;
const { ENOBUFS } = errno_;

// Trace events of the queues (kern_trace.ts).
const T_IFQ_ENQUEUE = traceEvent('fn', 'ifq_enqueue', 'txq %d: qlen %d/%d');
const T_IFQ_START_OACTIVE = traceEvent('fn', 'ifq_start', 'OACTIVE: the driver is not called until the ring has room');
const T_IFQ_START_NOW = traceEvent('fn', 'ifq_start', 'bundle full: start the driver now');
const T_IFQ_START_TASK = traceEvent('fn', 'ifq_start', 'start the driver from a softnet task (ifq_bundle)');
/** ifq_enqueue's event with ifq_start's after it (if_enqueue_ifq): one record. */
const T_IFQ_ENQUEUE_OACTIVE = traceSegment(T_IFQ_ENQUEUE, T_IFQ_START_OACTIVE);
const T_IFQ_ENQUEUE_NOW = traceSegment(T_IFQ_ENQUEUE, T_IFQ_START_NOW);
const T_IFQ_ENQUEUE_TASK = traceSegment(T_IFQ_ENQUEUE, T_IFQ_START_TASK);
const T_IFIQ_INPUT = traceEvent('fn', 'ifiq_input', 'rxq %d');
const T_TAP_IN = traceEvent('tap', 'bpf_mtap_ether', 'IN');
const T_IFIQ_INPUT_TAP = traceSegment(T_IFIQ_INPUT, T_TAP_IN);
const T_IF_INPUT_PROCESS = traceEvent('fn', 'if_input_process', 'softnet takes the packet off the input queue');
/** With ether_input's event, which ether_input leaves to this one record. */
const T_IF_INPUT_ETHER = traceSegment(T_IF_INPUT_PROCESS, traceEvent('fn', 'ether_input'));

/** Default transmit queue length (net/if.h IFQ_MAXLEN). */
export const IFQ_MAXLEN = 256;
/** Priority lists of priq. */
export const IFQ_NQUEUES = 8;
export const IFQ_MAXPRIO = IFQ_NQUEUES - 1;
export const IFQ_DEFPRIO = 3;
/** Packets waiting before ifq_start() calls the driver at once (IF_TXMIT_DEFAULT). */
export const IF_TXMIT_DEFAULT = 16;

/** ifiq_input() drops whole lists while more than this many packets wait. */
export const IFIQ_MAXLEN_DROP = 2048 * 5;
/** ifiq_input() reports pressure above this many. */
export const IFIQ_MAXLEN_RETURN = 2048 * 3;

// if_xflags bit checked by ifiq_input (net/if.h).
const IFXF_MONITOR = 0x100;
const IFF_RUNNING = 0x40;

export class IfQueue {
  readonly ifq_if: Ifnet;
  readonly ifq_idx: number;
  ifq_maxlen = IFQ_MAXLEN;
  ifq_len = 0;
  ifq_packets = 0;
  ifq_bytes = 0;
  ifq_qdrops = 0;
  ifq_errors = 0;
  ifq_mcasts = 0;
  ifq_oactive = false;
  ifq_oactives = 0;
  /** While traced: the queue length ifq_enqueue's event reads, left for ifq_start to record with its own (-1: none). */
  tqlen = -1;
  /** The driver's per-queue state (its transmit ring). */
  ifq_softc: unknown = null;
  readonly ifq_softnet: TaskQueue;
  readonly ifq_kstat: Kstat;

  /** Packets being purged (reused, so purging allocates nothing). */
  private readonly ifq_free = new MbufList();
  /** priq: one FIFO per priority. */
  private readonly pq: MbufList[] = [];
  /**
   * Bit p set while pq[p] is not empty: the highest priority with packets
   * is found without looking at the eight lists one by one.
   */
  private pqbits = 0;
  readonly ifq_bundle: Task<IfQueue>;
  // ifq_serialize(): start and restart run one at a time, never nested.
  private serializing = false;
  private startPending = false;
  private restartPending = false;

  constructor(ifp: Ifnet, idx: number) {
    this.ifq_if = ifp;
    this.ifq_idx = idx;
    this.ifq_softnet = ifp.kernel.softnet;
    for (let i = 0; i < IFQ_NQUEUES; i++) this.pq.push(new MbufList());
    this.ifq_bundle = new Task<IfQueue>(ifq_run_start, this);
    this.ifq_kstat = ifp.kernel.kstats.create(
      ifp.if_xname,
      0,
      'txq',
      idx,
      [
        kstat_kv('packets', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('bytes', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_BYTES),
        kstat_kv('qdrops', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('errors', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('qlen', KSTAT_KV_T_UINT32, KSTAT_KV_U_PACKETS),
        kstat_kv('maxqlen', KSTAT_KV_T_UINT32, KSTAT_KV_U_PACKETS),
        kstat_kv('oactive', KSTAT_KV_T_BOOL),
        kstat_kv('oactives', KSTAT_KV_T_COUNTER32),
      ],
      (kd: KstatKv[]) => {
        kd[0]!.value = this.ifq_packets;
        kd[1]!.value = this.ifq_bytes;
        kd[2]!.value = this.ifq_qdrops;
        kd[3]!.value = this.ifq_errors;
        kd[4]!.value = this.ifq_len;
        kd[5]!.value = this.ifq_maxlen;
        kd[6]!.value = this.ifq_oactive;
        kd[7]!.value = this.ifq_oactives >>> 0;
      },
    );
  }

  /** priq_enq(): null when queued, else the packet to drop (m itself or a lower priority one). */
  enq(m: Mbuf): Mbuf | null {
    let prio = m.pf_prio;
    if (prio > IFQ_MAXPRIO) prio = IFQ_MAXPRIO;
    let n: Mbuf | null = null;
    if (this.ifq_len >= this.ifq_maxlen) {
      for (let p = 0; p < prio; p++) {
        const pl = this.pq[p]!;
        if (pl.len > 0) {
          n = pl.dequeue();
          if (pl.head === null) this.pqbits &= ~(1 << p);
          break;
        }
      }
      if (n === null) return m;
    }
    this.pq[prio]!.enqueue(m);
    this.pqbits |= 1 << prio;
    return n;
  }

  /** priq_deq_begin() + commit: the first packet of the highest priority. */
  deq(): Mbuf | null {
    const bits = this.pqbits;
    if (bits === 0) return null;
    const p = 31 - Math.clz32(bits);
    const pl = this.pq[p]!;
    const m = pl.dequeue();
    if (pl.head === null) this.pqbits = bits & ~(1 << p);
    return m;
  }

  /** The packet ifq_dequeue() would return, left on the queue (ifq_deq_begin + rollback). */
  peek(): Mbuf | null {
    const bits = this.pqbits;
    if (bits === 0) return null;
    return this.pq[31 - Math.clz32(bits)]!.head;
  }

  /** Run start/restart work serialized, as ifq_serialize(). */
  serialize(restart: boolean): void {
    if (restart) this.restartPending = true;
    else this.startPending = true;
    if (this.serializing) return;
    this.serializing = true;
    try {
      while (this.restartPending || this.startPending) {
        if (this.restartPending) {
          this.restartPending = false;
          ifq_restart_task(this);
        } else {
          this.startPending = false;
          ifq_start_task(this);
        }
      }
    } finally {
      this.serializing = false;
    }
  }

  /** Free every queued packet (for ifq_purge). */
  purge(): void {
    const ml = this.ifq_free;
    for (let p = 0; p < IFQ_NQUEUES; p++) {
      const pl = this.pq[p]!;
      for (let m = pl.dequeue(); m !== null; m = pl.dequeue()) ml.enqueue(m);
    }
    this.pqbits = 0;
    ml.purge();
  }
}

function ifq_run_start(ifq: IfQueue): void {
  ifq.serialize(false);
}

function ifq_start_task(ifq: IfQueue): void {
  const ifp = ifq.ifq_if;
  if ((ifp.if_flags & IFF_RUNNING) === 0 || ifq.ifq_len === 0 || ifq.ifq_oactive) return;
  ifp.if_qstart(ifq);
}

function ifq_restart_task(ifq: IfQueue): void {
  ifq.ifq_oactive = false;
  ifq.ifq_if.if_qstart(ifq);
}

/** ifq_init_maxlen(): drivers set their queue length at attach. */
export function ifq_init_maxlen(ifq: IfQueue, maxlen: number): void {
  ifq.ifq_maxlen = maxlen;
}

/**
 * ifq_enqueue(): 0, or ENOBUFS when the packet was dropped (qdrops).
 * `start`: the caller calls ifq_start() next when the packet is queued;
 * then, traced, this event is recorded there with ifq_start's (tqlen),
 * when m is the packet in hand (ifq_start records for that one).
 */
export function ifq_enqueue(ifq: IfQueue, m: Mbuf, start = false): number {
  const len = m.len;
  const mcast = (m.m_flags & M_MCAST) !== 0;
  const tr = ifq.ifq_if.kernel.trace;
  if (tr !== null) ifq_enqueue_trace(ifq, m, start);
  const dm = ifq.enq(m);
  if (dm !== m) {
    ifq.ifq_packets++;
    ifq.ifq_bytes += len;
    if (mcast) ifq.ifq_mcasts++;
  }
  const ifp = ifq.ifq_if;
  if (dm === null) {
    ifq.ifq_len++;
  } else {
    ifq.ifq_qdrops++;
    ifp.if_oqdrops++;
    if (tr !== null) ifq_drop_trace(ifq, m, dm);
    dm.free();
  }
  if (dm !== m) {
    ifp.if_opackets++;
    ifp.if_obytes += len;
    if (mcast) ifp.if_omcasts++;
  }
  return dm === m ? ENOBUFS : 0;
}

/**
 * ifq_enqueue's event (out of line: the hot functions stay small enough to
 * inline untraced): recorded now, or, for the packet in hand when ifq_start
 * comes next (start), left for ifq_start in tqlen (the queue length it reads).
 */
function ifq_enqueue_trace(ifq: IfQueue, m: Mbuf, start: boolean): void {
  const tr = ifq.ifq_if.kernel.trace!;
  if (start && m.trace !== null && tr.current === m.trace) ifq.tqlen = ifq.ifq_len;
  else tr.evi3(ifq.ifq_if.kernel, m, T_IFQ_ENQUEUE, ifq.ifq_if, ifq.ifq_idx, ifq.ifq_len, ifq.ifq_maxlen);
}

/** ifq_enqueue's drop of dm (m or one of lower priority), after its own event when it waits in tqlen. */
function ifq_drop_trace(ifq: IfQueue, m: Mbuf, dm: Mbuf): void {
  const ifp = ifq.ifq_if;
  const tr = ifp.kernel.trace!;
  const q = ifq.tqlen;
  if (q >= 0) {
    ifq.tqlen = -1;
    tr.evi3(ifp.kernel, m, T_IFQ_ENQUEUE, ifp, ifq.ifq_idx, q, ifq.ifq_maxlen);
  }
  tr.drop(ifp.kernel, dm, 'ifq_enqueue: %s txq %d full (%d) → drop, qdrops', '', ifq.ifq_idx, ifq.ifq_maxlen, 0, ifp.if_xname);
}

/** ifq_start's event, with ifq_enqueue's when it waits in tqlen (out of line, as ifq_enqueue_trace). */
function ifq_start_trace(ifq: IfQueue, lim: number): void {
  const ifp = ifq.ifq_if;
  const tr = ifp.kernel.trace!;
  const q = ifq.tqlen;
  if (q < 0) tr.evi(ifp.kernel, null, ifq.ifq_oactive ? T_IFQ_START_OACTIVE : ifq.ifq_len >= lim ? T_IFQ_START_NOW : T_IFQ_START_TASK, ifp);
  else {
    ifq.tqlen = -1;
    tr.evi3(ifp.kernel, null, ifq.ifq_oactive ? T_IFQ_ENQUEUE_OACTIVE : ifq.ifq_len >= lim ? T_IFQ_ENQUEUE_NOW : T_IFQ_ENQUEUE_TASK, ifp, ifq.ifq_idx, q, ifq.ifq_maxlen);
  }
}

/** ifq_dequeue(): the next packet for the driver, or null. */
export function ifq_dequeue(ifq: IfQueue): Mbuf | null {
  if (ifq.ifq_len === 0) return null;
  const m = ifq.deq();
  if (m !== null) ifq.ifq_len--;
  return m;
}

/**
 * ifq_start(): call the driver now when a bundle of packets is waiting,
 * else from a softnet task, so that packets sent in one burst leave in one
 * call of the start routine.
 */
export function ifq_start(ifq: IfQueue): void {
  const ifp = ifq.ifq_if;
  const lim = ifp.if_txmit < ifq.ifq_maxlen ? ifp.if_txmit : ifq.ifq_maxlen;
  if (ifp.kernel.trace !== null) ifq_start_trace(ifq, lim);
  if (ifq.ifq_len >= lim) {
    ifq.ifq_softnet.del(ifq.ifq_bundle);
    ifq.serialize(false);
  } else {
    ifq.ifq_softnet.add(ifq.ifq_bundle);
  }
}

/** ifq_restart(): the transmit ring has room again: clear OACTIVE and call the driver. */
export function ifq_restart(ifq: IfQueue): void {
  ifq.serialize(true);
}

export function ifq_set_oactive(ifq: IfQueue): void {
  if (!ifq.ifq_oactive) {
    ifq.ifq_oactive = true;
    ifq.ifq_oactives++;
  }
}

export function ifq_clr_oactive(ifq: IfQueue): void {
  ifq.ifq_oactive = false;
}

export function ifq_is_oactive(ifq: IfQueue): boolean {
  return ifq.ifq_oactive;
}

export function ifq_len(ifq: IfQueue): number {
  return ifq.ifq_len;
}

export function ifq_empty(ifq: IfQueue): boolean {
  return ifq.ifq_len === 0;
}

/** ifq_purge(): drop everything queued (if_down); the packets count as qdrops. */
export function ifq_purge(ifq: IfQueue): number {
  const rv = ifq.ifq_len;
  ifq.purge();
  ifq.ifq_len = 0;
  ifq.ifq_qdrops += rv;
  ifq.ifq_if.if_oqdrops += rv;
  return rv;
}

/** priq_idx(): the transmit queue of a flow. */
export function ifq_idx(nqueues: number, m: Mbuf): number {
  const flow = (m.csum_flags & M_FLOWID) !== 0 ? m.ph_flowid : 0;
  return flow % nqueues;
}

export class IfiQueue {
  readonly ifiq_if: Ifnet;
  readonly ifiq_idx: number;
  /** The driver's per-queue state (its receive ring). */
  ifiq_softc: unknown = null;
  /** Packets waiting for softnet. */
  readonly ifiq_ml = new MbufList();
  ifiq_packets = 0;
  ifiq_bytes = 0;
  ifiq_fdrops = 0;
  ifiq_qdrops = 0;
  ifiq_errors = 0;
  ifiq_enqueues = 0;
  ifiq_dequeues = 0;
  /** Queue length above which whole lists are dropped (ifiq_maxlen_drop). */
  maxlen_drop = IFIQ_MAXLEN_DROP;
  /** Queue length above which ifiq_input() reports pressure (ifiq_maxlen_return). */
  maxlen_return = IFIQ_MAXLEN_RETURN;
  readonly ifiq_softnet: TaskQueue;
  readonly ifiq_task: Task<IfiQueue>;
  readonly ifiq_kstat: Kstat;
  /** Reused lists: the bpf pass and the batch softnet works on. */
  readonly scratch = new MbufList();
  readonly work = new MbufList();

  constructor(ifp: Ifnet, idx: number) {
    this.ifiq_if = ifp;
    this.ifiq_idx = idx;
    this.ifiq_softnet = ifp.kernel.softnet;
    this.ifiq_task = new Task<IfiQueue>(ifiq_process, this);
    this.ifiq_kstat = ifp.kernel.kstats.create(
      ifp.if_xname,
      0,
      'rxq',
      idx,
      [
        kstat_kv('packets', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('bytes', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_BYTES),
        kstat_kv('fdrops', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('qdrops', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('errors', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('qlen', KSTAT_KV_T_UINT32, KSTAT_KV_U_PACKETS),
        kstat_kv('enqueues', KSTAT_KV_T_COUNTER64),
        kstat_kv('dequeues', KSTAT_KV_T_COUNTER64),
      ],
      (kd: KstatKv[]) => {
        kd[0]!.value = this.ifiq_packets;
        kd[1]!.value = this.ifiq_bytes;
        kd[2]!.value = this.ifiq_fdrops;
        kd[3]!.value = this.ifiq_qdrops;
        kd[4]!.value = this.ifiq_errors;
        kd[5]!.value = this.ifiq_ml.len;
        kd[6]!.value = this.ifiq_enqueues;
        kd[7]!.value = this.ifiq_dequeues;
      },
    );
  }

  get ifiq_len(): number {
    return this.ifiq_ml.len;
  }
}

/** Append all of src to dst (ml_enlist), leaving src empty. */
function ml_enlist(dst: MbufList, src: MbufList): void {
  if (src.head === null) return;
  if (dst.tail !== null) dst.tail.m_nextpkt = src.head;
  else dst.head = src.head;
  dst.tail = src.tail;
  dst.len += src.len;
  src.head = src.tail = null;
  src.len = 0;
}

/**
 * A driver's receive event (`em_intr`, one word: the ring) with the
 * events ifiq_input() records for the frame (the queue, and the bpf tap on
 * Ethernet): one record when the driver hands the frame straight on
 * (ifiq_input's `traced`).  [without the tap, with it]
 */
export function ifiq_trace_segments(intr: TraceCode<1>): [TraceCode<2>, TraceCode<2>] {
  return [traceSegment(intr, T_IFIQ_INPUT), traceSegment(intr, T_IFIQ_INPUT, T_TAP_IN)];
}

/**
 * ifiq_input(): a driver hands over the frames of one interrupt.  The list
 * is left empty.  Returns true when the queue is under pressure.  `traced`:
 * the driver recorded the frames' ifiq_input events with its own
 * (ifiq_trace_segments), nothing happening between.
 */
export function ifiq_input(ifiq: IfiQueue, ml: MbufList, traced = false): boolean {
  if (ml.head === null) return false;
  const ifp = ifiq.ifiq_if;
  let bytes = 0;
  for (let m: Mbuf | null = ml.head; m !== null; m = m.m_nextpkt) {
    m.ph_ifidx = ifp.if_index;
    m.ph_rtableid = ifp.if_rdomain;
    bytes += m.len;
  }
  const packets = ml.len;
  let fdrops = 0;
  const tr = ifp.kernel.trace;
  if (tr !== null && !traced) {
    for (let m: Mbuf | null = ml.head; m !== null; m = m.m_nextpkt) {
      if (ifp.if_bpf_dlt === DLT_EN10MB) tr.tapi1(ifp.kernel, m, T_IFIQ_INPUT_TAP, ifp, ifiq.ifiq_idx);
      else tr.evi1(ifp.kernel, m, T_IFIQ_INPUT, ifp, ifiq.ifiq_idx);
    }
  }

  const bp = ifp.if_bpf;
  if (bp !== null) {
    // bpf sees every packet before the queue, even those dropped below.
    const ml0 = ifiq.scratch;
    ml_enlist(ml0, ml);
    for (let m = ml0.dequeue(); m !== null; m = ml0.dequeue()) {
      if (ifp.if_bpf_mtap(bp, m, BPF_DIRECTION_IN)) {
        if (tr !== null) tr.drop(ifp.kernel, m, 'ifiq_input: a bpf listener on %s asked to drop the frame (fildrop) → fdrops', '', 0, 0, 0, ifp.if_xname);
        m.free();
        fdrops++;
      } else ml.enqueue(m);
    }
  }

  ifiq.ifiq_packets += packets;
  ifiq.ifiq_bytes += bytes;
  ifiq.ifiq_fdrops += fdrops;
  ifp.if_ipackets += packets;
  ifp.if_ibytes += bytes;
  if (ml.head === null) return false;

  const len = ifiq.ifiq_ml.len;
  if ((ifp.if_xflags & IFXF_MONITOR) === 0) {
    if (len > ifiq.maxlen_drop) {
      ifiq.ifiq_qdrops += ml.len;
      ifp.if_iqdrops += ml.len;
      if (tr !== null) {
        for (let m: Mbuf | null = ml.head; m !== null; m = m.m_nextpkt)
          tr.drop(ifp.kernel, m, 'ifiq_input: %s rxq %d over %d packets → drop, qdrops', '', ifiq.ifiq_idx, ifiq.maxlen_drop, 0, ifp.if_xname);
      }
    } else {
      ifiq.ifiq_enqueues++;
      ml_enlist(ifiq.ifiq_ml, ml);
    }
  }
  if (ml.head === null) ifiq.ifiq_softnet.add(ifiq.ifiq_task);
  else ml.purge();
  return len > ifiq.maxlen_return;
}

/**
 * ifiq_enqueue_qlim(): one packet from a pseudo device or loopback; qlim 0
 * means no limit.  Always 0, as in OpenBSD (the drop is counted).
 */
export function ifiq_enqueue(ifiq: IfiQueue, m: Mbuf, qlim = 0): number {
  const ifp = ifiq.ifiq_if;
  m.ph_ifidx = ifp.if_index;
  m.ph_rtableid = ifp.if_rdomain;
  const bp = ifp.if_bpf;
  ifiq.ifiq_packets++;
  ifiq.ifiq_bytes += m.len;
  ifp.if_ipackets++;
  ifp.if_ibytes += m.len;
  if (bp !== null && ifp.if_bpf_mtap(bp, m, BPF_DIRECTION_IN)) {
    ifiq.ifiq_fdrops++;
    m.free();
    return 0;
  }
  if (qlim !== 0 && ifiq.ifiq_ml.len >= qlim) {
    ifiq.ifiq_qdrops++;
    ifp.if_iqdrops++;
    m.free();
    return 0;
  }
  ifiq.ifiq_enqueues++;
  ifiq.ifiq_ml.enqueue(m);
  ifiq.ifiq_softnet.add(ifiq.ifiq_task);
  return 0;
}

/** ifiq_process(): the softnet task takes the whole queue. */
function ifiq_process(ifiq: IfiQueue): void {
  if (ifiq.ifiq_ml.head === null) return;
  ifiq.ifiq_dequeues++;
  const ml = ifiq.work;
  ml_enlist(ml, ifiq.ifiq_ml);
  if_input_process(ifiq.ifiq_if, ml);
}

/** if_input_process(): link-layer input of every packet of a batch. */
export function if_input_process(ifp: Ifnet, ml: MbufList): void {
  // pf's state lookups of the whole batch, started together (only reads)
  const pf = ifp.kernel.pf;
  if (pf !== null && pf.running && ml.len > 1) pf_prefetch(pf, ifp, ml);
  for (let m = ml.dequeue(); m !== null; m = ml.dequeue()) {
    if (ifp.kernel.trace !== null) if_input_trace(ifp, m);
    ifp.if_input(ifp, m);
  }
}

/** if_input_process's event for m (out of line: its bytecode stays small untraced), with ether_input's. */
function if_input_trace(ifp: Ifnet, m: Mbuf): void {
  ifp.kernel.trace!.evin(ifp.kernel, m, ifp.if_input === ether_input ? T_IF_INPUT_ETHER : T_IF_INPUT_PROCESS, ifp);
}
