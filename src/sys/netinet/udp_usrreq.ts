/**
 * UDP (sys/netinet/udp_usrreq.c): udp_input with every udpstat counter
 * where OpenBSD moves it, broadcast delivery to every matching socket,
 * port unreachable through icmp_error (rate limited there), the "dropped
 * due to full socket buffers" path (udp_sbappend -> udps_fullsock),
 * udp_ctlinput for ICMP errors about our datagrams, udp_output, and the
 * pr_usrreqs of UDP sockets.
 *
 * Checksums: no simulated interface offloads them, so every received
 * datagram with a checksum is verified in software (udps_inswcsum) unless
 * the mbuf says M_UDP_CSUM_IN_OK, and udp_output computes the checksum
 * itself and counts udps_outswcsum, which OpenBSD does later in
 * in_proto_cksum_out() for an interface without IFCAP_CSUM_UDPv4.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import type { Inet } from './inet.js';
import { M_BCAST, M_MCAST, M_UDP_CSUM_IN_BAD, M_UDP_CSUM_IN_OK, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  udps_badlen, udps_badsum, udps_fullsock, udps_hdrops, udps_inswcsum, udps_ipackets, udps_noport, udps_noportbcast,
  udps_nosum, udps_opackets, udps_outswcsum, udps_pcbhashmiss,
} from '../kern/counters.gen.js';
import { Ipv4Packet, IP_HDR_LEN, IP_MAXPACKET, IPPROTO_UDP, IPVERSION } from '../../wire/ip4.js';
import { UdpPacket, UDP_HDRLEN } from '../../wire/udp.js';
import { pseudoSum4 } from '../../wire/checksum.js';
import { ICMP_UNREACH, ICMP_UNREACH_PORT } from '../../wire/icmp.js';
import { EADDRNOTAVAIL, EAFNOSUPPORT, EINVAL, EISCONN, EMSGSIZE, ENOBUFS, ENOTCONN } from '../sys/errno.js';
import { icmp_error, PRC_HOSTDEAD } from './ip_icmp.js';
import { ip_output } from './ip_output.js';
import { INADDR_ANY } from './in.js';
import {
  AF_INET, AF_INET6, in_pcballoc, in_pcbbind, in_pcbconnect, in_pcbdetach, in_pcbdisconnect, in_pcblookup,
  in_pcblookup_listen, in_pcbnotifyall, in_pcbselsrc, in_pcbunset_laddr, in_setpeeraddr, in_setsockaddr,
  inetctlerrmap, IN6_IS_ADDR_UNSPECIFIED, PRC_IS_REDIRECT, PRC_NCMDS, Sockaddr, type Inpcb,
} from './in_pcb.js';
import {
  PR_ADDR, PR_ATOMIC, PR_SPLICE, SO_BROADCAST, SO_REUSEADDR, SO_REUSEPORT, SOCK_DGRAM, SS_CANTRCVMORE,
  SS_ISCONNECTED, soisconnected, soisdisconnected, soreserve, sorwakeup, sowwakeup, type Protosw, type Socket,
} from '../kern/uipc_socket.js';

const ipv = new Ipv4Packet();
const uhv = new UdpPacket();
const srcsa = new Sockaddr();

/** udp_input(): m is the whole datagram, hlen its IP header length. */
export function udp_input(k: Kernel, m: Mbuf, hlen: number, ifp: Ifnet): void {
  const st = k.stats.udpstat;
  const tr = k.trace;
  if (tr !== null) tr.fn(k, m, 'udp_input', ifp.if_xname);
  st.inc(udps_ipackets);
  if (m.len < hlen + UDP_HDRLEN) {
    st.inc(udps_hdrops);
    if (tr !== null) tr.drop(k, m, 'udp_input: header not complete, udps_hdrops');
    m.free();
    return;
  }
  const uh = uhv.wrap(m.buf, m.off + hlen, m.len - hlen);
  const dport = uh.dstPort;
  if (dport === 0) {
    st.inc(udps_noport);
    if (tr !== null) tr.drop(k, m, 'udp_input: destination port 0, udps_noport');
    m.free();
    return;
  }
  const len = uh.length;
  const iplen = m.len - hlen;
  if (len !== iplen) {
    if (len > iplen || len < UDP_HDRLEN) {
      st.inc(udps_badlen);
      if (tr !== null) tr.drop(k, m, `udp_input: length field ${len} vs ${iplen} bytes, udps_badlen`);
      m.free();
      return;
    }
    m.truncate(hlen + len);
  }
  const ip = ipv.wrap(m.buf, m.off, m.len);
  const src = ip.src;
  const dst = ip.dst;
  if (uh.checksum === 0) st.inc(udps_nosum);
  else if ((m.csum_flags & M_UDP_CSUM_IN_OK) === 0) {
    if (m.csum_flags & M_UDP_CSUM_IN_BAD) {
      st.inc(udps_badsum);
      if (tr !== null) tr.drop(k, m, 'udp_input: hardware says bad checksum, udps_badsum');
      m.free();
      return;
    }
    st.inc(udps_inswcsum);
    uhv.wrap(m.buf, m.off + hlen, len);
    if (!uhv.verifyChecksum(pseudoSum4(src, dst, IPPROTO_UDP, len))) {
      st.inc(udps_badsum);
      if (tr !== null) tr.drop(k, m, 'udp_input: bad checksum, udps_badsum');
      m.free();
      return;
    }
  }
  const sport = uh.srcPort;
  srcsa.family = AF_INET;
  srcsa.addr = src;
  srcsa.port = sport;
  const table = k.inet.udbtable;
  const rtable = m.ph_rtableid;

  if (m.m_flags & (M_BCAST | M_MCAST)) {
    // Every socket whose bound and connected sides match gets a copy.
    let last: Inpcb | null = null;
    for (let inp = table.inpt_head; inp !== null; inp = inp.qnext) {
      const so = inp.inp_socket;
      if (so.so_rcv.sb_state & SS_CANTRCVMORE) continue;
      if (inp.inp_rtableid !== rtable) continue;
      if (inp.inp_lport !== dport) continue;
      if (inp.inp_ip_minttl && inp.inp_ip_minttl > ip.ttl) continue;
      if (inp.inp_laddr !== INADDR_ANY && inp.inp_laddr !== dst) continue;
      if (inp.inp_faddr !== INADDR_ANY && (inp.inp_faddr !== src || inp.inp_fport !== sport)) continue;
      if (last !== null) {
        const n = m.dup();
        if (n !== null) udp_sbappend(k, last, n, hlen);
      }
      last = inp;
      // Sockets that do not share the port end the search.
      if ((so.so_options & (SO_REUSEPORT | SO_REUSEADDR)) === 0) break;
    }
    if (last === null) {
      st.inc(udps_noportbcast);
      if (tr !== null) tr.drop(k, m, 'udp_input: broadcast to a port without socket, udps_noportbcast');
      m.free();
      return;
    }
    if (tr !== null) tr.branch(k, m, 'udp_input: broadcast delivered to every matching socket');
    udp_sbappend(k, last, m, hlen);
    return;
  }

  let inp = in_pcblookup(table, src, sport, dst, dport, rtable);
  if (inp === null) {
    st.inc(udps_pcbhashmiss);
    inp = in_pcblookup_listen(table, dst, dport, m, rtable);
  }
  if (inp === null) {
    st.inc(udps_noport);
    if (tr !== null) tr.branch(k, m, 'udp_input: no socket → ICMP port unreachable, udps_noport');
    icmp_error(k, m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0, 0);
    return;
  }
  if (inp.inp_ip_minttl && inp.inp_ip_minttl > ip.ttl) {
    if (tr !== null) tr.drop(k, m, 'udp_input: TTL below IP_MINTTL');
    m.free();
    return;
  }
  udp_sbappend(k, inp, m, hlen);
}

