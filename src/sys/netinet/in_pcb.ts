/**
 * Protocol control blocks (sys/netinet/in_pcb.c): one Inpcb per inet or
 * inet6 socket of UDP and TCP, kept in a per-protocol, per-family
 * Inpcbtable (udbtable, udb6table, tcbtable, tcb6table on k.inet).
 *
 * Lookups are OpenBSD's:
 * - in_pcblookup / in6_pcblookup: the exact 4-tuple (faddr, fport, laddr,
 *   lport) through the connection hash; no wildcards, so listeners are not
 *   found.
 * - in_pcblookup_listen / in6_pcblookup_listen: `*.* <-> laddr.lport`, then
 *   `*.* <-> *.lport`, through the same hash (a bound socket hashes with a
 *   zero foreign side).
 * - in_pcblookup_local / in6_pcblookup_local: the best match for a local
 *   address and port through the port hash (bind conflicts, port picking).
 *
 * Both hashes are intrusive singly linked bucket lists on the Inpcb (no
 * allocation per lookup); an exact hit moves to the head of its bucket, as
 * OpenBSD does in place of the old one-entry cache.  Tables grow by
 * doubling at a load factor of 3/4 (in_pcbresize).  The hash is keyed per
 * table from a fork of the kernel's random stream, so it is deterministic
 * per seed and does not consume draws of the kernel's own stream.
 *
 * Addresses: IPv4 PCBs use inp_laddr/inp_faddr (u32 numbers, the fast
 * path); IPv6 PCBs (INP_IPV6 in inp_flags) use inp_laddr6/inp_faddr6 (16
 * bytes each).  Ports are host-order numbers.
 *
 * Ephemeral ports (in_pcbpickport) are drawn from the kernel's random
 * stream with OpenBSD's algorithm: a random start in [first, last), then
 * upwards, skipping net.inet.{tcp,udp}.baddynamic ports and ports in use.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import type { Socket } from '../kern/uipc_socket.js';
import { Random } from '../kern/random.js';
import { Route, route_mpath } from './ip_output.js';
import type { Route6 } from '../netinet6/inet6.js';
import { ifa_ifwithaddr, IN_MULTICAST, INADDR_ANY, INADDR_BROADCAST } from './in.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import {
  EACCES, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, ECONNREFUSED, EHOSTDOWN, EHOSTUNREACH, EINVAL, EMSGSIZE, ENOPROTOOPT,
} from '../sys/errno.js';
import { rtisvalid } from '../net/route.js';
import type { SysctlNode } from '../kern/kern_sysctl.js';
import { SO_ACCEPTCONN, SO_BINDANY, SO_REUSEADDR, SO_REUSEPORT, SOCK_DGRAM, PR_CONNREQUIRED, SS_NOFDREF } from '../kern/uipc_socket.js';

export const AF_INET = 2;
export const AF_INET6 = 24;

// inp_flags, netinet/in_pcb.h
export const INP_RECVOPTS = 0x001;
export const INP_RECVRETOPTS = 0x002;
export const INP_RECVDSTADDR = 0x004;
export const INP_RXDSTOPTS = INP_RECVOPTS;
export const INP_HDRINCL = 0x008;
/** Ephemeral ports from the high range (IP_PORTRANGE_HIGH). */
export const INP_HIGHPORT = 0x010;
/** Ephemeral ports below 1024 (IP_PORTRANGE_LOW, root only). */
export const INP_LOWPORT = 0x020;
export const INP_RECVIF = 0x080;
/** An IPv6 PCB: the 16-byte addresses are the ones in use. */
export const INP_IPV6 = 0x100;
export const INP_RECVTTL = 0x400;
export const INP_RECVDSTPORT = 0x200;

// lookup flags
export const INPLOOKUP_WILDCARD = 1;
export const INPLOOKUP_SETLOCAL = 2;
export const INPLOOKUP_IPV6 = 4;

// sysctl defaults, netinet/in.h
export const IPPORT_RESERVED = 1024;
export const IPPORT_USERRESERVED = 49151;
export const IPPORT_HIFIRSTAUTO = 49152;
export const IPPORT_HILASTAUTO = 65535;

/** Default net.inet.tcp.baddynamic (DEFBADDYNAMICPORTS_TCP). */
export const DEFBADDYNAMICPORTS_TCP: readonly number[] = [587, 749, 750, 751, 853, 871, 2049, 6000, 6001, 6002, 6003, 6004, 6005, 6006, 6007, 6008, 6009, 6010];
/** Default net.inet.udp.baddynamic (DEFBADDYNAMICPORTS_UDP). */
export const DEFBADDYNAMICPORTS_UDP: readonly number[] = [623, 664, 749, 750, 751, 2049, 3784, 3785, 7784];
/** Default rootonly ports beyond the reserved range (DEFROOTONLYPORTS_*). */
export const DEFROOTONLYPORTS: readonly number[] = [2049];

