/**
 * TCP output (sys/netinet/tcp_output.c): tcp_output() decides whether a
 * segment goes out now and with what (new data, a retransmission, a SACK
 * hole, a window probe, a window update, a pure ACK, SYN/FIN/RST), builds
 * it from the connection's header template into a pooled mbuf and hands it
 * to ip_output().  Each decision is counted as OpenBSD counts it, which is
 * what netstat -s prints: data packets, retransmitted data packets, window
 * probes, ack-only packets (and how many of those were delayed), window
 * update packets, control packets.
 *
 * TSO (net.inet.tcp.tso, on by default): when more than one full segment
 * may go, tcp_output() builds one large segment of whole t_maxseg pieces
 * (at most MAXMCLBYTES with headers and link header room), marks it
 * M_TCP_TSO with ph_mss = t_maxseg and leaves its checksum to whoever cuts
 * it (M_TCP_CSUM_OUT).  ip_output() hands it to tcp_if_output_tso(): an
 * interface with IFCAP_TSOv4 (em, ix) takes it whole and its hardware
 * cuts MSS-sized frames with their own headers and checksums
 * (tcps_outhwtso; the driver counts the frames in tcps_outpkttso); any
 * other interface gets the pieces from tcp_softtso_chop() (tcps_outswtso,
 * tcps_outpkttso, each piece software-checksummed).  As in OpenBSD a TSO
 * segment counts once in tcps_sndpack/tcps_sndtotal.  The output half
 * (tcp_if_output_tso, tcp_softtso_chop) is in tcp_tso.ts, which
 * ip_output.ts imports without pulling in TCP.
 *
 * Differences from OpenBSD: IPv4 only (IPv6 segments are at most
 * t_maxseg); segments without TSO get their TCP checksum in software before
 * ip_output() (counted as tcps_outswcsum, as in_proto_cksum_out() does on
 * interfaces without checksum offload).
 */
import type { Kernel } from '../kern/kernel.js';
import { M_TCP_CSUM_OUT, M_TCP_TSO, MAX_LINKHDR, MAXMCLBYTES, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  tcps_delack, tcps_outswcsum, tcps_sack_rexmit_bytes, tcps_sack_rexmits, tcps_sack_snd_opts,
  tcps_segstimed, tcps_sndacks, tcps_sndbyte, tcps_sndctrl, tcps_sndpack, tcps_sndprobe,
  tcps_sndrexmitbyte, tcps_sndrexmitpack, tcps_sndtotal, tcps_sndurg, tcps_sndwinup,
} from '../kern/counters.gen.js';
import { put16, put32 } from '../../wire/bytes.js';
import { sum16 } from '../../wire/checksum.js';
import { TH_ACK, TH_FIN, TH_PUSH, TH_RST, TH_SYN, TH_URG, TCPOPT_MAXSEG, TCPOPT_WINDOW, TCPOPT_NOP, TCPOLEN_WINDOW } from '../../wire/tcp.js';
import { EHOSTUNREACH, EMSGSIZE, ENOBUFS } from '../net/route.js';
import { ip_output, IP_MTUDISC } from './ip_output.js';
import { tcp6_output_send } from '../netinet6/tcp6.js';
import { SEQ_GT, SEQ_GEQ, SEQ_LT } from './tcp_seq.js';
import { TCPS_ESTABLISHED, TCPS_HAVERCVDSYN, tcp_outflags } from './tcp_fsm.js';
import {
  MAX_SACK_BLKS, TCP_MAX_SACK, TCP_MAXRXTSHIFT, TCP_MAXWIN, TCPOLEN_TSTAMP_APPA, TCPOPT_SACK_HDR,
  TCPOPT_SACK_PERMIT_HDR, TCPOPT_TSTAMP_HDR, TCPT_DELACK, TCPT_PERSIST, TCPT_REXMT, TCP_RTT_BASE_SHIFT,
  TCPTV_PERSMAX, TCPTV_PERSMIN, TCPT_RANGESET, TCP_TIMER_ARM, TCP_TIMER_DISARM, TCP_TIMER_ISARMED,
  TF_ACKNOW, TF_BLOCKOUTPUT, TF_LASTIDLE, TF_NEEDOUTPUT, TF_NODELAY, TF_NOOPT, TF_NOPUSH, TF_RCVD_SCALE,
  TF_RCVD_TSTMP, TF_REQ_SCALE, TF_REQ_TSTMP, TF_SACK_PERMIT, TF_SENTFIN, tcp_backoff, tcp_now, tcprexmtthresh,
  type SackHole, type Tcpcb,
} from './tcp_var.js';
import { tcp_mss, tcp_mss_update } from './tcp_input.js';
import { in4_cksum, tcp_mtudisc } from './tcp_subr.js';
import { tcp_update_sndspace } from './tcp_usrreq.js';
import {
  sb_copydata, sbspace, soissending, SS_CANTSENDMORE, type Sockbuf,
} from './tcp_sock.js';

