/**
 * nc(1) (usr.bin/nc/netcat.c) as a program on a lab machine, over the
 * BSD-like socket API in virtual time: client and `-l` server, TCP and
 * `-u` UDP, `-N` (shutdown after stdin EOF), `-n`, `-v`, `-z` (scan, port
 * ranges), `-w timeout`, `-s source`, `-p port`, `-k`, `-d`, `-4`/`-6`.
 * Messages are netcat.c's: "Connection to 10.0.1.2 12345 port [tcp/*]
 * succeeded!", "Listening on 0.0.0.0 12345", "Connection received on ...",
 * "nc: connect to ... port ... (tcp) failed: Connection refused".
 *
 * There is no resolver in a lab: hosts are numeric addresses (names fail
 * as getaddrinfo does), service names come from a small built-in table.
 * stdin is a byte buffer given by the caller (never a terminal); stdout
 * gets the bytes through io.stdout.writeBytes when the Output has it.
 *
 * nc() is the process itself and does not drive the world (run it in the
 * background of a lab); ncTool(k) is the command: it runs the world until
 * nc() is done, as ping(8) does.
 */
import { BytesInput, binaryString, textBytes, type InputStream, type Io, type Tool } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import {
  Proc, runWorld, SocketError, AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEPORT, SO_DEBUG,
  SHUT_RD, SHUT_WR, POLLIN, POLLOUT, MSG_PEEK, STDIN_FILENO, type SockAddr,
} from '../../lib/socket.js';
import { parseIp4, parseIp6 } from '../../wire/addr.js';
import { strerror, EWOULDBLOCK, EINPROGRESS } from '../../sys/sys/errno.js';
import { Exit, exitStatusAsync } from '../../lib/exit.js';

const OPTSTRING = '46C:cDde:FH:hI:i:K:klM:m:NnO:o:P:p:R:rSs:T:tUuV:vW:w:X:x:Z:z';
const BUFSIZE = 16384;

const USAGE =
  'usage: nc [-46cDdFhklNnrStUuvz] [-C certfile] [-e name] [-H hash] [-I length]\n' +
  '\t  [-i interval] [-K keyfile] [-M ttl] [-m minttl] [-O length]\n' +
  '\t  [-o staplefile] [-P proxy_username] [-p source_port] [-R CAfile]\n' +
  '\t  [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit] [-w timeout]\n' +
  '\t  [-X proxy_protocol] [-x proxy_address[:port]] [-Z peercertfile]\n' +
  '\t  [destination] [port]\n';

/** A few of /etc/services for connection_info() without -n. */
const SERVICES: Record<string, Record<number, string>> = {
  tcp: { 7: 'echo', 9: 'discard', 13: 'daytime', 21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'domain', 80: 'www', 443: 'https' },
  udp: { 7: 'echo', 9: 'discard', 13: 'daytime', 53: 'domain', 67: 'bootps', 69: 'tftp', 123: 'ntp', 161: 'snmp', 514: 'syslog' },
};

export interface NcOptions {
  /** What the program reads on stdin (default: nothing, EOF at once); a string as textBytes() reads a file; a stream as it comes (a terminal). */
  stdin?: Uint8Array | string | InputStream;
  /** Credentials of the process (default root). */
  uid?: number;
  gid?: number;
  /** Process id its sockets carry (so_cpid; the lab's job control finds them by it). */
  pid?: number;
}

/** The nc process on kernel k.  Resolves to its exit status. */
export async function nc(k: Kernel, argv: readonly string[], io: Io, opts: NcOptions = {}): Promise<number> {
  return exitStatusAsync(() => main(k, argv, io, opts));
}

/** The nc command of a lab machine: runs the world until nc is done. */
export function ncTool(k: Kernel, opts: NcOptions = {}): Tool {
  return (argv, io) => runWorld(k.world, nc(k, argv, io, opts));
}