/**
 * Knobs and hooks of the PCB layer, one per kernel (k.inet.pcbconf):
 * the ephemeral port ranges (net.inet.ip.portfirst ... porthilast), the
 * bad dynamic ports, and the IPv6 parts the IPv6 code plugs in.
 */
export class PcbConf {
  readonly portfirst: SysctlNode;
  readonly portlast: SysctlNode;
  readonly porthifirst: SysctlNode;
  readonly porthilast: SysctlNode;
  /** net.inet.tcp.baddynamic / net.inet.udp.baddynamic */
  readonly baddynamic = { tcp: new Set<number>(DEFBADDYNAMICPORTS_TCP), udp: new Set<number>(DEFBADDYNAMICPORTS_UDP) };
  /** IPv6: is addr6 one of our addresses (in6_pcbaddrisavail)?  null until IPv6 exists. */
  in6_ifaddr_check: ((addr6: Uint8Array) => boolean) | null = null;
  /** IPv6: in6_pcbconnect(), set by the IPv6 code. */
  in6_pcbconnect: ((inp: Inpcb, sin6: Sockaddr) => number) | null = null;
  /** IPv6: udp6_output() (m consumed; 0 or an errno), set by the IPv6 code. */
  udp6_output: ((inp: Inpcb, m: Mbuf, addr: Sockaddr | null) => number) | null = null;
  /** The last inp_id handed out. */
  pcbseq = 0;
  /** net.inet.udp.checksum: compute checksums of datagrams sent. */
  readonly udpcksum: SysctlNode;
  /** net.inet.udp.recvspace: so_rcv of new UDP sockets. */
  readonly udp_recvspace: SysctlNode;
  /** net.inet.udp.sendspace: so_snd of new UDP sockets (the largest datagram). */
  readonly udp_sendspace: SysctlNode;

  constructor(k: Kernel) {
    const s = k.sysctl;
    this.portfirst = s.int('net.inet.ip.portfirst', IPPORT_RESERVED, 'first ephemeral port', 0, 65535);
    this.portlast = s.int('net.inet.ip.portlast', IPPORT_USERRESERVED, 'last ephemeral port', 0, 65535);
    this.porthifirst = s.int('net.inet.ip.porthifirst', IPPORT_HIFIRSTAUTO, 'first high ephemeral port', 0, 65535);
    this.porthilast = s.int('net.inet.ip.porthilast', IPPORT_HILASTAUTO, 'last high ephemeral port', 0, 65535);
    this.udpcksum = s.int('net.inet.udp.checksum', 1, 'compute UDP checksums', 0, 1);
    this.udp_recvspace = s.int('net.inet.udp.recvspace', 40 * (1024 + 16), 'UDP receive buffer', 0, 2 * 1024 * 1024);
    this.udp_sendspace = s.int('net.inet.udp.sendspace', 9216, 'UDP send buffer (largest datagram)', 0, 2 * 1024 * 1024);
  }
}

/** PRC_NCMDS: protocol control commands (ip_icmp.ts PRC_*). */
export const PRC_NCMDS = 21;

/** PRC_IS_REDIRECT(): PRC_REDIRECT_NET ... PRC_REDIRECT_TOSHOST */
export function PRC_IS_REDIRECT(cmd: number): boolean {
  return cmd >= 14 && cmd <= 17;
}

/** inetctlerrmap[]: the errno a protocol control command means for a socket. */
export const inetctlerrmap: readonly number[] = [
  0, 0, 0, 0,
  0, EMSGSIZE, EHOSTDOWN, EHOSTUNREACH,
  EHOSTUNREACH, EHOSTUNREACH, ECONNREFUSED, ECONNREFUSED,
  EMSGSIZE, EHOSTUNREACH, 0, 0,
  0, 0, 0, 0,
  ENOPROTOOPT,
];

/** The initial hash size of a table (in_pcbinit(&udbtable, UDBHASHSIZE)). */
export const INPCBHASHSIZE = 128;

/**
 * A socket address (struct sockaddr_in / sockaddr_in6 in one reusable
 * object).  AF_INET uses addr (u32); AF_INET6 uses addr6.
 */
export class Sockaddr {
  family = AF_INET;
  port = 0;
  addr = 0;
  readonly addr6 = new Uint8Array(16);
  scope_id = 0;

  static in(addr: number, port: number): Sockaddr {
    const s = new Sockaddr();
    s.addr = addr >>> 0;
    s.port = port;
    return s;
  }

