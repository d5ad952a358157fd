import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { TICK_NSEC, Timeout, timeout_add_msec, timeout_del, timeout_pending } from '../../../src/sys/kern/kern_timeout.js';
import { Task, TaskQueue } from '../../../src/sys/kern/kern_task.js';
import type { Random } from '../../../src/sys/kern/random.js';

test('events run in time order, equal times in arming order', () => {
  const w = new World();
  const log: string[] = [];
  w.at(300, () => log.push('c300'));
  w.at(100, () => log.push('a100'));
  w.at(200, () => log.push('b200'));
  w.at(100, () => log.push('d100'));
  w.at(100, () => log.push('e100'));
  assert.equal(w.pendingEvents, 5);
  assert.equal(w.nextEventTime(), 100);
  assert.equal(w.runUntil(150), 3);
  assert.deepEqual(log, ['a100', 'd100', 'e100']);
  assert.equal(w.now, 150);
  assert.equal(w.runUntilIdle(), 2);
  assert.deepEqual(log, ['a100', 'd100', 'e100', 'b200', 'c300']);
  assert.equal(w.now, 300);
  assert.ok(w.idle);
  assert.equal(w.step(), false);
});

test('the past means now; events scheduled while running join the order', () => {
  const w = new World({ start: 1000 });
  const log: string[] = [];
  w.at(5, () => {
    log.push(`first@${w.now}`);
    w.after(0, () => log.push(`nested@${w.now}`));
  });
  w.at(1000, () => log.push(`second@${w.now}`));
  w.runUntilIdle();
  assert.deepEqual(log, ['first@1000', 'second@1000', 'nested@1000']);
});

test('timeouts are re-armed and deleted without allocation, with OpenBSD return values', () => {
  const w = new World();
  let fired = 0;
  const to = new Timeout(w, (n: number) => (fired += n), 1);
  assert.equal(to.pending, false);
  assert.equal(to.after(500), true); // newly added
  assert.equal(to.after(800), false); // re-armed
  assert.equal(w.pendingEvents, 1);
  assert.equal(to.when, 800);
  w.runUntil(600);
  assert.equal(fired, 0);
  assert.equal(to.del(), true);
  assert.equal(to.del(), false);
  assert.equal(timeout_pending(to), false);
  w.runUntil(1000);
  assert.equal(fired, 0);
  to.after(10);
  w.runUntilIdle();
  assert.equal(fired, 1);
  assert.equal(to.pending, false);
  // A timeout may re-arm itself from its own callback.
  let count = 0;
  const periodic: Timeout<null> = w.timeout(() => {
    if (++count < 5) periodic.after(100);
  }, null);
  periodic.after(100);
  w.runUntilIdle();
  assert.equal(count, 5);
  assert.equal(w.now, 1010 + 500);
});

test('re-arming earlier and later and deleting in the middle keep the heap ordered', () => {
  const w = new World({ seed: 7 });
  const r = w.random;
  const fired: number[] = [];
  const tos = Array.from({ length: 200 }, (_, i) => w.timeout((k: number) => fired.push(k), i));
  const expect = new Map<number, number>();
  for (let round = 0; round < 2000; round++) {
    const to = tos[r.arc4random_uniform(tos.length)]!;
    if (r.chance(0.2)) {
      to.del();
      expect.delete(to.arg);
    } else {
      const t = r.arc4random_uniform(100000);
      to.at(t);
      expect.set(to.arg, t);
    }
  }
  assert.equal(w.pendingEvents, expect.size);
  const times: number[] = [];
  while (w.step()) times.push(w.now);
  assert.equal(fired.length, expect.size);
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! <= times[i]!);
  for (let i = 0; i < fired.length; i++) assert.equal(expect.get(fired[i]!), times[i]);
});

test('timeout_add_* follow kern_timeout.c: whole ticks, plus one', () => {
  const w = new World({ start: 3 * TICK_NSEC + 1234 });
  const to = w.timeout(() => {}, null);
  to.add(0); // next tick
  assert.equal(to.when, 4 * TICK_NSEC);
  to.add(2);
  assert.equal(to.when, 5 * TICK_NSEC);
  timeout_add_msec(to, 10); // 1 tick + 1
  assert.equal(to.when, 5 * TICK_NSEC);
  to.addMsec(11); // 2 ticks + 1
  assert.equal(to.when, 6 * TICK_NSEC);
  to.addSec(1); // 100 ticks + 1
  assert.equal(to.when, 104 * TICK_NSEC);
  to.addUsec(1);
  assert.equal(to.when, 5 * TICK_NSEC);
  to.addNsec(0);
  assert.equal(to.when, 4 * TICK_NSEC);
  assert.equal(w.ticks, 3);
  assert.equal(timeout_del(to), true);
});

