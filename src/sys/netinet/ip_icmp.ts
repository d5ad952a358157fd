/**
 * ICMP (sys/netinet/ip_icmp.c): icmp_input (length and checksum checks,
 * the input histogram, echo and mask/timestamp replies by reflection, errors
 * handed to the quoted protocol's ctlinput, everything else to raw
 * listeners), icmp_error with OpenBSD's rules (not about ICMP errors, not
 * for fragments other than the first, not to broadcasts, rate limited by
 * net.inet.icmp.errppslimit through ppsratecheck), icmp_reflect and
 * icmp_send.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_BROADCAST, IFF_POINTOPOINT } from '../net/if.js';
import { M_BCAST, M_MCAST, PF_TAG_GENERATED, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  icps_badcode, icps_badlen, icps_bmcastecho, icps_checksum, icps_error, icps_inhist, icps_oldicmp,
  icps_outhist, icps_reflect, icps_toofreq, icps_tooshort, ips_delivered, ips_noproto,
} from '../kern/counters.gen.js';
import { Ipv4Packet, IP_HDR_LEN, IP_OFFMASK, IPPROTO_ICMP, MAXTTL } from '../../wire/ip4.js';
import {
  IcmpPacket, ICMP_ADVLENMAX, ICMP_ADVLENMIN, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_MASKLEN, ICMP_MASKREPLY,
  ICMP_MASKREQ, ICMP_MAXTYPE, ICMP_MINLEN, ICMP_PARAMPROB, ICMP_REDIRECT, ICMP_SOURCEQUENCH, ICMP_TIMXCEED,
  ICMP_TSLEN, ICMP_TSTAMP, ICMP_TSTAMPREPLY, ICMP_UNREACH, ICMP_UNREACH_FILTER_PROHIB, ICMP_UNREACH_HOST,
  ICMP_UNREACH_HOST_PRECEDENCE, ICMP_UNREACH_HOST_PROHIB, ICMP_UNREACH_HOST_UNKNOWN, ICMP_UNREACH_ISOLATED,
  ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_NET, ICMP_UNREACH_NET_PROHIB, ICMP_UNREACH_NET_UNKNOWN,
  ICMP_UNREACH_PORT, ICMP_UNREACH_PRECEDENCE_CUTOFF, ICMP_UNREACH_PROTOCOL, ICMP_UNREACH_SRCFAIL,
  ICMP_UNREACH_TOSHOST, ICMP_UNREACH_TOSNET, icmpInfoType,
} from '../../wire/icmp.js';
import { sum16 } from '../../wire/checksum.js';
import { EHOSTUNREACH, ELOOP, RT_RESOLVE, RTF_BROADCAST, RTF_GATEWAY, RTF_LOCAL, rt_match, rtisvalid } from '../net/route.js';
import { in_canforward, IN_LOOPBACKNET, IN_MULTICAST, INADDR_ANY, INADDR_BROADCAST, ifa_ifwithnet } from './in.js';
import { ip_output } from './ip_output.js';

// protocol control commands (sys/protosw.h), what ctlinput receives.
export const PRC_QUENCH = 4;
export const PRC_MSGSIZE = 5;
export const PRC_HOSTDEAD = 6;
export const PRC_UNREACH_NET = 8;
export const PRC_UNREACH_HOST = 9;
export const PRC_UNREACH_PROTOCOL = 10;
export const PRC_UNREACH_PORT = 11;
export const PRC_UNREACH_SRCFAIL = 13;
export const PRC_REDIRECT_HOST = 15;
export const PRC_TIMXCEED_INTRANS = 18;
export const PRC_TIMXCEED_REASS = 19;
export const PRC_PARAMPROB = 20;

/** Most times a packet may be looped through the stack (M_MAXLOOP). */
export const M_MAXLOOP = 128;

const ipv = new Ipv4Packet();
const icv = new IcmpPacket();

/** The ICMP rate limiter state (ppsratecheck). */
export class IcmpState {
  /** ns of the last second boundary; -1 never. */
  lasttime = -1;
  curpps = 0;
}