  static in6(addr6: Uint8Array, port: number, scope_id = 0): Sockaddr {
    const s = new Sockaddr();
    s.family = AF_INET6;
    s.addr6.set(addr6);
    s.port = port;
    s.scope_id = scope_id;
    return s;
  }

  set(o: Sockaddr): this {
    this.family = o.family;
    this.port = o.port;
    this.addr = o.addr;
    this.addr6.set(o.addr6);
    this.scope_id = o.scope_id;
    return this;
  }

  clone(): Sockaddr {
    return new Sockaddr().set(this);
  }

  /** sa_len of the C structure (what a datagram's address costs in sb_cc). */
  get sa_len(): number {
    return this.family === AF_INET6 ? 28 : 16;
  }
}

/** struct inpcb */
export class Inpcb {
  inp_flags = 0;
  inp_laddr = INADDR_ANY;
  inp_faddr = INADDR_ANY;
  readonly inp_laddr6 = new Uint8Array(16);
  readonly inp_faddr6 = new Uint8Array(16);
  inp_lport = 0;
  inp_fport = 0;
  inp_rtableid = 0;
  /** The protocol's control block (struct tcpcb for TCP), or null. */
  inp_ppcb: unknown = null;
  /** The cached route of a connected PCB. */
  readonly inp_route = new Route();
  /** The cached IPv6 route of a connected IPv6 PCB (made by netinet6/in6_pcb.ts). */
  inp_route6: Route6 | null = null;
  /** inp_ip.ip_ttl / inp_ip.ip_tos: header fields of our datagrams. */
  inp_ip_ttl = 64;
  inp_ip_tos = 0;
  /** IP_MINTTL: drop datagrams with a smaller TTL (0: off). */
  inp_ip_minttl = 0;
  /** IPv6 hop limit (-1: default). */
  inp_hops = -1;
  inp_flowid = 0;
  /** Set once detached (in_pcbdetach). */
  inp_detached = false;
  /** A per-kernel serial number (netstat -A prints fake pointers from it). */
  inp_id = 0;

  // Intrusive links: table queue, connection hash, port hash.
  /** @internal */ qnext: Inpcb | null = null;
  /** @internal */ qprev: Inpcb | null = null;
  /** @internal */ hnext: Inpcb | null = null;
  /** @internal */ hbucket = -1;
  /** @internal */ lnext: Inpcb | null = null;
  /** @internal */ lbucket = -1;

  constructor(
    readonly inp_table: Inpcbtable,
    /** The socket; its so_pcb is this PCB. */
    public inp_socket: Socket,
  ) {
    if (inp_table.inpt_af === AF_INET6) this.inp_flags |= INP_IPV6;
  }

  get isIpv6(): boolean {
    return (this.inp_flags & INP_IPV6) !== 0;
  }
}

/** struct inpcbtable: the PCBs of one protocol and address family. */
export class Inpcbtable {
  /** Queue head: newest first, as TAILQ_INSERT_HEAD. */
  inpt_head: Inpcb | null = null;
  inpt_count = 0;
  inpt_size: number;
  private hashtbl: Array<Inpcb | null>;
  private lhashtbl: Array<Inpcb | null>;
  private mask: number;
  private readonly k0: number;
  private readonly k1: number;

  constructor(
    readonly kernel: Kernel,
    /** IPPROTO_UDP or IPPROTO_TCP. */
    readonly inpt_proto: number,
    /** AF_INET or AF_INET6. */
    readonly inpt_af: number,
    hashsize = INPCBHASHSIZE,
  ) {
    this.inpt_size = hashsize;
    this.mask = hashsize - 1;
    this.hashtbl = new Array<Inpcb | null>(hashsize).fill(null);
    this.lhashtbl = new Array<Inpcb | null>(hashsize).fill(null);
    const r: Random = kernel.random.fork(`inpcbtable:${inpt_proto}:${inpt_af}`);
    this.k0 = r.arc4random() | 0;
    this.k1 = r.arc4random() | 0;
  }

  /** The PCBs, newest first (a copy: for tools, not per packet). */
  list(): Inpcb[] {
    const out: Inpcb[] = [];
    for (let p = this.inpt_head; p !== null; p = p.qnext) out.push(p);
    return out;
  }

  /** in_pcbhash(): a keyed hash of the 4-tuple (IPv4). */
  hash4(faddr: number, fport: number, laddr: number, lport: number, rdomain: number): number {
    let h = this.k0 ^ rdomain;
    h = mix(h, faddr);
    h = mix(h, laddr ^ this.k1);
    h = mix(h, (fport << 16) | lport);
    return fin(h);
  }

