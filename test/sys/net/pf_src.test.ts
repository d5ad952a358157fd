/**
 * pf source tracking (pf_src.ts) in the three-host lab: a (192.0.2.10) --
 * em0 [router] em1 -- b (198.51.100.20), pf on the router.  Limits with
 * the counters pfctl -vsi prints, overload tables with flush, sticky
 * pool addresses, expiry in virtual time, and pfctl -sS / -vsS / -K /
 * -F Sources as OpenBSD prints them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip } from '../netinet/lab.js';
import { listener, connect } from '../netinet/tcp_lab.js';
import { pfctl, loadPf, sendRaw, udpBytes } from './pf_lab.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

/** The lines of pfctl -vsi that name one of the given counters. */
function counters(k: Kernel, names: string[]): string[] {
  const lines = pfctl(k, ['-vsi']).out.split('\n');
  return names.map((n) => {
    const l = lines.find((x) => x.startsWith(`  ${n} `));
    assert.ok(l !== undefined, n);
    return l.slice(0, 42);
  });
}

/** The four lines of pfctl -vsi's Source Tracking Table, without the rates. */
function srcTable(k: Kernel): string[] {
  const lines = pfctl(k, ['-vsi']).out.split('\n');
  const i = lines.indexOf('Source Tracking Table');
  assert.ok(i > 0);
  return lines.slice(i + 1, i + 5).map((l) => l.slice(0, 42));
}

/** A UDP datagram from `src` (spoofed on a's wire) to b's port 53. */
function udp(k: Kernel, src: string, sport: number, dst = '198.51.100.20'): void {
  sendRaw(k, udpBytes(ip(src), ip(dst), sport, 53));
}

test('max-src-states: the third state of a source is refused (src-limit, max-src-states); -vsS and the journey', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\npass in on em0 proto udp to port 53 keep state (max-src-states 2)\n');
  const t = new Tracer();
  r.k.setTracer(t);
  for (let i = 0; i < 3; i++) udp(a.k, '192.0.2.10', 1000 + i);
  world.runFor(1e9);
  // two flows in, each with its state out on em1 (rule 0): four states
  assert.equal(r.k.pf!.states, 4);
  assert.equal(pfctl(r.k, ['-sS']).out, '192.0.2.10 ( states 2, connections 0, rate 0.0/0s )\n');
  // the node counts its states' packets: two datagrams and b's two ICMP port unreachables
  assert.equal(
    pfctl(r.k, ['-vsS']).out,
    '192.0.2.10 ( states 2, connections 0, rate 0.0/0s )\n   age 00:00:01, 4 pkts, 176 bytes, rule 1\n',
  );
  assert.deepEqual(counters(r.k, ['src-limit', 'max-src-states', 'max-src-nodes', 'max states per rule']), [
    '  src-limit                              1',
    '  max-src-states                         1',
    '  max-src-nodes                          0',
    '  max states per rule                    0',
  ]);
  assert.deepEqual(srcTable(r.k), [
    '  current entries                        1',
    '  searches                               3',
    '  inserts                                1',
    '  removals                               0',
  ]);
  // the state of a tracked source says so with -v
  assert.match(pfctl(r.k, ['-vss']).out, /\n {3}age 00:00:01, expires in 00:00:59, 1:1 pkts, 32:56 bytes, rule 1, source-track\n/);
  const j = t.events.filter((e) => e.name.startsWith('pf_test')).map((e) => [e.kind, e.name, e.ifname, e.detail].filter(Boolean).join(' '));
  const at = j.indexOf('branch pf_test: max-src-states reached → drop rule 1, src-limit');
  assert.ok(at > 0, j.join('\n'));
  assert.deepEqual(j.slice(at - 1, at + 3), [
    'fn pf_test em0 in',
    'branch pf_test: max-src-states reached → drop rule 1, src-limit',
    'branch pf_test: rule 1 block',
    'drop pf_test: block rule 1',
  ]);
});

