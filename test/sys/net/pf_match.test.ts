import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip } from '../netinet/lab.js';
import type { Host } from '../netinet/lab.js';
import { pfctl, loadPf, udpBytes, sendRaw } from './pf_lab.js';
import { bpf_listen } from '../../../src/sys/net/bpf.js';
import { show } from '../../usr.sbin/tcpdump/print-build.js';
import { Proc, AF_INET, SOCK_DGRAM } from '../../../src/lib/socket.js';
import type { World } from '../../../src/sys/kern/kern_clock.js';

const A = ip('192.0.2.10');
const B = ip('198.51.100.20');

/** A UDP socket bound to the port on h: the flow's datagrams are taken, no port unreachable comes back. */
function bindUdp(h: Host, port: number): void {
  const p = new Proc(h.k);
  p.bind(p.socket(AF_INET, SOCK_DGRAM), { address: '*', port });
}

/** a -> b through the router: n datagrams 192.0.2.10:5000 -> 198.51.100.20:9, then m back (32 bytes each). */
function flow(world: World, a: Host, b: Host, n: number, m: number): void {
  for (let i = 0; i < n; i++) {
    sendRaw(a.k, udpBytes(A, B, 5000, 9));
    world.runFor(1e7);
  }
  for (let i = 0; i < m; i++) {
    sendRaw(b.k, udpBytes(B, A, 9, 5000));
    world.runFor(1e7);
  }
}

function lab(conf: string): ReturnType<typeof threeHosts> {
  const l = threeHosts();
  bindUdp(l.a, 5000);
  bindUdp(l.b, 9);
  loadPf(l.r.k, conf);
  return l;
}

test('match rules of a state: States counts the state while it lives, Packets/Bytes its every packet (by the state\'s direction)', () => {
  const { world, a, r, b } = lab('match out proto udp label M\npass\n');
  flow(world, a, b, 3, 2);
  // two states (in on em0, out on em1); only the outbound one met the match rule. Its 3 datagrams out on em1
  // count in the first column, the 2 replies in on em1 in the second (pf_counters_inc's dirndx of match rules:
  // the state's direction, where the pass rule's is in/out); a match rule creates no state (State Creations 0)
  assert.equal(
    pfctl(r.k, ['-vsr']).out,
    'match out proto udp all label "M"\n' +
      '  [ Evaluations: 2         Packets: 5         Bytes: 160         States: 1     ]\n' +
      '  [ Inserted: uid 0 pid 0 State Creations: 0     ]\n' +
      'pass all flags S/SA\n' +
      '  [ Evaluations: 2         Packets: 10        Bytes: 320         States: 2     ]\n' +
      '  [ Inserted: uid 0 pid 0 State Creations: 2     ]\n',
  );
  assert.equal(pfctl(r.k, ['-sl']).out, 'M 2 5 160 3 96 2 64 0\n');
  // the states expire (udp.multiple 60 s): the match rule counts none
  world.runFor(70e9);
  assert.equal(pfctl(r.k, ['-ss']).out, '');
  assert.match(pfctl(r.k, ['-vsr']).out, /^match out proto udp all label "M"\n {2}\[ Evaluations: 2 +Packets: 5 +Bytes: 160 +States: 0 +\]\n/);
  // a new flow, then pfctl -F states
  flow(world, a, b, 1, 1);
  assert.equal(pfctl(r.k, ['-sl']).out, 'M 4 7 224 4 128 3 96 0\n');
  assert.match(pfctl(r.k, ['-vsr']).out, /^match out .*\n.* States: 1 +\]\n/);
  pfctl(r.k, ['-F', 'states']);
  assert.match(pfctl(r.k, ['-vsr']).out, /^match out .*\n.* States: 0 +\]\n.*\n.*\n.* States: 0 +\]\n/);
  assert.equal(r.k.pf!.st.match_rules.size, 0);
});

