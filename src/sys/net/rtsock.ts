/**
 * The kernel side of the routing socket (sys/net/rtsock.c) for route(8)
 * and arp(8): RTM_ADD (rtm_getifa() finds the interface towards the
 * gateway, as OpenBSD does by resolving it), RTM_DELETE and RTM_GET.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet, InIfaddr } from './if.js';
import {
  ENETUNREACH, ESRCH, RT_RESOLVE, RTF_BROADCAST, RTF_GATEWAY, RTF_HOST, RTF_LOCAL, RTF_STATIC,
  RTM_ADD, RTP_MASK, rt_match, rtdeletemsg, rtrequest, plen2mask, type Rtentry,
} from './route.js';
import { ifa_ifwithaddr, ifa_ifp } from '../netinet/in.js';

export interface RtmAddOptions {
  /** Extra flags (RTF_REJECT, RTF_BLACKHOLE, RTF_CLONING...). */
  flags?: number;
  /** -iface: the gateway is an address of ours; the route is direct (no RTF_GATEWAY). */
  iface?: boolean;
  /** -host (dst is a host route); otherwise plen decides. */
  host?: boolean;
  priority?: number;
  mtu?: number;
}

/** rtm_getifa(): the interface address to reach gateway, and its interface. */
function rtm_getifa(k: Kernel, gateway: number, iface: boolean): { ia: InIfaddr; ifp: Ifnet } | null {
  const own = ifa_ifwithaddr(k, gateway);
  if (own !== null) {
    const ifp = ifa_ifp(k, own);
    if (ifp !== null) return { ia: own, ifp };
  }
  if (iface) return null;
  const rt = rt_match(k, gateway, RT_RESOLVE);
  if (rt === null || rt.rt_ifa === null) return null;
  const ifp = k.ifnets[rt.rt_ifidx];
  return ifp === undefined ? null : { ia: rt.rt_ifa, ifp };
}

/** RTM_ADD from route(8): a static route to dst/plen via gateway.  Returns an errno. */
export function rtm_add(k: Kernel, dst: number, plen: number, gateway: number, opts: RtmAddOptions = {}): number {
  const found = rtm_getifa(k, gateway, opts.iface ?? false);
  if (found === null) return ENETUNREACH;
  let flags = RTF_STATIC | (opts.flags ?? 0);
  if (!opts.iface) flags |= RTF_GATEWAY;
  if (opts.host || plen === 32) flags |= RTF_HOST;
  const r = rtrequest(k, RTM_ADD, {
    dst, plen, flags, gateway, ifa: found.ia, ifp: found.ifp, mtu: opts.mtu,
  }, opts.priority ?? 0);
  return r.error;
}

/** RTM_DELETE from route(8): a route of dst/plen (not a local or broadcast one). */
export function rtm_delete(k: Kernel, dst: number, plen: number, gateway?: number, priority?: number): number {
  const list = k.inet.rtable.routesAt(dst, plen);
  const rt = list.find(
    (r) =>
      !(r.rt_flags & (RTF_LOCAL | RTF_BROADCAST)) &&
      (priority === undefined || (r.rt_priority & RTP_MASK) === priority) &&
      (gateway === undefined || !(r.rt_flags & RTF_GATEWAY) || r.rt_gwaddr === gateway >>> 0),
  );
  if (rt === undefined) return ESRCH;
  return rtdeletemsg(k, rt);
}

/** RTM_GET: the route to dst (exact prefix when plen is given). */
export function rtm_get(k: Kernel, dst: number, plen?: number): Rtentry | null {
  if (plen !== undefined) return k.inet.rtable.lookup(dst, plen);
  return k.inet.rtable.match(dst);
}

/** route add, for code and tests: dst/plen via gateway. */
export function rt_route_add(k: Kernel, dst: number, plen: number, gateway: number, opts: RtmAddOptions = {}): number {
  return rtm_add(k, (dst & plen2mask(plen)) >>> 0, plen, gateway, opts);
}
