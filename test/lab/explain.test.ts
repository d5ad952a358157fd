import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StringOutput } from '../../src/lib/io.js';
import { explainCommand, countersForLine, counterInfo } from '../../src/lab/explain.js';
import { EXPLAIN } from '../../src/lab/explain.gen.js';
import { scanSources, type Site } from '../../src/lab/gen-explain.js';
import { repoRoot } from './helpers.js';
import { STATS_LAYOUTS } from '../../src/sys/kern/counters.gen.js';
import { ETHERSTAT_NAMES } from '../../src/sys/net/if_ethersubr.js';
import { ARPSTAT_NAMES } from '../../src/sys/netinet/if_ether.js';

/** The files of the IPv4 packet path this index is checked on. */
const SCOPE = [
  'src/sys/dev/nic.ts', 'src/sys/dev/cable.ts', 'src/sys/net/ifq.ts', 'src/sys/net/if_ethersubr.ts', 'src/sys/net/if_loop.ts',
  'src/sys/netinet/if_ether.ts', 'src/sys/netinet/ip_input.ts', 'src/sys/netinet/ip_output.ts', 'src/sys/netinet/ip_icmp.ts',
];

/** Counters of implemented protocols that nothing increments yet, and why. */
const NOT_YET: Record<string, string> = {
  ips_nogif: 'gif(4) is not built',
  ips_outswcsum: 'output checksums are always computed in ip_output (no offload model yet)',
  ips_rtcachehit: 'the route cache is not counted yet',
  ips_rtcachemiss: 'the route cache is not counted yet',
  ips_idropped: 'no input queue of IP (ipintrq) in the model',
  icps_oldshort: 'icmp_do_error never sees a datagram shorter than its header',
};

/** Places on the IPv4 path that free a packet without a counter, and why that is right (or a known gap). */
const KNOWN_UNCOUNTED: Record<string, string> = {
  'src/sys/dev/nic.ts stop': 'interface stopped: the rings are emptied (OpenBSD does not count these)',
  'src/sys/dev/nic.ts txeof': 'transmitted frames freed after the wire took them: not a drop',
  'src/sys/dev/nic.ts lroMerge': 'LRO: the frame\'s payload was appended to the packet before it: not a drop',
  'src/sys/netinet/if_ether.ts in_arpinput': 'arpcache refused the entry and counted why (arps_permoverwrite/arps_ifoverwrite)',
  'src/sys/netinet/if_ether.ts arpreply': 'the request is freed after the reply was sent: not a drop',
  'src/sys/netinet/ip_icmp.ts icmp_do_error': 'the offending datagram is consumed by the error (icps_error counted)',
  'src/sys/netinet/ip_icmp.ts freeit': 'no error about this datagram (OpenBSD counts only some reasons)',
  'src/sys/netinet/ip_icmp.ts icmp_input': 'redirects ignored on routers or when not accepted, as OpenBSD does',
  'src/sys/netinet/ip_icmp.ts icmp_reflect': 'known gap: a reflection to an unroutable source is dropped uncounted, as in OpenBSD',
  'src/sys/netinet/ip_input.ts ip_reass': 'fragments merged into the reassembled datagram, or dropped with ips_fragdropped above',
  'src/sys/netinet/ip_input.ts ip_freef': 'reassembly queue freed; callers count ips_fragtimeout/ips_fragdropped',
  'src/sys/netinet/ip_output.ts loop_task': 'known gap: the interface went away while a looped packet waited',
};

test('explain ips_cantforward: struct, netstat line, and each increment with its condition', () => {
  const out = new StringOutput();
  assert.equal(explainCommand(['ips_cantforward'], { stdout: out, stderr: out }), 0);
  const t = out.text();
  assert.match(t, /^ips_cantforward: struct ipstat \(sys\/netinet\/ip_var\.h\), netstat section "ip"\n {2}netstat: n packets not forwardable\n/);
  assert.match(t, /src\/sys\/netinet\/ip_input\.ts:\d+ ip_input_if\(\)\n {8}when !\(flags & IP_FORWARDING\)\n/);
  assert.match(t, /src\/sys\/netinet\/ip_input\.ts:\d+ ip_forward\(\)\n/);
});

test("explain 'packets not forwardable' finds the counter from the netstat line (with or without the number)", () => {
  assert.ok(countersForLine('packets not forwardable').includes('ips_cantforward'));
  assert.ok(countersForLine('81 packets not forwardable').includes('ips_cantforward'));
  assert.equal(counterInfo('ethers_notforus')?.struct, 'packetflow etherstat');
  const err = new StringOutput();
  assert.equal(explainCommand(['no such line'], { stdout: err, stderr: err }), 1);
});

test('the generated index is up to date with the IPv4 path sources', () => {
  const root = repoRoot();
  if (!existsSync(join(root, 'src', 'sys'))) return;
  const fresh = scanSources(join(root, 'src'));
  const pick = (sites: Record<string, Site[]>): string[] =>
    Object.entries(sites).flatMap(([n, ss]) => ss.filter((s) => SCOPE.includes(s.file)).map((s) => `${n} ${s.file}:${s.line} ${s.fn} ${s.cond}`)).sort();
  assert.deepEqual(pick(EXPLAIN.sites), pick(fresh.sites), 'run: npx tsx src/lab/gen-explain.ts');
});

test('every counter of IPv4, ICMP, Ethernet and ARP has an increment site', () => {
  const names: string[] = [...[...STATS_LAYOUTS.ip.fields, ...STATS_LAYOUTS.icmp.fields].map((f) => f.name), ...ETHERSTAT_NAMES, ...ARPSTAT_NAMES];
  const missing = names.filter((n) => (EXPLAIN.sites[n] ?? []).length === 0 && NOT_YET[n] === undefined);
  assert.deepEqual(missing, []);
  for (const n of Object.keys(NOT_YET)) assert.equal(EXPLAIN.sites[n], undefined, `${n} is incremented now: remove it from NOT_YET`);
});

test('every place on the IPv4 path that frees a packet counts why (or is a listed exception)', () => {
  const root = repoRoot();
  const ix = existsSync(join(root, 'src', 'sys')) ? scanSources(join(root, 'src')) : EXPLAIN;
  const bad = ix.uncounted.filter((s) => SCOPE.includes(s.file) && KNOWN_UNCOUNTED[`${s.file} ${s.fn}`] === undefined);
  assert.deepEqual(bad.map((s) => `${s.file}:${s.line} ${s.fn} when ${s.cond}`), []);
});
