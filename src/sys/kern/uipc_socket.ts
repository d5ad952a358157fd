/**
 * Sockets (sys/kern/uipc_socket.c and the state changes of uipc_socket2.c):
 * struct socket, the protocol switch a transport protocol plugs into
 * (struct protosw with its pr_usrreqs), and the so*() operations the
 * application APIs (src/lib/socket.ts, src/lib/net.ts) call.
 *
 * A protocol registers a Protosw on its kernel (`k.inet.protosw`): UDP in
 * udp_usrreq.ts, TCP in its own module.  socreate() finds it by (family,
 * type, protocol) as pffindproto() does and calls pru_attach.
 *
 * Nothing here blocks.  sosend()/soreceive() return a byte count (>= 0) or
 * -errno (EWOULDBLOCK when they would have slept); the API layer waits in
 * virtual time for the wakeup (so_upcall, called from sorwakeup /
 * sowwakeup / soisconnected / ...) and retries, which is what a sleeping
 * process does in the kernel.
 *
 * Ownership: so_euid / so_ruid are the credentials of the process that
 * created the socket (pf's `user` and `group` match them; in_pcbbind
 * refuses a port held by another user).
 */
import type { Kernel } from './kernel.js';
import type { Mbuf } from './uipc_mbuf.js';
import { Sockbuf, SB_MAX } from './uipc_socket2.js';
import type { Inpcb, Sockaddr } from '../netinet/in_pcb.js';
import {
  EAFNOSUPPORT, EDESTADDRREQ, EINVAL, EISCONN, EMSGSIZE, ENOBUFS, ENOPROTOOPT, ENOTCONN, EOPNOTSUPP, EPIPE,
  EPROTONOSUPPORT, EPROTOTYPE, EWOULDBLOCK,
} from '../sys/errno.js';

// socket types, sys/socket.h
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;

// so_options
export const SO_DEBUG = 0x0001;
export const SO_ACCEPTCONN = 0x0002;
export const SO_REUSEADDR = 0x0004;
export const SO_KEEPALIVE = 0x0008;
export const SO_DONTROUTE = 0x0010;
export const SO_BROADCAST = 0x0020;
export const SO_USELOOPBACK = 0x0040;
export const SO_LINGER = 0x0080;
export const SO_OOBINLINE = 0x0100;
export const SO_REUSEPORT = 0x0200;
export const SO_TIMESTAMP = 0x0800;
export const SO_BINDANY = 0x1000;
export const SO_ZEROIZE = 0x2000;
// other socket-level options
export const SO_SNDBUF = 0x1001;
export const SO_RCVBUF = 0x1002;
export const SO_SNDLOWAT = 0x1003;
export const SO_RCVLOWAT = 0x1004;
export const SO_SNDTIMEO = 0x1005;
export const SO_RCVTIMEO = 0x1006;
export const SO_ERROR = 0x1007;
export const SO_TYPE = 0x1008;
export const SO_RTABLE = 0x1021;
export const SOL_SOCKET = 0xffff;

// so_state
export const SS_NOFDREF = 0x001;
export const SS_ISCONNECTED = 0x002;
export const SS_ISCONNECTING = 0x004;
export const SS_ISDISCONNECTING = 0x008;
/** In so_snd.sb_state. */
export const SS_CANTSENDMORE = 0x010;
/** In so_rcv.sb_state. */
export const SS_CANTRCVMORE = 0x020;
export const SS_RCVATMARK = 0x040;
export const SS_PRIV = 0x080;
/** Non-blocking (FIONBIO / O_NONBLOCK; OpenBSD keeps it in the file). */
export const SS_NBIO = 0x100;
export const SS_ISDISCONNECTED = 0x800;
export const SS_CONNECTOUT = 0x1000;

