/**
 * TCP over IPv6: what OpenBSD's tcp_input.c, tcp_output.c and tcp_subr.c
 * do under `case AF_INET6` / `#ifdef INET6`, gathered here so the shared
 * TCP code only branches on the address family:
 * - tcp6_input: pr_input of IPPROTO_TCP in k.inet6, hands the segment to
 *   tcp_input with the family set (the checksum with the IPv6
 *   pseudo-header, the PCB lookups in tcb6table, the SYN cache keyed by
 *   the 16-byte addresses are done there);
 * - the IPv6 + TCP header template (60 bytes), tcp6_respond (RSTs,
 *   keepalives), the SYN,ACK header, and the last step of output:
 *   hop limit, checksum (software, tcps_outswcsum), ip6_output;
 * - tcp6_ctlinput: ICMPv6 errors, Packet Too Big lowers the MSS (the path
 *   MTU is on the host route icmp6 updated: MSS 1440 on a 1500 link).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import type { Inet6 } from './inet6.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { tcps_outswcsum } from '../kern/counters.gen.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { IPPROTO_TCP } from '../../wire/ip4.js';
import { TH_RST } from '../../wire/tcp.js';
import { EADDRINUSE, EHOSTDOWN, EHOSTUNREACH, EMSGSIZE, ENETUNREACH } from '../sys/errno.js';
import {
  in6_pcblookup, in_pcbrehash, inetctlerrmap, PRC_IS_REDIRECT, PRC_NCMDS, type Inpcb,
} from '../netinet/in_pcb.js';
import { PRC_HOSTDEAD, PRC_MSGSIZE, PRC_QUENCH } from '../netinet/ip_icmp.js';
import type { Protosw } from '../kern/uipc_socket.js';
import { tcp_protosw } from '../netinet/tcp_usrreq.js';
import { tcp_input, syn_cache_unreach } from '../netinet/tcp_input.js';
import { tcp_mtudisc, tcp_notify } from '../netinet/tcp_subr.js';
import { SEQ_GEQ, SEQ_LT } from '../netinet/tcp_seq.js';
import { TCP_MAXWIN, TCPOLEN_TSTAMP_APPA, TCPOPT_TSTAMP_HDR, TF_NOOPT, TF_RCVD_TSTMP, TF_REQ_TSTMP, tcp_now, type Tcpcb } from '../netinet/tcp_var.js';
import { sbspace, tcp_intotcpcb } from '../netinet/tcp_sock.js';
import { AF_INET6, IN6_ARE_ADDR_EQUAL } from './in6_var.js';
import { in6_cksum } from './in6.js';
import { ip6_output } from './ip6_output.js';
import type { Route6 } from './inet6.js';
import { IPPROTO_DONE } from './ip6_input.js';
import { in6_pcbroute } from './in6_pcb.js';
import { in6_pcbnotify, ip6_quoted_ulp } from './udp6_output.js';

/** TCP over IPv6 (inet6sw[] entry), made by tcp6_init (tcp_protosw may not exist yet at load time). */
export let tcp6_protosw: Protosw | null = null;

/** tcp_input() for AF_INET6: pr_input of IPPROTO_TCP in k.inet6. */
export function tcp6_input(k: Kernel, m: Mbuf, off: number, _nxt: number, ifp: Ifnet): number {
  tcp_input(k, m, off, ifp, true);
  return IPPROTO_DONE;
}

/** A 32-bit digest of an IPv6 address: the SYN cache's hash key (entries also compare all 16 bytes). */
export function in6_fold(b: Uint8Array, o: number): number {
  return (get32(b, o) ^ get32(b, o + 4) ^ get32(b, o + 8) ^ get32(b, o + 12)) >>> 0;
}

/** The hop limit of a PCB's datagrams (inp_hops, else net.inet6.ip6.hlim). */
export function in6_selecthlim(k: Kernel, inp: Inpcb | null): number {
  return inp !== null && inp.inp_hops >= 0 ? inp.inp_hops : k.inet6.ip6_defhlim.value;
}

/** The IPv6 header of a TCP segment at b[o]: version, next header, hop limit, addresses. */
export function tcp6_fillhdr(b: Uint8Array, o: number, src: Uint8Array, dst: Uint8Array, hlim: number): void {
  b[o] = 0x60;
  b[o + 1] = 0;
  b[o + 2] = 0;
  b[o + 3] = 0;
  b[o + 6] = IPPROTO_TCP;
  b[o + 7] = hlim;
  b.set(src, o + 8);
  b.set(dst, o + 24);
}

