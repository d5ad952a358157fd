/**
 * The IPv4 routing table (sys/net/route.c, rtable.c): route entries with
 * OpenBSD's flags, priorities, use and reference counts, cloning of ARP
 * entries from connected routes (RTF_CLONING -> RTF_CLONED|RTF_LLINFO), the
 * cached next-hop entry of gateway routes (rt_gwroute, RTF_CACHED), and
 * the routes an interface address brings (local, connected, broadcast).
 *
 * The table is a binary trie over the address bits (rtable 0 only): a
 * lookup walks at most 32 nodes, remembering the deepest one holding
 * routes, so a match costs O(address bits) and allocates nothing.  Each
 * node keeps its routes (same prefix, several priorities, as OpenBSD's
 * multipath lists) sorted by priority; the first one is the match.
 * A pre-order walk prints routes in address order, shorter prefixes first,
 * as netstat -rn shows ART's walk.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet, InIfaddr } from './if.js';
import { IFF_UP, LINK_STATE_UP, LINK_STATE_UNKNOWN, IFT_ETHER, IFT_LOOP } from './if.js';
import { arp_rtrequest } from '../netinet/if_ether.js';

// rt_flags, net/route.h
export const RTF_UP = 0x1;
export const RTF_GATEWAY = 0x2;
export const RTF_HOST = 0x4;
export const RTF_REJECT = 0x8;
export const RTF_DYNAMIC = 0x10;
export const RTF_MODIFIED = 0x20;
export const RTF_DONE = 0x40;
export const RTF_CLONING = 0x100;
export const RTF_MULTICAST = 0x200;
export const RTF_LLINFO = 0x400;
export const RTF_STATIC = 0x800;
export const RTF_BLACKHOLE = 0x1000;
export const RTF_PROTO3 = 0x2000;
export const RTF_PROTO2 = 0x4000;
export const RTF_ANNOUNCE = RTF_PROTO2;
export const RTF_PROTO1 = 0x8000;
export const RTF_CLONED = 0x10000;
export const RTF_CACHED = 0x20000;
export const RTF_MPATH = 0x40000;
export const RTF_MPLS = 0x100000;
export const RTF_LOCAL = 0x200000;
export const RTF_BROADCAST = 0x400000;
export const RTF_CONNECTED = 0x800000;
export const RTF_BFD = 0x1000000;
/** Permanent ARP entry (RTF_STATIC on an LLINFO route). */
export const RTF_PERMANENT_ARP = RTF_STATIC;

// Priorities, net/route.h
export const RTP_NONE = 0;
export const RTP_LOCAL = 1;
export const RTP_CONNECTED = 4;
export const RTP_STATIC = 8;
export const RTP_DEFAULT = 56;
export const RTP_MAX = 63;
export const RTP_ANY = 64;
export const RTP_MASK = 0x7f;
export const RTP_DOWN = 0x80;

// rt_locks
export const RTV_MTU = 0x1;

// rtrequest() requests
export const RTM_ADD = 0x1;
export const RTM_DELETE = 0x2;
export const RTM_CHANGE = 0x3;
export const RTM_GET = 0x4;
export const RTM_RESOLVE = 0xb;
export const RTM_INVALIDATE = 0x11;

/** rt_match() flag: clone an L2 entry from an RTF_CLONING route. */
export const RT_RESOLVE = 1;

// Address families of gateways.
export const AF_INET = 2;
export const AF_LINK = 18;

import {
  EEXIST, EHOSTUNREACH, EINVAL, ENETUNREACH, ENOENT, ESRCH,
} from '../sys/errno.js';
// The errno values of the routing and output paths, for netinet's modules.
export {
  EACCES, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EEXIST, EHOSTDOWN, EHOSTUNREACH, EINVAL, ELOOP, EMSGSIZE,
  ENETDOWN, ENETUNREACH, ENOBUFS, ENOENT, EPERM, ESRCH, strerror,
} from '../sys/errno.js';