/**
 * udp_sbappend(): strip the headers and queue the payload with the
 * sender's address (srcsa) on the socket; a full buffer drops it.
 */
export function udp_sbappend(k: Kernel, inp: Inpcb, m: Mbuf, hlen: number): void {
  const so = inp.inp_socket;
  if (k.trace !== null) k.trace.fn(k, m, 'udp_sbappend');
  m.adj(hlen + UDP_HDRLEN);
  if (!so.so_rcv.sbappendaddr(srcsa, m)) {
    k.stats.udpstat.inc(udps_fullsock);
    if (k.trace !== null) k.trace.drop(k, m, `udp_sbappend: socket buffer full (${so.so_rcv.sb_cc} of ${so.so_rcv.sb_hiwat} bytes), udps_fullsock`);
    m.free();
    return;
  }
  sorwakeup(so);
}

/** udp_notify(): an asynchronous error for the socket's user. */
export function udp_notify(inp: Inpcb, errno: number): void {
  const so = inp.inp_socket;
  so.so_error = errno;
  sorwakeup(so);
  sowwakeup(so);
}

/**
 * udp_ctlinput(): an ICMP error quoting a datagram we sent (the quoted IP
 * header at buf[off], len bytes): the connected socket it came from gets
 * the error (ECONNREFUSED for port unreachable).
 */
