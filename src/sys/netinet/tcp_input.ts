/**
 * TCP input (sys/netinet/tcp_input.c): tcp_input() checks the segment
 * (checksum, offset), finds its PCB, hands SYNs for listeners to the SYN
 * cache, takes the header-prediction fast paths for bulk data and pure
 * ACKs, and otherwise walks RFC 793's state machine as OpenBSD does: PAWS,
 * trimming to the window, RST and SYN handling, ACK processing with
 * NewReno and SACK-based fast recovery, window updates, urgent data, the
 * reassembly queue, FIN processing.  Every counter moves where OpenBSD
 * moves it.
 *
 * Also here, as in OpenBSD: the option parser (tcp_dooptions), the SACK
 * scoreboard (tcp_sack_option, tcp_del_sackholes) and receiver SACK list
 * (tcp_update_sack_list), the RTT estimator (tcp_xmit_timer), MSS choice
 * (tcp_mss), and the SYN cache (syn_cache_*).
 *
 * Deliberate difference: an RST whose sequence number is inside the
 * window but not exactly rcv_nxt is answered with a challenge ACK
 * (RFC 5961 3.2, rate limited like OpenBSD's dropafterack_ratelim) where
 * OpenBSD silently drops it.
 *
 * The packet path allocates nothing: parsed header fields live in a
 * per-kernel context object, reassembly entries and SACK holes come from
 * per-kernel free lists.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_LOOPBACK } from '../net/if.js';
import { M_BCAST, M_MCAST, M_TCP_CSUM_IN_BAD, M_TCP_CSUM_IN_OK, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  tcps_accepts, tcps_badsyn, tcps_closing, tcps_connects, tcps_drops, tcps_dropsyn, tcps_inswcsum,
  tcps_noport, tcps_pawsdrop, tcps_pcbhashmiss, tcps_predack, tcps_preddat, tcps_rcvacktooold,
  tcps_rcvacktoomuch, tcps_rcvackbyte, tcps_rcvackpack, tcps_rcvafterclose, tcps_rcvbadoff, tcps_rcvbadsum,
  tcps_rcvbyte, tcps_rcvbyteafterwin, tcps_rcvdupack, tcps_rcvdupbyte, tcps_rcvduppack, tcps_rcvmemdrop,
  tcps_rcvoobyte, tcps_rcvoopack, tcps_rcvpack, tcps_rcvpackafterwin, tcps_rcvpartdupbyte,
  tcps_rcvpartduppack, tcps_rcvshort, tcps_rcvtotal, tcps_rcvwinprobe, tcps_rcvwinupd, tcps_rttupdated,
  tcps_sack_drop_opts, tcps_sack_rcv_opts, tcps_sack_recovery_episode, tcps_sc_aborted, tcps_sc_added,
  tcps_sc_bucketoverflow, tcps_sc_completed, tcps_sc_dropped, tcps_sc_dupesyn, tcps_sc_overflowed,
  tcps_sc_reset, tcps_sc_retransmitted, tcps_sc_seedrandom, tcps_sc_timed_out, tcps_sc_unreach,
  tcps_sndacks, tcps_sndrexmitfast, tcps_sndtotal, tcps_cwr_frecovery, tcps_sc_entry_count,
  tcps_sc_bucket_maxlen, tcps_sc_uses_left, tcps_sc_hash_size,
} from '../kern/counters.gen.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import {
  TH_ACK, TH_FIN, TH_PUSH, TH_RST, TH_SYN, TH_URG, TCPOPT_EOL, TCPOPT_MAXSEG, TCPOPT_NOP, TCPOPT_SACK,
  TCPOPT_SACK_PERMITTED, TCPOPT_TIMESTAMP, TCPOPT_WINDOW, TCPOLEN_MAXSEG, TCPOLEN_SACK_PERMITTED,
  TCPOLEN_TIMESTAMP, TCPOLEN_WINDOW, TCPOLEN_SACK,
} from '../../wire/tcp.js';
import type { Rtentry } from '../net/route.js';
import { ECONNABORTED } from '../sys/errno.js';
import { ppsratecheck } from './ip_icmp.js';
import { ip_output, IP_MTUDISC, route_mpath } from './ip_output.js';
import { IPPROTO_TCP } from '../../wire/ip4.js';
import { RT_RESOLVE } from '../net/route.js';
import { rt6_match } from '../net/route6.js';
import { in6_pcblookup, in6_pcblookup_listen } from './in_pcb.js';
import { in6_cksum } from '../netinet6/in6.js';
import { in6_pcbrtentry } from '../netinet6/in6_pcb.js';
import {
  in6_fold, in6_pcbset_addr, in6_selecthlim, sc6_match, tcp6_fillhdr, tcp6_mss_adv, tcp6_send,
} from '../netinet6/tcp6.js';
import { SEQ_GEQ, SEQ_GT, SEQ_LEQ, SEQ_LT, SEQ_MAX, SEQ_MIN, TSTMP_GEQ, TSTMP_LT } from './tcp_seq.js';
import {
  TCPS_CLOSED, TCPS_CLOSE_WAIT, TCPS_CLOSING, TCPS_ESTABLISHED, TCPS_FIN_WAIT_1, TCPS_FIN_WAIT_2,
  TCPS_HAVEESTABLISHED, TCPS_HAVERCVDFIN, TCPS_HAVERCVDSYN, TCPS_LAST_ACK, TCPS_LISTEN, TCPS_SYN_RECEIVED,
  TCPS_SYN_SENT, TCPS_TIME_WAIT,
} from './tcp_fsm.js';
import {
  MAX_SACK_BLKS, SB_MAX, SCF_SACK_PERMIT, SCF_TIMESTAMP, SCF_UNREACH, SynCache, SynCacheHead, type SynCacheSet,
  TCP_MAXWIN, TCP_MAX_WINSHIFT, TCP_MAXRXTSHIFT, TCP_PAWS_IDLE, TCP_RTT_BASE_SHIFT, TCP_RTT_MAX,
  TCP_RTT_SHIFT, TCP_RTTVAR_SHIFT, TCP_SACKHOLE_LIMIT, TCPOLEN_TSTAMP_APPA, TCPOPT_SACK_PERMIT_HDR,
  TCPOPT_TSTAMP_HDR, TCPT_2MSL, TCPT_DELACK, TCPT_KEEP, TCPT_PERSIST, TCPT_RANGESET, TCPT_REXMT,
  TCPTV_KEEPCNT, TCPTV_MIN, TCPTV_MSL, TCPTV_REXMTMAX, TCPTV_SRTTDFLT, TCP_REXMTVAL, TCP_TIME, TCP_TIMER_ARM,
  TCP_TIMER_DISARM, TCP_TIMER_ISARMED, TF_ACKNOW, TF_BLOCKOUTPUT, TF_NEEDOUTPUT, TF_NODELAY, TF_NOOPT,
  TF_NOPUSH, TF_PMTUD_PEND, TF_RCVD_SCALE, TF_RCVD_TSTMP, TF_REQ_SCALE, TF_REQ_TSTMP, TF_SACK_PERMIT,
  tcp_backoff, tcp_now, tcp_rcvseqinit, type TcpQent, tcp_sendseqinit, tcprexmtthresh, type TcpOptInfo, type Tcpcb,
  type TcpState,
} from './tcp_var.js';
import { tcp_output, tcp_cksum_out } from './tcp_output.js';
import {
  in4_cksum, tcp_canceltimers, tcp_close, tcp_drop, tcp_freeq, tcp_respond, tcp_template,
} from './tcp_subr.js';
import { tcp_update_rcvspace, tcp_update_sndspace } from './tcp_usrreq.js';
import {
  in_pcblookup, in_pcblookup_listen, in_pcbrtentry, in_pcbset_addr, sbappendstream, sbdrop, sbreserve,
  sbspace, socantrcvmore, soisconnected, soisdisconnected, sonewconn, sorwakeup, sowwakeup, tcp_intotcpcb,
  SO_ACCEPTCONN, SS_CANTRCVMORE, SS_ISCONNECTED, SS_NOFDREF, type Inpcb, type Socket,
} from './tcp_sock.js';

// What the goto labels of tcp_input() do.
const DONE = 0;
const DROP = 1;
const DROPAFTERACK = 2;
const DROPAFTERACK_RATELIM = 3;
const DROPWITHRESET = 4;
const DROPWITHRESET_RATELIM = 5;
/**
 * OpenBSD's `goto drop` after the segment did its work (a RST that closed
 * the connection, the ACK of the last FIN, duplicate ACKs counted): freed
 * as a drop is, but not one; a journey reads it as consumed.
 */
const CONSUMED = 6;

/** The segment being processed: struct tcphdr in host order plus tcp_input()'s locals. */
export class TcpInputCtx {
  m: Mbuf | null = null;
  iphlen = 0;
  src = 0;
  dst = 0;
  th_sport = 0;
  th_dport = 0;
  th_seq = 0;
  th_ack = 0;
  th_off = 0;
  th_flags = 0;
  th_win = 0;
  th_urp = 0;
  tiflags = 0;
  tlen = 0;
  tiwin = 0;
  hdroptlen = 0;
  optoff = 0;
  optlen = 0;
  tp: Tcpcb | null = null;
  rtableid = 0;
  /** An IPv6 segment (tcp6_input): addresses in src6/dst6, src/dst their folded digests. */
  af6 = false;
  readonly src6 = new Uint8Array(16);
  readonly dst6 = new Uint8Array(16);
}

/** tcp_input(): pr_input for IPPROTO_TCP; m starts at the IP header (IPv6 from tcp6_input: af6). */
export function tcp_input(k: Kernel, m: Mbuf, iphlen: number, ifp: Ifnet, af6 = false): void {
  const ts = k.inet.tcp;
  const c = ts.ctx;
  c.m = m;
  c.af6 = af6;
  c.tp = null;
  c.iphlen = iphlen;
  if (k.trace !== null) k.trace.fn(k, m, 'tcp_input', ifp.if_xname);
  const action = tcp_input_body(k, ts, c, ifp);
  if (action !== DONE) tcp_input_tail(k, ts, c, action);
  c.m = null;
  c.tp = null;
}

