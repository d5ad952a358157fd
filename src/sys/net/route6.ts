/**
 * The IPv6 routing table, beside the IPv4 one of route.ts and with the
 * same rules (sys/net/route.c, rtable.c for AF_INET6): route entries with
 * OpenBSD's flags and priorities, neighbor cache entries cloned from the
 * connected route (RTF_CLONING -> RTF_CLONED|RTF_LLINFO, nd6_rtrequest()),
 * gateway routes caching their next hop's entry (RTF_CACHED), and the
 * routes an address brings (local, connected, the multicast routes of
 * in6_ifattach).  Keys are 16-byte addresses with the scope index
 * embedded (fe80::/64 of em0 is fe80:1::/64), so link-local prefixes of
 * several interfaces are distinct routes, as in OpenBSD.
 *
 * A binary trie over the 128 address bits: a lookup walks at most 128
 * nodes and allocates nothing.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from './if.js';
import { IFF_UP, IFT_ETHER, IFT_LOOP, LINK_STATE_UNKNOWN, LINK_STATE_UP } from './if.js';
import {
  AF_LINK, EEXIST, EHOSTUNREACH, EINVAL, ENETUNREACH, ENOENT, ESRCH, RT_RESOLVE, RTF_BROADCAST, RTF_CACHED,
  RTF_CLONED, RTF_CLONING, RTF_CONNECTED, RTF_GATEWAY, RTF_HOST, RTF_LLINFO, RTF_LOCAL, RTF_MPATH, RTF_MULTICAST,
  RTF_STATIC, RTF_UP, RTM_ADD, RTM_DELETE, RTM_RESOLVE, RTP_ANY, RTP_CONNECTED, RTP_DOWN, RTP_LOCAL, RTP_MASK,
  RTP_STATIC, RTV_MTU,
} from './route.js';
import type { In6Ifaddr } from '../netinet6/in6_var.js';
import { AF_INET6, in6_prefix_mask } from '../netinet6/in6_var.js';
import { nd6_rtrequest } from '../netinet6/nd6.js';

/** struct rtentry for AF_INET6. */
export class Rtentry6 {
  /** rt_key: the destination, masked to the prefix, scope embedded. */
  readonly rt_dst = new Uint8Array(16);
  rt_plen = 0;
  rt_flags = 0;
  rt_priority = 0;
  rt_ifidx = 0;
  rt_ifa: In6Ifaddr | null = null;
  /** AF_INET6 (rt_gateway) or AF_LINK (rt_gwll/rt_gwalen). */
  rt_gwfamily = AF_INET6;
  readonly rt_gateway = new Uint8Array(16);
  readonly rt_gwll = new Uint8Array(6);
  rt_gwalen = 0;
  rt_gwroute: Rtentry6 | null = null;
  rt_parent: Rtentry6 | null = null;
  rt_cachecnt = 0;
  rt_clones = 0;
  rt_use = 0;
  rt_mtu = 0;
  rt_locks = 0;
  /** Uptime (s) when a neighbor entry's timer fires; 0: none (permanent). */
  rt_expire = 0;
  /** struct llinfo_nd6 of RTF_LLINFO entries. */
  rt_llinfo: unknown = null;
  rt_intable = false;

  get rt_refcnt(): number {
    return this.rt_clones + this.rt_cachecnt;
  }
}

class Rt6Node {
  c0: Rt6Node | null = null;
  c1: Rt6Node | null = null;
  routes: Rtentry6[] | null = null;
}

/** Same gateway sockaddr (rtable_insert's memcmp of rt_gateway). */
function samegw(a: Rtentry6, b: Rtentry6): boolean {
  if (a.rt_gwfamily !== b.rt_gwfamily) return false;
  if (a.rt_gwfamily === AF_LINK) return a.rt_gwalen === b.rt_gwalen && a.rt_gwll.every((x, i) => x === b.rt_gwll[i]);
  return a.rt_gateway.every((x, i) => x === b.rt_gateway[i]);
}

function bit(b: Uint8Array, o: number, i: number): number {
  return (b[o + (i >>> 3)]! >>> (7 - (i & 7))) & 1;
}

/** One IPv6 routing table. */
export class Rtable6 {
  private readonly root = new Rt6Node();
  count = 0;

  private node(dst: Uint8Array, plen: number, create: boolean): Rt6Node | null {
    let n = this.root;
    for (let i = 0; i < plen; i++) {
      const b = bit(dst, 0, i);
      let c = b ? n.c1 : n.c0;
      if (c === null) {
        if (!create) return null;
        c = new Rt6Node();
        if (b) n.c1 = c;
        else n.c0 = c;
      }
      n = c;
    }
    return n;
  }

