/**
 * A full-duplex cable between two NIC ports.  Each direction is a wire of
 * its own: a frame occupies it for its serialization time (preamble, frame,
 * FCS and inter-frame gap at the link rate) and arrives at the other end a
 * propagation delay after its last bit left.  Frames are lost at random
 * with the cable's seeded loss rate, so runs are repeatable.
 *
 * The NIC drives the wire: it calls transmit() when it starts sending a
 * frame (or transmitAt() for a frame that starts when the one before it
 * has left) and learns how long the wire is busy; the cable copies the
 * bytes into its own in-flight storage, or takes the sender's buffer in
 * exchange for one of its own, and delivers them with cable_rx() on the far
 * port.  In-flight storage is recycled: nothing is allocated per frame once
 * the cable has carried as many frames at once as it ever will.
 *
 * Speed: a port that can take frames ahead of their arrival time
 * (cable_rx_ahead, a NIC between two interrupts) gets a train of frames
 * without one event per frame; the frames still carry their arrival time.
 *
 * Seeded impairments besides loss: duplication (the frame arrives twice)
 * and reordering (the frame is held back and arrives right after the next
 * frame of the same direction, or after REORDER_HOLD ns if none follows).
 * A frame carries its journey (the sender's m.trace) to the receiving NIC,
 * so a traced packet's journey continues on the next machine.
 */
import type { World } from '../kern/kern_clock.js';
import type { Random } from '../kern/random.js';
import { TIME_ZERO, Timeout } from '../kern/kern_timeout.js';
import type { Journey, Tracer } from '../kern/kern_trace.js';

/**
 * Uint8Array.prototype.set, called through .call(): V8 (11.x) looks
 * `buf.set` up with a generic LoadIC on every call even in optimized
 * code; a constant target is called directly.
 */
const u8set = Uint8Array.prototype.set;

/** Longest a reordered frame waits for a frame to overtake it, ns. */
export const REORDER_HOLD = 1_000_000;

/** Preamble and start-of-frame delimiter. */
export const ETHER_PREAMBLE = 8;
/** Minimum inter-frame gap. */
export const ETHER_IFG = 12;
export const ETHER_CRC_LEN = 4;
/** Smallest frame on the wire without FCS (padding added by the MAC). */
export const ETHER_MIN_LEN_NOCRC = 60;

/** One end of a cable: a NIC's PHY. */
export interface CablePort {
  /**
   * A frame arrived: bytes are valid during the call only; trace is the
   * journey it belongs to.  A port that keeps buf (zero-copy DMA into its
   * ring) returns a buffer of the same length for the cable to keep instead.
   */
  cable_rx(buf: Uint8Array, off: number, len: number, trace?: object | null): Uint8Array | void;
  /**
   * Optional: take a frame before it arrives (`ahead` ns from now, more
   * than 0), when the port can tell that nothing it does before then
   * depends on the frame (a NIC whose next interrupt is later).  null:
   * refused, the frame comes with cable_rx() when it arrives; else the
   * buffer the cable keeps (buf itself when the port copied it).  Relative:
   * a small integer, where an absolute time in ns would be a heap number.
   */
  cable_rx_ahead?(buf: Uint8Array, off: number, len: number, trace: object | null, ahead: number): Uint8Array | null;
  /** The cable was plugged in (cable set) or pulled (null). */
  cable_link(cable: Cable | null): void;
}

export interface CableOptions {
  /** Bits per second (default 1 Gbit/s). */
  rate?: number;
  /** Propagation delay, ns (default 500: about 100 m of copper). */
  delay?: number;
  /** Probability a frame is lost, 0..1 (default 0). */
  loss?: number;
  /** Probability a frame is delivered twice, 0..1 (default 0). */
  duplicate?: number;
  /** Probability a frame is held back behind the next one, 0..1 (default 0). */
  reorder?: number;
  /** Name, for the random stream and messages. */
  name?: string;
}

/** Something whose buffer the cable may take, leaving another of the same length (an mbuf). */
export interface BufHolder {
  buf: Uint8Array;
}

