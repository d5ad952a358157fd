/**
 * TCP timers (sys/netinet/tcp_timer.c): per connection the retransmit,
 * persist, keepalive, 2MSL and delayed-ACK timeouts on the world's clock
 * (TCP_TIMER_ARM is timeout_add_msec).  Retransmission follows RFC 6298
 * as OpenBSD computes it: backoff by tcp_backoff[], bounded by t_rttmin and
 * TCPTV_REXMTMAX, the estimate discarded after TCP_MAXRXTSHIFT / 4
 * backoffs, a drop after TCP_MAXRXTSHIFT.
 */
import {
  tcps_cwr_timeout, tcps_keepdrops, tcps_keepprobe, tcps_keeptimeo, tcps_persistdrop, tcps_persisttimeo,
  tcps_rexmttimeo, tcps_timeoutdrop,
} from '../kern/counters.gen.js';
import { TH_ACK } from '../../wire/tcp.js';
import { ETIMEDOUT } from '../sys/errno.js';
import { SEQ_GEQ, SEQ_LT } from './tcp_seq.js';
import { TCPS_CLOSING, TCPS_HAVEESTABLISHED, TCPS_TIME_WAIT } from './tcp_fsm.js';
import {
  TCP_MAXRXTSHIFT, TCP_REXMTVAL, TCP_RTT_SHIFT, TCP_TIMER_ARM, TCPT_2MSL, TCPT_DELACK, TCPT_KEEP,
  TCPT_PERSIST, TCPT_RANGESET, TCPT_REXMT, TCPTV_KEEPCNT, TCPTV_REXMTMAX, TF_ACKNOW, TF_PMTUD_PEND,
  TF_TIMER, tcp_backoff, tcp_now, tcp_totbackoff, type Tcpcb,
} from './tcp_var.js';
import { tcp_output, tcp_setpersist } from './tcp_output.js';
import { tcp_close, tcp_drop, tcp_pmtud_pending, tcp_respond } from './tcp_subr.js';
import { SO_KEEPALIVE } from './tcp_sock.js';

/** tcp_timer_enter(): false for a timer that was cancelled meanwhile. */
function tcp_timer_enter(tp: Tcpcb, timer: number): boolean {
  if (tp.t_inpcb.inp_ppcb !== tp) return false;
  if ((tp.t_flags & (TF_TIMER << timer)) === 0 || tp.t_timer[timer]!.pending) return false;
  tp.t_flags &= ~(TF_TIMER << timer);
  return true;
}

/** tcp_timer_delack(): the delayed ACK is due. */
export function tcp_timer_delack(tp: Tcpcb): void {
  if (!tcp_timer_enter(tp, TCPT_DELACK)) return;
  const k = tp.kernel;
  if (k.trace !== null) k.trace.fn(k, null, 'tcp_timer_delack');
  tp.t_flags |= TF_ACKNOW;
  tcp_output(tp);
}

function tcp_timer_freesack(tp: Tcpcb): void {
  const ts = tp.kernel.inet.tcp;
  let q = tp.snd_holes;
  while (q !== null) {
    const p = q;
    q = q.next;
    ts.sackhole_put(p);
  }
  tp.snd_holes = null;
  tp.snd_numholes = 0;
}

/** tcp_timer_rexmt(): retransmission timeout: back off, slow start, resend. */
export function tcp_timer_rexmt(tp: Tcpcb): void {
  if (!tcp_timer_enter(tp, TCPT_REXMT)) return;
  const k = tp.kernel;
  const st = k.stats.tcpstat;
  if (k.trace !== null) k.trace.fn(k, null, 'tcp_timer_rexmt');
  if (tp.t_flags & TF_PMTUD_PEND && SEQ_GEQ(tp.t_pmtud_th_seq, tp.snd_una) &&
    SEQ_LT(tp.t_pmtud_th_seq, (tp.snd_una + tp.t_maxseg) >>> 0)) {
    tcp_pmtud_pending(tp);
    return;
  }
  tcp_timer_freesack(tp);
  if (++tp.t_rxtshift > TCP_MAXRXTSHIFT) {
    tp.t_rxtshift = TCP_MAXRXTSHIFT;
    st.inc(tcps_timeoutdrop);
    tcp_drop(tp, tp.t_softerror ? tp.t_softerror : ETIMEDOUT);
    return;
  }
  st.inc(tcps_rexmttimeo);
  let rto = TCP_REXMTVAL(tp);
  if (rto < tp.t_rttmin) rto = tp.t_rttmin;
  tp.t_rxtcur = TCPT_RANGESET(rto * tcp_backoff[tp.t_rxtshift]!, tp.t_rttmin, TCPTV_REXMTMAX);
  TCP_TIMER_ARM(tp, TCPT_REXMT, tp.t_rxtcur);
  // Backed off this far, the estimate is probably bogus.
  if (tp.t_rxtshift > TCP_MAXRXTSHIFT / 4) {
    tp.t_inpcb.inp_route.ro_rt = null;
    tp.t_rttvar += tp.t_srtt >> TCP_RTT_SHIFT;
    tp.t_srtt = 0;
  }
  tp.snd_nxt = tp.snd_una;
  tp.snd_last = tp.snd_max;
  tp.t_rtttime = 0;
  {
    let win = Math.floor((tp.snd_wnd < tp.snd_cwnd ? tp.snd_wnd : tp.snd_cwnd) / 2 / tp.t_maxseg);
    if (win < 2) win = 2;
    tp.snd_cwnd = tp.t_maxseg;
    tp.snd_ssthresh = win * tp.t_maxseg;
    tp.t_dupacks = 0;
    st.inc(tcps_cwr_timeout);
  }
  tcp_output(tp);
}