  /**
   * rtable_insert(): a second route of the same prefix and priority is
   * accepted only as a multipath route (RTF_MPATH asked for, another
   * gateway); RTF_MPATH stays set only while there are several.
   */
  insert(rt: Rtentry6): number {
    const n = this.node(rt.rt_dst, rt.rt_plen, true)!;
    const list = n.routes ?? (n.routes = []);
    const mpathok = (rt.rt_flags & RTF_MPATH) !== 0;
    let mpath = false;
    for (const o of list) {
      if ((o.rt_priority & RTP_MASK) !== (rt.rt_priority & RTP_MASK)) continue;
      if (!mpathok || samegw(o, rt)) return EEXIST;
      mpath = true;
    }
    rt.rt_flags &= ~RTF_MPATH;
    if (mpath) {
      rt.rt_flags |= RTF_MPATH;
      for (const o of list) if ((o.rt_priority & RTP_MASK) === (rt.rt_priority & RTP_MASK)) o.rt_flags |= RTF_MPATH;
    }
    let i = 0;
    while (i < list.length && list[i]!.rt_priority <= rt.rt_priority) i++;
    list.splice(i, 0, rt);
    rt.rt_intable = true;
    this.count++;
    return 0;
  }

  delete(rt: Rtentry6): number {
    const n = this.node(rt.rt_dst, rt.rt_plen, false);
    const list = n?.routes;
    const i = list ? list.indexOf(rt) : -1;
    if (i < 0) return ESRCH;
    list!.splice(i, 1);
    if (list!.length === 0) n!.routes = null;
    // The last path of a priority is no longer multipath.
    const same = list!.filter((o) => (o.rt_priority & RTP_MASK) === (rt.rt_priority & RTP_MASK));
    if (same.length === 1) same[0]!.rt_flags &= ~RTF_MPATH;
    rt.rt_intable = false;
    this.count--;
    return 0;
  }

  /** Routes of an exact (already masked) prefix, best first. */
  routesAt(dst: Uint8Array, plen: number): readonly Rtentry6[] {
    return this.node(dst, plen, false)?.routes ?? [];
  }

  lookup(dst: Uint8Array, plen: number, prio = RTP_ANY): Rtentry6 | null {
    const list = this.node(dst, plen, false)?.routes;
    if (!list) return null;
    if (prio === RTP_ANY) return list[0] ?? null;
    for (const rt of list) if ((rt.rt_priority & RTP_MASK) === prio) return rt;
    return null;
  }

  /** rtable_match(): longest prefix of the address at b[o..o+16). */
  match(b: Uint8Array, o: number): Rtentry6 | null {
    let n: Rt6Node | null = this.root;
    let best: Rtentry6[] | null = n.routes;
    for (let i = 0; i < 128; i++) {
      n = bit(b, o, i) ? n.c1 : n.c0;
      if (n === null) break;
      if (n.routes !== null) best = n.routes;
    }
    return best !== null ? best[0]! : null;
  }

  walk(fn: (rt: Rtentry6) => void): void {
    const stack: Rt6Node[] = [this.root];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.routes) for (const rt of n.routes.slice()) fn(rt);
      if (n.c1) stack.push(n.c1);
      if (n.c0) stack.push(n.c0);
    }
  }

  entries(): Rtentry6[] {
    const out: Rtentry6[] = [];
    this.walk((rt) => out.push(rt));
    return out;
  }
}

function linkUp(ifp: Ifnet): boolean {
  const ls = ifp.if_link_state;
  return ls >= LINK_STATE_UP || ls === LINK_STATE_UNKNOWN;
}

function rtable6(k: Kernel): Rtable6 {
  return k.inet6.rtable;
}

/** rtisvalid() for IPv6 routes. */
export function rt6isvalid(rt: Rtentry6 | null): rt is Rtentry6 {
  if (rt === null || !(rt.rt_flags & RTF_UP)) return false;
  if (rt.rt_flags & RTF_GATEWAY) {
    if (rt.rt_gwroute === null || !(rt.rt_gwroute.rt_flags & RTF_UP)) return false;
  }
  return true;
}

/** rt_getll() */
export function rt6_getll(rt: Rtentry6): Rtentry6 | null {
  return rt.rt_flags & RTF_GATEWAY ? rt.rt_gwroute : rt;
}