function tcp_input_body(k: Kernel, ts: TcpState, c: TcpInputCtx, _ifp: Ifnet): number {
  const st = k.stats.tcpstat;
  let m = c.m!;
  const iphlen = c.iphlen;
  const opti = ts.opti;
  st.inc(tcps_rcvtotal);
  opti.ts_present = 0;
  opti.maxseg = 0;
  const now = tcp_now(k, ts);

  // RFC 1122 4.2.3.10: discard broadcast/multicast SYNs (and everything else).
  if (m.m_flags & (M_BCAST | M_MCAST)) {
    c.tiflags = 0;
    return DROP;
  }
  if (m.len < iphlen + 20) {
    st.inc(tcps_rcvshort);
    if (k.trace !== null) k.trace.drop(k, m, 'tcp_input: short segment');
    m.free();
    c.m = null;
    return DONE;
  }
  const b = m.buf;
  const ip = m.off;
  const th = ip + iphlen;
  let tlen = m.len - iphlen;
  if (c.af6) {
    c.src6.set(b.subarray(ip + 8, ip + 24));
    c.dst6.set(b.subarray(ip + 24, ip + 40));
    c.src = in6_fold(b, ip + 8);
    c.dst = in6_fold(b, ip + 24);
  } else {
    c.src = get32(b, ip + 12);
    c.dst = get32(b, ip + 16);
  }
  c.tiflags = 0;

  if ((m.csum_flags & M_TCP_CSUM_IN_OK) === 0) {
    if (m.csum_flags & M_TCP_CSUM_IN_BAD) {
      st.inc(tcps_rcvbadsum);
      return DROP;
    }
    st.inc(tcps_inswcsum);
    if ((c.af6 ? in6_cksum(k, m, IPPROTO_TCP, iphlen, tlen) : in4_cksum(b, ip + 12, ip + 16, IPPROTO_TCP, th, tlen)) !== 0) {
      st.inc(tcps_rcvbadsum);
      if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: bad checksum');
      return DROP;
    }
  }

  const off = (b[th + 12]! >> 4) << 2;
  if (off < 20 || off > tlen) {
    st.inc(tcps_rcvbadoff);
    return DROP;
  }
  tlen -= off;
  c.optoff = 0;
  c.optlen = 0;
  if (off > 20) {
    const optp = th + 20;
    const optlen = off - 20;
    // Options prediction: the RFC 1323 appendix A timestamp alone.
    if ((optlen === TCPOLEN_TSTAMP_APPA || (optlen > TCPOLEN_TSTAMP_APPA && b[optp + TCPOLEN_TSTAMP_APPA] === TCPOPT_EOL)) &&
      get32(b, optp) === TCPOPT_TSTAMP_HDR && (b[th + 13]! & TH_SYN) === 0) {
      opti.ts_present = 1;
      opti.ts_val = get32(b, optp + 4);
      opti.ts_ecr = get32(b, optp + 8);
    } else {
      c.optoff = optp;
      c.optlen = optlen;
    }
  }
  let tiflags = b[th + 13]!;
  c.th_sport = get16(b, th);
  c.th_dport = get16(b, th + 2);
  c.th_seq = get32(b, th + 4);
  c.th_ack = get32(b, th + 8);
  c.th_off = off;
  c.th_flags = tiflags;
  c.th_win = get16(b, th + 14);
  c.th_urp = get16(b, th + 18);
  c.tiflags = tiflags;
  c.tlen = tlen;
  c.rtableid = m.ph_rtableid;

  if (c.th_dport === 0) {
    st.inc(tcps_noport);
    return DROPWITHRESET_RATELIM;
  }

  let reuse = -1;
  let inp: Inpcb | null;
  let so: Socket;
  let tp: Tcpcb | null;
  for (;;) {
    // findpcb:
    inp = c.af6
      ? in6_pcblookup(k.inet.tcb6table, c.src6, c.th_sport, c.dst6, c.th_dport, m.ph_rtableid)
      : in_pcblookup(k, c.src, c.th_sport, c.dst, c.th_dport, m.ph_rtableid);
    if (inp === null) {
      st.inc(tcps_pcbhashmiss);
      inp = c.af6
        ? in6_pcblookup_listen(k.inet.tcb6table, c.dst6, c.th_dport, m, m.ph_rtableid)
        : in_pcblookup_listen(k, c.dst, c.th_dport, m, m.ph_rtableid);
    }
    if (inp === null) {
      st.inc(tcps_noport);
      if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: no PCB → RST');
      return DROPWITHRESET_RATELIM;
    }
    const so0 = inp.inp_socket;
    if (so0 === null) {
      st.inc(tcps_closing);
      return DROPWITHRESET_RATELIM;
    }
    so = so0;
    if (inp.inp_ip_minttl && inp.inp_ip_minttl > b[ip + 8]!) return DROP;
    tp = tcp_intotcpcb(inp);
    c.tp = tp;
    if (tp === null) return DROPWITHRESET_RATELIM;
    if (tp.t_state === TCPS_CLOSED) return DROP;

    c.tiwin = tiflags & TH_SYN ? c.th_win : c.th_win << tp.snd_scale;

    if (so.so_options & SO_ACCEPTCONN) {
      switch (tiflags & (TH_RST | TH_SYN | TH_ACK)) {
        case TH_SYN | TH_ACK | TH_RST:
        case TH_SYN | TH_RST:
        case TH_ACK | TH_RST:
        case TH_RST:
          if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST to a listener → syn_cache_reset');
          syn_cache_reset(k, ts, c, inp.inp_rtableid);
          return CONSUMED;
        case TH_SYN | TH_ACK:
          // A SYN,ACK to a listener.
          return badsyn(k, c);
        case TH_ACK: {
          const nso = syn_cache_get(k, ts, c, so, now);
          if (nso === null) {
            if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: ACK without SYN cache entry → RST');
            return badsyn(k, c);
          }
          if (nso === -1) {
            // Could not make the connection; m was consumed or freed.
            c.m = null;
            return DONE;
          }
          if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: ACK completes the handshake → syn_cache_get, ESTABLISHED');
          so = nso;
          inp = so.so_pcb!;
          tp = tcp_intotcpcb(inp);
          c.tp = tp;
          if (tp === null) return badsyn(k, c);
          break;
        }
        default:
          return badsyn(k, c);
        case TH_SYN: {
          if (c.th_dport === c.th_sport && c.dst === c.src) {
            st.inc(tcps_badsyn);
            return DROP;
          }
          // (the branch first: syn_cache_add keeps or frees the segment)
          if (k.trace !== null && so.so_qlen <= so.so_qlimit) k.trace.branch(k, m, 'tcp_input: SYN to a listener → syn_cache_add');
          if (so.so_qlen > so.so_qlimit || syn_cache_add(k, ts, c, so, tp, now, reuse) === -1) {
            st.inc(tcps_dropsyn);
            if (k.trace !== null) k.trace.drop(k, m, 'tcp_input: SYN dropped (listen queue or SYN cache)');
            return DROP;
          }
          return DONE;
        }
      }
    }
    // TIME_WAIT reuse: a new SYN above the old connection's sequence space.
    if (tp.t_state === TCPS_TIME_WAIT && (tiflags & (TH_SYN | TH_ACK)) === TH_SYN &&
      ((opti.ts_present && TSTMP_LT(tp.ts_recent, opti.ts_val)) || SEQ_GT(c.th_seq, tp.rcv_nxt))) {
      reuse = (tp.snd_nxt + ((k.random.arc4random() & 0x7fffffff) | 0x8000)) >>> 0;
      if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: SYN in TIME_WAIT → new connection');
      tcp_close(tp);
      c.tp = null;
      // findpcb again: only a listener can match now.
      const linp = c.af6
        ? in6_pcblookup_listen(k.inet.tcb6table, c.dst6, c.th_dport, m, m.ph_rtableid)
        : in_pcblookup_listen(k, c.dst, c.th_dport, m, m.ph_rtableid);
      if (linp === null || linp.inp_socket === null) {
        st.inc(tcps_noport);
        return DROPWITHRESET_RATELIM;
      }
      const lso = linp.inp_socket;
      const ltp = tcp_intotcpcb(linp);
      if (ltp === null || !(lso.so_options & SO_ACCEPTCONN)) return DROP;
      if (lso.so_qlen > lso.so_qlimit || syn_cache_add(k, ts, c, lso, ltp, now, reuse) === -1) {
        st.inc(tcps_dropsyn);
        return DROP;
      }
      return DONE;
    }
    break;
  }
  tp = c.tp!;
  m = c.m!;
  void reuse;

  // Segment received on connection: reset idle time and keepalive.
  tp.t_rcvtime = now;
  if (TCPS_HAVEESTABLISHED(tp.t_state)) TCP_TIMER_ARM(tp, TCPT_KEEP, ts.keepidle.value * 1000);

  if (tp.sack_enable) tcp_del_sackholes(tp, c.th_ack);

  if (c.optlen !== 0) {
    if (tcp_dooptions(k, tp, b, c.optoff, c.optlen, tiflags, c.th_ack, opti, now)) return DROP;
  }

  if (opti.ts_present && opti.ts_ecr) {
    opti.ts_ecr = (opti.ts_ecr - tp.ts_modulate) >>> 0;
    const rtt_test = (now - opti.ts_ecr) | 0;
    if (rtt_test < 0 || rtt_test > TCP_RTT_MAX) opti.ts_ecr = 0;
  }

  // Header prediction.
  if (tp.t_state === TCPS_ESTABLISHED &&
    (tiflags & (TH_SYN | TH_FIN | TH_RST | TH_URG | TH_ACK)) === TH_ACK &&
    (!opti.ts_present || TSTMP_GEQ(opti.ts_val, tp.ts_recent)) &&
    c.th_seq === tp.rcv_nxt && c.tiwin && c.tiwin === tp.snd_wnd && tp.snd_nxt === tp.snd_max) {
    if (opti.ts_present && SEQ_LEQ(c.th_seq, tp.last_ack_sent)) {
      tp.ts_recent_age = now;
      tp.ts_recent = opti.ts_val;
    }
    if (tlen === 0) {
      if (SEQ_GT(c.th_ack, tp.snd_una) && SEQ_LEQ(c.th_ack, tp.snd_max) && tp.snd_cwnd >= tp.snd_wnd && tp.t_dupacks === 0) {
        // A pure ACK for outstanding data.
        st.inc(tcps_predack);
        if (opti.ts_present && opti.ts_ecr) tcp_xmit_timer(tp, (now - opti.ts_ecr) | 0);
        else if (tp.t_rtttime && SEQ_GT(c.th_ack, tp.t_rtseq)) tcp_xmit_timer(tp, now - tp.t_rtttime);
        const acked = (c.th_ack - tp.snd_una) | 0;
        st.inc(tcps_rcvackpack);
        st.add(tcps_rcvackbyte, acked);
        tp.t_rcvacktime = now;
        sbdrop(so.so_snd, acked);
        if (tp.t_flags & TF_PMTUD_PEND && SEQ_GT(c.th_ack, tp.t_pmtud_th_seq)) tp.t_flags &= ~TF_PMTUD_PEND;
        if (tp.t_pmtud_mss_acked < acked) tp.t_pmtud_mss_acked = acked;
        tp.snd_una = c.th_ack;
        tp.snd_wl2 = c.th_ack;
        tp.snd_last = tp.snd_una;
        m.free();
        c.m = null;
        if (tp.snd_una === tp.snd_max) TCP_TIMER_DISARM(tp, TCPT_REXMT);
        else if (!TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);
        tcp_update_sndspace(tp);
        tp.t_flags |= TF_BLOCKOUTPUT;
        sowwakeup(so);
        tp.t_flags &= ~TF_BLOCKOUTPUT;
        if (so.so_snd.sb_cc || tp.t_flags & TF_NEEDOUTPUT) tcp_output(tp);
        return DONE;
      }
    } else if (c.th_ack === tp.snd_una && tp.t_segq === null && tlen <= sbspace(so.so_rcv)) {
      // A pure in-sequence data segment, nothing queued, room for it.
      if (tp.sack_enable && tp.rcv_numsacks) tcp_clean_sackreport(tp);
      st.inc(tcps_preddat);
      tp.rcv_nxt = (tp.rcv_nxt + tlen) >>> 0;
      tp.snd_wl1 = c.th_seq;
      tp.rcv_up = tp.rcv_nxt;
      st.inc(tcps_rcvpack);
      st.add(tcps_rcvbyte, tlen);
      TCP_SETUP_ACK(k, ts, tp, tiflags, m);
      if (so.so_rcv.sb_state & SS_CANTRCVMORE) m.free();
      else {
        if (tp.t_srtt !== 0 && tp.rfbuf_ts !== 0 && now - tp.rfbuf_ts > tp.t_srtt >> (TCP_RTT_SHIFT + TCP_RTT_BASE_SHIFT)) {
          tcp_update_rcvspace(tp);
          tp.rfbuf_cnt = 0;
          tp.rfbuf_ts = 0;
        } else tp.rfbuf_cnt += tlen;
        m.adj(iphlen + off);
        sbappendstream(so.so_rcv, m);
      }
      c.m = null;
      tp.t_flags |= TF_BLOCKOUTPUT;
      sorwakeup(so);
      tp.t_flags &= ~TF_BLOCKOUTPUT;
      if (tp.t_flags & (TF_ACKNOW | TF_NEEDOUTPUT)) tcp_output(tp);
      return DONE;
    }
  }

  c.hdroptlen = iphlen + off;
  {
    let win = sbspace(so.so_rcv);
    if (win < 0) win = 0;
    const adv = (tp.rcv_adv - tp.rcv_nxt) | 0;
    tp.rcv_wnd = win > adv ? win : adv;
  }

  switch (tp.t_state) {
    case TCPS_SYN_RECEIVED:
      if (tiflags & TH_ACK) {
        // OpenBSD resets any SYN,ACK here, which breaks simultaneous open
        // (RFC 793 figure 8): the peer's SYN,ACK repeating the SYN we
        // already took is accepted; the SYN is trimmed as a duplicate below.
        if (tiflags & TH_SYN && c.th_seq !== tp.irs) {
          st.inc(tcps_badsyn);
          return DROPWITHRESET;
        }
        if (SEQ_LEQ(c.th_ack, tp.snd_una) || SEQ_GT(c.th_ack, tp.snd_max)) return DROPWITHRESET;
      }
      break;
    case TCPS_SYN_SENT: {
      if (tiflags & TH_ACK && (SEQ_LEQ(c.th_ack, tp.iss) || SEQ_GT(c.th_ack, tp.snd_max))) return DROPWITHRESET;
      if (tiflags & TH_RST) {
        if (tiflags & TH_ACK) {
          if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST in SYN_SENT → connection refused');
          tcp_drop(tp, ECONNREFUSED);
          c.tp = null;
          return CONSUMED;
        }
        return DROP;
      }
      if ((tiflags & TH_SYN) === 0) return DROP;
      if (tiflags & TH_ACK) {
        tp.snd_una = c.th_ack;
        if (SEQ_LT(tp.snd_nxt, tp.snd_una)) tp.snd_nxt = tp.snd_una;
      }
      TCP_TIMER_DISARM(tp, TCPT_REXMT);
      tp.irs = c.th_seq;
      tcp_mss(tp, opti.maxseg);
      if (tp.t_rxtshift > 0) tp.snd_cwnd = tp.t_maxseg;
      tcp_rcvseqinit(tp);
      tp.t_flags |= TF_ACKNOW;
      if (tp.sack_enable) tp.sack_enable = tp.t_flags & TF_SACK_PERMIT ? 1 : 0;
      if (tiflags & TH_ACK && SEQ_GT(tp.snd_una, tp.iss)) {
        if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: SYN|ACK in SYN_SENT → ESTABLISHED');
        st.inc(tcps_connects);
        tp.t_flags |= TF_BLOCKOUTPUT;
        soisconnected(so);
        tp.t_flags &= ~TF_BLOCKOUTPUT;
        tp.t_state = TCPS_ESTABLISHED;
        TCP_TIMER_ARM(tp, TCPT_KEEP, ts.keepidle.value * 1000);
        if ((tp.t_flags & (TF_RCVD_SCALE | TF_REQ_SCALE)) === (TF_RCVD_SCALE | TF_REQ_SCALE)) {
          tp.snd_scale = tp.requested_s_scale;
          tp.rcv_scale = tp.request_r_scale;
        }
        tcp_flush_queue(tp);
        if (tp.t_rtttime) tcp_xmit_timer(tp, now - tp.t_rtttime);
        tp.snd_cwnd += tp.t_maxseg;
      } else {
        // Simultaneous open.
        if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: SYN in SYN_SENT → SYN_RECEIVED (simultaneous open)');
        tp.t_state = TCPS_SYN_RECEIVED;
      }
      c.th_seq = (c.th_seq + 1) >>> 0;
      if (tlen > tp.rcv_wnd) {
        const todrop = tlen - tp.rcv_wnd;
        m.adj(-todrop);
        tlen = tp.rcv_wnd;
        tiflags &= ~TH_FIN;
        st.inc(tcps_rcvpackafterwin);
        st.add(tcps_rcvbyteafterwin, todrop);
      }
      tp.snd_wl1 = (c.th_seq - 1) >>> 0;
      tp.rcv_up = c.th_seq;
      c.tlen = tlen;
      c.tiflags = tiflags;
      return step6(k, ts, c, tp, so, now);
    }
  }

  // PAWS.
  if (opti.ts_present && (tiflags & TH_RST) === 0 && tp.ts_recent && TSTMP_LT(opti.ts_val, tp.ts_recent)) {
    if (now - tp.ts_recent_age > TCP_PAWS_IDLE) tp.ts_recent = 0;
    else {
      st.inc(tcps_rcvduppack);
      st.add(tcps_rcvdupbyte, tlen);
      st.inc(tcps_pawsdrop);
      if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: PAWS: old timestamp');
      return tlen ? DROPAFTERACK : DROP;
    }
  }

  let todrop = (tp.rcv_nxt - c.th_seq) | 0;
  if (todrop > 0) {
    if (tiflags & TH_SYN) {
      tiflags &= ~TH_SYN;
      c.th_seq = (c.th_seq + 1) >>> 0;
      if (c.th_urp > 1) c.th_urp--;
      else tiflags &= ~TH_URG;
      todrop--;
    }
    if (todrop > tlen || (todrop === tlen && (tiflags & TH_FIN) === 0)) {
      // A duplicate: drop the data but keep processing for RST or ACK.
      tiflags &= ~TH_FIN;
      tp.t_flags |= TF_ACKNOW;
      todrop = tlen;
      st.inc(tcps_rcvduppack);
      st.add(tcps_rcvdupbyte, todrop);
    } else {
      st.inc(tcps_rcvpartduppack);
      st.add(tcps_rcvpartdupbyte, todrop);
    }
    c.hdroptlen += todrop;
    c.th_seq = (c.th_seq + todrop) >>> 0;
    tlen -= todrop;
    if (c.th_urp > todrop) c.th_urp -= todrop;
    else {
      tiflags &= ~TH_URG;
      c.th_urp = 0;
    }
  }

  // Data after the user process is gone: RST the other end.
  if (so.so_state & SS_NOFDREF && tp.t_state > TCPS_CLOSE_WAIT && tlen) {
    tcp_close(tp);
    c.tp = null;
    st.inc(tcps_rcvafterclose);
    c.tiflags = tiflags;
    c.tlen = tlen;
    return DROPWITHRESET;
  }

  // Trim data after the window.
  todrop = ((c.th_seq + tlen) - ((tp.rcv_nxt + tp.rcv_wnd) >>> 0)) | 0;
  if (todrop > 0) {
    st.inc(tcps_rcvpackafterwin);
    if (todrop >= tlen) {
      st.add(tcps_rcvbyteafterwin, tlen);
      if (tp.rcv_wnd === 0 && c.th_seq === tp.rcv_nxt) {
        tp.t_flags |= TF_ACKNOW;
        st.inc(tcps_rcvwinprobe);
      } else {
        c.tiflags = tiflags;
        c.tlen = tlen;
        return DROPAFTERACK;
      }
    } else st.add(tcps_rcvbyteafterwin, todrop);
    m.adj(-todrop);
    tlen -= todrop;
    tiflags &= ~(TH_PUSH | TH_FIN);
  }
  c.tiflags = tiflags;
  c.tlen = tlen;

  if (opti.ts_present && TSTMP_GEQ(opti.ts_val, tp.ts_recent) && SEQ_LEQ(c.th_seq, tp.last_ack_sent)) {
    tp.ts_recent_age = now;
    tp.ts_recent = opti.ts_val;
  }

  if (tiflags & TH_RST) {
    if (c.th_seq !== tp.last_ack_sent && c.th_seq !== tp.rcv_nxt && c.th_seq !== ((tp.rcv_nxt + 1) >>> 0)) {
      // RFC 5961 3.2: in the window but not exact: challenge ACK.
      if (SEQ_GEQ(c.th_seq, tp.rcv_nxt) && SEQ_LT(c.th_seq, (tp.rcv_nxt + (tp.rcv_wnd > 0 ? tp.rcv_wnd : 1)) >>> 0)) {
        if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST in window, not exact → challenge ACK');
        c.tiflags = tiflags & ~TH_RST;
        return DROPAFTERACK_RATELIM;
      }
      if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST outside the window → drop');
      return DROP;
    }
    switch (tp.t_state) {
      case TCPS_SYN_RECEIVED:
        if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST accepted in SYN_RECEIVED → connection refused, tcp_close');
        so.so_error = ECONNREFUSED;
        tp.t_state = TCPS_CLOSED;
        st.inc(tcps_drops);
        tcp_close(tp);
        c.tp = null;
        return CONSUMED;
      case TCPS_ESTABLISHED:
      case TCPS_FIN_WAIT_1:
      case TCPS_FIN_WAIT_2:
      case TCPS_CLOSE_WAIT:
        if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST accepted → connection reset, tcp_close');
        so.so_error = ECONNRESET;
        tp.t_state = TCPS_CLOSED;
        st.inc(tcps_drops);
        tcp_close(tp);
        c.tp = null;
        return CONSUMED;
      case TCPS_CLOSING:
      case TCPS_LAST_ACK:
      case TCPS_TIME_WAIT:
        if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: RST accepted → tcp_close');
        tcp_close(tp);
        c.tp = null;
        return CONSUMED;
    }
  }

  // A SYN in the window: challenge ACK (RFC 5961 4).
  if (tiflags & TH_SYN) {
    if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: SYN in window → challenge ACK');
    return DROPAFTERACK_RATELIM;
  }

  if ((tiflags & TH_ACK) === 0) return tp.t_flags & TF_ACKNOW ? DROPAFTERACK : DROP;

  // ACK processing.
  if (tp.t_state === TCPS_SYN_RECEIVED) {
      st.inc(tcps_connects);
      tp.t_flags |= TF_BLOCKOUTPUT;
      soisconnected(so);
      tp.t_flags &= ~TF_BLOCKOUTPUT;
      tp.t_state = TCPS_ESTABLISHED;
      TCP_TIMER_ARM(tp, TCPT_KEEP, ts.keepidle.value * 1000);
      if ((tp.t_flags & (TF_RCVD_SCALE | TF_REQ_SCALE)) === (TF_RCVD_SCALE | TF_REQ_SCALE)) {
        tp.snd_scale = tp.requested_s_scale;
        tp.rcv_scale = tp.request_r_scale;
        c.tiwin = c.th_win << tp.snd_scale;
      }
      tcp_flush_queue(tp);
      tp.snd_wl1 = (c.th_seq - 1) >>> 0;
  }
  // ESTABLISHED and later (every state left here).
  ackproc: {
      if (SEQ_LEQ(c.th_ack, tp.snd_una)) {
        if (tlen) {
          if (c.th_seq !== tp.rcv_nxt && SEQ_LT(c.th_ack, (tp.snd_una - tp.max_sndwnd) >>> 0)) {
            st.inc(tcps_rcvacktooold);
            return DROP;
          }
          break ackproc;
        }
        if (c.th_ack !== tp.snd_una) {
          tp.t_dupacks = 0;
          break ackproc;
        }
        if (c.tiwin === tp.snd_wnd) {
          st.inc(tcps_rcvdupack);
          if (!TCP_TIMER_ISARMED(tp, TCPT_REXMT)) tp.t_dupacks = 0;
          else if (++tp.t_dupacks === tcprexmtthresh) {
            const onxt = tp.snd_nxt;
            let win = Math.floor((tp.snd_wnd < tp.snd_cwnd ? tp.snd_wnd : tp.snd_cwnd) / 2 / tp.t_maxseg);
            if (SEQ_LT(c.th_ack, tp.snd_last)) {
              // False fast retransmit after a timeout: keep the window.
              if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: 3 dup ACKs of data sent before a timeout → no fast retransmit');
              tp.t_dupacks = 0;
              return CONSUMED;
            }
            if (win < 2) win = 2;
            tp.snd_ssthresh = win * tp.t_maxseg;
            tp.snd_last = tp.snd_max;
            if (tp.sack_enable) {
              TCP_TIMER_DISARM(tp, TCPT_REXMT);
              tp.t_rtttime = 0;
              st.inc(tcps_cwr_frecovery);
              st.inc(tcps_sack_recovery_episode);
              if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: 3 dup ACKs → SACK recovery');
              tcp_output(tp);
              tp.snd_cwnd = tp.snd_ssthresh + tp.t_maxseg * tp.t_dupacks;
              return CONSUMED;
            }
            TCP_TIMER_DISARM(tp, TCPT_REXMT);
            tp.t_rtttime = 0;
            tp.snd_nxt = c.th_ack;
            tp.snd_cwnd = tp.t_maxseg;
            st.inc(tcps_cwr_frecovery);
            st.inc(tcps_sndrexmitfast);
            if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: 3 dup ACKs → fast retransmit');
            tcp_output(tp);
            tp.snd_cwnd = tp.snd_ssthresh + tp.t_maxseg * tp.t_dupacks;
            if (SEQ_GT(onxt, tp.snd_nxt)) tp.snd_nxt = onxt;
            return CONSUMED;
          } else if (tp.t_dupacks > tcprexmtthresh) {
            if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: dup ACK in fast recovery → cwnd + 1 segment');
            tp.snd_cwnd += tp.t_maxseg;
            tcp_output(tp);
            return CONSUMED;
          }
        } else if (c.tiwin < tp.snd_wnd) tp.t_dupacks = 0;
        break ackproc;
      }
      // Retract a window inflated during fast recovery.
      if (tp.t_dupacks >= tcprexmtthresh) {
        if (SEQ_LT(c.th_ack, tp.snd_last)) {
          if (tp.sack_enable) tcp_sack_partialack(tp, c.th_ack);
          else tcp_newreno_partialack(tp, c.th_ack);
        } else {
          tp.snd_cwnd = tp.snd_ssthresh;
          const out = (tp.snd_max - c.th_ack) | 0;
          if (out < tp.snd_ssthresh) tp.snd_cwnd = out;
          tp.t_dupacks = 0;
        }
      } else tp.t_dupacks = 0;
      if (SEQ_GT(c.th_ack, tp.snd_max)) {
        st.inc(tcps_rcvacktoomuch);
        return DROPAFTERACK_RATELIM;
      }
      const acked = (c.th_ack - tp.snd_una) | 0;
      st.inc(tcps_rcvackpack);
      st.add(tcps_rcvackbyte, acked);
      tp.t_rcvacktime = now;

      if (opti.ts_present && opti.ts_ecr) tcp_xmit_timer(tp, (now - opti.ts_ecr) | 0);
      else if (tp.t_rtttime && SEQ_GT(c.th_ack, tp.t_rtseq)) tcp_xmit_timer(tp, now - tp.t_rtttime);

      if (c.th_ack === tp.snd_max) {
        TCP_TIMER_DISARM(tp, TCPT_REXMT);
        tp.t_flags |= TF_NEEDOUTPUT;
      } else if (!TCP_TIMER_ISARMED(tp, TCPT_PERSIST)) TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);

      // Open the congestion window: slow start, then linear.
      {
        const cw = tp.snd_cwnd;
        let incr = tp.t_maxseg;
        if (cw > tp.snd_ssthresh) {
          incr = Math.floor((incr * incr) / cw);
          if (incr < 1) incr = 1;
        }
        if (tp.t_dupacks < tcprexmtthresh) {
          const lim = TCP_MAXWIN << tp.snd_scale;
          tp.snd_cwnd = cw + incr < lim ? cw + incr : lim;
        }
      }
      const snd = so.so_snd;
      let ourfinisacked: boolean;
      if (acked > snd.sb_cc) {
        if (tp.snd_wnd > snd.sb_cc) tp.snd_wnd -= snd.sb_cc;
        else tp.snd_wnd = 0;
        sbdrop(snd, snd.sb_cc);
        ourfinisacked = true;
      } else {
        sbdrop(snd, acked);
        if (tp.snd_wnd > acked) tp.snd_wnd -= acked;
        else tp.snd_wnd = 0;
        ourfinisacked = false;
      }
      tcp_update_sndspace(tp);
      tp.t_flags |= TF_BLOCKOUTPUT;
      sowwakeup(so);
      tp.t_flags &= ~TF_BLOCKOUTPUT;
      if (tp.t_flags & TF_PMTUD_PEND && SEQ_GT(c.th_ack, tp.t_pmtud_th_seq)) tp.t_flags &= ~TF_PMTUD_PEND;
      if (tp.t_pmtud_mss_acked < acked) tp.t_pmtud_mss_acked = acked;
      tp.snd_una = c.th_ack;
      if (SEQ_LT(tp.snd_nxt, tp.snd_una)) tp.snd_nxt = tp.snd_una;

      switch (tp.t_state) {
        case TCPS_FIN_WAIT_1:
          if (ourfinisacked) {
            if (so.so_rcv.sb_state & SS_CANTRCVMORE) {
              tp.t_flags |= TF_BLOCKOUTPUT;
              soisdisconnected(so);
              tp.t_flags &= ~TF_BLOCKOUTPUT;
              TCP_TIMER_ARM(tp, TCPT_2MSL, TCPTV_KEEPCNT * ts.keepidle.value * 1000);
            }
            tp.t_state = TCPS_FIN_WAIT_2;
          }
          break;
        case TCPS_CLOSING:
          if (ourfinisacked) {
            tp.t_state = TCPS_TIME_WAIT;
            tcp_canceltimers(tp);
            TCP_TIMER_ARM(tp, TCPT_2MSL, 2 * TCPTV_MSL);
            tp.t_flags |= TF_BLOCKOUTPUT;
            soisdisconnected(so);
            tp.t_flags &= ~TF_BLOCKOUTPUT;
          }
          break;
        case TCPS_LAST_ACK:
          if (ourfinisacked) {
            if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: our FIN acked in LAST_ACK → tcp_close');
            tcp_close(tp);
            c.tp = null;
            return CONSUMED;
          }
          break;
        case TCPS_TIME_WAIT:
          TCP_TIMER_ARM(tp, TCPT_2MSL, 2 * TCPTV_MSL);
          return DROPAFTERACK;
      }
  }
  return step6(k, ts, c, tp, so, now);
}

