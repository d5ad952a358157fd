/**
 * TCP support routines (sys/netinet/tcp_subr.c): tcp_init (registers
 * pr_input/pr_ctlinput and the protocol switch entry), the header template,
 * tcp_respond (RSTs, keepalive probes, challenge ACKs outside a
 * connection's normal output), creating, dropping and closing control
 * blocks, ICMP errors (tcp_ctlinput, tcp_notify) and path MTU discovery
 * (tcp_mtudisc), and the ISN generator (tcp_set_iss_tsm: RFC 1948 style,
 * a keyed hash of the 4-tuple plus a clock, keyed from the kernel's seeded
 * random stream so a lab replays exactly).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Inet } from './inet.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { tcps_closed, tcps_conndrops, tcps_drops, tcps_sc_entry_limit, tcps_sc_bucket_limit, tcps_sc_hash_size, tcps_sc_uses_left } from '../kern/counters.gen.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { IPPROTO_TCP } from '../../wire/ip4.js';
import { sum16 } from '../../wire/checksum.js';
import { TH_RST } from '../../wire/tcp.js';
import {
  ECONNREFUSED, EHOSTDOWN, EHOSTUNREACH, EMSGSIZE, ENETUNREACH, ENOPROTOOPT, ETIMEDOUT,
} from '../sys/errno.js';
import { ip_output, IP_MTUDISC, type Route } from './ip_output.js';
import {
  PRC_HOSTDEAD, PRC_MSGSIZE, PRC_QUENCH, PRC_REDIRECT_HOST,
} from './ip_icmp.js';
import { in_pcbnotifyall } from './in_pcb.js';
import { SEQ_GEQ, SEQ_LT } from './tcp_seq.js';
import { TCPS_CLOSED, TCPS_ESTABLISHED, TCPS_HAVEESTABLISHED, TCPS_HAVERCVDSYN } from './tcp_fsm.js';
import {
  TCP_ISS_CONN_INC, TCP_ISSINCR2, TCP_MAXWIN, TCP_MAX_WINSHIFT, TCP_RTT_BASE_SHIFT, TCP_RTTVAR_SHIFT,
  TCPOLEN_TSTAMP_APPA, TCPOPT_TSTAMP_HDR, TCPT_NTIMERS, TCPT_RANGESET, TCPTV_MIN, TCPTV_REXMTMAX,
  TCPTV_SRTTBASE, TCPTV_SRTTDFLT, TCP_REXMTVAL, TCP_TIMER_DISARM, TF_NOOPT, TF_PMTUD_PEND, TF_RCVD_TSTMP,
  TF_REQ_SCALE, TF_REQ_TSTMP, Tcpcb, TcpState, tcp_now,
} from './tcp_var.js';
import { TcpInputCtx, tcp_input, tcp_hdrsz, tcp_mss, syn_cache_cleanup, syn_cache_unreach } from './tcp_input.js';
import { tcp_output, tcp_cksum_out } from './tcp_output.js';
import { tcp_timer_funcs } from './tcp_timer.js';
import { tcp_protosw } from './tcp_usrreq.js';
import {
  in_pcblookup, sbspace, sofree, soisdisconnected, sorwakeup, sowwakeup, tcp_intotcpcb, type Inpcb,
} from './tcp_sock.js';
import { in_pcbdetach } from './in_pcb.js';
import { tcp6_respond, tcp6_template } from '../netinet6/tcp6.js';

/** inetctlerrmap[]: PRC_* to errno. */
const inetctlerrmap: readonly number[] = [
  0, 0, 0, 0,
  0, EMSGSIZE, EHOSTDOWN, EHOSTUNREACH,
  EHOSTUNREACH, EHOSTUNREACH, ECONNREFUSED, ECONNREFUSED,
  EMSGSIZE, EHOSTUNREACH, 0, 0,
  0, 0, 0, 0,
  ENOPROTOOPT,
];
const PRC_NCMDS = 21;