/** rt_match() for the address at b[o..o+16); RT_RESOLVE clones neighbor entries. */
export function rt6_match(k: Kernel, b: Uint8Array, o: number, flags: number): Rtentry6 | null {
  let rt = rtable6(k).match(b, o);
  if (rt === null) return null;
  if (rt.rt_flags & RTF_CLONING && flags & RT_RESOLVE) rt = rt6_clone(k, rt, b, o);
  else if (rt.rt_flags & RTF_GATEWAY && flags & RT_RESOLVE && (rt.rt_gwroute === null || !rt.rt_gwroute.rt_intable))
    rt6_setgwroute(k, rt);
  rt.rt_use++;
  return rt;
}

/** rt_clone(): a host neighbor entry from a cloning route. */
export function rt6_clone(k: Kernel, parent: Rtentry6, b: Uint8Array, o: number): Rtentry6 {
  const dst = k.inet6.cloneKey;
  dst.set(b.subarray(o, o + 16));
  const r = rtrequest6(k, RTM_RESOLVE, { dst, plen: 128, flags: 0, parent }, parent.rt_priority - 1);
  return r.error === 0 && r.rt !== null ? r.rt : parent;
}

/** struct rt_addrinfo for IPv6 routes. */
export interface Rt6Addrinfo {
  dst: Uint8Array;
  plen: number;
  flags: number;
  /** AF_INET6 gateway (RTF_GATEWAY, or our own address for connected routes). */
  gateway?: Uint8Array;
  /** AF_LINK gateway (local routes, static neighbors). */
  gwll?: Uint8Array | null;
  ifa?: In6Ifaddr | null;
  ifp?: Ifnet | null;
  parent?: Rtentry6;
  mtu?: number;
}

/** rtrequest(RTM_ADD / RTM_RESOLVE) for AF_INET6. */
export function rtrequest6(k: Kernel, req: number, info: Rt6Addrinfo, prio: number): { error: number; rt: Rtentry6 | null } {
  const tbl = rtable6(k);
  let flags = info.flags;
  let ifa = info.ifa ?? null;
  let ifp = info.ifp ?? null;
  let gwfamily = AF_INET6;
  if (req === RTM_RESOLVE) {
    const p = info.parent!;
    if (!(p.rt_flags & RTF_CLONING)) return { error: EINVAL, rt: null };
    ifa = p.rt_ifa;
    ifp = k.ifnets[p.rt_ifidx] ?? null;
    flags = (p.rt_flags | RTF_CLONED | RTF_HOST | RTF_LLINFO) & ~(RTF_CLONING | RTF_CONNECTED | RTF_STATIC | RTF_MPATH);
    gwfamily = AF_LINK;
  } else if (info.gwll !== undefined && info.gwll !== null) {
    gwfamily = AF_LINK;
  }
  if (ifp === null) return { error: EINVAL, rt: null };
  if (prio === 0) prio = ifp.if_priority + RTP_STATIC;
  const plen = flags & RTF_HOST ? 128 : info.plen;
  const rt = new Rtentry6();
  rt.rt_dst.set(info.dst.subarray(0, 16));
  in6_prefix_mask(rt.rt_dst, 0, plen);
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
  } else if (info.gateway) rt.rt_gateway.set(info.gateway.subarray(0, 16));
  if (info.mtu) rt.rt_mtu = info.mtu;
  if (ifp.if_type === IFT_LOOP && rt.rt_mtu === 0) rt.rt_mtu = ifp.if_mtu;
  if (rt.rt_flags & RTF_CLONED) {
    const p = info.parent!;
    rt.rt_parent = p;
    p.rt_clones++;
    rt.rt_mtu = p.rt_mtu;
  }
  if (rt.rt_flags & RTF_GATEWAY) {
    const e = rt6_setgwroute(k, rt);
    if (e !== 0) {
      if (rt.rt_parent) rt.rt_parent.rt_clones--;
      return { error: e, rt: null };
    }
  }
  let error = tbl.insert(rt);
  if (error !== 0) {
    const crt = tbl.lookup(rt.rt_dst, rt.rt_plen);
    if (crt && crt.rt_flags & RTF_CLONED && !(crt.rt_flags & RTF_CACHED)) {
      rt6_deletemsg(k, crt);
      error = tbl.insert(rt);
    }
  }
  if (error !== 0) {
    if (rt.rt_parent) rt.rt_parent.rt_clones--;
    rt6_putgwroute(rt, null);
    return { error: EEXIST, rt: null };
  }
  if (ifp.if_type === IFT_ETHER) nd6_rtrequest(k, ifp, req, rt);
  return { error: 0, rt };
}