/** struct rtentry, for IPv4. */
export class Rtentry {
  /** rt_key: the destination (network part only). */
  rt_dst = 0;
  rt_plen = 0;
  rt_flags = 0;
  rt_priority = 0;
  rt_ifidx = 0;
  rt_ifa: InIfaddr | null = null;
  /** Gateway family: AF_INET (rt_gwaddr) or AF_LINK (rt_gwll/rt_gwalen on rt_ifidx). */
  rt_gwfamily = AF_INET;
  rt_gwaddr = 0;
  readonly rt_gwll = new Uint8Array(6);
  /** sdl_alen: 0 while an ARP entry is incomplete. */
  rt_gwalen = 0;
  /** Gateway routes: the cached next-hop L2 entry. */
  rt_gwroute: Rtentry | null = null;
  /** Cloned routes: the cloning route they came from. */
  rt_parent: Rtentry | null = null;
  /** How many gateway routes cache this entry (RTF_CACHED while > 0). */
  rt_cachecnt = 0;
  /** Cloned children holding a reference (rt_parent). */
  rt_clones = 0;
  /** rmx_pksent: lookups that returned this route. */
  rt_use = 0;
  rt_mtu = 0;
  rt_locks = 0;
  /** Uptime (s) when an ARP entry expires; 0: never. */
  rt_expire = 0;
  /** ARP state of RTF_LLINFO entries (struct llinfo_arp). */
  rt_llinfo: unknown = null;
  /** In the table (false once deleted). */
  rt_intable = false;

  /** The netmask as a u32. */
  get rt_mask(): number {
    return plen2mask(this.rt_plen);
  }

  /** rmx_refcnt as rtsock.c reports it: references other than the table's. */
  get rt_refcnt(): number {
    return this.rt_clones + this.rt_cachecnt;
  }
}

export function plen2mask(plen: number): number {
  return plen <= 0 ? 0 : plen >= 32 ? 0xffffffff : (0xffffffff << (32 - plen)) >>> 0;
}

/** The prefix length of a contiguous mask, or -1 (rtable_satoplen()). */
export function mask2plen(mask: number): number {
  mask >>>= 0;
  let plen = 0;
  while (plen < 32 && mask & (0x80000000 >>> plen)) plen++;
  return plen2mask(plen) === mask ? plen : -1;
}

class RtNode {
  c0: RtNode | null = null;
  c1: RtNode | null = null;
  routes: Rtentry[] | null = null;
}

/** Entries of a routing table's lookup cache (a power of two). */
const RTCACHE = 256;

/** One routing table (struct rtable / ART in OpenBSD). */
export class Rtable {
  private readonly root = new RtNode();
  /** Routes in the table. */
  count = 0;
  /**
   * Bumped by every insert and delete (OpenBSD's rtgeneration): match()
   * results cached under an older generation are stale.  The cache is
   * direct-mapped by destination, so a forwarding flow walks the trie once.
   */
  private gen = 1;
  private readonly cacheKey = new Int32Array(RTCACHE);
  private readonly cacheGen = new Int32Array(RTCACHE);
  private readonly cacheRt: Array<Rtentry | null> = new Array<Rtentry | null>(RTCACHE).fill(null);

  constructor(readonly tableid = 0) {}

  private node(dst: number, plen: number, create: boolean): RtNode | null {
    let n = this.root;
    for (let i = 0; i < plen; i++) {
      const bit = (dst >>> (31 - i)) & 1;
      let c = bit ? n.c1 : n.c0;
      if (c === null) {
        if (!create) return null;
        c = new RtNode();
        if (bit) n.c1 = c;
        else n.c0 = c;
      }
      n = c;
    }
    return n;
  }

  /** rtable_insert(): EEXIST when the prefix already has a route of that priority. */
  insert(rt: Rtentry): number {
    const n = this.node(rt.rt_dst, rt.rt_plen, true)!;
    const list = n.routes ?? (n.routes = []);
    for (const o of list) if ((o.rt_priority & RTP_MASK) === (rt.rt_priority & RTP_MASK)) return EEXIST;
    let i = 0;
    while (i < list.length && list[i]!.rt_priority <= rt.rt_priority) i++;
    list.splice(i, 0, rt);
    rt.rt_intable = true;
    this.count++;
    this.gen++;
    return 0;
  }

  /** rtable_delete() */
  delete(rt: Rtentry): number {
    const n = this.node(rt.rt_dst, rt.rt_plen, false);
    const list = n?.routes;
    const i = list ? list.indexOf(rt) : -1;
    if (i < 0) return ESRCH;
    list!.splice(i, 1);
    if (list!.length === 0) n!.routes = null;
    rt.rt_intable = false;
    this.count--;
    this.gen++;
    return 0;
  }