/** One direction of the cable. */
class Wire {
  /**
   * Frames in flight: a ring (a power of two long) of buffers, offsets,
   * lengths, arrival times and journeys.  The ring's buffers are the
   * cable's own; a sender that lends its buffer (BufHolder) and a receiver
   * that keeps one exchange theirs for the ring's instead of copying.
   */
  private bufs: Uint8Array[] = [];
  private offs = new Int32Array(0);
  private lens = new Int32Array(0);
  private times = new Float64Array(0);
  private traces: Array<object | null> = [];
  private head = 0;
  private count = 0;
  private mask = -1;
  /** Arrival time of the last frame queued or delivered: arrivals stay in order. */
  private lastWhen = TIME_ZERO;
  readonly arrival: Timeout<Wire>;
  /** Time the wire is busy until. */
  busyUntil = TIME_ZERO;
  /** Frames and bytes put on this wire, frames lost, duplicated, reordered. */
  frames = 0;
  bytes = 0;
  lost = 0;
  duplicated = 0;
  reordered = 0;
  /** A frame held back for reordering (bytes, length, journey), delivered after the next one. */
  held: Uint8Array | null = null;
  heldLen = 0;
  heldTrace: object | null = null;
  readonly heldTimeout: Timeout<Wire>;

  constructor(
    readonly world: World,
    public to: CablePort | null,
  ) {
    this.arrival = new Timeout<Wire>(world, Wire.arrive, this);
    this.heldTimeout = new Timeout<Wire>(world, Wire.release, this);
    // Deliveries, not timers: frames carry their own journeys.
    this.arrival.name = this.heldTimeout.name = '';
  }

  /** Hold a frame back; it goes out after the next frame, or on its own after REORDER_HOLD. */
  hold(buf: Uint8Array, off: number, len: number, trace: object | null, when: number): void {
    if (this.held === null || this.held.length < len) this.held = new Uint8Array(len < 2048 ? 2048 : len);
    this.held.set(buf.subarray(off, off + len), 0);
    this.heldLen = len;
    this.heldTrace = trace;
    this.heldTimeout.at(when + REORDER_HOLD);
  }

  /** Deliver the held frame right after `when`. */
  unhold(when: number): void {
    const b = this.held;
    if (b === null || this.heldLen === 0) return;
    const len = this.heldLen;
    this.heldLen = 0;
    this.heldTimeout.del();
    this.put(b, 0, len, when - this.world.now, this.heldTrace, null);
    this.heldTrace = null;
  }

  private static release(w: Wire): void {
    w.unhold(w.world.now);
  }

  /**
   * A frame that arrives at `when`.  With `holder` (whose buf is `buf`) the
   * ring takes the buffer and gives the holder one of its own.  A receiver
   * that takes frames ahead of time (cable_rx_ahead) gets it at once when
   * nothing is queued before it, so a train of frames costs no event each.
   */
  put(buf: Uint8Array, off: number, len: number, delay: number, trace: object | null, holder: BufHolder | null): void {
    // Times cross calls relative to now (small integers, no heap numbers).
    const now = this.world.now;
    let when = now + delay;
    if (when < this.lastWhen) when = this.lastWhen;
    this.lastWhen = when;
    if (this.count === this.bufs.length) this.grow();
    const i = (this.head + this.count) & this.mask;
    let b = this.bufs[i]!;
    let boff = off;
    if (holder !== null && holder.buf === buf && buf.length === b.length) {
      this.bufs[i] = buf;
      holder.buf = b;
      b = buf;
    } else if (buf.length <= b.length) {
      // The sender's whole buffer in one copy, the frame at the same
      // offset: no subarray view allocated per frame.
      u8set.call(b, buf);
    } else {
      if (b.length < len) {
        b = new Uint8Array(len < 2048 ? 2048 : len);
        this.bufs[i] = b;
      }
      b.set(buf.subarray(off, off + len), 0);
      boff = 0;
    }
    const to = this.to;
    if (this.count === 0 && to !== null && to.cable_rx_ahead !== undefined && when > now) {
      const r = to.cable_rx_ahead(b, boff, len, trace, when - now);
      if (r !== null) {
        // Taken: the slot keeps the receiver's buffer, nothing else of it is read.
        this.bufs[i] = r;
        return;
      }
    }
    this.offs[i] = boff;
    this.lens[i] = len;
    this.times[i] = when;
    this.traces[i] = trace;
    this.count++;
    if (this.count === 1) this.arrival.at(when);
  }