async function main(k: Kernel, argv: readonly string[], io: Io, opts: NcOptions): Promise<number> {
  const err = (s: string): void => io.stderr.write(`nc: ${s}\n`);
  const errx = (s: string): never => {
    err(s);
    throw new Exit(1);
  };
  const usage = (ret: number): never => {
    io.stderr.write(USAGE);
    throw new Exit(ret);
  };
  let family = 0;
  let lflag = false;
  let uflag = false;
  let Nflag = false;
  let nflag = false;
  let vflag = false;
  let zflag = false;
  let kflag = false;
  let dflag = false;
  let Dflag = false;
  let rflag = false;
  let sflag: string | undefined;
  let pflag: string | undefined;
  let timeout = -1;
  const g = getopt(argv, OPTSTRING);
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case '4': family = AF_INET; break;
      case '6': family = AF_INET6; break;
      case 'U': errx('unix sockets are not supported in a lab'); break;
      case 'X': case 'x': errx('no proxy support in a lab'); break;
      case 'c': case 'C': case 'e': case 'H': case 'K': case 'o': case 'R': case 'Z': errx('no TLS support in a lab'); break;
      case 'F': errx('fd passing is not supported in a lab'); break;
      case 'd': dflag = true; break;
      case 'D': Dflag = true; break;
      case 'h': usage(0); break;
      case 'k': kflag = true; break;
      case 'l': lflag = true; break;
      case 'N': Nflag = true; break;
      case 'n': nflag = true; break;
      case 'p': pflag = optarg; break;
      case 'r': rflag = true; break;
      case 's': sflag = optarg; break;
      case 'u': uflag = true; break;
      case 'v': vflag = true; break;
      case 'w': {
        const n = /^\d+$/.test(optarg) ? Number(optarg) : NaN;
        if (Number.isNaN(n)) errx(`timeout ${optarg.length === 0 ? 'invalid' : 'invalid'}: ${optarg}`);
        if (n > 2147483) errx(`timeout too large: ${optarg}`);
        timeout = n * 1000;
        break;
      }
      case 'z': zflag = true; break;
      case 'I': case 'i': case 'M': case 'm': case 'O': case 'P': case 'S': case 'T': case 't': case 'V': case 'W':
        // Accepted; no effect in a lab.
        break;
      default:
        usage(1);
    }
  }
  if (g.error !== undefined) {
    io.stderr.write(`nc: ${g.error}\n`);
    usage(1);
  }
  const rest = g.rest;
  let host: string | undefined;
  let uport: string | undefined;
  if (rest.length === 1 && lflag) uport = rest[0];
  else if (rest.length === 2) {
    host = rest[0];
    uport = rest[1];
  } else usage(1);
  if (lflag && sflag !== undefined) errx('cannot use -s and -l');
  if (lflag && pflag !== undefined) errx('cannot use -p and -l');
  if (lflag && zflag) errx('cannot use -z and -l');
  if (!lflag && kflag) errx('must use -l with -k');

  const stdin: InputStream = dflag || opts.stdin === undefined
    ? new BytesInput(new Uint8Array(0))
    : typeof opts.stdin === 'string' ? new BytesInput(textBytes(opts.stdin))
    : opts.stdin instanceof Uint8Array ? new BytesInput(opts.stdin) : opts.stdin;
  const p = new Proc(k, { uid: opts.uid ?? 0, gid: opts.gid ?? 0, stdin, ...(opts.pid !== undefined ? { pid: opts.pid } : {}) });
  const out = stdoutSink(io);
  const type = uflag ? SOCK_DGRAM : SOCK_STREAM;
  const proto = uflag ? 'udp' : 'tcp';
  const waitNs = timeout >= 0 ? timeout * 1e6 : -1;

  const resolve = (h: string | undefined, port: number, what: string): SockAddr & { family: number } => {
    if (h === undefined) return { address: '*', port, family: family === AF_INET6 ? AF_INET6 : AF_INET };
    const v4 = parseIp4(h) >= 0;
    const v6 = !v4 && parseIp6(h) !== null && scopeOk(k, h);
    if ((!v4 && !v6) || (v4 && family === AF_INET6) || (v6 && family === AF_INET)) {
      errx(`${what}: no address associated with name`);
    }
    return { address: h, port, family: v6 ? AF_INET6 : AF_INET };
  };

  let stdinOpen = true;
  /** readwrite(): copy stdin to the socket and the socket to stdout until both sides are done. */
  const readwrite = async (fd: number): Promise<void> => {
    p.setNonBlocking(fd, true);
    let netoutOpen = true;
    let netinOpen = true;
    let pending: Uint8Array | null = null;
    /** What stdin has to send (pending); at its end, the write side is done (shutdown with -N). */
    const take = (): void => {
      if (!stdinOpen) return;
      pending = stdin.peek(BUFSIZE);
      if (pending !== null) return;
      stdinOpen = false;
      if (Nflag) p.shutdown(fd, SHUT_WR);
      netoutOpen = false;
    };
    if (!stdinOpen) {
      if (Nflag) p.shutdown(fd, SHUT_WR);
      netoutOpen = false;
    }
    take();
    for (;;) {
      if (!stdinOpen && !netinOpen) return;
      if (!netoutOpen && !netinOpen) return;
      if (lflag && !netinOpen && !stdinOpen) return;
      const have = stdinOpen && pending !== null && (pending as Uint8Array).length > 0;
      const fds = [{ fd, events: (netinOpen ? POLLIN : 0) | (netoutOpen && have ? POLLOUT : 0) }];
      // Nothing typed yet (a terminal): wait for stdin as for the network.
      if (stdinOpen && netoutOpen && !have) fds.push({ fd: STDIN_FILENO, events: POLLIN });
      const ready = await p.poll(fds, waitNs);
      if (ready.length === 0) return;
      let re = 0;
      for (const r of ready) {
        if (r.fd === fd) re = r.revents;
        else take();
      }
      if (re & POLLOUT && have) {
        try {
          const n = await p.send(fd, pending!);
          stdin.consume(n);
        } catch (e) {
          if (!(e instanceof SocketError) || e.errno !== EWOULDBLOCK) {
            netoutOpen = false;
            stdinOpen = false;
          }
        }
        if (stdinOpen) take();
      }
      if (re & POLLIN && netinOpen) {
        try {
          const d = await p.recv(fd, BUFSIZE);
          if (d.length === 0 && !uflag) {
            p.shutdown(fd, SHUT_RD);
            netinOpen = false;
          } else out(d);
        } catch (e) {
          if (!(e instanceof SocketError) || e.errno !== EWOULDBLOCK) netinOpen = false;
        }
      }
    }
  };

  if (lflag) {
    const portNum = strtoport(uport!, uflag, errx);
    const local = resolve(host, portNum, 'getaddrinfo');
    for (;;) {
      const s = p.socket(local.family, type);
      p.setsockopt(s, SOL_SOCKET, SO_REUSEPORT, 1);
      if (Dflag) p.setsockopt(s, SOL_SOCKET, SO_DEBUG, 1);
      try {
        p.bind(s, local);
      } catch (e) {
        if (e instanceof SocketError) errx(strerror(e.errno));
        throw e;
      }
      if (!uflag) p.listen(s, 1);
      if (vflag) {
        const a = p.getsockname(s);
        io.stderr.write(`${uflag ? 'Bound' : 'Listening'} on ${a.address === '*' ? '0.0.0.0' : a.address} ${a.port}\n`);
      }
      if (uflag && kflag) await readwrite(s);
      else if (uflag) {
        let from: SockAddr;
        try {
          from = (await p.recvfrom(s, 2048, MSG_PEEK)).addr;
          await p.connect(s, from);
        } catch (e) {
          if (e instanceof SocketError) errx(`${e.syscall === 'connect' ? 'connect' : 'recvfrom'}: ${strerror(e.errno)}`);
          throw e;
        }
        if (vflag) io.stderr.write(`Connection received on ${from.address} ${from.port}\n`);
        await readwrite(s);
      } else {
        let c: { fd: number; addr: SockAddr };
        try {
          c = await p.accept(s);
        } catch (e) {
          if (e instanceof SocketError) errx(`accept: ${strerror(e.errno)}`);
          throw e;
        }
        if (vflag) io.stderr.write(`Connection received on ${c.addr.address} ${c.addr.port}\n`);
        await readwrite(c.fd);
        p.close(c.fd);
      }
      p.close(s);
      if (!kflag) break;
    }
    return 0;
  }

  // Client: every port of the list.
  const ports = build_ports(uport!, uflag, rflag, k, errx);
  let ret = 1;
  for (const port of ports) {
    const remote = resolve(host, port, `getaddrinfo for host "${host}" port ${port}`);
    const s = p.socket(remote.family, type);
    if (sflag !== undefined || pflag !== undefined) {
      const src = sflag === undefined ? { address: '*', port: 0, family: remote.family } : resolve(sflag, 0, 'getaddrinfo');
      try {
        p.bind(s, { address: src.address, port: pflag !== undefined ? strtoport(pflag, uflag, errx) : 0 });
      } catch (e) {
        if (e instanceof SocketError) errx(`bind failed: ${strerror(e.errno)}`);
        throw e;
      }
    }
    const failed = await timeout_connect(p, s, remote, waitNs);
    if (failed !== 0) {
      if (vflag) err(`connect to ${host} port ${port} (${proto}) failed: ${strerror(failed)}`);
      p.close(s);
      continue;
    }
    ret = 0;
    if (vflag || zflag) {
      // udptest(): without a terminal on stdin, only a scan writes probes.
      let printInfo = 1;
      if (uflag) {
        if (!zflag) printInfo = 0;
        else {
          for (let i = 0; i <= 3; i++) {
            try {
              await p.send(s, 'X');
              printInfo = 1;
            } catch {
              printInfo = -1;
            }
          }
          if (printInfo === -1) {
            ret = 1;
            p.close(s);
            continue;
          }
        }
      }
      if (printInfo === 1) {
        const service = nflag ? '*' : SERVICES[proto]?.[port] ?? '*';
        // connection_info(): the numeric address too when it reads differently from what was typed.
        let shown = '';
        if (!nflag && remote.family === AF_INET6) {
          const ipaddr = p.getpeername(s).address;
          if (ipaddr !== host) shown = ` (${ipaddr})`;
        }
        io.stderr.write(`Connection to ${host}${shown} ${port} port [${proto}/${service}] succeeded!\n`);
      }
    }
    if (!zflag) await readwrite(s);
    p.close(s);
  }
  return ret;
}