/** step6: window update, urgent data, segment text, FIN. */
function step6(k: Kernel, ts: TcpState, c: TcpInputCtx, tp: Tcpcb, so: Socket, now: number): number {
  const st = k.stats.tcpstat;
  let tiflags = c.tiflags;
  const tlen = c.tlen;
  const m = c.m!;
  void now;
  if (tiflags & TH_ACK &&
    (SEQ_LT(tp.snd_wl1, c.th_seq) || (tp.snd_wl1 === c.th_seq &&
      (SEQ_LT(tp.snd_wl2, c.th_ack) || (tp.snd_wl2 === c.th_ack && c.tiwin > tp.snd_wnd))))) {
    if (tlen === 0 && tp.snd_wl2 === c.th_ack && c.tiwin > tp.snd_wnd) st.inc(tcps_rcvwinupd);
    tp.snd_wnd = c.tiwin;
    tp.snd_wl1 = c.th_seq;
    tp.snd_wl2 = c.th_ack;
    if (tp.snd_wnd > tp.max_sndwnd) tp.max_sndwnd = tp.snd_wnd;
    tp.t_flags |= TF_NEEDOUTPUT;
  }

  // Urgent data: the pointer is tracked; the byte stays inline (SO_OOBINLINE semantics).
  if (tiflags & TH_URG && c.th_urp && !TCPS_HAVERCVDFIN(tp.t_state)) {
    const urgent = c.th_urp + so.so_rcv.sb_cc;
    if (urgent > SB_MAX) {
      c.th_urp = 0;
      tiflags &= ~TH_URG;
    } else if (SEQ_GT((c.th_seq + c.th_urp) >>> 0, tp.rcv_up)) {
      tp.rcv_up = (c.th_seq + c.th_urp) >>> 0;
      so.so_oobmark = so.so_rcv.sb_cc + ((tp.rcv_up - tp.rcv_nxt) | 0) - 1;
    }
  } else if (SEQ_GT(tp.rcv_nxt, tp.rcv_up)) tp.rcv_up = tp.rcv_nxt;

  if ((tlen || tiflags & TH_FIN) && !TCPS_HAVERCVDFIN(tp.t_state)) {
    const laststart = c.th_seq;
    const lastend = (c.th_seq + tlen) >>> 0;
    if (c.th_seq === tp.rcv_nxt && tp.t_segq === null && tp.t_state === TCPS_ESTABLISHED) {
      TCP_SETUP_ACK(k, ts, tp, tiflags, m);
      tp.rcv_nxt = (tp.rcv_nxt + tlen) >>> 0;
      tiflags = c.th_flags & TH_FIN;
      st.inc(tcps_rcvpack);
      st.add(tcps_rcvbyte, tlen);
      if (so.so_rcv.sb_state & SS_CANTRCVMORE) m.free();
      else {
        m.adj(c.hdroptlen);
        sbappendstream(so.so_rcv, m);
      }
      c.m = null;
      tp.t_flags |= TF_BLOCKOUTPUT;
      sorwakeup(so);
      tp.t_flags &= ~TF_BLOCKOUTPUT;
    } else {
      m.adj(c.hdroptlen);
      c.m = null;
      tiflags = tcp_reass(tp, c.th_seq, tiflags, m, tlen);
      tp.t_flags |= TF_ACKNOW;
    }
    if (tp.sack_enable) tcp_update_sack_list(tp, laststart, lastend);
  } else {
    m.free();
    c.m = null;
    tiflags &= ~TH_FIN;
  }

  if (tiflags & TH_FIN && TCPS_HAVEESTABLISHED(tp.t_state)) {
    if (!TCPS_HAVERCVDFIN(tp.t_state)) {
      tp.t_flags |= TF_BLOCKOUTPUT;
      socantrcvmore(so);
      tp.t_flags &= ~TF_BLOCKOUTPUT;
      tp.t_flags |= TF_ACKNOW;
      tp.rcv_nxt = (tp.rcv_nxt + 1) >>> 0;
    }
    switch (tp.t_state) {
      case TCPS_ESTABLISHED:
        tp.t_state = TCPS_CLOSE_WAIT;
        break;
      case TCPS_FIN_WAIT_1:
        tp.t_state = TCPS_CLOSING;
        break;
      case TCPS_FIN_WAIT_2:
        tp.t_state = TCPS_TIME_WAIT;
        tcp_canceltimers(tp);
        TCP_TIMER_ARM(tp, TCPT_2MSL, 2 * TCPTV_MSL);
        tp.t_flags |= TF_BLOCKOUTPUT;
        soisdisconnected(so);
        tp.t_flags &= ~TF_BLOCKOUTPUT;
        break;
      case TCPS_TIME_WAIT:
        TCP_TIMER_ARM(tp, TCPT_2MSL, 2 * TCPTV_MSL);
        break;
    }
  }
  if (tp.t_flags & (TF_ACKNOW | TF_NEEDOUTPUT)) tcp_output(tp);
  return DONE;
}