/** tcp_template() for AF_INET6: the 60-byte IPv6 + TCP header template. */
export function tcp6_template(tp: Tcpcb): void {
  const inp = tp.t_inpcb;
  const t = tp.t_template;
  t.fill(0);
  tcp6_fillhdr(t, 0, inp.inp_laddr6, inp.inp_faddr6, in6_selecthlim(tp.kernel, inp));
  put16(t, 40, inp.inp_lport);
  put16(t, 42, inp.inp_fport);
  t[52] = 5 << 4;
}

/**
 * The last step of sending a segment m (IPv6 header at m.off, TCP after
 * it): checksum with the pseudo-header (in_proto_cksum_out() without
 * offload), then ip6_output.  0 or an errno; m consumed.
 */
export function tcp6_send(k: Kernel, m: Mbuf, ro: Route6 | null): number {
  const b = m.buf;
  const th = m.off + 40;
  b[th + 16] = 0;
  b[th + 17] = 0;
  put16(b, th + 16, in6_cksum(k, m, IPPROTO_TCP, 40, m.len - 40));
  k.stats.tcpstat.inc(tcps_outswcsum);
  return ip6_output(k, m, 0, ro, null, -1);
}

/** tcp_output()'s send for an IPv6 connection (the template's hop limit is in place). */
export function tcp6_output_send(k: Kernel, tp: Tcpcb, m: Mbuf): number {
  return tcp6_send(k, m, in6_pcbroute(tp.t_inpcb));
}

/** tcp_respond() for AF_INET6 (tcp_subr.c): see tcp_respond. */
export function tcp6_respond(k: Kernel, tp: Tcpcb | null, laddr: Uint8Array, faddr: Uint8Array, lport: number, fport: number,
  ack: number, seq: number, flags: number, rtableid: number): void {
  let win = 0;
  let tlen = 60;
  const ts = k.inet.tcp;
  const tsopt = tp !== null && (tp.t_flags & (TF_REQ_TSTMP | TF_NOOPT)) === TF_REQ_TSTMP && (flags & TH_RST) === 0 && (tp.t_flags & TF_RCVD_TSTMP) !== 0;
  if (tsopt) tlen += TCPOLEN_TSTAMP_APPA;
  const m = k.mbufs.get(tlen);
  if (m === null) return;
  m.append(tlen);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + tlen);
  if (tp !== null) {
    win = Math.floor(sbspace(tp.t_inpcb.inp_socket.so_rcv) / 2 ** tp.rcv_scale);
    if (win < 0) win = 0;
  }
  if (win > TCP_MAXWIN) win = TCP_MAXWIN;
  tcp6_fillhdr(b, o, laddr, faddr, in6_selecthlim(k, tp !== null ? tp.t_inpcb : null));
  const th = o + 40;
  put16(b, th, lport);
  put16(b, th + 2, fport);
  put32(b, th + 4, seq >>> 0);
  put32(b, th + 8, ack >>> 0);
  b[th + 12] = 5 << 4;
  b[th + 13] = flags;
  put16(b, th + 14, win);
  if (tsopt) {
    put32(b, th + 20, TCPOPT_TSTAMP_HDR);
    put32(b, th + 24, (tcp_now(k, ts) + tp.ts_modulate) >>> 0);
    put32(b, th + 28, tp.ts_recent);
    b[th + 12] = (32 / 4) << 4;
  }
  m.ph_rtableid = tp !== null ? tp.t_inpcb.inp_rtableid : rtableid;
  if (k.trace !== null) {
    k.trace.caused(m, flags & TH_RST ? 'tcp_respond: RST' : 'tcp_respond');
    k.trace.fn(k, m, 'tcp_respond');
  }
  tcp6_send(k, m, tp !== null ? in6_pcbroute(tp.t_inpcb) : null);
}

/** in_pcbset_addr() for AF_INET6: give an accepted connection its 4-tuple. */
export function in6_pcbset_addr(inp: Inpcb, laddr: Uint8Array, lport: number, faddr: Uint8Array, fport: number, rtableid: number): number {
  if (in6_pcblookup(inp.inp_table, faddr, fport, laddr, lport, rtableid) !== null) return EADDRINUSE;
  inp.inp_laddr6.set(laddr);
  inp.inp_lport = lport;
  inp.inp_faddr6.set(faddr);
  inp.inp_fport = fport;
  inp.inp_rtableid = rtableid;
  inp.inp_route6 = null;
  in_pcbrehash(inp);
  return 0;
}