// pr_flags
export const PR_ATOMIC = 0x01;
export const PR_ADDR = 0x02;
export const PR_CONNREQUIRED = 0x04;
export const PR_WANTRCVD = 0x08;
export const PR_RIGHTS = 0x10;
export const PR_ABRTACPTDIS = 0x20;
export const PR_SPLICE = 0x40;

// send/recv flags
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_EOR = 0x8;
export const MSG_TRUNC = 0x10;
export const MSG_CTRUNC = 0x20;
export const MSG_WAITALL = 0x40;
export const MSG_DONTWAIT = 0x80;
export const MSG_NOSIGNAL = 0x400;

// shutdown(2)
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

// pr_ctloutput ops
export const PRCO_GETOPT = 0;
export const PRCO_SETOPT = 1;

/** kern.somaxconn */
export const SOMAXCONN = 128;

/** What so_upcall is told. */
export const SO_WAKE_READ = 1;
export const SO_WAKE_WRITE = 2;
/** Connected, disconnected or an error: state changed. */
export const SO_WAKE_STATE = 4;

/**
 * struct pr_usrreqs: the calls from the socket layer into a protocol.
 * Each returns 0 or an errno unless noted.
 */
export interface PrUsrreqs {
  /** Create the PCB (and protocol state) of a new socket; reserve its buffers. */
  pru_attach(so: Socket, proto: number): number;
  /** Release the PCB (called from soclose when the protocol has let go). */
  pru_detach(so: Socket): number;
  pru_bind(so: Socket, nam: Sockaddr): number;
  pru_listen?(so: Socket): number;
  pru_connect(so: Socket, nam: Sockaddr): number;
  /** A socket taken from the accept queue: its peer address into nam. */
  pru_accept?(so: Socket, nam: Sockaddr): number;
  pru_disconnect(so: Socket): number;
  /** shutdown(SHUT_WR): after socantsendmore() (TCP sends its FIN). */
  pru_shutdown(so: Socket): number;
  /** The user took data from so_rcv (PR_WANTRCVD: TCP may send a window update). */
  pru_rcvd?(so: Socket): void;
  /**
   * Send m (consumed, data only, the pool's headroom in front) to nam or
   * the connected peer.  Stream protocols append it to so_snd.
   */
  pru_send(so: Socket, m: Mbuf, nam: Sockaddr | null): number;
  /**
   * Stream protocols: sosend() has appended the user's data to so_snd
   * itself (the one copy OpenBSD's uiomove makes into the mbufs that
   * pru_send links); send what the protocol allows now.
   */
  pru_sendstream?(so: Socket): number;
  /** Drop the connection and free the socket (soabort). */
  pru_abort(so: Socket): void;
  pru_sockaddr(so: Socket, nam: Sockaddr): number;
  pru_peeraddr(so: Socket, nam: Sockaddr): number;
}

/** struct protosw: one transport protocol of one address family. */
export interface Protosw {
  pr_type: number;
  /** AF_INET (2) or AF_INET6 (24). */
  pr_domain: number;
  pr_protocol: number;
  pr_flags: number;
  pr_usrreqs: PrUsrreqs;
  /**
   * Protocol-level socket options (TCP_NODELAY...): `val.v` holds the value
   * set, or receives the value got.  0 or an errno.
   */
  pr_ctloutput?(op: number, so: Socket, level: number, optname: number, val: { v: number }): number;
}

/** struct socket */
export class Socket {
  so_type: number;
  so_options = 0;
  so_linger = 0;
  so_state = 0;
  so_error = 0;
  so_pcb: Inpcb | null = null;
  readonly so_rcv = new Sockbuf();
  readonly so_snd = new Sockbuf();
  so_euid: number;
  so_ruid: number;
  so_egid = 0;
  so_rgid = 0;
  so_cpid = 0;
  so_rtableid = 0;
  so_oobmark = 0;

  // Listen queues: so_q0 incomplete, so_q complete connections.
  so_head: Socket | null = null;
  /** 0 not queued, 1 on so_q0, 2 on so_q. */
  so_onq = 0;
  readonly so_q0: Socket[] = [];
  readonly so_q: Socket[] = [];
  so_qlimit = 0;