function badsyn(k: Kernel, c: TcpInputCtx): number {
  k.stats.tcpstat.inc(tcps_badsyn);
  c.tp = null;
  return DROPWITHRESET;
}

function tcp_input_tail(k: Kernel, ts: TcpState, c: TcpInputCtx, action: number): void {
  const m = c.m;
  let tiflags = c.tiflags;
  if (action === DROPAFTERACK_RATELIM) action = ppsratecheck(k, ts.ackdrop_ppslim, 100) ? DROPAFTERACK : DROP;
  else if (action === DROPWITHRESET_RATELIM) action = ppsratecheck(k, ts.rst_ppslim, ts.rstppslimit.value) ? DROPWITHRESET : DROP;
  switch (action) {
    case DROPAFTERACK: {
      if (tiflags & TH_RST || c.tp === null) break;
      if (m !== null) {
        if (k.trace !== null) k.trace.drop(k, m, 'tcp_input: dropafterack, an ACK answers');
        m.free();
      }
      c.m = null;
      c.tp.t_flags |= TF_ACKNOW;
      tcp_output(c.tp);
      return;
    }
    case DROPWITHRESET: {
      if (m === null || tiflags & TH_RST) break;
      if (k.trace !== null) k.trace.branch(k, m, 'tcp_input: drop with reset');
      if (tiflags & TH_ACK) tcp_respond(k, c.tp, c.dst, c.src, c.th_dport, c.th_sport, 0, c.th_ack, TH_RST, m.ph_rtableid, null, c6(c, c.dst6), c6(c, c.src6));
      else {
        let tlen = c.tlen;
        if (tiflags & TH_SYN) tlen++;
        tcp_respond(k, c.tp, c.dst, c.src, c.th_dport, c.th_sport, (c.th_seq + tlen) >>> 0, 0, TH_RST | TH_ACK, m.ph_rtableid, null, c6(c, c.dst6), c6(c, c.src6));
      }
      break;
    }
  }
  tiflags = 0;
  void tiflags;
  if (c.m !== null) {
    if (k.trace !== null && action !== CONSUMED) k.trace.drop(k, c.m, 'tcp_input: drop');
    c.m.free();
    c.m = null;
  }
}

