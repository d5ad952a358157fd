/**
 * pf's address pools of tables and interfaces (pf_lb.ts pf_map_addr, pf_table.ts
 * pfr_pool_get) in the three-host lab: a (192.0.2.10) -- em0 [router] em1 --
 * b (198.51.100.20), pf on the router; datagrams spoofed on a's wire to
 * 198.51.100.100 are redirected into the pool, the states (pfctl -ss) tell
 * where each went.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip } from '../netinet/lab.js';
import { threeHosts6, ip6 } from '../netinet6/lab6.js';
import { send6raw, udp, v6Packet } from './pf_af_lab.js';
import { pfctl, loadPf, sendRaw, udpBytes } from './pf_lab.js';
import { pf_hash, pfHashRes } from '../../../src/sys/net/pf_lb.js';
import { KPool } from '../../../src/sys/net/pf.js';
import { if_addr_add } from '../../../src/sys/net/if.js';

/** Each flow (source address) in turn, one new state each; the pool address each state was given, in order. */
function run(conf: string, srcs: string[], between?: (i: number, k: ReturnType<typeof threeHosts>['r']['k']) => void): string[] {
  const { world, a, r } = threeHosts();
  loadPf(r.k, conf);
  srcs.forEach((src, i) => {
    if (between) between(i, r.k);
    sendRaw(a.k, udpBytes(ip(src), ip('198.51.100.100'), 4000 + i, 53));
    world.runFor(1e7);
  });
  return rdrOf(r.k);
}

function rdrOf(k: ReturnType<typeof threeHosts>['r']['k']): string[] {
  return pfctl(k, ['-ss']).out.split('\n').filter((l) => l.includes('(198.51.100.100:53) <-'))
    .map((l) => l.replace(/^all udp (\S+):53 \(198\.51\.100\.100:53\) <- (\S+):(\d+) .*$/, '$3 $1'))
    .sort().map((l) => l.split(' ')[1]!);
}

const rdr = (pool: string, opts: string): string => `table <pool> { ${pool} }\npass\npass in on em0 proto udp to 198.51.100.100 port 53 rdr-to <pool> ${opts}\n`;
const srcs = (n: number): string[] => Array.from({ length: n }, (_, i) => `192.0.2.${10 + i}`);

test('round-robin over a table walks the addresses inside its network entries, past a nested entry, as pfr_pool_get', () => {
  // 198.51.100.24/30 holds .24 .25 .26 .27, but .26 is its own (nested) entry: the /30 gives .24 .25 .27, then .26 on its turn
  assert.deepEqual(run(rdr('198.51.100.24/30, 198.51.100.26, 198.51.100.40', 'round-robin'), srcs(7)), [
    '198.51.100.24', '198.51.100.25', '198.51.100.27', '198.51.100.26', '198.51.100.40', '198.51.100.24', '198.51.100.25',
  ]);
  // a negated entry is no pool address, and its addresses are skipped inside the network
  assert.deepEqual(run(rdr('198.51.100.24/30, !198.51.100.25', 'round-robin'), srcs(4)), [
    '198.51.100.24', '198.51.100.26', '198.51.100.27', '198.51.100.24',
  ]);
});

/** SipHash-2-4 by the paper, on BigInts: a reference for pf_hash(). */
function siphashRef(key: Uint8Array, m: Uint8Array): bigint {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M;
  const le = (b: Uint8Array, o: number, n = 8): bigint => {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[o + i]!);
    return x;
  };
  const k0 = le(key, 0);
  const k1 = le(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n, v1 = k1 ^ 0x646f72616e646f6dn, v2 = k0 ^ 0x6c7967656e657261n, v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & M; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const full = m.length - (m.length % 8);
  const blocks: bigint[] = [];
  for (let o = 0; o < full; o += 8) blocks.push(le(m, o));
  blocks.push((BigInt(m.length & 0xff) << 56n) | le(m, full, m.length - full));
  for (const b of blocks) {
    v3 ^= b;
    round();
    round();
    v0 ^= b;
  }
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

test('pf_hash is SipHash24 of the address keyed by the pool key (as an amd64 kernel reads key32[])', () => {
  // the paper's vector: key 00..0f, message 00..0e
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  assert.equal(siphashRef(key, Uint8Array.from({ length: 15 }, (_, i) => i)), 0xa129ca6149be45e5n);
  const pool = new KPool();
  [pool.key0, pool.key1, pool.key2, pool.key3] = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];
  const h = new Int32Array(4);
  const res = (): bigint => (BigInt(pfHashRes[0]!) << 32n) | BigInt(pfHashRes[1]!);
  pf_hash(pool, 2, ip('192.0.2.10') | 0, 0, 0, 0, h);
  assert.equal(res(), siphashRef(key, Uint8Array.of(192, 0, 2, 10)));
  const v6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a);
  const w = [0, 4, 8, 12].map((o) => (v6[o]! << 24) | (v6[o + 1]! << 16) | (v6[o + 2]! << 8) | v6[o + 3]!);
  pf_hash(pool, 24, w[0]!, w[1]!, w[2]!, w[3]!, h);
  assert.equal(res(), siphashRef(key, v6));
});

