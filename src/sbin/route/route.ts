/**
 * route(8) (sbin/route/route.c) for IPv4 (IPv6 in route6.ts): add, delete, get, show and
 * flush, with OpenBSD's destination syntax (`default`, dotted quads that
 * are hosts, `a.b/16` and shortened networks as inet_net_pton reads them,
 * -net/-host/-netmask/-prefixlen, -iface, -mtu, -priority), messages and
 * exit statuses.  Only routing table 0 exists.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { rtm_add, rtm_delete } from '../../sys/net/rtsock.js';
import { getuptime } from '../../sys/netinet/if_ether.js';
import {
  AF_LINK, RTF_BROADCAST, RTF_DONE, RTF_GATEWAY, RTF_HOST, RTF_LLINFO, RTF_LOCAL, RTF_STATIC, RTV_MTU,
  RTF_BLACKHOLE, RTF_REJECT, RTF_CLONING, RTF_PROTO2, RTF_MPATH, RTP_MASK, plen2mask, rtdeletemsg, type Rtentry,
} from '../../sys/net/route.js';
import { strerror, ESRCH, EBUSY, ENOBUFS } from '../../sys/sys/errno.js';
import { formatIp4 } from '../../wire/addr.js';
import { p_rttables, rtDestName, rtGatewayName } from '../../usr.bin/netstat/route.js';
import { flush6, newroute6, show6 } from './route6.js';
import { Exit, exitStatus } from '../../lib/exit.js';

const USAGE = 'usage: route [-dnqtv] [-T rtable] command [[modifier ...] arg ...]\n';

/** The flag modifiers of route add/change (keywords.h), the same for inet and inet6. */
export const RTF_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['static', RTF_STATIC], ['reject', RTF_REJECT], ['blackhole', RTF_BLACKHOLE],
  ['cloning', RTF_CLONING], ['proto2', RTF_PROTO2], ['mpath', RTF_MPATH],
]);

const ROUTEFLAGS: Array<[number, string]> = [
  [1, 'UP'], [2, 'GATEWAY'], [3, 'HOST'], [4, 'REJECT'], [5, 'DYNAMIC'], [6, 'MODIFIED'], [7, 'DONE'],
  [8, 'XMASK_PRESENT'], [9, 'CLONING'], [10, 'MULTICAST'], [11, 'LLINFO'], [12, 'STATIC'], [13, 'BLACKHOLE'],
  [14, 'PROTO3'], [15, 'PROTO2'], [16, 'PROTO1'], [17, 'CLONED'], [18, 'CACHED'], [19, 'MPATH'], [21, 'MPLS'],
  [22, 'LOCAL'], [23, 'BROADCAST'], [24, 'CONNECTED'], [25, 'BFD'],
];

/** bprintf() with routeflags. */
export function bprintf(b: number): string {
  if (b === 0) return '';
  const names = ROUTEFLAGS.filter(([bit]) => b & (1 << (bit - 1))).map(([, n]) => n);
  return names.length ? `<${names.join(',')}>` : '';
}

export function priorityname(p: number): string {
  switch (p) {
    case 0: return 'none';
    case 1: return 'local';
    case 4: return 'connected';
    case 8: return 'static';
    case 32: return 'ospf';
    case 36: return 'is-is';
    case 40: return 'rip';
    case 48: return 'bgp';
    case 56: return 'default';
    default: return '';
  }
}

/**
 * inet_net_pton(AF_INET) as route's getaddr() uses it for destinations:
 * returns [address, bits], bits 32 meaning a host; null when not numeric.
 */
export function inet_net_pton(s: string): [number, number] | null {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:\/(\d+))?$/.exec(s);
  if (!m) return null;
  const octets = [m[1], m[2], m[3], m[4]].filter((x) => x !== undefined).map(Number);
  if (octets.some((o) => o > 255)) return null;
  let a = 0;
  for (let i = 0; i < 4; i++) a = a * 256 + (octets[i] ?? 0);
  let bits: number;
  if (m[5] !== undefined) {
    bits = Number(m[5]);
    if (bits > 32) return null;
  } else {
    const first = octets[0]!;
    bits = first >= 240 ? 32 : first >= 224 ? 4 : first >= 192 ? 24 : first >= 128 ? 16 : 8;
    if (bits < octets.length * 8) bits = octets.length * 8;
  }
  return [a >>> 0, bits];
}

export function route(k: Kernel, argv: readonly string[], io: Io): number {
  return exitStatus(() => run(k, argv, io));
}

