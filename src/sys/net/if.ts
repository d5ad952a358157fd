/**
 * struct ifnet: one network interface of a kernel.  Drivers (dev/em,
 * dev/ix, lo0) create it, ether_ifattach() gives it Ethernet input and
 * output, and the tools (ifconfig, netstat -i, kstat) read it.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import * as uipc_mbuf_ from '../kern/uipc_mbuf.js';
import * as errno_ from '../sys/errno.js';
import { IfQueue, IfiQueue, IF_TXMIT_DEFAULT, ifq_enqueue, ifq_idx, ifq_purge, ifq_start } from './ifq.js';
import type { BpfIf } from './bpf.js';
import { bpf_mtap_ether } from './bpf.js';

// Imported constants and functions as the module's own constants: V8
// folds a module's const like a literal, but reads an imported binding from
// its cell, with a TDZ check, at every use (dozens per forwarded packet).
// Only from modules without imports back here, so they are always
// initialized first.
const { M_TIMESTAMP } = uipc_mbuf_;
const { EADDRNOTAVAIL, EINVAL, ENETDOWN } = errno_;

// if_flags, as in net/if.h.
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_DEBUG = 0x4;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_STATICARP = 0x20;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_OACTIVE = 0x400;
export const IFF_SIMPLEX = 0x800;
export const IFF_LINK0 = 0x1000;
export const IFF_LINK1 = 0x2000;
export const IFF_LINK2 = 0x4000;
export const IFF_MULTICAST = 0x8000;

// if_xflags, as in net/if.h (ifconfig prints them as bits 16 and up).
export const IFXF_MPSAFE = 0x1;
export const IFXF_CLONED = 0x2;
export const IFXF_AUTOCONF6TEMP = 0x4;
export const IFXF_MPLS = 0x8;
export const IFXF_WOL = 0x10;
export const IFXF_AUTOCONF6 = 0x20;
export const IFXF_INET6_NOSOII = 0x40;
export const IFXF_AUTOCONF4 = 0x80;
export const IFXF_MONITOR = 0x100;
export const IFXF_LRO = 0x200;

// if_capabilities, as in net/if.h (ifconfig hwfeatures prints them).
export const IFCAP_CSUM_IPv4 = 0x1;
export const IFCAP_CSUM_TCPv4 = 0x2;
export const IFCAP_CSUM_UDPv4 = 0x4;
export const IFCAP_VLAN_MTU = 0x10;
export const IFCAP_VLAN_HWTAGGING = 0x20;
export const IFCAP_VLAN_HWOFFLOAD = 0x40;
export const IFCAP_CSUM_TCPv6 = 0x80;
export const IFCAP_CSUM_UDPv6 = 0x100;
export const IFCAP_TSOv4 = 0x1000;
export const IFCAP_TSOv6 = 0x2000;
export const IFCAP_LRO = 0x4000;
export const IFCAP_WOL = 0x8000;

// if_type, as in net/if_types.h.
export const IFT_ETHER = 0x06;
export const IFT_LOOP = 0x18;

// Link states, as in net/if.h.
export const LINK_STATE_UNKNOWN = 0;
export const LINK_STATE_INVALID = 1;
export const LINK_STATE_DOWN = 2;
export const LINK_STATE_KALIVE_DOWN = 3;
export const LINK_STATE_UP = 4;
export const LINK_STATE_HALF_DUPLEX = 5;
export const LINK_STATE_FULL_DUPLEX = 6;

/** Ethernet minimum and maximum payload (net/if_ether.h). */
export const ETHERMIN = 46;
export const ETHERMTU = 1500;

/**
 * struct ifmedia, reduced to what ifconfig prints: `media: Ethernet
 * autoselect (1000baseT full-duplex)` and `status: active`.
 */
export interface IfMedia {
  /** "Ethernet" */
  type: string;
  /** The configured media, e.g. "autoselect". */
  current: string;
  /** The media in use, e.g. "1000baseT full-duplex", or "none" without link. */
  active: string;
  /** IFM_ACTIVE: a carrier is present. */
  linkActive: boolean;
}

/** An IPv4 address of an interface (struct in_ifaddr). */
export interface InIfaddr {
  addr: number;
  mask: number;
  /** Broadcast address, or the destination of a point-to-point link. */
  broadaddr: number;
}