/** ppsratecheck(): true when one more event may happen this second. */
export function ppsratecheck(k: Kernel, s: IcmpState, maxpps: number): boolean {
  const now = k.world.now;
  let rv: boolean;
  if (maxpps === 0) rv = false;
  else if (s.lasttime < 0 || now - s.lasttime >= 1e9) {
    s.lasttime = now;
    s.curpps = 0;
    rv = true;
  } else if (maxpps < 0) rv = true;
  else rv = s.curpps < maxpps;
  s.curpps++;
  return rv;
}

/** icmp_ratelimit(): true when the error must not be sent. */
export function icmp_ratelimit(k: Kernel): boolean {
  return !ppsratecheck(k, k.inet.icmp, k.inet.icmperrppslim.value);
}

/**
 * icmp_do_error(): build the error about datagram n (n is consumed).
 * Returns the new packet (IP header with the original addresses + ICMP),
 * or null when OpenBSD's rules say no.
 */
export function icmp_do_error(k: Kernel, n: Mbuf, type: number, code: number, dest: number, destmtu: number): Mbuf | null {
  const st = k.stats.icmpstat;
  const oip = ipv.wrap(n.buf, n.off, n.len);
  const oiplen = oip.headerLength;
  if (type !== ICMP_REDIRECT) st.inc(icps_error);
  // Not about fragments other than the first.
  if (oip.ipOff & IP_OFFMASK) return freeit(n);
  // Not about an ICMP error (only known informational types get errors).
  if (oip.protocol === IPPROTO_ICMP && type !== ICMP_REDIRECT && n.len >= oiplen + ICMP_MINLEN &&
      !icmpInfoType(n.buf[n.off + oiplen]!)) {
    st.inc(icps_oldicmp);
    return freeit(n);
  }
  // Not to a broadcast or multicast.
  if (n.m_flags & (M_BCAST | M_MCAST)) return freeit(n);
  if (icmp_ratelimit(k)) {
    st.inc(icps_toofreq);
    return freeit(n);
  }
  let icmplen = oiplen + Math.min(8, oip.totalLength);
  icmplen = Math.min(n.len, icmplen);
  const total = IP_HDR_LEN + ICMP_MINLEN + icmplen;
  const m = k.mbufs.get(total);
  if (m === null) return freeit(n);
  m.ph_rtableid = n.ph_rtableid;
  m.ph_ifidx = n.ph_ifidx;
  m.pf_flags |= n.pf_flags & 0x01;
  m.append(total);
  st.inc(icps_outhist + type);
  const icp = icv.wrap(m.buf, m.off + IP_HDR_LEN, ICMP_MINLEN + icmplen);
  icp.type = type;
  icp.rest = 0;
  if (type === ICMP_REDIRECT) icp.gateway = dest;
  else if (type === ICMP_PARAMPROB) {
    icp.pointer = code;
    code = 0;
  } else if (type === ICMP_UNREACH && code === ICMP_UNREACH_NEEDFRAG && destmtu) icp.nextMtu = destmtu;
  icp.code = code;
  m.buf.set(n.buf.subarray(n.off, n.off + icmplen), m.off + IP_HDR_LEN + ICMP_MINLEN);
  const nip = ipv.wrap(m.buf, m.off, m.len);
  const osrc = ipv2.wrap(n.buf, n.off, n.len).src;
  const odst = ipv2.dst;
  m.buf.fill(0, m.off, m.off + IP_HDR_LEN);
  nip.version = 4;
  nip.ihl = 5;
  nip.totalLength = total;
  nip.protocol = IPPROTO_ICMP;
  nip.src = osrc;
  nip.dst = odst;
  n.free();
  return m;
}

const ipv2 = new Ipv4Packet();

/** Names of ICMP error types, for journeys. */
const ICMP_ERROR_NAMES: Record<number, string> = {
  3: 'destination unreachable', 4: 'source quench', 5: 'redirect', 11: 'time exceeded', 12: 'parameter problem',
};