/**
 * tcp_init(): the TCP state of a kernel; registers tcp_input and
 * tcp_ctlinput in the IPv4 protocol switch and TCP in the socket layer's.
 */
export function tcp_init(k: Kernel, inet: Inet): TcpState {
  const ts = new TcpState(k);
  ts.ctx = new TcpInputCtx();
  const noop = (): void => {};
  ts.tb = new Tcpcb(k, null as unknown as Inpcb, [noop, noop, noop, noop, noop]);
  ts.tcp_starttime = 1 + (k.random.arc4random() >>> 2);
  for (let i = 0; i < 4; i++) ts.tcp_secret[i] = k.random.arc4random();
  const st = k.stats.tcpstat;
  st.set(tcps_sc_hash_size, ts.synhashsize.value);
  st.set(tcps_sc_entry_limit, ts.syncachelimit.value);
  st.set(tcps_sc_bucket_limit, ts.synbucketlimit.value);
  st.set(tcps_sc_uses_left, ts.synuselimit.value);
  inet.pr_input[IPPROTO_TCP] = tcp_input;
  inet.pr_ctlinput[IPPROTO_TCP] = tcp_ctlinput;
  inet.protosw.push(tcp_protosw);
  return ts;
}

/**
 * in4_cksum() of a TCP segment at b[off, off + len) with the IPv4
 * pseudo-header (addresses read at srcOff/dstOff): the checksum field
 * value, or 0 when verifying a segment that carries a correct one.
 */
export function in4_cksum(b: Uint8Array, srcOff: number, dstOff: number, proto: number, off: number, len: number): number {
  const ph = ((b[srcOff]! << 8) | b[srcOff + 1]!) + ((b[srcOff + 2]! << 8) | b[srcOff + 3]!) +
    ((b[dstOff]! << 8) | b[dstOff + 1]!) + ((b[dstOff + 2]! << 8) | b[dstOff + 3]!) + proto + len;
  return ~sum16(b, off, len, ph) & 0xffff;
}

/** tcp_template(): fill the connection's IPv4 + TCP header template. */
export function tcp_template(tp: Tcpcb): void {
  const inp = tp.t_inpcb;
  if (inp.isIpv6) return tcp6_template(tp);
  const t = tp.t_template;
  t.fill(0);
  t[0] = 0x45;
  t[9] = IPPROTO_TCP;
  put32(t, 12, inp.inp_laddr);
  put32(t, 16, inp.inp_faddr);
  put16(t, 20, inp.inp_lport);
  put16(t, 22, inp.inp_fport);
  t[32] = 5 << 4;
}

/**
 * tcp_respond(): a bare segment from laddr.lport to faddr.fport with the
 * given ack, seq and flags (RSTs for segments without a connection,
 * keepalive probes).  tp may be null.
 */
export function tcp_respond(k: Kernel, tp: Tcpcb | null, laddr: number, faddr: number, lport: number, fport: number,
  ack: number, seq: number, flags: number, rtableid: number, m0: Mbuf | null = null,
  laddr6: Uint8Array | null = null, faddr6: Uint8Array | null = null): void {
  // IPv6: the addresses given, else the connection's.
  if (laddr6 !== null) return tcp6_respond(k, tp, laddr6, faddr6!, lport, fport, ack, seq, flags, rtableid);
  if (tp !== null && tp.t_inpcb.isIpv6) {
    const inp = tp.t_inpcb;
    return tcp6_respond(k, tp, inp.inp_laddr6, inp.inp_faddr6, lport, fport, ack, seq, flags, rtableid);
  }
  let win = 0;
  let tlen = 40;
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
  b[o] = 0x45;
  b[o + 9] = IPPROTO_TCP;
  put32(b, o + 12, laddr);
  put32(b, o + 16, faddr);
  const th = o + 20;
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
  put16(b, o + 2, tlen);
  b[o + 8] = k.inet.ipdefttl.value;
  tcp_cksum_out(k, m, 20, tlen - 20);
  m.ph_rtableid = tp !== null ? tp.t_inpcb.inp_rtableid : rtableid;
  if (k.trace !== null) {
    k.trace.caused(m, flags & TH_RST ? 'tcp_respond: RST' : 'tcp_respond');
    k.trace.fn(k, m, 'tcp_respond');
  }
  void m0;
  const ro: Route | null = tp !== null ? tp.t_inpcb.inp_route : null;
  ip_output(k, m, k.inet.ipmtudisc.value ? IP_MTUDISC : 0, ro);
}