test('source-hash over a table: the entry the source\'s hash (mod the table\'s count) picks, the same for the same source', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => 0x10 * (i & 15) + i);
  const hex = '0x' + [0, 4, 8, 12].map((o) => [3, 2, 1, 0].map((j) => key[o + j]!.toString(16).padStart(2, '0')).join('')).join('');
  const pool = ['198.51.100.30', '198.51.100.31', '198.51.100.32'];
  const flows = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.10', '192.0.2.14', '192.0.2.11'];
  const expect = flows.map((s) => {
    const b = Uint8Array.from(s.split('.').map(Number));
    return pool[Number(siphashRef(key, b) % 3n)]!;
  });
  const got = run(rdr(pool.join(', '), `source-hash ${hex}`), flows);
  assert.deepEqual(got, expect);
  // not all the same entry, so the hash decides
  assert.ok(new Set(got).size > 1);
  // the rule keeps its key: pfctl -sr prints it back
  const { r } = threeHosts();
  loadPf(r.k, rdr(pool.join(', '), `source-hash ${hex}`));
  assert.match(pfctl(r.k, ['-sr']).out, new RegExp(`rdr-to <pool> source-hash ${hex}\n`));
});

test('random over a table: the arc4random_uniform(count)-th entry (a network gives its first address), from the kernel\'s seeded source', () => {
  const pool = '198.51.100.30, 198.51.100.36/30, 198.51.100.40';
  const draws: number[] = [];
  const got = run(rdr(pool, 'random'), srcs(8), (i, k) => {
    if (i > 0) return;
    const rnd = k.random;
    const orig = rnd.arc4random_uniform.bind(rnd);
    rnd.arc4random_uniform = (n: number): number => {
      const v = orig(n);
      if (n === 3) draws.push(v);
      return v;
    };
  });
  // one draw of the table's count per state, and the entry of that index
  assert.equal(draws.length, 8);
  assert.deepEqual(got, draws.map((d) => ['198.51.100.30', '198.51.100.36', '198.51.100.40'][d]!));
  assert.deepEqual(got, [
    '198.51.100.40', '198.51.100.40', '198.51.100.30', '198.51.100.40', '198.51.100.40', '198.51.100.36', '198.51.100.36', '198.51.100.36',
  ]);
  // the same seed, the same choices
  assert.deepEqual(run(rdr(pool, 'random'), srcs(8)), got);
});

test('least-states over a table: the entry with the fewest states; a state going away makes its entry the least used', () => {
  const pool = '198.51.100.30, 198.51.100.31, 198.51.100.32';
  // three fresh entries in turn (each walk stops at an entry without states), then a walk once around finds all equal and keeps where it starts
  assert.deepEqual(run(rdr(pool, 'least-states'), srcs(4)), ['198.51.100.30', '198.51.100.31', '198.51.100.32', '198.51.100.30']);
  // kill the flow through .31 before the fifth (its state in and its state out on em1): .31 has no state left, .30 two, .32 one
  const got = run(rdr(pool, 'least-states'), srcs(6), (i, k) => {
    if (i === 4) assert.equal(pfctl(k, ['-k', '192.0.2.11']).err, 'killed 2 states from 1 sources and 0 destinations\n');
  });
  // (the states left, by flow: 1st .30, 3rd .32, 4th .30, then) the fifth goes to .31, the least used; the sixth finds
  // all at one state or more and keeps .31, where its walk starts
  assert.deepEqual(got, ['198.51.100.30', '198.51.100.32', '198.51.100.30', '198.51.100.31', '198.51.100.31']);
});

