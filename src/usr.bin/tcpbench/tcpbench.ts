/**
 * tcpbench(1) (usr.bin/tcpbench/tcpbench.c) on a lab machine, TCP only:
 * a client (`tcpbench [-n conns] host`) writing as fast as the socket
 * takes data and a server (`tcpbench -s`) reading, both printing
 * tcpbench.c's periodic report every -r ms of virtual time:
 *
 *     elapsed_ms          bytes         mbps   bwidth
 *           1000       12345678       98.765  100.00%
 *   Conn:   1 Mbps:       98.765 Peak Mbps:       98.765 Avg Mbps:       98.765
 *
 * and its summary at the end ("--- HOST tcpbench statistics ---").
 *
 * SIGINT (opts.signal: Ctrl-C in the interactive shell) winds up with the
 * summary, as tcpbench.c's signal handler does; the client runs until then
 * unless -t secs is given.  Where nothing can interrupt it (a script) the
 * client stops after -t secs (default 10 there), its quit timer armed for
 * secs + 1 seconds as tcpbench.c does, so -t N reports N slices; the server stops when its
 * connections have all closed, or after -t secs.  The command runs the
 * world until it is done, as ping(8) and nc(1) do.  Unsupported here:
 * UDP (-u/-U), TLS (-c/-C/-K), kernel variables (-k/-l), -T, -V, -R, -D.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import { runWorld, worldWoken } from '../../lib/socket.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { Timeout } from '../../sys/kern/kern_timeout.js';
import {
  socreate, sobind, solisten, soconnect, soaccept_next, sosend, soreceive, soclose, sosetopt,
  SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF, SO_WAKE_READ, SO_WAKE_WRITE, SO_WAKE_STATE, SS_ISCONNECTED,
  type Socket,
} from '../../sys/kern/uipc_socket.js';
import { AF_INET, Sockaddr } from '../../sys/netinet/in_pcb.js';
import { parseIp4 } from '../../wire/addr.js';
import { strerror } from '../../sys/sys/errno.js';
import { Exit, exitStatusAsync } from '../../lib/exit.js';

const USAGE =
  'usage: tcpbench -l\n' +
  '       tcpbench [-46cDRUuv] [-B buf] [-b sourceaddr] [-k kvars] [-n connections]\n' +
  '                [-p port] [-r interval] [-S space] [-T keyword] [-t secs]\n' +
  '                [-V rtable] hostname\n' +
  '       tcpbench -s [-46cDUuv] [-B buf] [-C certfile -K keyfile] [-k kvars]\n' +
  '                [-p port] [-r interval] [-S space] [-T keyword] [-V rtable]\n' +
  '                [hostname]\n';

const DEFAULT_PORT = 12345;
const DEFAULT_STATS_INTERVAL = 1000;
const DEFAULT_BUF = 256 * 1024;

/** struct statctx */
interface StatCtx {
  so: Socket;
  fd: number;
  t_start: number;
  t_last: number;
  bytes: number;
}

function f(v: number, w: number, p: number): string {
  return v.toFixed(p).padStart(w);
}

function u(v: number, w: number): string {
  return String(Math.floor(v)).padStart(w);
}

/** tcpbench on kernel k: runs the world until done; resolves to the exit status. */
export async function tcpbench(k: Kernel, argv: readonly string[], io: Io): Promise<number> {
  return exitStatusAsync(() => runWorld(k.world, main(k, argv, io)));
}

export interface TcpbenchOptions {
  /** SIGINT: wrap up with the summary. */
  signal?: AbortSignal | null;
  /** The user its sockets belong to (default root): pf's `user` rules match it. */
  uid?: number;
}

/** The tcpbench process without driving the world (a background job of the lab shell). */
export async function tcpbenchProc(k: Kernel, argv: readonly string[], io: Io, opts: TcpbenchOptions = {}): Promise<number> {
  return exitStatusAsync(() => main(k, argv, io, opts));
}