export class Ifnet {
  /** Interface name, e.g. "em0". */
  readonly if_xname: string;
  readonly if_index: number;
  if_type: number;
  if_flags = 0;
  if_xflags = 0;
  if_mtu = 1500;
  if_hardmtu = 1500;
  if_priority = 0;
  if_llprio = 3;
  if_link_state = LINK_STATE_UNKNOWN;
  if_description = '';
  /** Link-layer address (6 bytes for Ethernet; empty for lo0). */
  readonly if_lladdr: Uint8Array;
  /** IPv4 addresses in the order they were added, as ifconfig lists them. */
  readonly if_addrs: InIfaddr[] = [];
  if_rdomain = 0;
  /** Interface groups besides the implicit "all" (e.g. "lo", "egress"). */
  readonly if_groups: string[] = [];
  /** Media and link status; null for interfaces without media (lo0). */
  if_media: IfMedia | null = null;
  /** The driver's softc (the EtherNic of em/ix). */
  if_softc: unknown = null;
  /** Link speed, bits/s (ifi_baudrate). */
  if_baudrate = 0;
  /**
   * Driver capabilities (IFCAP_*).  The stack acts on IFCAP_TSOv4 (a TCP
   * segment larger than the MTU goes to the driver whole, which cuts it);
   * the checksum offload bits are informational: checksums are computed
   * in software and counted as such.
   */
  if_capabilities = 0;
  /** Virtual time (ns) of the last up/down or link change. */
  if_lastchange = 0;
  /** Listed before interfaces attached earlier (if_attachhead: lo0). */
  if_listhead = false;
  /** ifq_start() calls the driver at once when this many packets wait. */
  if_txmit = IF_TXMIT_DEFAULT;

  /** Transmit queues; if_snd is the first.  if_attach_queues() makes more. */
  if_ifqs: IfQueue[];
  if_snd: IfQueue;
  /** Receive queues; if_rcv is the first.  if_attach_iqueues() makes more. */
  if_iqs: IfiQueue[];
  if_rcv: IfiQueue;

  /** bpf: non-null only while a listener is attached (the taps test this). */
  if_bpf: BpfIf | null = null;
  /** The bpf_if kept while no listener is attached. */
  if_bpf_if: BpfIf | null = null;
  /** Link type for bpf (DLT_EN10MB for Ethernet, DLT_LOOP for lo). */
  if_bpf_dlt = 1;
  /** The input tap of the receive queues (lo0 taps on output instead). */
  if_bpf_mtap: (bp: BpfIf, m: Mbuf, direction: number) => boolean = bpf_mtap_ether;

  /** Driver start routine for one transmit queue (em_start, ixgbe_start). */
  if_qstart: (ifq: IfQueue) => void = (ifq) => {
    ifq_purge(ifq);
  };
  /** How a packet gets onto this interface's queues (vlan overrides it). */
  if_enqueue: (ifp: Ifnet, m: Mbuf) => number = if_enqueue_ifq;
  /** Driver hooks for SIOCSIFFLAGS: bring the hardware up (sets IFF_RUNNING) or down. */
  if_init: ((ifp: Ifnet) => void) | null = null;
  if_stop: ((ifp: Ifnet) => void) | null = null;
  /** Driver hook for SIOCSIFMTU; returns an errno.  The default is ether_ioctl's check. */
  if_setmtu: (ifp: Ifnet, mtu: number) => number = ether_setmtu;

  // struct if_data counters (netstat -i).
  if_ipackets = 0;
  if_ierrors = 0;
  if_opackets = 0;
  if_oerrors = 0;
  if_collisions = 0;
  if_ibytes = 0;
  if_obytes = 0;
  if_imcasts = 0;
  if_omcasts = 0;
  if_iqdrops = 0;
  if_oqdrops = 0;
  if_noproto = 0;

  /**
   * Link-layer output of a network-layer packet: ether_output (set by
   * ether_ifattach) or looutput.  `dst` and `rt` are the netinet side's
   * destination and route; declared as a method so each side may type
   * them narrower.  Returns an errno.
   */
  if_output(ifp: Ifnet, m: Mbuf, dst: unknown, rt: unknown): number {
    void dst;
    void rt;
    void ifp;
    m.free();
    return ENETDOWN;
  }