const ENETDOWN = 50;

/** tcp_sack_output(): the first hole to retransmit, or null. */
export function tcp_sack_output(tp: Tcpcb): SackHole | null {
  if (!tp.sack_enable) return null;
  let p = tp.snd_holes;
  while (p !== null) {
    if (p.dups >= tcprexmtthresh && SEQ_LT(p.rxmit, p.end)) {
      if (SEQ_LT(p.rxmit, tp.snd_una)) {
        p = p.next;
        continue;
      }
      return p;
    }
    p = p.next;
  }
  return null;
}

/**
 * tcp_sack_adjust(): after a timeout, move snd_nxt past data the peer
 * has SACKed.
 */
export function tcp_sack_adjust(tp: Tcpcb): void {
  let cur = tp.snd_holes;
  if (cur === null) return;
  if (SEQ_GEQ(tp.snd_nxt, tp.rcv_lastsack)) return;
  while (cur.next !== null) {
    if (SEQ_LT(tp.snd_nxt, cur.end)) return;
    if (SEQ_GEQ(tp.snd_nxt, cur.next.start)) cur = cur.next;
    else {
      tp.snd_nxt = cur.next.start;
      return;
    }
  }
  if (SEQ_LT(tp.snd_nxt, cur.end)) return;
  tp.snd_nxt = tp.rcv_lastsack;
}

function sndcc(sb: Sockbuf): number {
  return sb.sb_cc;
}

