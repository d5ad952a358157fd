/**
 * TCP's socket interface (sys/netinet/tcp_usrreq.c): the pr_usrreqs the
 * socket layer calls (attach, bind, listen, connect, accept, send, rcvd,
 * shutdown, disconnect, abort, detach), TCP socket options
 * (TCP_NODELAY, TCP_MAXSEG, TCP_NOPUSH, TCP_SACK_ENABLE), closing
 * (tcp_usrclosed, tcp_dodisconnect) and socket buffer autosizing
 * (tcp_update_sndspace, tcp_update_rcvspace).
 */
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { tcps_connattempt } from '../kern/counters.gen.js';
import { IPPROTO_TCP } from '../../wire/ip4.js';
import {
  ECONNABORTED, EINVAL, EISCONN, ENOPROTOOPT, ENOTCONN, EOPNOTSUPP,
} from '../sys/errno.js';
import {
  PR_ABRTACPTDIS, PR_CONNREQUIRED, PR_SPLICE, PR_WANTRCVD, PRCO_GETOPT, SOCK_STREAM, SS_CONNECTOUT,
  SS_ISCONNECTED, SS_ISCONNECTING, SO_LINGER, soisconnecting, soisdisconnected, soisdisconnecting,
  soreserve, type Protosw, type PrUsrreqs, type Socket,
} from '../kern/uipc_socket.js';
import type { Sockaddr } from './in_pcb.js';
import {
  AF_INET, AF_INET6, in_broadcast, in_pcballoc, in_pcbbind, in_pcbconnect, in_pcbdisconnect, in_pcbunset_faddr,
  in_setpeeraddr, in_setsockaddr,
} from './in_pcb.js';
import { IN_MULTICAST, INADDR_ANY, INADDR_BROADCAST } from './in.js';
import {
  TCPS_CLOSED, TCPS_CLOSE_WAIT, TCPS_ESTABLISHED, TCPS_FIN_WAIT_2, TCPS_LAST_ACK, TCPS_LISTEN,
  TCPS_SYN_RECEIVED, TCPS_SYN_SENT, TCPS_FIN_WAIT_1,
} from './tcp_fsm.js';
import {
  SB_MAX, TCP_LINGERTIME, TCP_MAXSEG, TCP_NODELAY, TCP_NOPUSH, TCP_SACK_ENABLE, TCPT_2MSL, TCPT_KEEP,
  TCPTV_KEEPCNT, TCP_TIMER_ARM, TF_NODELAY, TF_NOPUSH, tcp_sendseqinit, type Tcpcb,
} from './tcp_var.js';
import { tcp_output } from './tcp_output.js';
import { tcp_close, tcp_drop, tcp_newtcpcb, tcp_rscale, tcp_set_iss_tsm, tcp_template } from './tcp_subr.js';
import { sbspace, tcp_intotcpcb } from './tcp_sock.js';

function sotp(so: Socket): Tcpcb | null {
  const inp = so.so_pcb;
  if (inp === null) return null;
  return tcp_intotcpcb(inp);
}

/** tcp_attach() */
function tcp_attach(so: Socket, _proto: number): number {
  const k = so.kernel;
  const ts = k.inet.tcp;
  if (so.so_pcb !== null) return EISCONN;
  if (so.so_snd.sb_hiwat === 0 || so.so_rcv.sb_hiwat === 0) {
    const error = soreserve(so, ts.sendspace.value, ts.recvspace.value);
    if (error) return error;
  }
  const inp = in_pcballoc(so, so.so_proto.pr_domain === AF_INET6 ? k.inet.tcb6table : k.inet.tcbtable);
  const tp = tcp_newtcpcb(k, inp);
  tp.t_state = TCPS_CLOSED;
  if (so.so_options & SO_LINGER && so.so_linger === 0) so.so_linger = TCP_LINGERTIME;
  return 0;
}

/** tcp_detach(): the descriptor is closed. */
function tcp_detach(so: Socket): number {
  const tp = sotp(so);
  if (tp === null) return EINVAL;
  tcp_dodisconnect(tp);
  return 0;
}

function tcp_bind(so: Socket, nam: Sockaddr): number {
  const inp = so.so_pcb;
  if (inp === null) return EINVAL;
  return in_pcbbind(inp, nam);
}

/** tcp_listen(): bind an ephemeral port if needed, enter LISTEN. */
function tcp_listen(so: Socket): number {
  const inp = so.so_pcb;
  const tp = sotp(so);
  if (inp === null || tp === null) return EINVAL;
  if (inp.inp_lport === 0) {
    const error = in_pcbbind(inp, null);
    if (error) return error;
  }
  tp.t_state = TCPS_LISTEN;
  return 0;
}