/** The IPv6 address a of the segment in c, or null for IPv4 (tcp_respond's family switch). */
function c6(c: TcpInputCtx, a: Uint8Array): Uint8Array | null {
  return c.af6 ? a : null;
}

/** TCP_SETUP_ACK(): ACK now or arm the delayed ACK. */
function TCP_SETUP_ACK(k: Kernel, ts: TcpState, tp: Tcpcb, tiflags: number, m: Mbuf): void {
  const ifp = k.ifnets[m.ph_ifidx];
  if (TCP_TIMER_ISARMED(tp, TCPT_DELACK) || (ts.ackonpush.value && tiflags & TH_PUSH) || (ifp !== undefined && ifp.if_flags & IFF_LOOPBACK))
    tp.t_flags |= TF_ACKNOW;
  else TCP_TIMER_ARM(tp, TCPT_DELACK, ts.tcp_delack_msecs);
}

const ECONNREFUSED = 61;
const ECONNRESET = 54;

/**
 * tcp_reass(): queue a segment (m at its data, len bytes at seq) in order;
 * returns TH_FIN when the data now delivered ends with a FIN.
 */
export function tcp_reass(tp: Tcpcb, seq: number, flags: number, m: Mbuf, len: number): number {
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  let tiqe = ts.tcpqe_get();
  if (tiqe === null) {
    // Out of entries: reuse the last one if this segment fills the hole.
    let last = tp.t_segq;
    let prev = null;
    while (last !== null && last.next !== null) {
      prev = last;
      last = last.next;
    }
    if (last !== null && seq === tp.rcv_nxt) {
      last.m!.free();
      last.m = null;
      if (prev === null) tp.t_segq = null;
      else prev.next = null;
      tiqe = last;
    } else {
      tcp_freeq(tp);
      st.inc(tcps_rcvmemdrop);
      m.free();
      return 0;
    }
  }
  // Find the first segment that begins after this one.
  let p = null;
  let q = tp.t_segq;
  while (q !== null && !SEQ_GT(q.seq, seq)) {
    p = q;
    q = q.next;
  }
  if (p !== null) {
    const i = ((p.seq + p.len) - seq) | 0;
    if (i > 0) {
      if (i >= len) {
        st.inc(tcps_rcvduppack);
        st.add(tcps_rcvdupbyte, len);
        m.free();
        ts.tcpqe_put(tiqe);
        return 0;
      }
      m.adj(i);
      len -= i;
      seq = (seq + i) >>> 0;
    }
  }
  st.inc(tcps_rcvoopack);
  st.add(tcps_rcvoobyte, len);
  tp.t_rcvoopack++;
  // Trim or drop the segments we overlap.
  while (q !== null) {
    const i = ((seq + len) - q.seq) | 0;
    if (i <= 0) break;
    if (i < q.len) {
      q.seq = (q.seq + i) >>> 0;
      q.len -= i;
      q.m!.adj(i);
      break;
    }
    const nq: TcpQent | null = q.next;
    q.m!.free();
    ts.tcpqe_put(q);
    q = nq;
  }
  tiqe.m = m;
  tiqe.seq = seq;
  tiqe.len = len;
  tiqe.flags = flags;
  tiqe.next = q;
  if (p === null) tp.t_segq = tiqe;
  else p.next = tiqe;
  if (seq !== tp.rcv_nxt) return 0;
  return tcp_flush_queue(tp);
}

/** tcp_flush_queue(): deliver the in-order head of the reassembly queue. */
export function tcp_flush_queue(tp: Tcpcb): number {
  const so = tp.t_inpcb.inp_socket!;
  const ts = tp.kernel.inet.tcp;
  if (!TCPS_HAVEESTABLISHED(tp.t_state)) return 0;
  let q = tp.t_segq;
  if (q === null || q.seq !== tp.rcv_nxt) return 0;
  if (tp.t_state === TCPS_SYN_RECEIVED && q.len) return 0;
  let flags: number;
  do {
    tp.rcv_nxt = (tp.rcv_nxt + q.len) >>> 0;
    flags = q.flags & TH_FIN;
    const nq: TcpQent | null = q.next;
    tp.t_segq = nq;
    const m = q.m!;
    if (so.so_rcv.sb_state & SS_CANTRCVMORE) m.free();
    else sbappendstream(so.so_rcv, m);
    ts.tcpqe_put(q);
    q = nq;
  } while (q !== null && q.seq === tp.rcv_nxt);
  tp.t_flags |= TF_BLOCKOUTPUT;
  sorwakeup(so);
  tp.t_flags &= ~TF_BLOCKOUTPUT;
  return flags;
}

/**
 * tcp_dooptions(): options at b[cp, cp + cnt).  Returns nonzero to drop
 * (signatures, not supported here, never fail).
 */
export function tcp_dooptions(k: Kernel, tp: Tcpcb, b: Uint8Array, cp: number, cnt: number, thflags: number, thack: number, oi: TcpOptInfo, now: number): number {
  let optlen: number;
  for (; cnt > 0; cnt -= optlen, cp += optlen) {
    const opt = b[cp]!;
    if (opt === TCPOPT_EOL) break;
    if (opt === TCPOPT_NOP) optlen = 1;
    else {
      if (cnt < 2) break;
      optlen = b[cp + 1]!;
      if (optlen < 2 || optlen > cnt) break;
    }
    switch (opt) {
      case TCPOPT_MAXSEG:
        if (optlen !== TCPOLEN_MAXSEG || !(thflags & TH_SYN) || TCPS_HAVERCVDSYN(tp.t_state)) continue;
        oi.maxseg = get16(b, cp + 2);
        break;
      case TCPOPT_WINDOW:
        if (optlen !== TCPOLEN_WINDOW || !(thflags & TH_SYN) || TCPS_HAVERCVDSYN(tp.t_state)) continue;
        tp.t_flags |= TF_RCVD_SCALE;
        tp.requested_s_scale = b[cp + 2]! < TCP_MAX_WINSHIFT ? b[cp + 2]! : TCP_MAX_WINSHIFT;
        break;
      case TCPOPT_TIMESTAMP:
        if (optlen !== TCPOLEN_TIMESTAMP) continue;
        oi.ts_present = 1;
        oi.ts_val = get32(b, cp + 2);
        oi.ts_ecr = get32(b, cp + 6);
        if (!(thflags & TH_SYN) || TCPS_HAVERCVDSYN(tp.t_state)) continue;
        tp.t_flags |= TF_RCVD_TSTMP;
        tp.ts_recent = oi.ts_val;
        tp.ts_recent_age = now;
        break;
      case TCPOPT_SACK_PERMITTED:
        if (!tp.sack_enable || optlen !== TCPOLEN_SACK_PERMITTED || !(thflags & TH_SYN) || TCPS_HAVERCVDSYN(tp.t_state)) continue;
        tp.t_flags |= TF_SACK_PERMIT;
        break;
      case TCPOPT_SACK:
        tcp_sack_option(k, tp, thflags, thack, b, cp, optlen);
        break;
      default:
        continue;
    }
  }
  return 0;
}

/**
 * tcp_update_sack_list(): after new data [rcv_laststart, rcv_lastend),
 * keep the receiver's SACK blocks, most recent first (RFC 2018).
 */
export function tcp_update_sack_list(tp: Tcpcb, rcv_laststart: number, rcv_lastend: number): void {
  const S = tp.sackblks_start;
  const E = tp.sackblks_end;
  const temp = tp.kernel.inet.tcp.sackTemp;
  let j = 0;
  let count = 0;
  let lastpos = -1;
  for (let i = 0; i < tp.rcv_numsacks; i++) {
    const s = S[i]!;
    const e = E[i]!;
    if (s === 0 && e === 0) {
      count++;
      continue;
    }
    if (SEQ_LEQ(e, tp.rcv_nxt)) {
      S[i] = E[i] = 0;
      count++;
    } else {
      temp[2 * j] = s;
      temp[2 * j + 1] = e;
      j++;
    }
  }
  tp.rcv_numsacks -= count;
  if (tp.rcv_numsacks === 0) {
    tcp_clean_sackreport(tp);
    if (SEQ_LT(tp.rcv_nxt, rcv_laststart)) {
      S[0] = rcv_laststart;
      E[0] = rcv_lastend;
      tp.rcv_numsacks = 1;
    }
    return;
  }
  for (let i = 0; i < tp.rcv_numsacks; i++) {
    S[i] = temp[2 * i]!;
    E[i] = temp[2 * i + 1]!;
  }
  if (SEQ_GEQ(tp.rcv_nxt, rcv_lastend)) return;
  let fs = rcv_laststart;
  let fe = rcv_lastend;
  for (let i = 0; i < tp.rcv_numsacks; i++) {
    const s = S[i]!;
    const e = E[i]!;
    if (SEQ_LT(e, fs) || SEQ_GT(s, fe)) continue;
    if (s === fs && e === fe) {
      S[i] = E[i] = 0;
      lastpos = i;
      continue;
    }
    if (SEQ_LEQ(s, fs)) fs = s;
    if (SEQ_GEQ(e, fe)) fe = e;
    S[i] = E[i] = 0;
    lastpos = i;
  }
  if (lastpos !== -1) {
    j = 1;
    for (let i = 0; i < tp.rcv_numsacks; i++) {
      const s = S[i]!;
      const e = E[i]!;
      if (s === 0 && e === 0) continue;
      temp[2 * j] = s;
      temp[2 * j + 1] = e;
      j++;
    }
    tp.rcv_numsacks = j;
    for (let i = 1; i < tp.rcv_numsacks; i++) {
      S[i] = temp[2 * i]!;
      E[i] = temp[2 * i + 1]!;
    }
  } else {
    if (tp.rcv_numsacks < MAX_SACK_BLKS) tp.rcv_numsacks++;
    for (let i = tp.rcv_numsacks - 1; i > 0; i--) {
      S[i] = S[i - 1]!;
      E[i] = E[i - 1]!;
    }
  }
  S[0] = fs;
  E[0] = fe;
}