test('max-src-nodes and set limit src-nodes: a new source is refused; only the rule limit has a limit counter', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\npass in on em0 proto udp to port 53 keep state (source-track rule, max-src-nodes 2)\n');
  for (let i = 0; i < 3; i++) udp(a.k, `192.0.2.${10 + i}`, 2000);
  world.runFor(1e9);
  assert.equal(
    pfctl(r.k, ['-sS']).out,
    '192.0.2.10 ( states 1, connections 0, rate 0.0/0s )\n192.0.2.11 ( states 1, connections 0, rate 0.0/0s )\n',
  );
  assert.deepEqual(counters(r.k, ['src-limit', 'max-src-nodes']), [
    '  src-limit                              1',
    '  max-src-nodes                          1',
  ]);
  // the pool's hard limit: pool_get() fails, counted as src-limit only
  loadPf(r.k, 'set limit src-nodes 1\npass\npass in on em0 proto udp to port 53 keep state (source-track rule)\n');
  pfctl(r.k, ['-F', 'states']);
  pfctl(r.k, ['-F', 'Sources']);
  pfctl(r.k, ['-F', 'info']);
  assert.match(pfctl(r.k, ['-sm']).out, /\nsrc-nodes +hard limit +1\n/);
  for (let i = 0; i < 2; i++) udp(a.k, `192.0.2.${20 + i}`, 2001);
  world.runFor(1e9);
  assert.equal(pfctl(r.k, ['-sS']).out, '192.0.2.20 ( states 1, connections 0, rate 0.0/0s )\n');
  // (-F info leaves the limit counters, as DIOCCLRSTATUS does: max-src-nodes is still the first part's 1)
  assert.deepEqual(counters(r.k, ['src-limit', 'max-src-nodes']), [
    '  src-limit                              1',
    '  max-src-nodes                          1',
  ]);
});

const BRUTEFORCE = `table <bruteforce> persist
block quick from <bruteforce>
pass
pass in on em0 proto tcp to port 22 keep state (max-src-conn 2, overload <bruteforce> flush global)
`;

test('max-src-conn: the third connection goes over, the source lands in <bruteforce>, its states are flushed', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, BRUTEFORCE);
  const t = new Tracer();
  r.k.setTracer(t);
  listener(b.k, 22);
  for (let i = 0; i < 2; i++) {
    connect(a.k, ip('198.51.100.20'), 22);
    world.runFor(1e9);
  }
  assert.equal(pfctl(r.k, ['-sS']).out, '192.0.2.10 ( states 2, connections 2, rate 0.0/0s )\n');
  connect(a.k, ip('198.51.100.20'), 22);
  world.runFor(1e9);
  assert.deepEqual(
    counters(r.k, ['src-limit', 'max-src-conn', 'max-src-conn-rate', 'overload table insertion', 'overload flush states']),
    [
      '  src-limit                              1',
      '  max-src-conn                           1',
      '  max-src-conn-rate                      0',
      '  overload table insertion               1',
      '  overload flush states                  1',
    ],
  );
  assert.equal(pfctl(r.k, ['-t', 'bruteforce', '-T', 'show']).out, '   192.0.2.10\n');
  // the three states in on em0 went (purged); the node stays until pf_purge, without states or connections
  const ss = pfctl(r.k, ['-ss']).out;
  assert.doesNotMatch(ss, /<-/);
  assert.equal(ss.split('\n').filter(Boolean).length, 3);
  assert.equal(
    pfctl(r.k, ['-vsS']).out,
    '192.0.2.10 ( states 0, connections 0, rate 0.0/0s )\n   age 00:00:03, expires in 00:00:00, 8 pkts, 488 bytes, rule 2\n',
  );
  const ev = t.events.map((e) => [e.kind, e.name, e.detail].filter(Boolean).join(' '));
  assert.ok(ev.includes('branch pf_src_connlimit: max-src-conn 2 reached → overload <bruteforce>, flush, state killed src-limit'), ev.join('\n'));
  // the client's retransmissions now hit block quick from <bruteforce>
  const before = r.k.pf!.main.rules[0]!.packets0;
  world.runFor(5e9);
  assert.ok(r.k.pf!.main.rules[0]!.packets0 > before);
  // pf_purge (every 10 s from pf's start + 1 s) removed the node
  world.runFor(10e9);
  assert.equal(pfctl(r.k, ['-sS']).out, '');
});

test('max-src-conn-rate: 2 connections per 10 s; -sS prints the decayed rate', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\npass in on em0 proto tcp to port 22 keep state (max-src-conn-rate 2/10)\n');
  listener(b.k, 22);
  connect(a.k, ip('198.51.100.20'), 22);
  world.runFor(1e9);
  connect(a.k, ip('198.51.100.20'), 22);
  world.runFor(3e9);
  // pf_add_threshold: 1000, decayed by 1/10 per second (900) + 1000; read 3 s later: 1900 - 1900 * 3 / 10 = 1330
  assert.equal(pfctl(r.k, ['-sS']).out, '192.0.2.10 ( states 2, connections 2, rate 1.3/10s )\n');
  assert.deepEqual(counters(r.k, ['src-limit', 'max-src-conn-rate']), [
    '  src-limit                              0',
    '  max-src-conn-rate                      0',
  ]);
  // the third: 1330 + 1000 = 2330 > 2000
  connect(a.k, ip('198.51.100.20'), 22);
  world.runFor(1e9);
  assert.deepEqual(counters(r.k, ['src-limit', 'max-src-conn', 'max-src-conn-rate', 'overload table insertion']), [
    '  src-limit                              1',
    '  max-src-conn                           0',
    '  max-src-conn-rate                      1',
    '  overload table insertion               0',
  ]);
  // the killed state's connection is no longer counted; a second later the rate reads 2330 - 233
  assert.equal(pfctl(r.k, ['-sS']).out, '192.0.2.10 ( states 2, connections 2, rate 2.0/10s )\n');
});