/** tcp_output(): send what the state allows; returns 0 or an errno. */
export function tcp_output(tp: Tcpcb): number {
  if (tp.t_flags & TF_BLOCKOUTPUT) {
    tp.t_flags |= TF_NEEDOUTPUT;
    return 0;
  }
  tp.t_flags &= ~TF_NEEDOUTPUT;
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  const inp = tp.t_inpcb;
  const so = inp.inp_socket;
  const snd = so.so_snd;
  const rcv = so.so_rcv;
  const now = tcp_now(k, ts);
  const doing_sosend = soissending(so);

  let idle = (tp.t_flags & TF_LASTIDLE) !== 0 || tp.snd_max === tp.snd_una;
  if (idle && now - tp.t_rcvtime >= tp.t_rxtcur) tp.snd_cwnd = 2 * tp.t_maxseg;
  if (idle && doing_sosend) {
    tp.t_flags |= TF_LASTIDLE;
    idle = false;
  } else tp.t_flags &= ~TF_LASTIDLE;

  let sendalot = false;
  for (;;) {
    // again:
    if (tp.sack_enable && SEQ_LT(tp.snd_nxt, tp.snd_max)) tcp_sack_adjust(tp);
    let off = (tp.snd_nxt - tp.snd_una) | 0;
    let win = tp.snd_wnd < tp.snd_cwnd ? tp.snd_wnd : tp.snd_cwnd;
    let flags = tcp_outflags[tp.t_state]!;
    let len = 0;
    let sack_rxmit = false;
    let p: SackHole | null = null;

    if (tp.sack_enable && !sendalot) {
      if (tp.t_dupacks >= tcprexmtthresh && (p = tcp_sack_output(tp)) !== null) {
        off = (p.rxmit - tp.snd_una) | 0;
        sack_rxmit = true;
        const hl = (p.end - p.rxmit) | 0;
        len = tp.t_maxseg < hl ? tp.t_maxseg : hl;
        if (SEQ_LT(tp.snd_una, tp.snd_last)) tp.snd_cwnd -= tp.t_maxseg;
      }
    }
    sendalot = false;

    if (tp.t_force) {
      if (win === 0) {
        if (off < sndcc(snd)) flags &= ~TH_FIN;
        win = 1;
      } else {
        TCP_TIMER_DISARM(tp, TCPT_PERSIST);
        tp.t_rxtshift = 0;
      }
    }

    if (!sack_rxmit) len = (sndcc(snd) < win ? sndcc(snd) : win) - off;

    if (len < 0) {
      len = 0;
      if (win === 0) {
        TCP_TIMER_DISARM(tp, TCPT_REXMT);
        tp.t_rxtshift = 0;
        tp.snd_nxt = tp.snd_una;
        if (!TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) tcp_setpersist(tp);
      }
    }

    // Never more than half a buffer in one segment, unless TSO cuts it.
    const half = snd.sb_hiwat >>> 1;
    const txmaxseg = half < tp.t_maxseg ? half : tp.t_maxseg;
    let tso = false;
    if (len > txmaxseg) {
      if (ts.tso.value !== 0 && !inp.isIpv6 && len >= 2 * tp.t_maxseg && tp.rcv_numsacks === 0 && !sack_rxmit &&
        (flags & (TH_SYN | TH_RST | TH_FIN)) === 0) {
        tso = true;
        // Whole segments only: no small piece at the end.
        const whole = ((len / tp.t_maxseg) | 0) * tp.t_maxseg;
        if (len > whole) {
          len = whole;
          sendalot = true;
        }
      } else {
        len = txmaxseg;
        sendalot = true;
      }
    }
    if (off + len < sndcc(snd)) flags &= ~TH_FIN;

    win = sbspace(rcv);
    const rcv_hiwat = rcv.sb_hiwat;

    let send = false;
    // Sender silly window avoidance.
    if (len) {
      if (len >= txmaxseg) send = true;
      else if ((idle || tp.t_flags & TF_NODELAY) && len + off >= sndcc(snd) && !doing_sosend && (tp.t_flags & TF_NOPUSH) === 0)
        send = true;
      else if (tp.t_force) send = true;
      else if (len >= tp.max_sndwnd / 2 && tp.max_sndwnd > 0) send = true;
      else if (SEQ_LT(tp.snd_nxt, tp.snd_max)) send = true;
      else if (sack_rxmit) send = true;
    }
    // A window update worth sending?
    if (!send && win > 0) {
      const maxw = TCP_MAXWIN << tp.rcv_scale;
      const adv = (win < maxw ? win : maxw) - ((tp.rcv_adv - tp.rcv_nxt) | 0);
      if (adv >= 2 * tp.t_maxseg) send = true;
      else if (2 * adv >= rcv_hiwat) send = true;
    }
    if (!send) {
      if (tp.t_flags & TF_ACKNOW) send = true;
      else if (flags & (TH_SYN | TH_RST)) send = true;
      else if (SEQ_GT(tp.snd_up, tp.snd_una)) send = true;
      else if (flags & TH_FIN && ((tp.t_flags & TF_SENTFIN) === 0 || tp.snd_nxt === tp.snd_una)) send = true;
    }
    if (!send) {
      if (SEQ_GT(tp.snd_max, tp.snd_una) && !TCP_TIMER_ISARMED(tp, TCPT_REXMT) && !TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) {
        TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);
        return 0;
      }
      if (sndcc(snd) && !TCP_TIMER_ISARMED(tp, TCPT_REXMT) && !TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) {
        tp.t_rxtshift = 0;
        tcp_setpersist(tp);
      }
      return 0;
    }

    // send:
    const opt = ts.optbuf;
    let optlen = 0;
    // IP + TCP headers: 60 bytes over IPv6.
    const hdrlen0 = inp.isIpv6 ? 60 : 40;
    if (flags & TH_SYN) {
      tp.snd_nxt = tp.iss;
      if ((tp.t_flags & TF_NOOPT) === 0) {
        const mss = tcp_mss(tp, 0);
        opt[0] = TCPOPT_MAXSEG;
        opt[1] = 4;
        put16(opt, 2, mss);
        optlen = 4;
        if (flags & TH_ACK) tcp_mss_update(tp);
        if (tp.sack_enable && ((flags & TH_ACK) === 0 || tp.t_flags & TF_SACK_PERMIT)) {
          put32(opt, optlen, TCPOPT_SACK_PERMIT_HDR);
          optlen += 4;
        }
        if (tp.t_flags & TF_REQ_SCALE && ((flags & TH_ACK) === 0 || tp.t_flags & TF_RCVD_SCALE)) {
          opt[optlen] = TCPOPT_NOP;
          opt[optlen + 1] = TCPOPT_WINDOW;
          opt[optlen + 2] = TCPOLEN_WINDOW;
          opt[optlen + 3] = tp.request_r_scale;
          optlen += 4;
        }
      }
    }
    if ((tp.t_flags & (TF_REQ_TSTMP | TF_NOOPT)) === TF_REQ_TSTMP && (flags & TH_RST) === 0 &&
      ((flags & (TH_SYN | TH_ACK)) === TH_SYN || tp.t_flags & TF_RCVD_TSTMP)) {
      put32(opt, optlen, TCPOPT_TSTAMP_HDR);
      put32(opt, optlen + 4, (now + tp.ts_modulate) >>> 0);
      put32(opt, optlen + 8, tp.ts_recent);
      optlen += TCPOLEN_TSTAMP_APPA;
    }
    if (tp.rfbuf_ts === 0) {
      tp.rfbuf_ts = now;
      tp.rfbuf_cnt = 0;
    }
    if (tp.sack_enable && tp.t_state === TCPS_ESTABLISHED && (tp.t_flags & (TF_SACK_PERMIT | TF_NOOPT)) === TF_SACK_PERMIT && tp.rcv_numsacks) {
      const olp = optlen;
      let lp = optlen + 4;
      let count = 0;
      let maxsack = ((40 - (optlen + 4)) / 8) | 0;
      st.inc(tcps_sack_snd_opts);
      if (maxsack > TCP_MAX_SACK) maxsack = TCP_MAX_SACK;
      for (let i = 0; i < tp.rcv_numsacks && i < MAX_SACK_BLKS && count < maxsack; i++) {
        const s = tp.sackblks_start[i]!;
        const e = tp.sackblks_end[i]!;
        if (s === 0 && e === 0) continue;
        put32(opt, lp, s);
        put32(opt, lp + 4, e);
        lp += 8;
        count++;
      }
      put32(opt, olp, (TCPOPT_SACK_HDR | (8 * count + 2)) >>> 0);
      optlen += 8 * count + 4;
    }
    const hdrlen = hdrlen0 + optlen;

    if (len > tp.t_maxopd - optlen) {
      if (tso) {
        if (len + hdrlen + MAX_LINKHDR > MAXMCLBYTES) {
          len = MAXMCLBYTES - hdrlen - MAX_LINKHDR;
          sendalot = true;
        }
      } else {
        len = tp.t_maxopd - optlen;
        sendalot = true;
      }
      flags &= ~TH_FIN;
    }

    const m = k.mbufs.get(hdrlen + len);
    if (m === null) return tcp_output_error(tp, ENOBUFS);
    m.append(hdrlen + len);
    const b = m.buf;
    const o = m.off;
    if (len) {
      if (tp.t_force && len === 1) st.inc(tcps_sndprobe);
      else if (SEQ_LT(tp.snd_nxt, tp.snd_max)) {
        st.inc(tcps_sndrexmitpack);
        st.add(tcps_sndrexmitbyte, len);
        tp.t_sndrexmitpack++;
      } else {
        st.inc(tcps_sndpack);
        st.add(tcps_sndbyte, len);
      }
      sb_copydata(snd, off, len, b, o + hdrlen);
      if (off + len === sndcc(snd) && !doing_sosend) flags |= TH_PUSH;
      tp.t_sndtime = now;
    } else {
      if (tp.t_flags & TF_ACKNOW) st.inc(tcps_sndacks);
      else if (flags & (TH_SYN | TH_FIN | TH_RST)) st.inc(tcps_sndctrl);
      else if (SEQ_GT(tp.snd_up, tp.snd_una)) st.inc(tcps_sndurg);
      else st.inc(tcps_sndwinup);
    }
    if (k.trace !== null) {
      k.trace.caused(m, 'tcp_output');
      k.trace.fn(k, m, 'tcp_output');
    }
    // Headers from the template (one memcpy: a byte loop costs several times more).
    b.set(hdrlen0 === 60 ? tp.t_template : tp.t_template4, o);
    const th = o + hdrlen0 - 20;

    if (flags & TH_FIN && tp.t_flags & TF_SENTFIN && tp.snd_nxt === tp.snd_max) tp.snd_nxt = (tp.snd_nxt - 1) >>> 0;
    let seq: number;
    if (len || flags & (TH_SYN | TH_FIN) || TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) seq = tp.snd_nxt;
    else seq = tp.snd_max;
    if (sack_rxmit && p !== null) {
      sendalot = false;
      seq = p.rxmit;
      p.rxmit = (p.rxmit + len) >>> 0;
      st.inc(tcps_sack_rexmits);
      st.add(tcps_sack_rexmit_bytes, len);
    }
    put32(b, th + 4, seq);
    put32(b, th + 8, tp.rcv_nxt);
    if (optlen) {
      // Options come in 4-byte units: four bytes per step.
      for (let i = 0, d = th + 20; i < optlen; i += 4, d += 4) {
        b[d] = opt[i]!;
        b[d + 1] = opt[i + 1]!;
        b[d + 2] = opt[i + 2]!;
        b[d + 3] = opt[i + 3]!;
      }
      b[th + 12] = ((20 + optlen) >> 2) << 4;
    }
    b[th + 13] = flags;

    // Receive window: never shrink, avoid silly windows.
    if (win < rcv_hiwat / 4 && win < tp.t_maxseg) win = 0;
    const maxwin = TCP_MAXWIN << tp.rcv_scale;
    if (win > maxwin) win = maxwin;
    const advd = (tp.rcv_adv - tp.rcv_nxt) | 0;
    if (win < advd) win = advd;
    if (flags & TH_RST) win = 0;
    const wv = (win >>> tp.rcv_scale) & 0xffff;
    put16(b, th + 14, wv);
    if (wv === 0) tp.t_sndzerowin++;
    if (SEQ_GT(tp.snd_up, tp.snd_nxt)) {
      let urp = (tp.snd_up - tp.snd_nxt) | 0;
      if (urp > 65535) urp = 65535;
      put16(b, th + 18, urp);
      b[th + 13] |= TH_URG;
    } else tp.snd_up = tp.snd_una;

    // Time the transmission and arrange for the retransmit.
    if (tp.t_force === 0 || !TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) {
      const startseq = tp.snd_nxt;
      if (flags & (TH_SYN | TH_FIN)) {
        if (flags & TH_SYN) tp.snd_nxt = (tp.snd_nxt + 1) >>> 0;
        if (flags & TH_FIN) {
          tp.snd_nxt = (tp.snd_nxt + 1) >>> 0;
          tp.t_flags |= TF_SENTFIN;
        }
      }
      if (!(tp.sack_enable && sack_rxmit && p !== null && p.rxmit !== tp.snd_nxt)) {
        tp.snd_nxt = (tp.snd_nxt + len) >>> 0;
        if (SEQ_GT(tp.snd_nxt, tp.snd_max)) {
          tp.snd_max = tp.snd_nxt;
          if (tp.t_rtttime === 0) {
            tp.t_rtttime = now;
            tp.t_rtseq = startseq;
            st.inc(tcps_segstimed);
          }
        }
      }
      // timer:
      if (tp.sack_enable && sack_rxmit && !TCP_TIMER_ISARMED(tp, TCPT_REXMT) && tp.snd_nxt !== tp.snd_max) {
        TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);
        if (TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) {
          TCP_TIMER_DISARM(tp, TCPT_PERSIST);
          tp.t_rxtshift = 0;
        }
      }
      if (!TCP_TIMER_ISARMED(tp, TCPT_REXMT) && tp.snd_nxt !== tp.snd_una) {
        TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);
        if (TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) {
          TCP_TIMER_DISARM(tp, TCPT_PERSIST);
          tp.t_rxtshift = 0;
        }
      }
      if (len === 0 && sndcc(snd) && !TCP_TIMER_ISARMED(tp, TCPT_REXMT) && !TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) {
        tp.t_rxtshift = 0;
        tcp_setpersist(tp);
      }
    } else if (SEQ_GT((tp.snd_nxt + len) >>> 0, tp.snd_max)) tp.snd_max = (tp.snd_nxt + len) >>> 0;

    tcp_update_sndspace(tp);

    // IP length, TTL, TOS; then the checksum.
    const packetlen = hdrlen + len;
    let error: number;
    if (hdrlen0 === 60) {
      m.ph_rtableid = inp.inp_rtableid;
      m.pf_inp = inp;
      error = tcp6_output_send(k, tp, m);
    } else {
      put16(b, o + 2, packetlen);
      b[o + 8] = inp.inp_ip_ttl;
      b[o + 1] = inp.inp_ip_tos;
      if (tso) {
        // The checksums of the pieces: tcp_if_output_tso() or the NIC.
        m.csum_flags |= M_TCP_TSO | M_TCP_CSUM_OUT;
        m.ph_mss = tp.t_maxseg;
      } else if (len) tcp_cksum_out_sb(k, m, hdrlen - 20, snd, off, len);
      else tcp_cksum_out(k, m, 20, packetlen - 20);
      m.ph_rtableid = inp.inp_rtableid;
      m.pf_inp = inp;
      error = ip_output(k, m, k.inet.ipmtudisc.value ? IP_MTUDISC : 0, inp.inp_route);
    }
    if (error) return tcp_output_error(tp, error);

    if (packetlen > tp.t_pmtud_mtu_sent) tp.t_pmtud_mtu_sent = packetlen;
    st.inc(tcps_sndtotal);
    if (TCP_TIMER_ISARMED(tp, TCPT_DELACK)) st.inc(tcps_delack);

    if (win > 0 && SEQ_GT((tp.rcv_nxt + win) >>> 0, tp.rcv_adv)) tp.rcv_adv = (tp.rcv_nxt + win) >>> 0;
    tp.last_ack_sent = tp.rcv_nxt;
    tp.t_sndacktime = now;
    tp.t_flags &= ~TF_ACKNOW;
    TCP_TIMER_DISARM(tp, TCPT_DELACK);
    if (!sendalot) return 0;
    void SS_CANTSENDMORE;
  }
}

