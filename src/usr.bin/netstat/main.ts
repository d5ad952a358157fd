/**
 * netstat(1): option parsing and dispatch as OpenBSD's usr.bin/netstat/main.c
 * (same getopt string, usage text, error texts and exit statuses).
 *
 * Implemented: the `-s` family (`-s`, `-ss`, `-s -p proto`, `-s -f inet|inet6`,
 * `-s -u` / `-f local|unix|mpls`, which print nothing as on OpenBSD), and,
 * against a Kernel, `-r` (`-rn`, `-r -f inet`) and `-i` / `-I ifname` with
 * `-b`, `-d`, `-e`, `-q`, `-v`.
 * Not yet: -w (interval), -rs, -g, -R, -m, -W, -P and the socket list
 * (`netstat`, `-a`, `-n`, `-p proto` without -s).  Those parse as on OpenBSD
 * but end in the usage message and status 1, see notYet().
 *
 * An addition of packetflow's: `-X` with `-s` also prints packetflow's own
 * counters (sections `ether` and `arp`, see packetflow.ts), which OpenBSD
 * does not have; `-s -X -p arp` prints one of them.  The usage message has
 * one more line for it; everything else is OpenBSD's.
 */
import type { Io, Tool } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import { protoStats, type NetstatSource } from './inet.js';
import { IP6PROTOX, PROTOX } from './netstat-format.gen.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { intpr, p_rttables, type IfErrs } from './route.js';
import { p_rttables6 } from './route6.js';
import { protopr } from './socket.js';
import { EXTRA_SECTIONS, extraStats, isExtraSection, type ExtraBlock } from './packetflow.js';
import { Exit, exitStatus } from '../../lib/exit.js';

export type { NetstatSource, StatsBlock } from './inet.js';

// OpenBSD's, plus X (packetflow's own counters).
const OPTSTRING = 'AaBbc:deFf:ghI:iLlM:mN:np:P:qRrsT:uvW:w:X';

const USAGE =
  'usage: netstat [-AaBln] [-M core] [-N system] [-p protocol] [-T rtable]\n' +
  '       netstat -W interface\n' +
  '       netstat -m\n' +
  '       netstat -I interface | -i [-bdehnq]\n' +
  '       netstat -w wait [-bdehnq] [-c count] [-I interface]\n' +
  '       netstat -s [-gru] [-f address_family] [-p protocol]\n' +
  '       netstat -g [-lnu] [-f address_family]\n' +
  '       netstat -R\n' +
  '       netstat -r [-AFu] [-f address_family] [-M core] [-N system] [-T rtable]\n' +
  '       netstat -P pcbaddr [-v] [-M core] [-N system]\n' +
  '       netstat -s -X [-p protocol]\n';

const INT_MAX = 2147483647;
const RT_TABLEID_MAX = 255;

type Af = 'unspec' | 'inet' | 'inet6' | 'local' | 'mpls';

/** Aliases from OpenBSD's /etc/protocols that name a known section (name2protox()). */
const PROTO_ALIASES: Readonly<Record<string, string>> = {
  IP: 'ip',
  HOPOPT: 'ip',
  ICMP: 'icmp',
  IGMP: 'igmp',
  'IP-ENCAP': 'ipencap',
  TCP: 'tcp',
  UDP: 'udp',
  'IPSEC-ESP': 'esp',
  ESP: 'esp',
  'IPSEC-AH': 'ah',
  AH: 'ah',
  ETHERIP: 'etherip',
  IPComp: 'ipcomp',
  CARP: 'carp',
  vrrp: 'carp',
  PFSYNC: 'pfsync',
  DIVERT: 'divert',
};

const KNOWN: ReadonlySet<string> = new Set<string>([...PROTOX, ...IP6PROTOX]);

/** main.c name2protox(): a section name, or an /etc/protocols alias of one. */
export function name2protox(name: string): string | undefined {
  if (KNOWN.has(name)) return name;
  return PROTO_ALIASES[name];
}

/** strtonum(3): the value, or its error string. */
export function strtonum(s: string, min: number, max: number): number | 'invalid' | 'too small' | 'too large' {
  if (min > max || !/^[ \t\n\v\f\r]*[+-]?\d+$/.test(s)) return 'invalid';
  const n = Number(s.trim());
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return n;
}

/** strtoul(s, &ep, 16) with main.c's checks: valid when all of s is a hex number that fits. */
function validPcbAddr(s: string): boolean {
  const m = /^[ \t\n\v\f\r]*[+-]?(?:0[xX])?([0-9a-fA-F]+)$/.exec(s);
  if (!m) return false;
  return BigInt(`0x${m[1]}`) < 1n << 64n;
}