  /** in6_pcbhash(): a keyed hash of the 4-tuple (IPv6). */
  hash6(faddr: Uint8Array, fport: number, laddr: Uint8Array, lport: number, rdomain: number): number {
    let h = this.k0 ^ rdomain;
    for (let i = 0; i < 16; i += 4) {
      h = mix(h, (faddr[i]! << 24) | (faddr[i + 1]! << 16) | (faddr[i + 2]! << 8) | faddr[i + 3]!);
      h = mix(h, ((laddr[i]! << 24) | (laddr[i + 1]! << 16) | (laddr[i + 2]! << 8) | laddr[i + 3]!) ^ this.k1);
    }
    h = mix(h, (fport << 16) | lport);
    return fin(h);
  }

  /** in_pcblhash(): a keyed hash of the local port. */
  lhash(lport: number, rdomain: number): number {
    return fin(mix(this.k1 ^ rdomain, lport ^ this.k0));
  }

  /** @internal */ bucket(h: number): Inpcb | null {
    return this.hashtbl[h & this.mask]!;
  }

  /** @internal */ lbucketHead(h: number): Inpcb | null {
    return this.lhashtbl[h & this.mask]!;
  }

  /** @internal in_pcbhash_insert() */
  hashInsert(inp: Inpcb): void {
    const lb = this.lhash(inp.inp_lport, inp.inp_rtableid) & this.mask;
    inp.lbucket = lb;
    inp.lnext = this.lhashtbl[lb]!;
    this.lhashtbl[lb] = inp;
    const h =
      (inp.isIpv6
        ? this.hash6(inp.inp_faddr6, inp.inp_fport, inp.inp_laddr6, inp.inp_lport, inp.inp_rtableid)
        : this.hash4(inp.inp_faddr, inp.inp_fport, inp.inp_laddr, inp.inp_lport, inp.inp_rtableid)) & this.mask;
    inp.hbucket = h;
    inp.hnext = this.hashtbl[h]!;
    this.hashtbl[h] = inp;
  }

  /** @internal LIST_REMOVE of both hash links. */
  hashRemove(inp: Inpcb): void {
    if (inp.hbucket >= 0) {
      this.hashtbl[inp.hbucket] = unlink(this.hashtbl[inp.hbucket]!, inp, false);
      inp.hbucket = -1;
      inp.hnext = null;
    }
    if (inp.lbucket >= 0) {
      this.lhashtbl[inp.lbucket] = unlink(this.lhashtbl[inp.lbucket]!, inp, true);
      inp.lbucket = -1;
      inp.lnext = null;
    }
  }

  /** @internal Move inp to the head of its connection bucket. */
  toFront(inp: Inpcb): void {
    const b = inp.hbucket;
    if (this.hashtbl[b] === inp) return;
    this.hashtbl[b] = unlink(this.hashtbl[b]!, inp, false);
    inp.hnext = this.hashtbl[b]!;
    this.hashtbl[b] = inp;
  }

  /** @internal in_pcbresize() */
  resize(size: number): void {
    this.inpt_size = size;
    this.mask = size - 1;
    this.hashtbl = new Array<Inpcb | null>(size).fill(null);
    this.lhashtbl = new Array<Inpcb | null>(size).fill(null);
    for (let p = this.inpt_head; p !== null; p = p.qnext) {
      p.hbucket = -1;
      p.lbucket = -1;
      this.hashInsert(p);
    }
  }
}