  /**
   * Told when the socket becomes readable, writable or changes state (the
   * wakeup of a sleeping process).  Set by the API layer; one per socket.
   */
  so_upcall: ((so: Socket, what: number) => void) | null = null;
  /** Free for the API layer (the fd or stream object). */
  so_user: unknown = null;

  constructor(
    readonly kernel: Kernel,
    readonly so_proto: Protosw,
    uid: number,
  ) {
    this.so_type = so_proto.pr_type;
    this.so_euid = uid;
    this.so_ruid = uid;
  }

  get so_qlen(): number {
    return this.so_q.length;
  }

  get so_q0len(): number {
    return this.so_q0.length;
  }
}

/** pffindproto(): the protocol for (family, type, protocol); protocol 0 takes the first of the type. */
export function pffindproto(k: Kernel, family: number, type: number, protocol: number): Protosw | null {
  for (const p of k.inet.protosw) {
    if (p.pr_domain !== family) continue;
    if (protocol === 0 ? p.pr_type === type : p.pr_protocol === protocol && p.pr_type === type) return p;
  }
  return null;
}

/**
 * socreate(): a socket of (family, type, protocol) owned by uid.  Returns
 * the socket or an errno.
 */
export function socreate(k: Kernel, family: number, type: number, protocol: number, uid = 0): Socket | number {
  let prp = pffindproto(k, family, type, protocol);
  if (prp === null) {
    const anyFamily = k.inet.protosw.some((p) => p.pr_domain === family);
    if (!anyFamily) return EAFNOSUPPORT;
    prp = protocol !== 0 ? k.inet.protosw.find((p) => p.pr_domain === family && p.pr_protocol === protocol) ?? null : null;
    return prp !== null ? EPROTOTYPE : EPROTONOSUPPORT;
  }
  const so = new Socket(k, prp, uid);
  const error = prp.pr_usrreqs.pru_attach(so, protocol);
  if (error) {
    so.so_state |= SS_NOFDREF;
    return error;
  }
  return so;
}

export function sobind(so: Socket, nam: Sockaddr): number {
  return so.so_proto.pr_usrreqs.pru_bind(so, nam);
}

/** solisten(): start accepting connections, at most backlog (clamped to SOMAXCONN) queued. */
export function solisten(so: Socket, backlog: number): number {
  const pr = so.so_proto.pr_usrreqs;
  if (so.so_state & (SS_ISCONNECTED | SS_ISCONNECTING | SS_ISDISCONNECTING)) return EINVAL;
  if (pr.pru_listen === undefined) return EOPNOTSUPP;
  const error = pr.pru_listen(so);
  if (error) return error;
  if (so.so_q.length === 0) so.so_options |= SO_ACCEPTCONN;
  if (backlog < 0 || backlog > SOMAXCONN) backlog = SOMAXCONN;
  so.so_qlimit = backlog;
  return 0;
}

/** soconnect(): start connecting (datagram sockets may reconnect). */
export function soconnect(so: Socket, nam: Sockaddr): number {
  if (so.so_options & SO_ACCEPTCONN) return EOPNOTSUPP;
  const pr = so.so_proto.pr_usrreqs;
  if (so.so_state & (SS_ISCONNECTED | SS_ISCONNECTING)) {
    if (so.so_proto.pr_flags & PR_CONNREQUIRED) return EISCONN;
    const e = sodisconnect(so);
    if (e) return EISCONN;
  }
  return pr.pru_connect(so, nam);
}

export function sodisconnect(so: Socket): number {
  if ((so.so_state & SS_ISCONNECTED) === 0) return ENOTCONN;
  if (so.so_state & SS_ISDISCONNECTING) return 0;
  return so.so_proto.pr_usrreqs.pru_disconnect(so);
}

