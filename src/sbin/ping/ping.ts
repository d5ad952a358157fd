/**
 * ping(8) for IPv4 (sbin/ping/ping.c): the same options, output and
 * statistics, in the world's time.  The tool sends its echo requests from
 * timeouts on the world's clock and waits (lib/wait.ts: a simulated world
 * is run, a realtime one awaited) until it is done: all replies in, or the
 * wait after the last request over (2 x the longest round trip, at least
 * 1 s, or -w maxwait when nothing came back), or interrupted (the
 * signal: Ctrl-C), when it prints its statistics at once as ping.c does on
 * SIGINT.  Without -c it runs until interrupted; with no interrupt source
 * (a script) it sends DEFAULT_COUNT requests.
 *
 * The payload is OpenBSD's: a 16-byte timestamp and an 8-byte MAC (zero
 * here) before the fill pattern, so -s below 24 prints no times.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import { ping6, ping6Async } from '../ping6/ping6.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { ip_output, IP_RAWOUTPUT } from '../../sys/netinet/ip_output.js';
import { ip_randomid } from '../../sys/netinet/ip_output.js';
import { ifa_ifwithaddr } from '../../sys/netinet/in.js';
import { strerror } from '../../sys/sys/errno.js';
import { ips_rawout } from '../../sys/kern/counters.gen.js';
import { formatIp4, parseIp4 } from '../../wire/addr.js';
import { get32, put32 } from '../../wire/bytes.js';
import { Ipv4Packet, IPPROTO_ICMP, IP_MAXPACKET, IP_DF, MAXTTL } from '../../wire/ip4.js';
import {
  IcmpPacket, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_PARAMPROB, ICMP_PARAMPROB_OPTABSENT, ICMP_REDIRECT,
  ICMP_REDIRECT_HOST, ICMP_REDIRECT_NET, ICMP_REDIRECT_TOSHOST, ICMP_REDIRECT_TOSNET, ICMP_SOURCEQUENCH,
  ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, ICMP_TIMXCEED_REASS, ICMP_UNREACH,
} from '../../wire/icmp.js';
import type { Timeout } from '../../sys/kern/kern_timeout.js';
import { Completion, runAsync, runDetached, runSync, type Waiting } from '../../lib/wait.js';
import { PingStats } from './stats.js';
import { Exit, exitStatus, exitStatusAsync } from '../../lib/exit.js';

const ECHOLEN = 8;
/** struct payload: tv64 (16) + SipHash MAC (8). */
const ECHOTMLEN = 24;
const DEFDATALEN = 56;
const MAXWAIT_DEFAULT = 10;
/** Requests sent without -c when nothing can interrupt ping (scripts). */
export const DEFAULT_COUNT = 5;

const USAGE =
  'usage: ping [-DdEefgHLnqRv] [-c count] [-I sourceaddr] [-i interval]\n' +
  '\t[-l preload] [-p pattern] [-s packetsize] [-T toskeyword]\n' +
  '\t[-t ttl] [-V rtable] [-w maxwait] host\n';

const TOS: Record<string, number> = {
  af11: 0x28, af12: 0x30, af13: 0x38, af21: 0x48, af22: 0x50, af23: 0x58, af31: 0x68, af32: 0x70,
  af33: 0x78, af41: 0x88, af42: 0x90, af43: 0x98, critical: 0xa0, cs0: 0x00, cs1: 0x20, cs2: 0x40,
  cs3: 0x60, cs4: 0x80, cs5: 0xa0, cs6: 0xc0, cs7: 0xe0, ef: 0xb8, inetcontrol: 0xc0, lowdelay: 0x10,
  netcontrol: 0xe0, reliability: 0x04, throughput: 0x08, va: 0xb0,
};

