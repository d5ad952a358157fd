/**
 * route(8) for IPv6 (sbin/route/route.c with AF_INET6): add, delete and
 * get of IPv6 routes, `show -inet6` and `flush -inet6`.  Addresses are
 * read as getaddr() reads them for AF_INET6: numeric, `ADDR/LEN` (a
 * network, a host when LEN is 128), a bare address is a host except `::`,
 * `default` is ::/0, a scope as `fe80::1%em0` (embedded into bytes 2-3 as
 * the kernel keeps it); names that are not numeric fail as getaddrinfo()
 * does without a resolver.
 */
import type { Io } from '../../lib/io.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import {
  RTF_BROADCAST, RTF_DONE, RTF_GATEWAY, RTF_HOST, RTF_LLINFO, RTF_LOCAL, RTF_STATIC, RTP_MASK, RTV_MTU,
} from '../../sys/net/route.js';
import { rt6_deletemsg, rtm6_add, rtm6_delete, rtm6_get, type Rtentry6 } from '../../sys/net/route6.js';
import { IN6_IS_SCOPE_EMBED, in6_setscope } from '../../sys/netinet6/in6_var.js';
import { getuptime } from '../../sys/netinet/if_ether.js';
import { strerror, ESRCH, EBUSY, ENOBUFS } from '../../sys/sys/errno.js';
import { formatIp6, parseIp6 } from '../../wire/addr.js';
import { destName6, gwName6, p_rttables6, routename6 } from '../../usr.bin/netstat/route6.js';
import { RTF_KEYWORDS, bprintf, priorityname } from './route.js';

/** gai_strerror(EAI_NONAME): what a name that is not a numeric address gives without a resolver. */
const EAI_NONAME_TEXT = 'name or service is not known';

/**
 * getaddrinfo(AI_NUMERICHOST) for AF_INET6 with a `%scope` (an interface
 * name or index) embedded as the kernel keeps it; null when not numeric.
 */
export function getaddr6(k: Kernel, s: string): Uint8Array | null {
  const pct = s.indexOf('%');
  const a = parseIp6(pct >= 0 ? s.slice(0, pct) : s);
  if (a === null) return null;
  if (pct >= 0) {
    const scope = s.slice(pct + 1);
    const idx = /^\d+$/.test(scope)
      ? Number(scope)
      : k.ifnets.find((ifp) => ifp !== undefined && ifp.if_xname === scope)?.if_index ?? 0;
    if (idx === 0 || idx > 0xffff) return null;
    if (IN6_IS_SCOPE_EMBED(a, 0)) in6_setscope(a, 0, idx);
  }
  return a;
}

/** prefixlen(AF_INET6): strtonum(s, 0, 128) with its error texts. */
function prefixlen6(s: string, errx: (m: string) => never): number {
  if (!/^-?\d+$/.test(s)) return errx(`prefixlen ${s} is invalid`);
  const n = Number(s);
  if (n < 0) return errx(`prefixlen ${s} is too small`);
  if (n > 128) return errx(`prefixlen ${s} is too large`);
  return n;
}

/** Bits of a contiguous IPv6 netmask (-netmask), as the kernel reads the mask it is given. */
function masklen6(m: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 16; i++) {
    const b = m[i]!;
    if (b === 0xff) {
      n += 8;
      continue;
    }
    n += Math.clz32(~(b << 24));
    break;
  }
  return n;
}

function route6dst(k: Kernel, rt: Rtentry6): string {
  return routename6(k, rt.rt_dst);
}

/** The mask line of print_getmsg(): the prefix as an address (masks carry no scope). */
function maskname6(plen: number): string {
  const m = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = plen - i * 8;
    m[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return formatIp6(m, 0);
}

/** print_getmsg() for an IPv6 RTM_GET answer. */
export function print_getmsg6(k: Kernel, rt: Rtentry6, routeTo: string): string {
  let s = `   route to: ${routeTo}\n`;
  s += `destination: ${route6dst(k, rt)}\n`;
  if (!(rt.rt_flags & RTF_HOST)) s += `       mask: ${maskname6(rt.rt_plen)}\n`;
  if (rt.rt_flags & RTF_GATEWAY) s += `    gateway: ${gwName6(k, rt)}\n`;
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp !== undefined) s += `  interface: ${ifp.if_xname}\n`;
  if (rt.rt_ifa !== null) s += ` if address: ${routename6(k, rt.rt_ifa.addr)}\n`;
  const prio = rt.rt_priority & RTP_MASK;
  s += `   priority: ${prio} (${priorityname(prio)})\n`;
  s += `      flags: ${bprintf(rt.rt_flags | RTF_DONE)}\n`;
  const expire = rt.rt_expire ? rt.rt_expire - getuptime(k) : 0;
  s += '     use       mtu    expire\n';
  s += `${String(rt.rt_use).padStart(8)}  ${String(rt.rt_mtu).padStart(8)}${rt.rt_locks & RTV_MTU ? 'L' : ' '} ${String(expire).padStart(8)} \n`;
  return s;
}

/** `route show -inet6`: the Internet6 section after `Routing tables`. */
export function show6(k: Kernel, nflag: boolean): string {
  return p_rttables6(k, nflag);
}

