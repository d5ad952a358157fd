/**
 * ping6 / ping -6 (sbin/ping/ping.c with v6flag): ICMPv6 echo requests in
 * the world's time, OpenBSD's output (`PING host (addr): N data
 * bytes`, `N bytes from addr: icmp_seq=S hlim=H time=T ms`, the
 * statistics).  Options: -c count, -h hoplimit, -I sourceaddr,
 * -i interval, -q, -s packetsize, -v, -w maxwait.  It waits as ping does
 * (lib/wait.ts): ping6() runs a simulated world, ping6Async() any world.
 * Without -c it runs until interrupted (the signal: Ctrl-C), or with
 * nothing to interrupt it (a script) sends DEFAULT_COUNT requests.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { M_ICMP_CSUM_OUT } from '../../sys/kern/uipc_mbuf.js';
import type { Timeout } from '../../sys/kern/kern_timeout.js';
import { strerror } from '../../sys/sys/errno.js';
import { get16, get32, put32 } from '../../wire/bytes.js';
import { formatIp6, parseIp6 } from '../../wire/addr.js';
import { IPPROTO_ICMPV6 } from '../../wire/ip4.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST } from '../../wire/icmp6.js';
import { rip6_output } from '../../sys/netinet6/raw_ip6.js';
import { IN6_IS_SCOPE_EMBED, in6_setscope } from '../../sys/netinet6/in6_var.js';
import { in6ifa_ifwithaddr } from '../../sys/netinet6/in6.js';
import { DEFAULT_COUNT, type PingOptions } from '../ping/ping.js';
import { Completion, runAsync, runDetached, runSync, type Waiting } from '../../lib/wait.js';
import { PingStats } from '../ping/stats.js';

const ECHOLEN = 8;
const ECHOTMLEN = 24;
const DEFDATALEN = 56;

const USAGE =
  'usage: ping6 [-DdEefgHLmnqv] [-c count] [-h hoplimit] [-I sourceaddr]\n' +
  '\t[-i interval] [-l preload] [-p pattern] [-s packetsize] [-T toskeyword]\n' +
  '\t[-V rtable] [-w maxwait] host\n';

/** ping6 against a kernel; runs its world until done (simulated worlds only). */
export function ping6(k: Kernel, argv: readonly string[], io: Io, popts: PingOptions = {}): number {
  return runSync(k.world, run(k, argv, io, popts, true));
}

/** ping6 in any world (a lab attached to the host, the interactive shell): resolves when done. */
export function ping6Async(k: Kernel, argv: readonly string[], io: Io, popts: PingOptions = {}): Promise<number> {
  const g = run(k, argv, io, popts, false);
  return popts.detached === true ? runDetached(k.world, g) : runAsync(k.world, g);
}