/** tcp_connect(): active open: pick addresses, send the SYN. */
function tcp_connect(so: Socket, nam: Sockaddr): number {
  const k = so.kernel;
  const inp = so.so_pcb;
  const tp = sotp(so);
  if (inp === null || tp === null) return EINVAL;
  if (inp.isIpv6) {
    if (nam.family !== AF_INET6 || nam.addr6[0] === 0xff) return EINVAL;
  } else {
    if (nam.family !== AF_INET) return EINVAL;
    const a = nam.addr >>> 0;
    if (a === INADDR_ANY || a === INADDR_BROADCAST || IN_MULTICAST(a) || in_broadcast(k, a)) return EINVAL;
  }
  const error = in_pcbconnect(inp, nam);
  if (error) return error;
  tcp_template(tp);
  so.so_state |= SS_CONNECTOUT;
  tcp_rscale(tp, SB_MAX);
  soisconnecting(so);
  k.stats.tcpstat.inc(tcps_connattempt);
  tp.t_state = TCPS_SYN_SENT;
  TCP_TIMER_ARM(tp, TCPT_KEEP, k.inet.tcp.keepinittime.value * 1000);
  tcp_set_iss_tsm(tp);
  tcp_sendseqinit(tp);
  tp.snd_last = tp.snd_una;
  return tcp_output(tp);
}

function tcp_accept(so: Socket, nam: Sockaddr): number {
  const inp = so.so_pcb;
  if (inp === null) return ECONNABORTED;
  in_setpeeraddr(inp, nam);
  return 0;
}

function tcp_disconnect(so: Socket): number {
  const tp = sotp(so);
  if (tp === null) return EINVAL;
  tcp_dodisconnect(tp);
  return 0;
}

/** tcp_shutdown(): no more data to send (the socket layer did socantsendmore()). */
function tcp_shutdown(so: Socket): number {
  let tp = sotp(so);
  if (tp === null) return EINVAL;
  tp = tcp_usrclosed(tp);
  if (tp !== null) return tcp_output(tp);
  return 0;
}

/** tcp_rcvd(): the user read data: maybe a window update. */
function tcp_rcvd(so: Socket): void {
  const tp = sotp(so);
  if (tp === null) return;
  if (so.so_state & (SS_ISCONNECTED | SS_ISCONNECTING)) tcp_output(tp);
}

/** tcp_send(): queue m's data on so_snd and let tcp_output() decide. */
function tcp_send(so: Socket, m: Mbuf, _nam: Sockaddr | null): number {
  const tp = sotp(so);
  if (tp === null) {
    m.free();
    return EINVAL;
  }
  so.so_snd.sbappendstream(m.buf, m.off, m.len);
  m.free();
  return tcp_output(tp);
}

/** tcp_send() of data sosend() already appended to so_snd. */
function tcp_sendstream(so: Socket): number {
  const tp = sotp(so);
  if (tp === null) return EINVAL;
  return tcp_output(tp);
}

function tcp_abort(so: Socket): void {
  const tp = sotp(so);
  if (tp === null) return;
  tcp_drop(tp, ECONNABORTED);
}

function tcp_sockaddr(so: Socket, nam: Sockaddr): number {
  const inp = so.so_pcb;
  if (inp === null) return EINVAL;
  in_setsockaddr(inp, nam);
  return 0;
}

function tcp_peeraddr(so: Socket, nam: Sockaddr): number {
  const inp = so.so_pcb;
  if (inp === null) return ENOTCONN;
  in_setpeeraddr(inp, nam);
  return 0;
}

/** tcp_ctloutput(): IPPROTO_TCP options. */
function tcp_ctloutput(op: number, so: Socket, level: number, optname: number, val: { v: number }): number {
  const tp = sotp(so);
  if (tp === null) return ECONNABORTED;
  if (level !== IPPROTO_TCP) return ENOPROTOOPT;
  if (op === PRCO_GETOPT) {
    switch (optname) {
      case TCP_NODELAY:
        val.v = tp.t_flags & TF_NODELAY ? 1 : 0;
        return 0;
      case TCP_NOPUSH:
        val.v = tp.t_flags & TF_NOPUSH ? 1 : 0;
        return 0;
      case TCP_MAXSEG:
        val.v = tp.t_maxseg;
        return 0;
      case TCP_SACK_ENABLE:
        val.v = tp.sack_enable;
        return 0;
      default:
        return ENOPROTOOPT;
    }
  }
  switch (optname) {
    case TCP_NODELAY:
      if (val.v) tp.t_flags |= TF_NODELAY;
      else tp.t_flags &= ~TF_NODELAY;
      return 0;
    case TCP_NOPUSH:
      if (val.v) tp.t_flags |= TF_NOPUSH;
      else if (tp.t_flags & TF_NOPUSH) {
        tp.t_flags &= ~TF_NOPUSH;
        if (tp.t_state >= TCPS_ESTABLISHED) tcp_output(tp);
      }
      return 0;
    case TCP_MAXSEG:
      if (val.v > 0 && val.v <= tp.t_maxseg) tp.t_maxseg = val.v;
      else return EINVAL;
      return 0;
    case TCP_SACK_ENABLE:
      if (tp.t_state >= TCPS_SYN_SENT) return EPERM_;
      tp.sack_enable = val.v ? 1 : 0;
      return 0;
    default:
      return ENOPROTOOPT;
  }
}
const EPERM_ = 1;

/**
 * tcp_dodisconnect(): close by the user: drop an unsynchronized
 * connection (or one lingering with a zero timeout), else send a FIN once
 * the data is out.
 */
