/**
 * The World: the one clock, event queue and root random source shared by
 * every machine of a lab (DESIGN.md section 5).  Timeouts, softnet task
 * queues, driver interrupts and cable deliveries are all Timeouts on this
 * queue: a binary heap ordered by (time, arming sequence), so events at the
 * same nanosecond run in the order they were armed and a run is a pure
 * function of the seed and the inputs.
 *
 * Two modes:
 * - simulated: nothing happens until runUntil()/runFor()/runUntilIdle()/
 *   step() is called; time jumps to the next event.
 * - realtime: start() paces the same queue by the wall clock (setTimeout),
 *   for attached real interfaces and the interactive shell; code that feeds
 *   input from outside calls syncNow() first.
 *
 * Time is a number of nanoseconds since the world began: exact up to 2^53 ns
 * (about 104 days).
 */
import { performance } from 'node:perf_hooks';
import { Random } from './random.js';
import { TICK_NSEC, Timeout, type QueueEntry } from './kern_timeout.js';
import type { Tracer } from './kern_trace.js';

export type ClockMode = 'simulated' | 'realtime';

export interface WorldOptions {
  /** Seed of the root random source (default 0). */
  seed?: number;
  mode?: ClockMode;
  /** Virtual time at creation, in ns (default 0). */
  start?: number;
}

export class World {
  /** Virtual time, ns. */
  now: number;
  /** Changed only through setMode(). */
  mode: ClockMode;
  /** The root random source; machines and cables take fork(name). */
  readonly random: Random;
  /** Events run so far. */
  events = 0;
  /** Called when an event throws in realtime mode (the world stops first). */
  onerror: ((e: unknown) => void) | undefined;
  /**
   * The journey tracer of the world's kernels while one records
   * (Kernel.setTracer): each event starts with no packet in hand, and a
   * timer remembers the journey that armed it.
   */
  trace: Tracer | null = null;

  private readonly heap: QueueEntry[] = [];
  private seq = 0;

  // realtime pacing
  private running = false;
  private pumping = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Events already due when armed run from setImmediate: setTimeout has 1 ms grain. */
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private wake = Infinity;
  private wallBase = 0;
  private virtBase = 0;

  constructor(opts: WorldOptions = {}) {
    this.now = opts.start ?? 0;
    this.mode = opts.mode ?? 'simulated';
    this.random = new Random(opts.seed ?? 0);
  }

  /** OpenBSD's `ticks`: hardclock ticks since the world began. */
  get ticks(): number {
    return Math.floor(this.now / TICK_NSEC);
  }

  /** getnsecuptime() */
  nsecuptime(): number {
    return this.now;
  }

  /** getuptime(): whole seconds. */
  uptime(): number {
    return Math.floor(this.now / 1e9);
  }

  /** A reusable timeout on this world (timeout_set()). */
  timeout<T>(fn: (arg: T) => void, arg: T): Timeout<T> {
    return new Timeout(this, fn, arg);
  }

  /** Run fn once at absolute time ns.  Allocates: for scripts and tests, not per packet. */
  at(ns: number, fn: () => void): Timeout<undefined> {
    const to = new Timeout<undefined>(this, fn, undefined);
    // A tool's or a test's one-shot: what it sends belongs to the command.
    to.name = '';
    to.at(ns);
    return to;
  }

  /** Run fn once, ns nanoseconds from now.  Allocates, as at(). */
  after(ns: number, fn: () => void): Timeout<undefined> {
    return this.at(this.now + ns, fn);
  }

  /** Events waiting. */
  get pendingEvents(): number {
    return this.heap.length;
  }

  get idle(): boolean {
    return this.heap.length === 0;
  }

  /** Time of the next event, or undefined when idle. */
  nextEventTime(): number | undefined {
    return this.heap.length ? this.heap[0]!.when : undefined;
  }

  /**
   * Arm (or re-arm) a timeout for absolute time `when` (clamped to now).
   * True when it was not pending.  Used by Timeout.
   */
  schedule(t: QueueEntry, when: number): boolean {
    if (t.world !== this) throw new Error('timeout belongs to another world');
    if (!(when >= this.now)) {
      if (Number.isNaN(when)) throw new RangeError('timeout time is NaN');
      when = this.now;
    }
    t.when = when;
    t.seq = this.seq++;
    if (this.trace !== null) t.armedBy = this.trace.armer();
    const heap = this.heap;
    let fresh: boolean;
    if (t.index < 0) {
      t.index = heap.length;
      heap.push(t);
      fresh = true;
    } else {
      // Re-armed: it now sorts after everything already armed for the
      // same time, so only a move towards the leaves or root is needed.
      this.down(t.index);
      fresh = false;
    }
    this.up(t.index);
    if (this.running && !this.pumping && when < this.wake) this.arm();
    return fresh;
  }