test('task queues run FIFO, once per add, and a self-adding task does not starve others', () => {
  const w = new World();
  const tq = new TaskQueue(w, 'softnet0');
  const log: string[] = [];
  const a = new Task((s: string) => log.push(s), 'a');
  const b = new Task((s: string) => log.push(s), 'b');
  const c = new Task((s: string) => log.push(s), 'c');
  assert.equal(tq.add(a), true);
  assert.equal(tq.add(b), true);
  assert.equal(tq.add(a), false); // already queued
  assert.equal(tq.add(c), true);
  assert.equal(tq.del(b), true);
  assert.equal(tq.del(b), false);
  assert.equal(tq.length, 2);
  w.runUntilIdle();
  assert.deepEqual(log, ['a', 'c']);
  assert.equal(a.pending, false);

  log.length = 0;
  let spins = 0;
  const spinner: Task<null> = new Task(() => {
    log.push('spin');
    if (++spins < 3) tq.add(spinner);
  }, null);
  tq.add(spinner);
  w.after(0, () => log.push('other'));
  w.runUntilIdle();
  assert.deepEqual(log, ['spin', 'other', 'spin', 'spin']);
});

test('task queue latency delays the run', () => {
  const w = new World();
  const tq = new TaskQueue(w, 'softnet1', 2500);
  let at = -1;
  tq.add(new Task(() => (at = w.now), null));
  w.runUntilIdle();
  assert.equal(at, 2500);
});

/** A little lab: machines with forked random streams exchanging timed messages. */
function scenario(seed: number, machines: readonly string[]): Map<string, string[]> {
  const w = new World({ seed });
  const traces = new Map<string, string[]>();
  const rngs = new Map<string, Random>();
  for (const m of machines) {
    traces.set(m, []);
    rngs.set(m, w.random.fork(`machine:${m}`));
  }
  for (const m of machines) {
    const rng = rngs.get(m)!;
    const trace = traces.get(m)!;
    const tq = new TaskQueue(w, `${m}:softnet`);
    let n = 0;
    const task = new Task(() => trace.push(`task ${w.now} ${rng.arc4random()}`), null);
    const to: Timeout<null> = w.timeout(() => {
      trace.push(`timer ${w.now} ${rng.arc4random_uniform(1000)}`);
      if (rng.chance(0.5)) tq.add(task);
      if (++n < 50) to.after(rng.arc4random_uniform(3) * 1000);
    }, null);
    to.after(rng.arc4random_uniform(5000));
  }
  w.runUntilIdle();
  return traces;
}

test('same seed and inputs give the same run; another seed does not', () => {
  const a = scenario(42, ['r1', 'h1', 'h2']);
  const b = scenario(42, ['r1', 'h1', 'h2']);
  assert.deepEqual(a, b);
  const c = scenario(43, ['r1', 'h1', 'h2']);
  assert.notDeepEqual(a.get('r1'), c.get('r1'));
});

test('adding a machine does not perturb the others', () => {
  const a = scenario(42, ['r1', 'h1']);
  const b = scenario(42, ['r1', 'h1', 'extra']);
  assert.deepEqual(a.get('r1'), b.get('r1'));
  assert.deepEqual(a.get('h1'), b.get('h1'));
});

test('realtime mode paces events by the wall clock', async () => {
  const w = new World({ mode: 'realtime' });
  const log: string[] = [];
  const t0 = performance.now();
  w.after(20e6, () => log.push('b'));
  w.after(5e6, () => log.push('a'));
  assert.throws(() => new World().start(), /not a realtime world/);
  w.start();
  assert.throws(() => w.runUntil(1), /realtime world is running/);
  await new Promise<void>((resolve) => {
    w.after(30e6, () => {
      log.push('c');
      resolve();
    });
  });
  const elapsed = performance.now() - t0;
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.ok(elapsed >= 29, `elapsed ${elapsed} ms`);
  assert.ok(w.now >= 30e6);
  // An event armed from outside while idle wakes the world.
  const before = w.now;
  await new Promise<void>((resolve) => setTimeout(resolve, 5));
  w.syncNow();
  assert.ok(w.now > before);
  await new Promise<void>((resolve) => w.after(1e6, resolve));
  w.stop();
  assert.equal(w.isRunning, false);
  // Stopped: events wait.
  let late = false;
  w.after(1, () => (late = true));
  await new Promise<void>((resolve) => setTimeout(resolve, 10));
  assert.equal(late, false);
});

test('realtime errors stop the world and reach onerror', async () => {
  const w = new World({ mode: 'realtime' });
  const err = new Promise<unknown>((resolve) => (w.onerror = resolve));
  w.after(1e6, () => {
    throw new Error('boom');
  });
  w.start();
  const e = await err;
  assert.match(String(e), /boom/);
  assert.equal(w.isRunning, false);
});
