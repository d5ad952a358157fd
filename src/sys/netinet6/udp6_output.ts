/**
 * UDP over IPv6: udp6_output (sys/netinet6/udp6_output.c), the AF_INET6
 * half of udp_input (OpenBSD's udp_input takes both families; its IPv6
 * branch is udp6_input here, traced as udp_input), and udp6_ctlinput for
 * ICMPv6 errors about our datagrams.  Same udpstat counters as IPv4.
 *
 * IPv6 makes the UDP checksum mandatory: a zero checksum is counted as
 * udps_nosum and dropped.  udp6_output leaves an unbound source as :: and
 * asks for the checksum with M_UDP_CSUM_OUT, so ip6_output computes it
 * after source selection (counted udps_outswcsum here, as udp_output).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import type { Inet6 } from './inet6.js';
import { M_MCAST, M_UDP_CSUM_IN_BAD, M_UDP_CSUM_IN_OK, M_UDP_CSUM_OUT, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  udps_badlen, udps_badsum, udps_fullsock, udps_hdrops, udps_inswcsum, udps_ipackets, udps_noport, udps_noportbcast,
  udps_nosum, udps_opackets, udps_outswcsum, udps_pcbhashmiss,
} from '../kern/counters.gen.js';
import { get16 } from '../../wire/bytes.js';
import { IP_MAXPACKET, IPPROTO_UDP } from '../../wire/ip4.js';
import { IP6_HDR_LEN } from '../../wire/ip6.js';
import { ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT } from '../../wire/icmp6.js';
import { EADDRNOTAVAIL, EAFNOSUPPORT, EISCONN, EMSGSIZE, ENOBUFS, ENOTCONN } from '../sys/errno.js';
import {
  in6_pcblookup, in6_pcblookup_listen, in_pcbbind, inetctlerrmap, PRC_IS_REDIRECT, PRC_NCMDS, Sockaddr, type Inpcb,
} from '../netinet/in_pcb.js';
import { udp_notify } from '../netinet/udp_usrreq.js';
import { PRC_HOSTDEAD, PRC_MSGSIZE } from '../netinet/ip_icmp.js';
import { SO_REUSEADDR, SO_REUSEPORT, SS_CANTRCVMORE, SS_ISCONNECTED, sorwakeup } from '../kern/uipc_socket.js';
import { AF_INET6, IN6_ARE_ADDR_EQUAL, IN6_IS_ADDR_MULTICAST, IN6_IS_ADDR_UNSPECIFIED } from './in6_var.js';
import { in6_cksum } from './in6.js';
import { icmp6_error } from './icmp6.js';
import { ip6_output } from './ip6_output.js';
import { in6_embedscope, in6_pcbroute, in6_recoverscope } from './in6_pcb.js';
import { IPPROTO_DONE } from './ip6_input.js';

const srcsa6 = new Sockaddr();
srcsa6.family = 24; // AF_INET6 (a literal: this runs at load time, inside import cycles)
const fscratch = new Uint8Array(16);
const lscratch = new Uint8Array(16);
const ZERO6 = new Uint8Array(16);

/** udp_input() for AF_INET6: pr_input of IPPROTO_UDP in k.inet6. */
export function udp6_input(k: Kernel, m: Mbuf, off: number, _nxt: number, ifp: Ifnet): number {
  const st = k.stats.udpstat;
  const tr = k.trace;
  if (tr !== null) tr.fn(k, m, 'udp_input', ifp.if_xname);
  st.inc(udps_ipackets);
  if (m.len < off + 8) {
    st.inc(udps_hdrops);
    if (tr !== null) tr.drop(k, m, 'udp_input: header not complete, udps_hdrops');
    m.free();
    return IPPROTO_DONE;
  }
  const b = m.buf;
  const uh = m.off + off;
  const dport = get16(b, uh + 2);
  if (dport === 0) {
    st.inc(udps_noport);
    if (tr !== null) tr.drop(k, m, 'udp_input: destination port 0, udps_noport');
    m.free();
    return IPPROTO_DONE;
  }
  const len = get16(b, uh + 4);
  const iplen = m.len - off;
  if (len !== iplen) {
    if (len > iplen || len < 8) {
      st.inc(udps_badlen);
      if (tr !== null) tr.drop(k, m, `udp_input: length field ${len} vs ${iplen} bytes, udps_badlen`);
      m.free();
      return IPPROTO_DONE;
    }
    m.truncate(off + len);
  }
  if (get16(b, uh + 6) === 0) {
    // RFC 8200 8.1: a zero UDP checksum is not allowed over IPv6.
    st.inc(udps_nosum);
    if (tr !== null) tr.drop(k, m, 'udp_input: no checksum over IPv6, udps_nosum');
    m.free();
    return IPPROTO_DONE;
  }
  if ((m.csum_flags & M_UDP_CSUM_IN_OK) === 0) {
    if (m.csum_flags & M_UDP_CSUM_IN_BAD) {
      st.inc(udps_badsum);
      if (tr !== null) tr.drop(k, m, 'udp_input: hardware says bad checksum, udps_badsum');
      m.free();
      return IPPROTO_DONE;
    }
    st.inc(udps_inswcsum);
    if (in6_cksum(k, m, IPPROTO_UDP, off, len) !== 0) {
      st.inc(udps_badsum);
      if (tr !== null) tr.drop(k, m, 'udp_input: bad checksum, udps_badsum');
      m.free();
      return IPPROTO_DONE;
    }
  }
  const sport = get16(b, uh);
  const src = b.subarray(m.off + 8, m.off + 24);
  const dst = b.subarray(m.off + 24, m.off + 40);
  srcsa6.port = sport;
  srcsa6.addr6.set(src);
  in6_recoverscope(srcsa6);
  const table = k.inet.udb6table;
  const rtable = m.ph_rtableid;

  if (m.m_flags & M_MCAST || IN6_IS_ADDR_MULTICAST(b, m.off + 24)) {
    let last: Inpcb | null = null;
    for (let inp = table.inpt_head; inp !== null; inp = inp.qnext) {
      const so = inp.inp_socket;
      if (so.so_rcv.sb_state & SS_CANTRCVMORE) continue;
      if (inp.inp_rtableid !== rtable || inp.inp_lport !== dport) continue;
      if (!IN6_IS_ADDR_UNSPECIFIED(inp.inp_laddr6, 0) && !IN6_ARE_ADDR_EQUAL(inp.inp_laddr6, 0, dst, 0)) continue;
      if (!IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6, 0) &&
          (!IN6_ARE_ADDR_EQUAL(inp.inp_faddr6, 0, src, 0) || inp.inp_fport !== sport)) continue;
      if (last !== null) {
        const n = m.dup();
        if (n !== null) udp6_sbappend(k, last, n, off);
      }
      last = inp;
      if ((so.so_options & (SO_REUSEPORT | SO_REUSEADDR)) === 0) break;
    }
    if (last === null) {
      st.inc(udps_noportbcast);
      if (tr !== null) tr.drop(k, m, 'udp_input: multicast to a port without socket, udps_noportbcast');
      m.free();
      return IPPROTO_DONE;
    }
    udp6_sbappend(k, last, m, off);
    return IPPROTO_DONE;
  }

  let inp = in6_pcblookup(table, src, sport, dst, dport, rtable);
  if (inp === null) {
    st.inc(udps_pcbhashmiss);
    inp = in6_pcblookup_listen(table, dst, dport, m, rtable);
  }
  if (inp === null) {
    st.inc(udps_noport);
    if (tr !== null) tr.branch(k, m, 'udp_input: no socket → ICMPv6 port unreachable, udps_noport');
    icmp6_error(k, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
    return IPPROTO_DONE;
  }
  udp6_sbappend(k, inp, m, off);
  return IPPROTO_DONE;
}

