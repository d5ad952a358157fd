/**
 * `netstat -r` and `netstat -i` (usr.bin/netstat/show.c, if.c), also used
 * by route(8)'s `show`: the routing table in OpenBSD's columns and the
 * interface list with its counters.
 */
import type { Kernel } from '../../sys/kern/kernel.js';
import { IFF_UP, IFT_ETHER, if_list, type Ifnet } from '../../sys/net/if.js';
import { AF_LINK, RTF_HOST, RTP_MASK, RTV_MTU, rtflagsString, type Rtentry } from '../../sys/net/route.js';
import { formatIp4 } from '../../wire/addr.js';
import { in6_ifaddrs } from '../../sys/netinet6/in6.js';
import { IN6_IS_SCOPE_EMBED } from '../../sys/netinet6/in6_var.js';
import { routename6 } from './route6.js';

const WID_DST = 18;
const WID_GW = 18;

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}
function rpad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

/** netname4(): a network, its address truncated to the mask's octets. */
export function netname4(addr: number, mask: number): string {
  addr >>>= 0;
  mask >>>= 0;
  let mbits = 0;
  if (mask !== 0) {
    // 33 - ffs(mask)
    let ffs = 1;
    while (!((mask >>> (ffs - 1)) & 1)) ffs++;
    mbits = 33 - ffs;
  }
  const o = [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff];
  if (addr === 0 && mask === 0) return 'default';
  if (mbits < 9) return `${o[0]}/${mbits}`;
  if (mbits < 17) return `${o[0]}.${o[1]}/${mbits}`;
  if (mbits < 25) return `${o[0]}.${o[1]}.${o[2]}/${mbits}`;
  return `${o[0]}.${o[1]}.${o[2]}.${o[3]}/${mbits}`;
}

/** ether_ntoa(): two hex digits per octet. */
export function ether_ntoa(b: Uint8Array, o = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[o + i]!.toString(16).padStart(2, '0');
  return s;
}

/** The destination column of a route (p_sockaddr with its mask and flags). */
export function rtDestName(rt: Rtentry): string {
  if (rt.rt_flags & RTF_HOST) return formatIp4(rt.rt_dst);
  return netname4(rt.rt_dst, rt.rt_mask);
}

/** The gateway column: an address, a link-layer address, or link#N while unresolved. */
export function rtGatewayName(rt: Rtentry): string {
  if (rt.rt_gwfamily === AF_LINK) return rt.rt_gwalen === 0 ? `link#${rt.rt_ifidx}` : ether_ntoa(rt.rt_gwll);
  return formatIp4(rt.rt_gwaddr);
}

function p_sockaddr(s: string, width: number, nflag: boolean): string {
  return nflag ? `${pad(s, width)} ` : `${pad(s.slice(0, width), width)} `;
}

/** pr_rthdr() for inet */
export function pr_rthdr(): string {
  return `${pad('Destination', WID_DST)} ${pad('Gateway', WID_GW)} ${pad('Flags', 6)} ${rpad('Refs', 5)} ${rpad('Use', 8)} ${rpad('Mtu', 5)}  ${rpad('Prio', 4)} Iface\n`;
}

/** p_rtentry() */
export function p_rtentry(k: Kernel, rt: Rtentry, nflag: boolean): string {
  let s = p_sockaddr(rtDestName(rt), WID_DST, nflag);
  s += p_sockaddr(rtGatewayName(rt), WID_GW, nflag);
  s += `${pad(rtflagsString(rt.rt_flags).slice(0, 6), 6)} `;
  s += `${rpad(String(rt.rt_refcnt), 5)} ${rpad(String(rt.rt_use), 8)} `;
  s += rt.rt_mtu ? `${rpad(String(rt.rt_mtu), 5)} ` : `${rpad('-', 5)} `;
  s += rt.rt_locks & RTV_MTU ? 'L' : ' ';
  const ifname = k.ifnets[rt.rt_ifidx]?.if_xname ?? '';
  s += `  ${rpad(String(rt.rt_priority & RTP_MASK), 2)} ${pad(ifname.slice(0, 16), 5)}\n`;
  return s;
}

/** p_rttables(): `Routing tables` and the Internet section. */
export function p_rttables(k: Kernel, nflag: boolean): string {
  let s = 'Routing tables\n';
  const rts = k.inet.rtable.entries();
  if (rts.length === 0) return s;
  s += '\nInternet:\n';
  s += pr_rthdr();
  for (const rt of rts) s += p_rtentry(k, rt, nflag);
  return s;
}