/** tcp_newtcpcb(): a control block for inp. */
export function tcp_newtcpcb(k: Kernel, inp: Inpcb): Tcpcb {
  const ts = k.inet.tcp;
  const tp = new Tcpcb(k, inp, tcp_timer_funcs);
  tp.t_maxseg = ts.mssdflt.value;
  tp.t_maxopd = 0;
  tp.sack_enable = ts.sack.value;
  tp.t_flags = ts.do_rfc1323.value ? TF_REQ_SCALE | TF_REQ_TSTMP : 0;
  tp.t_srtt = TCPTV_SRTTBASE;
  tp.t_rttvar = TCPTV_SRTTDFLT << (TCP_RTTVAR_SHIFT + TCP_RTT_BASE_SHIFT - 1);
  tp.t_rttmin = TCPTV_MIN;
  tp.t_rxtcur = TCPT_RANGESET(TCP_REXMTVAL(tp), TCPTV_MIN, TCPTV_REXMTMAX);
  tp.snd_cwnd = TCP_MAXWIN * 2 ** TCP_MAX_WINSHIFT;
  tp.snd_ssthresh = TCP_MAXWIN * 2 ** TCP_MAX_WINSHIFT;
  tp.t_pmtud_mtu_sent = 0;
  tp.t_pmtud_mss_acked = 0;
  tp.pf = 2;
  inp.inp_ip_ttl = k.inet.ipdefttl.value;
  inp.inp_ppcb = tp;
  return tp;
}

/** tcp_drop(): drop a connection with an error; RST the peer if synchronized. */
export function tcp_drop(tp: Tcpcb, errno: number): null {
  const k = tp.kernel;
  const so = tp.t_inpcb.inp_socket;
  if (TCPS_HAVERCVDSYN(tp.t_state)) {
    tp.t_state = TCPS_CLOSED;
    tcp_output(tp);
    k.stats.tcpstat.inc(tcps_drops);
  } else k.stats.tcpstat.inc(tcps_conndrops);
  if (errno === ETIMEDOUT && tp.t_softerror) errno = tp.t_softerror;
  so.so_error = errno;
  return tcp_close(tp);
}

/** tcp_canceltimers() */
export function tcp_canceltimers(tp: Tcpcb): void {
  for (let i = 0; i < TCPT_NTIMERS; i++) TCP_TIMER_DISARM(tp, i);
}

/** tcp_close(): free the control block and the PCB; the socket if it has no descriptor. */
export function tcp_close(tp: Tcpcb): null {
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const inp = tp.t_inpcb;
  const so = inp.inp_socket;
  tcp_freeq(tp);
  tcp_canceltimers(tp);
  syn_cache_cleanup(tp);
  let p = tp.snd_holes;
  while (p !== null) {
    const q = p.next;
    ts.sackhole_put(p);
    p = q;
  }
  tp.snd_holes = null;
  tp.t_state = TCPS_CLOSED;
  inp.inp_ppcb = null;
  soisdisconnected(so);
  in_pcbdetach(inp);
  sofree(so);
  k.stats.tcpstat.inc(tcps_closed);
  return null;
}

/** tcp_freeq(): empty the reassembly queue. */
export function tcp_freeq(tp: Tcpcb): boolean {
  const ts = tp.kernel.inet.tcp;
  let rv = false;
  let q = tp.t_segq;
  while (q !== null) {
    const n = q.next;
    q.m?.free();
    ts.tcpqe_put(q);
    q = n;
    rv = true;
  }
  tp.t_segq = null;
  return rv;
}

