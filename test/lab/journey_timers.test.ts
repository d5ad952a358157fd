/**
 * Journeys and timers: a packet sent from a timer (a TCP retransmission)
 * is a journey of its own, named by the timer and linked to the journey
 * that armed it, not to whatever the tracer processed last; frames that
 * arrive with no journey start one; no hop renders with an empty path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../src/lab/lab.js';
import { LabTracer, journeyData, renderPaths, type TraceData } from '../../src/lab/journey.js';
import { Tracer } from '../../src/sys/kern/kern_trace.js';
import { sosend, soaccept_next } from '../../src/sys/kern/uipc_socket.js';
import { connect, listener, drain } from '../sys/netinet/tcp_lab.js';
import { ip } from '../sys/netinet/lab.js';

const YAML = `
name: two
seed: 3
machines:
  h1:
    nics:
      em0: { lladdr: "02:00:00:00:00:01", inet: 192.0.2.1/24 }
  h2:
    nics:
      em0: { lladdr: "02:00:00:00:00:02", inet: 192.0.2.2/24 }
cables:
  - { ends: [h1:em0, h2:em0], rate: 1G, delay: 50us }
`;

const S = 1e9;

/** h1 connected to h2:7 (ARP resolved, handshake over), h2 reading. */
function connected(): { lab: Lab; so: ReturnType<typeof connect>; got: () => number } {
  const lab = Lab.fromYaml(YAML, 'two.yaml');
  const h1 = lab.machine('h1')!.k;
  const h2 = lab.machine('h2')!.k;
  const ls = listener(h2, 7);
  const so = connect(h1, ip('192.0.2.2'), 7);
  lab.world.runFor(0.1 * S);
  const peer = soaccept_next(ls);
  const rd = typeof peer === 'object' && peer !== null ? drain(peer) : null;
  return { lab, so, got: () => rd?.bytes().length ?? 0 };
}

function hopsWithoutPath(d: TraceData): string[] {
  const bad: string[] = [];
  for (const j of d.journeys) for (const h of j.hops) if (h.path.length === 0) bad.push(`#${j.id} ${j.cause} on ${h.host}`);
  return bad;
}

test('a TCP retransmission after a loss is its own journey, named by its timer and linked to the lost segment', () => {
  const { lab, so, got } = connected();
  const t = new LabTracer('write');
  lab.setTracer(t);
  const cable = lab.cables[0]!;
  cable.loss = 1;
  assert.equal(sosend(so, null, new Uint8Array(100).fill(0x61), 0, 100), 100);
  lab.world.runFor(0.01 * S);
  cable.loss = 0;
  lab.world.runFor(3 * S);
  lab.setTracer(null);
  assert.equal(got(), 100);
  const d = journeyData(t, 'write', 'h1');
  const paths = renderPaths(d);
  const lost = d.journeys.find((j) => j.fate.startsWith('dropped on cable'));
  assert.ok(lost, paths);
  assert.match(lost.packet, /192\.0\.2\.1\.\d+ > 192\.0\.2\.2\.7: P \d+:\d+\(100\) ack \d+ /, paths);
  const rexmt = d.journeys.find((j) => j.cause === 'tcp_timer_rexmt');
  assert.ok(rexmt, paths);
  assert.equal(rexmt.parent, lost.id, paths);
  // tcpdump prints sequence numbers relative to the first segment it saw: the lost one.
  assert.match(rexmt.packet, /192\.0\.2\.1\.\d+ > 192\.0\.2\.2\.7: P 0:100\(100\) ack 1 /);
  assert.equal(rexmt.hops[0]!.host, 'h1');
  assert.deepEqual(rexmt.hops[0]!.path.slice(0, 3), ['tcp_timer_rexmt', 'tcp_output', 'ip_output'], paths);
  assert.equal(rexmt.hops[1]!.host, 'h2');
  assert.ok(rexmt.hops[1]!.path.includes('tcp_input'), paths);
  assert.ok(rexmt.caused.length > 0, `the retransmission's ACK is caused by it\n${paths}`);
  // Nothing else is credited to the lost segment: it was lost, it caused nothing but its retransmission.
  assert.deepEqual(lost.caused, [rexmt.id], paths);
  assert.deepEqual(hopsWithoutPath(d), [], paths);
});

test('the base Tracer: a frame from the wire with no journey, or a timer send, is no child of the last packet', () => {
  const { lab, so, got } = connected();
  const h1 = lab.machine('h1')!.k;
  const h2 = lab.machine('h2')!.k;
  // Only the receiver traces: what arrives carries no journey from its sender.
  const t = new Tracer();
  h2.setTracer(t);
  sosend(so, null, new Uint8Array(10), 0, 10);
  lab.world.runFor(0.5 * S);
  sosend(so, null, new Uint8Array(10), 0, 10);
  lab.world.runFor(0.5 * S);
  h2.setTracer(null);
  assert.equal(got(), 20);
  const roots = t.journeys.filter((j) => j.parent === null);
  // Two data segments arrived, each its own root; h2's ACKs (delayed, from tcp_timer_delack) have no packet in hand.
  assert.ok(roots.length >= 2, t.journeys.map((j) => `${j.id}<-${j.parent?.id ?? '-'} ${j.cause}`).join('\n'));
  for (const j of t.journeys) if (j.parent !== null) assert.notEqual(j.parent.cause, 'tcp_output', 'no journey hangs under an ACK');
  void h1;
});
