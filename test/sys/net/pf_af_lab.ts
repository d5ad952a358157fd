/**
 * af-to scenario: an IPv6-only client and an IPv4-only server on either
 * side of a router that translates (NAT64 with 64:ff9b::/96, or NAT46).
 *
 *   client6 2001:db8:1::10 -- em0 2001:db8:1::1 [router] em1 192.0.2.1 -- server4 192.0.2.20
 */
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { Em } from '../../../src/sys/dev/em.js';
import { if_addr_add, if_setflags_up, type Ifnet } from '../../../src/sys/net/if.js';
import { ether_ifattach } from '../../../src/sys/net/if_ethersubr.js';
import { loopattach } from '../../../src/sys/net/if_loop.js';
import { maskFromLen4 } from '../../../src/wire/addr.js';
import { inet6_enable } from '../../../src/sys/netinet6/in6.js';
import { rt6_route_add } from '../../../src/sys/net/route6.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { get16, get32, put16, put32 } from '../../../src/wire/bytes.js';
import { pseudoSum4, pseudoSum6, sum16 } from '../../../src/wire/checksum.js';
import { ip6_output } from '../../../src/sys/netinet6/ip6_output.js';
import { ip_output } from '../../../src/sys/netinet/ip_output.js';
import { wire, ip, type Host } from '../netinet/lab.js';
import { addr6, ip6 } from '../netinet6/lab6.js';

let macSeq = 0x40;

/** A host with em(4) NICs and lo0; IPv4 addresses where given ('' for none), IPv6 enabled. */
export function host46(world: World, name: string, v4: string[]): Host {
  const k = new Kernel(world, { hostname: name });
  const l = loopattach(k);
  if_addr_add(l, ip('127.0.0.1'), 0xff000000);
  const ifs: Ifnet[] = [];
  for (const a of v4) {
    macSeq++;
    const nic = new Em(k, { lladdr: `02:00:00:00:af:${macSeq.toString(16).padStart(2, '0')}` });
    ether_ifattach(nic.ifp);
    if_setflags_up(nic.ifp, true);
    if (a !== '') {
      const [addr, len] = a.split('/');
      if_addr_add(nic.ifp, ip(addr!), maskFromLen4(Number(len ?? 24)));
    }
    ifs.push(nic.ifp);
  }
  inet6_enable(k);
  return { k, ifs };
}

export interface AfLab {
  world: World;
  c: Host;
  r: Host;
  s: Host;
}

export function afLab(seed = 3): AfLab {
  macSeq = 0x40;
  const world = new World({ seed });
  const c = host46(world, 'client6', ['']);
  const r = host46(world, 'router', ['', '192.0.2.1/24']);
  const s = host46(world, 'server4', ['192.0.2.20/24']);
  wire(world, c.ifs[0]!, r.ifs[0]!, { delay: 50_000 });
  wire(world, r.ifs[1]!, s.ifs[0]!, { delay: 50_000 });
  addr6(c, 0, '2001:db8:1::10/64');
  addr6(r, 0, '2001:db8:1::1/64');
  rt6_route_add(c.k, new Uint8Array(16), 0, ip6('2001:db8:1::1'));
  rt_route_add(s.k, 0, 0, ip('192.0.2.1'));
  r.k.sysctl.set('net.inet.ip.forwarding', 1);
  r.k.sysctl.set('net.inet6.ip6.forwarding', 1);
  world.runFor(12e9);
  return { world, c, r, s };
}

function addrBytes(b: Uint8Array, o: number, a: Uint8Array): void {
  b.set(a, o);
}

/** An IPv6 packet (40-byte header) carrying `l4` (next header nxt), hop limit hlim; the L4 checksum at csumAt is filled. */
export function v6Packet(src: Uint8Array, dst: Uint8Array, nxt: number, l4: Uint8Array, csumAt: number, hlim = 64, tclass = 0): Uint8Array {
  const b = new Uint8Array(40 + l4.length);
  put32(b, 0, (0x60000000 | (tclass << 20)) >>> 0);
  put16(b, 4, l4.length);
  b[6] = nxt;
  b[7] = hlim;
  addrBytes(b, 8, src);
  addrBytes(b, 24, dst);
  b.set(l4, 40);
  if (csumAt >= 0) {
    put16(b, 40 + csumAt, 0);
    let c = ~sum16(b, 40, l4.length, pseudoSum6(b, 8, 24, nxt, l4.length)) & 0xffff;
    if (c === 0 && nxt === 17) c = 0xffff;
    put16(b, 40 + csumAt, c);
  }
  return b;
}