/** Take the first completed connection off a listening socket's queue (accept(2)), or null. */
export function soaccept_next(head: Socket): Socket | null {
  const so = head.so_q.shift();
  if (so === undefined) return null;
  so.so_onq = 0;
  so.so_head = null;
  so.so_state &= ~SS_NOFDREF;
  return so;
}

/** soaccept(): the accepted socket's peer into nam. */
export function soaccept(so: Socket, nam: Sockaddr): number {
  const pr = so.so_proto.pr_usrreqs;
  if (pr.pru_accept !== undefined) return pr.pru_accept(so, nam);
  return pr.pru_peeraddr(so, nam);
}

/**
 * sosend(): send len bytes of data at off (one datagram for atomic
 * protocols).  Returns bytes accepted or -errno; a stream socket takes
 * what fits (at least the low water mark) and says -EWOULDBLOCK when
 * nothing does.
 */
export function sosend(so: Socket, nam: Sockaddr | null, data: Uint8Array, off: number, len: number, _flags = 0): number {
  const k = so.kernel;
  const pr = so.so_proto;
  const atomic = (pr.pr_flags & PR_ATOMIC) !== 0;
  const sb = so.so_snd;
  if (sb.sb_state & SS_CANTSENDMORE) return -EPIPE;
  if (so.so_error) {
    const e = so.so_error;
    so.so_error = 0;
    return -e;
  }
  if ((so.so_state & SS_ISCONNECTED) === 0) {
    if (pr.pr_flags & PR_CONNREQUIRED) {
      if (so.so_state & SS_ISCONNECTING) return -EWOULDBLOCK;
      return -ENOTCONN;
    }
    if (nam === null) return -EDESTADDRREQ;
  }
  if (atomic && len > sb.sb_hiwat) return -EMSGSIZE;
  let space = sb.sbspace();
  if (atomic) {
    if (space < len) return -EWOULDBLOCK;
    const m = k.mbufs.get(len);
    if (m === null) return -ENOBUFS;
    m.setBytes(data, off, len);
    const error = pr.pr_usrreqs.pru_send(so, m, nam);
    return error ? -error : len;
  }
  if (space < Math.min(len, sb.sb_lowat) || space <= 0) return -EWOULDBLOCK;
  let sent = 0;
  const sendstream = pr.pr_usrreqs.pru_sendstream;
  if (sendstream !== undefined) {
    // All that fits in one append and one pru_send, as OpenBSD's sosend
    // hands the protocol one chain per pass (space may grow: autosizing).
    while (sent < len && space > 0) {
      const n = Math.min(len - sent, space);
      sb.sbappendstream(data, off + sent, n);
      const error = sendstream(so);
      if (error) return sent > 0 ? sent : -error;
      sent += n;
      space = sb.sbspace();
    }
    return sent;
  }
  while (sent < len && space > 0) {
    const n = Math.min(len - sent, space, MCLBYTES_DATA);
    const m = k.mbufs.get(n);
    if (m === null) return sent > 0 ? sent : -ENOBUFS;
    m.setBytes(data, off + sent, n);
    const error = pr.pr_usrreqs.pru_send(so, m, nam);
    if (error) return sent > 0 ? sent : -error;
    sent += n;
    space = sb.sbspace();
  }
  return sent;
}

/** Data per mbuf of a stream send: a cluster less the headroom. */
const MCLBYTES_DATA = 2048 - 128;

/**
 * soreceive(): up to len bytes into dst at off.  Datagram sockets return
 * one datagram (the rest of a longer one is discarded, MSG_TRUNC is set in
 * flagsOut.v) and its sender in from.  Returns the count, 0 at end of
 * stream (or for an empty datagram), or -errno (EWOULDBLOCK when nothing
 * is there yet).
 */