function run(k: Kernel, argv: readonly string[], io: Io): number {
  const out = (s: string): void => io.stdout.write(s);
  const usage = (cp?: string): never => {
    if (cp !== undefined) io.stderr.write(`route: botched keyword: ${cp}\n`);
    io.stderr.write(USAGE);
    throw new Exit(1);
  };
  const errx = (msg: string): never => {
    io.stderr.write(`route: ${msg}\n`);
    throw new Exit(1);
  };
  if (argv.length < 1) usage();
  let nflag = false;
  let qflag = false;
  let debugonly = false;
  const g = getopt(argv, 'dnqtT:v');
  if (g.error !== undefined) usage();
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case 'n': nflag = true; break;
      case 'q': qflag = true; break;
      case 'd': debugonly = true; break;
      case 't': case 'v': break;
      case 'T':
        if (!/^\d+$/.test(optarg) || Number(optarg) > 255) errx(`table id ${optarg} is invalid`);
        if (Number(optarg) !== 0) errx(`routing table ${optarg}: No such file or directory`);
        break;
      default: usage();
    }
  }
  const args = g.rest;
  if (args.length === 0) usage();
  const cmd = args[0]!;
  switch (cmd) {
    case 'show': {
      let af = '';
      for (const a of args.slice(1)) {
        if (a !== '-inet' && a !== '-inet6') usage(a);
        af = a;
      }
      if (af === '-inet6') out('Routing tables\n' + show6(k, nflag));
      else out(p_rttables(k, nflag) + (af === '' ? show6(k, nflag) : ''));
      return 0;
    }
    case 'flush': {
      let af = '';
      for (const a of args.slice(1)) {
        if (a !== '-inet' && a !== '-inet6') usage(a);
        af = a;
      }
      if (af === '-inet6') {
        out(flush6(k, nflag, qflag, debugonly));
        return 0;
      }
      for (const rt of k.inet.rtable.entries()) {
        if (!(rt.rt_flags & (RTF_GATEWAY | RTF_STATIC | RTF_LLINFO))) continue;
        if (rt.rt_flags & (RTF_LOCAL | RTF_BROADCAST)) continue;
        if (debugonly || !rt.rt_intable) continue;
        rtdeletemsg(k, rt);
        if (qflag) continue;
        const d = rtDestName(rt);
        const gw = rtGatewayName(rt);
        out(nflag ? `${d.padEnd(20)} ${gw.padEnd(20)} done\n` : `${d.slice(0, 20).padEnd(20)} ${gw.slice(0, 20).padEnd(20)} done\n`);
      }
      if (af === '') out(flush6(k, nflag, qflag, debugonly));
      return 0;
    }
    case 'add': case 'delete': case 'del': case 'get': case 'change':
      if (cmd !== 'change' && isInet6(args)) return newroute6(k, args, io, qflag, usage, errx);
      return newroute(k, args, io, qflag, usage, errx);
    case 'monitor': case 'exec': case 'nameserver': case 'sourceaddr':
      return errx(`${cmd}: not supported in packetflow yet`);
    default:
      return usage(cmd);
  }
}

/** AF_INET6 by -inet6, or (as getaddr() decides without it) a destination with a colon. */
function isInet6(args: readonly string[]): boolean {
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-inet6') return true;
    if (a === '-inet') return false;
    if (a === '-dst') return (args[i + 1] ?? '').includes(':');
    if (!a.startsWith('-')) return a.includes(':');
    // Keywords taking a value before the destination.
    if (['-gateway', '-netmask', '-prefixlen', '-mtu', '-priority', '-label', '-ifa', '-ifp'].includes(a)) i++;
  }
  return false;
}