  private grow(): void {
    // Re-lay the ring in order, doubling it.
    const n = this.bufs.length;
    const m = n === 0 ? 8 : n * 2;
    const nb: Uint8Array[] = [];
    const ntr: Array<object | null> = [];
    const no = new Int32Array(m);
    const nl = new Int32Array(m);
    const nt = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & this.mask;
      nb.push(this.bufs[i]!);
      ntr.push(this.traces[i] ?? null);
      no[k] = this.offs[i]!;
      nl[k] = this.lens[i]!;
      nt[k] = this.times[i]!;
    }
    for (let k = n; k < m; k++) {
      nb.push(new Uint8Array(2048));
      ntr.push(null);
    }
    this.bufs = nb;
    this.offs = no;
    this.lens = nl;
    this.times = nt;
    this.traces = ntr;
    this.head = 0;
    this.mask = m - 1;
  }

  /** Drop everything in flight (cable pulled). */
  clear(): void {
    for (let k = 0; k < this.count; k++) this.traces[(this.head + k) & this.mask] = null;
    this.count = 0;
    this.head = 0;
    this.arrival.del();
    this.heldLen = 0;
    this.heldTrace = null;
    this.heldTimeout.del();
  }

  private static arrive(w: Wire): void {
    const now = w.world.now;
    const to = w.to;
    while (w.count > 0) {
      const i = w.head;
      const when = w.times[i]!;
      let r: Uint8Array | void | null;
      const tr = w.traces[i] ?? null;
      if (when <= now) r = to !== null ? to.cable_rx(w.bufs[i]!, w.offs[i]!, w.lens[i]!, tr) : undefined;
      else if (to !== null && to.cable_rx_ahead !== undefined) {
        // The rest of the train, ahead of time while the receiver takes it.
        r = to.cable_rx_ahead(w.bufs[i]!, w.offs[i]!, w.lens[i]!, tr, when - now);
        if (r === null) break;
      } else break;
      if (r) w.bufs[i] = r;
      w.traces[i] = null;
      w.head = (i + 1) & w.mask;
      w.count--;
    }
    if (w.count > 0) w.arrival.at(w.times[w.head]!);
  }
}

export class Cable {
  readonly rate: number;
  readonly delay: number;
  loss: number;
  duplicate: number;
  reorder: number;
  readonly name: string;
  /** The journey tracer while one is recorded (set by the lab): losses, duplicates, reorders. */
  trace: Tracer | null = null;
  private traceHost: { hostname: string; world: World } | null = null;
  readonly random: Random;
  private a: CablePort | null = null;
  private b: CablePort | null = null;
  /** a -> b and b -> a */
  private readonly ab: Wire;
  private readonly ba: Wire;
  private lastLen = -1;
  private lastTx = 0;
  private lastBits = 0;

  constructor(
    readonly world: World,
    opts: CableOptions = {},
  ) {
    this.rate = opts.rate ?? 1e9;
    this.delay = opts.delay ?? 500;
    this.loss = opts.loss ?? 0;
    this.duplicate = opts.duplicate ?? 0;
    this.reorder = opts.reorder ?? 0;
    this.name = opts.name ?? 'cable';
    if (!(this.rate > 0)) throw new RangeError('cable rate must be positive');
    if (!(this.delay >= 0)) throw new RangeError('cable delay must not be negative');
    for (const p of [this.loss, this.duplicate, this.reorder]) if (!(p >= 0 && p <= 1)) throw new RangeError('cable probabilities are between 0 and 1');
    this.random = world.random.fork(`cable:${this.name}`);
    this.ab = new Wire(world, null);
    this.ba = new Wire(world, null);
  }

  /** Plug both ends in; both ports see their link come up. */
  connect(a: CablePort, b: CablePort): this {
    this.a = a;
    this.b = b;
    this.ab.to = b;
    this.ba.to = a;
    a.cable_link(this);
    b.cable_link(this);
    return this;
  }

  /** Pull the cable: frames in flight are lost, both links go down. */
  disconnect(): void {
    const a = this.a;
    const b = this.b;
    this.a = this.b = null;
    this.ab.to = this.ba.to = null;
    this.ab.clear();
    this.ba.clear();
    if (a !== null) a.cable_link(null);
    if (b !== null) b.cable_link(null);
  }

  /** The port at the other end of `p`. */
  peer(p: CablePort): CablePort | null {
    return p === this.a ? this.b : p === this.b ? this.a : null;
  }

  /** ns a frame of len bytes (without FCS) occupies the wire. */
  txtime(len: number): number {
    const frame = (len < ETHER_MIN_LEN_NOCRC ? ETHER_MIN_LEN_NOCRC : len) + ETHER_CRC_LEN;
    return Math.ceil(((frame + ETHER_PREAMBLE + ETHER_IFG) * 8 * 1e9) / this.rate);
  }

  /** True while `from`'s wire still carries an earlier frame. */
  busy(from: CablePort): boolean {
    return this.wire(from).busyUntil > this.world.now;
  }

