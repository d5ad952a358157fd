/**
 * ifconfig(8): list and configure network interfaces, with OpenBSD's
 * output format (sbin/ifconfig/ifconfig.c status()), argument handling and
 * error texts.  Supported: listing (no arguments, -a, -A, a name or a group
 * or a name prefix), -C, `inet`, ADDR[/LEN], `netmask`, `broadcast`,
 * `alias`, `-alias`, `delete`, `up`, `down`, `description`/`descr`,
 * `-description`/`-descr`, `mtu`, `lladdr`, `priority`, `llprio`,
 * `group`, `-group`, `tcplro`/`-tcplro` (IFXF_LRO, on drivers with
 * IFCAP_LRO), `hwfeatures` (the status with the hwfeatures line: the
 * driver's IFCAP_* bits and hardmtu).  vxlan interfaces show vxlan(4)'s `encap:` and
 * `tunnel:` lines.
 */
import type { Io } from '../../lib/io.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { strerror, EADDRNOTAVAIL, ENXIO, EINVAL, ENOTSUP } from '../../sys/sys/errno.js';
import {
  type Ifnet,
  IFF_BROADCAST,
  IFF_POINTOPOINT,
  IFT_ETHER,
  IFCAP_LRO,
  IFXF_LRO,
  LINK_STATE_UNKNOWN,
  LINK_STATE_INVALID,
  LINK_STATE_DOWN,
  LINK_STATE_KALIVE_DOWN,
  LINK_STATE_UP,
  LINK_STATE_HALF_DUPLEX,
  LINK_STATE_FULL_DUPLEX,
  if_addgroup,
  if_addr_add,
  if_addr_del,
  if_delgroup,
  if_getflags,
  if_getxflags,
  if_list,
  if_setflags_up,
} from '../../sys/net/if.js';
import { formatIp4, formatMac, parseMac } from '../../wire/addr.js';
import { ifconfig_inet6, in6_status } from './ifconfig_inet6.js';
import { Vxlan } from '../../sys/dev/vxlan.js';
import { Exit, exitStatus } from '../../lib/exit.js';

/** Interface cloners of GENERIC (openbsd-formats.md §5). */
export const IF_CLONERS = [
  'aggr', 'bpe', 'bridge', 'carp', 'egre', 'enc', 'eoip', 'erspan', 'etherip', 'gif', 'gre', 'lo', 'mgre', 'mpe',
  'mpip', 'mpw', 'nvgre', 'pair', 'pflog', 'pflow', 'pfsync', 'ppp', 'pppoe', 'rport', 'sec', 'svlan', 'tap',
  'tpmr', 'trunk', 'tun', 'veb', 'vether', 'vlan', 'vport', 'vxlan', 'wg',
];

const IFFBITS: Array<[number, string]> = [
  [1, 'UP'], [2, 'BROADCAST'], [3, 'DEBUG'], [4, 'LOOPBACK'], [5, 'POINTOPOINT'], [6, 'STATICARP'],
  [7, 'RUNNING'], [8, 'NOARP'], [9, 'PROMISC'], [10, 'ALLMULTI'], [11, 'OACTIVE'], [12, 'SIMPLEX'],
  [13, 'LINK0'], [14, 'LINK1'], [15, 'LINK2'], [16, 'MULTICAST'],
  [19, 'AUTOCONF6TEMP'], [20, 'MPLS'], [21, 'WOL'], [22, 'AUTOCONF6'], [23, 'INET6_NOSOII'],
  [24, 'AUTOCONF4'], [25, 'MONITOR'], [26, 'LRO'],
];

const USAGE =
  'usage: ifconfig [-AaC] [-M lladdr] [interface] [address_family]\n' + '\t\t[address [dest_address]] [parameters]\n';

/** HWFEATURESBITS: the IFCAP_* bits `hwfeatures` names. */
const HWFEATURESBITS: Array<[number, string]> = [
  [1, 'CSUM_IPv4'], [2, 'CSUM_TCPv4'], [3, 'CSUM_UDPv4'], [5, 'VLAN_MTU'], [6, 'VLAN_HWTAGGING'],
  [7, 'VLAN_HWOFFLOAD'], [8, 'CSUM_TCPv6'], [9, 'CSUM_UDPv6'], [13, 'TSOv4'], [14, 'TSOv6'], [15, 'LRO'], [16, 'WOL'],
];