/** tcp_sack_option(): update the scoreboard of holes from a SACK option at b[cp]. */
export function tcp_sack_option(k: Kernel, tp: Tcpcb, thflags: number, thack: number, b: Uint8Array, cp: number, optlen: number): void {
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  if (!tp.sack_enable) return;
  if ((thflags & TH_ACK) === 0) return;
  if (SEQ_LT(thack, tp.snd_una) || SEQ_GT(thack, tp.snd_max)) return;
  if (optlen <= 2 || (optlen - 2) % TCPOLEN_SACK !== 0) return;
  let tmp_cp = cp + 2;
  let tmp_olen = optlen - 2;
  st.inc(tcps_sack_rcv_opts);
  if (tp.snd_numholes < 0) tp.snd_numholes = 0;
  const mss = tp.t_maxseg;
  while (tmp_olen > 0) {
    const sstart = get32(b, tmp_cp);
    const send = get32(b, tmp_cp + 4);
    tmp_olen -= TCPOLEN_SACK;
    tmp_cp += TCPOLEN_SACK;
    if (SEQ_LEQ(send, sstart)) continue;
    if (SEQ_LEQ(send, tp.snd_una)) continue;
    if (SEQ_GT(thack, tp.snd_una) && SEQ_LT(sstart, thack)) continue;
    if (SEQ_GT(send, tp.snd_max)) continue;
    if (tp.snd_holes === null) {
      const cur = ts.sackhole_get();
      if (cur === null) {
        st.inc(tcps_sack_drop_opts);
        return;
      }
      tp.snd_holes = cur;
      cur.start = thack;
      cur.end = sstart;
      cur.rxmit = cur.start;
      cur.next = null;
      tp.snd_numholes = 1;
      tp.rcv_lastsack = send;
      cur.dups = Math.min(tcprexmtthresh, Math.floor(((send - cur.end) >>> 0) / mss));
      if (cur.dups < 1) cur.dups = 1;
      continue;
    }
    let p = tp.snd_holes;
    let cur: typeof p | null = tp.snd_holes;
    while (cur !== null) {
      if (SEQ_LEQ(send, cur.start)) break;
      if (SEQ_GEQ(sstart, cur.end)) {
        cur.dups++;
        if (Math.floor(((send - cur.end) >>> 0) / mss) >= tcprexmtthresh) cur.dups = tcprexmtthresh;
        p = cur;
        cur = cur.next;
        continue;
      }
      if (SEQ_LEQ(sstart, cur.start)) {
        if (SEQ_GEQ(send, cur.end)) {
          // The whole hole is SACKed: delete it.
          if (p !== cur) {
            p.next = cur.next;
            ts.sackhole_put(cur);
            cur = p.next;
          } else {
            cur = cur.next;
            ts.sackhole_put(p);
            p = cur!;
            tp.snd_holes = p;
          }
          tp.snd_numholes--;
          continue;
        }
        cur.start = send;
        cur.rxmit = SEQ_MAX(cur.rxmit, cur.start);
        p = cur;
        cur = cur.next;
        continue;
      }
      if (SEQ_GEQ(send, cur.end)) {
        cur.end = sstart;
        cur.rxmit = SEQ_MIN(cur.rxmit, cur.end);
        cur.dups++;
        if (Math.floor(((send - cur.end) >>> 0) / mss) >= tcprexmtthresh) cur.dups = tcprexmtthresh;
        p = cur;
        cur = cur.next;
        continue;
      }
      if (SEQ_LT(cur.start, sstart) && SEQ_GT(cur.end, send)) {
        // SACK in the middle of a hole: split it.
        if (tp.snd_numholes >= TCP_SACKHOLE_LIMIT) {
          st.inc(tcps_sack_drop_opts);
          return;
        }
        const temp = ts.sackhole_get();
        if (temp === null) {
          st.inc(tcps_sack_drop_opts);
          return;
        }
        temp.next = cur.next;
        temp.start = send;
        temp.end = cur.end;
        temp.dups = cur.dups;
        temp.rxmit = SEQ_MAX(cur.rxmit, temp.start);
        cur.end = sstart;
        cur.rxmit = SEQ_MIN(cur.rxmit, cur.end);
        cur.dups++;
        if (Math.floor(((send - cur.end) >>> 0) / mss) >= tcprexmtthresh) cur.dups = tcprexmtthresh;
        cur.next = temp;
        p = temp;
        cur = p.next;
        tp.snd_numholes++;
      }
    }
    // p is the last hole; append one after it if this SACK is beyond rcv_lastsack.
    if (p !== null && SEQ_LT(tp.rcv_lastsack, sstart)) {
      if (tp.snd_numholes >= TCP_SACKHOLE_LIMIT) {
        st.inc(tcps_sack_drop_opts);
        return;
      }
      const temp = ts.sackhole_get();
      if (temp === null) {
        st.inc(tcps_sack_drop_opts);
        return;
      }
      temp.start = tp.rcv_lastsack;
      temp.end = sstart;
      temp.dups = Math.min(tcprexmtthresh, Math.floor(((send - sstart) >>> 0) / mss));
      if (temp.dups < 1) temp.dups = 1;
      temp.rxmit = temp.start;
      temp.next = null;
      p.next = temp;
      tp.rcv_lastsack = send;
      tp.snd_numholes++;
    }
  }
}

/** tcp_del_sackholes(): drop holes the cumulative ACK covers. */
export function tcp_del_sackholes(tp: Tcpcb, thack: number): void {
  if (tp.sack_enable && tp.t_state !== TCPS_LISTEN) {
    const ts = tp.kernel.inet.tcp;
    const lastack = SEQ_GT(thack, tp.snd_una) ? thack : tp.snd_una;
    let cur = tp.snd_holes;
    while (cur !== null) {
      if (SEQ_LEQ(cur.end, lastack)) {
        const prev = cur;
        cur = cur.next;
        ts.sackhole_put(prev);
        tp.snd_numholes--;
      } else if (SEQ_LT(cur.start, lastack)) {
        cur.start = lastack;
        if (SEQ_LT(cur.rxmit, cur.start)) cur.rxmit = cur.start;
        break;
      } else break;
    }
    tp.snd_holes = cur;
  }
}

/** tcp_clean_sackreport() */
export function tcp_clean_sackreport(tp: Tcpcb): void {
  tp.rcv_numsacks = 0;
  for (let i = 0; i < MAX_SACK_BLKS; i++) tp.sackblks_start[i] = tp.sackblks_end[i] = 0;
}

/** tcp_sack_partialack(): a partial ACK during SACK recovery. */
export function tcp_sack_partialack(tp: Tcpcb, thack: number): void {
  TCP_TIMER_DISARM(tp, TCPT_REXMT);
  tp.t_rtttime = 0;
  const acked = (thack - tp.snd_una) | 0;
  if (tp.snd_cwnd > acked) {
    tp.snd_cwnd -= acked;
    tp.snd_cwnd += tp.t_maxseg;
  } else tp.snd_cwnd = tp.t_maxseg;
  tp.snd_cwnd += tp.t_maxseg;
  tp.t_flags |= TF_NEEDOUTPUT;
}

/** tcp_newreno_partialack(): retransmit the next unacknowledged segment. */
export function tcp_newreno_partialack(tp: Tcpcb, thack: number): void {
  const onxt = tp.snd_nxt;
  const ocwnd = tp.snd_cwnd;
  TCP_TIMER_DISARM(tp, TCPT_REXMT);
  tp.t_rtttime = 0;
  tp.snd_nxt = thack;
  const acked = (thack - tp.snd_una) | 0;
  tp.snd_cwnd = tp.t_maxseg + acked;
  tcp_output(tp);
  tp.snd_cwnd = ocwnd;
  if (SEQ_GT(onxt, tp.snd_nxt)) tp.snd_nxt = onxt;
  if (tp.snd_cwnd > acked) tp.snd_cwnd -= acked;
  else tp.snd_cwnd = 0;
  tp.snd_cwnd += tp.t_maxseg;
}

/** tcp_xmit_timer(): a new RTT sample (ms); RFC 6298 smoothing as OpenBSD scales it. */
export function tcp_xmit_timer(tp: Tcpcb, rtt: number): void {
  if (rtt < 0) rtt = 0;
  else if (rtt > TCP_RTT_MAX) rtt = TCP_RTT_MAX;
  tp.kernel.stats.tcpstat.inc(tcps_rttupdated);
  if (tp.t_srtt !== 0) {
    let delta = (rtt << TCP_RTT_BASE_SHIFT) - (tp.t_srtt >> TCP_RTT_SHIFT);
    if ((tp.t_srtt += delta) <= 0) tp.t_srtt = 1 << TCP_RTT_BASE_SHIFT;
    if (delta < 0) delta = -delta;
    delta -= tp.t_rttvar >> TCP_RTTVAR_SHIFT;
    if ((tp.t_rttvar += delta) <= 0) tp.t_rttvar = 1 << TCP_RTT_BASE_SHIFT;
  } else {
    tp.t_srtt = (rtt + 1) << (TCP_RTT_SHIFT + TCP_RTT_BASE_SHIFT);
    tp.t_rttvar = (rtt + 1) << (TCP_RTTVAR_SHIFT + TCP_RTT_BASE_SHIFT - 1);
  }
  tp.t_rtttime = 0;
  tp.t_rxtshift = 0;
  // rtt + 2 ticks (HZ 100: 20 ms), at least t_rttmin.
  let rttmin = Math.max(tp.t_rttmin, rtt + 2 * (TCP_TIME(1) / 100));
  if (rttmin > TCPTV_REXMTMAX) rttmin = TCPTV_REXMTMAX;
  tp.t_rxtcur = TCPT_RANGESET(TCP_REXMTVAL(tp), rttmin, TCPTV_REXMTMAX);
  tp.t_softerror = 0;
}

/**
 * tcp_mss(): choose t_maxseg from the route and the peer's offer; returns
 * the MSS to advertise (offer != -1) or the new MSS (offer == -1, PMTU).
 */
export function tcp_mss(tp: Tcpcb, offer: number): number {
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const mssdflt = ts.mssdflt.value;
  let mss = mssdflt;
  let mssopt = mssdflt;
  const inp6 = tp.t_inpcb.isIpv6;
  const rt: { rt_mtu: number; rt_ifidx: number } | null = inp6 ? in6_pcbrtentry(tp.t_inpcb) : in_pcbrtentry(tp.t_inpcb);
  const ifp = rt !== null ? k.ifnets[rt.rt_ifidx] : undefined;
  if (rt !== null && ifp !== undefined) {
    // IPv6 always does path MTU discovery.
    const iphlen = inp6 ? 40 : 20;
    let rtmtu = rt.rt_mtu;
    if (tp.t_pmtu !== 0 && (rtmtu === 0 || tp.t_pmtu < rtmtu)) rtmtu = tp.t_pmtu;
    if (rtmtu) mss = rtmtu - iphlen - 20;
    else if (ifp.if_flags & IFF_LOOPBACK) mss = ifp.if_mtu - iphlen - 20;
    else if (k.inet.ipmtudisc.value || inp6) mss = ifp.if_mtu - iphlen - 20;
    if (offer !== -1) {
      mssopt = ifp.if_mtu - iphlen - 20;
      if (mssopt < mssdflt) mssopt = mssdflt;
    }
  }
  if (offer > 0) tp.t_peermss = offer;
  if (tp.t_peermss) mss = Math.min(mss, Math.max(tp.t_peermss, 216));
  if (mss < 64) mss = 64;
  tp.t_maxopd = mss;
  if ((tp.t_flags & (TF_REQ_TSTMP | TF_NOOPT)) === TF_REQ_TSTMP && (tp.t_flags & TF_RCVD_TSTMP) === TF_RCVD_TSTMP) mss -= TCPOLEN_TSTAMP_APPA;
  const rfc3390 = ts.rfc3390.value;
  if (offer === -1) {
    tp.t_flags &= ~TF_PMTUD_PEND;
    tp.t_pmtud_mtu_sent = 0;
    tp.t_pmtud_mss_acked = 0;
    if (mss < tp.t_maxseg) tp.snd_cwnd = Math.max(Math.floor(tp.snd_cwnd / tp.t_maxseg) * mss, mss);
  } else if (rfc3390 === 2) tp.snd_cwnd = Math.min(10 * mss, Math.max(2 * mss, 14600));
  else if (rfc3390) tp.snd_cwnd = Math.min(4 * mss, Math.max(2 * mss, 4380));
  else tp.snd_cwnd = mss;
  tp.t_maxseg = mss;
  return offer !== -1 ? mssopt : mss;
}