/** The tool; yields the completion it waits for. */
function* run(k: Kernel, argv: readonly string[], io: Io, popts: PingOptions, sync: boolean): Waiting<number> {
  const out = (s: string): void => io.stdout.write(s);
  const errx = (msg: string): number => {
    io.stderr.write(`ping6: ${msg}\n`);
    return 1;
  };
  const usage = (): number => {
    io.stderr.write(USAGE);
    return 1;
  };
  const g = getopt(argv, 'c:DdEefgHh:I:i:Ll:mnp:qs:T:V:vw:');
  if (g.error !== undefined) {
    io.stderr.write(`ping6: ${g.error}\n`);
    return usage();
  }
  let npackets = -1;
  let hlim = -1;
  let datalen = DEFDATALEN;
  let intervalNs = 1e9;
  let maxwait = 10;
  let quiet = false;
  let source: string | null = null;
  for (const [ch, optarg = ''] of g.opts) {
    const num = (min: number, max: number, what: string): number | null => {
      if (!/^\d+$/.test(optarg)) return null;
      const n = Number(optarg);
      if (n < min || n > max) return null;
      void what;
      return n;
    };
    switch (ch) {
      case 'c': {
        const n = num(1, 0x7fffffff, 'count');
        if (n === null) return errx(`count is invalid: ${optarg}`);
        npackets = n;
        break;
      }
      case 'h': {
        const n = num(0, 255, 'hoplimit');
        if (n === null) return errx(`hoplimit is invalid: ${optarg}`);
        hlim = n;
        break;
      }
      case 's': {
        const n = num(0, 65535 - 40 - 8, 'size');
        if (n === null) return errx(`packet size is invalid: ${optarg}`);
        datalen = n;
        break;
      }
      case 'i': {
        const t = Number(optarg);
        if (!Number.isFinite(t) || t <= 0) return errx(`interval is invalid: ${optarg}`);
        intervalNs = Math.round(t * 1e9);
        break;
      }
      case 'w': {
        const n = num(1, 0x7fffffff, 'maxwait');
        if (n === null) return errx(`maxwait is invalid: ${optarg}`);
        maxwait = n;
        break;
      }
      case 'q':
        quiet = true;
        break;
      case 'I':
        source = optarg;
        break;
      default:
        break;
    }
  }
  if (g.rest.length !== 1) return usage();
  const hostname = g.rest[0]!;
  const dst = parseIp6(hostname);
  if (dst === null) return errx(`${hostname}: no address associated with name`);
  const pct = hostname.indexOf('%');
  let oifidx = 0;
  if (IN6_IS_SCOPE_EMBED(dst, 0)) {
    const ifp = pct >= 0 ? k.ifunit(hostname.slice(pct + 1)) : undefined;
    if (ifp === undefined) return errx(`${hostname}: no address associated with name`);
    oifidx = ifp.if_index;
    in6_setscope(dst, 0, oifidx);
  }
  let src: Uint8Array | null = null;
  if (source !== null) {
    src = parseIp6(source);
    if (src === null) return errx(`${source}: no address associated with name`);
    if (IN6_IS_SCOPE_EMBED(src, 0) && oifidx) in6_setscope(src, 0, oifidx);
    if (in6ifa_ifwithaddr(k, src, 0) === null) return errx(`bind: ${strerror(49)}`);
  }
  if (k.world.isRunning && sync) return errx('cannot run in a realtime world from a synchronous tool');
  const w = k.world;
  const ident = k.random.arc4random() & 0xffff;
  const timing = datalen >= ECHOTMLEN;
  const count = npackets >= 0 ? npackets : popts.signal ? Infinity : DEFAULT_COUNT;
  const pretty = pct >= 0 ? hostname : formatIp6(parseIp6(hostname)!, 0) + (pct >= 0 ? hostname.slice(pct) : '');
  const st = new PingStats();
  let done = false;
  let sendTimer: Timeout<undefined> | null = null;
  let endTimer: Timeout<undefined> | null = null;
  const end = new Completion(w);
  out(`PING ${hostname} (${pretty}): ${datalen} data bytes\n`);

  const finish = (): void => {
    done = true;
    sendTimer?.del();
    endTimer?.del();
    end.finish();
  };
  const listener = (buf: Uint8Array, off: number, len: number, ioff: number): void => {
    const p = off + ioff;
    const cc = len - ioff;
    if (cc < ECHOLEN || buf[p] !== ICMP6_ECHO_REPLY || get16(buf, p + 4) !== ident) return;
    const seq = get16(buf, p + 6);
    let triptime = 0;
    if (timing && cc >= ECHOLEN + ECHOTMLEN) {
      const sent = get32(buf, p + ECHOLEN) * 4294967296 + get32(buf, p + ECHOLEN + 4);
      triptime = (w.now - sent) / 1e6;
      st.rtt(triptime);
    }
    const dup = st.reply(seq);
    if (!quiet) {
      const from = buf.slice(off + 8, off + 24);
      const scope = IN6_IS_SCOPE_EMBED(from, 0) ? (from[2]! << 8) | from[3]! : 0;
      if (scope) from[2] = from[3] = 0;
      let s = `${cc} bytes from ${formatIp6(from, 0)}${scope ? `%${k.ifnets[scope]?.if_xname ?? scope}` : ''}: icmp_seq=${seq} hlim=${buf[off + 7]}`;
      if (cc >= ECHOLEN + ECHOTMLEN) s += ` time=${triptime.toFixed(3)} ms`;
      if (dup) s += ' (DUP!)';
      if (cc - ECHOLEN < datalen) s += ' (TRUNC!)';
      out(s + '\n');
    }
    if (st.nreceived >= count) finish();
  };
  const pinger = (): void => {
    const len = 40 + ECHOLEN + datalen;
    const m = k.mbufs.get(len);
    if (m === null) return;
    m.append(len);
    const b = m.buf;
    const o = m.off;
    b.fill(0, o, o + len);
    b[o] = 0x60;
    b[o + 6] = IPPROTO_ICMPV6;
    b[o + 7] = hlim >= 0 ? hlim : k.inet6.ip6_defhlim.value;
    if (src !== null) b.set(src, o + 8);
    b.set(dst, o + 24);
    const p = o + 40;
    b[p] = ICMP6_ECHO_REQUEST;
    b[p + 4] = ident >>> 8;
    b[p + 5] = ident & 0xff;
    b[p + 6] = (st.ntransmitted >>> 8) & 0xff;
    b[p + 7] = st.ntransmitted & 0xff;
    for (let i = ECHOTMLEN; i < datalen; i++) b[p + ECHOLEN + i] = i & 0xff;
    if (timing) {
      put32(b, p + ECHOLEN, Math.floor(w.now / 4294967296));
      put32(b, p + ECHOLEN + 4, w.now % 4294967296);
    }
    m.csum_flags |= M_ICMP_CSUM_OUT;
    st.ntransmitted++;
    const mifp = oifidx && (dst[0] === 0xff) ? k.ifnets[oifidx] ?? null : null;
    const e = rip6_output(k, m, mifp, hlim);
    if (e !== 0) {
      io.stderr.write(`ping6: sendmsg: ${strerror(e)}\n`);
      out(`ping6: wrote ${hostname} ${ECHOLEN + datalen} chars, ret=-1\n`);
    }
  };
  const scheduleNext = (): void => {
    if (done) return;
    if (st.ntransmitted >= count) {
      endTimer = w.after(st.lingerSecs(maxwait) * 1e9, finish);
      return;
    }
    pinger();
    sendTimer = w.after(intervalNs, scheduleNext);
  };
  k.inet6.icmp6Listeners.add(listener);
  const unsub = end.abortOn(popts.signal);
  try {
    scheduleNext();
    if (!done) yield end;
  } finally {
    unsub();
    k.inet6.icmp6Listeners.delete(listener);
    finish();
  }
  out(st.summary(hostname, timing));
  return st.nreceived ? 0 : 1;
}

export function ping6Tool(k: Kernel): (argv: readonly string[], io: Io) => number {
  return (argv, io) => ping6(k, argv, io);
}
