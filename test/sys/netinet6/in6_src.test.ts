import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { host, wire, type Host } from '../netinet/lab.js';
import { inet6_enable } from '../../../src/sys/netinet6/in6.js';
import { IN6_IFF_TENTATIVE } from '../../../src/sys/netinet6/in6_var.js';
import { bpf_listen, BPF_DIRECTION_OUT } from '../../../src/sys/net/bpf.js';
import { EADDRNOTAVAIL, EHOSTUNREACH } from '../../../src/sys/sys/errno.js';
import { formatIp6 } from '../../../src/wire/addr.js';
import { addr6, echo6, send6, ip6, ip6stat } from './lab6.js';

/** IPv6 frames a's em0 sends, as "src > dst nxt". */
function wireLog(h: Host): string[] {
  const seen: string[] = [];
  bpf_listen(h.ifs[0]!, (buf, off, _caplen, _wl, _ts, dir) => {
    if (dir !== BPF_DIRECTION_OUT || buf[off + 12] !== 0x86 || buf[off + 13] !== 0xdd) return;
    seen.push(`${formatIp6(buf, off + 22)} > ${formatIp6(buf, off + 38)} nxt ${buf[off + 20]}`);
  });
  return seen;
}

/** b is settled with 2001:db8::2; a's IPv6 (link-local and 2001:db8::1) starts now, DAD running. */
function duringDad(): { world: World; a: Host; b: Host } {
  const world = new World({ seed: 3 });
  const a = host(world, 'a', ['192.0.2.10/24']);
  const b = host(world, 'b', ['192.0.2.11/24']);
  wire(world, a.ifs[0]!, b.ifs[0]!);
  inet6_enable(b.k);
  addr6(b, 0, '2001:db8::2/64');
  world.runFor(5e9);
  return { world, a, b };
}

test('a packet sent during DAD: no source yet, nothing with ::1 on the wire (ip6s_sources_none)', () => {
  const { world, a } = duringDad();
  const seen = wireLog(a);
  inet6_enable(a.k);
  addr6(a, 0, '2001:db8::1/64');
  for (const ia of a.k.inet6.addrs(a.ifs[0]!)) assert.ok(ia.ia6_flags & IN6_IFF_TENTATIVE);
  assert.equal(send6(a.k, echo6(a.k, ip6('2001:db8::2'))), EADDRNOTAVAIL);
  assert.equal(ip6stat(a.k, 'ip6s_sources_none'), 1);
  world.runFor(5e9);
  // Only the MLD report (from the tentative link-local, as mld6 may) and the two DAD probes from ::.
  assert.deepEqual(seen, [
    'fe80::ff:fe00:1 > ff02::1:ff00:1 nxt 0',
    ':: > ff02::1:ff00:1 nxt 58',
    ':: > ff02::1:ff00:1 nxt 58',
  ]);
  assert.ok(!seen.some((l) => l.startsWith('::1 ')));
  assert.equal(ip6stat(a.k, 'ip6s_badscope'), 0);
  // DAD done: the global address is the source.
  seen.length = 0;
  assert.equal(send6(a.k, echo6(a.k, ip6('2001:db8::2'))), 0);
  world.runFor(1e9);
  assert.deepEqual(seen.filter((l) => l.endsWith('nxt 58') && l.includes('> 2001:db8::2')), ['2001:db8::1 > 2001:db8::2 nxt 58']);
});

test('ip6_output drops a loopback source or destination off lo0 (ip6s_badscope)', () => {
  const { world, a } = duringDad();
  inet6_enable(a.k);
  addr6(a, 0, '2001:db8::1/64');
  world.runFor(5e9);
  const seen = wireLog(a);
  assert.equal(send6(a.k, echo6(a.k, ip6('2001:db8::2'), 56, { src: ip6('::1') })), EHOSTUNREACH);
  assert.equal(ip6stat(a.k, 'ip6s_badscope'), 1);
  world.runFor(1e9);
  assert.deepEqual(seen.filter((l) => l.endsWith('nxt 58')), []);
  // ::1 to ::1 stays on lo0 and is delivered.
  assert.equal(send6(a.k, echo6(a.k, ip6('::1'))), 0);
  world.runFor(1e9);
  assert.equal(ip6stat(a.k, 'ip6s_badscope'), 1);
  assert.deepEqual(seen.filter((l) => l.endsWith('nxt 58')), []);
});