/** rt_setgwroute(): cache the next hop's neighbor entry in a gateway route. */
export function rt6_setgwroute(k: Kernel, rt: Rtentry6): number {
  const nhrt = rt6_match(k, rt.rt_gateway, 0, RT_RESOLVE);
  if (nhrt === null) return ENOENT;
  if (nhrt.rt_ifidx !== rt.rt_ifidx) return EHOSTUNREACH;
  if (nhrt.rt_flags & (RTF_CLONING | RTF_GATEWAY)) return ENETUNREACH;
  if (!(rt.rt_locks & RTV_MTU) && rt.rt_mtu > nhrt.rt_mtu && nhrt.rt_mtu !== 0) rt.rt_mtu = nhrt.rt_mtu;
  rt6_putgwroute(rt, nhrt);
  return 0;
}

export function rt6_putgwroute(rt: Rtentry6, nhrt: Rtentry6 | null): void {
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

/** rtdeletemsg(): remove a route with its clones, neighbor state and cache links. */
export function rt6_deletemsg(k: Kernel, rt: Rtentry6): number {
  const tbl = rtable6(k);
  if (!rt.rt_intable) return ESRCH;
  if (rt.rt_flags & RTF_CLONING) {
    const children: Rtentry6[] = [];
    tbl.walk((c) => {
      if (c.rt_parent === rt) children.push(c);
    });
    for (const c of children) rt6_deletemsg(k, c);
  }
  const e = tbl.delete(rt);
  if (e !== 0) return e;
  if (rt.rt_cachecnt > 0) {
    tbl.walk((g) => {
      if (g.rt_gwroute === rt) rt6_putgwroute(g, null);
    });
  }
  rt6_putgwroute(rt, null);
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp !== undefined && ifp.if_type === IFT_ETHER) nd6_rtrequest(k, ifp, RTM_DELETE, rt);
  if (rt.rt_parent !== null) {
    rt.rt_parent.rt_clones--;
    rt.rt_parent = null;
  }
  return 0;
}

/** rtrequest_delete() for AF_INET6: the route of a prefix (gateway, priority, interface when given). */
export function rtrequest6_delete(
  k: Kernel,
  dst: Uint8Array,
  plen: number,
  opts: { gateway?: Uint8Array; prio?: number; ifp?: Ifnet } = {},
): { error: number; rt: Rtentry6 | null } {
  const key = k.inet6.cloneKey;
  key.set(dst.subarray(0, 16));
  in6_prefix_mask(key, 0, plen);
  const list = rtable6(k).routesAt(key, plen);
  const g = opts.gateway;
  const rt = list.find(
    (r) =>
      (opts.prio === undefined || (r.rt_priority & RTP_MASK) === opts.prio) &&
      (opts.ifp === undefined || r.rt_ifidx === opts.ifp.if_index) &&
      (g === undefined || (r.rt_gwfamily === AF_INET6 && r.rt_gateway.every((x, i) => x === g[i]))),
  );
  if (rt === undefined) return { error: ESRCH, rt: null };
  const e = rt6_deletemsg(k, rt);
  return { error: e, rt: e === 0 ? rt : null };
}

/** Priority of a route an address brings. */
function ifaprio(ifp: Ifnet, flags: number): number {
  if (flags & (RTF_LOCAL | RTF_BROADCAST)) return RTP_LOCAL;
  if (flags & (RTF_CONNECTED | RTF_MULTICAST)) return ifp.if_priority + RTP_CONNECTED;
  return ifp.if_priority + RTP_STATIC;
}

/** rt_ifa_add(): a route an IPv6 address brings (local, connected, multicast). */
export function rt6_ifa_add(k: Kernel, ifp: Ifnet, ia: In6Ifaddr, flags: number, dst: Uint8Array, plen: number): number {
  const info: Rt6Addrinfo = { dst, plen: flags & RTF_HOST ? 128 : plen, flags, ifa: ia, ifp };
  if (flags & RTF_LLINFO) info.gwll = ifp.if_lladdr;
  else info.gateway = ia.addr;
  return rtrequest6(k, RTM_ADD, info, ifaprio(ifp, flags)).error;
}

export function rt6_ifa_del(k: Kernel, ifp: Ifnet, flags: number, dst: Uint8Array, plen: number): number {
  return rtrequest6_delete(k, dst, flags & RTF_HOST ? 128 : plen, { prio: ifaprio(ifp, flags), ifp }).error;
}

