/**
 * ndp(8) (usr.sbin/ndp/ndp.c): the neighbor cache in OpenBSD's columns
 * (`ndp -a`, `-n` numeric), one entry by name, `-d` delete, `-c` flush,
 * `-s nodename ether_addr [temp] [proxy]`.  Names are numeric here (no
 * resolver), so -n changes nothing.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { RTF_ANNOUNCE, RTF_CLONED, RTF_HOST, RTF_LOCAL } from '../../sys/net/route.js';
import type { Rtentry6 } from '../../sys/net/route6.js';
import { formatIp6, parseIp6, parseMac } from '../../wire/addr.js';
import { getuptime } from '../../sys/netinet/if_ether.js';
import {
  ND6_LLINFO_DELAY, ND6_LLINFO_INCOMPLETE, ND6_LLINFO_NOSTATE, ND6_LLINFO_PROBE, ND6_LLINFO_REACHABLE,
  ND6_LLINFO_STALE, nd6_add_static, nd6_delete, nd6_entries, nd6_nbrinfo,
} from '../../sys/netinet6/nd6.js';
import { IN6_IS_ADDR_MULTICAST, IN6_IS_SCOPE_EMBED, in6_getscope, in6_setscope } from '../../sys/netinet6/in6_var.js';
import { rt6_match } from '../../sys/net/route6.js';

const W_ADDR = 39;
const W_LL = 17;
const W_IF = 7;

const USAGE =
  'usage: ndp [-acnt] [-A wait] [-d hostname] [-f filename] [-i interface]\n' +
  '\t[-s nodename ether_addr [temp] [proxy]] [-V rdomain] [hostname]\n';

/** sec2str() */
export function sec2str(total: number): string {
  const days = Math.floor(total / 3600 / 24);
  const hours = Math.floor(total / 3600) % 24;
  const mins = Math.floor(total / 60) % 60;
  const secs = total % 60;
  let s = '';
  let first = true;
  if (days) {
    first = false;
    s += `${days}d`;
  }
  if (!first || hours) {
    first = false;
    s += `${hours}h`;
  }
  if (!first || mins) s += `${mins}m`;
  return s + `${secs}s`;
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}
function rpad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

/** An address (scope embedded) as getnameinfo(NI_NUMERICHOST) prints it. */
export function ndp_host(k: Kernel, a: Uint8Array): string {
  const scope = in6_getscope(a, 0);
  if (scope === 0) return formatIp6(a, 0);
  const t = a.slice();
  t[2] = 0;
  t[3] = 0;
  return `${formatIp6(t, 0)}%${k.ifnets[scope]?.if_xname ?? String(scope)}`;
}

function ether_str(rt: Rtentry6): string {
  if (rt.rt_gwalen === 0) return '(incomplete)';
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + rt.rt_gwll[i]!.toString(16).padStart(2, '0');
  return s;
}

function stateChar(state: number): string {
  switch (state) {
    case ND6_LLINFO_NOSTATE: return 'N';
    case ND6_LLINFO_INCOMPLETE: return 'I';
    case ND6_LLINFO_REACHABLE: return 'R';
    case ND6_LLINFO_STALE: return 'S';
    case ND6_LLINFO_DELAY: return 'D';
    case ND6_LLINFO_PROBE: return 'P';
    default: return '?';
  }
}

/** dump(): the header and one line per neighbor (addr: only that one). */
export function ndp_dump(k: Kernel, addr: Uint8Array | null): { out: string; found: boolean } {
  let s = `${pad('Neighbor', W_ADDR)} ${pad('Linklayer Address', W_LL)} ${rpad('Netif', W_IF)} ${pad('Expire', 9)} S Flags\n`;
  let found = false;
  const now = getuptime(k);
  for (const rt of nd6_entries(k)) {
    if (!(rt.rt_flags & RTF_HOST)) continue;
    if (addr !== null) {
      if (!rt.rt_dst.every((x, i) => x === addr[i])) continue;
      found = true;
    } else if (IN6_IS_ADDR_MULTICAST(rt.rt_dst, 0)) continue;
    const host = ndp_host(k, rt.rt_dst);
    const ll = ether_str(rt);
    const ifname = k.ifnets[rt.rt_ifidx]?.if_xname ?? '?';
    const addrwidth = Math.max(W_ADDR, host.length);
    const llwidth = Math.max(ll.length, W_ADDR + W_LL - addrwidth);
    const ifwidth = Math.max(ifname.length, W_ADDR + W_LL + W_IF - addrwidth - llwidth);
    let line = `${pad(host, addrwidth)} ${pad(ll, llwidth)} ${rpad(ifname, ifwidth)}`;
    const nbi = nd6_nbrinfo(rt);
    if (nbi.expire > now) line += ` ${pad(sec2str(nbi.expire - now), 9)}`;
    else if (nbi.expire === 0) line += ` ${pad('permanent', 9)}`;
    else line += ` ${pad('expired', 9)}`;
    line += ` ${stateChar(nbi.state)}`;
    line += ` ${rt.rt_flags & RTF_LOCAL ? 'l' : ''}${nbi.isrouter ? 'R' : ''}${rt.rt_flags & RTF_ANNOUNCE ? 'p' : ''}`;
    if (nbi.asked) line += ` ${nbi.asked}`;
    s += line + '\n';
  }
  return { out: s, found };
}