/** udp_sbappend() for AF_INET6: the payload with the sender's sockaddr_in6. */
function udp6_sbappend(k: Kernel, inp: Inpcb, m: Mbuf, off: number): void {
  const so = inp.inp_socket;
  if (k.trace !== null) k.trace.fn(k, m, 'udp_sbappend');
  m.adj(off + 8);
  if (!so.so_rcv.sbappendaddr(srcsa6, m)) {
    k.stats.udpstat.inc(udps_fullsock);
    if (k.trace !== null) k.trace.drop(k, m, `udp_sbappend: socket buffer full (${so.so_rcv.sb_cc} of ${so.so_rcv.sb_hiwat} bytes), udps_fullsock`);
    m.free();
    return;
  }
  sorwakeup(so);
}

/**
 * udp6_output(): send m (the payload) from an IPv6 PCB to addr, or to the
 * connected peer when addr is null.  m is consumed; 0 or an errno.
 */
export function udp6_output(inp: Inpcb, m: Mbuf, addr: Sockaddr | null): number {
  const k = inp.inp_table.kernel;
  const len = m.len;
  if (len + UDP6_HDRS > IP_MAXPACKET) return release(m, EMSGSIZE);
  const fa = fscratch;
  const la = lscratch;
  let fport: number;
  if (addr !== null) {
    if (addr.family !== AF_INET6) return release(m, EAFNOSUPPORT);
    if (addr.port === 0) return release(m, EADDRNOTAVAIL);
    if (!IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6, 0)) return release(m, EISCONN);
    const e = in6_embedscope(fa, addr);
    if (e) return release(m, e);
    if (IN6_IS_ADDR_UNSPECIFIED(fa, 0)) return release(m, EADDRNOTAVAIL);
    // The bound address, else :: for ip6_output to choose (checksum after that).
    la.set(inp.inp_laddr6);
    if (inp.inp_lport === 0) {
      const error = in_pcbbind(inp, null, ZERO6);
      if (error) return release(m, error);
    }
    fport = addr.port;
  } else {
    if (IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6, 0)) return release(m, ENOTCONN);
    la.set(inp.inp_laddr6);
    fa.set(inp.inp_faddr6);
    fport = inp.inp_fport;
  }
  if (!m.prepend(UDP6_HDRS)) return release(m, ENOBUFS);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + UDP6_HDRS);
  b[o] = 0x60;
  b[o + 6] = IPPROTO_UDP;
  b.set(la, o + 8);
  b.set(fa, o + 24);
  const uh = o + IP6_HDR_LEN;
  const ulen = 8 + len;
  b[uh] = inp.inp_lport >>> 8;
  b[uh + 1] = inp.inp_lport & 0xff;
  b[uh + 2] = fport >>> 8;
  b[uh + 3] = fport & 0xff;
  b[uh + 4] = ulen >>> 8;
  b[uh + 5] = ulen & 0xff;
  const st = k.stats.udpstat;
  m.csum_flags |= M_UDP_CSUM_OUT;
  st.inc(udps_outswcsum);
  st.inc(udps_opackets);
  m.ph_rtableid = inp.inp_rtableid;
  const so = inp.inp_socket;
  if (so.so_state & SS_ISCONNECTED) m.pf_inp = inp;
  if (k.trace !== null) {
    k.trace.caused(m, 'udp6_output');
    k.trace.fn(k, m, 'udp6_output');
  }
  const hlim = inp.inp_hops >= 0 ? inp.inp_hops : -1;
  if (hlim < 0) b[o + 7] = IN6_IS_ADDR_MULTICAST(fa, 0) ? 0 : k.inet6.ip6_defhlim.value;
  return ip6_output(k, m, 0, addr === null ? in6_pcbroute(inp) : null, null, hlim);
}