test('source nodes expire src.track seconds after their last state and go at the next pf_purge (every interval)', () => {
  const { world, a, r } = threeHosts();
  // pf starts at uptime 1: pf_purge runs at 2, 12, 22...
  loadPf(r.k, 'set timeout { udp.first 5, udp.single 5, src.track 7 }\npass\npass in on em0 proto udp to port 53 keep state (source-track)\n');
  udp(a.k, '192.0.2.10', 3000);
  const at = new Map<number, string>();
  for (let i = 0; i < 23; i++) {
    world.runFor(1e9);
    at.set(r.k.pf!.uptime(), pfctl(r.k, ['-vsS']).out);
  }
  assert.equal(at.get(6), '192.0.2.10 ( states 1, connections 0, rate 0.0/0s )\n   age 00:00:05, 2 pkts, 88 bytes, rule 1\n');
  // the state (udp.first 5) went at uptime 6: the node expires src.track 7 s later, at 13
  assert.equal(at.get(7), '192.0.2.10 ( states 0, connections 0, rate 0.0/0s )\n   age 00:00:06, expires in 00:00:06, 2 pkts, 88 bytes, rule 1\n');
  assert.equal(at.get(13), '192.0.2.10 ( states 0, connections 0, rate 0.0/0s )\n   age 00:00:12, expires in 00:00:00, 2 pkts, 88 bytes, rule 1\n');
  // expired but still there until pf_purge at 22 (its run at 12 came before the expiry)
  assert.equal(at.get(22), '192.0.2.10 ( states 0, connections 0, rate 0.0/0s )\n   age 00:00:21, expires in 00:00:00, 2 pkts, 88 bytes, rule 1\n');
  assert.equal(at.get(23), '');
  assert.deepEqual(srcTable(r.k), [
    '  current entries                        0',
    '  searches                               1',
    '  inserts                                1',
    '  removals                               1',
  ]);
});

test('sticky-address: a source keeps the pool address it was given; without it round-robin moves on', () => {
  const flows = ['192.0.2.10', '192.0.2.11', '192.0.2.10', '192.0.2.12', '192.0.2.11'];
  const run = (opts: string): string[] => {
    const { world, a, r } = threeHosts();
    loadPf(r.k, `pass\npass in on em0 proto udp to 198.51.100.100 port 53 rdr-to { 198.51.100.20, 198.51.100.21 } round-robin${opts}\n`);
    flows.forEach((src, i) => {
      udp(a.k, src, 4000 + i, '198.51.100.100');
      world.runFor(1e7);
    });
    world.runFor(1e9);
    return pfctl(r.k, ['-ss']).out.split('\n').filter((l) => l.includes('<-')).map((l) => l.replace(/^all udp (\S+) \(198\.51\.100\.100:53\) <- (\S+):\d+ .*$/, '$2 $1'));
  };
  assert.deepEqual(run(' sticky-address'), [
    '192.0.2.10 198.51.100.20:53',
    '192.0.2.11 198.51.100.21:53',
    '192.0.2.10 198.51.100.20:53',
    '192.0.2.12 198.51.100.20:53',
    '192.0.2.11 198.51.100.21:53',
  ]);
  assert.deepEqual(run(''), [
    '192.0.2.10 198.51.100.20:53',
    '192.0.2.11 198.51.100.21:53',
    '192.0.2.10 198.51.100.20:53',
    '192.0.2.12 198.51.100.21:53',
    '192.0.2.11 198.51.100.20:53',
  ]);
});