/** printb(): `flags=8843<UP,BROADCAST,...>` */
export function printb(name: string, v: number, bits: Array<[number, string]> = IFFBITS): string {
  const names: string[] = [];
  for (const [bit, n] of bits) if ((v & 2 ** (bit - 1)) !== 0) names.push(n);
  return `${name}=${(v >>> 0).toString(16)}<${names.join(',')}>`;
}

function linkstate(type: number, ls: number): string {
  void type;
  switch (ls) {
    case LINK_STATE_UNKNOWN:
      return 'unknown';
    case LINK_STATE_INVALID:
      return 'invalid';
    case LINK_STATE_DOWN:
      return 'down';
    case LINK_STATE_KALIVE_DOWN:
      return 'keepalive down';
    case LINK_STATE_UP:
    case LINK_STATE_HALF_DUPLEX:
    case LINK_STATE_FULL_DUPLEX:
      return 'active';
    default:
      return 'unknown';
  }
}

/**
 * status(): the block of one interface; `aliases` false shows only the
 * first inet address; `showcaps` adds the hwfeatures line
 * (printifhwfeatures()).
 */
export function ifstatus(ifp: Ifnet, aliases: boolean, showcaps = false): string {
  let s = `${ifp.if_xname}: ${printb('flags', if_getflags(ifp) + if_getxflags(ifp) * 0x10000)}`;
  if (ifp.if_rdomain) s += ` rdomain ${ifp.if_rdomain}`;
  if (ifp.if_mtu) s += ` mtu ${ifp.if_mtu}`;
  s += '\n';
  if (showcaps) {
    s += `\t${printb('hwfeatures', ifp.if_capabilities, HWFEATURESBITS)}`;
    if (ifp.if_hardmtu) s += ` hardmtu ${ifp.if_hardmtu}`;
    s += '\n';
  }
  if (ifp.if_type === IFT_ETHER && ifp.if_lladdr.length === 6) s += `\tlladdr ${formatMac(ifp.if_lladdr, 0)}\n`;
  if (ifp.if_description !== '') s += `\tdescription: ${ifp.if_description}\n`;
  s += `\tindex ${ifp.if_index} priority ${ifp.if_priority} llprio ${ifp.if_llprio}\n`;
  const vx = ifp.if_softc instanceof Vxlan ? ifp.if_softc : null;
  if (vx !== null) s += getencap(vx);
  const groups = ifp.if_groups.filter((g) => g !== 'all');
  if (groups.length > 0) s += `\tgroups: ${groups.join(' ')}\n`;
  const media = ifp.if_media;
  if (media === null) {
    if (ifp.if_link_state !== LINK_STATE_UNKNOWN) s += `\tstatus: ${linkstate(ifp.if_type, ifp.if_link_state)}\n`;
  } else {
    s += `\tmedia: ${media.type} ${media.current}`;
    if (media.active !== media.current) s += ` (${media.active})`;
    s += '\n';
    s += `\tstatus: ${media.linkActive ? 'active' : 'no carrier'}\n`;
  }
  const flags = ifp.if_flags;
  for (let i = 0; i < ifp.if_addrs.length; i++) {
    if (i > 0 && !aliases) break;
    const ia = ifp.if_addrs[i]!;
    s += `\tinet ${formatIp4(ia.addr)}`;
    if ((flags & IFF_POINTOPOINT) !== 0) s += ` --> ${formatIp4(ia.broadaddr)}`;
    s += ` netmask 0x${(ia.mask >>> 0).toString(16)}`;
    if ((flags & IFF_BROADCAST) !== 0 && ia.broadaddr !== 0) s += ` broadcast ${formatIp4(ia.broadaddr)}`;
    s += '\n';
  }
  s += in6_status(ifp);
  if (vx !== null) s += phys_status(vx);
  return s;
}