interface Flags {
  sflag: number;
  iflag: boolean;
  rflag: boolean;
  gflag: boolean;
  mflag: boolean;
  Rflag: boolean;
  Wflag: boolean;
  Pflag: boolean;
  af: Af;
  proto: string | undefined;
  interface_: string | undefined;
  nflag: boolean;
  bflag: boolean;
  qflag: boolean;
  vflag: boolean;
  errs: IfErrs;
  tableid: number;
  interval: boolean;
  /** -X: packetflow's own counters too. */
  xflag: boolean;
  aflag: boolean;
  lflag: boolean;
  Aflag: boolean;
}

function isKernel(x: NetstatSource | Kernel): x is Kernel {
  return (x as Kernel).inet !== undefined && (x as Kernel).stats !== undefined;
}

/** A kernel's counter blocks as netstat -s reads them. */
export function kernelSource(k: Kernel): NetstatSource {
  return {
    counters: (p) => k.stats.counters(p),
    ifIndexToName: (i) => k.ifnets[i]?.if_xname,
    extraCounters: (p) => (p === 'ether' ? k.inet.etherstat : p === 'arp' ? k.inet.arp.stats : undefined),
  };
}

/** netstat against a kernel (or, for -s only, any source of counter blocks). */
export function netstat(source: NetstatSource | Kernel, argv: readonly string[], io: Io): number {
  return exitStatus(() => isKernel(source) ? run(kernelSource(source), argv, io, source) : run(source, argv, io, undefined));
}

/** The tool bound to one kernel, for the shell and the CLI. */
export function netstatTool(source: NetstatSource | Kernel): Tool {
  return (argv, io) => netstat(source, argv, io);
}