function freeit(n: Mbuf): null {
  n.free();
  return null;
}

/** icmp_error(): send an ICMP error about n (consumed) back to its source. */
export function icmp_error(k: Kernel, n: Mbuf, type: number, code: number, dest: number, destmtu: number): void {
  const tr = k.trace;
  if (tr !== null) tr.fn(k, n, 'icmp_error', '', `type ${type} code ${code}`);
  const m = icmp_do_error(k, n, type, code, dest, destmtu);
  if (tr !== null) {
    if (m === null) tr.branch(k, null, 'icmp_error: no error sent (fragment, ICMP error, broadcast or rate limit)');
    else {
      tr.caused(m, `icmp_error: ${ICMP_ERROR_NAMES[type] ?? `type ${type}`} code ${code}`);
      tr.fn(k, m, 'icmp_error', '', 'the error, to the source of the packet that caused it');
    }
  }
  if (m !== null && icmp_reflect(k, m) === 0) icmp_send(k, m);
}

/** icmp_input(): m is the whole datagram, hlen its IP header length. */
export function icmp_input(k: Kernel, m: Mbuf, hlen: number, ifp: Ifnet): void {
  const st = k.stats.icmpstat;
  const ip = ipv.wrap(m.buf, m.off, m.len);
  const icmplen = ip.totalLength - hlen;
  if (k.trace !== null) k.trace.fn(k, m, 'icmp_input', ifp.if_xname, icmplen >= 1 ? `type ${m.buf[m.off + hlen]}` : '');
  if (icmplen < ICMP_MINLEN) {
    st.inc(icps_tooshort);
    m.free();
    return;
  }
  // m_pullup(hlen + min(icmplen, ICMP_ADVLENMAX)) cannot fail on a contiguous packet.
  void ICMP_ADVLENMAX;
  if (sum16(m.buf, m.off + hlen, icmplen) !== 0xffff) {
    st.inc(icps_checksum);
    m.free();
    return;
  }
  const icp = icv.wrap(m.buf, m.off + hlen, icmplen);
  const type = icp.type;
  if (type > ICMP_MAXTYPE) {
    rip_input_icmp(k, m, hlen);
    return;
  }
  st.inc(icps_inhist + type);
  const code = icp.code;
  switch (type) {
    case ICMP_UNREACH:
    case ICMP_TIMXCEED:
    case ICMP_PARAMPROB:
    case ICMP_SOURCEQUENCH: {
      let prc = -1;
      if (type === ICMP_UNREACH) {
        switch (code) {
          case ICMP_UNREACH_NET: case ICMP_UNREACH_HOST: case ICMP_UNREACH_PROTOCOL:
          case ICMP_UNREACH_PORT: case ICMP_UNREACH_SRCFAIL:
            prc = code + PRC_UNREACH_NET;
            break;
          case ICMP_UNREACH_NEEDFRAG:
            prc = PRC_MSGSIZE;
            break;
          case ICMP_UNREACH_NET_UNKNOWN: case ICMP_UNREACH_NET_PROHIB: case ICMP_UNREACH_TOSNET:
            prc = PRC_UNREACH_NET;
            break;
          case ICMP_UNREACH_HOST_UNKNOWN: case ICMP_UNREACH_ISOLATED: case ICMP_UNREACH_HOST_PROHIB:
          case ICMP_UNREACH_TOSHOST: case ICMP_UNREACH_FILTER_PROHIB: case ICMP_UNREACH_HOST_PRECEDENCE:
          case ICMP_UNREACH_PRECEDENCE_CUTOFF:
            prc = PRC_UNREACH_HOST;
            break;
        }
      } else if (type === ICMP_TIMXCEED) {
        if (code <= 1) prc = code + PRC_TIMXCEED_INTRANS;
      } else if (type === ICMP_PARAMPROB) {
        if (code <= 1) prc = PRC_PARAMPROB;
      } else if (code === 0) prc = PRC_QUENCH;
      if (prc < 0) {
        st.inc(icps_badcode);
        break;
      }
      // The quote must hold the original IP header and 8 bytes.
      if (icmplen < ICMP_ADVLENMIN || icmplen < icp.advLength || (m.buf[m.off + hlen + ICMP_MINLEN]! & 0xf) < 5) {
        st.inc(icps_badlen);
        m.free();
        return;
      }
      const qoff = m.off + hlen + ICMP_MINLEN;
      const qip = ipv2.wrap(m.buf, qoff, icmplen - ICMP_MINLEN);
      if (IN_MULTICAST(qip.dst)) {
        st.inc(icps_badcode);
        break;
      }
      const ctl = k.inet.pr_ctlinput[qip.protocol];
      if (ctl !== undefined) ctl(k, prc, qip.dst, m.buf, qoff, icmplen - ICMP_MINLEN);
      break;
    }
    case ICMP_ECHO:
      if (k.inet.icmpbmcastecho.value === 0 && m.m_flags & (M_MCAST | M_BCAST)) {
        st.inc(icps_bmcastecho);
        break;
      }
      icp.type = ICMP_ECHOREPLY;
      if (k.trace !== null) k.trace.branch(k, m, 'icmp_input: echo request → echo reply (icmp_reflect)');
      reflect(k, m, ICMP_ECHOREPLY);
      return;
    case ICMP_TSTAMP:
      if (k.inet.icmptstamprepl.value === 0) break;
      if (k.inet.icmpbmcastecho.value === 0 && m.m_flags & (M_MCAST | M_BCAST)) {
        st.inc(icps_bmcastecho);
        break;
      }
      if (icmplen < ICMP_TSLEN) {
        st.inc(icps_badlen);
        break;
      }
      icp.type = ICMP_TSTAMPREPLY;
      icp.rtime = iptime(k);
      icp.ttime = icp.rtime;
      reflect(k, m, ICMP_TSTAMPREPLY);
      return;
    case ICMP_MASKREQ: {
      if (k.inet.icmpmaskrepl.value === 0) break;
      if (icmplen < ICMP_MASKLEN) {
        st.inc(icps_badlen);
        break;
      }
      const a = ip.dst === INADDR_BROADCAST || ip.dst === INADDR_ANY ? ip.src : ip.dst;
      const ia = ifp.if_addrs.find((x) => ((x.addr & x.mask) >>> 0) === ((a & x.mask) >>> 0)) ?? ifp.if_addrs[0];
      if (ia === undefined) break;
      icp.type = ICMP_MASKREPLY;
      icp.mask = ia.mask;
      if (ip.src === 0) {
        if (ifp.if_flags & IFF_BROADCAST) ip.src = ia.broadaddr !== 0 ? ia.broadaddr : INADDR_BROADCAST;
        else if (ifp.if_flags & IFF_POINTOPOINT) ip.src = ia.broadaddr;
      }
      reflect(k, m, ICMP_MASKREPLY);
      return;
    }
    case ICMP_REDIRECT:
      // Redirects change routes only on hosts that accept them (off by default).
      if (k.inet.icmp_rediraccept.value === 0 || k.inet.ipforwarding.value !== 0) {
        m.free();
        return;
      }
      if (code > 3) {
        st.inc(icps_badcode);
        break;
      }
      if (icmplen < ICMP_ADVLENMIN || icmplen < icp.advLength || (m.buf[m.off + hlen + ICMP_MINLEN]! & 0xf) < 5) {
        st.inc(icps_badlen);
        break;
      }
      // rtredirect() is not built yet: the message only reaches raw listeners.
      break;
    default:
      break;
  }
  rip_input_icmp(k, m, hlen);
}

