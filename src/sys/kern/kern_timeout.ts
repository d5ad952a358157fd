/**
 * timeout(9) on a World's virtual clock.  A Timeout is made once (as
 * timeout_set() fills a struct timeout) and re-armed and deleted as often as
 * needed with no allocation: it is its own entry in the world's event heap.
 *
 * Two kinds of deadlines:
 * - OpenBSD's tick semantics, for kernel timers (TCP, ARP/ND, pf, reassembly):
 *   add(ticks) fires at the hardclock tick `ticks` after the current one, and
 *   addSec/addMsec/addUsec/addNsec round up to ticks and add one more tick,
 *   as kern_timeout.c's timeout_add_ticks() does, so at least the requested
 *   time has elapsed.  HZ is 100 as on OpenBSD.
 * - exact nanoseconds, for what is not a kernel timer in OpenBSD (cable
 *   deliveries, NIC interrupts, serialisation delays): at() and after().
 *
 * Events due at the same nanosecond run in the order they were (re)armed.
 */
import type { World } from './kern_clock.js';

export const HZ = 100;
/** Nanoseconds per hardclock tick (tick_nsec). */
export const TICK_NSEC = 1_000_000_000 / HZ;
const INT_MAX = 2147483647;

/**
 * 0 ns as a double (-0 compares and adds as 0).  Fields that hold virtual
 * times start with it: times pass 2^31 ns 2.1 s into a run, and a field
 * V8 first saw holding small integers would change its representation
 * then, deoptimizing every function that reads it, mid-run.
 */
export const TIME_ZERO = -0;

/** What the world's heap holds: Timeouts, and anything else that can fire. */
export interface QueueEntry {
  readonly world: World;
  when: number;
  seq: number;
  index: number;
  /** What a journey started by this event is called (kern_trace.ts); '' when it is not a kernel timer. */
  name: string;
  /** While tracing: the journey being processed when it was last armed, the cause of what it sends. */
  armedBy: object | null;
  run(): void;
}

export class Timeout<T = unknown> implements QueueEntry {
  /** Absolute virtual time (ns) it fires at, when pending. */
  when = TIME_ZERO;
  /** Arming order, the tie-break between equal times. */
  seq = 0;
  /** Position in the world's heap; -1 when not pending. */
  index = -1;
  /**
   * Names the journeys of packets it sends (kern_trace.ts): the timer
   * function's name (`tcp_timer_rexmt`, `arptimer`); events that are no
   * kernel timers (interrupts, task queues, cable deliveries, one-shots of
   * tools) set ''.
   */
  name: string;
  armedBy: object | null = null;

  constructor(
    readonly world: World,
    public fn: (arg: T) => void,
    public arg: T,
  ) {
    this.name = fn.name;
  }

  run(): void {
    this.fn(this.arg);
  }

  /** timeout_pending() */
  get pending(): boolean {
    return this.index >= 0;
  }

  /**
   * timeout_add(): fire `ticks` hardclock ticks from the current tick
   * (0 means the next tick).  True when it was not pending, false when an
   * already pending timeout was re-armed (OpenBSD's 1 and 0).
   */
  add(ticks: number): boolean {
    const now = this.world.now;
    const t = Math.floor(now / TICK_NSEC);
    const n = ticks < 1 ? 1 : ticks > INT_MAX ? INT_MAX : Math.floor(ticks);
    return this.world.schedule(this, (t + n) * TICK_NSEC);
  }

  /** timeout_add_sec() */
  addSec(secs: number): boolean {
    return this.addTicks(HZ * secs);
  }

  /** timeout_add_msec() */
  addMsec(msecs: number): boolean {
    return this.addTicks(Math.ceil((msecs * 1_000_000) / TICK_NSEC));
  }

  /** timeout_add_usec() */
  addUsec(usecs: number): boolean {
    return this.addTicks(Math.ceil((usecs * 1000) / TICK_NSEC));
  }

  /** timeout_add_nsec() */
  addNsec(nsecs: number): boolean {
    return this.addTicks(Math.ceil(nsecs / TICK_NSEC));
  }

  private addTicks(ticks: number): boolean {
    return this.add(ticks >= INT_MAX ? INT_MAX : ticks + 1);
  }

  /** Fire at absolute virtual time `ns` exactly (the past means now). */
  at(ns: number): boolean {
    return this.world.schedule(this, ns);
  }

  /** Fire `ns` nanoseconds from now exactly. */
  after(ns: number): boolean {
    return this.world.schedule(this, this.world.now + ns);
  }

  /** timeout_del(): true when it was pending. */
  del(): boolean {
    return this.world.unschedule(this);
  }
}

// OpenBSD's function names, for code that reads like the C.

export function timeout_add<T>(to: Timeout<T>, ticks: number): boolean {
  return to.add(ticks);
}
export function timeout_add_sec<T>(to: Timeout<T>, secs: number): boolean {
  return to.addSec(secs);
}
export function timeout_add_msec<T>(to: Timeout<T>, msecs: number): boolean {
  return to.addMsec(msecs);
}
export function timeout_add_usec<T>(to: Timeout<T>, usecs: number): boolean {
  return to.addUsec(usecs);
}
export function timeout_add_nsec<T>(to: Timeout<T>, nsecs: number): boolean {
  return to.addNsec(nsecs);
}
export function timeout_del<T>(to: Timeout<T>): boolean {
  return to.del();
}
export function timeout_pending<T>(to: Timeout<T>): boolean {
  return to.pending;
}
