/**
 * A node:net / node:dgram-like API over a lab machine's sockets, so a
 * program written against Node's networking runs on packetflow:
 *
 *   const net = netOf(kernel);
 *   const server = net.createServer((sock) => sock.pipe(sock));
 *   server.listen(7);
 *   const c = net.createConnection({ host: '198.51.100.20', port: 7 });
 *   const u = net.createSocket('udp4');   // dgram
 *
 * Sockets are node:stream Duplex objects (TCP) and EventEmitters (UDP)
 * backed by the BSD-like API (socket.ts).  Everything happens in virtual
 * time: in a simulated world, drive it with runWorld(world, promise) (or
 * world.runFor() for fire-and-forget traffic), e.g.
 * `await runWorld(world, once(c, 'end'))`.
 */
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import type { Kernel } from '../sys/kern/kernel.js';
import {
  Proc, SocketError, AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF,
  SO_REUSEADDR, SO_REUSEPORT, SHUT_WR, IPPROTO_TCP, TCP_NODELAY, type SockAddr, type ProcOptions,
} from './socket.js';
import { EPIPE } from '../sys/sys/errno.js';

export { runWorld } from './socket.js';

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

function famOf(address: string): 'IPv4' | 'IPv6' {
  return address.includes(':') ? 'IPv6' : 'IPv4';
}

function info(a: SockAddr, v6: boolean): AddressInfo {
  const address = a.address === '*' || (a.address === '0.0.0.0' && !v6) ? (v6 ? '::' : '0.0.0.0') : a.address;
  return { address, family: v6 ? 'IPv6' : famOf(address), port: a.port };
}

/** Node's errno names are not OpenBSD's numbers: keep OpenBSD's errno, Node's code and message shape. */
export type NodeNetError = Error & { code: string; errno: number; syscall: string; address?: string; port?: number };