/** tcp_hdrsz(): IP + TCP header plus the options every segment carries. */
export function tcp_hdrsz(tp: Tcpcb): number {
  let hlen = tp.t_inpcb.isIpv6 ? 60 : 40;
  if ((tp.t_flags & (TF_REQ_TSTMP | TF_NOOPT)) === TF_REQ_TSTMP && (tp.t_flags & TF_RCVD_TSTMP) === TF_RCVD_TSTMP) hlen += TCPOLEN_TSTAMP_APPA;
  return hlen;
}

/** tcp_mss_update(): round the socket buffers to the MSS. */
export function tcp_mss_update(tp: Tcpcb): void {
  const so = tp.t_inpcb.inp_socket!;
  let mss = tp.t_maxseg;
  const rt = tp.t_inpcb.isIpv6 ? in6_pcbrtentry(tp.t_inpcb) : in_pcbrtentry(tp.t_inpcb);
  if (rt === null) return;
  let bufsize = so.so_snd.sb_hiwat;
  if (bufsize < mss) {
    mss = bufsize;
    tcp_mss(tp, mss);
  } else {
    bufsize = Math.ceil(bufsize / mss) * mss;
    if (bufsize > SB_MAX) bufsize = SB_MAX;
    sbreserve(so.so_snd, bufsize);
  }
  bufsize = so.so_rcv.sb_hiwat;
  if (bufsize > mss) {
    bufsize = Math.ceil(bufsize / mss) * mss;
    if (bufsize > SB_MAX) bufsize = SB_MAX;
    sbreserve(so.so_rcv, bufsize);
  }
}

/** tcp_mss_adv(): the MSS to offer on a route. */
export function tcp_mss_adv(k: Kernel, rt: Rtentry | null): number {
  const mssdflt = k.inet.tcp.mssdflt.value;
  if (rt === null) return mssdflt;
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp === undefined) return mssdflt;
  const mss = ifp.if_mtu - 40;
  return mss > mssdflt ? mss : mssdflt;
}

// ---- SYN cache ----

function syn_cache_hash(src: number, sport: number, dport: number, rand: Uint32Array): number {
  return Math.imul((((dport << 16) + sport) ^ rand[4]!) >>> 0, (src ^ rand[0]!) >>> 0) >>> 0;
}

function syn_cache_sets_init(set: SynCacheSet, size: number): void {
  set.scs_buckethead = [];
  for (let i = 0; i < size; i++) set.scs_buckethead.push(new SynCacheHead());
  set.scs_size = size;
}

/** syn_cache_rm(): unlink an entry from its bucket, listener and timer. */
export function syn_cache_rm(k: Kernel, sc: SynCache): void {
  const bucket = sc.sc_bucket!;
  const i = bucket.sch_bucket.indexOf(sc);
  if (i >= 0) bucket.sch_bucket.splice(i, 1);
  if (sc.sc_tp !== null) sc.sc_tp.t_sc.delete(sc);
  sc.sc_tp = null;
  sc.sc_inplisten = null;
  sc.sc_timer.del();
  sc.sc_set!.scs_count--;
  k.stats.tcpstat.dec(tcps_sc_entry_count);
  syn_cache_gauges(k);
}

/** The gauges sysctl net.inet.tcp.stats fills from the active SYN cache set. */
function syn_cache_gauges(k: Kernel): void {
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  const set = ts.tcp_syn_cache[ts.tcp_syn_cache_active]!;
  let longest = 0;
  for (const h of set.scs_buckethead) if (h.sch_bucket.length > longest) longest = h.sch_bucket.length;
  st.set(tcps_sc_bucket_maxlen, longest);
  st.set(tcps_sc_uses_left, set.scs_use > 0 || set.scs_count > 0 ? set.scs_use : ts.synuselimit.value);
  st.set(tcps_sc_hash_size, set.scs_size > 0 ? set.scs_size : ts.synhashsize.value);
}

function syn_cache_insert(k: Kernel, ts: TcpState, sc: SynCache, tp: Tcpcb): void {
  const st = k.stats.tcpstat;
  const set = ts.tcp_syn_cache[ts.tcp_syn_cache_active]!;
  if (set.scs_count === 0 && set.scs_use <= 0) {
    set.scs_use = ts.synuselimit.value;
    if (set.scs_size !== ts.synhashsize.value) syn_cache_sets_init(set, ts.synhashsize.value);
    for (let i = 0; i < 5; i++) set.scs_random[i] = k.random.arc4random();
    st.inc(tcps_sc_seedrandom);
  }
  sc.sc_hash = syn_cache_hash(sc.sc_src, sc.sc_sport, sc.sc_dport, set.scs_random);
  const scp = set.scs_buckethead[sc.sc_hash % set.scs_size]!;
  sc.sc_bucket = scp;
  if (scp.sch_bucket.length >= ts.synbucketlimit.value) {
    st.inc(tcps_sc_bucketoverflow);
    set.scs_use = 0;
    syn_cache_rm(k, scp.sch_bucket[0]!);
  } else if (set.scs_count >= ts.syncachelimit.value) {
    st.inc(tcps_sc_overflowed);
    // Toss the oldest entry of the first non-empty bucket from ours on.
    let idx = sc.sc_hash % set.scs_size;
    for (let n = 0; n < set.scs_size && set.scs_buckethead[idx]!.sch_bucket.length === 0; n++) idx = (idx + 1) % set.scs_size;
    const victim = set.scs_buckethead[idx]!.sch_bucket[0];
    if (victim !== undefined) syn_cache_rm(k, victim);
  }
  sc.sc_rxttot = 0;
  sc.sc_rxtshift = 0;
  sc.sc_rxtcur = TCPT_RANGESET(TCPTV_SRTTDFLT * tcp_backoff[0]!, TCPTV_MIN, TCPTV_REXMTMAX);
  sc.sc_timer.addMsec(sc.sc_rxtcur);
  tp.t_sc.add(sc);
  sc.sc_tp = tp;
  scp.sch_bucket.push(sc);
  sc.sc_set = set;
  set.scs_count++;
  set.scs_use--;
  st.inc(tcps_sc_added);
  st.inc(tcps_sc_entry_count);
  syn_cache_gauges(k);
  if (set.scs_use <= 0 && ts.tcp_syn_cache[ts.tcp_syn_cache_active ^ 1]!.scs_count === 0) ts.tcp_syn_cache_active ^= 1;
}

/** syn_cache_timer(): retransmit the SYN,ACK with backoff, or expire the entry. */
export function syn_cache_timer(sc: SynCache): void {
  const k = sc.kernel;
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  if (sc.sc_inplisten === null) return;
  if (sc.sc_rxtshift === TCP_MAXRXTSHIFT) {
    st.inc(tcps_sc_timed_out);
    syn_cache_rm(k, sc);
    return;
  }
  sc.sc_rxttot += sc.sc_rxtcur;
  if (sc.sc_rxttot >= ts.keepinittime.value * 1000) {
    st.inc(tcps_sc_timed_out);
    syn_cache_rm(k, sc);
    return;
  }
  sc.sc_rxtshift++;
  sc.sc_rxtcur = TCPT_RANGESET(TCPTV_SRTTDFLT * tcp_backoff[sc.sc_rxtshift]!, TCPTV_MIN, TCPTV_REXMTMAX);
  sc.sc_timer.addMsec(sc.sc_rxtcur);
  syn_cache_respond(k, ts, sc, tcp_now(k, ts));
  st.inc(tcps_sc_retransmitted);
}

/** syn_cache_cleanup(): a listener goes away with its half-open connections. */
export function syn_cache_cleanup(tp: Tcpcb): void {
  for (const sc of [...tp.t_sc]) syn_cache_rm(tp.kernel, sc);
}

/** syn_cache_lookup() */
export function syn_cache_lookup(ts: TcpState, src: number, sport: number, dst: number, dport: number, rtableid: number,
  src6: Uint8Array | null = null, dst6: Uint8Array | null = null): SynCache | null {
  for (let i = 0; i < 2; i++) {
    const set = ts.tcp_syn_cache[i === 0 ? ts.tcp_syn_cache_active : ts.tcp_syn_cache_active ^ 1]!;
    if (set.scs_count === 0) continue;
    const hash = syn_cache_hash(src, sport, dport, set.scs_random);
    const scp = set.scs_buckethead[hash % set.scs_size]!;
    for (const sc of scp.sch_bucket) {
      if (sc.sc_hash !== hash) continue;
      if (sc.sc_src === src && sc.sc_sport === sport && sc.sc_dst === dst && sc.sc_dport === dport && sc.sc_rtableid === rtableid &&
        (src6 === null ? !sc.sc_af6 : sc.sc_af6 && sc6_match(sc.sc_src6, sc.sc_dst6, src6, dst6!))) return sc;
    }
  }
  return null;
}

/**
 * syn_cache_get(): the ACK completing a handshake on a listener.  Returns
 * the new socket, null (no entry: send RST) or -1 (aborted; m consumed).
 */