function newroute(
  k: Kernel, args: string[], io: Io, qflag: boolean, usage: (cp?: string) => never, errx: (m: string) => never,
): number {
  const cmd = args[0]!;
  let dest = '';
  let gateway = '';
  let dst = 0;
  let bits = -1;
  let gw = 0;
  let haveDst = false;
  let haveGw = false;
  let ishost = false;
  let forcehost = false;
  let forcenet = false;
  let haveMask = false;
  let iface = false;
  let flags = 0;
  let mtu = 0;
  let prio: number | undefined;
  const setDst = (s: string): void => {
    dest = s;
    haveDst = true;
    if (s === 'default') {
      dst = 0;
      bits = 0;
      forcenet = true;
      haveMask = true;
      return;
    }
    const r = inet_net_pton(s);
    if (r === null) errx(`${s}: bad address`);
    [dst, bits] = r!;
    ishost = bits === 32;
  };
  const setGw = (s: string): void => {
    const r = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
    if (!r || r.slice(1).some((x) => Number(x) > 255)) errx(`${s}: bad address`);
    gw = r!.slice(1).reduce((a, x) => a * 256 + Number(x), 0);
    gateway = s;
    haveGw = true;
  };
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) {
      const kw = a.slice(1);
      const next = (): string => {
        if (i + 1 >= args.length) usage(kw);
        return args[++i]!;
      };
      switch (kw) {
        case 'inet': break;
        case 'net': forcenet = true; break;
        case 'host': forcehost = true; break;
        case 'iface': case 'interface': iface = true; break;
        case 'gateway': setGw(next()); break;
        case 'dst': setDst(next()); break;
        case 'netmask': {
          if (!haveDst) errx('-netmask must follow destination parameter');
          const v = next();
          const r = inet_net_pton(v);
          if (r === null) errx(`${v}: bad address`);
          let plen = 0;
          while (plen < 32 && r![0] & (0x80000000 >>> plen)) plen++;
          bits = plen;
          forcenet = true;
          haveMask = true;
          break;
        }
        case 'prefixlen': {
          if (!haveDst) errx('-prefixlen must follow destination parameter');
          const v = next();
          if (!/^\d+$/.test(v) || Number(v) > 32) errx(`prefixlen ${v} is ${/^\d+$/.test(v) ? 'too large' : 'invalid'}`);
          bits = Number(v);
          ishost = bits === 32;
          haveMask = true;
          break;
        }
        case 'mtu': {
          const v = next();
          if (!/^\d+$/.test(v)) errx(`set_metric mtu: ${v} is invalid`);
          mtu = Number(v);
          break;
        }
        case 'priority': {
          const v = next();
          const names: Record<string, number> = { connected: 4, static: 8, ospf: 32, rip: 40, bgp: 48 };
          if (names[v] !== undefined) prio = names[v];
          else if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 63) prio = Number(v);
          else errx(`priority is ${/^\d+$/.test(v) ? (Number(v) < 1 ? 'too small' : 'too large') : 'invalid'}: ${v}`);
          break;
        }
        default: {
          const f = RTF_KEYWORDS.get(kw);
          if (f === undefined) usage(kw);
          flags |= f!;
        }
      }
    } else if (!haveDst) setDst(a);
    else if (!haveGw) setGw(a);
    else usage();
  }
  if (forcehost) ishost = true;
  if (forcenet) ishost = false;
  if (forcenet && !haveMask && bits === 32) errx('netmask missing');
  if (!haveDst) usage();
  const plen = ishost ? 32 : bits;
  const net = (dst & plen2mask(plen)) >>> 0;
  const out = (s: string): void => io.stdout.write(s);
  const head = `${cmd} ${ishost ? 'host' : 'net'} ${dest}` + (gateway ? `: gateway ${gateway}` : '');
  const fail = (e: number): number => {
    if (!qflag) out(`${head}: ${e === ESRCH ? 'not in table' : e === EBUSY ? 'entry in use' : e === ENOBUFS ? 'routing table overflow' : strerror(e)}\n`);
    return 1;
  };
  switch (cmd) {
    case 'add': {
      if (!haveGw) usage();
      const e = rtm_add(k, net, plen, gw, { flags, iface, host: ishost, priority: prio, mtu });
      if (e !== 0) return fail(e);
      if (!qflag) out(`${head}\n`);
      return 0;
    }
    case 'delete': case 'del': {
      const e = rtm_delete(k, net, plen, haveGw ? gw : undefined, prio);
      if (e !== 0) return fail(e);
      if (!qflag) out(`${head}\n`);
      return 0;
    }
    case 'change':
      return errx('change: not supported in packetflow yet');
    default: {
      // get: an exact prefix when a mask was given, else the best match.
      const rt = haveMask && !ishost ? k.inet.rtable.lookup(net, plen) : k.inet.rtable.match(dst);
      if (rt === null) return fail(ESRCH);
      out(print_getmsg(k, rt, dest === 'default' ? 'default' : formatIp4(dst)));
      return 0;
    }
  }
}

/** print_getmsg() for an RTM_GET answer. */
export function print_getmsg(k: Kernel, rt: Rtentry, routeTo: string): string {
  let s = `   route to: ${routeTo}\n`;
  s += `destination: ${rt.rt_plen === 0 ? 'default' : formatIp4(rt.rt_dst)}\n`;
  if (!(rt.rt_flags & RTF_HOST)) s += `       mask: ${rt.rt_plen === 0 ? 'default' : formatIp4(rt.rt_mask)}\n`;
  if (rt.rt_flags & RTF_GATEWAY) s += `    gateway: ${rt.rt_gwfamily === AF_LINK ? rtGatewayName(rt) : formatIp4(rt.rt_gwaddr)}\n`;
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp !== undefined) s += `  interface: ${ifp.if_xname}\n`;
  if (rt.rt_ifa !== null) s += ` if address: ${formatIp4(rt.rt_ifa.addr)}\n`;
  s += `   priority: ${rt.rt_priority & RTP_MASK} (${priorityname(rt.rt_priority & RTP_MASK)})\n`;
  s += `      flags: ${bprintf(rt.rt_flags | RTF_DONE)}\n`;
  const expire = rt.rt_expire ? rt.rt_expire - getuptime(k) : 0;
  s += '     use       mtu    expire\n';
  s += `${String(rt.rt_use).padStart(8)}  ${String(rt.rt_mtu).padStart(8)}${rt.rt_locks & RTV_MTU ? 'L' : ' '} ${String(expire).padStart(8)} \n`;
  return s;
}

export function routeTool(k: Kernel): (argv: readonly string[], io: Io) => number {
  return (argv, io) => route(k, argv, io);
}
