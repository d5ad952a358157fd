/**
 * The BSD-like socket API for programs that run on a lab machine:
 * socket, bind, listen, accept, connect, send, recv, sendto, recvfrom,
 * shutdown, close, setsockopt/getsockopt, getsockname/getpeername, poll.
 *
 * One `Proc` is one process on one kernel: it owns a descriptor table and
 * the credentials its sockets get (so_euid, which pf's `user` matches).
 *
 * Waiting happens in virtual time.  Calls that may block (connect, accept,
 * send, recv, ...) are async: on a blocking socket the promise settles
 * when the kernel wakes the socket up (the world must be running: see
 * runWorld()); on a non-blocking socket (setNonBlocking) they settle at
 * once and throw EWOULDBLOCK when they would have slept, as a non-blocking
 * descriptor does.  Errors are SocketError objects carrying the errno and
 * OpenBSD's strerror text.
 *
 * runWorld(world, promise) runs a simulated world event by event until the
 * promise settles, letting the program's continuations run whenever a
 * socket wakeup or a timer resolved one of its waits.  In a realtime world
 * it just awaits: the world advances by itself.
 */
import type { Kernel } from '../sys/kern/kernel.js';
import type { World } from '../sys/kern/kern_clock.js';
import type { InputStream } from './io.js';
import {
  MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, SO_WAKE_READ, SO_WAKE_STATE, SO_WAKE_WRITE, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
  SS_ISCONNECTED, SS_ISCONNECTING, SS_NBIO, SS_CANTRCVMORE, soaccept, soaccept_next, sobind, soclose, soconnect,
  socreate, sogetopt, solisten, soreadable, soreceive, sosend, sosetopt, soshutdown, sowriteable, type Socket,
} from '../sys/kern/uipc_socket.js';
import { AF_INET, AF_INET6, Sockaddr } from '../sys/netinet/in_pcb.js';
import { EBADF, EINPROGRESS, EINVAL, EWOULDBLOCK, ETIMEDOUT, ECONNREFUSED, strerror } from '../sys/sys/errno.js';
import { formatIp4, formatIp6, parseIp4, parseIp6 } from '../wire/addr.js';

export {
  AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL,
};
export {
  SO_BROADCAST, SO_DEBUG, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_RCVLOWAT, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDLOWAT,
  SO_ERROR, SO_TYPE, SO_RCVTIMEO, SO_SNDTIMEO, SO_RTABLE, SHUT_RD, SHUT_WR, SHUT_RDWR,
} from '../sys/kern/uipc_socket.js';

export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** TCP_NODELAY (level IPPROTO_TCP), passed to the protocol's pr_ctloutput. */
export const TCP_NODELAY = 0x01;
export const TCP_MAXSEG = 0x02;

/** A socket address as programs write it. */
export interface SockAddr {
  address: string;
  port: number;
}

/** An error of a socket call: errno and OpenBSD's text. */
export class SocketError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(`${syscall}: ${strerror(errno)}`);
    this.name = 'SocketError';
  }

  /** Node-style code: 'EADDRINUSE', 'EWOULDBLOCK' (EAGAIN has the same number)... */
  get code(): string {
    return ERRNO_NAMES[this.errno] ?? `E${this.errno}`;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 9: 'EBADF', 13: 'EACCES', 22: 'EINVAL', 32: 'EPIPE', 35: 'EWOULDBLOCK', 36: 'EINPROGRESS', 37: 'EALREADY',
  38: 'ENOTSOCK', 39: 'EDESTADDRREQ', 40: 'EMSGSIZE', 41: 'EPROTOTYPE', 42: 'ENOPROTOOPT', 43: 'EPROTONOSUPPORT',
  45: 'EOPNOTSUPP', 47: 'EAFNOSUPPORT', 48: 'EADDRINUSE', 49: 'EADDRNOTAVAIL', 50: 'ENETDOWN', 51: 'ENETUNREACH',
  53: 'ECONNABORTED', 54: 'ECONNRESET', 55: 'ENOBUFS', 56: 'EISCONN', 57: 'ENOTCONN', 60: 'ETIMEDOUT',
  61: 'ECONNREFUSED', 64: 'EHOSTDOWN', 65: 'EHOSTUNREACH',
};

/**
 * sockaddr from text: IPv4 dotted quad or IPv6 (a `%scope`, an interface
 * name of k or an index, goes to sin6_scope_id); '' or '*' is the
 * wildcard of family.
 */