test('pfctl -T show -v: a least-states pool entry shows its Active States, kept with its counters (-T zero clears them, as OpenBSD)', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, rdr('198.51.100.30, 198.51.100.31', 'least-states'));
  srcs(3).forEach((src, i) => {
    sendRaw(a.k, udpBytes(ip(src), ip('198.51.100.100'), 4000 + i, 53));
    world.runFor(1e7);
  });
  const show = pfctl(r.k, ['-t', 'pool', '-T', 'show', '-v']).out;
  assert.match(show, / 198\.51\.100\.30\n\tCleared: [^\n]*\n\tActive States: {6}2\n/);
  assert.match(show, / 198\.51\.100\.31\n\tCleared: [^\n]*\n\tActive States: {6}1\n/);
  assert.equal(pfctl(r.k, ['-t', 'pool', '-T', 'zero']).err, '1 table/stats cleared.\n');
  assert.doesNotMatch(pfctl(r.k, ['-t', 'pool', '-T', 'show', '-v']).out, /Active States/);
});

test('least-states of a match rule: the state of the pass rule after it gives its count back to the match rule\'s pool entry (pf_postprocess_addr\'s match rules)', () => {
  const pool = '198.51.100.30, 198.51.100.31, 198.51.100.32';
  const conf = `table <pool> { ${pool} }\nmatch in on em0 proto udp to 198.51.100.100 port 53 rdr-to <pool> least-states\npass\n`;
  const got = run(conf, srcs(6), (i, k) => {
    if (i === 4) assert.equal(pfctl(k, ['-k', '192.0.2.11']).err, 'killed 2 states from 1 sources and 0 destinations\n');
  });
  // as with the pass rule's own pool: .31 went back to no state, the fifth and sixth flows go there
  assert.deepEqual(got, ['198.51.100.30', '198.51.100.32', '198.51.100.30', '198.51.100.31', '198.51.100.31']);
});

test('source-hash without a key: pfctl draws one from the machine\'s seeded stream, the same on the same machine', () => {
  const keyOf = (): string => {
    const { r } = threeHosts();
    loadPf(r.k, rdr('198.51.100.30, 198.51.100.31', 'source-hash'));
    const m = /rdr-to <pool> source-hash (0x[0-9a-f]{32})\n/.exec(pfctl(r.k, ['-sr']).out);
    assert.ok(m !== null);
    return m[1]!;
  };
  const k1 = keyOf();
  assert.equal(keyOf(), k1);
  assert.notEqual(k1, '0x00000000000000000000000000000000');
});

test('an interface pool: round-robin takes its addresses in table order, least-states the one with the fewest states', () => {
  for (const [type, want] of [
    ['round-robin', ['198.51.100.1', '198.51.100.3', '198.51.100.5', '198.51.100.1', '198.51.100.3']],
    ['least-states', ['198.51.100.1', '198.51.100.3', '198.51.100.5', '198.51.100.1', '198.51.100.3']],
  ] as const) {
    const { world, a, r } = threeHosts();
    const em1 = r.ifs[1]!;
    if_addr_add(em1, ip('198.51.100.5'), 0xffffff00);
    if_addr_add(em1, ip('198.51.100.3'), 0xffffff00);
    loadPf(r.k, `pass\npass out on em1 inet proto udp from 192.0.2.0/24 nat-to (em1) ${type}\n`);
    assert.match(pfctl(r.k, ['-sr']).out, new RegExp(`nat-to \\(em1\\) ${type}\n`));
    for (let i = 0; i < 5; i++) {
      sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000 + i, 9));
      world.runFor(1e7);
    }
    const got = pfctl(r.k, ['-ss']).out.split('\n').filter((l) => / \(192\.0\.2\.10:\d+\) -> /.test(l))
      .map((l) => /^all udp (\S+):\d+ \(192\.0\.2\.10:(\d+)\)/.exec(l)!).sort((x, y) => Number(x[2]) - Number(y[2])).map((m) => m[1]);
    assert.deepEqual(got, want, type);
  }
});

test('a 0/0 entry whose addresses negated entries all cover ends the walk (no address), not an endless loop', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, rdr('0.0.0.0/0, !0.0.0.0/1, !128.0.0.0/1', 'round-robin'));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.100'), 4000, 53));
  world.runFor(1e7);
  assert.deepEqual(rdrOf(r.k), []);
  assert.match(pfctl(r.k, ['-si']).out, /\n {2}translate +1 /);
});