  /**
   * pf's counters of the interface (struct pfi_kif): packets and bytes by
   * [inet6][out][blocked], as pf_counters_inc() adds them, and when they
   * were last cleared (seconds of the world's clock; pfi_kif_alloc() at
   * attach).  pfctl -vvsI prints them.
   */
  readonly pfik_packets = new Float64Array(8);
  readonly pfik_bytes = new Float64Array(8);
  pfik_tzero = 0;

  /** Link-layer input, set by ether_ifattach() (ether_input) or the driver (lo0). */
  if_input: (ifp: Ifnet, m: Mbuf) => void = (ifp, m) => {
    ifp.if_noproto++;
    m.free();
  };

  constructor(
    readonly kernel: Kernel,
    name: string,
    type: number,
    lladdr: Uint8Array,
  ) {
    this.if_xname = name;
    this.if_type = type;
    this.if_lladdr = lladdr;
    this.if_index = kernel.if_attach(this);
    this.pfik_tzero = Math.floor(kernel.world.now / 1e9);
    this.if_snd = new IfQueue(this, 0);
    this.if_ifqs = [this.if_snd];
    this.if_rcv = new IfiQueue(this, 0);
    this.if_iqs = [this.if_rcv];
  }
}

/** if_attach_queues(): a multi-queue driver gets nqs transmit queues. */
export function if_attach_queues(ifp: Ifnet, nqs: number): void {
  for (let i = ifp.if_ifqs.length; i < nqs; i++) {
    const q = new IfQueue(ifp, i);
    q.ifq_maxlen = ifp.if_snd.ifq_maxlen;
    ifp.if_ifqs.push(q);
  }
}

/** if_attach_iqueues(): nqs receive queues. */
export function if_attach_iqueues(ifp: Ifnet, nqs: number): void {
  for (let i = ifp.if_iqs.length; i < nqs; i++) ifp.if_iqs.push(new IfiQueue(ifp, i));
}

/**
 * if_enqueue(): transmit a complete link-layer frame (ether_output calls
 * this): onto the interface's queue, then ifq_start().  Returns 0 or an
 * errno (ENOBUFS when the queue was full; the packet is freed either way).
 */
export function if_enqueue(ifp: Ifnet, m: Mbuf): number {
  m.csum_flags &= ~M_TIMESTAMP;
  return ifp.if_enqueue(ifp, m);
}

/** if_enqueue_ifq(): pick the transmit queue by flow (priq_idx), enqueue, start. */
export function if_enqueue_ifq(ifp: Ifnet, m: Mbuf): number {
  const ifqs = ifp.if_ifqs;
  const ifq = ifqs.length > 1 ? ifqs[ifq_idx(ifqs.length, m)]! : ifp.if_snd;
  const error = ifq_enqueue(ifq, m, true);
  if (error !== 0) return error;
  ifq_start(ifq);
  return 0;
}

/** ether_ioctl(SIOCSIFMTU): ETHERMIN up to the hardware's limit. */
export function ether_setmtu(ifp: Ifnet, mtu: number): number {
  if (mtu < ETHERMIN || mtu > ifp.if_hardmtu) return EINVAL;
  ifp.if_mtu = mtu;
  return 0;
}

/** Run the kernel's link-state hooks (routes track the link: rt_if_track). */
export function if_linkstate(ifp: Ifnet): void {
  const hooks = ifp.kernel.if_linkstatehooks;
  for (let i = 0; i < hooks.length; i++) hooks[i]!(ifp);
}

/** if_up(): mark the interface up and tell the protocols. */
export function if_up(ifp: Ifnet): void {
  ifp.if_flags |= IFF_UP;
  ifp.if_lastchange = ifp.kernel.world.now;
  if_linkstate(ifp);
}

/** if_down(): mark it down, drop what waits in the transmit queues, tell the protocols. */
export function if_down(ifp: Ifnet): void {
  ifp.if_flags &= ~IFF_UP;
  ifp.if_lastchange = ifp.kernel.world.now;
  for (const ifq of ifp.if_ifqs) ifq_purge(ifq);
  if_linkstate(ifp);
}

/**
 * SIOCSIFFLAGS with IFF_UP changed, as ifioctl() does it: if_up()/if_down()
 * and then the driver (which sets or clears IFF_RUNNING).
 */
