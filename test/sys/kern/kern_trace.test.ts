import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { Tracer, traceEvent, traceSegment, traceWords, type TraceCode } from '../../../src/sys/kern/kern_trace.js';
import { ips_cantforward, ips_total } from '../../../src/sys/kern/counters.gen.js';

test('a traced packet records functions, branches and the counters bumped while it is processed', () => {
  const w = new World({ seed: 1 });
  const k = new Kernel(w, { hostname: 'router' });
  const t = new Tracer();
  k.setTracer(t);
  const m = k.mbufs.get(64)!;
  t.fn(k, m, 'ip_input', 'em0');
  k.stats.ipstat.inc(ips_total);
  t.branch(k, m, 'ip_forward: forwarding disabled', 'drop');
  k.stats.ipstat.inc(ips_cantforward);
  const reply = k.mbufs.get(64)!;
  t.caused(reply, 'icmp_error');
  t.fn(k, reply, 'ip_output');
  assert.deepEqual(
    t.events.map((e) => [e.journey, e.kind, e.name]),
    [
      [1, 'fn', 'ip_input'],
      [1, 'counter', 'ips_total'],
      [1, 'branch', 'ip_forward: forwarding disabled'],
      [1, 'counter', 'ips_cantforward'],
      [2, 'fn', 'ip_output'],
    ],
  );
  assert.equal(t.journeys[1]!.parent, t.journeys[0]);
  k.setTracer(null);
  k.stats.ipstat.inc(ips_total);
  assert.equal(t.events.length, 5, 'nothing is recorded once the tracer is detached');
  m.free();
  reply.free();
});

test('a counter in a segment reads as the counter its block records; bump() records nothing of its own', () => {
  const fn = traceEvent('fn', 'test_input', 'q %d');
  const seg = traceSegment(fn, traceEvent('counter', 'ips_total'));
  assert.throws(() => traceEvent('counter', 'ips_%d'), /a name alone/);
  assert.throws(() => traceEvent('counter', 'ips_total', 'detail'), /a name alone/);
  const w = new World({ seed: 1 });
  const k = new Kernel(w, { hostname: 'router' });
  const t = new Tracer();
  k.setTracer(t);
  const m = k.mbufs.get(64)!;
  t.ev1(k, m, seg, 3);
  k.stats.ipstat.bump(ips_total);
  k.stats.ipstat.inc(ips_total);
  assert.deepEqual(
    t.events.map((e) => [e.journey, e.kind, e.name, e.ifname, e.detail]),
    [
      [1, 'fn', 'test_input', '', 'q 3'],
      [1, 'counter', 'ips_total', '', ''],
      [1, 'counter', 'ips_total', '', ''],
    ],
  );
  assert.equal(k.stats.ipstat.get(ips_total), 2);
  m.free();
});

test('cont5 continues the record evi4c made when nothing came between; else it records its own: the same events', () => {
  const a = traceEvent('fn', 'test_resolve', '%a');
  const b = traceEvent('branch', 'test: %a is-at %m');
  const c = traceEvent('bytes', 'test: header %m > %m, type 0x%x');
  const prev = traceSegment(a, b);
  const both = traceSegment(a, b, c);
  const w = new World({ seed: 1 });
  const k = new Kernel(w, { hostname: 'router' });
  const ifp = { if_xname: 'em1' };
  const run = (between: boolean): { names: string[]; words: number } => {
    const t = new Tracer();
    k.setTracer(t);
    const m = k.mbufs.get(64)!;
    t.of(m);
    t.evi4c(k, m, prev, ifp, 0xc0000201, 0xc0000201, 0x0200, 0x5e000001);
    if (between) t.branch(k, m, 'test: between');
    t.cont5(k, m, prev, both, c, 0x0200, 0x5e000002, 0x0200, 0x5e000001, 0x800);
    const names = t.events.map((e) => `${e.kind} ${e.name} ${e.ifname} ${e.detail}`);
    const words = (t as unknown as { pos: number }).pos;
    m.free();
    return { names, words };
  };
  const one = run(false);
  const two = run(true);
  const want = [
    'fn test_resolve em1 192.0.2.1',
    'branch test: 192.0.2.1 is-at 02:00:5e:00:00:01  ',
    'bytes test: header 02:00:5e:00:00:02 > 02:00:5e:00:00:01, type 0x0800  ',
  ];
  assert.deepEqual(one.names, want);
  assert.deepEqual(two.names, [...want.slice(0, 2), 'branch test: between  ', want[2]]);
  // Continued: the context and interface records, then code and nine words.
  assert.equal(one.words, 3 + 10);
  k.setTracer(null);
});