function syn_cache_get(k: Kernel, ts: TcpState, c: TcpInputCtx, so: Socket, now: number): Socket | null | -1 {
  const st = k.stats.tcpstat;
  const inp = so.so_pcb!;
  const sc = syn_cache_lookup(ts, c.src, c.th_sport, c.dst, c.th_dport, inp.inp_rtableid, c6(c, c.src6), c6(c, c.dst6));
  if (sc === null) return null;
  if (c.th_ack !== ((sc.sc_iss + 1) >>> 0) || SEQ_LEQ(c.th_seq, sc.sc_irs) || SEQ_GT(c.th_seq, (sc.sc_irs + 1 + sc.sc_win) >>> 0)) {
    // Try to get the right response out again.
    syn_cache_respond(k, ts, sc, now);
    c.m!.free();
    c.m = null;
    return -1;
  }
  syn_cache_rm(k, sc);
  const listenso = so;
  const listeninp = inp;
  const nso = sonewconn(listenso, SS_ISCONNECTED);
  if (nso === null) {
    tcp_respond(k, null, c.dst, c.src, c.th_dport, c.th_sport, 0, c.th_ack, TH_RST, c.m!.ph_rtableid, null, c6(c, c.dst6), c6(c, c.src6));
    c.m!.free();
    c.m = null;
    st.inc(tcps_sc_aborted);
    return -1;
  }
  const ninp = nso.so_pcb!;
  const tp = tcp_intotcpcb(ninp)!;
  ninp.inp_ip_ttl = listeninp.inp_ip_ttl;
  if (c.af6
    ? in6_pcbset_addr(ninp, c.dst6, c.th_dport, c.src6, c.th_sport, sc.sc_rtableid)
    : in_pcbset_addr(ninp, c.dst, c.th_dport, c.src, c.th_sport, sc.sc_rtableid)) {
    tcp_respond(k, null, c.dst, c.src, c.th_dport, c.th_sport, 0, c.th_ack, TH_RST, c.m!.ph_rtableid, null, c6(c, c.dst6), c6(c, c.src6));
    tcp_drop(tp, ECONNABORTED);
    c.m!.free();
    c.m = null;
    st.inc(tcps_sc_aborted);
    return -1;
  }
  const ltp = tcp_intotcpcb(listeninp)!;
  tp.t_flags = ltp.t_flags & (TF_NOPUSH | TF_NODELAY);
  if (sc.sc_request_r_scale !== 15) {
    tp.requested_s_scale = sc.sc_requested_s_scale;
    tp.request_r_scale = sc.sc_request_r_scale;
    tp.t_flags |= TF_REQ_SCALE | TF_RCVD_SCALE;
  }
  if (sc.sc_fixflags & SCF_TIMESTAMP) tp.t_flags |= TF_REQ_TSTMP | TF_RCVD_TSTMP;
  tcp_template(tp);
  tp.sack_enable = sc.sc_fixflags & SCF_SACK_PERMIT ? 1 : 0;
  tp.ts_modulate = sc.sc_modulate;
  tp.ts_recent = sc.sc_timestamp;
  tp.iss = sc.sc_iss;
  tp.irs = sc.sc_irs;
  tcp_sendseqinit(tp);
  tp.snd_last = tp.snd_una;
  if (sc.sc_fixflags & SCF_SACK_PERMIT) tp.t_flags |= TF_SACK_PERMIT;
  tcp_rcvseqinit(tp);
  tp.t_state = TCPS_SYN_RECEIVED;
  tp.t_rcvtime = now;
  tp.t_sndtime = now;
  tp.t_rcvacktime = now;
  tp.t_sndacktime = now;
  TCP_TIMER_ARM(tp, TCPT_KEEP, ts.keepinittime.value * 1000);
  st.inc(tcps_accepts);
  tcp_mss(tp, sc.sc_peermaxseg);
  if (sc.sc_peermaxseg) tcp_mss_update(tp);
  if (sc.sc_rxtshift > 0) tp.snd_cwnd = tp.t_maxseg;
  tp.snd_wl1 = sc.sc_irs;
  tp.rcv_up = (sc.sc_irs + 1) >>> 0;
  tp.snd_up = tp.snd_una;
  tp.snd_max = tp.snd_nxt = (tp.iss + 1) >>> 0;
  TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);
  if (sc.sc_win > 0 && SEQ_GT((tp.rcv_nxt + sc.sc_win) >>> 0, tp.rcv_adv)) tp.rcv_adv = (tp.rcv_nxt + sc.sc_win) >>> 0;
  tp.last_ack_sent = tp.rcv_nxt;
  st.inc(tcps_sc_completed);
  return nso;
}

/** syn_cache_reset(): an RST for a half-open connection. */
function syn_cache_reset(k: Kernel, ts: TcpState, c: TcpInputCtx, rtableid: number): void {
  const seq = c.th_seq;
  const sc = syn_cache_lookup(ts, c.src, c.th_sport, c.dst, c.th_dport, rtableid, c6(c, c.src6), c6(c, c.dst6));
  if (sc === null) return;
  if (SEQ_LT(seq, sc.sc_irs) || SEQ_GT(seq, (sc.sc_irs + 1) >>> 0)) return;
  syn_cache_rm(k, sc);
  k.stats.tcpstat.inc(tcps_sc_reset);
}

/** syn_cache_unreach(): an ICMP unreachable about our SYN,ACK. */
export function syn_cache_unreach(k: Kernel, src: number, sport: number, dst: number, dport: number, seq: number, rtableid: number,
  src6: Uint8Array | null = null, dst6: Uint8Array | null = null): void {
  const ts = k.inet.tcp;
  const sc = syn_cache_lookup(ts, src, sport, dst, dport, rtableid, src6, dst6);
  if (sc === null) return;
  if (seq !== sc.sc_iss) return;
  if (!(sc.sc_dynflags & SCF_UNREACH) || sc.sc_rxtshift < 3) {
    sc.sc_dynflags |= SCF_UNREACH;
    return;
  }
  syn_cache_rm(k, sc);
  k.stats.tcpstat.inc(tcps_sc_unreach);
}

/** syn_cache_add(): remember a SYN for a listener and answer SYN,ACK. */
function syn_cache_add(k: Kernel, ts: TcpState, c: TcpInputCtx, so: Socket, tp: Tcpcb, now: number, reuse: number): number {
  const st = k.stats.tcpstat;
  const oi = ts.opti;
  const tb = ts.tb;
  let win = sbspace(so.so_rcv);
  if (win > TCP_MAXWIN) win = TCP_MAXWIN;
  tb.t_flags = 0;
  tb.sack_enable = 0;
  tb.t_state = TCPS_LISTEN;
  tb.ts_recent = 0;
  tb.requested_s_scale = 0;
  if (c.optlen !== 0) {
    tb.sack_enable = tp.sack_enable;
    tb.t_flags = ts.do_rfc1323.value ? TF_REQ_SCALE | TF_REQ_TSTMP : 0;
    if (tcp_dooptions(k, tb, c.m!.buf, c.optoff, c.optlen, c.tiflags, c.th_ack, oi, now)) return -1;
  }
  const inp = so.so_pcb!;
  let sc = syn_cache_lookup(ts, c.src, c.th_sport, c.dst, c.th_dport, inp.inp_rtableid, c6(c, c.src6), c6(c, c.dst6));
  if (sc !== null) {
    st.inc(tcps_sc_dupesyn);
    sc.sc_timestamp = tb.ts_recent;
    if (syn_cache_respond(k, ts, sc, now) === 0) {
      st.inc(tcps_sndacks);
      st.inc(tcps_sndtotal);
    }
    c.m!.free();
    c.m = null;
    return 0;
  }
  sc = new SynCache(k, syn_cache_timer);
  sc.sc_src = c.src;
  sc.sc_sport = c.th_sport;
  sc.sc_dst = c.dst;
  sc.sc_dport = c.th_dport;
  sc.sc_rtableid = inp.inp_rtableid;
  sc.sc_af6 = c.af6;
  let rt: Rtentry | null = null;
  if (c.af6) {
    sc.sc_src6.set(c.src6);
    sc.sc_dst6.set(c.dst6);
    const rt6 = rt6_match(k, c.src6, 0, RT_RESOLVE);
    sc.sc_ourmaxseg = rt6 !== null ? tcp6_mss_adv(k, rt6.rt_ifidx) : ts.mssdflt.value;
  } else rt = route_mpath(k, sc.sc_route, sc.sc_src);
  sc.sc_irs = c.th_seq;
  sc.sc_iss = reuse >= 0 ? reuse : k.random.arc4random();
  sc.sc_peermaxseg = oi.maxseg;
  if (!c.af6) sc.sc_ourmaxseg = tcp_mss_adv(k, rt);
  sc.sc_win = win;
  sc.sc_timestamp = tb.ts_recent;
  if ((tb.t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) === (TF_REQ_TSTMP | TF_RCVD_TSTMP)) {
    sc.sc_fixflags |= SCF_TIMESTAMP;
    sc.sc_modulate = k.random.arc4random();
  }
  if ((tb.t_flags & (TF_RCVD_SCALE | TF_REQ_SCALE)) === (TF_RCVD_SCALE | TF_REQ_SCALE)) {
    sc.sc_requested_s_scale = tb.requested_s_scale;
    sc.sc_request_r_scale = 0;
    // The smallest scale that still reaches sb_max.
    while (sc.sc_request_r_scale < TCP_MAX_WINSHIFT && TCP_MAXWIN * 2 ** sc.sc_request_r_scale < SB_MAX) sc.sc_request_r_scale++;
  } else {
    sc.sc_requested_s_scale = 15;
    sc.sc_request_r_scale = 15;
  }
  if (tb.sack_enable && tb.t_flags & TF_SACK_PERMIT) sc.sc_fixflags |= SCF_SACK_PERMIT;
  sc.sc_inplisten = inp;
  c.m!.free();
  c.m = null;
  if (syn_cache_respond(k, ts, sc, now) === 0) {
    syn_cache_insert(k, ts, sc, tp);
    st.inc(tcps_sndacks);
    st.inc(tcps_sndtotal);
  } else {
    sc.sc_inplisten = null;
    st.inc(tcps_sc_dropped);
  }
  return 0;
}

/** syn_cache_respond(): send the SYN,ACK of an entry. */
export function syn_cache_respond(k: Kernel, _ts: TcpState, sc: SynCache, now: number): number {
  const optlen = 4 + (sc.sc_request_r_scale !== 15 ? 4 : 0) + (sc.sc_fixflags & SCF_SACK_PERMIT ? 4 : 0) + (sc.sc_fixflags & SCF_TIMESTAMP ? TCPOLEN_TSTAMP_APPA : 0);
  const iphlen = sc.sc_af6 ? 40 : 20;
  const tlen = iphlen + 20 + optlen;
  const m = k.mbufs.get(tlen);
  if (m === null) return ENOBUFS;
  m.append(tlen);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + tlen);
  m.ph_rtableid = sc.sc_rtableid;
  if (sc.sc_af6) tcp6_fillhdr(b, o, sc.sc_dst6, sc.sc_src6, in6_selecthlim(k, sc.sc_inplisten));
  else {
    b[o] = 0x45;
    put32(b, o + 12, sc.sc_dst);
    put32(b, o + 16, sc.sc_src);
    b[o + 9] = IPPROTO_TCP;
  }
  const th = o + iphlen;
  put16(b, th, sc.sc_dport);
  put16(b, th + 2, sc.sc_sport);
  put32(b, th + 4, sc.sc_iss);
  put32(b, th + 8, (sc.sc_irs + 1) >>> 0);
  b[th + 12] = ((20 + optlen) >> 2) << 4;
  b[th + 13] = TH_SYN | TH_ACK;
  put16(b, th + 14, sc.sc_win);
  let op = th + 20;
  b[op++] = TCPOPT_MAXSEG;
  b[op++] = 4;
  put16(b, op, sc.sc_ourmaxseg);
  op += 2;
  if (sc.sc_fixflags & SCF_SACK_PERMIT) {
    put32(b, op, TCPOPT_SACK_PERMIT_HDR);
    op += 4;
  }
  if (sc.sc_request_r_scale !== 15) {
    b[op] = TCPOPT_NOP;
    b[op + 1] = TCPOPT_WINDOW;
    b[op + 2] = TCPOLEN_WINDOW;
    b[op + 3] = sc.sc_request_r_scale;
    op += 4;
  }
  if (sc.sc_fixflags & SCF_TIMESTAMP) {
    put32(b, op, TCPOPT_TSTAMP_HDR);
    put32(b, op + 4, (now + sc.sc_modulate) >>> 0);
    put32(b, op + 8, sc.sc_timestamp);
  }
  const inp = sc.sc_inplisten;
  if (sc.sc_af6) {
    if (k.trace !== null) {
      k.trace.caused(m, 'syn_cache_respond');
      k.trace.fn(k, m, 'syn_cache_respond');
    }
    return tcp6_send(k, m, null);
  }
  put16(b, o + 2, tlen);
  b[o + 8] = inp !== null ? inp.inp_ip_ttl : k.inet.ipdefttl.value;
  if (inp !== null) b[o + 1] = inp.inp_ip_tos;
  tcp_cksum_out(k, m, 20, tlen - 20);
  if (k.trace !== null) {
    k.trace.caused(m, 'syn_cache_respond');
    k.trace.fn(k, m, 'syn_cache_respond');
  }
  return ip_output(k, m, k.inet.ipmtudisc.value ? IP_MTUDISC : 0, sc.sc_route);
}

const ENOBUFS = 55;
void TCPS_FIN_WAIT_2;
void TCPS_CLOSING;