  /** Disarm; true when it was pending.  Used by Timeout. */
  unschedule(to: QueueEntry): boolean {
    const i = to.index;
    if (i < 0) return false;
    const heap = this.heap;
    const last = heap.pop()!;
    to.index = -1;
    if (last !== to) {
      heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    return true;
  }

  /** Run the next event, if any.  Time jumps to it. */
  step(): boolean {
    if (this.heap.length === 0) return false;
    this.fire(this.pop());
    return true;
  }

  /** Run every event due at or before t, then set the clock to t.  Returns events run. */
  runUntil(t: number): number {
    this.assertManual();
    return this.runTo(t);
  }

  /** runUntil(now + dt) */
  runFor(dt: number): number {
    return this.runUntil(this.now + dt);
  }

  /**
   * Run until no event is left, or `limit` events have run (periodic timers
   * keep a kernel busy forever).  The clock stays at the last event.
   */
  runUntilIdle(limit = 1_000_000): number {
    this.assertManual();
    let n = 0;
    while (n < limit && this.heap.length > 0) {
      this.fire(this.pop());
      n++;
    }
    return n;
  }

  // ---- realtime mode ----

  /**
   * Switch modes: real attachments (dev/vxlan, dev/tap) make their world
   * realtime while present and simulated again after.  Stops a running world.
   */
  setMode(mode: ClockMode): void {
    if (this.running) this.stop();
    this.mode = mode;
  }

  /** Start pacing by the wall clock (realtime mode only). */
  start(): void {
    if (this.mode !== 'realtime') throw new Error('World.start(): not a realtime world');
    if (this.running) return;
    this.running = true;
    this.wallBase = performance.now();
    this.virtBase = this.now;
    this.pump();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.wake = Infinity;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Bring virtual time up to the wall clock, running what fell due, before
   * injecting input from outside (a frame read from a TAP device).
   */
  syncNow(): void {
    if (!this.running) return;
    this.pumping = true;
    try {
      this.runTo(this.wallNow());
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  private wallNow(): number {
    return this.virtBase + Math.floor((performance.now() - this.wallBase) * 1e6);
  }

  private readonly pump = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.wake = Infinity;
    if (!this.running) return;
    this.pumping = true;
    try {
      this.runTo(this.wallNow());
    } catch (e) {
      this.pumping = false;
      this.stop();
      if (this.onerror) this.onerror(e);
      else throw e;
      return;
    }
    this.pumping = false;
    this.arm();
  };

  /** Set the wall-clock timer for the earliest event. */
  private arm(): void {
    if (!this.running || this.heap.length === 0) return;
    const next = this.heap[0]!.when;
    if (next >= this.wake && (this.timer !== undefined || this.immediate !== undefined)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.wake = next;
    const ms = (next - this.wallNow()) / 1e6;
    if (ms <= 0) this.immediate = setImmediate(this.pump);
    else this.timer = setTimeout(this.pump, ms);
  }

  private assertManual(): void {
    if (this.running) throw new Error('World: realtime world is running; it advances by itself');
  }

  // ---- the heap ----

  private runTo(t: number): number {
    let n = 0;
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.when <= t) {
      this.fire(this.pop());
      n++;
    }
    if (t > this.now) {
      this.now = t;
      // The tracer tells time by the world's events: this move is none.
      if (this.trace !== null) this.trace.stale();
    }
    return n;
  }

  private fire(to: QueueEntry): void {
    this.now = to.when;
    this.events++;
    const tr = this.trace;
    if (tr === null) {
      to.run();
      return;
    }
    tr.enter(to);
    to.run();
    tr.leave();
  }

  private pop(): QueueEntry {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    top.index = -1;
    if (last !== top) {
      heap[0] = last;
      last.index = 0;
      this.down(0);
    }
    return top;
  }

  private static before(a: QueueEntry, b: QueueEntry): boolean {
    return a.when < b.when || (a.when === b.when && a.seq < b.seq);
  }

  private up(i: number): void {
    const heap = this.heap;
    const x = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const y = heap[p]!;
      if (!World.before(x, y)) break;
      heap[i] = y;
      y.index = i;
      i = p;
    }
    heap[i] = x;
    x.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const x = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && World.before(heap[c + 1]!, heap[c]!)) c++;
      const y = heap[c]!;
      if (!World.before(y, x)) break;
      heap[i] = y;
      y.index = i;
      i = c;
    }
    heap[i] = x;
    x.index = i;
  }
}