/**
 * getencap(): SIOCGVNETID, SIOCGIFPARENT, SIOCGTXHPRIO, SIOCGRXHPRIO.  A
 * packetflow vxlan always has a VNI and no parent (the host routes the
 * outer packets).  Header priorities cannot be configured here; the line
 * shows vxlan(4)'s defaults (the host socket sends the outer header with
 * TOS 0, as txprio 0 does).
 */
function getencap(vx: Vxlan): string {
  return `\tencap: vnetid ${vx.vni} parent none txprio 0 rxprio outer\n`;
}

/**
 * phys_status(): the tunnel's endpoints as print_tunnel() shows them, each
 * port when it is not 0.  OpenBSD's vxlan uses one port for both ends; here
 * the local socket and the far end (a Linux vxlan device's dstport) have
 * their own.  TTL and DF are those of the host's UDP socket, which builds
 * the outer packets: Linux's default TTL 64, and DF set (IP_PMTUDISC_WANT).
 */
function phys_status(vx: Vxlan): string {
  const s = vx.socket;
  const ver = s.address.includes(':') ? '6' : '';
  let t = `\ttunnel: inet${ver} ${s.address}`;
  if (s.port !== 0) t += `:${s.port}`;
  t += ` --> ${vx.remoteAddress}`;
  if (vx.remotePort !== 0) t += `:${vx.remotePort}`;
  return t + ' ttl 64 df\n';
}

const isdigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** strtonum(3) with its error words. */
function strtonum(s: string, min: number, max: number): { v: number; err?: string } {
  if (!/^\s*[-+]?\d+$/.test(s)) return { v: 0, err: 'invalid' };
  const v = Number(s);
  if (v < min) return { v: 0, err: 'too small' };
  if (v > max) return { v: 0, err: 'too large' };
  return { v };
}

/** inet_aton(3): dotted forms with fewer parts, hex and octal. */
function inet_aton(s: string): number {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return -1;
  const nums: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) v = Number(p);
    else return -1;
    nums.push(v);
  }
  const last = nums.pop()!;
  for (const n of nums) if (n > 255) return -1;
  const rem = 4 - nums.length;
  if (last >= 2 ** (8 * rem)) return -1;
  let v = 0;
  for (const n of nums) v = v * 256 + n;
  return v * 2 ** (8 * rem) + last;
}

/** ifconfig against one kernel; argv without the program name. */
export function ifconfig(k: Kernel, argv: readonly string[], io: Io): number {
  return exitStatus(() => run(k, argv, io));
}

