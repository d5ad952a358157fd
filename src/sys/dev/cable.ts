/**
 * A full-duplex cable between two NIC ports.  Each direction is a wire of
 * its own: a frame occupies it for its serialization time (preamble, frame,
 * FCS and inter-frame gap at the link rate) and arrives at the other end a
 * propagation delay after its last bit left.  Frames are lost at random
 * with the cable's seeded loss rate, so runs are repeatable.
 *
 * The NIC drives the wire: it calls transmit() when it starts sending a
 * frame and learns how long the wire is busy; the cable copies the bytes
 * into its own in-flight storage (the sender may free its buffer when the
 * frame has left) and delivers them with cable_rx() on the far port.
 * In-flight storage is recycled: nothing is allocated per frame once the
 * cable has carried as many frames at once as it ever will.
 */
import type { World } from '../kern/kern_clock.js';
import type { Random } from '../kern/random.js';
import { Timeout } from '../kern/kern_timeout.js';

/** Preamble and start-of-frame delimiter. */
export const ETHER_PREAMBLE = 8;
/** Minimum inter-frame gap. */
export const ETHER_IFG = 12;
export const ETHER_CRC_LEN = 4;
/** Smallest frame on the wire without FCS (padding added by the MAC). */
export const ETHER_MIN_LEN_NOCRC = 60;

/** One end of a cable: a NIC's PHY. */
export interface CablePort {
  /** A frame arrived: bytes are valid during the call only. */
  cable_rx(buf: Uint8Array, off: number, len: number): void;
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
  /** Name, for the random stream and messages. */
  name?: string;
}

/** One direction of the cable. */
class Wire {
  /** Frames in flight: a ring of buffers, lengths and arrival times. */
  private bufs: Uint8Array[] = [];
  private lens: number[] = [];
  private times: number[] = [];
  private head = 0;
  private count = 0;
  readonly arrival: Timeout<Wire>;
  /** Time the wire is busy until. */
  busyUntil = 0;
  /** Frames and bytes put on this wire, frames lost. */
  frames = 0;
  bytes = 0;
  lost = 0;

  constructor(
    world: World,
    public to: CablePort | null,
  ) {
    this.arrival = new Timeout<Wire>(world, Wire.arrive, this);
  }

  put(buf: Uint8Array, off: number, len: number, when: number): void {
    const n = this.bufs.length;
    if (this.count === n) this.grow();
    const i = (this.head + this.count) % this.bufs.length;
    let b = this.bufs[i]!;
    if (b.length < len) {
      b = new Uint8Array(len < 2048 ? 2048 : len);
      this.bufs[i] = b;
    }
    b.set(buf.subarray(off, off + len), 0);
    this.lens[i] = len;
    this.times[i] = when;
    this.count++;
    if (this.count === 1) this.arrival.at(when);
  }

  private grow(): void {
    // Re-lay the ring in order, doubling it.
    const n = this.bufs.length;
    const nb: Uint8Array[] = [];
    const nl: number[] = [];
    const nt: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) % n;
      nb.push(this.bufs[i]!);
      nl.push(this.lens[i]!);
      nt.push(this.times[i]!);
    }
    const more = n === 0 ? 8 : n;
    for (let k = 0; k < more; k++) {
      nb.push(new Uint8Array(2048));
      nl.push(0);
      nt.push(0);
    }
    this.bufs = nb;
    this.lens = nl;
    this.times = nt;
    this.head = 0;
  }

  /** Drop everything in flight (cable pulled). */
  clear(): void {
    this.count = 0;
    this.head = 0;
    this.arrival.del();
  }

  private static arrive(w: Wire): void {
    const now = w.arrival.world.now;
    while (w.count > 0 && w.times[w.head]! <= now) {
      const i = w.head;
      w.head = (w.head + 1) % w.bufs.length;
      w.count--;
      if (w.to !== null) w.to.cable_rx(w.bufs[i]!, 0, w.lens[i]!);
    }
    if (w.count > 0) w.arrival.at(w.times[w.head]!);
  }
}

export class Cable {
  readonly rate: number;
  readonly delay: number;
  loss: number;
  readonly name: string;
  readonly random: Random;
  private a: CablePort | null = null;
  private b: CablePort | null = null;
  /** a -> b and b -> a */
  private readonly ab: Wire;
  private readonly ba: Wire;

  constructor(
    readonly world: World,
    opts: CableOptions = {},
  ) {
    this.rate = opts.rate ?? 1e9;
    this.delay = opts.delay ?? 500;
    this.loss = opts.loss ?? 0;
    this.name = opts.name ?? 'cable';
    if (!(this.rate > 0)) throw new RangeError('cable rate must be positive');
    if (!(this.delay >= 0)) throw new RangeError('cable delay must not be negative');
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
  transmit(from: CablePort, buf: Uint8Array, off: number, len: number): number {
    const w = this.wire(from);
    const t = this.txtime(len);
    const now = this.world.now;
    w.busyUntil = now + t;
    w.frames++;
    w.bytes += len;
    if (this.loss > 0 && this.random.chance(this.loss)) {
      w.lost++;
    } else if (w.to !== null) {
      // The last bit arrives a propagation delay after it left (less the IFG).
      const frame = (len < ETHER_MIN_LEN_NOCRC ? ETHER_MIN_LEN_NOCRC : len) + ETHER_CRC_LEN;
      const last = Math.ceil(((frame + ETHER_PREAMBLE) * 8 * 1e9) / this.rate);
      w.put(buf, off, len, now + last + this.delay);
    }
    return t;
  }

  /** Frames sent, bytes sent and frames lost in the direction from `from`. */
  stats(from: CablePort): { frames: number; bytes: number; lost: number } {
    const w = this.wire(from);
    return { frames: w.frames, bytes: w.bytes, lost: w.lost };
  }

  private wire(from: CablePort): Wire {
    if (from === this.a) return this.ab;
    if (from === this.b) return this.ba;
    throw new Error(`${this.name}: port is not plugged into this cable`);
  }
}