export function udp_ctlinput(k: Kernel, cmd: number, dst: number, buf: Uint8Array, off: number, len: number): void {
  if (dst === INADDR_ANY) return;
  if (cmd < 0 || cmd >= PRC_NCMDS) return;
  const errno = inetctlerrmap[cmd]!;
  let quoted = true;
  if (PRC_IS_REDIRECT(cmd) || cmd === PRC_HOSTDEAD) quoted = false;
  else if (errno === 0) return;
  if (!quoted) {
    in_pcbnotifyall(k.inet.udbtable, dst, 0, errno, udp_notify);
    return;
  }
  if (len < IP_HDR_LEN) return;
  const ip = ipv.wrap(buf, off, len);
  const hl = ip.headerLength;
  if (len < hl + 4) return;
  const uh = uhv.wrap(buf, off + hl, len - hl);
  const inp = in_pcblookup(k.inet.udbtable, ip.dst, uh.dstPort, ip.src, uh.srcPort, 0);
  if (inp !== null) udp_notify(inp, errno);
}

/**
 * udp_output(): send m (the payload) from inp to addr, or to the connected
 * peer when addr is null.  m is consumed.  Returns 0 or an errno.
 */
export function udp_output(inp: Inpcb, m: Mbuf, addr: Sockaddr | null): number {
  const k = inp.inp_table.kernel;
  if (inp.isIpv6) {
    const f = k.inet.pcbconf.udp6_output;
    if (f === null) {
      m.free();
      return EAFNOSUPPORT;
    }
    return f(inp, m, addr);
  }
  const len = m.len;
  if (len + IP_HDR_LEN + UDP_HDRLEN > IP_MAXPACKET) return release(m, EMSGSIZE);
  let laddr: number;
  let faddr: number;
  let fport: number;
  if (addr !== null) {
    if (addr.family !== AF_INET) return release(m, EAFNOSUPPORT);
    if (addr.port === 0) return release(m, EADDRNOTAVAIL);
    if (inp.inp_faddr !== INADDR_ANY) return release(m, EISCONN);
    const r = in_pcbselsrc(inp, addr.addr >>> 0);
    if (r < 0) return release(m, -r);
    laddr = r;
    if (inp.inp_lport === 0) {
      const error = in_pcbbind(inp, null);
      if (error) return release(m, error);
    }
    faddr = addr.addr >>> 0;
    fport = addr.port;
  } else {
    if (inp.inp_faddr === INADDR_ANY) return release(m, ENOTCONN);
    laddr = inp.inp_laddr;
    faddr = inp.inp_faddr;
    fport = inp.inp_fport;
  }
  if (!m.prepend(IP_HDR_LEN + UDP_HDRLEN)) return release(m, ENOBUFS);
  const ip = ipv.wrap(m.buf, m.off, m.len);
  m.buf.fill(0, m.off, m.off + IP_HDR_LEN);
  ip.version = IPVERSION;
  ip.ihl = 5;
  ip.tos = inp.inp_ip_tos;
  ip.totalLength = m.len;
  ip.ttl = inp.inp_ip_ttl;
  ip.protocol = IPPROTO_UDP;
  ip.src = laddr;
  ip.dst = faddr;
  const uh = uhv.wrap(m.buf, m.off + IP_HDR_LEN, UDP_HDRLEN + len);
  uh.srcPort = inp.inp_lport;
  uh.dstPort = fport;
  uh.length = UDP_HDRLEN + len;
  uh.checksum = 0;
  const st = k.stats.udpstat;
  if (k.inet.pcbconf.udpcksum.value) {
    // in_proto_cksum_out() for an interface without UDP checksum offload.
    uh.fillChecksum(pseudoSum4(laddr, faddr, IPPROTO_UDP, UDP_HDRLEN + len));
    st.inc(udps_outswcsum);
  }
  st.inc(udps_opackets);
  m.ph_rtableid = inp.inp_rtableid;
  const so = inp.inp_socket;
  if (so.so_state & SS_ISCONNECTED) m.pf_inp = inp;
  if (k.trace !== null) {
    k.trace.caused(m, 'udp_output');
    k.trace.fn(k, m, 'udp_output');
  }
  return ip_output(k, m, so.so_options & SO_BROADCAST, inp.inp_route);
}