/** A `%scope` of an IPv6 literal names an interface of k (or is an index), as getaddrinfo requires. */
function scopeOk(k: Kernel, h: string): boolean {
  const pct = h.indexOf('%');
  if (pct < 0) return true;
  const z = h.slice(pct + 1);
  if (/^\d+$/.test(z)) return Number(z) > 0;
  return k.ifnets.some((ifp) => ifp !== undefined && ifp.if_xname === z);
}

/** timeout_connect(): connect, waiting at most waitNs (-1: the stack's own timeout).  0 or an errno. */
async function timeout_connect(p: Proc, s: number, remote: SockAddr, waitNs: number): Promise<number> {
  p.setNonBlocking(s, true);
  try {
    await p.connect(s, remote);
    return 0;
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    if (e.errno !== EINPROGRESS) return e.errno;
  }
  const ready = await p.poll([{ fd: s, events: POLLOUT }], waitNs);
  if (ready.length === 0) return 60; // ETIMEDOUT
  const so = p.sock(s);
  const error = so.so_error;
  so.so_error = 0;
  if (error) return error;
  return so.so_state & 0x002 ? 0 : 61; // SS_ISCONNECTED, else ECONNREFUSED
}

function strtoport(s: string, udp: boolean, errx: (m: string) => never): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1) errx(`port number too small: ${s}`);
    if (n > 65535) errx(`port number too large: ${s}`);
    return n;
  }
  const proto = udp ? 'udp' : 'tcp';
  for (const [port, name] of Object.entries(SERVICES[proto]!)) if (name === s) return Number(port);
  return errx(`service "${s}" unknown`);
}

function build_ports(p: string, udp: boolean, random: boolean, k: Kernel, errx: (m: string) => never): number[] {
  const m = /^(\d+)-(.+)$/.exec(p);
  if (m === null) return [strtoport(p, udp, errx)];
  let hi = strtoport(m[2]!, udp, errx);
  let lo = strtoport(m[1]!, udp, errx);
  if (lo > hi) [lo, hi] = [hi, lo];
  const list: number[] = [];
  if (random) {
    for (let x = 0; x <= hi - lo; x++) {
      const cp = k.random.arc4random_uniform(x + 1);
      list[x] = list[cp]!;
      list[cp] = x + lo;
    }
  } else for (let cp = lo; cp <= hi; cp++) list.push(cp);
  return list;
}

function stdoutSink(io: Io): (d: Uint8Array) => void {
  const o = io.stdout;
  if (o.writeBytes !== undefined) {
    const w = o.writeBytes.bind(o);
    return (d) => w(d, d.length);
  }
  // A text output gets the bytes as they came, one char each (a binary
  // string: a machine file that nc wrote holds the same bytes, and nc <file
  // sends them back unchanged).
  return (d) => o.write(binaryString(d));
}