function run(k: Kernel, argv: readonly string[], io: Io): number {
  const out = (s: string): void => io.stdout.write(s);
  const errx = (msg: string): never => {
    io.stderr.write(`ifconfig: ${msg}\n`);
    throw new Exit(1);
  };
  const err = (msg: string, errno: number): never => errx(`${msg}: ${strerror(errno)}`);
  const warn = (msg: string, errno: number): void => io.stderr.write(`ifconfig: ${msg}: ${strerror(errno)}\n`);
  const usage = (): never => {
    io.stderr.write(USAGE);
    throw new Exit(1);
  };

  let aflag = false;
  let ifaliases = false;
  let Cflag = false;

  if (argv.length === 0) {
    printif(k, null, false, true, io);
    return 0;
  }
  let args = argv.slice();
  let ifname = '';
  if (args[0]!.startsWith('-')) {
    let nomore = false;
    for (const c of args[0]!.slice(1)) {
      if (c === 'a') {
        aflag = true;
        nomore = true;
      } else if (c === 'A') {
        aflag = true;
        ifaliases = true;
        nomore = true;
      } else if (c === 'C') {
        Cflag = true;
        nomore = true;
      } else usage();
    }
    if (!nomore) {
      args = args.slice(1);
      if (args.length < 1) usage();
      ifname = args[0]!;
    }
  } else ifname = args[0]!;
  if (ifname.length >= 16) errx(`interface name '${ifname}' too long`);
  args = args.slice(1);

  if (args.length > 0 && args[0] === 'inet') args = args.slice(1);
  if (args.length > 0 && (args[0] === 'inet6' || args[0] === '-inet6') && !Cflag && !aflag)
    return ifconfig_inet6(k, k.ifunit(ifname), ifname, args[0] === 'inet6' ? args.slice(1) : args, io);
  if (Cflag) {
    if (args.length > 0 || aflag) usage();
    out(IF_CLONERS.slice().sort().join(' ') + '\n');
    return 0;
  }
  if (aflag) {
    printif(k, null, ifaliases, true, io);
    return 0;
  }

  const found = isdigit(ifname[ifname.length - 1]) ? k.ifunit(ifname) : undefined;
  const need = (what: string): Ifnet => {
    if (found === undefined) return err(`${ifname}: ${what}`, ENXIO);
    return found;
  };

  let actions = 0;
  let showcaps = false;
  let setaddr = 0;
  let doalias = 0;
  let newaddr = false;
  let clearaddr = false;
  let addr = -1;
  let ridaddr = -1;
  let mask = -1;
  let dst = -1;

  const getaddr = (s: string, which: 'addr' | 'mask' | 'dst'): number => {
    const slash = s.lastIndexOf('/');
    if (which === 'addr' && slash >= 0) {
      const a = inet_aton(s.slice(0, slash));
      const plen = s.slice(slash + 1);
      if (a >= 0 && /^\d+$/.test(plen)) {
        const r = strtonum(plen, 0, 32);
        if (r.err) errx(`prefix ${plen}: ${r.err}`);
        mask = r.v === 0 || r.v === 32 ? 0xffffffff : (0xffffffff << (32 - r.v)) >>> 0;
        return a;
      }
    }
    const a = inet_aton(s);
    if (a < 0) return errx(`${s}: bad value`);
    if (which === 'mask' && (a & ((~a >>> 0) >>> 1)) !== 0) errx(`${s}: non-contiguous mask`);
    return a;
  };

  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string => {
      const v = args[i + 1];
      if (v === undefined) return errx(`'${a}' requires argument`);
      i++;
      return v;
    };
    switch (a) {
      case 'up':
      case 'down': {
        const ifp = need('SIOCGIFFLAGS');
        if_setflags_up(ifp, a === 'up');
        break;
      }
      case 'alias':
        doalias = 1;
        clearaddr = false;
        break;
      case '-alias':
      case 'delete':
        if (setaddr && doalias === 0) ridaddr = addr;
        doalias = -1;
        clearaddr = true;
        newaddr = false;
        break;
      case 'netmask':
        mask = getaddr(next(), 'mask');
        break;
      case 'broadcast':
        dst = getaddr(next(), 'dst');
        break;
      case 'mtu': {
        const v = next();
        const r = strtonum(v, 0, 0x7fffffff);
        if (r.err) errx(`mtu ${v}: ${r.err}`);
        if (found === undefined) warn('SIOCSIFMTU', ENXIO);
        else {
          const e = found.if_setmtu(found, r.v);
          if (e !== 0) warn('SIOCSIFMTU', e);
        }
        break;
      }
      case 'description':
      case 'descr': {
        const v = next();
        if (found === undefined) warn('SIOCSIFDESCR', ENXIO);
        else found.if_description = v.slice(0, 63);
        break;
      }
      case '-description':
      case '-descr':
        if (found === undefined) warn('SIOCSIFDESCR', ENXIO);
        else found.if_description = '';
        break;
      case 'lladdr': {
        const v = next();
        const mac = parseMac(v);
        if (mac === null) {
          io.stderr.write('ifconfig: malformed link-level address\n');
          break;
        }
        if (found === undefined) warn('SIOCSIFLLADDR', ENXIO);
        else if (found.if_type !== IFT_ETHER || found.if_lladdr.length !== 6) warn('SIOCSIFLLADDR', EINVAL);
        else found.if_lladdr.set(mac);
        break;
      }
      case 'priority': {
        const v = next();
        const r = strtonum(v, 0, 15);
        if (r.err) errx(`priority ${v}: ${r.err}`);
        if (found === undefined) warn('SIOCSIFPRIORITY', ENXIO);
        else found.if_priority = r.v;
        break;
      }
      case 'llprio': {
        const v = next();
        const r = strtonum(v, 0, 7);
        if (r.err) errx(`llprio ${v}: ${r.err}`);
        if (found === undefined) warn('SIOCSIFLLPRIO', ENXIO);
        else found.if_llprio = r.v;
        break;
      }
      case 'group': {
        const v = next();
        const ifp = need('SIOCAIFGROUP');
        if (isdigit(v[v.length - 1])) errx('setifgroup: group names may not end in a digit');
        if_addgroup(ifp, v);
        break;
      }
      case '-group': {
        const v = next();
        const ifp = need('SIOCDIFGROUP');
        if_delgroup(ifp, v);
        break;
      }
      case 'tcplro':
      case '-tcplro': {
        // setifxflags(), ifsetlro(): only a driver with IFCAP_LRO changes it.
        const ifp = need('SIOCGIFXFLAGS');
        const on = a === 'tcplro';
        if (on !== ((ifp.if_xflags & IFXF_LRO) !== 0)) {
          if ((ifp.if_capabilities & IFCAP_LRO) === 0) warn(`${ifname}: SIOCSIFXFLAGS`, ENOTSUP);
          else if (on) ifp.if_xflags |= IFXF_LRO;
          else ifp.if_xflags &= ~IFXF_LRO;
        }
        break;
      }
      case 'hwfeatures':
        // printifhwfeatures(NULL, 0): not an action; the status follows with the line.
        if (showcaps) usage();
        showcaps = true;
        continue;
      default:
        if (setaddr === 0) {
          // setifaddr()
          setaddr++;
          if (doalias >= 0) newaddr = true;
          if (doalias === 0) clearaddr = true;
          if (doalias >= 0) addr = getaddr(a, 'addr');
          else ridaddr = getaddr(a, 'addr');
        } else if (setaddr === 1) {
          // setifdstaddr()
          setaddr++;
          dst = getaddr(a, 'dst');
        } else errx(`${a}: bad value`);
        break;
    }
    actions++;
  }

  if (args.length === 0 || actions === 0) {
    printif(k, ifname, true, false, io, showcaps);
    return 0;
  }

  if (clearaddr) {
    const ifp = found;
    const e = ifp === undefined ? ENXIO : if_addr_del(ifp, doalias === 0 ? -1 : ridaddr);
    if (e !== 0 && !(e === EADDRNOTAVAIL && doalias >= 0)) err('SIOCDIFADDR', e);
  }
  if (newaddr) {
    if (found === undefined) err('SIOCAIFADDR', ENXIO);
    else {
      const e = if_addr_add(found, addr, mask, dst);
      if (e !== 0) err('SIOCAIFADDR', e);
    }
  }
  void actions;
  return 0;
}

/**
 * printif(): every interface (name null), one by exact name, or a group /
 * name prefix.  `aliases` false shows only the first inet address.
 */
function printif(k: Kernel, name: string | null, aliases: boolean, all: boolean, io: Io, showcaps = false): void {
  let count = 0;
  let s = '';
  const list = if_list(k);
  if (name !== null && !all && name !== '' && !isdigit(name[name.length - 1])) {
    const members = list.filter((ifp) => ifp.if_groups.includes(name) || name === 'all');
    if (members.length > 0) {
      for (const ifp of members) s += ifstatus(ifp, aliases, showcaps);
      io.stdout.write(s);
      return;
    }
  }
  for (const ifp of list) {
    if (name !== null && !all) {
      if (isdigit(name[name.length - 1])) {
        if (ifp.if_xname !== name) continue;
      } else if (!ifp.if_xname.startsWith(name) || !isdigit(ifp.if_xname[name.length])) continue;
    }
    s += ifstatus(ifp, aliases, showcaps);
    count++;
  }
  io.stdout.write(s);
  if (count === 0) {
    io.stderr.write(`${name ?? ''}: no such interface\n`);
    throw new Exit(1);
  }
}