test('match log (all): every packet of the state is logged for the match rule, after its pass rule\'s own log (all)', () => {
  const logs = (conf: string): string[] => {
    const { world, a, r, b } = lab(conf);
    const logged: Uint8Array[] = [];
    bpf_listen(r.k.ifunit('pflog0')!, (buf, off, caplen) => logged.push(buf.slice(off, off + caplen)));
    flow(world, a, b, 3, 2);
    return logged.map((h) => show({ eflag: true }, 117, h));
  };
  const ab = '192.0.2.10.5000 > 198.51.100.20.9: udp 4\n';
  const ba = '198.51.100.20.9 > 192.0.2.10.5000: udp 4\n';
  // the state in on em0 has the match rule: the first datagram is logged as the rule matches, the others and
  // the replies (out on em0) through the state; the state out on em1 has none
  assert.deepEqual(logs('match in log (all) proto udp\npass\n'), [
    `rule 0/(match) match in on em0: ${ab}`,
    `rule 0/(match) match in on em0: ${ab}`,
    `rule 0/(match) match in on em0: ${ab}`,
    `rule 0/(match) match out on em0: ${ba}`,
    `rule 0/(match) match out on em0: ${ba}`,
  ]);
  // with a pass rule that logs all: each of its packets once, the state's match rule after it
  assert.deepEqual(logs('match in log (all) proto udp\npass log (all) proto udp\n'), [
    `rule 0/(match) match in on em0: ${ab}`,
    `rule 1/(match) pass in on em0: ${ab}`,
    `rule 1/(match) pass out on em1: ${ab}`,
    ...[1, 2].flatMap(() => [
      `rule 1/(match) pass in on em0: ${ab}`,
      `rule 0/(match) match in on em0: ${ab}`,
      `rule 1/(match) pass out on em1: ${ab}`,
    ]),
    ...[1, 2].flatMap(() => [
      `rule 1/(match) pass in on em1: ${ba}`,
      `rule 1/(match) pass out on em0: ${ba}`,
      `rule 0/(match) match out on em0: ${ba}`,
    ]),
  ]);
});

test('table counters: the tables of a state\'s match rules and of its rule count its every packet (pfr_update_stats)', () => {
  const { world, a, r, b } = lab('table <t> counters { 192.0.2.10 198.51.100.0/24 }\nmatch in from <t>\npass in from <t>\npass out\n');
  flow(world, a, b, 3, 2);
  const stat = (name: string, p: number, by: number): string =>
    `\t${name.padEnd(12)} [ Packets: ${String(p).padEnd(18)} Bytes: ${String(by).padEnd(18)} ]\n`;
  const cleared = '\tCleared:     Thu Jan  1 00:00:01 1970\n';
  // the state in on em0: its 3 datagrams in and 2 replies out, each once for the match rule, once for the pass
  // rule; the entry no packet counted against keeps no counters (pfr_get_astats: PFR_FB_NOCOUNT)
  assert.equal(
    pfctl(r.k, ['-t', 't', '-T', 'show', '-v']).out,
    '   192.0.2.10\n' + cleared +
      stat('In/Block:', 0, 0) + stat('In/Match:', 3, 96) + stat('In/Pass:', 3, 96) +
      stat('Out/Block:', 0, 0) + stat('Out/Match:', 2, 64) + stat('Out/Pass:', 2, 64) +
      '   198.51.100.0/24\n' + cleared,
  );
  const ts = pfctl(r.k, ['-sT', '-vv']).out;
  assert.ok(ts.includes(stat('In/Match:', 3, 96) + stat('In/Pass:', 3, 96) + stat('In/XPass:', 0, 0)), ts);
  assert.ok(ts.includes(stat('Out/Match:', 2, 64) + stat('Out/Pass:', 2, 64) + stat('Out/XPass:', 0, 0)), ts);
  // pfctl -T zero: the entries' counters go (no counter lines until a packet counts again)
  pfctl(r.k, ['-t', 't', '-T', 'zero']);
  assert.equal(pfctl(r.k, ['-t', 't', '-T', 'show', '-v']).out.includes('Packets'), false);
});