/** The MSS to offer towards dst (tcp_mss_adv for AF_INET6): the link MTU less 60 bytes of headers. */
export function tcp6_mss_adv(k: Kernel, ifidx: number): number {
  const mssdflt = k.inet.tcp.mssdflt.value;
  const ifp = k.ifnets[ifidx];
  if (ifp === undefined) return mssdflt;
  const mss = ifp.if_mtu - 60;
  return mss > mssdflt ? mss : mssdflt;
}

const lsrc = new Uint8Array(16);

/**
 * tcp6_ctlinput(): an ICMPv6 error quoting one of our segments (the
 * quoted IPv6 header at buf[off], len bytes, dst its destination with
 * scope).  Packet Too Big: every connection to dst takes the new path MTU
 * and resends with a smaller MSS (tcp_mtudisc); unreachables are soft
 * errors (tcp_notify), or end a half-open connection in the SYN cache.
 */
export function tcp6_ctlinput(k: Kernel, cmd: number, dst: Uint8Array, buf: Uint8Array, off: number, len: number, mtu: number): void {
  if (cmd < 0 || cmd >= PRC_NCMDS || cmd === PRC_QUENCH) return;
  const table = k.inet.tcb6table;
  const errno = inetctlerrmap[cmd] ?? 0;
  if (PRC_IS_REDIRECT(cmd) || cmd === PRC_HOSTDEAD) {
    in6_pcbnotify(k, table, dst, errno, cmd === PRC_HOSTDEAD ? tcp_notify : in6_rtchange);
    return;
  }
  const th = ip6_quoted_ulp(buf, off, len, IPPROTO_TCP);
  if (th < 0 || th + 8 > off + len) return;
  const sport = get16(buf, th);
  const dport = get16(buf, th + 2);
  const seq = get32(buf, th + 4);
  lsrc.set(buf.subarray(off + 8, off + 24));
  if (lsrc[0] === 0xfe && (lsrc[1]! & 0xc0) === 0x80) {
    lsrc[2] = dst[2]!;
    lsrc[3] = dst[3]!;
  }
  const inp = in6_pcblookup(table, dst, dport, lsrc, sport, 0);
  const tp = inp !== null ? tcp_intotcpcb(inp) : null;
  if (cmd === PRC_MSGSIZE) {
    if (tp === null || !SEQ_GEQ(seq, tp.snd_una) || !SEQ_LT(seq, tp.snd_max)) return;
    if (mtu < 1280 || (tp.t_pmtu !== 0 && mtu >= tp.t_pmtu)) return;
    // The host route icmp6 made carries the MTU; forget routes cached before it.
    in6_pcbnotify(k, table, dst, EMSGSIZE, (p) => {
      p.inp_route6 = null;
      const t = tcp_intotcpcb(p);
      if (t !== null && (t.t_pmtu === 0 || mtu < t.t_pmtu)) t.t_pmtu = mtu;
    });
    in6_pcbnotify(k, table, dst, EMSGSIZE, tcp_mtudisc);
    return;
  }
  if (errno === 0) return;
  if (tp !== null) {
    if (SEQ_GEQ(seq, tp.snd_una) && SEQ_LT(seq, tp.snd_max)) tcp_notify(inp!, errno);
  } else if (errno === EHOSTUNREACH || errno === ENETUNREACH || errno === EHOSTDOWN) {
    syn_cache_unreach(k, in6_fold(dst, 0), dport, in6_fold(lsrc, 0), sport, seq, 0, dst, lsrc);
  }
}

function in6_rtchange(inp: Inpcb, _errno: number): void {
  inp.inp_route6 = null;
}

/** Register TCP in the IPv6 protocol switch and the socket layer. */
export function tcp6_init(k: Kernel, inet6: Inet6): void {
  inet6.pr_input[IPPROTO_TCP] = tcp6_input;
  inet6.pr_ctlinput[IPPROTO_TCP] = tcp6_ctlinput;
  tcp6_protosw ??= { ...tcp_protosw, pr_domain: AF_INET6 };
  k.inet.protosw.push(tcp6_protosw);
}

/** Whether a SYN cache entry's addresses are these (IPv6 entries only). */
export function sc6_match(scsrc: Uint8Array, scdst: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  return IN6_ARE_ADDR_EQUAL(scsrc, 0, src, 0) && IN6_ARE_ADDR_EQUAL(scdst, 0, dst, 0);
}