function main(k: Kernel, argv: readonly string[], io: Io, opts: TcpbenchOptions = {}): Promise<number> {
  const out = (s: string): void => io.stdout.write(s);
  const errx = (s: string): never => {
    io.stderr.write(`tcpbench: ${s}\n`);
    throw new Exit(1);
  };
  const usage = (): never => {
    io.stderr.write(USAGE);
    throw new Exit(1);
  };
  let sflag = false;
  let rflag = DEFAULT_STATS_INTERVAL;
  let Sflag = 0;
  let buflen = DEFAULT_BUF;
  let nconn = 1;
  let secs = 0;
  let port = DEFAULT_PORT;
  let srcbind: string | undefined;
  let vflag = 0;
  const num = (s: string, min: number, max: number, what: string): number => {
    if (!/^-?\d+$/.test(s)) errx(`${what} is invalid: ${s}`);
    const n = Number(s);
    if (n < min) errx(`${what} is too small: ${s}`);
    if (n > max) errx(`${what} is too large: ${s}`);
    return n;
  };
  const g = getopt(argv, '46b:B:cC:Dhlk:K:n:p:Rr:sS:t:T:uUvV:');
  if (g.error !== undefined) {
    io.stderr.write(`tcpbench: ${g.error}\n`);
    usage();
  }
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case '4': break;
      case '6': errx('IPv6 is not supported by tcpbench in a lab'); break;
      case 'b': srcbind = optarg; break;
      case 'B': buflen = num(optarg, 0, 1024 * 1024 * 1024, 'read/write buffer size'); break;
      case 'n': nconn = num(optarg, 0, 65535, 'number of connections'); break;
      case 'p': port = num(optarg, 0, 65535, 'port'); break;
      case 'r': rflag = num(optarg, 0, 60 * 60 * 24 * 1000, 'statistics interval'); break;
      case 's': sflag = true; break;
      case 'S': Sflag = num(optarg, 0, 1024 * 1024 * 1024, 'socket buffer size'); break;
      case 't': secs = num(optarg, 1, 0xffffffff, 'secs'); break;
      case 'v': vflag++; break;
      case 'l': case 'k': errx('kernel variables are not supported in a lab'); break;
      case 'u': case 'U': errx('UDP and unix sockets are not supported by tcpbench in a lab'); break;
      case 'c': case 'C': case 'K': errx('no TLS support in a lab'); break;
      case 'T': case 'V': case 'R': case 'D': errx(`-${ch} is not supported in a lab`); break;
      default: usage();
    }
  }
  const args = g.rest;
  if (args.length !== (sflag ? 0 : 1)) usage();
  if (!sflag && secs === 0 && !opts.signal) secs = 10;
  const host = sflag ? '' : args[0]!;
  const buf = new Uint8Array(buflen > 0 ? buflen : 1);
  const world = k.world;

  // mainstats
  const conns: StatCtx[] = [];
  let n_slices = 0;
  let slice_bytes = 0;
  let total_bytes = 0;
  let t_first = -1;
  let peak = 0;
  let floor = Infinity;
  let mean = 0;
  let nvariance = 0;
  let nopen = 0;
  let fds = 3;

  const newSocket = (): Socket => {
    const so = socreate(k, AF_INET, SOCK_STREAM, 0, opts.uid ?? 0);
    if (typeof so === 'number') return errx(`socket: ${strerror(so)}`);
    if (Sflag) {
      sosetopt(so, SOL_SOCKET, SO_SNDBUF, Sflag);
      sosetopt(so, SOL_SOCKET, SO_RCVBUF, Sflag);
    }
    return so;
  };

  return new Promise<number>((resolve) => {
    let finished = false;
    const slicer = new Timeout<null>(world, () => process_slice(), null);
    const ender = new Timeout<null>(world, () => wrapup(0), null);
    const start = (so: Socket): StatCtx => {
      const sc: StatCtx = { so, fd: fds++, t_start: world.now, t_last: world.now, bytes: 0 };
      if (t_first < 0) t_first = world.now;
      conns.push(sc);
      nopen++;
      if (rflag > 0 && !slicer.pending) slicer.after(rflag * 1e6);
      return sc;
    };
    const process_slice = (): void => {
      if (conns.length === 0) return;
      n_slices++;
      let slice_mbps = 0;
      for (const sc of conns) {
        const total_elapsed = Math.floor((world.now - sc.t_start) / 1e6);
        const since_last = Math.floor((world.now - sc.t_last) / 1e6);
        if (since_last === 0) continue;
        const bwperc = slice_bytes > 0 ? (sc.bytes * 100) / slice_bytes : 0;
        const mbps = (sc.bytes * 8) / (since_last * 1000);
        slice_mbps += mbps;
        out(`${u(total_elapsed, 12)} ${u(sc.bytes, 14)} ${f(mbps, 12, 3)} ${f(bwperc, 7, 2)}% \n`);
        sc.t_last = world.now;
        sc.bytes = 0;
      }
      if (slice_mbps > peak) peak = slice_mbps;
      if (slice_mbps < floor) floor = slice_mbps;
      const old = mean;
      mean += (slice_mbps - mean) / n_slices;
      nvariance += (slice_mbps - old) * (slice_mbps - mean);
      out(`Conn: ${u(nopen, 3)} Mbps: ${f(slice_mbps, 12, 3)} Peak Mbps: ${f(peak, 12, 3)} Avg Mbps: ${f(nopen ? slice_mbps / nopen : 0, 12, 3)}\n`);
      slice_bytes = 0;
      if (nopen > 0 && rflag > 0) slicer.after(rflag * 1e6);
    };
    const onint = (): void => {
      if (world.isRunning) world.syncNow();
      wrapup(0);
    };
    const wrapup = (err: number): void => {
      if (finished) return;
      finished = true;
      slicer.del();
      ender.del();
      if (t_first >= 0) {
        if (floor === Infinity) process_slice();
        out(sflag ? '--- tcpbench server statistics ---\n' : `--- ${host} tcpbench statistics ---\n`);
        const std_dev = n_slices > 0 ? Math.sqrt(nvariance / n_slices) : 0;
        const elapsed = Math.floor((world.now - t_first) / 1e6);
        out(`${total_bytes} bytes ${sflag ? 'received' : 'sent'} over ${(elapsed / 1000).toFixed(3)} seconds\n`);
        out(`bandwidth min/avg/max/std-dev = ${(floor === Infinity ? 0 : floor).toFixed(3)}/${mean.toFixed(3)}/${peak.toFixed(3)}/${std_dev.toFixed(3)} Mbps\n`);
      }
      for (const sc of conns) soclose(sc.so);
      if (opts.signal) opts.signal.removeEventListener('abort', onint);
      // The waiting command goes on at once, not when the world next idles.
      worldWoken(world);
      resolve(err);
    };
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(onint);
      else opts.signal.addEventListener('abort', onint, { once: true });
    }
    // The client's quit timer is secs + 1 seconds, as tcpbench.c arms it:
    // the connection starts a moment after the program, so -t N leaves room
    // for N full slices (N samples in the summary's min/avg/max), where a
    // timer of exactly N seconds would fire just before the Nth slice.  The
    // server's -t (a lab addition for scripts) stays N seconds.
    if (secs > 0) ender.after((sflag ? secs : secs + 1) * 1e9);
    out(`${'elapsed_ms'.padStart(12)} ${'bytes'.padStart(14)} ${'mbps'.padStart(12)} ${'bwidth'.padStart(8)} \n`);

    if (sflag) {
      const l = newSocket();
      const e1 = sobind(l, Sockaddr.in(0, port));
      if (e1) errx(`bind: ${strerror(e1)}`);
      solisten(l, 128);
      if (vflag) io.stderr.write(`bound to fd ${fds++}\n`);
      const readable = (sc: StatCtx): void => {
        for (;;) {
          const n = soreceive(sc.so, buf, 0, buf.length, null);
          if (n > 0) {
            sc.bytes += n;
            slice_bytes += n;
            total_bytes += n;
            continue;
          }
          if (n === 0 || n !== -35) {
            if (vflag) io.stderr.write(`${String(sc.fd).padStart(8)} closed by remote end\n`);
            const i = conns.indexOf(sc);
            if (i >= 0) conns.splice(i, 1);
            soclose(sc.so);
            nopen--;
            if (nopen === 0 && conns.length === 0) {
              soclose(l);
              wrapup(0);
            }
          }
          return;
        }
      };
      l.so_upcall = (_so, what) => {
        if (!(what & SO_WAKE_READ)) return;
        for (let so = soaccept_next(l); so !== null; so = soaccept_next(l)) {
          const sc = start(so);
          if (vflag) io.stderr.write(`Accepted connection from ${'?'}, fd = ${sc.fd}\n`);
          so.so_upcall = (_s, w) => {
            if (w & (SO_WAKE_READ | SO_WAKE_STATE)) readable(sc);
          };
          readable(sc);
        }
      };
      return;
    }

    const dst = parseIp4(host);
    if (dst < 0) errx(`getaddrinfo: ${host}: no address associated with name`);
    const src = srcbind !== undefined ? parseIp4(srcbind) : 0;
    for (let i = 0; i < nconn; i++) {
      const so = newSocket();
      if (srcbind !== undefined) {
        const e = sobind(so, Sockaddr.in(src, 0));
        if (e) errx(`bind: ${strerror(e)}`);
      }
      const e = soconnect(so, Sockaddr.in(dst, port));
      if (e) errx(`connect: ${strerror(e)}`);
      let sc: StatCtx | null = null;
      const writable = (): void => {
        if (sc === null) return;
        for (;;) {
          const n = sosend(so, null, buf, 0, buf.length);
          if (n > 0) {
            sc.bytes += n;
            slice_bytes += n;
            total_bytes += n;
            continue;
          }
          if (n !== -35) {
            io.stderr.write(n === -32 ? 'tcpbench: Remote end closed connection\n' : `tcpbench: write: ${strerror(-n)}\n`);
            wrapup(1);
          }
          return;
        }
      };
      so.so_upcall = (_s, w) => {
        if (finished) return;
        if (sc === null && so.so_state & SS_ISCONNECTED) {
          sc = start(so);
          if (conns.length === nconn && vflag) io.stderr.write(`${nconn} connections established\n`);
        }
        if (sc === null && so.so_error) {
          io.stderr.write(`tcpbench: connect: ${strerror(so.so_error)}\n`);
          wrapup(1);
          return;
        }
        if (w & (SO_WAKE_WRITE | SO_WAKE_STATE)) writable();
      };
    }
  });
}
