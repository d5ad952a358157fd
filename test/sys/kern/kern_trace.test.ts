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