/** A node:net-style error from a socket call: `connect ECONNREFUSED 198.51.100.20:7`. */
export function netError(e: unknown, syscall: string, address?: string, port?: number): Error {
  if (!(e instanceof SocketError)) return e as Error;
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const err = new Error(`${syscall} ${e.code}${where}`) as NodeNetError;
  err.code = e.code;
  err.errno = e.errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/**
 * A TCP connection as a Duplex stream (net.Socket).  Writes and reads
 * made before the handshake completes wait for it, as node:net queues
 * them; write() returns false past the stream's highWaterMark and 'drain'
 * follows once the kernel's send buffer took the data.
 */
export class NetSocket extends Duplex {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: 'IPv4' | 'IPv6' | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  localFamily: 'IPv4' | 'IPv6' | undefined;
  /** Bytes handed to the kernel and bytes received, as net.Socket counts them. */
  bytesWritten = 0;
  bytesRead = 0;
  connecting = false;
  private reading = false;
  private fdClosed = false;
  private waitConnect: Promise<void> | null = null;

  constructor(
    private readonly proc: Proc,
    private fd: number,
  ) {
    super({ allowHalfOpen: false });
  }

  /** @internal The connect in progress: I/O waits for it. */
  connectingWith(p: Promise<void>): void {
    this.connecting = true;
    this.waitConnect = p.then(
      () => {
        this.connecting = false;
        this.waitConnect = null;
      },
      () => {
        this.connecting = false;
      },
    );
  }

  /** @internal */ attached(): void {
    const l = this.proc.getsockname(this.fd);
    this.localAddress = l.address;
    this.localPort = l.port;
    this.localFamily = famOf(l.address);
    try {
      const r = this.proc.getpeername(this.fd);
      this.remoteAddress = r.address;
      this.remotePort = r.port;
      this.remoteFamily = famOf(r.address);
    } catch {
      // not connected yet
    }
  }

  override _read(): void {
    if (this.reading || this.fdClosed) return;
    this.reading = true;
    void (async () => {
      try {
        if (this.waitConnect !== null) await this.waitConnect;
        while (!this.fdClosed) {
          const d = await this.proc.recv(this.fd, 65536);
          if (this.fdClosed) break;
          if (d.length === 0) {
            this.push(null);
            break;
          }
          this.bytesRead += d.length;
          if (!this.push(Buffer.from(d))) break;
        }
      } catch (e) {
        if (!this.fdClosed) this.destroy(netError(e, 'read'));
      } finally {
        this.reading = false;
      }
    })();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const go = (): void => {
      if (this.fdClosed) {
        cb(netError(new SocketError('write', EPIPE), 'write'));
        return;
      }
      this.proc.send(this.fd, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(
        (n) => {
          this.bytesWritten += n;
          cb();
        },
        (e: unknown) => cb(netError(e, 'write')),
      );
    };
    if (this.waitConnect !== null) this.waitConnect.then(go, () => cb());
    else go();
  }

  override _final(cb: (e?: Error | null) => void): void {
    const go = (): void => {
      try {
        if (!this.fdClosed) this.proc.shutdown(this.fd, SHUT_WR);
        cb();
      } catch (e) {
        cb(netError(e, 'shutdown'));
      }
    };
    if (this.waitConnect !== null) this.waitConnect.then(go, () => cb());
    else go();
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    if (!this.fdClosed) {
      this.fdClosed = true;
      try {
        this.proc.close(this.fd);
      } catch {
        // already closed
      }
    }
    cb(err);
  }

  setNoDelay(noDelay = true): this {
    this.proc.setsockopt(this.fd, IPPROTO_TCP, TCP_NODELAY, noDelay);
    return this;
  }

  address(): AddressInfo {
    return info(this.proc.getsockname(this.fd), false);
  }

  /** @internal */ get descriptor(): number {
    return this.fd;
  }
}

export class NetServer extends EventEmitter {
  private fd = -1;
  private closed = false;

  constructor(
    private readonly proc: Proc,
    listener?: (s: NetSocket) => void,
  ) {
    super();
    if (listener) this.on('connection', listener);
  }

  listen(port: number, host?: string | (() => void), cb?: () => void): this {
    if (typeof host === 'function') {
      cb = host;
      host = undefined;
    }
    const v6 = host !== undefined && host.includes(':');
    try {
      this.fd = this.proc.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM);
      this.proc.setsockopt(this.fd, SOL_SOCKET, SO_REUSEADDR, 1);
      this.proc.bind(this.fd, { address: host ?? '*', port });
      this.proc.listen(this.fd, 511);
    } catch (e) {
      const err = netError(e, 'listen', host ?? (v6 ? '::' : '0.0.0.0'), port);
      queueMicrotask(() => this.emit('error', err));
      return this;
    }
    if (cb) this.once('listening', cb);
    queueMicrotask(() => this.emit('listening'));
    void this.acceptLoop();
    return this;
  }

  private async acceptLoop(): Promise<void> {
    while (!this.closed) {
      try {
        const c = await this.proc.accept(this.fd);
        if (this.closed) {
          this.proc.close(c.fd);
          return;
        }
        const s = new NetSocket(this.proc, c.fd);
        s.attached();
        this.emit('connection', s);
      } catch (e) {
        if (!this.closed) this.emit('error', netError(e, 'accept'));
        return;
      }
    }
  }

  address(): AddressInfo | null {
    if (this.fd < 0 || this.closed) return null;
    const a = this.proc.getsockname(this.fd);
    return info(a, a.address.includes(':'));
  }

  close(cb?: () => void): this {
    if (!this.closed) {
      this.closed = true;
      if (this.fd >= 0) this.proc.close(this.fd);
    }
    queueMicrotask(() => {
      this.emit('close');
      cb?.();
    });
    return this;
  }
}

export interface ConnectOptions {
  host?: string;
  port: number;
  localAddress?: string;
  localPort?: number;
  noDelay?: boolean;
}

export type RemoteInfo = AddressInfo & { size: number };

/** A UDP socket (dgram.Socket). */
export class DgramSocket extends EventEmitter {
  private fd: number;
  private bound = false;
  private closed = false;

  constructor(
    private readonly proc: Proc,
    readonly type: 'udp4' | 'udp6',
    listener?: (msg: Buffer, rinfo: RemoteInfo) => void,
  ) {
    super();
    this.fd = proc.socket(type === 'udp6' ? AF_INET6 : AF_INET, SOCK_DGRAM);
    if (listener) this.on('message', listener);
  }

  bind(port = 0, address?: string | (() => void), cb?: () => void): this {
    if (typeof address === 'function') {
      cb = address;
      address = undefined;
    }
    try {
      this.proc.bind(this.fd, { address: address ?? '*', port });
    } catch (e) {
      queueMicrotask(() => this.emit('error', e));
      return this;
    }
    this.startReceiving();
    if (cb) this.once('listening', cb);
    queueMicrotask(() => this.emit('listening'));
    return this;
  }

  private startReceiving(): void {
    if (this.bound) return;
    this.bound = true;
    void (async () => {
      while (!this.closed) {
        try {
          const r = await this.proc.recvfrom(this.fd, 65536);
          if (this.closed) return;
          this.emit('message', Buffer.from(r.data), { ...info(r.addr, this.type === 'udp6'), size: r.data.length });
        } catch (e) {
          if (this.closed) return;
          if (e instanceof SocketError) this.emit('error', e);
          else throw e;
        }
      }
    })();
  }

  /** send(msg, port, address, cb) or, when connected, send(msg, cb). */
  send(msg: Uint8Array | string, port?: number | ((e: Error | null, n?: number) => void), address?: string, cb?: (e: Error | null, n?: number) => void): void {
    if (typeof port === 'function') {
      cb = port;
      port = undefined;
    }
    const to = port === undefined ? null : { address: address ?? (this.type === 'udp6' ? '::1' : '127.0.0.1'), port };
    const p = this.proc.sendto(this.fd, msg, to);
    // Sending binds an ephemeral port: start receiving on it.
    this.startReceiving();
    p.then((n) => cb?.(null, n), (e: Error) => (cb ? cb(e) : this.emit('error', e)));
  }

  connect(port: number, address?: string, cb?: () => void): void {
    const to = { address: address ?? (this.type === 'udp6' ? '::1' : '127.0.0.1'), port };
    this.proc.connect(this.fd, to).then(() => {
      this.startReceiving();
      this.emit('connect');
      cb?.();
    }, (e: Error) => this.emit('error', e));
  }

  address(): AddressInfo {
    return info(this.proc.getsockname(this.fd), this.type === 'udp6');
  }

  remoteAddress(): AddressInfo {
    return info(this.proc.getpeername(this.fd), this.type === 'udp6');
  }

  setBroadcast(flag: boolean): void {
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_BROADCAST, flag);
  }

  setRecvBufferSize(n: number): void {
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, n);
  }

  setSendBufferSize(n: number): void {
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_SNDBUF, n);
  }

  getRecvBufferSize(): number {
    return this.proc.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF);
  }

  /** SO_REUSEPORT / SO_REUSEADDR before bind (dgram's reuseAddr option). */
  setReuse(addr: boolean, port: boolean): void {
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_REUSEADDR, addr);
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_REUSEPORT, port);
  }

  close(cb?: () => void): void {
    if (this.closed) return;
    this.closed = true;
    this.proc.close(this.fd);
    queueMicrotask(() => {
      this.emit('close');
      cb?.();
    });
  }
}