function tcp_output_error(tp: Tcpcb, error: number): number {
  if (error === ENOBUFS) {
    // Interface queue full or no mbuf: slow start.
    tp.snd_cwnd = tp.t_maxseg;
    return 0;
  }
  if (error === EMSGSIZE) {
    tcp_mtudisc(tp.t_inpcb, -1);
    return 0;
  }
  if ((error === EHOSTUNREACH || error === ENETDOWN) && TCPS_HAVERCVDSYN(tp.t_state)) {
    tp.t_softerror = error;
    return 0;
  }
  if (TCP_TIMER_ISARMED(tp, TCPT_DELACK)) TCP_TIMER_ARM(tp, TCPT_DELACK, tp.kernel.inet.tcp.tcp_delack_msecs);
  return error;
}

/**
 * The TCP checksum of a segment at packet offset thoff, tlen bytes, with
 * the IPv4 pseudo-header from the IP header at the packet's start
 * (in_proto_cksum_out() without offload: tcps_outswcsum).
 */
export function tcp_cksum_out(k: Kernel, m: Mbuf, thoff: number, tlen: number): void {
  const b = m.buf;
  const o = m.off;
  const th = o + thoff;
  b[th + 16] = 0;
  b[th + 17] = 0;
  const c = in4_cksum(b, o + 12, o + 16, 6, th, tlen);
  put16(b, th + 16, c);
  k.stats.tcpstat.inc(tcps_outswcsum);
}

