/**
 * rip6_output() (netinet6/raw_ip6.c): what a raw IPv6 socket sends
 * (ping6's echo requests) goes to ip6_output and is counted by the
 * socket's protocol: an ICMPv6 socket's message in the ICMPv6 output
 * histogram by its type, any other protocol's in rip6s_opackets ("n
 * datagrams output" of netstat -s -p rip6), sent or not, as OpenBSD.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import type { Ifnet } from '../net/if.js';
import { icp6s_outhist, rip6s_opackets } from '../kern/counters.gen.js';
import { IPPROTO_ICMPV6 } from '../../wire/ip4.js';
import { IP6_HDR_LEN } from '../../wire/ip6.js';
import { ip6_output } from './ip6_output.js';

/**
 * rip6_output(): m is the datagram with its IPv6 header (the next header
 * is the socket's protocol, the source left unspecified for ip6_output to
 * choose), mifp the multicast interface, hlim the socket's hop limit (-1:
 * net.inet6.ip6.hlim, as in6_selecthlim()).  Returns ip6_output's errno;
 * m is consumed.
 */
export function rip6_output(k: Kernel, m: Mbuf, mifp: Ifnet | null, hlim: number): number {
  const b = m.buf;
  const o = m.off;
  b[o + 7] = hlim >= 0 ? hlim : k.inet6.ip6_defhlim.value;
  // the message type, read before ip6_output takes the packet
  const type = b[o + 6] === IPPROTO_ICMPV6 && m.len > IP6_HDR_LEN ? b[o + IP6_HDR_LEN]! : -1;
  const error = ip6_output(k, m, 0, null, mifp, hlim);
  if (type >= 0) k.stats.icmp6stat.inc(icp6s_outhist + type);
  else k.stats.rip6stat.inc(rip6s_opackets);
  return error;
}