  /** rtable_lookup(): exact prefix; prio RTP_ANY takes the first. */
  lookup(dst: number, plen: number, prio = RTP_ANY): Rtentry | null {
    const list = this.node((dst & plen2mask(plen)) >>> 0, plen, false)?.routes;
    if (!list) return null;
    if (prio === RTP_ANY) return list[0] ?? null;
    for (const rt of list) if ((rt.rt_priority & RTP_MASK) === prio) return rt;
    return null;
  }

  /** All routes of an exact prefix (multipath list), best first. */
  routesAt(dst: number, plen: number): readonly Rtentry[] {
    return this.node((dst & plen2mask(plen)) >>> 0, plen, false)?.routes ?? [];
  }

  /** rtable_match(): longest prefix, best priority; walks at most 32 nodes. */
  match(dst: number): Rtentry | null {
    // dst as an int32 (| 0): no heap number for addresses above 2^31.
    const key = dst | 0;
    const h = (key ^ (key >>> 8) ^ (key >>> 16)) & (RTCACHE - 1);
    if (this.cacheKey[h] === key && this.cacheGen[h] === this.gen) return this.cacheRt[h]!;
    const rt = this.walkMatch(key);
    this.cacheKey[h] = key;
    this.cacheGen[h] = this.gen;
    this.cacheRt[h] = rt;
    return rt;
  }

  private walkMatch(dst: number): Rtentry | null {
    let n: RtNode | null = this.root;
    let best: Rtentry[] | null = n.routes;
    for (let i = 0; i < 32; i++) {
      n = (dst >>> (31 - i)) & 1 ? n.c1 : n.c0;
      if (n === null) break;
      if (n.routes !== null) best = n.routes;
    }
    return best !== null ? best[0]! : null;
  }

  /** rtable_walk(): every route, address order, shorter prefixes first. */
  walk(fn: (rt: Rtentry) => void): void {
    const stack: RtNode[] = [this.root];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.routes) for (const rt of n.routes.slice()) fn(rt);
      if (n.c1) stack.push(n.c1);
      if (n.c0) stack.push(n.c0);
    }
  }

  /** Every route, as an array (for tools). */
  entries(): Rtentry[] {
    const out: Rtentry[] = [];
    this.walk((rt) => out.push(rt));
    return out;
  }
}

/** The kernel's routing table. */
function rtable(k: Kernel, _tableid: number): Rtable {
  return k.inet.rtable;
}

function linkUp(ifp: Ifnet): boolean {
  // LINK_STATE_IS_UP()
  const ls = ifp.if_link_state;
  return ls >= LINK_STATE_UP || ls === LINK_STATE_UNKNOWN;
}

/** rtisvalid() */
export function rtisvalid(rt: Rtentry | null): rt is Rtentry {
  if (rt === null || !(rt.rt_flags & RTF_UP)) return false;
  if (rt.rt_flags & RTF_GATEWAY) {
    if (rt.rt_gwroute === null) return false;
    if (!(rt.rt_gwroute.rt_flags & RTF_UP)) return false;
  }
  return true;
}

/**
 * rt_match() / rtalloc(): the best route to dst; with RT_RESOLVE an
 * RTF_CLONING match clones a host L2 entry.  Counts the use of what it
 * returns.  Gateway routes whose next hop went away get it cached again.
 */
export function rt_match(k: Kernel, dst: number, flags: number, tableid = 0): Rtentry | null {
  let rt = rtable(k, tableid).match(dst);
  if (rt === null) return null;
  // dst may come as an int32 (the forwarding path): the clone's rt_dst is a u32.
  if (rt.rt_flags & RTF_CLONING && flags & RT_RESOLVE) rt = rt_clone(k, rt, dst >>> 0, tableid);
  else if (rt.rt_flags & RTF_GATEWAY && flags & RT_RESOLVE && (rt.rt_gwroute === null || !rt.rt_gwroute.rt_intable))
    rt_setgwroute(k, rt, rt.rt_gwaddr, tableid);
  rt.rt_use++;
  return rt;
}

export const rtalloc = rt_match;