/** The error columns of netstat -i: default errors+drops, -e errors, -d drops. */
export type IfErrs = 'fail' | 'errs' | 'drop';

export interface IntprOptions {
  interface_?: string;
  errs?: IfErrs;
  bflag?: boolean;
  qflag?: boolean;
  vflag?: boolean;
}

function errcount(mode: IfErrs, errs: number, drops: number): number {
  return mode === 'fail' ? errs + drops : mode === 'errs' ? errs : drops;
}

/** intpr(): netstat -i / -I ifname. */
export function intpr(k: Kernel, o: IntprOptions = {}): string {
  const mode = o.errs ?? 'fail';
  const names = mode === 'fail' ? ['Ifail', 'Ofail'] : mode === 'errs' ? ['Ierrs', 'Oerrs'] : ['Idrop', 'Odrop'];
  let s = `${pad('Name', 7)} ${pad('Mtu', 5)} ${pad('Network', 11)} ${pad('Address', 17)} `;
  if (o.bflag) s += `${rpad('Ibytes', 10)} ${rpad('Obytes', 10)}`;
  else s += `${rpad('Ipkts', 8)} ${rpad(names[0]!, 5)} ${rpad('Opkts', 8)} ${rpad(names[1]!, 5)} ${rpad('Colls', 5)}`;
  s += '\n';
  for (const ifp of if_list(k)) {
    if (o.interface_ !== undefined && ifp.if_xname !== o.interface_) continue;
    if (o.qflag && total(ifp, mode) === 0) continue;
    const name = ifp.if_xname + (ifp.if_flags & IFF_UP ? '' : '*');
    const head = `${pad(name, 7)} ${pad(String(ifp.if_mtu), 5)} `;
    // The link-level row.
    if (ifp.if_type === IFT_ETHER) s += head + `${pad('<Link>', 11)} ${pad(ether_ntoa(ifp.if_lladdr), 17)} `;
    else s += head + `${pad('<Link>', 11)} ` + ' '.repeat(18);
    s += counters(ifp, mode, o.bflag ?? false);
    const row = (net: string, host: string): string => {
      const nw = o.vflag ? Math.max(11, net.length) : 11;
      const hw = o.vflag ? Math.max(17, host.length) : 17;
      return `${head}${pad(net.slice(0, nw), nw)} ${pad(host.slice(0, hw), hw)} ` + counters(ifp, mode, o.bflag ?? false);
    };
    for (const ia of ifp.if_addrs) s += row(netname4((ia.addr & ia.mask) >>> 0, ia.mask), formatIp4(ia.addr));
    for (const ia of in6_ifaddrs(k, ifp)) s += row(ifnetname6(k, ia.addr, ia.prefixlen), routename6(k, ia.addr));
  }
  return s;
}

/** netname6() of an interface address: the network ADDR/LEN with its scope (`fe80::%lo0/64`). */
function ifnetname6(k: Kernel, addr: Uint8Array, plen: number): string {
  const net = addr.slice();
  for (let i = 0; i < 16; i++) {
    const bits = Math.min(8, Math.max(0, plen - 8 * i));
    net[i]! &= (0xff00 >> bits) & 0xff;
  }
  // the embedded scope (bytes 2-3 of a link-local address) is not part of the prefix
  if (IN6_IS_SCOPE_EMBED(addr, 0)) {
    net[2] = addr[2]!;
    net[3] = addr[3]!;
  }
  return `${routename6(k, net)}/${plen}`;
}

function total(ifp: Ifnet, mode: IfErrs): number {
  return ifp.if_ibytes + ifp.if_obytes + ifp.if_ipackets + ifp.if_opackets + ifp.if_collisions +
    errcount(mode, ifp.if_ierrors, ifp.if_iqdrops) + errcount(mode, ifp.if_oerrors, ifp.if_oqdrops);
}

function counters(ifp: Ifnet, mode: IfErrs, bflag: boolean): string {
  if (bflag) return `${rpad(String(ifp.if_ibytes), 10)} ${rpad(String(ifp.if_obytes), 10)}\n`;
  return `${rpad(String(ifp.if_ipackets), 8)} ${rpad(String(errcount(mode, ifp.if_ierrors, ifp.if_iqdrops)), 5)} ` +
    `${rpad(String(ifp.if_opackets), 8)} ${rpad(String(errcount(mode, ifp.if_oerrors, ifp.if_oqdrops)), 5)} ` +
    `${rpad(String(ifp.if_collisions), 5)}\n`;
}