export function if_setflags_up(ifp: Ifnet, up: boolean): void {
  if (up && (ifp.if_flags & IFF_UP) === 0) {
    if_up(ifp);
    if (ifp.if_init !== null) ifp.if_init(ifp);
    else ifp.if_flags |= IFF_RUNNING;
  } else if (!up && (ifp.if_flags & IFF_UP) !== 0) {
    if_down(ifp);
    if (ifp.if_stop !== null) ifp.if_stop(ifp);
    else ifp.if_flags &= ~IFF_RUNNING;
  }
}

/** Tell the protocols an interface address was added or removed (in_ifinit / in_purgeaddr). */
export function if_addrchange(ifp: Ifnet, ia: InIfaddr, added: boolean): void {
  const k = ifp.kernel;
  const hooks = k.if_addrhooks;
  for (let i = 0; i < hooks.length; i++) hooks[i]!(ifp, ia, added);
  const inet = k.inet as { in_ifaddr_change?: (ifp: Ifnet) => void };
  if (typeof inet.in_ifaddr_change === 'function') inet.in_ifaddr_change(ifp);
}

/** if_addgroup() */
export function if_addgroup(ifp: Ifnet, group: string): void {
  if (!ifp.if_groups.includes(group)) ifp.if_groups.push(group);
}

/** if_delgroup() */
export function if_delgroup(ifp: Ifnet, group: string): void {
  const i = ifp.if_groups.indexOf(group);
  if (i >= 0) ifp.if_groups.splice(i, 1);
}

/** The address's classful netmask, used when none is given. */
function classmask(addr: number): number {
  if (addr >>> 31 === 0) return 0xff000000;
  if (addr >>> 30 === 2) return 0xffff0000;
  return 0xffffff00;
}

/**
 * SIOCAIFADDR (in_control): add an IPv4 address, or change the mask of one
 * the interface has.  mask -1 means classful; broadaddr -1 means computed
 * (net | ~mask on broadcast interfaces, none for /31 (RFC 3021)).  Like
 * ether_ioctl(SIOCSIFADDR), it brings the interface up.  Returns an errno.
 */
export function if_addr_add(ifp: Ifnet, addr: number, mask = -1, broadaddr = -1): number {
  addr >>>= 0;
  const m = mask === -1 ? classmask(addr) : mask >>> 0;
  let brd = 0;
  if (broadaddr !== -1) brd = broadaddr >>> 0;
  else if ((ifp.if_flags & IFF_BROADCAST) !== 0) brd = m === 0xfffffffe ? 0 : ((addr & m) | ~m) >>> 0;
  let ia = ifp.if_addrs.find((a) => a.addr === addr);
  if (ia !== undefined) {
    if_addrchange(ifp, ia, false);
    ia.mask = m;
    ia.broadaddr = brd;
  } else {
    ia = { addr, mask: m, broadaddr: brd };
    ifp.if_addrs.push(ia);
  }
  if_setflags_up(ifp, true);
  if_addrchange(ifp, ia, true);
  return 0;
}

/**
 * SIOCDIFADDR: remove an IPv4 address (addr -1: the first one).  Returns
 * EADDRNOTAVAIL when the interface has no such address.
 */
export function if_addr_del(ifp: Ifnet, addr = -1): number {
  const i = addr === -1 ? (ifp.if_addrs.length > 0 ? 0 : -1) : ifp.if_addrs.findIndex((a) => a.addr === addr >>> 0);
  if (i < 0) return EADDRNOTAVAIL;
  const ia = ifp.if_addrs[i]!;
  ifp.if_addrs.splice(i, 1);
  if_addrchange(ifp, ia, false);
  return 0;
}

/** The interfaces in ifnetlist order (getifaddrs): lo0 first, then by index. */
export function if_list(k: Kernel): Ifnet[] {
  const heads: Ifnet[] = [];
  const rest: Ifnet[] = [];
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    if (ifp.if_listhead) heads.unshift(ifp);
    else rest.push(ifp);
  }
  return heads.concat(rest);
}

/** SIOCGIFFLAGS: if_flags, with OACTIVE while the first transmit queue is. */
export function if_getflags(ifp: Ifnet): number {
  let f = ifp.if_flags & 0xffff;
  if (ifp.if_snd.ifq_oactive) f |= IFF_OACTIVE;
  return f;
}

/** SIOCGIFXFLAGS: the kernel hides MPSAFE and CLONED. */
export function if_getxflags(ifp: Ifnet): number {
  return ifp.if_xflags & ~(IFXF_MPSAFE | IFXF_CLONED);
}