export function soreceive(so: Socket, dst: Uint8Array, off: number, len: number, from: Sockaddr | null, flags = 0, flagsOut?: { v: number }): number {
  const sb = so.so_rcv;
  const pr = so.so_proto;
  const peek = (flags & MSG_PEEK) !== 0;
  if (flagsOut) flagsOut.v = 0;
  if (pr.pr_flags & PR_ATOMIC) {
    const m = sb.firstRecord;
    if (m === null) {
      if (so.so_error) {
        const e = so.so_error;
        if (!peek) so.so_error = 0;
        return -e;
      }
      if (sb.sb_state & SS_CANTRCVMORE) return 0;
      return -EWOULDBLOCK;
    }
    if (from !== null) from.set(sb.firstAddr!);
    const n = Math.min(len, m.len);
    dst.set(m.buf.subarray(m.off, m.off + n), off);
    if (n < m.len && flagsOut) flagsOut.v |= MSG_TRUNC;
    if (!peek) {
      const r = sb.sbdroprecord();
      r?.free();
      sowwakeup_rcvd(so);
    }
    return n;
  }
  if (sb.sb_datacc === 0) {
    if (so.so_error) {
      const e = so.so_error;
      if (!peek) so.so_error = 0;
      return -e;
    }
    if (sb.sb_state & SS_CANTRCVMORE) return 0;
    if ((so.so_state & (SS_ISCONNECTED | SS_ISCONNECTING)) === 0 && pr.pr_flags & PR_CONNREQUIRED) return -ENOTCONN;
    return -EWOULDBLOCK;
  }
  const n = sb.read(dst, off, len, peek);
  if (from !== null && so.so_pcb !== null) pr.pr_usrreqs.pru_peeraddr(so, from);
  if (!peek) sowwakeup_rcvd(so);
  return n;
}

/** After data was taken from so_rcv: tell the protocol (PR_WANTRCVD). */
function sowwakeup_rcvd(so: Socket): void {
  const pr = so.so_proto;
  if (pr.pr_flags & PR_WANTRCVD && so.so_pcb !== null && pr.pr_usrreqs.pru_rcvd !== undefined) pr.pr_usrreqs.pru_rcvd(so);
}

/** soshutdown(): SHUT_RD, SHUT_WR or SHUT_RDWR. */
export function soshutdown(so: Socket, how: number): number {
  if (how < SHUT_RD || how > SHUT_RDWR) return EINVAL;
  if (how === SHUT_RD || how === SHUT_RDWR) {
    socantrcvmore(so);
    sorflush(so);
  }
  if (how === SHUT_WR || how === SHUT_RDWR) {
    socantsendmore(so);
    return so.so_proto.pr_usrreqs.pru_shutdown(so);
  }
  return 0;
}

/** sorflush(): discard what is queued for reading. */
export function sorflush(so: Socket): void {
  so.so_rcv.sbflush();
}

/**
 * soclose(): close the descriptor.  Pending connections of a listener
 * are aborted; a connected socket disconnects (TCP keeps its PCB until
 * the connection is done and calls sofree then).
 */
export function soclose(so: Socket): number {
  let error = 0;
  if (so.so_options & SO_ACCEPTCONN) {
    for (const s of so.so_q0.splice(0)) soabort(s);
    for (const s of so.so_q.splice(0)) soabort(s);
  }
  if (so.so_pcb !== null && so.so_state & SS_ISCONNECTED && (so.so_state & SS_ISDISCONNECTING) === 0) {
    error = sodisconnect(so);
  }
  so.so_state |= SS_NOFDREF;
  so.so_upcall = null;
  if (so.so_pcb !== null) {
    const e2 = so.so_proto.pr_usrreqs.pru_detach(so);
    if (error === 0) error = e2;
  }
  sofree(so);
  return error;
}

/** soabort(): drop a queued or embryonic connection. */
export function soabort(so: Socket): void {
  so.so_proto.pr_usrreqs.pru_abort(so);
}

/**
 * sofree(): release the socket once it has neither a descriptor nor a
 * PCB.  A socket still on a listen queue is only taken off when aborted.
 */
