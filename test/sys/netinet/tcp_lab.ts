/**
 * TCP scenario helpers: two hosts on em(4) NICs joined by one cable (or
 * through a router), sockets made with the socket layer's calls, a bulk
 * sender/receiver pair driven by socket upcalls, and counter access.
 */
import { createHash } from 'node:crypto';
import { World } from '../../../src/sys/kern/kern_clock.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import type { CableOptions } from '../../../src/sys/dev/cable.js';
import {
  socreate, sobind, solisten, soconnect, soaccept_next, sosend, soreceive, soclose, SOCK_STREAM,
  SO_WAKE_READ, SO_WAKE_WRITE, type Socket,
} from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { host, wire, ip, type Host } from './lab.js';
import type { Tcpcb } from '../../../src/sys/netinet/tcp_var.js';

export { ip };

export interface Pair {
  world: World;
  a: Host;
  b: Host;
  aAddr: number;
  bAddr: number;
}

/** a (192.0.2.1) and b (192.0.2.2) on one cable. */
export function pair(seed = 1, opts: CableOptions = {}, optsBA?: CableOptions): Pair {
  const world = new World({ seed });
  const a = host(world, 'a', ['192.0.2.1/24']);
  const b = host(world, 'b', ['192.0.2.2/24']);
  wire(world, a.ifs[0]!, b.ifs[0]!, { delay: 50_000, ...opts });
  void optsBA;
  world.runFor(1e6);
  return { world, a, b, aAddr: ip('192.0.2.1'), bAddr: ip('192.0.2.2') };
}

export function tcpSocket(k: Kernel): Socket {
  const so = socreate(k, AF_INET, SOCK_STREAM, 0);
  if (typeof so === 'number') throw new Error(`socreate: errno ${so}`);
  return so;
}

export function listener(k: Kernel, port: number, backlog = 5, addr = 0): Socket {
  const so = tcpSocket(k);
  const e1 = sobind(so, Sockaddr.in(addr, port));
  if (e1) throw new Error(`bind: errno ${e1}`);
  const e2 = solisten(so, backlog);
  if (e2) throw new Error(`listen: errno ${e2}`);
  return so;
}

export function connect(k: Kernel, addr: number, port: number): Socket {
  const so = tcpSocket(k);
  const e = soconnect(so, Sockaddr.in(addr, port));
  if (e) throw new Error(`connect: errno ${e}`);
  return so;
}

export function tp(so: Socket): Tcpcb {
  return so.so_pcb!.inp_ppcb as Tcpcb;
}

export function tcpstat(k: Kernel, name: string): number {
  return k.stats.tcpstat.value(name);
}

/** Deterministic payload of n bytes. */
export function payload(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Push `data` through `so` as fast as the send buffer allows (writes on
 * every write wakeup), then shutdown(SHUT_WR) or close when done.
 */
export function pump(so: Socket, data: Uint8Array, after: 'close' | 'none' = 'close'): { sent: () => number } {
  let off = 0;
  let done = false;
  const write = (): void => {
    while (off < data.length) {
      const n = sosend(so, null, data, off, data.length - off);
      if (n <= 0) break;
      off += n;
    }
    if (off === data.length && !done) {
      done = true;
      if (after === 'close') soclose(so);
    }
  };
  const prev = so.so_upcall;
  so.so_upcall = (s, what) => {
    if (prev) prev(s, what);
    if (!done && what & (SO_WAKE_WRITE)) write();
  };
  write();
  return { sent: () => off };
}

/** Read everything from so into a growing buffer; eof when the peer closed. */
export function drain(so: Socket): { bytes: () => Uint8Array; eof: () => boolean; error: () => number } {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let eof = false;
  let err = 0;
  const buf = new Uint8Array(65536);
  const read = (): void => {
    for (;;) {
      const n = soreceive(so, buf, 0, buf.length, null);
      if (n > 0) {
        chunks.push(buf.slice(0, n));
        total += n;
        continue;
      }
      if (n === 0) eof = true;
      else if (n !== -35) err = -n;
      break;
    }
  };
  so.so_upcall = (_s, what) => {
    if (what & SO_WAKE_READ) read();
  };
  read();
  return {
    bytes: () => {
      const out = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    },
    eof: () => eof,
    error: () => err,
  };
}

/** Accept the next connection of a listener (null when none is queued). */
export function accept(so: Socket): Socket | null {
  return soaccept_next(so);
}

export { wire, host };