/** IPv6 flows from a (2001:db8:1::10, ports 4000...) to dst port 53 through the router with conf; the router's states. */
function run6(conf: string, n: number, dst = '2001:db8:2::20', between?: (i: number, k: ReturnType<typeof threeHosts6>['r']['k']) => void): string[] {
  const { world, a, r } = threeHosts6();
  loadPf(r.k, conf);
  for (let i = 0; i < n; i++) {
    if (between) between(i, r.k);
    send6raw(a.k, v6Packet(ip6('2001:db8:1::10'), ip6(dst), 17, udp(4000 + i, 53, [1, 2, 3, 4]), 6));
    world.runFor(1e7);
  }
  return pfctl(r.k, ['-ss']).out.split('\n');
}

/** The translated address of each flow, by source port: rdr-to's destination or nat-to's source. */
function xlated6(states: string[], kind: 'rdr' | 'nat'): string[] {
  const re = kind === 'rdr'
    ? /^all udp (\S+)\[53\] \(2001:db8:2::100\[53\]\) <- 2001:db8:1::10\[(\d+)\]/
    : /^all udp (\S+)\[\d+\] \(2001:db8:1::10\[(\d+)\]\) -> 2001:db8:2::20\[53\]/;
  return states.map((l) => re.exec(l)).filter((m) => m !== null).sort((x, y) => Number(x[2]) - Number(y[2])).map((m) => m[1]!);
}

test('IPv6 network pools: round-robin walks the host bits from the network\'s own address and wraps; random rdr-to takes the next address each time (no init_addr, as pf_map_addr)', () => {
  const rdr6 = (opts: string): string => `pass\npass in on em0 inet6 proto udp to 2001:db8:2::100 port 53 rdr-to 2001:db8:2::/126 ${opts}\n`;
  assert.deepEqual(xlated6(run6(rdr6('round-robin'), 5, '2001:db8:2::100'), 'rdr'),
    ['2001:db8:2::', '2001:db8:2::1', '2001:db8:2::2', '2001:db8:2::3', '2001:db8:2::']);
  assert.deepEqual(xlated6(run6(rdr6('random'), 5, '2001:db8:2::100'), 'rdr'),
    ['2001:db8:2::1', '2001:db8:2::2', '2001:db8:2::3', '2001:db8:2::', '2001:db8:2::1']);
  // the same for IPv4 networks
  const rdr4 = (opts: string): string => `pass\npass in on em0 proto udp to 198.51.100.100 port 53 rdr-to 198.51.100.32/30 ${opts}\n`;
  assert.deepEqual(run(rdr4('round-robin'), srcs(5)), ['198.51.100.32', '198.51.100.33', '198.51.100.34', '198.51.100.35', '198.51.100.32']);
  assert.deepEqual(run(rdr4('random'), srcs(5)), ['198.51.100.33', '198.51.100.34', '198.51.100.35', '198.51.100.32', '198.51.100.33']);
  // a single host is itself
  assert.deepEqual(xlated6(run6('pass\npass in on em0 inet6 proto udp to 2001:db8:2::100 port 53 rdr-to 2001:db8:2::7 round-robin\n', 2, '2001:db8:2::100'), 'rdr'),
    ['2001:db8:2::7', '2001:db8:2::7']);
});

test('IPv6 random nat-to: each word\'s host bits from arc4random_uniform(~mask + 1), the last word first, up to a word of network bits', () => {
  const draws: number[] = [];
  const got = xlated6(run6('pass\npass out on em1 inet6 proto udp nat-to 2001:db8:2::a00/120 random\n', 6, undefined, (i, k) => {
    if (i > 0) return;
    const rnd = k.random;
    const orig = rnd.arc4random_uniform.bind(rnd);
    rnd.arc4random_uniform = (n: number): number => {
      const v = orig(n);
      if (n === 256) draws.push(v);
      return v;
    };
  }), 'nat');
  assert.equal(draws.length, 6);
  assert.deepEqual(got, draws.map((d) => `2001:db8:2::${(0xa00 + d).toString(16)}`));
  // the same seed, the same addresses
  assert.deepEqual(xlated6(run6('pass\npass out on em1 inet6 proto udp nat-to 2001:db8:2::a00/120 random\n', 6), 'nat'), got);
  // a word of host bits only asks arc4random_uniform for a bound of 0 (2^32 wraps in 32 bits) and gets 0: a /64 gives its network address
  assert.deepEqual(xlated6(run6('pass\npass out on em1 inet6 proto udp nat-to 2001:db8:2::/64 random\n', 2), 'nat'), ['2001:db8:2::', '2001:db8:2::']);
});