export function toSockaddr(a: SockAddr, family = AF_INET, k?: Kernel): Sockaddr {
  const s = new Sockaddr();
  s.port = a.port;
  const text = a.address;
  if (text === '' || text === '*') {
    s.family = family;
    return s;
  }
  if (text.includes(':')) {
    const b = parseIp6(text);
    if (b === null) throw new SocketError('getaddrinfo', EINVAL);
    s.family = AF_INET6;
    s.addr6.set(b);
    const pct = text.indexOf('%');
    if (pct >= 0) {
      const z = text.slice(pct + 1);
      const idx = /^\d+$/.test(z) ? Number(z) : (k?.ifnets.find((ifp) => ifp !== undefined && ifp.if_xname === z)?.if_index ?? 0);
      if (idx === 0) throw new SocketError('getaddrinfo', EINVAL);
      s.scope_id = idx;
    }
    return s;
  }
  const v = parseIp4(text);
  if (v < 0) throw new SocketError('getaddrinfo', EINVAL);
  s.family = AF_INET;
  s.addr = v;
  return s;
}

/** Text of a sockaddr; an IPv6 scope as `%ifname` (getnameinfo's form), by index without k. */
export function fromSockaddr(s: Sockaddr, k?: Kernel): SockAddr {
  if (s.family !== AF_INET6) return { address: formatIp4(s.addr), port: s.port };
  let address = formatIp6(s.addr6, 0);
  if (s.scope_id !== 0) address += `%${k?.ifnets[s.scope_id]?.if_xname ?? String(s.scope_id)}`;
  return { address, port: s.port };
}

// ---- waiting in virtual time ----

/** The scheduler state of one world: set when a wait was resolved, so runWorld lets programs run. */
interface Sched {
  woken: boolean;
}
const scheds = new WeakMap<World, Sched>();

function sched(w: World): Sched {
  let s = scheds.get(w);
  if (s === undefined) {
    s = { woken: false };
    scheds.set(w, s);
  }
  return s;
}

/** Mark that a program may continue (called when one of its waits resolves). */
export function worldWoken(w: World): void {
  sched(w).woken = true;
}

/** Take the mark worldWoken() set (lib/wait.ts runs the world as runWorld does). */
export function worldTakeWoken(w: World): boolean {
  const s = sched(w);
  const v = s.woken;
  s.woken = false;
  return v;
}

const yieldToPrograms = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Run the world until p settles.  Simulated worlds run event by event,
 * yielding to programs after each event that woke one; when nothing is left
 * to happen and p is still pending, that is a deadlock and it throws.
 * `limitNs` bounds virtual time (default: an hour).
 */
export async function runWorld<T>(world: World, p: Promise<T>, limitNs = 3600e9): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  let failed = false;
  p.then(
    (v) => {
      done = true;
      value = v;
    },
    (e: unknown) => {
      done = true;
      failed = true;
      error = e;
    },
  );
  if (world.isRunning || world.mode === 'realtime') return p;
  const s = sched(world);
  const end = world.now + limitNs;
  await yieldToPrograms();
  while (!done) {
    if (s.woken) {
      s.woken = false;
      await yieldToPrograms();
      continue;
    }
    if (world.idle) {
      await yieldToPrograms();
      if (done || s.woken) continue;
      throw new Error('runWorld: deadlock: the program waits and nothing is left to happen');
    }
    if ((world.nextEventTime() ?? Infinity) > end) throw new Error('runWorld: virtual time limit reached');
    world.step();
  }
  if (failed) throw error;
  return value as T;
}

/** Sleep ns of virtual time. */
export function sleep(world: World, ns: number): Promise<void> {
  return new Promise((resolve) => {
    world.after(ns, () => {
      worldWoken(world);
      resolve();
    });
  });
}

// ---- descriptors ----

interface Waiter {
  what: number;
  resolve: () => void;
}

/** A descriptor: the socket, its O_NONBLOCK, and the waits on it. */
class File {
  readonly waiters: Waiter[] = [];
  constructor(
    readonly so: Socket,
    readonly world: World,
  ) {
    so.so_user = this;
    so.so_upcall = upcall;
  }

  wait(what: number, timeoutNs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: { del(): boolean } | null = null;
      const w: Waiter = {
        what,
        resolve: () => {
          if (timer !== null) timer.del();
          resolve(true);
        },
      };
      this.waiters.push(w);
      if (timeoutNs > 0) {
        timer = this.world.after(timeoutNs, () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          worldWoken(this.world);
          resolve(false);
        });
      }
    });
  }
}

