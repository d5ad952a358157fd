/**
 * `netstat -r -f inet6` (usr.bin/netstat/show.c for AF_INET6): the
 * Internet6 section, destinations 43 wide (39 + "/128"), gateways 39,
 * scoped addresses as `fe80::1%em0`, networks as `ADDR/LEN`, `default`
 * for ::/0.
 */
import type { Kernel } from '../../sys/kern/kernel.js';
import { AF_LINK, RTF_HOST, RTP_MASK, RTV_MTU, rtflagsString } from '../../sys/net/route.js';
import type { Rtentry6 } from '../../sys/net/route6.js';
import { formatIp6 } from '../../wire/addr.js';
import { in6_getscope } from '../../sys/netinet6/in6_var.js';
import { ether_ntoa } from './route.js';

const WID_DST6 = 43;
const WID_GW6 = 39;

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}
function rpad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

/** routename6(): an address with its scope as %ifname. */
export function routename6(k: Kernel, a: Uint8Array): string {
  const scope = in6_getscope(a, 0);
  if (scope === 0) return formatIp6(a, 0);
  const t = a.slice();
  t[2] = 0;
  t[3] = 0;
  return `${formatIp6(t, 0)}%${k.ifnets[scope]?.if_xname ?? String(scope)}`;
}

/** The destination column: routename6() of a host, netname6() `ADDR/LEN` of a network, `default` for ::/0. */
export function destName6(k: Kernel, rt: Rtentry6): string {
  if (rt.rt_flags & RTF_HOST) return routename6(k, rt.rt_dst);
  if (rt.rt_plen === 0) return 'default';
  return `${routename6(k, rt.rt_dst)}/${rt.rt_plen}`;
}

/** The gateway column: an address, a link-layer address, or link#N while unresolved. */
export function gwName6(k: Kernel, rt: Rtentry6): string {
  if (rt.rt_gwfamily === AF_LINK) return rt.rt_gwalen === 0 ? `link#${rt.rt_ifidx}` : ether_ntoa(rt.rt_gwll);
  return routename6(k, rt.rt_gateway);
}

function sockaddr(s: string, width: number, nflag: boolean): string {
  return nflag ? `${pad(s, width)} ` : `${pad(s.slice(0, width), width)} `;
}

/** The Internet6 section (empty when there are no IPv6 routes). */
export function p_rttables6(k: Kernel, nflag: boolean): string {
  const rts = k.inet6.rtable.entries();
  if (rts.length === 0) return '';
  let s = '\nInternet6:\n';
  s += `${pad('Destination', WID_DST6)} ${pad('Gateway', WID_GW6)} ${pad('Flags', 6)} ${rpad('Refs', 5)} ${rpad('Use', 8)} ${rpad('Mtu', 5)}  ${rpad('Prio', 4)} Iface\n`;
  for (const rt of rts) {
    let l = sockaddr(destName6(k, rt), WID_DST6, nflag);
    l += sockaddr(gwName6(k, rt), WID_GW6, nflag);
    l += `${pad(rtflagsString(rt.rt_flags).slice(0, 6), 6)} `;
    l += `${rpad(String(rt.rt_refcnt), 5)} ${rpad(String(rt.rt_use), 8)} `;
    l += rt.rt_mtu ? `${rpad(String(rt.rt_mtu), 5)} ` : `${rpad('-', 5)} `;
    l += rt.rt_locks & RTV_MTU ? 'L' : ' ';
    const ifname = k.ifnets[rt.rt_ifidx]?.if_xname ?? '';
    // rtm_priority is masked: a route of a down interface shows its configured priority.
    l += `  ${rpad(String(rt.rt_priority & RTP_MASK), 2)} ${pad(ifname.slice(0, 16), 5)}\n`;
    s += l;
  }
  return s;
}