/** rt_clone(): a host route cloned from a cloning route (priority one better). */
export function rt_clone(k: Kernel, parent: Rtentry, dst: number, tableid = 0): Rtentry {
  const { error, rt } = rtrequest(k, RTM_RESOLVE, { dst, plen: 32, flags: 0, parent }, parent.rt_priority - 1, tableid);
  return error === 0 && rt !== null ? rt : parent;
}

/** What rtrequest() is asked to add (struct rt_addrinfo). */
export interface RtAddrinfo {
  dst: number;
  plen: number;
  flags: number;
  /** AF_INET gateway address (RTF_GATEWAY routes, or the interface address for connected routes). */
  gateway?: number;
  /** AF_LINK gateway: the interface's link-layer address (local routes, static ARP). */
  gwll?: Uint8Array | null;
  ifa?: InIfaddr | null;
  ifp?: Ifnet | null;
  /** RTM_RESOLVE: the cloning route. */
  parent?: Rtentry;
  mtu?: number;
}

/** rtrequest(RTM_ADD / RTM_RESOLVE) */
export function rtrequest(
  k: Kernel,
  req: number,
  info: RtAddrinfo,
  prio: number,
  tableid = 0,
): { error: number; rt: Rtentry | null } {
  const tbl = rtable(k, tableid);
  let flags = info.flags;
  let ifa = info.ifa ?? null;
  let ifp = info.ifp ?? null;
  let gwfamily = AF_INET;
  if (req === RTM_RESOLVE) {
    const p = info.parent!;
    if (!(p.rt_flags & RTF_CLONING)) return { error: EINVAL, rt: null };
    ifa = p.rt_ifa;
    ifp = k.ifnets[p.rt_ifidx] ?? null;
    flags = (p.rt_flags | RTF_CLONED | RTF_HOST) & ~(RTF_CLONING | RTF_CONNECTED | RTF_STATIC | RTF_MPATH);
    gwfamily = AF_LINK;
  } else if (info.gwll !== undefined && info.gwll !== null) {
    gwfamily = AF_LINK;
  }
  if (ifa === null || ifp === null) return { error: EINVAL, rt: null };
  if (prio === 0) prio = ifp.if_priority + RTP_STATIC;
  const plen = flags & RTF_HOST ? 32 : info.plen;
  const rt = new Rtentry();
  rt.rt_dst = (info.dst & plen2mask(plen)) >>> 0;
  rt.rt_plen = plen;
  rt.rt_flags = flags | RTF_UP;
  rt.rt_priority = prio;
  if (!(rt.rt_flags & RTF_LOCAL) && (!linkUp(ifp) || !(ifp.if_flags & IFF_UP))) {
    rt.rt_flags &= ~RTF_UP;
    rt.rt_priority |= RTP_DOWN;
  }
  rt.rt_ifa = ifa;
  rt.rt_ifidx = ifp.if_index;
  rt.rt_gwfamily = gwfamily;
  if (gwfamily === AF_LINK) {
    if (info.gwll) {
      rt.rt_gwll.set(info.gwll.subarray(0, 6));
      rt.rt_gwalen = 6;
    }
  } else {
    rt.rt_gwaddr = (info.gateway ?? 0) >>> 0;
  }
  if (info.mtu) rt.rt_mtu = info.mtu;
  // lortrequest(): routes over lo carry its MTU.
  if (ifp.if_type === IFT_LOOP && rt.rt_mtu === 0) rt.rt_mtu = ifp.if_mtu;
  if (rt.rt_flags & RTF_CLONED) {
    const p = info.parent!;
    rt.rt_parent = p;
    p.rt_clones++;
    rt.rt_mtu = p.rt_mtu;
  }
  if (rt.rt_flags & RTF_GATEWAY) {
    const e = rt_setgwroute(k, rt, rt.rt_gwaddr, tableid);
    if (e !== 0) {
      if (rt.rt_parent) rt.rt_parent.rt_clones--;
      return { error: e, rt: null };
    }
  }
  let error = tbl.insert(rt);
  if (error !== 0) {
    // Overwrite a cloned route that is not cached (e.g. route add over an ARP entry).
    const crt = tbl.match(rt.rt_dst);
    if (crt && crt.rt_flags & RTF_CLONED && !(crt.rt_flags & RTF_CACHED) && crt.rt_plen === rt.rt_plen) {
      rtdeletemsg(k, crt, tableid);
      error = tbl.insert(rt);
    }
  }
  if (error !== 0) {
    if (rt.rt_parent) rt.rt_parent.rt_clones--;
    rt_putgwroute(rt, null);
    return { error: EEXIST, rt: null };
  }
  if (ifp.if_type === IFT_ETHER) arp_rtrequest(k, ifp, req, rt);
  return { error: 0, rt };
}