/**
 * tcp_cksum_out() of a segment whose payload is len bytes at off of the
 * send buffer: the header (thlen bytes, even) is summed in the packet,
 * the payload in the send buffer it was just copied from (the same
 * bytes, still in cache, in a buffer whose word view is already at hand).
 */
function tcp_cksum_out_sb(k: Kernel, m: Mbuf, thlen: number, sb: Sockbuf, off: number, len: number): void {
  const b = m.buf;
  const o = m.off;
  const th = o + 20;
  b[th + 16] = 0;
  b[th + 17] = 0;
  const ph = ((b[o + 12]! << 8) | b[o + 13]!) + ((b[o + 14]! << 8) | b[o + 15]!) +
    ((b[o + 16]! << 8) | b[o + 17]!) + ((b[o + 18]! << 8) | b[o + 19]!) + 6 + thlen + len;
  const c = ~sum16(b, th, thlen, ph + sb.sum16(off, len)) & 0xffff;
  put16(b, th + 16, c);
  k.stats.tcpstat.inc(tcps_outswcsum);
}

/** tcp_setpersist(): (re)start the persist timer with backoff. */
export function tcp_setpersist(tp: Tcpcb): void {
  let t = ((tp.t_srtt >> 2) + tp.t_rttvar) >> (1 + TCP_RTT_BASE_SHIFT);
  if (TCP_TIMER_ISARMED(tp, TCPT_REXMT)) throw new Error('tcp_output REXMT');
  if (t < tp.t_rttmin) t = tp.t_rttmin;
  const msec = TCPT_RANGESET(t * tcp_backoff[tp.t_rxtshift]!, TCPTV_PERSMIN, TCPTV_PERSMAX);
  TCP_TIMER_ARM(tp, TCPT_PERSIST, msec);
  if (tp.t_rxtshift < TCP_MAXRXTSHIFT) tp.t_rxtshift++;
}

void TCPT_DELACK;
