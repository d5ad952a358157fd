import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, frame } from './helpers.js';
import { if_enqueue, if_getflags, IFF_OACTIVE, if_setflags_up } from '../../../src/sys/net/if.js';
import { bpf_listen, BPF_DIRECTION_IN, BPF_DIRECTION_OUT } from '../../../src/sys/net/bpf.js';
import { ifconfig } from '../../../src/sbin/ifconfig/ifconfig.js';
import { kstat } from '../../../src/usr.bin/kstat/kstat.js';
import { StringOutput } from '../../../src/lib/io.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';

function run(tool: typeof ifconfig, k: Kernel, argv: string[]): string {
  const out = new StringOutput();
  const err = new StringOutput();
  tool(k, argv, { stdout: out, stderr: err });
  return out.text() + err.text();
}

test('em: one frame crosses the cable after serialization plus propagation delay', () => {
  const p = pair('em', { delay: 500 });
  const times: number[] = [];
  p.nb.ifp.if_input = (_i, m) => {
    times.push(p.world.now);
    m.free();
  };
  assert.equal(if_enqueue(p.na.ifp, frame(p.a, 1514)), 0);
  p.world.runUntilIdle();
  // (1514 + FCS 4 + preamble 8) * 8 bits at 1 Gbit/s, then 500 ns on the cable.
  assert.deepEqual(times, [(1514 + 4 + 8) * 8 + 500]);
  assert.equal(p.cable.txtime(1514), (1514 + 4 + 8 + 12) * 8);
  assert.equal(p.cable.txtime(42), (60 + 4 + 8 + 12) * 8, 'short frames are padded to 60 bytes');
  assert.equal(p.na.txr[0]!.used, 0, 'the interrupt reclaimed the slot');
  assert.equal(p.a.mbufs.inUse, p.na.rxr[0]!.n, 'only the posted receive buffers remain');
});

test('em: a burst above the line rate fills the ring (OACTIVE) and the queue (qdrops)', () => {
  const p = pair('em');
  const ifp = p.na.ifp;
  let enobufs = 0;
  for (let i = 0; i < 2000; i++) if (if_enqueue(ifp, frame(p.a, 1514)) !== 0) enobufs++;
  const ring = p.na.txr[0]!;
  // 512 descriptors, the start routine stops when 65 or fewer are free.
  assert.equal(ring.used, 512 - 65);
  assert.equal(ifp.if_snd.ifq_len, 511);
  assert.equal(enobufs, 2000 - 447 - 511);
  assert.equal(ifp.if_snd.ifq_qdrops, enobufs);
  assert.equal(ifp.if_snd.ifq_oactive, true);
  assert.ok(if_getflags(ifp) & IFF_OACTIVE);
  const shown = run(ifconfig, p.a, ['em0']);
  assert.match(shown, /^em0: flags=8c43<UP,BROADCAST,RUNNING,OACTIVE,SIMPLEX,MULTICAST> mtu 1500\n/);
  const ks = run(kstat, p.a, ['em0:0:txq:0']);
  assert.equal(
    ks,
    'em0:0:txq:0\n' +
      '         packets: 958 packets\n' +
      '           bytes: 1450412 bytes\n' +
      '          qdrops: 1042 packets\n' +
      '          errors: 0 packets\n' +
      '            qlen: 511 packets\n' +
      '         maxqlen: 511 packets\n' +
      '         oactive: true\n' +
      '        oactives: 1\n',
  );
  p.world.runUntilIdle();
  assert.equal(p.received.length, 958, 'every accepted packet arrives');
  assert.equal(ifp.if_snd.ifq_oactive, false);
  assert.ok(ifp.if_snd.ifq_oactives > 1, 'OACTIVE was set again while the queue drained');
  assert.doesNotMatch(run(ifconfig, p.a, ['em0']), /OACTIVE/);
  // 958 full frames back to back at 1 Gbit/s, within interrupt moderation.
  const wire = 958 * p.cable.txtime(1514);
  assert.ok(p.world.now >= wire && p.world.now < wire + 1_000_000, `took ${p.world.now} ns`);
});

test('em: bpf sees OUT at the start routine and IN at ifiq_input, with virtual timestamps', () => {
  const p = pair('em');
  const out: Array<[number, number]> = [];
  const inn: Array<[number, number]> = [];
  bpf_listen(p.na.ifp, (_b, _o, _c, wirelen, ts, dir) => {
    assert.equal(dir, BPF_DIRECTION_OUT);
    out.push([wirelen, ts]);
  });
  bpf_listen(p.nb.ifp, (_b, _o, _c, wirelen, ts, dir) => {
    assert.equal(dir, BPF_DIRECTION_IN);
    inn.push([wirelen, ts]);
  });
  for (let i = 0; i < 3; i++) if_enqueue(p.na.ifp, frame(p.a, 100 + i));
  p.world.runUntilIdle();
  assert.deepEqual(
    out.map((o) => o[0]),
    [100, 101, 102],
  );
  assert.ok(out.every((o) => o[1] === 0), 'tapped at start, in the same instant');
  assert.deepEqual(
    inn.map((o) => o[0]),
    [100, 101, 102],
  );
  assert.ok(inn[0]![1] > 0);
  assert.deepEqual(p.received, [100, 101, 102]);
});

