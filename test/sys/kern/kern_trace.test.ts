import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
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