/** An IPv4 packet (20-byte header) carrying `l4`; the L4 checksum at csumAt is filled (ICMP: no pseudo-header). */
export function v4Packet(src: number, dst: number, proto: number, l4: Uint8Array, csumAt: number, ttl = 64, id = 0x4242, df = false, tos = 0): Uint8Array {
  const b = new Uint8Array(20 + l4.length);
  b[0] = 0x45;
  b[1] = tos;
  put16(b, 2, b.length);
  put16(b, 4, id);
  put16(b, 6, df ? 0x4000 : 0);
  b[8] = ttl;
  b[9] = proto;
  put32(b, 12, src >>> 0);
  put32(b, 16, dst >>> 0);
  put16(b, 10, ~sum16(b, 0, 20) & 0xffff);
  b.set(l4, 20);
  if (csumAt >= 0) {
    put16(b, 20 + csumAt, 0);
    const ps = proto === 1 ? 0 : pseudoSum4(src >>> 0, dst >>> 0, proto, l4.length);
    let c = ~sum16(b, 20, l4.length, ps) & 0xffff;
    if (c === 0 && proto === 17) c = 0xffff;
    put16(b, 20 + csumAt, c);
  }
  return b;
}

export function udp(sport: number, dport: number, data: number[]): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put16(b, 4, b.length);
  b.set(data, 8);
  return b;
}

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, win: number, data: number[] = []): Uint8Array {
  const b = new Uint8Array(20 + data.length);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put32(b, 4, seq >>> 0);
  put32(b, 8, ack >>> 0);
  b[12] = 5 << 4;
  b[13] = flags;
  put16(b, 14, win);
  b.set(data, 20);
  return b;
}

export function icmpEcho(type: number, id: number, seq: number, data: number[]): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b[0] = type;
  put16(b, 4, id);
  put16(b, 6, seq);
  b.set(data, 8);
  return b;
}

/** The datagram cut into fragments of `sizes` bytes (the last takes the rest), each a packet with its fragment header. */
export function fragments6(whole: Uint8Array, id: number, sizes: number[], opts: { dstopts?: boolean; hlim?: number } = {}): Uint8Array[] {
  const l4 = whole.subarray(40);
  const nxt = whole[6]!;
  const pre = opts.dstopts === true ? 8 : 0;
  const out: Uint8Array[] = [];
  let off = 0;
  for (let i = 0; off < l4.length; i++) {
    const len = i < sizes.length ? Math.min(sizes[i]!, l4.length - off) : l4.length - off;
    const p = new Uint8Array(40 + pre + 8 + len);
    p.set(whole.subarray(0, 40));
    if (opts.hlim !== undefined) p[7] = opts.hlim;
    put16(p, 4, pre + 8 + len);
    if (pre !== 0) {
      p[6] = 60;
      p[40] = 44; // a destination options header of padding (PadN), then the fragment header
      p[42] = 1;
      p[43] = 4;
    } else p[6] = 44;
    const fh = 40 + pre;
    p[fh] = nxt;
    put16(p, fh + 2, off | (off + len < l4.length ? 1 : 0));
    put32(p, fh + 4, id);
    p.set(l4.subarray(off, off + len), fh + 8);
    out.push(p);
    off += len;
  }
  return out;
}

export function send6raw(k: Kernel, bytes: Uint8Array): number {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  return ip6_output(k, m, 0x02 /* IPV6_FORWARDING: as built */, null);
}

export function send4raw(k: Kernel, bytes: Uint8Array): number {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  return ip_output(k, m, 0x2 /* IP_RAWOUTPUT */, null);
}

/** IPv4 datagrams among captured Ethernet frames. */
export function v4Of(frames: Uint8Array[], proto: number): Uint8Array[] {
  return frames.filter((f) => f[12] === 8 && f[13] === 0 && f[23] === proto).map((f) => f.slice(14));
}

/** IPv6 packets among captured Ethernet frames (next header as given). */
export function v6Of(frames: Uint8Array[], nxt: number): Uint8Array[] {
  return frames.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === nxt).map((f) => f.slice(14));
}

export { get16, get32 };