function reflect(k: Kernel, m: Mbuf, outtype: number): void {
  const st = k.stats.icmpstat;
  st.inc(icps_reflect);
  st.inc(icps_outhist + outtype);
  if (icmp_reflect(k, m) === 0) icmp_send(k, m);
}

/** iptime(): ms since midnight UTC, of the world's clock. */
export function iptime(k: Kernel): number {
  return Math.floor(k.world.now / 1e6) % (24 * 60 * 60 * 1000);
}

/**
 * rip_input() for ICMP: a copy to every raw ICMP listener (ping); with none,
 * OpenBSD counts the datagram as for an unknown protocol and undoes its
 * ips_delivered.
 */
export function rip_input_icmp(k: Kernel, m: Mbuf, hlen: number): void {
  const ls = k.inet.icmpListeners;
  if (k.trace !== null) k.trace.fn(k, m, 'rip_input', '', ls.size === 0 ? 'no raw ICMP socket → ips_noproto' : `to ${ls.size} raw ICMP socket(s) (ping)`);
  if (ls.size === 0) {
    k.stats.ipstat.inc(ips_noproto);
    k.stats.ipstat.dec(ips_delivered);
    m.free();
    return;
  }
  for (const l of ls) l(m.buf, m.off, m.len, hlen);
  m.free();
}