test('em: a full receive ring misses frames (ierrors); link down purges; loss is seeded', () => {
  const p = pair('em', {}, 7);
  // Receiver slow to take interrupts: at most one per 10 ms.
  (p.nb as unknown as { itr: number }).itr = 10_000_000;
  for (let i = 0; i < 600; i++) if_enqueue(p.na.ifp, frame(p.a, 60));
  p.world.runUntilIdle();
  const rx = p.nb.rxr[0]!;
  assert.ok(rx.missed > 0, 'the 256-slot ring overflowed');
  assert.equal(p.nb.ifp.if_ierrors, rx.missed);
  assert.equal(p.received.length + rx.missed, 600);

  const lossy = (seed: number): number => {
    const q = pair('em', { loss: 0.1 }, seed);
    for (let i = 0; i < 400; i++) if_enqueue(q.na.ifp, frame(q.a, 60));
    q.world.runUntilIdle();
    return q.received.length;
  };
  const a = lossy(3);
  assert.equal(lossy(3), a, 'same seed, same losses');
  assert.ok(a < 400 && a > 300, `${a} of 400 with 10% loss`);

  const r = pair('em');
  r.cable.disconnect();
  assert.match(run(ifconfig, r.a, ['em0']), /media: Ethernet autoselect \(none\)\n\tstatus: no carrier\n/);
  for (let i = 0; i < 20; i++) if_enqueue(r.na.ifp, frame(r.a, 60));
  r.world.runUntilIdle();
  assert.equal(r.na.ifp.if_snd.ifq_len, 0, 'em_start purges without link');
  if_setflags_up(r.na.ifp, false);
  assert.equal(r.a.mbufs.inUse, 0, 'em_stop freed the rings');
});

test('em: steady forwarding-like traffic allocates no new buffers', () => {
  const p = pair('em');
  const send = (n: number): void => {
    for (let i = 0; i < n; i++) if_enqueue(p.na.ifp, frame(p.a, 1000));
    p.world.runUntilIdle();
  };
  send(300);
  const a = p.a.mbufs.allocated;
  const b = p.b.mbufs.allocated;
  send(300);
  send(300);
  assert.equal(p.a.mbufs.allocated, a);
  assert.equal(p.b.mbufs.allocated, b);
  assert.equal(p.received.length, 900);
});

test('em traced: a frame from an untraced sender records em_intr and its ifiq_input events together; frames of one journey keep their order', () => {
  // b traces, a does not: every frame starts a journey of its own on b.
  const p = pair('em');
  const t = new Tracer();
  p.b.setTracer(t);
  for (let i = 0; i < 3; i++) if_enqueue(p.na.ifp, frame(p.a, 100 + i));
  p.world.runUntilIdle();
  const rx = ['em_intr', 'ifiq_input', 'bpf_mtap_ether', 'if_input_process'];
  const evs = t.events.filter((e) => e.host === 'b');
  assert.deepEqual([...new Set(evs.map((e) => e.journey))], [1, 2, 3]);
  for (const j of [1, 2, 3]) assert.deepEqual(evs.filter((e) => e.journey === j).map((e) => e.name), rx);
  assert.equal(evs[0]!.detail, 'rxq 0: em_rxeof takes the frame off the receive ring');
  assert.equal(evs[1]!.detail, 'rxq 0');
  assert.equal(evs[2]!.detail, 'IN');
  // Both trace, and the three frames are one journey (as a TSO segment's): on b, the
  // interrupt that takes several of them records all their em_intr events first.
  const q = pair('em');
  const u = new Tracer();
  q.a.setTracer(u);
  q.b.setTracer(u);
  const j = u.journey('one journey, three frames');
  for (let i = 0; i < 3; i++) {
    const m = frame(q.a, 100 + i);
    m.trace = j;
    if_enqueue(q.na.ifp, m);
  }
  q.world.runUntilIdle();
  const onB = u.events.filter((e) => e.host === 'b' && e.journey === j.id).map((e) => e.name);
  assert.deepEqual(onB, [
    'em_intr', 'ifiq_input', 'bpf_mtap_ether', 'if_input_process',
    'em_intr', 'em_intr', 'ifiq_input', 'bpf_mtap_ether', 'ifiq_input', 'bpf_mtap_ether', 'if_input_process', 'if_input_process',
  ]);
});