/** The node:net / node:dgram-like functions of one process on kernel k. */
export interface NetApi {
  readonly proc: Proc;
  createServer(listener?: (s: NetSocket) => void): NetServer;
  createConnection(opts: ConnectOptions, cb?: () => void): NetSocket;
  connect(opts: ConnectOptions, cb?: () => void): NetSocket;
  createSocket(type: 'udp4' | 'udp6' | { type: 'udp4' | 'udp6'; reuseAddr?: boolean }, listener?: (msg: Buffer, rinfo: RemoteInfo) => void): DgramSocket;
}

export function netOf(k: Kernel, opts: ProcOptions = {}): NetApi {
  const proc = new Proc(k, opts);
  const createConnection = (o: ConnectOptions, cb?: () => void): NetSocket => {
    const host = o.host ?? '127.0.0.1';
    const fd = proc.socket(host.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM);
    const s = new NetSocket(proc, fd);
    if (cb) s.once('connect', cb);
    const connecting = (async () => {
      let syscall = 'bind';
      try {
        if (o.localAddress !== undefined || o.localPort !== undefined) proc.bind(fd, { address: o.localAddress ?? '*', port: o.localPort ?? 0 });
        if (o.noDelay) proc.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        syscall = 'connect';
        await proc.connect(fd, { address: host, port: o.port });
      } catch (e) {
        throw syscall === 'connect' ? netError(e, 'connect', host, o.port) : netError(e, 'bind', o.localAddress, o.localPort);
      }
    })();
    s.connectingWith(connecting);
    connecting.then(
      () => {
        s.attached();
        s.emit('connect');
        s.emit('ready');
      },
      (e: Error) => s.destroy(e),
    );
    return s;
  };
  return {
    proc,
    createServer: (l) => new NetServer(proc, l),
    createConnection,
    connect: createConnection,
    createSocket: (t, l) => {
      const type = typeof t === 'string' ? t : t.type;
      const d = new DgramSocket(proc, type, l);
      if (typeof t !== 'string' && t.reuseAddr) d.setReuse(true, true);
      return d;
    },
  };
}