test('sticky-address on nat-to and route-to pools: nodes of type nat-to and route-to, printed as such', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, `pass
pass out on em1 proto udp from 192.0.2.0/24 to port 53 nat-to { 198.51.100.2, 198.51.100.3 } round-robin sticky-address
pass in on em0 proto udp to port 54 route-to { 198.51.100.20, 198.51.100.21 } round-robin sticky-address
`);
  ['192.0.2.10', '192.0.2.11', '192.0.2.10'].forEach((src, i) => {
    sendRaw(a.k, udpBytes(ip(src), ip('198.51.100.20'), 7000 + i, 53));
    sendRaw(a.k, udpBytes(ip(src), ip('198.51.100.20'), 7100 + i, 54));
    world.runFor(1e7);
  });
  world.runFor(1e9);
  const ss = pfctl(r.k, ['-ss']).out.split('\n');
  // the third flows of 192.0.2.10 keep its first address and next hop
  assert.match(ss[9]!, /^all udp 198\.51\.100\.2:\d+ \(192\.0\.2\.10:7002\) -> 198\.51\.100\.20:53 {7}SINGLE:NO_TRAFFIC$/);
  assert.equal(ss[10], 'all udp 198.51.100.20:54 {198.51.100.20} <- 192.0.2.10:7102       NO_TRAFFIC:SINGLE');
  // (b answers the routed datagrams to port 54 with port unreachables; the nat-to addresses are nobody's)
  assert.equal(
    pfctl(r.k, ['-vsS']).out,
    '192.0.2.10 nat-to 198.51.100.2 ( states 2, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 2 pkts, 64 bytes, rule 1\n' +
      '192.0.2.11 nat-to 198.51.100.3 ( states 1, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 1 pkts, 32 bytes, rule 1\n' +
      '192.0.2.10 route-to 198.51.100.20 ( states 2, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 4 pkts, 176 bytes, rule 2\n' +
      '192.0.2.11 route-to 198.51.100.21 ( states 1, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 1 pkts, 32 bytes, rule 2\n',
  );
});

test('pfctl -sS with rdr-to nodes, -K by source and by pool address, -F Sources, -s all', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\npass in on em0 proto udp to 198.51.100.100 port 53 rdr-to { 198.51.100.20, 198.51.100.21 } round-robin sticky-address\n');
  ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.10'].forEach((src, i) => udp(a.k, src, 5000 + i, '198.51.100.100'));
  world.runFor(1e9);
  // b's port unreachables (56 bytes) come back through the rdr-to states and count on their nodes; 198.51.100.21 is nobody
  assert.equal(
    pfctl(r.k, ['-vsS']).out,
    '192.0.2.10 rdr-to 198.51.100.20 ( states 2, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 4 pkts, 176 bytes, rule 1\n' +
      '192.0.2.11 rdr-to 198.51.100.21 ( states 1, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 1 pkts, 32 bytes, rule 1\n' +
      '192.0.2.12 rdr-to 198.51.100.20 ( states 1, connections 0, rate 0.0/0s )\n' +
      '   age 00:00:01, 2 pkts, 88 bytes, rule 1\n',
  );
  const all = pfctl(r.k, ['-sa']).out;
  assert.match(all, /\n\nSOURCE TRACKING NODES:\n192\.0\.2\.10 rdr-to 198\.51\.100\.20 \( states 2, connections 0, rate 0\.0\/0s \)\n[^]*\n\nINFO:\n/);
  assert.ok(all.indexOf('STATES:') < all.indexOf('SOURCE TRACKING NODES:'));
  // -K source: the node goes, its states stay (without the link)
  assert.deepEqual(pfctl(r.k, ['-K', '192.0.2.11']), { status: 0, out: '', err: 'killed 1 src nodes from 1 sources and 0 destinations\n' });
  assert.equal(r.k.pf!.states, 8);
  // -K net -K pool address: the nodes of 192.0.2.0/24 given 198.51.100.20
  assert.equal(pfctl(r.k, ['-K', '192.0.2.0/24', '-K', '198.51.100.20']).err, 'killed 2 src nodes from 1 sources and 1 destinations\n');
  assert.equal(pfctl(r.k, ['-sS']).out, '');
  assert.equal(pfctl(r.k, ['-K', '1', '-K', '2', '-K', '3']).err, 'pfctl: can only specify -K twice\n' +
    'usage: pfctl [-deghNnPqrvz] [-a anchor] [-D macro=value] [-F modifier] [-f file]\n' +
    '\t[-i interface] [-K key] [-k key] [-L statefile] [-o level]\n' +
    '\t[-p device] [-S statefile] [-s modifier [-R id]]\n' +
    '\t[-t table -T command [address ...]] [-V rdomain] [-x level]\n');
  // new flows make new nodes; -F Sources removes them, the states lose ", source-track"
  udp(a.k, '192.0.2.10', 6000, '198.51.100.100');
  world.runFor(1e9);
  assert.match(pfctl(r.k, ['-vss']).out, /, source-track\n/);
  assert.equal(pfctl(r.k, ['-F', 'Sources']).err, 'source tracking entries cleared\n');
  assert.equal(pfctl(r.k, ['-sS']).out, '');
  assert.doesNotMatch(pfctl(r.k, ['-vss']).out, /source-track/);
  assert.deepEqual(srcTable(r.k).filter((l) => !l.includes('searches')), [
    '  current entries                        0',
    '  inserts                                4',
    '  removals                               4',
  ]);
});
