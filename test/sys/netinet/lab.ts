/**
 * Scenario helpers: kernels with em(4) NICs joined by cables, addresses
 * configured as ifconfig does (if_addr_add), routes as route(8) adds them,
 * and hand-built ICMP echo requests sent through ip_output.
 */
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { Cable, type CableOptions } from '../../../src/sys/dev/cable.js';
import { Em } from '../../../src/sys/dev/em.js';
import { if_addr_add, if_setflags_up, type Ifnet } from '../../../src/sys/net/if.js';
import { ether_ifattach } from '../../../src/sys/net/if_ethersubr.js';
import { loopattach } from '../../../src/sys/net/if_loop.js';
import { parseIp4, maskFromLen4 } from '../../../src/wire/addr.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { ip_output } from '../../../src/sys/netinet/ip_output.js';
import { Ipv4Packet, IPPROTO_ICMP } from '../../../src/wire/ip4.js';
import { IcmpPacket, ICMP_ECHO } from '../../../src/wire/icmp.js';
import type { Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';

export function ip(s: string): number {
  const a = parseIp4(s);
  if (a < 0) throw new Error(`bad address ${s}`);
  return a;
}

let macSeq = 0;

export interface Host {
  k: Kernel;
  ifs: Ifnet[];
}

export function host(world: World, name: string, addrs: string[], lo = true): Host {
  const k = new Kernel(world, { hostname: name });
  if (lo) {
    const l = loopattach(k);
    if_addr_add(l, ip('127.0.0.1'), 0xff000000);
  }
  const ifs: Ifnet[] = [];
  for (const a of addrs) {
    macSeq++;
    const nic = new Em(k, { lladdr: `02:00:00:00:00:${macSeq.toString(16).padStart(2, '0')}` });
    ether_ifattach(nic.ifp);
    if_setflags_up(nic.ifp, true);
    const [addr, len] = a.split('/');
    if_addr_add(nic.ifp, ip(addr!), maskFromLen4(Number(len ?? 24)));
    ifs.push(nic.ifp);
  }
  return { k, ifs };
}

export function wire(world: World, a: Ifnet, b: Ifnet, opts: CableOptions = {}): Cable {
  return new Cable(world, opts).connect(a.if_softc as Em, b.if_softc as Em);
}

/** hostA -- router -- hostB, default routes on the hosts. */
export function threeHosts(seed = 1): { world: World; a: Host; r: Host; b: Host; c1: Cable; c2: Cable } {
  macSeq = 0;
  const world = new World({ seed });
  const a = host(world, 'a', ['192.0.2.10/24']);
  const r = host(world, 'router', ['192.0.2.1/24', '198.51.100.1/24']);
  const b = host(world, 'b', ['198.51.100.20/24']);
  const c1 = wire(world, a.ifs[0]!, r.ifs[0]!);
  const c2 = wire(world, r.ifs[1]!, b.ifs[0]!);
  rt_route_add(a.k, 0, 0, ip('192.0.2.1'));
  rt_route_add(b.k, 0, 0, ip('198.51.100.1'));
  r.k.sysctl.set('net.inet.ip.forwarding', 1);
  world.runFor(1e9);
  return { world, a, r, b, c1, c2 };
}

/** An ICMP echo request mbuf from src (0: chosen by ip_output) to dst. */
export function echoRequest(k: Kernel, dst: number, datalen = 56, opts: { df?: boolean; ttl?: number; id?: number; seq?: number; src?: number } = {}): Mbuf {
  const len = 20 + 8 + datalen;
  const m = k.mbufs.get(len)!;
  m.append(len);
  m.buf.fill(0, m.off, m.off + len);
  const iph = new Ipv4Packet(m.buf, m.off, len);
  iph.version = 4;
  iph.ihl = 5;
  iph.totalLength = len;
  iph.ttl = opts.ttl ?? 64;
  iph.protocol = IPPROTO_ICMP;
  iph.src = opts.src ?? 0;
  iph.dst = dst;
  if (opts.df) iph.df = true;
  const icp = new IcmpPacket(m.buf, m.off + 20, 8 + datalen);
  icp.type = ICMP_ECHO;
  icp.id = opts.id ?? 0x1234;
  icp.seq = opts.seq ?? 0;
  for (let i = 0; i < datalen; i++) m.buf[m.off + 28 + i] = i & 0xff;
  icp.fillChecksum();
  return m;
}

export function send(k: Kernel, m: Mbuf): number {
  return ip_output(k, m, 0, null);
}

/** Counter by name. */
export function ipstat(k: Kernel, name: string): number {
  return k.stats.ipstat.value(name);
}
export function icmpstat(k: Kernel, name: string, i = 0): number {
  return k.stats.icmpstat.value(name, i);
}