  /**
   * Start sending a frame from port `from`; returns the ns the wire is busy
   * with it.  The NIC completes the descriptor after that time.
   */
  transmit(from: CablePort, buf: Uint8Array, off: number, len: number, trace: object | null = null): number {
    return this.transmitIn(from, buf, off, len, trace, null, 0);
  }

  /**
   * transmit() of a frame whose first bit goes out at `start` (now or
   * later, when the wire is free): a MAC commits a train of frames at once.
   * With `holder` (an mbuf whose buf is `buf`) the cable takes the buffer
   * instead of copying it and leaves the holder another of the same length.
   */
  transmitAt(from: CablePort, buf: Uint8Array, off: number, len: number, trace: object | null, holder: BufHolder | null, start: number): number {
    const now = this.world.now;
    return this.transmitIn(from, buf, off, len, trace, holder, start > now ? start - now : 0);
  }

  /**
   * transmitAt() of a frame whose first bit goes out `after` ns from now:
   * relative, a small integer where an absolute time would be a heap
   * number allocated per frame.
   */
  transmitIn(from: CablePort, buf: Uint8Array, off: number, len: number, trace: object | null, holder: BufHolder | null, after: number): number {
    const w = this.wire(from);
    if (len !== this.lastLen) {
      // Serialization times of the last length seen (trains are of one length).
      const frame = (len < ETHER_MIN_LEN_NOCRC ? ETHER_MIN_LEN_NOCRC : len) + ETHER_CRC_LEN;
      const bits = (frame + ETHER_PREAMBLE) * 8 * 1e9;
      this.lastTx = Math.ceil((bits + ETHER_IFG * 8 * 1e9) / this.rate);
      this.lastBits = Math.ceil(bits / this.rate);
      this.lastLen = len;
    }
    const t = this.lastTx;
    if (after < 0) after = 0;
    const start = this.world.now + after;
    w.busyUntil = start + t;
    w.frames++;
    w.bytes += len;
    if (this.loss > 0 && this.random.chance(this.loss)) {
      w.lost++;
      if (this.trace !== null) this.note(trace, 'cable: frame lost', 'loss');
    } else if (w.to !== null) {
      // The last bit arrives a propagation delay after it left (less the IFG).
      const arrival = after + this.lastBits + this.delay;
      const when = start + this.lastBits + this.delay;
      if (this.reorder > 0 && w.heldLen === 0 && this.random.chance(this.reorder)) {
        w.reordered++;
        if (this.trace !== null) this.note(trace, 'cable: frame held back (reorder)', 'reorder');
        w.hold(buf, off, len, trace, when);
        return t;
      }
      w.put(buf, off, len, arrival, trace, holder);
      if (this.duplicate > 0 && this.random.chance(this.duplicate)) {
        w.duplicated++;
        // The copy is a packet of its own, its journey caused by the original's.
        const copy = this.trace !== null ? this.duplicated(trace) : trace;
        // buf may have gone to the ring or the receiver with the first copy; its bytes are intact.
        w.put(buf, off, len, arrival, copy, null);
      }
      if (w.heldLen !== 0) w.unhold(when);
    }
    return t;
  }

  /** The journey of a frame's copy (the original's is `trace`), its first event the duplication. */
  private duplicated(trace: object | null): Journey | null {
    if (trace === null) return null;
    this.note(trace, 'cable: frame duplicated', 'duplicate');
    const copy = this.trace!.journey('cable: frame duplicated', trace as Journey);
    this.note(copy, `cable: copy of #${(trace as Journey).id}`, 'duplicate');
    return copy;
  }

  /** A trace event of the cable about the frame of journey `trace`. */
  private note(trace: object | null, what: string, detail: string): void {
    const t = this.trace!;
    if (this.traceHost === null) this.traceHost = { hostname: `cable ${this.name}`, world: this.world };
    const prev = t.current;
    t.current = trace as Journey | null;
    if (detail === 'loss') t.drop(this.traceHost, null, what, detail);
    else t.branch(this.traceHost, null, what, detail);
    t.current = prev;
  }

  /** Frames sent, bytes sent and frames lost in the direction from `from`. */
  stats(from: CablePort): { frames: number; bytes: number; lost: number; duplicated: number; reordered: number } {
    const w = this.wire(from);
    return { frames: w.frames, bytes: w.bytes, lost: w.lost, duplicated: w.duplicated, reordered: w.reordered };
  }

  private wire(from: CablePort): Wire {
    if (from === this.a) return this.ab;
    if (from === this.b) return this.ba;
    throw new Error(`${this.name}: port is not plugged into this cable`);
  }
}