function run(source: NetstatSource, argv: readonly string[], io: Io, kernel: Kernel | undefined): number {
  const errx = (msg: string): never => {
    io.stderr.write(`netstat: ${msg}\n`);
    throw new Exit(1);
  };
  const usage = (): never => {
    io.stderr.write(USAGE);
    throw new Exit(1);
  };

  const f: Flags = {
    sflag: 0,
    iflag: false,
    rflag: false,
    gflag: false,
    mflag: false,
    Rflag: false,
    Wflag: false,
    Pflag: false,
    af: 'unspec',
    proto: undefined,
    interface_: undefined,
    nflag: false,
    bflag: false,
    qflag: false,
    vflag: false,
    errs: 'fail',
    tableid: 0,
    interval: false,
    xflag: false,
    aflag: false,
    lflag: false,
    Aflag: false,
  };
  const g = getopt(argv, OPTSTRING);
  for (const [ch, optarg = ''] of g.opts) {
    switch (ch) {
      case 'A':
        f.Aflag = true;
        break;
      case 'a':
        f.aflag = true;
        break;
      case 'l':
        f.lflag = true;
        break;
      case 'B': case 'F':
      case 'h': case 'M': case 'N':
        // Display modifiers of modes not implemented yet; -s ignores them, as on OpenBSD.
        break;
      case 'b':
        f.bflag = true;
        break;
      case 'd':
        f.errs = 'drop';
        break;
      case 'e':
        f.errs = 'errs';
        break;
      case 'n':
        f.nflag = true;
        break;
      case 'q':
        f.qflag = true;
        break;
      case 'v':
        f.vflag = true;
        break;
      case 'c': {
        const r = strtonum(optarg, 1, INT_MAX);
        if (typeof r === 'string') errx(`count is ${r}`);
        break;
      }
      case 'f':
        if (optarg === 'inet') f.af = 'inet';
        else if (optarg === 'inet6') f.af = 'inet6';
        else if (optarg === 'local' || optarg === 'unix') f.af = 'local';
        else if (optarg === 'mpls') f.af = 'mpls';
        else errx(`${optarg}: unknown address family`);
        break;
      case 'g':
        f.gflag = true;
        break;
      case 'I':
        f.iflag = true;
        f.interface_ = optarg;
        break;
      case 'i':
        f.iflag = true;
        break;
      case 'm':
        f.mflag = true;
        break;
      case 'p': {
        // A packetflow section is checked after all options (it needs -X).
        const p = name2protox(optarg) ?? (isExtraSection(optarg) ? optarg : undefined);
        if (p === undefined) errx(`${optarg}: unknown protocol`);
        f.proto = p;
        break;
      }
      case 'P':
        if (!validPcbAddr(optarg)) errx(`${optarg}: invalid PCB address`);
        f.Pflag = true;
        break;
      case 'R':
        f.Rflag = true;
        break;
      case 'r':
        f.rflag = true;
        break;
      case 's':
        f.sflag++;
        break;
      case 'T': {
        const r = strtonum(optarg, 0, RT_TABLEID_MAX);
        if (typeof r === 'string') errx(`invalid table id: ${r}`);
        f.tableid = r as number;
        break;
      }
      case 'u':
        f.af = 'local';
        break;
      case 'W':
        f.Wflag = true;
        f.interface_ = optarg;
        break;
      case 'w': {
        const r = strtonum(optarg, 1, INT_MAX);
        if (typeof r === 'string') errx(`interval is ${r}`);
        f.iflag = true;
        f.interval = true;
        break;
      }
      case 'X':
        f.xflag = true;
        break;
      default:
        // 'L' is in main.c's getopt string but has no case: usage.
        usage();
    }
  }
  if (g.error !== undefined) {
    io.stderr.write(`netstat: ${g.error}\n`);
    usage();
  }
  if (f.proto !== undefined && isExtraSection(f.proto) && !f.xflag) errx(`${f.proto}: unknown protocol`);
  const rest = g.rest;
  if (rest.length > 0) {
    const r = strtonum(rest[0]!, 1, INT_MAX);
    if (typeof r === 'string') errx(`interval is ${r}`);
    f.iflag = true;
    f.interval = true;
    if (rest.length > 1) usage();
  }

  // main.c's order of modes.
  if (f.Wflag) {
    if (f.interface_ === undefined) usage();
    return notYet(usage);
  }
  if (f.mflag) return notYet(usage);
  if (f.iflag) {
    if (kernel === undefined || f.interval) return notYet(usage);
    io.stdout.write(intpr(kernel, { interface_: f.interface_, errs: f.errs, bflag: f.bflag, qflag: f.qflag, vflag: f.vflag }));
    return 0;
  }
  if (f.sflag) {
    if (f.rflag || f.gflag) return notYet(usage);
    io.stdout.write(stats(source, f));
    return 0;
  }
  if (f.rflag && !f.gflag && !f.Rflag && kernel !== undefined) {
    if (f.tableid !== 0) errx('sysctl: No such file or directory');
    if (f.af === 'inet6') {
      io.stdout.write('Routing tables\n' + p_rttables6(kernel, f.nflag));
      return 0;
    }
    if (f.af === 'local' || f.af === 'mpls') {
      io.stdout.write('Routing tables\n');
      return 0;
    }
    let rtout = p_rttables(kernel, f.nflag);
    if (f.af === 'unspec') rtout += p_rttables6(kernel, f.nflag);
    io.stdout.write(rtout);
    return 0;
  }
  // The socket list (protopr): the Internet part; there are no UNIX sockets.
  if (!f.gflag && !f.Rflag && !f.Pflag && !f.rflag && kernel !== undefined) {
    if (f.af === 'local' || f.af === 'mpls') return 0;
    if (f.proto !== undefined && f.proto !== 'tcp' && f.proto !== 'udp') return 0;
    io.stdout.write(protopr(kernel, {
      aflag: f.aflag, lflag: f.lflag, nflag: f.nflag, Aflag: f.Aflag, vflag: f.vflag, proto: f.proto,
      af: f.af === 'inet' || f.af === 'inet6' ? f.af : undefined, tableid: f.tableid,
    }));
    return 0;
  }
  // -g, -R, -P.
  return notYet(usage);
}

/** A mode of OpenBSD's netstat that packetflow does not implement yet. */
function notYet(usage: () => never): never {
  return usage();
}

function stats(source: NetstatSource, f: Flags): string {
  if (f.proto !== undefined) {
    if (isExtraSection(f.proto)) return extraStats(f.proto, extraBlock(source, f.proto), f.sflag);
    return protoStats(f.proto, source, f.sflag);
  }
  let out = '';
  if (f.af === 'inet' || f.af === 'unspec') for (const p of PROTOX) out += protoStats(p, source, f.sflag);
  if (f.af === 'inet6' || f.af === 'unspec') for (const p of IP6PROTOX) out += protoStats(p, source, f.sflag);
  // packetflow's sections are link layer and ARP: shown without -f only.
  if (f.xflag && f.af === 'unspec') for (const s of EXTRA_SECTIONS) out += extraStats(s.name, extraBlock(source, s.name), f.sflag);
  return out;
}

function extraBlock(source: NetstatSource, name: string): ExtraBlock | undefined {
  return source.extraCounters?.(name);
}