function release(m: Mbuf, error: number): number {
  m.free();
  return error;
}

function sotoinpcb(so: Socket): Inpcb | null {
  return so.so_pcb;
}

/** UDP's pr_usrreqs. */
export const udp_usrreqs = {
  pru_attach(so: Socket): number {
    if (so.so_pcb !== null) return EINVAL;
    const k = so.kernel;
    const conf = k.inet.pcbconf;
    const error = soreserve(so, conf.udp_sendspace.value, conf.udp_recvspace.value);
    if (error) return error;
    const table = so.so_proto.pr_domain === AF_INET6 ? k.inet.udb6table : k.inet.udbtable;
    const inp = in_pcballoc(so, table);
    inp.inp_ip_ttl = k.inet.ipdefttl.value;
    return 0;
  },
  pru_detach(so: Socket): number {
    const inp = sotoinpcb(so);
    if (inp === null) return EINVAL;
    in_pcbdetach(inp);
    return 0;
  },
  pru_bind(so: Socket, nam: Sockaddr): number {
    const inp = sotoinpcb(so);
    if (inp === null) return EINVAL;
    return in_pcbbind(inp, nam);
  },
  pru_connect(so: Socket, nam: Sockaddr): number {
    const inp = sotoinpcb(so);
    if (inp === null) return EINVAL;
    if (inp.isIpv6 ? !IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6) : inp.inp_faddr !== INADDR_ANY) return EISCONN;
    const error = in_pcbconnect(inp, nam);
    if (error) return error;
    soisconnected(so);
    return 0;
  },
  pru_disconnect(so: Socket): number {
    const inp = sotoinpcb(so);
    if (inp === null) return EINVAL;
    if (inp.isIpv6 ? IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6) : inp.inp_faddr === INADDR_ANY) return ENOTCONN;
    in_pcbunset_laddr(inp);
    in_pcbdisconnect(inp);
    so.so_state &= ~SS_ISCONNECTED;
    return 0;
  },
  pru_shutdown(_so: Socket): number {
    return 0;
  },
  pru_send(so: Socket, m: Mbuf, nam: Sockaddr | null): number {
    const inp = sotoinpcb(so);
    if (inp === null) return release(m, EINVAL);
    return udp_output(inp, m, nam);
  },
  pru_abort(so: Socket): void {
    soisdisconnected(so);
    const inp = sotoinpcb(so);
    if (inp !== null) in_pcbdetach(inp);
  },
  pru_sockaddr(so: Socket, nam: Sockaddr): number {
    const inp = sotoinpcb(so);
    if (inp === null) return EINVAL;
    in_setsockaddr(inp, nam);
    return 0;
  },
  pru_peeraddr(so: Socket, nam: Sockaddr): number {
    const inp = sotoinpcb(so);
    if (inp === null) return EINVAL;
    in_setpeeraddr(inp, nam);
    return 0;
  },
};

/** UDP over IPv4 (inetsw[] entry). */
export const udp_protosw: Protosw = {
  pr_type: SOCK_DGRAM,
  pr_domain: AF_INET,
  pr_protocol: IPPROTO_UDP,
  pr_flags: PR_ATOMIC | PR_ADDR | PR_SPLICE,
  pr_usrreqs: udp_usrreqs,
};

/** UDP over IPv6 (inet6sw[] entry); output goes through pcbconf.udp6_output. */
export const udp6_protosw: Protosw = {
  pr_type: SOCK_DGRAM,
  pr_domain: AF_INET6,
  pr_protocol: IPPROTO_UDP,
  pr_flags: PR_ATOMIC | PR_ADDR | PR_SPLICE,
  pr_usrreqs: udp_usrreqs,
};

/**
 * udp_init(): register UDP's input, ctlinput and socket protocols on a
 * kernel's inet state (passed in: Inet's constructor calls this before
 * k.inet is set).
 */
export function udp_init(inet: Inet): void {
  inet.pr_input[IPPROTO_UDP] = udp_input;
  inet.pr_ctlinput[IPPROTO_UDP] = udp_ctlinput;
  inet.protosw.push(udp_protosw, udp6_protosw);
}
