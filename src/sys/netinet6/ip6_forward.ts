/**
 * IPv6 forwarding (sys/netinet6/ip6_forward.c): not multicast or from ::
 * (ip6s_cantforward), hop limit expiry (ICMPv6 time exceeded in transit),
 * no route (ip6s_noroute, destination unreachable "no route"), a source
 * scope the outgoing link does not share (ip6s_cantforward + ip6s_badscope,
 * "beyond scope"), then out; a packet larger than the link MTU is never
 * fragmented by a router: it is answered with Packet Too Big carrying
 * the MTU (counted by icmp6's error histogram, as in OpenBSD).  The head
 * of the packet (ICMPV6_PLD_MAXLEN at most) is kept for the error.
 */
import type { Kernel } from '../kern/kernel.js';
import { M_BCAST, M_COPYFLAGS, M_MCAST, type Mbuf } from '../kern/uipc_mbuf.js';
import { ip6s_badscope, ip6s_cantforward, ip6s_cantfrag, ip6s_forward, ip6s_noroute, ip6s_redirectsent } from '../kern/counters.gen.js';
import { EACCES, EMSGSIZE, ENOBUFS, RTF_DYNAMIC, RTF_GATEWAY, RTF_MODIFIED } from '../net/route.js';
import { rt6_match, type Rtentry6 } from '../net/route6.js';
import { RT_RESOLVE } from '../net/route.js';
import { IP6_HDR_LEN, IPV6_HLIMDEC, Ipv6Packet } from '../../wire/ip6.js';
import { IPPROTO_ESP, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import {
  ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, ICMP6_DST_UNREACH_BEYONDSCOPE, ICMP6_DST_UNREACH_NOROUTE,
  ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEED_TRANSIT, ICMP6_TIME_EXCEEDED, ICMPV6_PLD_MAXLEN, ND_REDIRECT,
} from '../../wire/icmp6.js';
import { IN6_IS_ADDR_MULTICAST, IN6_IS_ADDR_UNSPECIFIED, in6_addr2scopeid } from './in6_var.js';
import { icmp6_error } from './icmp6.js';
import { IPV6_REDIRECT, ip6_pf_test, ip6_send_if, route6_mpath } from './ip6_output.js';
import type { Route6 } from './inet6.js';
import { PF_FWD } from '../net/pf.js';

const ip6v = new Ipv6Packet();

/** ip6_forward(): m is not ours and net.inet6.ip6.forwarding is set. */
export function ip6_forward(k: Kernel, m: Mbuf, ro: Route6 | null, flags: number): void {
  const st = k.stats.ip6stat;
  const inet6 = k.inet6;
  if (k.trace !== null) k.trace.fn(k, m, 'ip6_forward');
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  const ifidx = m.ph_ifidx;
  if (m.m_flags & (M_BCAST | M_MCAST) || IN6_IS_ADDR_MULTICAST(b, ip6.dstOffset) || IN6_IS_ADDR_UNSPECIFIED(b, ip6.srcOffset)) {
    st.inc(ip6s_cantforward);
    if (k.trace !== null) k.trace.drop(k, m, 'ip6_forward: multicast or unspecified source');
    m.free();
    return;
  }
  if (ip6.hopLimit <= IPV6_HLIMDEC) {
    if (k.trace !== null) k.trace.branch(k, m, 'ip6_forward: hop limit exceeded → time exceeded');
    icmp6_error(k, m, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT, 0);
    return;
  }
  ip6.hopLimit = ip6.hopLimit - IPV6_HLIMDEC;
  // Keep the head of the packet for an ICMPv6 error.
  let icmp_len: number;
  switch (ip6.nextHeader) {
    case IPPROTO_TCP: icmp_len = IP6_HDR_LEN + 20 + 40; break;
    case IPPROTO_UDP: icmp_len = IP6_HDR_LEN + 8; break;
    case IPPROTO_ESP: icmp_len = IP6_HDR_LEN + 8; break;
    default: icmp_len = ICMPV6_PLD_MAXLEN;
  }
  if (icmp_len > m.len) icmp_len = m.len;
  const saved = inet6.icmpSave;
  saved.set(b.subarray(m.off, m.off + icmp_len));
  const mflags = m.m_flags;
  const pfflags = m.pf_flags;
  const rtableid = m.ph_rtableid;
  const loopcnt = m.ph_loopcnt;

  let type = 0;
  let code = 0;
  let destmtu = 0;
  const rt: Rtentry6 | null = ro !== null ? route6_mpath(k, ro, b, ip6.dstOffset) : rt6_match(k, b, ip6.dstOffset, RT_RESOLVE);
  if (rt === null) {
    st.inc(ip6s_noroute);
    if (k.trace !== null) k.trace.drop(k, m, 'ip6_forward: no route → destination unreachable');
    m.free();
    icmperror(k, saved, icmp_len, mflags, pfflags, rtableid, ifidx, loopcnt, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, 0);
    return;
  }
  if (in6_addr2scopeid(ifidx, b, ip6.srcOffset) !== in6_addr2scopeid(rt.rt_ifidx, b, ip6.srcOffset)) {
    st.inc(ip6s_cantforward);
    st.inc(ip6s_badscope);
    if (k.trace !== null) k.trace.drop(k, m, 'ip6_forward: source beyond scope of the outgoing link');
    m.free();
    icmperror(k, saved, icmp_len, mflags, pfflags, rtableid, ifidx, loopcnt, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_BEYONDSCOPE, 0);
    return;
  }
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp === undefined) {
    m.free();
    return;
  }
  if (rt.rt_ifidx === ifidx && !(rt.rt_flags & (RTF_DYNAMIC | RTF_MODIFIED)) && !(flags & IPV6_REDIRECT) &&
      inet6.ip6_sendredirects.value !== 0) type = ND_REDIRECT;
  // pf_test(FWD): the forward path is where a forwarded packet meets pf (ip6_output is not called).
  if (k.pf !== null) {
    const n = ip6_pf_test(k, PF_FWD, ifp, m);
    if (n === null) return;
    m = n;
    ip6v.wrap(m.buf, m.off, m.len);
  }
  const mtu = rt.rt_mtu !== 0 && rt.rt_mtu < ifp.if_mtu ? rt.rt_mtu : ifp.if_mtu;
  if (m.len > mtu) {
    // Routers do not fragment: Packet Too Big with the link's MTU.
    if (k.trace !== null) k.trace.drop(k, m, `ip6_forward: ${m.len} bytes > mtu ${mtu} → packet too big`);
    m.free();
    icmperror(k, saved, icmp_len, mflags, pfflags, rtableid, ifidx, loopcnt, ICMP6_PACKET_TOO_BIG, 0, mtu);
    return;
  }
  const nh = rt.rt_flags & RTF_GATEWAY ? rt.rt_gateway : m.buf;
  const nho = rt.rt_flags & RTF_GATEWAY ? 0 : ip6.dstOffset;
  const error = ip6_send_if(k, ifp, m, nh, nho, rt);
  if (error) st.inc(ip6s_cantforward);
  else {
    st.inc(ip6s_forward);
    if (type === ND_REDIRECT) {
      // icmp6_redirect_output() is not built: the redirect is counted as OpenBSD would send it.
      st.inc(ip6s_redirectsent);
    }
    return;
  }
  switch (error) {
    case EMSGSIZE:
      type = ICMP6_PACKET_TOO_BIG;
      destmtu = rt.rt_mtu !== 0 ? rt.rt_mtu : ifp.if_mtu;
      st.inc(ip6s_cantfrag);
      break;
    case EACCES:
    case ENOBUFS:
      return;
    default:
      type = ICMP6_DST_UNREACH;
      code = ICMP6_DST_UNREACH_ADDR;
      break;
  }
  icmperror(k, saved, icmp_len, mflags, pfflags, rtableid, ifidx, loopcnt, type, code, destmtu);
}

function icmperror(
  k: Kernel, saved: Uint8Array, len: number, mflags: number, pfflags: number, rtableid: number, ifidx: number,
  loopcnt: number, type: number, code: number, param: number,
): void {
  const mcopy = k.mbufs.get(len);
  if (mcopy === null) return;
  mcopy.append(len);
  mcopy.buf.set(saved.subarray(0, len), mcopy.off);
  mcopy.m_flags |= mflags & M_COPYFLAGS;
  mcopy.ph_rtableid = rtableid;
  mcopy.ph_ifidx = ifidx;
  mcopy.ph_loopcnt = loopcnt;
  mcopy.pf_flags |= pfflags & 0x01;
  if (k.trace !== null) k.trace.caused(mcopy, 'ip6_forward: icmp6 error');
  icmp6_error(k, mcopy, type, code, param);
}