/** tcp_timer_persist(): probe a zero window. */
export function tcp_timer_persist(tp: Tcpcb): void {
  if (!tcp_timer_enter(tp, TCPT_PERSIST)) return;
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  if (tp.t_flags & (TF_TIMER << TCPT_REXMT)) return;
  if (k.trace !== null) k.trace.fn(k, null, 'tcp_timer_persist');
  st.inc(tcps_persisttimeo);
  let rto = TCP_REXMTVAL(tp);
  if (rto < tp.t_rttmin) rto = tp.t_rttmin;
  const now = tcp_now(k, ts);
  if (tp.t_rxtshift === TCP_MAXRXTSHIFT && (now - tp.t_rcvtime >= ts.tcp_maxpersistidle || now - tp.t_rcvtime >= rto * tcp_totbackoff)) {
    st.inc(tcps_persistdrop);
    tcp_drop(tp, ETIMEDOUT);
    return;
  }
  tcp_setpersist(tp);
  tp.t_force = 1;
  tcp_output(tp);
  tp.t_force = 0;
}

/** tcp_timer_keep(): connection establishment timeout, keepalive probes. */
export function tcp_timer_keep(tp: Tcpcb): void {
  if (!tcp_timer_enter(tp, TCPT_KEEP)) return;
  const k = tp.kernel;
  const ts = k.inet.tcp;
  const st = k.stats.tcpstat;
  const so = tp.t_inpcb.inp_socket;
  if (k.trace !== null) k.trace.fn(k, null, 'tcp_timer_keep');
  st.inc(tcps_keeptimeo);
  if (!TCPS_HAVEESTABLISHED(tp.t_state)) {
    st.inc(tcps_keepdrops);
    tcp_drop(tp, ETIMEDOUT);
    return;
  }
  const keepidle = ts.keepidle.value * 1000;
  if ((ts.always_keepalive.value || so.so_options & SO_KEEPALIVE) && tp.t_state <= TCPS_CLOSING) {
    const maxidle = TCPTV_KEEPCNT * keepidle;
    const now = tcp_now(k, ts);
    if (maxidle > 0 && now - tp.t_rcvtime >= keepidle + maxidle) {
      st.inc(tcps_keepdrops);
      tcp_drop(tp, ETIMEDOUT);
      return;
    }
    // <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK>: outside the window, the peer must answer.
    st.inc(tcps_keepprobe);
    const inp = tp.t_inpcb;
    tcp_respond(k, tp, inp.inp_laddr, inp.inp_faddr, inp.inp_lport, inp.inp_fport, tp.rcv_nxt, (tp.snd_una - 1) >>> 0, TH_ACK, inp.inp_rtableid);
    TCP_TIMER_ARM(tp, TCPT_KEEP, ts.keepintvl.value * 1000);
  } else TCP_TIMER_ARM(tp, TCPT_KEEP, keepidle);
}

/** tcp_timer_2msl(): TIME_WAIT is over (or FIN_WAIT_2 idled out). */
export function tcp_timer_2msl(tp: Tcpcb): void {
  if (!tcp_timer_enter(tp, TCPT_2MSL)) return;
  const k = tp.kernel;
  const ts = k.inet.tcp;
  if (k.trace !== null) k.trace.fn(k, null, 'tcp_timer_2msl');
  tcp_timer_freesack(tp);
  const maxidle = TCPTV_KEEPCNT * ts.keepidle.value * 1000;
  const now = tcp_now(k, ts);
  if (tp.t_state !== TCPS_TIME_WAIT && (maxidle === 0 || now - tp.t_rcvtime <= maxidle))
    TCP_TIMER_ARM(tp, TCPT_2MSL, ts.keepintvl.value * 1000);
  else tcp_close(tp);
}

/** tcp_timer_funcs[], indexed by TCPT_*. */
export const tcp_timer_funcs: readonly ((tp: Tcpcb) => void)[] = [
  tcp_timer_rexmt, tcp_timer_persist, tcp_timer_keep, tcp_timer_2msl, tcp_timer_delack,
];
