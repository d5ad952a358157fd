/**
 * How a tool waits for the world: one mechanism for every waiting tool
 * (ping, ping6, tcpdump, pktgen, trace, nc, tcpbench, sleep).
 *
 * A tool arms its timeouts and listeners, then waits for a Completion: a
 * one-shot flag its own events (the last reply, the end timer, a count
 * reached) or an interrupt (an AbortSignal: Ctrl-C) finish.  What waiting
 * means depends on the world, not on the tool:
 *
 * - simulated: run events until the completion is done (virtual time jumps
 *   from event to event; deterministic), yielding to programs whose waits
 *   were resolved, as runWorld() does;
 * - realtime (a lab attached to the host, the interactive shell): the
 *   world advances by itself, paced by the wall clock; the tool awaits.
 *
 * Tools written as generators (ping, ping6) yield the completions they
 * wait for, so the same body runs synchronously in a simulated world
 * (runSync: the tool returns a number, as the many tests call it) and
 * asynchronously in either (runAsync).
 */
import type { World } from '../sys/kern/kern_clock.js';
import { worldWoken, worldTakeWoken } from './socket.js';

export class Completion {
  done = false;
  readonly promise: Promise<void>;
  private resolve: () => void = () => undefined;

  constructor(readonly world: World) {
    this.promise = new Promise<void>((r) => {
      this.resolve = r;
    });
  }

  /** Done (idempotent); the waiter wakes.  An arrow: usable as a timer callback. */
  readonly finish = (): void => {
    if (this.done) return;
    this.done = true;
    worldWoken(this.world);
    this.resolve();
  };

  /** Finish on signal's abort (Ctrl-C); returns the unsubscription. */
  abortOn(signal: AbortSignal | null | undefined): () => void {
    if (signal === null || signal === undefined) return () => undefined;
    if (signal.aborted) {
      this.finish();
      return () => undefined;
    }
    const f = this.finish;
    signal.addEventListener('abort', f, { once: true });
    return () => signal.removeEventListener('abort', f);
  }
}

/**
 * A completion ns of lab time from now (sleep).  In a running realtime
 * world the clock is brought up to the wall clock first, so the wait is
 * measured from now and not from the last event.
 */
export function worldSleep(w: World, ns: number): Completion {
  if (w.isRunning) w.syncNow();
  const c = new Completion(w);
  w.after(ns, c.finish);
  return c;
}

/** The world advances by itself (paced by the wall clock): waits are awaits. */
export function worldIsLive(w: World): boolean {
  return w.isRunning || w.mode === 'realtime';
}

/**
 * Wait synchronously (simulated worlds): run events until c is done;
 * false when nothing was left to happen first.
 */
export function waitSync(w: World, c: Completion): boolean {
  if (w.isRunning) throw new Error('waitSync: a realtime world cannot be waited for synchronously');
  while (!c.done) if (!w.step()) return false;
  return true;
}

export interface WaitOptions {
  /**
   * Simulated: when nothing is left to happen, or the limit is reached,
   * return false (default: throw, a deadlock).
   */
  idleOk?: boolean;
  /** Simulated: at most this much virtual time (default an hour). */
  limitNs?: number;
}

const yieldToPrograms = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Wait for c (a completion or any promise): in a simulated world, run
 * events until it is done, letting woken programs run between events; in a
 * realtime world, await it.  True when done; false when the simulated
 * world ran out of events first (with idleOk).
 */
export async function waitFor(w: World, c: Completion | Promise<unknown>, opts: WaitOptions = {}): Promise<boolean> {
  let settled = false;
  const p = c instanceof Completion ? c.promise : c;
  const seen = (): void => {
    settled = true;
  };
  p.then(seen, seen);
  const done = c instanceof Completion ? (): boolean => c.done : (): boolean => settled;
  if (worldIsLive(w)) {
    await p;
    return true;
  }
  const end = w.now + (opts.limitNs ?? 3600e9);
  // The program that started this wait (nc, tcpbench) runs first, up to
  // its own first wait (its poll), before any event: stepping the world at
  // once would let its socket's first news (a refused connection, a timer)
  // pass while nobody waited, and nothing would wake it.
  await yieldToPrograms();
  while (!done()) {
    if (worldTakeWoken(w)) {
      await yieldToPrograms();
      continue;
    }
    if (w.idle) {
      await yieldToPrograms();
      if (done() || worldTakeWoken(w)) continue;
      if (opts.idleOk) return false;
      throw new Error('waitFor: deadlock: the tool waits and nothing is left to happen');
    }
    if ((w.nextEventTime() ?? Infinity) > end) {
      if (opts.idleOk) return false;
      throw new Error('waitFor: virtual time limit reached');
    }
    w.step();
  }
  // A promise settled: its value is nobody's here, its rejection is thrown.
  if (!(c instanceof Completion)) await p;
  return true;
}

/** A tool that waits: a generator yielding the completions it waits for. */
export type Waiting<T> = Generator<Completion, T, undefined>;

/** Run a waiting tool synchronously (simulated worlds). */
export function runSync<T>(w: World, g: Waiting<T>): T {
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    waitSync(w, r.value);
  }
}

/** Run a waiting tool in any world. */
export async function runAsync<T>(w: World, g: Waiting<T>): Promise<T> {
  if (w.isRunning) w.syncNow();
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    await waitFor(w, r.value, { idleOk: true });
  }
}

/**
 * Run a waiting tool as a background job: it only awaits its completions
 * and never runs the world itself; whoever runs the world (sleep, a
 * foreground command, the realtime clock) lets it go on.
 */
export async function runDetached<T>(w: World, g: Waiting<T>): Promise<T> {
  if (w.isRunning) w.syncNow();
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    await r.value.promise;
  }
}