export function tcp_dodisconnect(tp: Tcpcb): Tcpcb | null {
  const so = tp.t_inpcb.inp_socket;
  if (tp.t_state < TCPS_ESTABLISHED) return tcp_close(tp);
  if (so.so_options & SO_LINGER && so.so_linger === 0) return tcp_drop(tp, 0);
  soisdisconnecting(so);
  so.so_rcv.sbflush();
  const t = tcp_usrclosed(tp);
  if (t !== null) tcp_output(t);
  return t;
}

/** tcp_usrclosed(): the user will send no more: the next FIN state. */
export function tcp_usrclosed(tp: Tcpcb): Tcpcb | null {
  const ts = tp.kernel.inet.tcp;
  switch (tp.t_state) {
    case TCPS_CLOSED:
    case TCPS_LISTEN:
    case TCPS_SYN_SENT:
      tp.t_state = TCPS_CLOSED;
      return tcp_close(tp);
    case TCPS_SYN_RECEIVED:
    case TCPS_ESTABLISHED:
      tp.t_state = TCPS_FIN_WAIT_1;
      break;
    case TCPS_CLOSE_WAIT:
      tp.t_state = TCPS_LAST_ACK;
      break;
  }
  if (tp.t_state >= TCPS_FIN_WAIT_2) {
    soisdisconnected(tp.t_inpcb.inp_socket);
    if (tp.t_state === TCPS_FIN_WAIT_2) TCP_TIMER_ARM(tp, TCPT_2MSL, TCPTV_KEEPCNT * ts.keepidle.value * 1000);
  }
  return tp;
}

/** tcp_update_sndspace(): grow the send buffer with the data in flight. */
export function tcp_update_sndspace(tp: Tcpcb): void {
  const so = tp.t_inpcb.inp_socket;
  const sb = so.so_snd;
  const ts = tp.kernel.inet.tcp;
  let nmax: number;
  if (sb.sb_wat !== ts.sendspace.value) nmax = sb.sb_wat;
  else {
    const fl = (tp.snd_max - tp.snd_una) | 0;
    nmax = Math.min(SB_MAX, sb.sb_wat + fl);
  }
  if (sbspace(sb) >= sb.sb_lowat) {
    if (nmax < sb.sb_cc + sb.sb_lowat) nmax = sb.sb_cc + sb.sb_lowat;
    if (nmax * 8 < sb.sb_mbcnt + sb.sb_lowat) nmax = Math.floor((sb.sb_mbcnt + sb.sb_lowat + 7) / 8);
  }
  nmax = Math.ceil(nmax / tp.t_maxseg) * tp.t_maxseg;
  if (nmax > SB_MAX) nmax = Math.floor(SB_MAX / tp.t_maxseg) * tp.t_maxseg;
  if (nmax !== sb.sb_hiwat) sb.sbreserve(nmax);
}

/** tcp_update_rcvspace(): grow the receive buffer when the peer fills it within an RTT. */
export function tcp_update_rcvspace(tp: Tcpcb): void {
  const so = tp.t_inpcb.inp_socket;
  const sb = so.so_rcv;
  const ts = tp.kernel.inet.tcp;
  let nmax = sb.sb_hiwat;
  if (sb.sb_wat !== ts.recvspace.value) nmax = sb.sb_wat;
  else if (tp.rfbuf_cnt > Math.floor(sb.sb_hiwat / 8) * 7) nmax = Math.min(SB_MAX, sb.sb_hiwat + 16 * 1024);
  if (sb.sb_cc >= sb.sb_lowat && nmax < so.so_snd.sb_lowat) nmax = so.so_snd.sb_lowat;
  if (nmax !== sb.sb_hiwat) {
    nmax = Math.ceil(nmax / tp.t_maxseg) * tp.t_maxseg;
    if (nmax > SB_MAX) nmax = SB_MAX;
    sb.sbreserve(nmax);
  }
}

const tcp_usrreqs: PrUsrreqs = {
  pru_attach: tcp_attach,
  pru_detach: tcp_detach,
  pru_bind: tcp_bind,
  pru_listen: tcp_listen,
  pru_connect: tcp_connect,
  pru_accept: tcp_accept,
  pru_disconnect: tcp_disconnect,
  pru_shutdown: tcp_shutdown,
  pru_rcvd: tcp_rcvd,
  pru_send: tcp_send,
  pru_sendstream: tcp_sendstream,
  pru_abort: tcp_abort,
  pru_sockaddr: tcp_sockaddr,
  pru_peeraddr: tcp_peeraddr,
};

/** inetsw[] entry of TCP. */
export const tcp_protosw: Protosw = {
  pr_type: SOCK_STREAM,
  pr_domain: AF_INET,
  pr_protocol: IPPROTO_TCP,
  pr_flags: PR_CONNREQUIRED | PR_WANTRCVD | PR_ABRTACPTDIS | PR_SPLICE,
  pr_usrreqs: tcp_usrreqs,
  pr_ctloutput: tcp_ctloutput,
};

void in_pcbdisconnect;
void in_pcbunset_faddr;
void EOPNOTSUPP;
void TCPS_FIN_WAIT_1;