const UDP6_HDRS = IP6_HDR_LEN + 8;

function release(m: Mbuf, error: number): number {
  m.free();
  return error;
}

/**
 * udp6_ctlinput(): an ICMPv6 error quoting a datagram we sent (quoted
 * IPv6 header at buf[off], len bytes; dst its destination, scope
 * embedded): the socket connected to that 4-tuple gets the error
 * (ECONNREFUSED for port unreachable); redirects and host-dead notify
 * every socket connected to dst.
 */
export function udp6_ctlinput(k: Kernel, cmd: number, dst: Uint8Array, buf: Uint8Array, off: number, len: number, _mtu: number): void {
  if (cmd < 0 || cmd >= PRC_NCMDS) return;
  if (cmd === PRC_MSGSIZE) return; // the path MTU was updated by icmp6; UDP keeps sending
  const errno = inetctlerrmap[cmd]!;
  if (PRC_IS_REDIRECT(cmd) || cmd === PRC_HOSTDEAD) {
    in6_pcbnotify(k, k.inet.udb6table, dst, errno, udp_notify);
    return;
  }
  if (errno === 0) return;
  const uoff = ip6_quoted_ulp(buf, off, len, IPPROTO_UDP);
  if (uoff < 0 || uoff + 4 > off + len) return;
  const lsrc = lscratch;
  lsrc.set(buf.subarray(off + 8, off + 24));
  // The quoted source is ours: its scope is that of the error's link.
  if (lsrc[0] === 0xfe && (lsrc[1]! & 0xc0) === 0x80) {
    lsrc[2] = dst[2]!;
    lsrc[3] = dst[3]!;
  }
  const inp = in6_pcblookup(k.inet.udb6table, dst, get16(buf, uoff + 2), lsrc, get16(buf, uoff), 0);
  if (inp !== null) udp_notify(inp, errno);
}

/**
 * The offset of the quoted upper-layer header of protocol nxt after the
 * IPv6 header at buf[off] (extension headers skipped), or -1.
 */
export function ip6_quoted_ulp(buf: Uint8Array, off: number, len: number, want: number): number {
  if (len < IP6_HDR_LEN) return -1;
  let nxt = buf[off + 6]!;
  let p = off + IP6_HDR_LEN;
  const end = off + len;
  for (let n = 0; n < 8 && nxt !== want; n++) {
    if (p + 8 > end) return -1;
    if (nxt === 0 || nxt === 43 || nxt === 60) {
      const l = (buf[p + 1]! + 1) << 3;
      nxt = buf[p]!;
      p += l;
    } else if (nxt === 44) {
      nxt = buf[p]!;
      p += 8;
    } else if (nxt === 51) {
      const l = (buf[p + 1]! + 2) << 2;
      nxt = buf[p]!;
      p += l;
    } else return -1;
  }
  return nxt === want ? p : -1;
}

/** in6_pcbnotify() for every PCB connected to dst. */
export function in6_pcbnotify(k: Kernel, table: Inpcb['inp_table'], dst: Uint8Array, errno: number, notify: (inp: Inpcb, errno: number) => void): void {
  if (IN6_IS_ADDR_UNSPECIFIED(dst, 0)) return;
  void k;
  for (let p = table.inpt_head; p !== null;) {
    const next = p.qnext;
    if (p.isIpv6 && IN6_ARE_ADDR_EQUAL(p.inp_faddr6, 0, dst, 0)) notify(p, errno);
    p = next;
  }
}

/** Register UDP in the IPv6 protocol switch and the PCB layer's output hook. */
export function udp6_init(k: Kernel, inet6: Inet6): void {
  inet6.pr_input[IPPROTO_UDP] = udp6_input;
  inet6.pr_ctlinput[IPPROTO_UDP] = udp6_ctlinput;
  k.inet.pcbconf.udp6_output = udp6_output;
}