test('an interned event takes as many argument words as its formats read, checked when compiling', () => {
  const ttl = traceEvent('bytes', 'test: ttl %d → %d');
  const arp = traceEvent('branch', 'test: %a is-at %m');
  const fn = traceEvent('fn', 'test_fn', 'q %d');
  const seg = traceSegment(fn, traceEvent('tap', 'test_tap', 'OUT'));
  const esc = traceEvent('bytes', 'test: 100%% of %x');
  const two: TraceCode<2> = ttl;
  const three: TraceCode<3> = arp;
  const one: TraceCode<1> = seg;
  const escOne: TraceCode<1> = esc;
  assert.deepEqual([two, three, one, escOne].map(traceWords), [2, 3, 1, 1]);
  const w = new World({ seed: 1 });
  const k = new Kernel(w, { hostname: 'router' });
  const t = new Tracer();
  k.setTracer(t);
  const m = k.mbufs.get(64)!;
  t.ev2(k, m, ttl, 64, 63);
  t.ev3(k, m, arp, 0xc0000201, 0x0200, 0x5e000001);
  t.ev1(k, m, esc, 0xbeef);
  assert.deepEqual(
    t.events.map((e) => e.name),
    ['test: ttl 64 → 63', 'test: 192.0.2.1 is-at 02:00:5e:00:00:01', 'test: 100% of beef'],
  );
  m.free();
  // Wrong numbers of words do not compile (tsc checks these lines; never run).
  const wrong = (): void => {
    // @ts-expect-error two words for an event of two placeholders, not one
    t.ev1(k, null, ttl, 1);
    // @ts-expect-error a MAC address is two words: three in all
    t.ev2(k, null, arp, 1, 2);
    // @ts-expect-error a segment takes its events' words: one
    t.evi(k, null, seg, { if_xname: 'em0' });
    // @ts-expect-error a plain number is no event code
    t.ev(k, null, 17);
  };
  void wrong;
});

test('a segment of four or five words near the limit records what its events one by one would', () => {
  const fn = traceEvent('fn', 'test_seg_fn', '%a');
  const arp = traceEvent('branch', 'test_seg: %a is-at %m');
  const sum = traceEvent('bytes', 'test_seg: sum 0x%x → 0x%x');
  const fn2 = traceEvent('fn', 'test_seg_fn2', 'q %d');
  const four = traceSegment(fn, sum, fn2);
  const five = traceSegment(arp, sum);
  const ifp = { if_xname: 'em0' };
  const run = (limit: number, segments: boolean): string[] => {
    const w = new World({ seed: 1 });
    const k = new Kernel(w, { hostname: 'router' });
    const t = new Tracer();
    t.limit = limit;
    k.setTracer(t);
    const m = k.mbufs.get(64)!;
    for (let i = 0; i < 3; i++) {
      if (segments) {
        t.evi4(k, m, four, ifp, 0xc0000201 + i, 0x1111 + i, 0x2222, 7 + i);
        t.ev5(k, m, five, 0xc0000202, 0x0200, 0x5e000002 + i, 0x1234 + i, 0x4321);
      } else {
        t.evi1(k, m, fn, ifp, 0xc0000201 + i);
        t.ev2(k, m, sum, 0x1111 + i, 0x2222);
        t.evi1(k, m, fn2, ifp, 7 + i);
        t.ev3(k, m, arp, 0xc0000202, 0x0200, 0x5e000002 + i);
        t.ev2(k, m, sum, 0x1234 + i, 0x4321);
      }
    }
    m.free();
    return [...t.events.map((e) => `${e.kind} ${e.ifname} ${e.name} ${e.detail}`), `lost ${t.lost}`];
  };
  const all = run(1_000_000, true);
  assert.equal(all.length, 16);
  assert.deepEqual(all.slice(0, 5), [
    'fn em0 test_seg_fn 192.0.2.1',
    'bytes  test_seg: sum 0x1111 → 0x2222 ',
    'fn em0 test_seg_fn2 q 7',
    'branch  test_seg: 192.0.2.2 is-at 02:00:5e:00:00:02 ',
    'bytes  test_seg: sum 0x1234 → 0x4321 ',
  ]);
  assert.deepEqual(all, run(1_000_000, false));
  // Across the limit a segment's events are recorded one by one, as far as they fit.
  for (let limit = 1; limit <= 18; limit++) assert.deepEqual(run(limit, true), run(limit, false), `limit ${limit}`);
});
