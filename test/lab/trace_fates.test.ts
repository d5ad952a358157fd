/**
 * Journeys' fates: what tcp_input consumed (a RST that refused or reset a
 * connection, the ACK of a handshake or of the last FIN) is not a drop;
 * a frame a cable duplicated is two packets, the copy caused by the
 * original; pf's block return-icmp is the blocked packet's own step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from './helpers.js';
import type { journeyData } from '../../src/lab/journey.js';

type Trace = ReturnType<typeof journeyData>;

function fates(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('   fate: ')).map((l) => l.slice('   fate: '.length));
}

test('a refused connection: the RST is consumed by tcp_input (connection refused), not dropped', async () => {
  const r = await sh('client: trace nc -v 10.0.1.1 6000');
  assert.deepEqual(fates(r.out), [
    'dropped on router: pf_test(IN): block, rule 2',
    'consumed on client: tcp_input: RST in SYN_SENT → connection refused',
    'delivered on client',
    'delivered on router',
  ]);
  const k = r.shell.lab.machines.get('client')!.k;
  assert.equal(k.stats.tcpstat.value('tcps_conndrops'), 1);
  const s = await sh('client: trace -s nc -v 10.0.1.1 6000');
  assert.ok(!s.out.includes('dropped on client'), s.out);
});

test('a whole connection: the SYN and the ACKs that move TCP\'s state are consumed, the FINs delivered', async () => {
  const r = await sh('peer: nc -l 7000 &\nclient: trace nc -v -N 10.0.2.2 7000 </dev/null\nclient: sleep 1');
  assert.deepEqual(fates(r.out), [
    'consumed on peer: tcp_input: SYN to a listener → syn_cache_add',
    'delivered on peer',
    'delivered on router',
    'consumed on client: tcp_input: SYN|ACK in SYN_SENT → ESTABLISHED',
    'delivered on client',
    'delivered on router',
    'consumed on peer: tcp_input: ACK completes the handshake → syn_cache_get, ESTABLISHED',
    'delivered on peer',
    'delivered on client',
    'delivered on client',
    'consumed on peer: tcp_input: our FIN acked in LAST_ACK → tcp_close',
  ]);
  assert.ok(!r.out.includes('tcp_input: drop'), r.out);
});

test('a duplicated frame is two packets: the copy its own journey, caused by the original on the cable', async () => {
  const r = await sh('client: ping -c 1 -q 10.0.1.1\ncable client:em0 duplicate 1\nclient: trace -s ping -c 1 10.0.1.1');
  const paths = r.out.slice(r.out.indexOf('#1 '));
  const rx = 'em_intr → ifiq_input → bpf_mtap_ether(IN) → if_input_process → ether_input → ip_input → pf_test(IN) → ip_ours → ip_deliver → icmp_input';
  assert.ok(paths.startsWith(
    '#1 10.0.1.2 > 10.0.1.1: icmp: echo request\n' +
    '  client: ip_output → ether_output → ether_resolve → arpresolve → ifq_enqueue → ifq_start → em_start → bpf_mtap_ether(OUT)\n' +
    '  cable client:em0-router:em0: ↳ cable: frame duplicated\n' +
    `  router: ${rx}\n` +
    '#2 (from #1) 10.0.1.2 > 10.0.1.1: icmp: echo request\n' +
    '  cable client:em0-router:em0: ↳ cable: copy of #1\n' +
    `  router: ${rx}\n` +
    '#3 (from #1) 10.0.1.1 > 10.0.1.2: icmp: echo reply\n'), paths);
  // each copy was answered: four replies reach the client (two, each duplicated)
  assert.equal((paths.match(/: icmp: echo reply\n/g) ?? []).length, 4);
  const j = await sh('client: ping -c 1 -q 10.0.1.1\ncable client:em0 duplicate 1\nclient: trace --json ping -c 1 10.0.1.1');
  const d = JSON.parse(j.out.slice(j.out.indexOf('{'))) as Trace;
  assert.equal(d.journeys[1]!.parent, 1);
  assert.equal(d.journeys[1]!.cause, 'cable: frame duplicated');
  assert.equal(d.journeys[1]!.hops.filter((h) => h.host === 'router').length, 1);
  assert.equal(d.journeys[0]!.hops.filter((h) => h.host === 'router').length, 1);
});

test('block return with ICMP: pf_send_icmp is a step of the blocked packet, the error a journey it caused', async () => {
  const r = await sh([
    "router: echo 'block return in on em0 proto udp to port 6001' >x.conf", 'router: cat /etc/pf.conf x.conf >y.conf',
    'router: pfctl -f y.conf', 'client: echo x >m', 'client: trace -s nc -u -w 1 10.0.2.2 6001 <m',
  ].join('\n'));
  const paths = r.out.slice(r.out.indexOf('#1 '));
  assert.ok(paths.startsWith(
    '#1 10.0.1.2.16122 > 10.0.2.2.6001: udp 2\n' +
    '  client: udp_output → ip_output → ether_output → ether_resolve → arpresolve → ifq_enqueue → ifq_start → em_start → bpf_mtap_ether(OUT)\n' +
    '  router: em_intr → ifiq_input → bpf_mtap_ether(IN) → if_input_process → ether_input → ip_input → pf_test(IN) → pf_send_icmp → icmp_error\n' +
    '  dropped on router: pf_test(IN): block, rule 5\n' +
    '#2 (from #1) 10.0.1.1 > 10.0.1.2: icmp: 10.0.2.2 udp port 6001 unreachable\n'), paths);
  assert.ok(!paths.includes(') pf_send_icmp\n'), paths);
});