/** `route flush -inet6`: gateway, static and neighbor routes go; the `done` lines (p_sockaddr width 20). */
export function flush6(k: Kernel, nflag: boolean, qflag: boolean, debugonly: boolean): string {
  let out = '';
  const col = (s: string): string => (nflag ? s.padEnd(20) : s.slice(0, 20).padEnd(20));
  for (const rt of k.inet6.rtable.entries()) {
    if (!(rt.rt_flags & (RTF_GATEWAY | RTF_STATIC | RTF_LLINFO))) continue;
    if (rt.rt_flags & (RTF_LOCAL | RTF_BROADCAST)) continue;
    if (debugonly || !rt.rt_intable) continue;
    rt6_deletemsg(k, rt);
    if (qflag) continue;
    out += `${col(destName6(k, rt))} ${col(gwName6(k, rt))} done\n`;
  }
  return out;
}

/**
 * newroute() for AF_INET6: add, delete (del) and get.  args[0] is the
 * command.  Returns the exit status; messages as route.c prints them.
 */
export function newroute6(
  k: Kernel, args: readonly string[], io: Io, qflag: boolean, usage: (cp?: string) => never, errx: (m: string) => never,
): number {
  const cmd = args[0]!;
  let dest = '';
  let gateway = '';
  let dst: Uint8Array | null = null;
  let gw: Uint8Array | null = null;
  let plen = 128;
  let haveMask = false;
  let ishost = false;
  let forcehost = false;
  let forcenet = false;
  let iface = false;
  let flags = 0;
  let mtu = 0;
  let prio: number | undefined;
  const parse = (s: string): Uint8Array => {
    const slash = s.indexOf('/');
    const a = getaddr6(k, slash >= 0 ? s.slice(0, slash) : s);
    if (a === null) return errx(`${s}: ${EAI_NONAME_TEXT}`);
    return a;
  };
  const setDst = (s: string): void => {
    dest = s;
    if (s === 'default') {
      dst = new Uint8Array(16);
      plen = 0;
      haveMask = true;
      forcenet = true;
      ishost = false;
      return;
    }
    if (s.length >= 'xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:255:255:255:255/128'.length + 1) errx(`${s}: bad value`);
    dst = parse(s);
    const slash = s.indexOf('/');
    let sep = slash >= 0 ? s.slice(slash + 1) : null;
    if (sep === null && dst.every((x) => x === 0)) sep = '0';
    if (sep === null) {
      plen = 128;
      ishost = true;
      return;
    }
    plen = prefixlen6(sep, errx);
    haveMask = true;
    ishost = plen === 128;
  };
  const setGw = (s: string): void => {
    if (s === 'default') {
      gw = new Uint8Array(16);
    } else gw = parse(s);
    gateway = s;
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
        case 'inet6': break;
        case 'net': forcenet = true; break;
        case 'host': forcehost = true; break;
        case 'iface': case 'interface': iface = true; break;
        case 'gateway': setGw(next()); break;
        case 'dst': setDst(next()); break;
        case 'netmask': {
          if (dst === null) errx('-netmask must follow destination parameter');
          const v = next();
          const m = v === 'default' ? new Uint8Array(16) : parse(v);
          plen = masklen6(m);
          haveMask = true;
          forcenet = true;
          break;
        }
        case 'prefixlen': {
          if (dst === null) errx('-prefixlen must follow destination parameter');
          plen = prefixlen6(next(), errx);
          haveMask = true;
          ishost = plen === 128;
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
    } else if (dst === null) setDst(a);
    else if (gw === null) setGw(a);
    else usage();
  }
  if (forcehost) ishost = true;
  if (forcenet) ishost = false;
  if (forcenet && !haveMask) errx('netmask missing');
  if (dst === null) usage();
  const d: Uint8Array = dst!;
  const len = ishost ? 128 : plen;
  const out = (s: string): void => io.stdout.write(s);
  const head = `${cmd} ${ishost ? 'host' : 'net'} ${dest}` + (gateway ? `: gateway ${gateway}` : '');
  const fail = (e: number): number => {
    if (!qflag) out(`${head}: ${e === ESRCH ? 'not in table' : e === EBUSY ? 'entry in use' : e === ENOBUFS ? 'routing table overflow' : strerror(e)}\n`);
    return 1;
  };
  switch (cmd) {
    case 'add': {
      if (gw === null) usage();
      const e = rtm6_add(k, d, len, gw!, { flags, iface, host: ishost, priority: prio, mtu });
      if (e !== 0) return fail(e);
      if (!qflag) out(`${head}\n`);
      return 0;
    }
    case 'delete': case 'del': {
      const e = rtm6_delete(k, d, len, gw ?? undefined, prio);
      if (e !== 0) return fail(e);
      if (!qflag) out(`${head}\n`);
      return 0;
    }
    default: {
      // get: an exact prefix when a mask was given, else the best match.
      const rt = haveMask && !ishost ? rtm6_get(k, d, len) : rtm6_get(k, d);
      if (rt === null) return fail(ESRCH);
      out(print_getmsg6(k, rt, routename6(k, d)));
      return 0;
    }
  }
}