function mix(h: number, v: number): number {
  h ^= Math.imul(v | 0, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fin(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function unlink(head: Inpcb, inp: Inpcb, lhash: boolean): Inpcb | null {
  if (lhash) {
    if (head === inp) return inp.lnext;
    for (let p = head; p.lnext !== null; p = p.lnext) {
      if (p.lnext === inp) {
        p.lnext = inp.lnext;
        break;
      }
    }
    return head;
  }
  if (head === inp) return inp.hnext;
  for (let p = head; p.hnext !== null; p = p.hnext) {
    if (p.hnext === inp) {
      p.hnext = inp.hnext;
      break;
    }
  }
  return head;
}

const ZERO6 = new Uint8Array(16);

export function IN6_IS_ADDR_UNSPECIFIED(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

export function IN6_ARE_ADDR_EQUAL(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** in_baddynamic(): a port never picked as an ephemeral port. */
export function in_baddynamic(k: Kernel, port: number, proto: number): boolean {
  const bad = k.inet.pcbconf.baddynamic;
  if (proto === IPPROTO_TCP) return bad.tcp.has(port);
  if (proto === IPPROTO_UDP) return bad.udp.has(port);
  return false;
}

/** in_rootonly(): a port only root may bind. */
export function in_rootonly(port: number, proto: number): boolean {
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return false;
  return port < IPPORT_RESERVED || DEFROOTONLYPORTS.includes(port);
}

/**
 * in_pcballoc(): a new PCB for so in table, queued and hashed with an
 * all-zero tuple; so.so_pcb points to it.
 */
export function in_pcballoc(so: Socket, table: Inpcbtable): Inpcb {
  const inp = new Inpcb(table, so);
  inp.inp_rtableid = so.so_rtableid;
  inp.inp_id = ++table.kernel.inet.pcbconf.pcbseq;
  if (table.inpt_count++ > ((table.inpt_size * 3) >> 2)) table.resize(table.inpt_size * 2);
  inp.qnext = table.inpt_head;
  if (table.inpt_head !== null) table.inpt_head.qprev = inp;
  table.inpt_head = inp;
  table.hashInsert(inp);
  so.so_pcb = inp;
  return inp;
}

/** in_pcbrehash(): after a change of addresses or ports. */
export function in_pcbrehash(inp: Inpcb): void {
  const t = inp.inp_table;
  t.hashRemove(inp);
  t.hashInsert(inp);
}

/**
 * in_pcbdetach(): unhash and dequeue the PCB and cut it from its socket.
 * The socket itself is released by the caller (sofree).
 */
export function in_pcbdetach(inp: Inpcb): void {
  if (inp.inp_detached) return;
  inp.inp_detached = true;
  const so = inp.inp_socket;
  if (so.so_pcb === inp) so.so_pcb = null;
  inp.inp_route.ro_rt = null;
  const t = inp.inp_table;
  t.hashRemove(inp);
  if (inp.qprev !== null) inp.qprev.qnext = inp.qnext;
  else t.inpt_head = inp.qnext;
  if (inp.qnext !== null) inp.qnext.qprev = inp.qprev;
  inp.qnext = inp.qprev = null;
  t.inpt_count--;
}

/**
 * in_pcblookup(): the PCB connected exactly to faddr.fport <-> laddr.lport,
 * or null.  A hit moves to the head of its bucket.
 */
export function in_pcblookup(table: Inpcbtable, faddr: number, fport: number, laddr: number, lport: number, rtable: number): Inpcb | null {
  const h = table.hash4(faddr, fport, laddr, lport, rtable);
  for (let p = table.bucket(h); p !== null; p = p.hnext) {
    if (p.inp_fport === fport && p.inp_lport === lport && p.inp_faddr === faddr && p.inp_laddr === laddr && p.inp_rtableid === rtable) {
      table.toFront(p);
      return p;
    }
  }
  return null;
}

/** in6_pcblookup(): as in_pcblookup, for IPv6 addresses. */
export function in6_pcblookup(table: Inpcbtable, faddr: Uint8Array, fport: number, laddr: Uint8Array, lport: number, rtable: number): Inpcb | null {
  const h = table.hash6(faddr, fport, laddr, lport, rtable);
  for (let p = table.bucket(h); p !== null; p = p.hnext) {
    if (p.inp_fport === fport && p.inp_lport === lport && p.inp_rtableid === rtable &&
        IN6_ARE_ADDR_EQUAL(p.inp_faddr6, faddr) && IN6_ARE_ADDR_EQUAL(p.inp_laddr6, laddr)) {
      table.toFront(p);
      return p;
    }
  }
  return null;
}

/**
 * in_pcblookup_listen(): a socket bound to laddr.lport with no foreign
 * side, else one bound to *.lport.  (pf divert-to is not consulted yet: m
 * is accepted for the signature.)
 */
export function in_pcblookup_listen(table: Inpcbtable, laddr: number, lport: number, _m: Mbuf | null, rtable: number): Inpcb | null {
  return in_pcblookup(table, INADDR_ANY, 0, laddr, lport, rtable) ?? (laddr !== INADDR_ANY ? in_pcblookup(table, INADDR_ANY, 0, INADDR_ANY, lport, rtable) : null);
}

/** in6_pcblookup_listen() */
export function in6_pcblookup_listen(table: Inpcbtable, laddr: Uint8Array, lport: number, _m: Mbuf | null, rtable: number): Inpcb | null {
  return in6_pcblookup(table, ZERO6, 0, laddr, lport, rtable) ?? in6_pcblookup(table, ZERO6, 0, ZERO6, lport, rtable);
}

/**
 * in_pcblookup_local(): the PCB on lport that matches laddr best (exact
 * before wildcard); with INPLOOKUP_WILDCARD a wildcard match on either
 * side counts, without it only an exact one.
 */
export function in_pcblookup_local(table: Inpcbtable, laddr: number, lport: number, flags: number, rtable: number): Inpcb | null {
  let match: Inpcb | null = null;
  let matchwild = 3;
  for (let p = table.lbucketHead(table.lhash(lport, rtable)); p !== null; p = p.lnext) {
    if (p.inp_rtableid !== rtable || p.inp_lport !== lport) continue;
    let wildcard = 0;
    if (p.inp_faddr !== INADDR_ANY) wildcard++;
    if (p.inp_laddr !== laddr) {
      if (p.inp_laddr === INADDR_ANY || laddr === INADDR_ANY) wildcard++;
      else continue;
    }
    if ((wildcard === 0 || flags & INPLOOKUP_WILDCARD) && wildcard < matchwild) {
      match = p;
      if ((matchwild = wildcard) === 0) break;
    }
  }
  return match;
}

/** in6_pcblookup_local() (INPLOOKUP_IPV6) */
export function in6_pcblookup_local(table: Inpcbtable, laddr: Uint8Array, lport: number, flags: number, rtable: number): Inpcb | null {
  let match: Inpcb | null = null;
  let matchwild = 3;
  for (let p = table.lbucketHead(table.lhash(lport, rtable)); p !== null; p = p.lnext) {
    if (p.inp_rtableid !== rtable || p.inp_lport !== lport) continue;
    let wildcard = 0;
    if (!IN6_IS_ADDR_UNSPECIFIED(p.inp_faddr6)) wildcard++;
    if (!IN6_ARE_ADDR_EQUAL(p.inp_laddr6, laddr)) {
      if (IN6_IS_ADDR_UNSPECIFIED(p.inp_laddr6) || IN6_IS_ADDR_UNSPECIFIED(laddr)) wildcard++;
      else continue;
    }
    if ((wildcard === 0 || flags & INPLOOKUP_WILDCARD) && wildcard < matchwild) {
      match = p;
      if ((matchwild = wildcard) === 0) break;
    }
  }
  return match;
}

/** in_broadcast(): addr is a broadcast address of one of our interfaces. */
export function in_broadcast(k: Kernel, addr: number): boolean {
  if (addr === INADDR_BROADCAST || addr === INADDR_ANY) return true;
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    for (const ia of ifp.if_addrs) if (ia.broadaddr === addr >>> 0 && ia.mask !== 0xffffffff) return true;
  }
  return false;
}

/**
 * in_pcbaddrisavail(): may inp bind sin?  EADDRNOTAVAIL for an address
 * not ours (datagram sockets may bind broadcast addresses), EADDRINUSE
 * when the port is taken by a socket of another user, or by any socket
 * without SO_REUSEPORT on both sides (SO_REUSEADDR for an exact address
 * match comes in through `wild`, see in_pcbbind).
 */
export function in_pcbaddrisavail(inp: Inpcb, sin: Sockaddr, wild: number): number {
  const so = inp.inp_socket;
  const k = inp.inp_table.kernel;
  const table = inp.inp_table;
  const lport = sin.port;
  let reuseport = so.so_options & SO_REUSEPORT;
  if (inp.isIpv6) {
    if (sin.family !== AF_INET6) return EAFNOSUPPORT;
    // Local-address checks of IPv6 belong to the IPv6 helper (in6_pcbaddrisavail).
    const ip6check = k.inet.pcbconf.in6_ifaddr_check;
    if (!IN6_IS_ADDR_UNSPECIFIED(sin.addr6) && ip6check !== null && !ip6check(sin.addr6)) return EADDRNOTAVAIL;
    if (lport !== 0) {
      let t: Inpcb | null;
      if (so.so_euid !== 0) {
        t = in6_pcblookup_local(table, sin.addr6, lport, INPLOOKUP_WILDCARD, inp.inp_rtableid);
        if (t !== null && so.so_euid !== t.inp_socket.so_euid) return EADDRINUSE;
      }
      t = in6_pcblookup_local(table, sin.addr6, lport, wild, inp.inp_rtableid);
      if (t !== null && (reuseport & t.inp_socket.so_options) === 0) return EADDRINUSE;
    }
    return 0;
  }
  if (sin.family !== AF_INET) return EAFNOSUPPORT;
  const a = sin.addr >>> 0;
  if (IN_MULTICAST(a)) {
    if (so.so_options & (SO_REUSEADDR | SO_REUSEPORT)) reuseport = SO_REUSEADDR | SO_REUSEPORT;
  } else if (a !== INADDR_ANY) {
    const dgram = so.so_type === SOCK_DGRAM;
    if (!(so.so_options & SO_BINDANY) && !(dgram && a === INADDR_BROADCAST) && !(dgram && in_broadcast(k, a))) {
      if (ifa_ifwithaddr(k, a) === null) return EADDRNOTAVAIL;
    }
  }
  if (lport !== 0) {
    let t: Inpcb | null;
    if (so.so_euid !== 0 && !IN_MULTICAST(a)) {
      t = in_pcblookup_local(table, a, lport, INPLOOKUP_WILDCARD, inp.inp_rtableid);
      if (t !== null && so.so_euid !== t.inp_socket.so_euid) return EADDRINUSE;
    }
    t = in_pcblookup_local(table, a, lport, wild, inp.inp_rtableid);
    if (t !== null && (reuseport & t.inp_socket.so_options) === 0) return EADDRINUSE;
  }
  return 0;
}

/**
 * in_pcbbind(): bind inp to nam (null: only pick an ephemeral port, with
 * laddr the source address in_pcbconnect chose).  Returns 0 or an errno.
 */
export function in_pcbbind(inp: Inpcb, nam: Sockaddr | null, laddr: number | Uint8Array = INADDR_ANY): number {
  const so = inp.inp_socket;
  if (inp.inp_lport !== 0) return EINVAL;
  let wild = 0;
  if ((so.so_options & (SO_REUSEADDR | SO_REUSEPORT)) === 0 &&
      ((so.so_proto.pr_flags & PR_CONNREQUIRED) === 0 || (so.so_options & SO_ACCEPTCONN) === 0))
    wild = INPLOOKUP_WILDCARD;
  let lport = 0;
  if (inp.isIpv6) {
    if (!IN6_IS_ADDR_UNSPECIFIED(inp.inp_laddr6)) return EINVAL;
    wild |= INPLOOKUP_IPV6;
  } else if (inp.inp_laddr !== INADDR_ANY) return EINVAL;
  if (nam !== null) {
    const error = in_pcbaddrisavail(inp, nam, wild);
    if (error) return error;
    laddr = inp.isIpv6 ? nam.addr6 : nam.addr >>> 0;
    lport = nam.port;
  }
  if (lport === 0) {
    const r = in_pcbpickport(laddr, wild, inp);
    if (r < 0) return -r;
    lport = r;
  } else if (in_rootonly(lport, so.so_proto.pr_protocol) && so.so_euid !== 0) return EACCES;
  if (nam !== null) {
    if (inp.isIpv6) inp.inp_laddr6.set(nam.addr6);
    else inp.inp_laddr = nam.addr >>> 0;
  }
  inp.inp_lport = lport;
  in_pcbrehash(inp);
  return 0;
}

/**
 * in_pcbpickport(): an ephemeral port for inp, or -errno.  OpenBSD's walk:
 * a random start from the kernel's stream, then upwards with wraparound,
 * skipping bad dynamic ports and ports in use.
 */
export function in_pcbpickport(laddr: number | Uint8Array, wild: number, inp: Inpcb): number {
  const so = inp.inp_socket;
  const table = inp.inp_table;
  const k = table.kernel;
  const ports = k.inet.pcbconf;
  let first: number;
  let last: number;
  if (inp.inp_flags & INP_HIGHPORT) {
    first = ports.porthifirst.value;
    last = ports.porthilast.value;
  } else if (inp.inp_flags & INP_LOWPORT) {
    if (so.so_euid !== 0) return -EACCES;
    first = IPPORT_RESERVED - 1;
    last = 600;
  } else {
    first = ports.portfirst.value;
    last = ports.portlast.value;
  }
  const lower = Math.min(first, last);
  const higher = Math.max(first, last);
  let count = higher - lower;
  let candidate = lower + k.random.arc4random_uniform(count);
  const proto = so.so_proto.pr_protocol;
  for (;;) {
    do {
      if (count-- < 0) return -EADDRNOTAVAIL;
      ++candidate;
      if (candidate < lower || candidate > higher) candidate = lower;
    } while (in_baddynamic(k, candidate, proto));
    const t = typeof laddr === 'number'
      ? in_pcblookup_local(table, laddr, candidate, wild, inp.inp_rtableid)
      : in6_pcblookup_local(table, laddr, candidate, wild, inp.inp_rtableid);
    if (t === null) return candidate;
  }
}

/**
 * in_pcbselsrc(): the source address towards dst: the bound address, else
 * that of the route's interface.  Returns the address, or -errno.
 */
export function in_pcbselsrc(inp: Inpcb, dst: number): number {
  if (inp.inp_laddr !== INADDR_ANY && inp.inp_laddr !== INADDR_BROADCAST) return inp.inp_laddr;
  const k = inp.inp_table.kernel;
  // The route is the one ip_output() will use from this cache: resolved,
  // so an on-link destination gets its cloned host (ARP) route.
  const rt = route_mpath(k, inp.inp_route, dst);
  if (rt !== null && rtisvalid(rt) && rt.rt_ifa !== null) return rt.rt_ifa.addr;
  // A broadcast to 255.255.255.255 with no route: the first address of an interface.
  if (dst === INADDR_BROADCAST) {
    for (const ifp of k.ifnets) if (ifp !== undefined && ifp.if_addrs.length > 0 && !(ifp.if_flags & 0x8)) return ifp.if_addrs[0]!.addr;
  }
  return -EADDRNOTAVAIL;
}

/**
 * in_pcbconnect(): connect inp to sin (IPv4): pick the source address,
 * bind an ephemeral port if none, refuse a duplicate 4-tuple.
 */
export function in_pcbconnect(inp: Inpcb, sin: Sockaddr): number {
  if (inp.isIpv6) {
    const f = inp.inp_table.kernel.inet.pcbconf.in6_pcbconnect;
    return f !== null ? f(inp, sin) : EAFNOSUPPORT;
  }
  if (sin.family !== AF_INET) return EAFNOSUPPORT;
  if (sin.port === 0) return EADDRNOTAVAIL;
  const table = inp.inp_table;
  const ina = in_pcbselsrc(inp, sin.addr >>> 0);
  if (ina < 0) return -ina;
  if (in_pcblookup(table, sin.addr >>> 0, sin.port, ina, inp.inp_lport, inp.inp_rtableid) !== null) return EADDRINUSE;
  if (inp.inp_laddr === INADDR_ANY) {
    if (inp.inp_lport === 0) {
      const error = in_pcbbind(inp, null, ina);
      if (error) return error;
      if (in_pcblookup(table, sin.addr >>> 0, sin.port, ina, inp.inp_lport, inp.inp_rtableid) !== null) {
        inp.inp_lport = 0;
        in_pcbrehash(inp);
        return EADDRINUSE;
      }
    }
    inp.inp_laddr = ina;
  }
  inp.inp_faddr = sin.addr >>> 0;
  inp.inp_fport = sin.port;
  in_pcbrehash(inp);
  return 0;
}

/** in_pcbdisconnect(): forget the foreign side; detach when the socket is gone. */
export function in_pcbdisconnect(inp: Inpcb): void {
  inp.inp_flowid = 0;
  if (inp.inp_socket.so_state & SS_NOFDREF) in_pcbdetach(inp);
}

/** in_pcbunset_faddr() / in_pcbunset_laddr(): back to the wildcard sides. */
export function in_pcbunset_faddr(inp: Inpcb): void {
  inp.inp_faddr = INADDR_ANY;
  inp.inp_faddr6.fill(0);
  inp.inp_fport = 0;
  in_pcbrehash(inp);
}

export function in_pcbunset_laddr(inp: Inpcb): void {
  inp.inp_faddr = INADDR_ANY;
  inp.inp_laddr = INADDR_ANY;
  inp.inp_faddr6.fill(0);
  inp.inp_laddr6.fill(0);
  inp.inp_fport = 0;
  in_pcbrehash(inp);
}

/**
 * in_pcbnotifyall(): tell every IPv4 PCB connected to faddr about an
 * error (ICMP unreachable and the like, from pr_ctlinput).
 */
export function in_pcbnotifyall(table: Inpcbtable, faddr: number, rtable: number, errno: number, notify: (inp: Inpcb, errno: number) => void): void {
  if (faddr === INADDR_ANY) return;
  for (let p = table.inpt_head; p !== null;) {
    const next = p.qnext;
    if (!p.isIpv6 && p.inp_faddr === faddr && p.inp_rtableid === rtable && p.inp_socket !== null) notify(p, errno);
    p = next;
  }
}

/** in_setsockaddr(): the local address of inp. */
export function in_setsockaddr(inp: Inpcb, out: Sockaddr): void {
  out.family = inp.isIpv6 ? AF_INET6 : AF_INET;
  out.port = inp.inp_lport;
  out.addr = inp.inp_laddr;
  out.addr6.set(inp.inp_laddr6);
  sin6_recoverscope(out);
}

/** in_setpeeraddr(): the foreign address of inp. */
export function in_setpeeraddr(inp: Inpcb, out: Sockaddr): void {
  out.family = inp.isIpv6 ? AF_INET6 : AF_INET;
  out.port = inp.inp_fport;
  out.addr = inp.inp_faddr;
  out.addr6.set(inp.inp_faddr6);
  sin6_recoverscope(out);
}

/** in6_recoverscope() as in6_setsockaddr() applies it: a link-local scope leaves the address for sin6_scope_id. */
function sin6_recoverscope(out: Sockaddr): void {
  const a = out.addr6;
  out.scope_id = 0;
  if (out.family !== AF_INET6) return;
  if ((a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) || (a[0] === 0xff && ((a[1]! & 0x0f) === 1 || (a[1]! & 0x0f) === 2))) {
    out.scope_id = (a[2]! << 8) | a[3]!;
    a[2] = 0;
    a[3] = 0;
  }
}