/** A host argument: an address with an optional %ifname scope. */
function gethost(k: Kernel, name: string): Uint8Array | null {
  const a = parseIp6(name);
  if (a === null) return null;
  const pct = name.indexOf('%');
  if (IN6_IS_SCOPE_EMBED(a, 0)) {
    if (pct < 0) return null;
    const ifp = k.ifunit(name.slice(pct + 1));
    if (ifp === undefined) return null;
    in6_setscope(a, 0, ifp.if_index);
  }
  return a;
}

export function ndp(k: Kernel, argv: readonly string[], io: Io): number {
  const out = (s: string): void => io.stdout.write(s);
  const usage = (): number => {
    io.stderr.write(USAGE);
    return 1;
  };
  let aflag = false;
  let cflag = false;
  let dhost: string | null = null;
  let sflag = false;
  const g = getopt(argv, 'acd:f:i:nstA:V:');
  if (g.error !== undefined) {
    io.stderr.write(`ndp: ${g.error}\n`);
    return usage();
  }
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case 'a':
        aflag = true;
        break;
      case 'c':
        cflag = true;
        break;
      case 'd':
        dhost = optarg;
        break;
      case 'n':
      case 't':
        break;
      case 's':
        sflag = true;
        break;
      default:
        return usage();
    }
  }
  const rest = g.rest;
  if (cflag) {
    for (const rt of nd6_entries(k)) if (rt.rt_flags & RTF_CLONED) {
      const h = ndp_host(k, rt.rt_dst);
      nd6_delete(k, rt.rt_dst);
      out(`${h} (${h}) deleted\n`);
    }
    return 0;
  }
  if (dhost !== null) {
    const a = gethost(k, dhost);
    if (a === null) {
      io.stderr.write(`ndp: ${dhost}: no address associated with name\n`);
      return 1;
    }
    if (nd6_delete(k, a) !== 0) {
      out(`${dhost} (${ndp_host(k, a)}) -- no entry\n`);
      return 1;
    }
    out(`${dhost} (${ndp_host(k, a)}) deleted\n`);
    return 0;
  }
  if (sflag) {
    if (rest.length < 2) return usage();
    const a = gethost(k, rest[0]!);
    const mac = parseMac(rest[1]!);
    if (a === null || mac === null) return usage();
    const rt = rt6_match(k, a, 0, 0);
    const ifp = rt === null ? undefined : k.ifnets[rt.rt_ifidx];
    if (ifp === undefined) {
      out(`cannot intuit interface index and type for ${rest[0]}\n`);
      return 1;
    }
    return nd6_add_static(k, ifp, a, mac, rest.slice(2).includes('proxy')) === 0 ? 0 : 1;
  }
  if (aflag) {
    if (rest.length > 0) return usage();
    out(ndp_dump(k, null).out);
    return 0;
  }
  if (rest.length !== 1) return usage();
  const a = gethost(k, rest[0]!);
  if (a === null) {
    io.stderr.write(`ndp: ${rest[0]}: no address associated with name\n`);
    return 1;
  }
  const r = ndp_dump(k, a);
  out(r.out);
  if (!r.found) out(`${rest[0]} (${ndp_host(k, a)}) -- no entry\n`);
  return 0;
}

/** The tool bound to one kernel. */
export function ndpTool(k: Kernel): (argv: readonly string[], io: Io) => number {
  return (argv, io) => ndp(k, argv, io);
}