export function sofree(so: Socket): void {
  if (so.so_pcb !== null || (so.so_state & SS_NOFDREF) === 0) return;
  if (so.so_head !== null) {
    soqremque(so);
  }
  so.so_snd.sbflush();
  so.so_rcv.sbflush();
}

/** soreserve(): reserve both buffers; receive low water 1, send low water MCLBYTES. */
export function soreserve(so: Socket, sndcc: number, rcvcc: number): number {
  if (!so.so_snd.sbreserve(sndcc)) return ENOBUFS;
  if (!so.so_rcv.sbreserve(rcvcc)) return ENOBUFS;
  so.so_snd.sb_wat = sndcc;
  so.so_rcv.sb_wat = rcvcc;
  if (so.so_rcv.sb_lowat === 0) so.so_rcv.sb_lowat = 1;
  if (so.so_snd.sb_lowat === 0) so.so_snd.sb_lowat = 2048;
  if (so.so_snd.sb_lowat > so.so_snd.sb_hiwat) so.so_snd.sb_lowat = so.so_snd.sb_hiwat;
  return 0;
}

/**
 * sonewconn(): a new socket for a connection arriving on listener head,
 * queued on so_q0 (connstatus 0) or so_q (connstatus SS_ISCONNECTED).
 * null when the queues are over 3 x so_qlimit or the protocol refuses.
 */
export function sonewconn(head: Socket, connstatus: number): Socket | null {
  if (head.so_qlen + head.so_q0len > head.so_qlimit * 3) return null;
  const so = new Socket(head.kernel, head.so_proto, head.so_euid);
  so.so_ruid = head.so_ruid;
  so.so_egid = head.so_egid;
  so.so_rgid = head.so_rgid;
  so.so_cpid = head.so_cpid;
  so.so_options = head.so_options & ~SO_ACCEPTCONN;
  so.so_linger = head.so_linger;
  so.so_state = head.so_state | SS_NOFDREF;
  so.so_rtableid = head.so_rtableid;
  if (soreserve(so, head.so_snd.sb_hiwat, head.so_rcv.sb_hiwat)) return null;
  so.so_snd.sb_wat = head.so_snd.sb_wat;
  so.so_snd.sb_lowat = head.so_snd.sb_lowat;
  so.so_snd.sb_timeo_nsecs = head.so_snd.sb_timeo_nsecs;
  so.so_snd.sb_flags = head.so_snd.sb_flags;
  so.so_rcv.sb_wat = head.so_rcv.sb_wat;
  so.so_rcv.sb_lowat = head.so_rcv.sb_lowat;
  so.so_rcv.sb_timeo_nsecs = head.so_rcv.sb_timeo_nsecs;
  so.so_rcv.sb_flags = head.so_rcv.sb_flags;
  soqinsque(head, so, connstatus ? 1 : 0);
  if (so.so_proto.pr_usrreqs.pru_attach(so, 0) !== 0) {
    soqremque(so);
    return null;
  }
  if (connstatus) {
    so.so_state |= connstatus;
    sorwakeup(head);
  }
  return so;
}

/** soqinsque(): on head's so_q0 (q 0) or so_q (q 1). */
export function soqinsque(head: Socket, so: Socket, q: number): void {
  so.so_head = head;
  if (q === 0) {
    head.so_q0.push(so);
    so.so_onq = 1;
  } else {
    head.so_q.push(so);
    so.so_onq = 2;
  }
}

/** soqremque(): off whichever listen queue so is on. */
export function soqremque(so: Socket): void {
  const head = so.so_head;
  if (head === null) return;
  const q = so.so_onq === 1 ? head.so_q0 : head.so_q;
  const i = q.indexOf(so);
  if (i >= 0) q.splice(i, 1);
  so.so_onq = 0;
  so.so_head = null;
}

