/**
 * arp(8) (usr.sbin/arp/arp.c): `arp -a` lists the ARP entries (RTF_LLINFO
 * routes) in OpenBSD's columns, `arp host` one entry, `arp -d host` and
 * `arp -ad` delete.  Names are never resolved (no resolver in a lab): -n
 * is the only behaviour.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { arp_entries, arpinvalidate, getuptime } from '../../sys/netinet/if_ether.js';
import {
  AF_LINK, RTF_ANNOUNCE, RTF_GATEWAY, RTF_LLINFO, RTF_LOCAL, RTF_PERMANENT_ARP, rt_match, rtdeletemsg, type Rtentry,
} from '../../sys/net/route.js';
import { IFT_ETHER } from '../../sys/net/if.js';
import { strerror, ESRCH } from '../../sys/sys/errno.js';
import { formatIp4, parseIp4 } from '../../wire/addr.js';
import { ether_ntoa } from '../../usr.bin/netstat/route.js';
import { Exit, exitStatus } from '../../lib/exit.js';

const W_ADDR = 15;
const W_LL = 17;
const W_IF = 6;

const USAGE =
  'usage: arp [-adn] [-V rdomain] hostname\n' +
  '       arp [-F] [-f file] [-V rdomain] -s hostname ether_addr [temp | permanent] [pub]\n' +
  '       arp -W ether_addr [iface]\n';

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

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

const HEADER = `${pad('Host', W_ADDR)} ${pad('Ethernet Address', W_LL)} ${'Netif'.padStart(W_IF)} ${pad('Expire', 9)} ${'Flags'.padStart(5)}\n`;

/** print_entry() */
export function print_entry(k: Kernel, rt: Rtentry): string {
  const host = formatIp4(rt.rt_dst);
  const addrwidth = Math.max(host.length, W_ADDR);
  const ll = rt.rt_gwalen ? ether_ntoa(rt.rt_gwll) : '(incomplete)';
  let llwidth = ll.length;
  if (W_ADDR + W_LL - addrwidth > llwidth) llwidth = W_ADDR + W_LL - addrwidth;
  const ifname = k.ifnets[rt.rt_ifidx]?.if_xname ?? '?';
  let ifwidth = ifname.length;
  if (W_ADDR + W_LL + W_IF - addrwidth - llwidth > ifwidth) ifwidth = W_ADDR + W_LL + W_IF - addrwidth - llwidth;
  let s = `${pad(host, addrwidth)} ${pad(ll, llwidth)} ${ifname.padStart(ifwidth)}`;
  const now = getuptime(k);
  if (rt.rt_flags & (RTF_PERMANENT_ARP | RTF_LOCAL)) s += ` ${pad('permanent', 9)}`;
  else if (rt.rt_expire === 0) s += ` ${pad('static', 9)}`;
  else if (rt.rt_expire > now) s += ` ${pad(sec2str(rt.rt_expire - now).slice(0, 9), 9)}`;
  else s += ` ${pad('expired', 9)}`;
  s += ` ${rt.rt_flags & RTF_LOCAL ? 'l' : ''}${rt.rt_flags & RTF_ANNOUNCE ? 'p' : ''}\n`;
  return s;
}

export function arp(k: Kernel, argv: readonly string[], io: Io): number {
  return exitStatus(() => run(k, argv, io));
}

function run(k: Kernel, argv: readonly string[], io: Io): number {
  const usage = (): never => {
    io.stderr.write(USAGE);
    throw new Exit(1);
  };
  let aflag = false;
  let func = '';
  const g = getopt(argv, 'andsFfV:W');
  if (g.error !== undefined) usage();
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case 'a':
        aflag = true;
        break;
      case 'n': case 'F':
        break;
      case 'd': case 's': case 'f': case 'W':
        if (func) usage();
        func = ch;
        break;
      case 'V':
        if (!/^\d+$/.test(optarg) || Number(optarg) > 255) {
          io.stderr.write(`arp: bad rdomain: ${/^\d+$/.test(optarg) ? 'too large' : 'invalid'}: Undefined error: 0\n`);
          usage();
        }
        break;
      default:
        usage();
    }
  }
  const args = g.rest;
  const parseHost = (h: string): number => {
    const a = parseIp4(h);
    if (a < 0) {
      io.stderr.write(`arp: ${h}: no address associated with name\n`);
      throw new Exit(1);
    }
    return a;
  };
  switch (func) {
    case '':
      if (aflag && args.length === 0) {
        let s = HEADER;
        for (const rt of arp_entries(k)) s += print_entry(k, rt);
        io.stdout.write(s);
        return 0;
      }
      if (!aflag && args.length === 1) {
        const a = parseHost(args[0]!);
        let s = HEADER;
        const rt = arp_entries(k).find((r) => r.rt_dst === a);
        if (rt === undefined) {
          io.stdout.write(`${s}${pad(formatIp4(a), W_ADDR)} no entry\n`);
          return 1;
        }
        s += print_entry(k, rt);
        io.stdout.write(s);
        return 0;
      }
      return usage();
    case 'd':
      if (aflag && args.length === 0) {
        for (const rt of arp_entries(k)) del(k, io, formatIp4(rt.rt_dst), rt.rt_dst);
        return 0;
      }
      if (!aflag && args.length === 1) return del(k, io, args[0]!, parseHost(args[0]!));
      return usage();
    default:
      io.stderr.write(`arp: -${func}: not supported in packetflow yet\n`);
      return 1;
  }
}

/** delete(): the entry of addr, unless it is one of our own addresses. */
function del(k: Kernel, io: Io, host: string, addr: number): number {
  const rt = rt_match(k, addr, 0);
  if (rt === null) {
    io.stderr.write(`arp: ${host}: ${strerror(ESRCH)}\n`);
    return 1;
  }
  if (rt.rt_dst === addr && rt.rt_plen === 32 && rt.rt_gwfamily === AF_LINK && rt.rt_flags & RTF_LLINFO) {
    if (rt.rt_flags & RTF_LOCAL) return 0;
    const ifp = k.ifnets[rt.rt_ifidx];
    if (!(rt.rt_flags & RTF_GATEWAY) && ifp !== undefined && ifp.if_type === IFT_ETHER) {
      arpinvalidate(k, rt);
      rtdeletemsg(k, rt);
      io.stdout.write(`${host} (${formatIp4(addr)}) deleted\n`);
      return 0;
    }
  }
  io.stderr.write(`arp: delete: cannot locate ${host}\n`);
  return 1;
}

export function arpTool(k: Kernel): (argv: readonly string[], io: Io) => number {
  return (argv, io) => arp(k, argv, io);
}