function upcall(so: Socket, what: number): void {
  const f = so.so_user as File | null;
  if (f === null) return;
  if (f.waiters.length === 0) {
    // Nobody waits yet: the program is on its way to its poll.  News it
    // must not miss (connected, refused, reset, an error) lets it run before
    // the next event; plain data and window updates do not (they would cost
    // a yield per segment), its poll finds them.
    if (what & SO_WAKE_STATE || so.so_error !== 0) worldWoken(f.world);
    return;
  }
  let any = false;
  for (let i = 0; i < f.waiters.length;) {
    const w = f.waiters[i]!;
    if (w.what & what || what & SO_WAKE_STATE) {
      f.waiters.splice(i, 1);
      w.resolve();
      any = true;
    } else i++;
  }
  if (any) worldWoken(f.world);
}

export interface ProcOptions {
  uid?: number;
  gid?: number;
  pid?: number;
  /** Descriptor 0 (STDIN_FILENO) as poll() sees it; none: at its end. */
  stdin?: InputStream;
}

/** The descriptor of standard input. */
export const STDIN_FILENO = 0;

/** One process on a kernel: descriptors and credentials. */
export class Proc {
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  private readonly fds: Array<File | undefined> = [];
  /** The world's clock. */
  readonly world: World;
  private readonly stdin: InputStream | null;

  constructor(
    readonly kernel: Kernel,
    opts: ProcOptions = {},
  ) {
    this.uid = opts.uid ?? 0;
    this.gid = opts.gid ?? 0;
    this.pid = opts.pid ?? 1;
    this.stdin = opts.stdin ?? null;
    this.world = kernel.world;
    // 0, 1, 2 are the standard descriptors of a process.
    this.fds.push(undefined, undefined, undefined);
  }

  private file(fd: number, syscall: string): File {
    const f = this.fds[fd];
    if (f === undefined) throw new SocketError(syscall, EBADF);
    return f;
  }

  /** The kernel socket behind fd (for tools and tests). */
  sock(fd: number): Socket {
    return this.file(fd, 'fd').so;
  }

  private newFd(so: Socket): number {
    so.so_cpid = this.pid;
    so.so_egid = this.gid;
    so.so_rgid = this.gid;
    const f = new File(so, this.world);
    let fd = this.fds.indexOf(undefined, 3);
    if (fd < 0) {
      fd = this.fds.length;
      this.fds.push(f);
    } else this.fds[fd] = f;
    return fd;
  }

  socket(domain: number, type: number, protocol = 0): number {
    const r = socreate(this.kernel, domain, type & 0xff, protocol, this.uid);
    if (typeof r === 'number') throw new SocketError('socket', r);
    if (type & SOCK_NONBLOCK) r.so_state |= SS_NBIO;
    return this.newFd(r);
  }

  setNonBlocking(fd: number, on = true): void {
    const so = this.file(fd, 'fcntl').so;
    if (on) so.so_state |= SS_NBIO;
    else so.so_state &= ~SS_NBIO;
  }

  bind(fd: number, addr: SockAddr): void {
    const so = this.file(fd, 'bind').so;
    const e = sobind(so, toSockaddr(addr, so.so_proto.pr_domain, this.kernel));
    if (e) throw new SocketError('bind', e);
  }

  listen(fd: number, backlog = 128): void {
    const e = solisten(this.file(fd, 'listen').so, backlog);
    if (e) throw new SocketError('listen', e);
  }

  /** connect(2): datagram sockets connect at once; stream sockets wait for the handshake unless non-blocking (EINPROGRESS). */
  async connect(fd: number, addr: SockAddr): Promise<void> {
    const f = this.file(fd, 'connect');
    const so = f.so;
    const e = soconnect(so, toSockaddr(addr, so.so_proto.pr_domain, this.kernel));
    if (e) throw new SocketError('connect', e);
    if ((so.so_state & SS_ISCONNECTING) === 0) return;
    if (so.so_state & SS_NBIO) throw new SocketError('connect', EINPROGRESS);
    while (so.so_state & SS_ISCONNECTING && so.so_error === 0) await f.wait(SO_WAKE_STATE, 0);
    if (so.so_error) {
      const err = so.so_error;
      so.so_error = 0;
      throw new SocketError('connect', err);
    }
    if ((so.so_state & SS_ISCONNECTED) === 0) throw new SocketError('connect', ECONNREFUSED);
  }