/** rt_setgwroute(): cache the reachable next hop's L2 entry in a gateway route. */
export function rt_setgwroute(k: Kernel, rt: Rtentry, gate: number, tableid = 0): number {
  let nhrt = rt_match(k, gate, RT_RESOLVE, tableid);
  if (nhrt === null) return ENOENT;
  if (nhrt.rt_ifidx !== rt.rt_ifidx) {
    if (!(nhrt.rt_flags & RTF_LLINFO) || !(nhrt.rt_flags & RTF_CLONED)) return EHOSTUNREACH;
    // Another cloning route for the same subnet on rt's interface.
    const parent = nhrt.rt_parent!;
    const prt = rtable(k, tableid).routesAt(parent.rt_dst, parent.rt_plen).find((r) => r.rt_ifidx === rt.rt_ifidx);
    if (prt === undefined || !(prt.rt_flags & RTF_CLONING)) return EHOSTUNREACH;
    nhrt = rt_clone(k, prt, gate, tableid);
    if (nhrt === prt) return EHOSTUNREACH;
  }
  if (nhrt.rt_flags & (RTF_CLONING | RTF_GATEWAY)) return ENETUNREACH;
  if (!(rt.rt_locks & RTV_MTU) && rt.rt_mtu > nhrt.rt_mtu) rt.rt_mtu = nhrt.rt_mtu;
  rt_putgwroute(rt, nhrt);
  return 0;
}

/** rt_putgwroute() */
export function rt_putgwroute(rt: Rtentry, nhrt: Rtentry | null): void {
  if (!(rt.rt_flags & RTF_GATEWAY)) return;
  if (nhrt !== null) {
    nhrt.rt_flags |= RTF_CACHED;
    nhrt.rt_cachecnt++;
  }
  const o = rt.rt_gwroute;
  rt.rt_gwroute = nhrt;
  if (o !== null) {
    o.rt_cachecnt--;
    if (o.rt_cachecnt === 0) o.rt_flags &= ~RTF_CACHED;
  }
}

/** rt_getll(): the entry holding the next hop's link-layer address. */
export function rt_getll(rt: Rtentry): Rtentry | null {
  return rt.rt_flags & RTF_GATEWAY ? rt.rt_gwroute : rt;
}

/**
 * rtdeletemsg() / rtrequest_delete(): take a route out of the table with
 * what hangs on it: its clones (rtflushclone), its ARP state, the cached
 * next hop, and gateway routes caching it.
 */
export function rtdeletemsg(k: Kernel, rt: Rtentry, tableid = 0): number {
  const tbl = rtable(k, tableid);
  if (!rt.rt_intable) return ESRCH;
  if (rt.rt_flags & RTF_CLONING) {
    const children: Rtentry[] = [];
    tbl.walk((c) => {
      if (c.rt_parent === rt) children.push(c);
    });
    for (const c of children) rtdeletemsg(k, c, tableid);
  }
  const e = tbl.delete(rt);
  if (e !== 0) return e;
  if (rt.rt_cachecnt > 0) {
    tbl.walk((g) => {
      if (g.rt_gwroute === rt) rt_putgwroute(g, null);
    });
  }
  rt_putgwroute(rt, null);
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp !== undefined && ifp.if_type === IFT_ETHER) arp_rtrequest(k, ifp, RTM_DELETE, rt);
  if (rt.rt_parent !== null) {
    rt.rt_parent.rt_clones--;
    rt.rt_parent = null;
  }
  return 0;
}

