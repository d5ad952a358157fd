import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../../src/sys/kern/random.js';

test('xoshiro128** reference outputs from state {1, 2, 3, 4}', () => {
  // First outputs of the reference C implementation (prng.di.unimi.it).
  const r = new Random([1, 2, 3, 4]);
  const out = Array.from({ length: 6 }, () => r.arc4random());
  assert.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test('same seed, same stream; different seeds differ', () => {
  const a = new Random(12345);
  const b = new Random(12345);
  const c = new Random(12346);
  const xa = Array.from({ length: 100 }, () => a.arc4random());
  const xb = Array.from({ length: 100 }, () => b.arc4random());
  const xc = Array.from({ length: 100 }, () => c.arc4random());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  // Seeds past 2^32 use the high bits too.
  assert.notEqual(new Random(1).arc4random(), new Random(1 + 2 ** 32).arc4random());
  assert.throws(() => new Random(-1), RangeError);
  assert.throws(() => new Random(1.5), RangeError);
});

test('a snapshot of the stream, so the seeding never changes silently', () => {
  const r = new Random(0);
  const got = Array.from({ length: 4 }, () => r.arc4random());
  const again = new Random(0);
  assert.deepEqual(got, Array.from({ length: 4 }, () => again.arc4random()));
  assert.deepEqual(got, SNAPSHOT_SEED0);
});
// Recorded from this implementation; a change here changes every lab's replay.
const SNAPSHOT_SEED0 = [1528096717, 1151654066, 2925676898, 1343632550];

test('fork depends on the seed and the label only', () => {
  const root1 = new Random(99);
  const root2 = new Random(99);
  for (let i = 0; i < 37; i++) root2.arc4random(); // use the parent: forks must not change
  const f1 = root1.fork('machine:router');
  const f2 = root2.fork('machine:router');
  assert.deepEqual(
    Array.from({ length: 20 }, () => f1.arc4random()),
    Array.from({ length: 20 }, () => f2.arc4random()),
  );
  // Forking another machine first does not change this one.
  const root3 = new Random(99);
  root3.fork('machine:extra').arc4random();
  const f3 = root3.fork('machine:router');
  const f4 = new Random(99).fork('machine:router');
  assert.equal(f3.arc4random(), f4.arc4random());
  // Different labels and the parent are different streams.
  const p = new Random(99);
  const a = p.fork('a');
  const b = p.fork('b');
  const sa = Array.from({ length: 10 }, () => a.arc4random());
  const sb = Array.from({ length: 10 }, () => b.arc4random());
  const sp = Array.from({ length: 10 }, () => p.arc4random());
  assert.notDeepEqual(sa, sb);
  assert.notDeepEqual(sa, sp);
  // Forks of forks.
  assert.equal(new Random(5).fork('x').fork('y').arc4random(), new Random(5).fork('x').fork('y').arc4random());
});

test('uniform ranges stay in range and are roughly uniform', () => {
  const r = new Random(2024);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 100000; i++) {
    const v = r.arc4random_uniform(10);
    assert.ok(v >= 0 && v < 10);
    counts[v]!++;
  }
  for (const c of counts) assert.ok(c > 9500 && c < 10500, `bucket ${c}`);
  assert.equal(r.arc4random_uniform(0), 0);
  assert.equal(r.arc4random_uniform(1), 0);
  for (let i = 0; i < 1000; i++) {
    const v = r.range(49152, 65535);
    assert.ok(v >= 49152 && v <= 65535);
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    const big = r.arc4random_uniform(2 ** 32 - 1);
    assert.ok(big >= 0 && big < 2 ** 32 - 1);
  }
  assert.equal(r.chance(0), false);
  assert.equal(r.chance(1), true);
  let hits = 0;
  for (let i = 0; i < 10000; i++) if (r.chance(0.25)) hits++;
  assert.ok(hits > 2300 && hits < 2700, `hits ${hits}`);
});

test('arc4random_buf fills every byte and state can be saved and restored', () => {
  const r = new Random(3);
  const s = r.state();
  const buf = new Uint8Array(11);
  r.arc4random_buf(buf, 1, 9);
  assert.equal(buf[0], 0);
  assert.equal(buf[10], 0);
  r.setState(s);
  const again = new Uint8Array(11);
  r.arc4random_buf(again, 1, 9);
  assert.deepEqual(buf, again);
  assert.ok(buf.subarray(1, 10).some((b) => b !== 0));
});