  /** accept(2): the next connection's descriptor and peer. */
  async accept(fd: number): Promise<{ fd: number; addr: SockAddr }> {
    const f = this.file(fd, 'accept');
    const head = f.so;
    for (;;) {
      if (head.so_error) {
        const e = head.so_error;
        head.so_error = 0;
        throw new SocketError('accept', e);
      }
      const so = soaccept_next(head);
      if (so !== null) {
        const nam = new Sockaddr();
        const e = soaccept(so, nam);
        if (e) throw new SocketError('accept', e);
        return { fd: this.newFd(so), addr: fromSockaddr(nam, this.kernel) };
      }
      if (head.so_state & SS_NBIO) throw new SocketError('accept', EWOULDBLOCK);
      await f.wait(SO_WAKE_READ, 0);
    }
  }

  /** send(2) */
  send(fd: number, data: Uint8Array | string, flags = 0): Promise<number> {
    return this.sendto(fd, data, null, flags);
  }

  /**
   * sendto(2): datagram sockets send one datagram; stream sockets write all
   * of data, waiting for room (non-blocking: what fits, or EWOULDBLOCK).
   */
  async sendto(fd: number, data: Uint8Array | string, addr: SockAddr | null, flags = 0): Promise<number> {
    const f = this.file(fd, 'sendto');
    const so = f.so;
    const buf = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const nam = addr === null ? null : toSockaddr(addr, so.so_proto.pr_domain, this.kernel);
    const nbio = (so.so_state & SS_NBIO) !== 0 || (flags & MSG_DONTWAIT) !== 0;
    let done = 0;
    for (;;) {
      const n = sosend(so, nam, buf, done, buf.length - done, flags);
      if (n >= 0) {
        done += n;
        if (done >= buf.length || so.so_type === SOCK_DGRAM) return so.so_type === SOCK_DGRAM ? n : done;
        if (nbio) return done;
      } else if (n !== -EWOULDBLOCK) {
        if (done > 0) return done;
        throw new SocketError(addr === null ? 'send' : 'sendto', -n);
      } else if (nbio) {
        if (done > 0) return done;
        throw new SocketError(addr === null ? 'send' : 'sendto', EWOULDBLOCK);
      }
      if (!(await f.wait(SO_WAKE_WRITE, so.so_snd.sb_timeo_nsecs))) {
        if (done > 0) return done;
        throw new SocketError('send', EWOULDBLOCK);
      }
    }
  }

  /** recv(2): up to len bytes (0: end of stream). */
  async recv(fd: number, len = 65536, flags = 0): Promise<Uint8Array> {
    return (await this.recvfrom(fd, len, flags)).data;
  }

  /** recvfrom(2): data and the sender (datagrams) or peer (streams). */
  async recvfrom(fd: number, len = 65536, flags = 0): Promise<{ data: Uint8Array; addr: SockAddr; truncated: boolean }> {
    const f = this.file(fd, 'recvfrom');
    const so = f.so;
    const buf = new Uint8Array(len);
    const from = new Sockaddr();
    const fo = { v: 0 };
    const nbio = (so.so_state & SS_NBIO) !== 0 || (flags & MSG_DONTWAIT) !== 0;
    let got = 0;
    for (;;) {
      const n = soreceive(so, buf, got, len - got, from, flags & MSG_PEEK, fo);
      if (n >= 0) {
        got += n;
        const stream = so.so_type === SOCK_STREAM;
        if (!stream || !(flags & MSG_WAITALL) || got >= len || n === 0 || so.so_rcv.sb_state & SS_CANTRCVMORE) {
          return { data: buf.subarray(0, got), addr: fromSockaddr(from, this.kernel), truncated: (fo.v & 0x10) !== 0 };
        }
      } else if (n !== -EWOULDBLOCK) {
        if (got > 0) return { data: buf.subarray(0, got), addr: fromSockaddr(from, this.kernel), truncated: false };
        throw new SocketError('recvfrom', -n);
      } else if (nbio) {
        if (got > 0) return { data: buf.subarray(0, got), addr: fromSockaddr(from, this.kernel), truncated: false };
        throw new SocketError('recvfrom', EWOULDBLOCK);
      }
      if (!(await f.wait(SO_WAKE_READ, so.so_rcv.sb_timeo_nsecs))) {
        if (got > 0) return { data: buf.subarray(0, got), addr: fromSockaddr(from, this.kernel), truncated: false };
        throw new SocketError('recvfrom', EWOULDBLOCK);
      }
    }
  }

  shutdown(fd: number, how: number): void {
    const e = soshutdown(this.file(fd, 'shutdown').so, how);
    if (e) throw new SocketError('shutdown', e);
  }

  close(fd: number): void {
    const f = this.file(fd, 'close');
    this.fds[fd] = undefined;
    for (const w of f.waiters.splice(0)) w.resolve();
    soclose(f.so);
  }