/** soisconnecting() */
export function soisconnecting(so: Socket): void {
  so.so_state &= ~(SS_ISCONNECTED | SS_ISDISCONNECTING);
  so.so_state |= SS_ISCONNECTING;
}

/**
 * soisconnected(): a queued connection moves to the completed queue and
 * wakes its listener; otherwise the socket's user is woken.
 */
export function soisconnected(so: Socket): void {
  so.so_state &= ~(SS_ISCONNECTING | SS_ISDISCONNECTING | SS_ISDISCONNECTED);
  so.so_state |= SS_ISCONNECTED;
  const head = so.so_head;
  if (head !== null && so.so_onq === 1) {
    soqremque(so);
    soqinsque(head, so, 1);
    sorwakeup(head);
    return;
  }
  wakeup(so, SO_WAKE_STATE | SO_WAKE_READ | SO_WAKE_WRITE);
}

/** soisdisconnecting() */
export function soisdisconnecting(so: Socket): void {
  so.so_state &= ~SS_ISCONNECTING;
  so.so_state |= SS_ISDISCONNECTING;
  so.so_rcv.sb_state |= SS_CANTRCVMORE;
  so.so_snd.sb_state |= SS_CANTSENDMORE;
  wakeup(so, SO_WAKE_STATE | SO_WAKE_READ | SO_WAKE_WRITE);
}

/** soisdisconnected() */
export function soisdisconnected(so: Socket): void {
  so.so_state &= ~(SS_ISCONNECTING | SS_ISCONNECTED | SS_ISDISCONNECTING);
  so.so_state |= SS_ISDISCONNECTED;
  so.so_rcv.sb_state |= SS_CANTRCVMORE;
  so.so_snd.sb_state |= SS_CANTSENDMORE;
  wakeup(so, SO_WAKE_STATE | SO_WAKE_READ | SO_WAKE_WRITE);
}

/** socantsendmore() */
export function socantsendmore(so: Socket): void {
  so.so_snd.sb_state |= SS_CANTSENDMORE;
  sowwakeup(so);
}

/** socantrcvmore(): the peer will send no more (FIN received). */
export function socantrcvmore(so: Socket): void {
  so.so_rcv.sb_state |= SS_CANTRCVMORE;
  sorwakeup(so);
}

/** sorwakeup(): data (or end of data, or a connection on a listener) to read. */
export function sorwakeup(so: Socket): void {
  wakeup(so, SO_WAKE_READ);
}

/** sowwakeup(): room in so_snd. */
export function sowwakeup(so: Socket): void {
  wakeup(so, SO_WAKE_WRITE);
}

function wakeup(so: Socket, what: number): void {
  const u = so.so_upcall;
  if (u !== null) u(so, what);
}

/** soreadable(): a read would not block. */
export function soreadable(so: Socket): boolean {
  const sb = so.so_rcv;
  return sb.sb_cc >= sb.sb_lowat || sb.sb_reccnt > 0 || (sb.sb_state & SS_CANTRCVMORE) !== 0 ||
    so.so_q.length > 0 || so.so_error !== 0;
}

/** sowriteable(): a write would not block. */
export function sowriteable(so: Socket): boolean {
  const sb = so.so_snd;
  return ((sb.sbspace() >= sb.sb_lowat && ((so.so_state & SS_ISCONNECTED) !== 0 || (so.so_proto.pr_flags & PR_CONNREQUIRED) === 0)) ||
    (sb.sb_state & SS_CANTSENDMORE) !== 0 || so.so_error !== 0);
}

/**
 * sosetopt(): SOL_SOCKET options here, other levels to the protocol's
 * pr_ctloutput.  Returns 0 or an errno.
 */