/** tcp_rscale(): the window scale to request for a buffer of hiwat. */
export function tcp_rscale(tp: Tcpcb, hiwat: number): void {
  tp.request_r_scale = 0;
  while (tp.request_r_scale < TCP_MAX_WINSHIFT && TCP_MAXWIN * 2 ** tp.request_r_scale < hiwat) tp.request_r_scale++;
}

/** tcp_notify(): an asynchronous error for a connection (soft unless it keeps failing). */
export function tcp_notify(inp: Inpcb, error: number): void {
  const tp = tcp_intotcpcb(inp);
  if (tp === null) return;
  const so = inp.inp_socket;
  if (tp.t_state === TCPS_ESTABLISHED && (error === EHOSTUNREACH || error === ENETUNREACH || error === EHOSTDOWN)) return;
  else if (!TCPS_HAVEESTABLISHED(tp.t_state) && tp.t_rxtshift > 3 && tp.t_softerror) so.so_error = error;
  else tp.t_softerror = error;
  sorwakeup(so);
  sowwakeup(so);
}

/** in_pcbrtchange(): forget the cached route (ICMP redirect). */
function in_pcbrtchange(inp: Inpcb, _errno: number): void {
  inp.inp_route.ro_rt = null;
}

/**
 * icmp_mtudisc() for TCP: remember the path MTU of faddr on every
 * connection to it (OpenBSD clones a host route with the MTU instead).
 */
function tcp_pmtu_set(k: Kernel, faddr: number, rtableid: number, mtu: number): void {
  in_pcbnotifyall(k.inet.tcbtable, faddr, rtableid, 0, (inp) => {
    const tp = tcp_intotcpcb(inp);
    if (tp !== null && (tp.t_pmtu === 0 || mtu < tp.t_pmtu)) tp.t_pmtu = mtu;
  });
}

/** A guess of the next MTU plateau below len (RFC 1191), when a router sends no MTU. */
function ip_next_mtu(len: number): number {
  const plateaus = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];
  for (const p of plateaus) if (p < len) return p;
  return 68;
}

/**
 * tcp_ctlinput(): an ICMP error quoting one of our segments: the quoted
 * IP header is at buf[off], the ICMP header 8 bytes before it.
 */
export function tcp_ctlinput(k: Kernel, cmd: number, dst: number, buf: Uint8Array, off: number, len: number): void {
  if (dst === 0) return;
  if (cmd < 0 || cmd >= PRC_NCMDS) return;
  let errno = inetctlerrmap[cmd] ?? 0;
  if (cmd === PRC_QUENCH) return;
  const qhl = (buf[off]! & 0xf) << 2;
  const qsrc = get32(buf, off + 12);
  const qdst = get32(buf, off + 16);
  const th = off + qhl;
  if (len < qhl + 8) return;
  const sport = get16(buf, th);
  const dport = get16(buf, th + 2);
  const seq = get32(buf, th + 4);
  let notify: (inp: Inpcb, errno: number) => void = tcp_notify;
  let quoted = true;
  if (cmd === PRC_REDIRECT_HOST || cmd === 14 || cmd === 16 || cmd === 17) {
    notify = in_pcbrtchange;
    quoted = false;
  } else if (cmd === PRC_MSGSIZE && k.inet.ipmtudisc.value) {
    const inp = in_pcblookup(k, qdst, dport, qsrc, sport, 0);
    const tp = inp !== null ? tcp_intotcpcb(inp) : null;
    if (tp === null || !SEQ_GEQ(seq, tp.snd_una) || !SEQ_LT(seq, tp.snd_max)) return;
    let mtu = get16(buf, off - 2);
    const qiplen = get16(buf, off + 2);
    if (mtu === 0) mtu = ip_next_mtu(qiplen);
    if (mtu >= tp.t_pmtud_mtu_sent) return;
    if (mtu >= tcp_hdrsz(tp) + tp.t_pmtud_mss_acked) {
      tp.t_flags &= ~TF_PMTUD_PEND;
      tcp_pmtu_set(k, qdst, inp!.inp_rtableid, mtu);
    } else {
      // Act on it from the retransmit timer, unless an older segment's is pending.
      if (tp.t_flags & TF_PMTUD_PEND) {
        if (SEQ_LT(tp.t_pmtud_th_seq, seq)) return;
      } else tp.t_flags |= TF_PMTUD_PEND;
      tp.t_pmtud_th_seq = seq;
      tp.t_pmtud_nextmtu = mtu;
      tp.t_pmtud_ip_len = qiplen;
      tp.t_pmtud_ip_hl = qhl >> 2;
      return;
    }
    notify = tcp_mtudisc;
    quoted = false;
    errno = EMSGSIZE;
  } else if (cmd === PRC_HOSTDEAD) quoted = false;
  else if (errno === 0) return;

  if (quoted) {
    const inp = in_pcblookup(k, qdst, dport, qsrc, sport, 0);
    const tp = inp !== null ? tcp_intotcpcb(inp) : null;
    if (tp !== null) {
      if (SEQ_GEQ(seq, tp.snd_una) && SEQ_LT(seq, tp.snd_max)) notify(inp!, errno);
    } else if (errno === EHOSTUNREACH || errno === ENETUNREACH || errno === EHOSTDOWN) {
      syn_cache_unreach(k, qdst, dport, qsrc, sport, seq, 0);
    }
  } else in_pcbnotifyall(k.inet.tcbtable, dst, 0, errno, notify);
}