  /** setsockopt(2) with an integer value (SO_LINGER: seconds, -1 off). */
  setsockopt(fd: number, level: number, optname: number, value: number | boolean): void {
    const e = sosetopt(this.file(fd, 'setsockopt').so, level, optname, typeof value === 'boolean' ? (value ? 1 : 0) : value);
    if (e) throw new SocketError('setsockopt', e);
  }

  getsockopt(fd: number, level: number, optname: number): number {
    const v = { v: 0 };
    const e = sogetopt(this.file(fd, 'getsockopt').so, level, optname, v);
    if (e) throw new SocketError('getsockopt', e);
    return v.v;
  }

  getsockname(fd: number): SockAddr {
    const so = this.file(fd, 'getsockname').so;
    const s = new Sockaddr();
    const e = so.so_proto.pr_usrreqs.pru_sockaddr(so, s);
    if (e) throw new SocketError('getsockname', e);
    return fromSockaddr(s, this.kernel);
  }

  getpeername(fd: number): SockAddr {
    const so = this.file(fd, 'getpeername').so;
    if ((so.so_state & SS_ISCONNECTED) === 0) throw new SocketError('getpeername', 57);
    const s = new Sockaddr();
    const e = so.so_proto.pr_usrreqs.pru_peeraddr(so, s);
    if (e) throw new SocketError('getpeername', e);
    return fromSockaddr(s, this.kernel);
  }

  /**
   * poll(2) on read (POLLIN) / write (POLLOUT) readiness: the descriptors
   * ready, waiting up to timeoutNs (-1: forever, 0: just look).
   */
  async poll(fds: ReadonlyArray<{ fd: number; events: number }>, timeoutNs = -1): Promise<Array<{ fd: number; revents: number }>> {
    const world = this.world;
    let expired = false;
    let timer: { del(): boolean } | null = null;
    let wake: (() => void) | null = null;
    if (timeoutNs > 0) {
      timer = world.after(timeoutNs, () => {
        expired = true;
        worldWoken(world);
        if (wake !== null) wake();
      });
    }
    for (;;) {
      const out: Array<{ fd: number; revents: number }> = [];
      for (const p of fds) {
        if (p.fd === STDIN_FILENO) {
          // Standard input: readable when bytes or its end are there.
          if (p.events & POLLIN && (this.stdin === null || this.stdin.ready())) out.push({ fd: p.fd, revents: POLLIN });
          continue;
        }
        const so = this.file(p.fd, 'poll').so;
        let re = 0;
        if (p.events & POLLIN && soreadable(so)) re |= POLLIN;
        if (p.events & POLLOUT && sowriteable(so)) re |= POLLOUT;
        if (so.so_rcv.sb_state & SS_CANTRCVMORE && so.so_type === SOCK_STREAM && so.so_rcv.sb_cc === 0 && (so.so_state & SS_ISCONNECTED) === 0) re |= POLLHUP;
        if (re) out.push({ fd: p.fd, revents: re });
      }
      if (out.length > 0 || expired || timeoutNs === 0) {
        if (timer !== null) timer.del();
        return out;
      }
      let once: (() => void) | null = null;
      let cancelStdin: (() => void) | null = null;
      await new Promise<void>((resolve) => {
        let settled = false;
        once = (): void => {
          if (settled) return;
          settled = true;
          resolve();
        };
        wake = once;
        for (const p of fds) {
          if (p.fd === STDIN_FILENO) {
            const woke = once;
            cancelStdin = this.stdin!.wait(() => {
              worldWoken(world);
              woke();
            });
            continue;
          }
          const f = this.file(p.fd, 'poll');
          f.waiters.push({ what: (p.events & POLLIN ? SO_WAKE_READ : 0) | (p.events & POLLOUT ? SO_WAKE_WRITE : 0) | SO_WAKE_STATE, resolve: once });
        }
      });
      wake = null;
      // Forget the waits that did not fire.
      if (cancelStdin !== null) (cancelStdin as () => void)();
      for (const p of fds) {
        const f = this.fds[p.fd];
        if (f === undefined) continue;
        for (let i = f.waiters.length - 1; i >= 0; i--) if (f.waiters[i]!.resolve === once) f.waiters.splice(i, 1);
      }
    }
  }

  /** Sleep in virtual time. */
  sleep(ns: number): Promise<void> {
    return sleep(this.world, ns);
  }
}

/** socket(2) type flag: non-blocking from the start. */
export const SOCK_NONBLOCK = 0x4000;
export const POLLIN = 0x0001;
export const POLLOUT = 0x0004;
export const POLLHUP = 0x0010;

export { ETIMEDOUT };