export function sosetopt(so: Socket, level: number, optname: number, value: number): number {
  if (level !== SOL_SOCKET) {
    const f = so.so_proto.pr_ctloutput;
    if (f === undefined) return ENOPROTOOPT;
    return f(PRCO_SETOPT, so, level, optname, { v: value });
  }
  switch (optname) {
    case SO_DEBUG: case SO_KEEPALIVE: case SO_DONTROUTE: case SO_BROADCAST: case SO_USELOOPBACK:
    case SO_OOBINLINE: case SO_REUSEADDR: case SO_REUSEPORT: case SO_TIMESTAMP: case SO_BINDANY: case SO_ZEROIZE:
      if (value) so.so_options |= optname;
      else so.so_options &= ~optname;
      return 0;
    case SO_LINGER:
      if (value >= 0) {
        so.so_options |= SO_LINGER;
        so.so_linger = value;
      } else so.so_options &= ~SO_LINGER;
      return 0;
    case SO_SNDBUF: case SO_RCVBUF: {
      if (value < 1) return EINVAL;
      const sb = optname === SO_SNDBUF ? so.so_snd : so.so_rcv;
      if (sb.sb_state & (optname === SO_SNDBUF ? SS_CANTSENDMORE : SS_CANTRCVMORE)) return EINVAL;
      if (value > SB_MAX || !sb.sbreserve(value)) return ENOBUFS;
      sb.sb_wat = value;
      sb.sb_flags &= ~0x800;
      return 0;
    }
    case SO_SNDLOWAT: case SO_RCVLOWAT: {
      if (value < 1) return EINVAL;
      const sb = optname === SO_SNDLOWAT ? so.so_snd : so.so_rcv;
      sb.sb_lowat = value > sb.sb_hiwat ? sb.sb_hiwat : value;
      return 0;
    }
    case SO_SNDTIMEO: case SO_RCVTIMEO:
      if (value < 0) return EINVAL;
      (optname === SO_SNDTIMEO ? so.so_snd : so.so_rcv).sb_timeo_nsecs = value;
      return 0;
    case SO_RTABLE:
      so.so_rtableid = value;
      if (so.so_pcb !== null) so.so_pcb.inp_rtableid = value;
      return 0;
    default:
      return ENOPROTOOPT;
  }
}

/** sogetopt(): the option's value into val.v; 0 or an errno. */
export function sogetopt(so: Socket, level: number, optname: number, val: { v: number }): number {
  if (level !== SOL_SOCKET) {
    const f = so.so_proto.pr_ctloutput;
    if (f === undefined) return ENOPROTOOPT;
    return f(PRCO_GETOPT, so, level, optname, val);
  }
  switch (optname) {
    case SO_DEBUG: case SO_KEEPALIVE: case SO_DONTROUTE: case SO_BROADCAST: case SO_USELOOPBACK:
    case SO_OOBINLINE: case SO_REUSEADDR: case SO_REUSEPORT: case SO_TIMESTAMP: case SO_BINDANY: case SO_ZEROIZE:
    case SO_ACCEPTCONN:
      val.v = so.so_options & optname;
      return 0;
    case SO_LINGER:
      val.v = so.so_options & SO_LINGER ? so.so_linger : -1;
      return 0;
    case SO_TYPE:
      val.v = so.so_type;
      return 0;
    case SO_ERROR:
      val.v = so.so_error;
      so.so_error = 0;
      return 0;
    case SO_SNDBUF:
      val.v = so.so_snd.sb_hiwat;
      return 0;
    case SO_RCVBUF:
      val.v = so.so_rcv.sb_hiwat;
      return 0;
    case SO_SNDLOWAT:
      val.v = so.so_snd.sb_lowat;
      return 0;
    case SO_RCVLOWAT:
      val.v = so.so_rcv.sb_lowat;
      return 0;
    case SO_SNDTIMEO:
      val.v = so.so_snd.sb_timeo_nsecs;
      return 0;
    case SO_RCVTIMEO:
      val.v = so.so_rcv.sb_timeo_nsecs;
      return 0;
    case SO_RTABLE:
      val.v = so.so_rtableid;
      return 0;
    default:
      return ENOPROTOOPT;
  }
}