/**
 * icmp_reflect(): turn m around to its source, with a source address of
 * ours: the destination if it was ours, the address of the interface
 * towards the sender otherwise.  Options are dropped.  0 or an errno (m freed).
 */
export function icmp_reflect(k: Kernel, m: Mbuf): number {
  let ip = ipv.wrap(m.buf, m.off, m.len);
  // The reflected packet is a new one (OpenBSD reuses the mbuf): a journey of its own, caused by this one.
  if (k.trace !== null) {
    const j = k.trace.of(m);
    if (j === null || !j.cause.startsWith('icmp_error')) k.trace.caused(m, m.buf[m.off + ip.headerLength] === ICMP_ECHOREPLY ? 'icmp_reflect: echo reply' : 'icmp_reflect');
    k.trace.fn(k, m, 'icmp_reflect', '', 'swap addresses, source is ours, ttl 255');
  }
  if (!in_canforward(ip.src) && ip.src >>> 24 !== IN_LOOPBACKNET) {
    m.free();
    return EHOSTUNREACH;
  }
  if (m.ph_loopcnt++ >= M_MAXLOOP) {
    m.free();
    return ELOOP;
  }
  let src = INADDR_ANY;
  const rt = rt_match(k, ip.dst, 0);
  if (rtisvalid(rt)) {
    if (rt.rt_flags & RTF_LOCAL) src = ip.dst;
    else if (rt.rt_flags & RTF_BROADCAST) src = rt.rt_ifa!.addr;
  }
  if (src === INADDR_ANY) {
    const r2 = rt_match(k, ip.src, RT_RESOLVE);
    if (rtisvalid(r2) && !(r2.rt_flags & RTF_GATEWAY)) src = r2.rt_ifa!.addr;
    else {
      const n = ifa_ifwithnet(k, ip.src);
      if (n !== null) src = n.ia.addr;
    }
  }
  // a new packet, in the same table; pf's generated mark stays
  const rtableid = m.ph_rtableid;
  const pff = m.pf_flags & PF_TAG_GENERATED;
  m.resethdr();
  m.pf_flags = pff;
  m.ph_rtableid = rtableid;
  const hlen = ip.headerLength;
  if (hlen > IP_HDR_LEN) {
    // Drop the options: move the fixed header up against the payload.
    m.buf.copyWithin(m.off + hlen - IP_HDR_LEN, m.off, m.off + IP_HDR_LEN);
    m.adj(hlen - IP_HDR_LEN);
    ip = ipv.wrap(m.buf, m.off, m.len);
    ip.ihl = 5;
    ip.totalLength = m.len;
  }
  ip.dst = ip.src;
  ip.src = src;
  ip.ttl = MAXTTL;
  return 0;
}

/** icmp_send(): checksum and ip_send(). */
export function icmp_send(k: Kernel, m: Mbuf): void {
  const ip = ipv.wrap(m.buf, m.off, m.len);
  const hlen = ip.headerLength;
  const icp = icv.wrap(m.buf, m.off + hlen, ip.totalLength - hlen);
  icp.fillChecksum();
  ip_output(k, m, 0, null);
}