function strtonum(s: string, min: number, max: number): number | string {
  if (!/^[ \t]*[+-]?\d+$/.test(s)) return 'invalid';
  const n = Number(s);
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return n;
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

function hex(v: number, w: number): string {
  return v.toString(16).padStart(w, '0');
}

/** pr_iph(): the quoted header as amd64 prints it (ip_len, ip_id, ip_off, ip_sum unswapped). */
function pr_iph(b: Uint8Array, o: number): string {
  const ipq = new Ipv4Packet(b, o, 20);
  const hlen = ipq.headerLength;
  let s = 'Vr HL TOS  Len   ID Flg  off TTL Pro  cks      Src      Dst Data\n';
  const off = swap16(ipq.ipOff);
  s += ` ${hex(ipq.version, 1)}  ${hex(ipq.ihl, 1)}  ${hex(ipq.tos, 2)} ${hex(swap16(ipq.totalLength), 4)} ${hex(swap16(ipq.id), 4)}`;
  s += `   ${hex((off & 0xe000) >> 13, 1)} ${hex(off & 0x1fff, 4)}`;
  s += `  ${hex(ipq.ttl, 2)}  ${hex(ipq.protocol, 2)} ${hex(swap16(ipq.checksum), 4)}`;
  s += ` ${formatIp4(ipq.src)} `;
  s += ` ${formatIp4(ipq.dst)} `;
  for (let i = 20; i < hlen && o + i < b.length; i++) s += hex(b[o + i]!, 2);
  return s + '\n';
}

function pr_retip(b: Uint8Array, o: number): string {
  let s = pr_iph(b, o);
  const hlen = (b[o]! & 0xf) << 2;
  const p = b[o + 9];
  const cp = o + hlen;
  if (p === 6) s += `TCP: from port ${b[cp]! * 256 + b[cp + 1]!}, to port ${b[cp + 2]! * 256 + b[cp + 3]!} (decimal)\n`;
  else if (p === 17) s += `UDP: from port ${b[cp]! * 256 + b[cp + 1]!}, to port ${b[cp + 2]! * 256 + b[cp + 3]!} (decimal)\n`;
  return s;
}

const UNREACH = [
  'Destination Net Unreachable', 'Destination Host Unreachable', 'Destination Protocol Unreachable',
  'Destination Port Unreachable', '', 'Source Route Failed', 'Network Unknown', 'Host Unknown',
  'Source Isolated', 'Dest. Net Administratively Prohibited', 'Dest. Host Administratively Prohibited',
  'Destination Net Unreachable for TOS', 'Destination Host Unreachable for TOS',
  'Route administratively prohibited', 'Host Precedence Violation', 'Precedence Cutoff',
];

/** pr_icmph(): what a non-echo-reply ICMP message says (printed with -v). */
function pr_icmph(icp: IcmpPacket): string {
  const b = icp.buf;
  const q = icp.off + 8;
  switch (icp.type) {
    case ICMP_UNREACH: {
      let s: string;
      if (icp.code === 4) s = icp.nextMtu !== 0 ? `frag needed and DF set (MTU ${icp.nextMtu})\n` : 'frag needed and DF set\n';
      else if (icp.code < UNREACH.length) s = `${UNREACH[icp.code]}\n`;
      else s = `Dest Unreachable, Unknown Code: ${icp.code}\n`;
      return s + pr_retip(b, q);
    }
    case ICMP_SOURCEQUENCH:
      return 'Source Quench\n' + pr_retip(b, q);
    case ICMP_REDIRECT: {
      const names: Record<number, string> = {
        [ICMP_REDIRECT_NET]: 'Redirect Network', [ICMP_REDIRECT_HOST]: 'Redirect Host',
        [ICMP_REDIRECT_TOSNET]: 'Redirect Type of Service and Network',
        [ICMP_REDIRECT_TOSHOST]: 'Redirect Type of Service and Host',
      };
      return (names[icp.code] ?? `Redirect, Unknown Code: ${icp.code}`) + `(New addr: ${formatIp4(icp.gateway)})\n` + pr_retip(b, q);
    }
    case ICMP_ECHO:
      return 'Echo Request\n';
    case ICMP_TIMXCEED: {
      const s = icp.code === ICMP_TIMXCEED_INTRANS ? 'Time to live exceeded\n'
        : icp.code === ICMP_TIMXCEED_REASS ? 'Frag reassembly time exceeded\n'
        : `Time exceeded, Unknown Code: ${icp.code}\n`;
      return s + pr_retip(b, q);
    }
    case ICMP_PARAMPROB: {
      const ptr = hex(swap16(icp.pointer << 8), 2);
      const s = icp.code === ICMP_PARAMPROB_OPTABSENT
        ? `Parameter problem, required option absent: pointer = 0x${ptr}\n`
        : `Parameter problem: pointer = 0x${ptr}\n`;
      return s + pr_retip(b, q);
    }
    default:
      return `Bad ICMP type: ${icp.type}\n`;
  }
}

export interface PingOptions {
  /**
   * SIGINT (Ctrl-C): stop and print the statistics.  With a signal, ping
   * without -c runs until it is aborted, as on OpenBSD.
   */
  signal?: AbortSignal | null;
  /** A background job: wait for the world, never run it (lib/wait.ts runDetached). */
  detached?: boolean;
}

/** ping against a kernel; runs its world until done (simulated worlds only). */
export function ping(k: Kernel, argv: readonly string[], io: Io, popts: PingOptions = {}): number {
  // OpenBSD picks IPv6 by the program name (ping6, a link to ping); packetflow
  // also takes a leading -6 for it, and runs ping6 with the remaining arguments.
  if (argv[0] === '-6') return ping6(k, argv.slice(1), io, popts);
  return exitStatus(() => runSync(k.world, run(k, argv, io, popts, true)));
}

/**
 * ping in any world: a simulated one is run as ping() runs it; in one that
 * runs by itself (realtime: a lab attached to the host, the interactive
 * shell) requests leave from the world's timeouts as the wall clock
 * passes, and this resolves when ping is done.
 */
export async function pingAsync(k: Kernel, argv: readonly string[], io: Io, popts: PingOptions = {}): Promise<number> {
  if (argv[0] === '-6') return ping6Async(k, argv.slice(1), io, popts);
  return exitStatusAsync(() => {
    const g = run(k, argv, io, popts, false);
    return popts.detached === true ? runDetached(k.world, g) : runAsync(k.world, g);
  });
}

/** Flood mode's poll timeout: a request leaves at least every 10 ms. */
const FLOOD_POLL_NS = 10e6;

/** The tool; yields the completion it waits for (lib/wait.ts). */
function* run(k: Kernel, argv: readonly string[], io: Io, popts: PingOptions, sync: boolean): Waiting<number> {
  const out = (s: string): void => io.stdout.write(s);
  const errx = (msg: string, status = 1): never => {
    io.stderr.write(`ping: ${msg}\n`);
    throw new Exit(status);
  };
  const usage = (): never => {
    io.stderr.write(USAGE);
    throw new Exit(1);
  };
  let npackets = -1;
  let df = false;
  let hdrincl = false;
  let intervalNs = 1e9;
  let datalen = DEFDATALEN;
  let ttl = -1;
  let tos = -1;
  let maxwait = MAXWAIT_DEFAULT;
  let quiet = false;
  let verbose = false;
  let source: string | undefined;
  let pattern: number[] | undefined;
  let preload = 0;
  let flood = false;
  let interval = false;
  const maxpayload = IP_MAXPACKET - 20 - ECHOLEN;
  const g = getopt(argv, 'DEI:LRS:c:defgHi:l:np:qs:T:t:V:vw:');
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case 'c': {
        const r = strtonum(optarg, 0, Number.MAX_SAFE_INTEGER);
        if (typeof r === 'string') errx(`number of packets to transmit is ${r}: ${optarg}`);
        npackets = r as number;
        break;
      }
      case 'D':
        hdrincl = true;
        df = true;
        break;
      case 'i': {
        const secs = Number(optarg);
        if (optarg === '' || !Number.isFinite(secs) || secs < 0 || !/^[0-9.eE+-]+$/.test(optarg)) errx(`interval is invalid: ${optarg}`);
        if (Math.floor(secs) > 0xffffffff) errx(`interval is too large: ${optarg}`);
        const us = Math.floor(secs) * 1e6 + Math.floor((secs - Math.floor(secs)) * 1e6);
        if (us === 0) errx(`interval is too small: ${optarg}`);
        intervalNs = us * 1000;
        interval = true;
        break;
      }
      case 'I': case 'S':
        source = optarg;
        break;
      case 'l': {
        const r = strtonum(optarg, 1, Number.MAX_SAFE_INTEGER);
        if (typeof r === 'string') errx(`preload value is ${r}: ${optarg}`);
        preload = r as number;
        break;
      }
      case 'p': {
        if (!/^[0-9a-fA-F]*$/.test(optarg)) errx('patterns must be specified as hex digits');
        pattern = [];
        for (let i = 0; i < optarg.length && pattern.length < 16; i += 2) pattern.push(parseInt(optarg.slice(i, i + 2), 16));
        break;
      }
      case 'q':
        quiet = true;
        break;
      case 's': {
        const r = strtonum(optarg, 0, maxpayload);
        if (typeof r === 'string') errx(`packet size is ${r}: ${optarg}`);
        datalen = r as number;
        break;
      }
      case 'T': {
        hdrincl = true;
        let v: number;
        if (TOS[optarg] !== undefined) v = TOS[optarg]!;
        else if (optarg.length > 1 && optarg.startsWith('0x')) v = parseInt(optarg.slice(2), 16);
        else {
          const r = strtonum(optarg, 0, 255);
          v = typeof r === 'string' ? -1 : r;
        }
        if (!(v >= 0 && v <= 255)) errx(`illegal tos value ${optarg}`);
        tos = v;
        break;
      }
      case 't': {
        const r = strtonum(optarg, 0, MAXTTL);
        if (typeof r === 'string') errx(`ttl value is ${r}: ${optarg}`);
        ttl = r as number;
        break;
      }
      case 'V': {
        const r = strtonum(optarg, 0, 255);
        if (typeof r === 'string') errx(`rtable value is ${r}: ${optarg}`);
        if (r !== 0) errx('setsockopt SO_RTABLE: Invalid argument');
        break;
      }
      case 'v':
        verbose = true;
        break;
      case 'w': {
        const r = strtonum(optarg, 1, 0x7fffffff);
        if (typeof r === 'string') errx(`maxwait value is ${r}: ${optarg}`);
        maxwait = r as number;
        break;
      }
      case 'f':
        flood = true;
        break;
      case 'd': case 'E': case 'e': case 'g': case 'H': case 'L': case 'n': case 'R':
        break;
      default:
        usage();
    }
  }
  if (g.error !== undefined) {
    io.stderr.write(`ping: ${g.error}\n`);
    usage();
  }
  if (g.rest.length !== 1) usage();
  if (flood && interval) errx('-f and -i options are incompatible');
  const hostname = g.rest[0]!;
  const dst = parseIp4(hostname);
  if (dst < 0) errx(`${hostname}: no address associated with name`);
  let src = 0;
  if (source !== undefined) {
    const s = parseIp4(source);
    if (s < 0) errx(`${source}: no address associated with name`);
    if (ifa_ifwithaddr(k, s) === null) errx(`bind: ${strerror(49)}`);
    src = s;
  }
  if (k.world.isRunning && sync) errx('cannot run in a realtime world from a synchronous tool');

  const w = k.world;
  const ident = k.random.arc4random() & 0xffff;
  const timing = datalen >= ECHOTMLEN;
  const fill = new Uint8Array(datalen);
  for (let i = ECHOTMLEN; i < datalen; i++) fill[i] = pattern ? pattern[(i - ECHOTMLEN) % pattern.length]! : i & 0xff;
  if (pattern && !quiet) {
    let p = 'PATTERN: 0x';
    for (const x of pattern) p += hex(x, 2);
    out(p + '\n');
  }
  const count = npackets >= 0 ? npackets : popts.signal ? Infinity : DEFAULT_COUNT;
  const st = new PingStats();
  let done = false;
  let sendTimer: Timeout<undefined> | null = null;
  let endTimer: Timeout<undefined> | null = null;
  const end = new Completion(w);

  out(`PING ${hostname} (${formatIp4(dst)}): ${datalen} data bytes\n`);

  const icv = new IcmpPacket();
  const listener = (buf: Uint8Array, off: number, len: number, hlen: number): void => {
    const cc = len - hlen;
    const from = formatIp4(get32(buf, off + 12));
    if (cc < ECHOLEN) {
      if (verbose) io.stderr.write(`ping: packet too short (${cc} bytes) from ${from}\n`);
      return;
    }
    icv.wrap(buf, off + hlen, cc);
    if (icv.type === ICMP_ECHOREPLY) {
      if (icv.id !== ident) return;
      const seq = icv.seq;
      let triptime = 0;
      if (timing && cc >= ECHOLEN + ECHOTMLEN) {
        const sentHi = get32(buf, off + hlen + ECHOLEN);
        const sentLo = get32(buf, off + hlen + ECHOLEN + 4);
        const sent = sentHi * 4294967296 + sentLo;
        triptime = (w.now - sent) / 1e6;
        st.rtt(triptime);
      }
      const dup = st.reply(seq);
      // Flood: a backspace takes back the request's dot; no reply line.
      if (flood) {
        if (!quiet) out('\b');
      } else if (!quiet) {
        let s = `${cc} bytes from ${from}: icmp_seq=${seq} ttl=${buf[off + 8]}`;
        if (cc >= ECHOLEN + ECHOTMLEN) s += ` time=${triptime.toFixed(3)} ms`;
        if (dup) s += ' (DUP!)';
        if (cc - ECHOLEN < datalen) s += ' (TRUNC!)';
        for (let i = ECHOLEN + ECHOTMLEN; i < cc && i < datalen; i++) {
          const got = buf[off + hlen + i]!;
          const want = fill[i - ECHOLEN]!;
          if (got !== want) {
            s += `\nwrong data byte #${i - ECHOLEN} should be 0x${want.toString(16)} but was 0x${got.toString(16)}`;
            break;
          }
        }
        out(s + '\n');
      }
      if (count !== Infinity && st.nreceived >= count) finish();
    } else if (verbose) {
      // Only errors about our own requests are ours to print.
      out(`${cc} bytes from ${from}: ${pr_icmph(icv)}`);
    }
    // Flood: anything the socket reads ends ping.c's poll, and the next request leaves.
    if (flood && !done && !floodKick) {
      floodKick = true;
      w.after(0, floodNext);
    }
  };

  const finish = (): void => {
    done = true;
    if (sendTimer) sendTimer.del();
    if (endTimer) endTimer.del();
    end.finish();
  };

  const pinger = (): number => {
    const cc = ECHOLEN + datalen;
    const len = 20 + cc;
    const m = k.mbufs.get(len);
    if (m === null) return 55;
    m.append(len);
    const b = m.buf;
    const o = m.off;
    b.fill(0, o, o + 20 + ECHOLEN);
    b.set(fill, o + 20 + ECHOLEN);
    const ipo = new Ipv4Packet(b, o, len);
    ipo.version = 4;
    ipo.ihl = 5;
    ipo.totalLength = len;
    ipo.ttl = ttl >= 0 ? ttl : k.inet.ipdefttl.value;
    ipo.protocol = IPPROTO_ICMP;
    ipo.src = src;
    ipo.dst = dst;
    if (tos >= 0) ipo.tos = tos;
    const icp = new IcmpPacket(b, o + 20, cc);
    icp.type = ICMP_ECHO;
    icp.id = ident;
    icp.seq = st.ntransmitted & 0xffff;
    if (timing) {
      const t = w.now;
      put32(b, o + 20 + ECHOLEN, Math.floor(t / 4294967296));
      put32(b, o + 20 + ECHOLEN + 4, t % 4294967296);
    }
    icp.fillChecksum();
    st.ntransmitted++;
    let flags = 0;
    if (hdrincl) {
      // IP_HDRINCL: rip_output sends our header as is, with an id if we left none.
      flags = IP_RAWOUTPUT;
      if (df) ipo.ipOff = IP_DF;
      ipo.id = ip_randomid(k);
      k.stats.ipstat.inc(ips_rawout);
    }
    const e = ip_output(k, m, flags, null);
    if (e !== 0) {
      io.stderr.write(`ping: sendmsg: ${strerror(e)}\n`);
      out(`ping: wrote ${hostname} ${cc} chars, ret=-1\n`);
    }
    return 0;
  };

  /**
   * One turn of ping.c's loop in flood mode: a request (and its dot), then
   * poll for 10 ms; a packet read or the timeout starts the next turn.
   * After the last request the alarm ends it, as without -f.
   */
  let floodKick = false;
  const floodNext = (): void => {
    floodKick = false;
    if (done) return;
    if (sendTimer) sendTimer.del();
    if (st.ntransmitted >= count) {
      endTimer ??= w.after(st.lingerSecs(maxwait) * 1e9, finish);
      return;
    }
    if (!quiet) out('.');
    pinger();
    sendTimer = w.after(FLOOD_POLL_NS, floodNext);
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

  k.inet.icmpListeners.add(listener);
  // SIGINT: ping.c leaves its loop and prints the statistics at once.
  const unsub = end.abortOn(popts.signal);
  try {
    for (let i = 0; i < preload && st.ntransmitted < count; i++) pinger();
    if (flood) floodNext();
    else scheduleNext();
    if (!done) yield end;
  } finally {
    unsub();
    k.inet.icmpListeners.delete(listener);
    finish();
  }

  out(st.summary(hostname, timing));
  return st.nreceived ? 0 : 1;
}

/** The tool bound to one kernel. */
export function pingTool(k: Kernel): (argv: readonly string[], io: Io) => number {
  return (argv, io) => ping(k, argv, io);
}
