/**
 * IPv6 scenario helpers: the IPv4 lab's hosts (em(4) NICs, cables, lo0)
 * with IPv6 enabled (link-local addresses), documentation addresses
 * (2001:db8::/32) configured as `ifconfig IF inet6 ADDR/64` does, static
 * IPv6 routes, and hand-built ICMPv6 echo requests sent through ip6_output.
 */
import { World } from '../../../src/sys/kern/kern_clock.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import type { Cable } from '../../../src/sys/dev/cable.js';
import type { Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';
import { M_ICMP_CSUM_OUT } from '../../../src/sys/kern/uipc_mbuf.js';
import { host, wire, type Host } from '../netinet/lab.js';
import { parseIp6 } from '../../../src/wire/addr.js';
import { inet6_enable, in6_update_ifa } from '../../../src/sys/netinet6/in6.js';
import { rt6_route_add } from '../../../src/sys/net/route6.js';
import { ip6_output } from '../../../src/sys/netinet6/ip6_output.js';
import { in6_setscope } from '../../../src/sys/netinet6/in6_var.js';
import { ICMP6_ECHO_REQUEST } from '../../../src/wire/icmp6.js';
import { IPPROTO_ICMPV6 } from '../../../src/wire/ip4.js';

export function ip6(s: string, ifidx = 0): Uint8Array {
  const a = parseIp6(s);
  if (a === null) throw new Error(`bad address ${s}`);
  if (ifidx) in6_setscope(a, 0, ifidx);
  return a;
}

/** Configure addr/plen on the host's n-th interface. */
export function addr6(h: Host, n: number, a: string): void {
  const [addr, len] = a.split('/');
  const r = in6_update_ifa(h.k, h.ifs[n]!, ip6(addr!), Number(len ?? 64));
  if (typeof r === 'number') throw new Error(`in6_update_ifa: ${r}`);
}

/**
 * hostA -- router -- hostB over IPv6 (IPv4 addresses too, as the IPv4
 * lab), default routes via the router's global addresses, forwarding on,
 * DAD finished.
 */
export function threeHosts6(seed = 1, opts: { forwarding?: boolean } = {}): { world: World; a: Host; r: Host; b: Host; c1: Cable; c2: Cable } {
  const world = new World({ seed });
  const a = host(world, 'a', ['192.0.2.10/24']);
  const r = host(world, 'router', ['192.0.2.1/24', '198.51.100.1/24']);
  const b = host(world, 'b', ['198.51.100.20/24']);
  const c1 = wire(world, a.ifs[0]!, r.ifs[0]!);
  const c2 = wire(world, r.ifs[1]!, b.ifs[0]!);
  for (const h of [a, r, b]) inet6_enable(h.k);
  addr6(a, 0, '2001:db8:1::10/64');
  addr6(r, 0, '2001:db8:1::1/64');
  addr6(r, 1, '2001:db8:2::1/64');
  addr6(b, 0, '2001:db8:2::20/64');
  rt6_route_add(a.k, new Uint8Array(16), 0, ip6('2001:db8:1::1'));
  rt6_route_add(b.k, new Uint8Array(16), 0, ip6('2001:db8:2::1'));
  if (opts.forwarding !== false) r.k.sysctl.set('net.inet6.ip6.forwarding', 1);
  world.runFor(12e9);
  return { world, a, r, b, c1, c2 };
}

/** An ICMPv6 echo request (source chosen by ip6_output, checksum filled there). */
export function echo6(k: Kernel, dst: Uint8Array, datalen = 56, opts: { hlim?: number; id?: number; seq?: number; src?: Uint8Array } = {}): Mbuf {
  const len = 40 + 8 + datalen;
  const m = k.mbufs.get(len)!;
  m.append(len);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + len);
  b[o] = 0x60;
  b[o + 6] = IPPROTO_ICMPV6;
  b[o + 7] = opts.hlim ?? 64;
  if (opts.src) b.set(opts.src, o + 8);
  b.set(dst, o + 24);
  b[o + 40] = ICMP6_ECHO_REQUEST;
  b[o + 44] = ((opts.id ?? 0x1234) >>> 8) & 0xff;
  b[o + 45] = (opts.id ?? 0x1234) & 0xff;
  b[o + 46] = ((opts.seq ?? 0) >>> 8) & 0xff;
  b[o + 47] = (opts.seq ?? 0) & 0xff;
  for (let i = 0; i < datalen; i++) b[o + 48 + i] = i & 0xff;
  m.csum_flags |= M_ICMP_CSUM_OUT;
  return m;
}

export function send6(k: Kernel, m: Mbuf, flags = 0): number {
  return ip6_output(k, m, flags, null);
}

export function ip6stat(k: Kernel, name: string, i = 0): number {
  return k.stats.ip6stat.value(name, i);
}
export function icmp6stat(k: Kernel, name: string, i = 0): number {
  return k.stats.icmp6stat.value(name, i);
}