/** tcp_mtudisc(): the path MTU shrank: new MSS, resend what is unacknowledged. */
export function tcp_mtudisc(inp: Inpcb, errno: number): void {
  const tp = tcp_intotcpcb(inp);
  if (tp === null) return;
  const orig_maxseg = tp.t_maxseg;
  let change = false;
  tcp_mss(tp, -1);
  if (orig_maxseg > tp.t_maxseg) change = true;
  tp.snd_nxt = tp.snd_una;
  if (change || errno > 0) tcp_output(tp);
}

/** The PMTU information tcp_ctlinput() deferred, acted on by tcp_timer_rexmt(). */
export function tcp_pmtud_pending(tp: Tcpcb): void {
  const k = tp.kernel;
  tp.t_flags &= ~TF_PMTUD_PEND;
  const inp = tp.t_inpcb;
  tcp_pmtu_set(k, inp.inp_faddr, inp.inp_rtableid, tp.t_pmtud_nextmtu);
  in_pcbnotifyall(k.inet.tcbtable, inp.inp_faddr, inp.inp_rtableid, EMSGSIZE, tcp_mtudisc);
}

function mix(h: number, v: number): number {
  v = Math.imul(v, 0xcc9e2d51);
  v = (v << 15) | (v >>> 17);
  v = Math.imul(v, 0x1b873593);
  h ^= v;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * tcp_set_iss_tsm(): ISN and timestamp modulator from a keyed hash of the
 * 4-tuple (the secret drawn from the kernel's random stream) plus tcp_iss,
 * which grows by TCP_ISS_CONN_INC per connection and TCP_ISSINCR2 per
 * second (tcp_slowtimo's increments, computed from the clock).
 */
export function tcp_set_iss_tsm(tp: Tcpcb): void {
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const inp = tp.t_inpcb;
  ts.tcp_iss = (ts.tcp_iss + TCP_ISS_CONN_INC) >>> 0;
  const halfsecs = Math.floor(k.world.now / 5e8);
  const iss = (ts.tcp_iss + halfsecs * (TCP_ISSINCR2 / 2)) >>> 0;
  const s = ts.tcp_secret;
  let h0 = s[0]! | 0;
  let h1 = s[2]! | 0;
  for (const v of [inp.inp_rtableid, inp.inp_lport, inp.inp_fport, inp.inp_laddr, inp.inp_faddr, s[1]!, s[3]!]) {
    h0 = mix(h0, v | 0);
    h1 = mix(h1, (v ^ 0x5bd1e995) | 0);
  }
  tp.iss = (fmix(h0) + iss) >>> 0;
  tp.ts_modulate = fmix(h1);
}