/** rtrequest_delete(): delete the route of a prefix (gateway and priority when given). */
export function rtrequest_delete(
  k: Kernel,
  dst: number,
  plen: number,
  opts: { gateway?: number; prio?: number; ifp?: Ifnet } = {},
  tableid = 0,
): { error: number; rt: Rtentry | null } {
  const list = rtable(k, tableid).routesAt(dst, plen);
  const rt = list.find(
    (r) =>
      (opts.prio === undefined || (r.rt_priority & RTP_MASK) === opts.prio) &&
      (opts.ifp === undefined || r.rt_ifidx === opts.ifp.if_index) &&
      (opts.gateway === undefined || (r.rt_gwfamily === AF_INET && r.rt_gwaddr === opts.gateway >>> 0)),
  );
  if (rt === undefined) return { error: ESRCH, rt: null };
  const e = rtdeletemsg(k, rt, tableid);
  return { error: e, rt: e === 0 ? rt : null };
}

/** rt_ifa_add(): a route an interface address brings. */
export function rt_ifa_add(k: Kernel, ifp: Ifnet, ifa: InIfaddr, flags: number, dst: number): number {
  let prio = ifp.if_priority + RTP_STATIC;
  if (flags & (RTF_LOCAL | RTF_BROADCAST)) prio = RTP_LOCAL;
  if (flags & RTF_CONNECTED) prio = ifp.if_priority + RTP_CONNECTED;
  const info: RtAddrinfo = { dst, plen: flags & RTF_HOST ? 32 : mask2plen(ifa.mask), flags, ifa, ifp };
  if (flags & RTF_LLINFO) info.gwll = ifp.if_lladdr;
  else info.gateway = ifa.addr;
  return rtrequest(k, RTM_ADD, info, prio).error;
}

/** rt_ifa_del() */
/**
 * rt_if_track(): routes follow their interface's link and IFF_UP (local
 * routes stay): down routes lose RTF_UP and sort behind with RTP_DOWN.
 */
export function rt_if_track(ifp: Ifnet): void {
  const k = ifp.kernel;
  const up = linkUp(ifp) && (ifp.if_flags & IFF_UP) !== 0;
  const tbl = rtable(k, 0);
  const changed: Rtentry[] = [];
  tbl.walk((rt) => {
    if (rt.rt_ifidx !== ifp.if_index || rt.rt_flags & RTF_LOCAL) return;
    if (up === ((rt.rt_flags & RTF_UP) !== 0)) return;
    changed.push(rt);
  });
  for (const rt of changed) {
    tbl.delete(rt);
    if (up) {
      rt.rt_flags |= RTF_UP;
      rt.rt_priority &= RTP_MASK;
    } else {
      rt.rt_flags &= ~RTF_UP;
      rt.rt_priority |= RTP_DOWN;
    }
    tbl.insert(rt);
  }
}

export function rt_ifa_del(k: Kernel, ifp: Ifnet, ifa: InIfaddr, flags: number, dst: number): number {
  let prio = ifp.if_priority + RTP_STATIC;
  if (flags & (RTF_LOCAL | RTF_BROADCAST)) prio = RTP_LOCAL;
  if (flags & RTF_CONNECTED) prio = ifp.if_priority + RTP_CONNECTED;
  const plen = flags & RTF_HOST ? 32 : mask2plen(ifa.mask);
  return rtrequest_delete(k, dst, plen, { prio, ifp }).error;
}

/** The route flags as netstat and route print them (p_flags()). */
const FLAG_BITS: ReadonlyArray<[number, string]> = [
  [RTF_UP, 'U'], [RTF_GATEWAY, 'G'], [RTF_HOST, 'H'], [RTF_REJECT, 'R'], [RTF_DYNAMIC, 'D'],
  [RTF_MODIFIED, 'M'], [RTF_CLONING, 'C'], [RTF_MULTICAST, 'm'], [RTF_LLINFO, 'L'], [RTF_STATIC, 'S'],
  [RTF_BLACKHOLE, 'B'], [RTF_PROTO3, '3'], [RTF_PROTO2, '2'], [RTF_PROTO1, '1'], [RTF_CLONED, 'c'],
  [RTF_CACHED, 'h'], [RTF_MPATH, 'P'], [RTF_MPLS, 'T'], [RTF_LOCAL, 'l'], [RTF_BFD, 'F'],
  [RTF_BROADCAST, 'b'], [RTF_CONNECTED, 'n'],
];

export function rtflagsString(f: number): string {
  let s = '';
  for (const [b, c] of FLAG_BITS) if (f & b) s += c;
  return s;
}