/** rt_if_track() for IPv6 routes: follow the interface's link and IFF_UP. */
export function rt6_if_track(ifp: Ifnet): void {
  const k = ifp.kernel;
  const up = linkUp(ifp) && (ifp.if_flags & IFF_UP) !== 0;
  const tbl = rtable6(k);
  const changed: Rtentry6[] = [];
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

/** route(8) add -inet6: a static route (gateway address, or -iface through ifp). */
export function rt6_route_add(k: Kernel, dst: Uint8Array, plen: number, gateway: Uint8Array, extraFlags = 0): number {
  const nh = rt6_match(k, gateway, 0, 0);
  if (nh === null) return ENETUNREACH;
  const ifp = k.ifnets[nh.rt_ifidx];
  if (ifp === undefined) return ENETUNREACH;
  const flags = RTF_STATIC | RTF_GATEWAY | (plen === 128 ? RTF_HOST : 0) | extraFlags;
  return rtrequest6(k, RTM_ADD, { dst, plen, flags, gateway, ifa: nh.rt_ifa, ifp }, 0).error;
}

/** RTM_ADD options of route(8) for an IPv6 route. */
export interface Rtm6AddOptions {
  /** Extra flags (RTF_REJECT, RTF_BLACKHOLE, RTF_MPATH...). */
  flags?: number;
  /** -iface: the gateway is an address of ours; the route is direct (no RTF_GATEWAY). */
  iface?: boolean;
  /** -host: a host route whatever plen says. */
  host?: boolean;
  priority?: number;
  mtu?: number;
}

/**
 * rtm_getifa() for IPv6 (ifa_ifwithroute): with -iface our address equal
 * to the gateway; else the address of the route towards the gateway (a
 * lookup that counts in its rt_use, as rtalloc() does), on the interface
 * of that address.
 */
function rtm6_getifa(k: Kernel, gateway: Uint8Array, iface: boolean): { ia: In6Ifaddr; ifp: Ifnet } | null {
  let ia: In6Ifaddr | null = null;
  if (iface) {
    for (const l of k.inet6.ifaddrs) {
      if (l === undefined) continue;
      for (const x of l) if (x.addr.every((v, i) => v === gateway[i])) ia = x;
    }
  } else {
    const rt = rt6_match(k, gateway, 0, RT_RESOLVE);
    if (rt !== null) ia = rt.rt_ifa;
  }
  if (ia === null) return null;
  const ifp = k.ifnets[ia.ifidx];
  return ifp === undefined ? null : { ia, ifp };
}

/** RTM_ADD from route(8) -inet6: a static route to dst/plen (scopes embedded) via gateway.  Returns an errno. */
export function rtm6_add(k: Kernel, dst: Uint8Array, plen: number, gateway: Uint8Array, opts: Rtm6AddOptions = {}): number {
  const found = rtm6_getifa(k, gateway, opts.iface ?? false);
  if (found === null) return ENETUNREACH;
  let flags = RTF_STATIC | (opts.flags ?? 0);
  if (!opts.iface) flags |= RTF_GATEWAY;
  if (opts.host || plen === 128) flags |= RTF_HOST;
  const info: Rt6Addrinfo = { dst, plen, flags, gateway, ifa: found.ia, ifp: found.ifp };
  if (opts.mtu) info.mtu = opts.mtu;
  return rtrequest6(k, RTM_ADD, info, opts.priority ?? 0).error;
}

/** RTM_DELETE from route(8) -inet6: a route of dst/plen (not a local one), by gateway and priority when given. */
export function rtm6_delete(k: Kernel, dst: Uint8Array, plen: number, gateway?: Uint8Array, priority?: number): number {
  const key = k.inet6.cloneKey;
  key.set(dst.subarray(0, 16));
  in6_prefix_mask(key, 0, plen);
  const rt = rtable6(k).routesAt(key, plen).find(
    (r) =>
      !(r.rt_flags & (RTF_LOCAL | RTF_BROADCAST)) &&
      (priority === undefined || (r.rt_priority & RTP_MASK) === priority) &&
      (gateway === undefined || !(r.rt_flags & RTF_GATEWAY) || r.rt_gateway.every((x, i) => x === gateway[i])),
  );
  if (rt === undefined) return ESRCH;
  return rt6_deletemsg(k, rt);
}

/** RTM_GET for IPv6: the route of exactly dst/plen when plen is given, else the best match. */
export function rtm6_get(k: Kernel, dst: Uint8Array, plen?: number): Rtentry6 | null {
  if (plen === undefined) return rtable6(k).match(dst, 0);
  const key = k.inet6.cloneKey;
  key.set(dst.subarray(0, 16));
  in6_prefix_mask(key, 0, plen);
  return rtable6(k).lookup(key, plen);
}
