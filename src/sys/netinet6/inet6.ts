/**
 * The IPv6 state of one kernel (what OpenBSD keeps in globals of
 * netinet6/): the IPv6 routing table, interface addresses and multicast
 * memberships, the neighbor cache list and its timer, the reassembly
 * queue, the ICMPv6 rate limiter, the protocol switch (inet6sw) and the
 * net.inet6.* sysctl knobs.
 *
 * Protocol switch: `pr_input[nxt]` takes (k, m, off, nxt, ifp) with m at
 * the IPv6 header and the protocol's header at m.off + off.  It returns
 * IPPROTO_DONE (257) when it consumed the packet, or the next header
 * after storing that header's offset in `k.inet6.offp` (extension
 * headers).  TCP and UDP register tcp6/udp6 input here:
 * `k.inet6.pr_input[IPPROTO_TCP] = tcp6_input`.  `pr_ctlinput[nxt]`
 * receives ICMPv6 errors about datagrams the protocol sent.
 */
import type { Kernel } from '../kern/kernel.js';
import type { SysctlNode } from '../kern/kern_sysctl.js';
import { CounterBlock } from '../kern/counters.js';
import type { Ifnet } from '../net/if.js';
import { MbufList, type Mbuf } from '../kern/uipc_mbuf.js';
import { Task } from '../kern/kern_task.js';
import type { Timeout } from '../kern/kern_timeout.js';
import { packetflowLayout } from '../netinet/if_ether.js';
import { IcmpState } from '../netinet/ip_icmp.js';
import { Rtable6, rt6_if_track, type Rtentry6 } from '../net/route6.js';
import { IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_ICMPV6, IPPROTO_ROUTING } from '../../wire/ip4.js';
import { AF_INET6, type In6Ifaddr, type In6Multi, NdIfinfo } from './in6_var.js';
import { ipv6_input, ip6_loop_task, dest6_input, route6_input } from './ip6_input.js';
import { icmp6_input } from './icmp6.js';
import { frag6_input, Frag6State } from './frag6.js';
import type { LlinfoNd6 } from './nd6.js';
import { nd6_timer } from './nd6.js';
import { in6_if_up } from './in6.js';
import type { Dadq } from './nd6_nbr.js';
import { udp6_init } from './udp6_output.js';
import { tcp6_init } from './tcp6.js';
import { in6_pcbinit } from './in6_pcb.js';

/** pr_input of an IPv6 protocol, see the module comment. */
export type Ip6ProtoInput = (k: Kernel, m: Mbuf, off: number, nxt: number, ifp: Ifnet) => number;
/**
 * pr_ctlinput for IPv6: an ICMPv6 error (PRC_* cmd) about a datagram whose
 * IPv6 header is quoted at buf[off, off+len); dst is its destination
 * (scope embedded); mtu is the Packet Too Big MTU (else 0).
 */
export type Ip6ProtoCtlinput = (k: Kernel, cmd: number, dst: Uint8Array, buf: Uint8Array, off: number, len: number, mtu: number) => void;
/** A raw ICMPv6 socket's receive hook (ping6): the datagram at buf[off, off+len), ICMPv6 at icmpoff; hlim of the packet. */
export type Icmp6Listener = (buf: Uint8Array, off: number, len: number, icmpoff: number, ifidx: number) => void;

const INT_MAX = 0x7fffffff;

/**
 * packetflow's IPv6 drop counters where OpenBSD drops silently (printed
 * by no netstat line; `k.inet6.ip6xstat.value(name)`).
 */
export const IP6XSTAT_NAMES = [
  'ip6x_optdiscard', // drop: unknown option of type "discard" (ip6_unknown_opt)
  'ip6x_tentative', // drop: to a tentative or duplicated address of ours
  'ip6x_emptyfrag', // drop: empty non-atomic fragment (frag6_input)
  'ip6x_ns_notarget', // drop: neighbor solicitation for an address we neither own nor proxy
  'ip6x_na_nocache', // drop: neighbor advertisement for a neighbor we have no entry for
  'ip6x_na_ours', // drop: neighbor advertisement for one of our addresses (duplicate)
  'ip6x_na_incomplete_nolladdr', // drop: advertisement without link-layer address for an incomplete entry
  'ip6x_nd_holddrops', // drop: oldest packet pushed out of a full neighbor hold queue
  'ip6x_nd_holdtotal', // drop: LN_HOLD_TOTAL exceeded
  'ip6x_nd_invalidated', // drop: held packets purged when the entry went away
  'ip6x_nd_noinfo', // drop: route without neighbor information
  'ip6x_nd_rejected', // drop: route rejected
  'ip6x_odown', // drop: output on an interface that is not running
  'ip6x_ra_ignored', // consumed: router advertisement not used (no autoconf on the interface)
  'ip6x_mld_ignored', // consumed: MLD message not for a group we are in
  'ip6x_dad_dup', // our address found duplicated by DAD
  'ip6x_mcastfilter', // drop: multicast frame for a group not joined (what the NIC's filter drops)
] as const;
export const ip6x_optdiscard = 0;
export const ip6x_tentative = 1;
export const ip6x_emptyfrag = 2;
export const ip6x_ns_notarget = 3;
export const ip6x_na_nocache = 4;
export const ip6x_na_ours = 5;
export const ip6x_na_incomplete_nolladdr = 6;
export const ip6x_nd_holddrops = 7;
export const ip6x_nd_holdtotal = 8;
export const ip6x_nd_invalidated = 9;
export const ip6x_nd_noinfo = 10;
export const ip6x_nd_rejected = 11;
export const ip6x_odown = 12;
export const ip6x_ra_ignored = 13;
export const ip6x_mld_ignored = 14;
export const ip6x_dad_dup = 15;
export const ip6x_mcastfilter = 16;

export const IP6XSTAT_LAYOUT = packetflowLayout('ip6x', 'ip6xstat', IP6XSTAT_NAMES);

/** A cached IPv6 route (struct route for AF_INET6). */
export class Route6 {
  ro_rt: Rtentry6 | null = null;
  readonly ro_dst = new Uint8Array(16);
}

/** An advertising configuration for one interface (what rad(8) would send). */
export interface RadConfig {
  prefixes: Array<{ prefix: Uint8Array; plen: number; vltime: number; pltime: number }>;
  /** Router lifetime, s (0: not a default router). */
  lifetime: number;
  /** Seconds between unsolicited advertisements. */
  interval: number;
  mtu: number;
  timer: Timeout<RadConfig> | null;
}

export class Inet6 {
  readonly ip6_forwarding: SysctlNode;
  readonly ip6_sendredirects: SysctlNode;
  readonly ip6_defhlim: SysctlNode;
  readonly ip6_defmcasthlim: SysctlNode;
  readonly ip6_maxfragpackets: SysctlNode;
  readonly ip6_maxfrags: SysctlNode;
  readonly ip6_log_interval: SysctlNode;
  readonly ip6_hdrnestlimit: SysctlNode;
  readonly ip6_dad_count: SysctlNode;
  readonly ip6_auto_flowlabel: SysctlNode;
  readonly ip6_use_deprecated: SysctlNode;
  readonly ip6_mtudisc_timeout: SysctlNode;
  readonly ip6_neighborgcthresh: SysctlNode;
  readonly ip6_maxdynroutes: SysctlNode;
  readonly ip6_dad_pending: SysctlNode;
  readonly icmp6_rediraccept: SysctlNode;
  readonly icmp6_redirtimeout: SysctlNode;
  readonly nd6_delay: SysctlNode;
  readonly nd6_umaxtries: SysctlNode;
  readonly nd6_mmaxtries: SysctlNode;
  readonly icmp6errppslim: SysctlNode;
  readonly icmp6_mtudisc_hiwat: SysctlNode;
  readonly icmp6_mtudisc_lowat: SysctlNode;

  readonly rtable = new Rtable6();
  /** IPv6 addresses by interface index, in the order configured. */
  readonly ifaddrs: Array<In6Ifaddr[] | undefined> = [];
  /** Multicast memberships by interface index. */
  readonly multi: Array<In6Multi[] | undefined> = [];
  /** ND parameters by interface index. */
  readonly ndinfo: Array<NdIfinfo | undefined> = [];
  /** Interfaces with IPv6 enabled (in6_ifattach done), by index. */
  readonly attached: boolean[] = [];
  /** in6_ifattach() on every Ethernet and loopback interface that comes up (inet6_enable()). */
  autoattach = false;

  /** nd6_list: neighbor entries, most recently used first. */
  readonly nd6_list: LlinfoNd6[] = [];
  ln_hold_total = 0;
  nd6_timer_next = -1;
  readonly nd6_timer_to: Timeout<Kernel>;
  /** Addresses doing duplicate address detection. */
  readonly dadq: Dadq[] = [];
  readonly frag6: Frag6State;
  readonly icmp6rl = new IcmpState();
  readonly ip6xstat = new CounterBlock(IP6XSTAT_LAYOUT);
  /** Router advertisements we send, per interface index. */
  readonly rad: Array<RadConfig | undefined> = [];

  readonly pr_input: Array<Ip6ProtoInput | undefined> = new Array<Ip6ProtoInput | undefined>(256);
  readonly pr_ctlinput: Array<Ip6ProtoCtlinput | undefined> = new Array<Ip6ProtoCtlinput | undefined>(256);
  readonly icmp6Listeners = new Set<Icmp6Listener>();
  /** The offset an extension header's pr_input leaves for the next one (*offp). */
  offp = 0;
  /** *mp: the packet the chain continues with (frag6 hands on the reassembled one). */
  mp: Mbuf | null = null;
  /** ip6_hbhchcheck(): a router alert made the packet ours (routers). */
  hbh_ours = false;
  /** The router alert value of the packet's hop-by-hop header, -1 without one. */
  rtalert = -1;

  // Scratch space of the packet path.
  readonly cloneKey = new Uint8Array(16);
  readonly desten = new Uint8Array(6);
  readonly pseudo = new Uint8Array(32);
  readonly addrScratch = new Uint8Array(16);
  readonly addrScratch2 = new Uint8Array(16);
  readonly icmpSave = new Uint8Array(1232);
  readonly fragList = new MbufList();
  readonly loopq = new MbufList();
  readonly loopTask: Task<Kernel>;
  readonly ns_route = new Route6();
  /** The route the last ip6_output() used (ip6_forward reads its MTU). */
  ip6_output_rt: Rtentry6 | null = null;
  /** Next id of outgoing fragments when not random. */
  ip6_log_time = 0;

  constructor(readonly kernel: Kernel) {
    const s = kernel.sysctl;
    this.ip6_forwarding = s.int('net.inet6.ip6.forwarding', 0, 'forward IPv6 packets not addressed to us', 0, 2);
    this.ip6_sendredirects = s.int('net.inet6.ip6.redirect', 1, 'send ICMPv6 redirects', 0, 1);
    this.ip6_defhlim = s.int('net.inet6.ip6.hlim', 64, 'default hop limit', 0, 255);
    this.ip6_defmcasthlim = s.int('net.inet6.ip6.defmcasthlim', 1, 'default multicast hop limit', 0, 255);
    this.ip6_maxfragpackets = s.int('net.inet6.ip6.maxfragpackets', 200, 'most datagrams being reassembled', 0, 1000);
    this.ip6_maxfrags = s.int('net.inet6.ip6.maxfrags', 200, 'most fragments queued for reassembly', 0, 1000);
    this.ip6_log_interval = s.int('net.inet6.ip6.log_interval', 5, 'seconds between log lines', 0, INT_MAX);
    this.ip6_hdrnestlimit = s.int('net.inet6.ip6.hdrnestlimit', 10, 'most nested extension headers', 0, 100);
    this.ip6_dad_count = s.int('net.inet6.ip6.dad_count', 1, 'neighbor solicitations sent for DAD', 0, 10);
    this.ip6_auto_flowlabel = s.int('net.inet6.ip6.auto_flowlabel', 1, 'set flow labels', 0, 1);
    this.ip6_use_deprecated = s.int('net.inet6.ip6.use_deprecated', 1, 'use deprecated addresses', 0, 1);
    this.ip6_mtudisc_timeout = s.int('net.inet6.ip6.mtudisc_timeout', 600, 'path MTU route lifetime (s)', 0, INT_MAX);
    this.ip6_neighborgcthresh = s.int('net.inet6.ip6.neighborgcthresh', 2048, 'neighbor entries before purging', -1, 5 * 2048);
    this.ip6_maxdynroutes = s.int('net.inet6.ip6.maxdynroutes', 4096, 'most routes from redirects', -1, 5 * 4096);
    this.ip6_dad_pending = s.int('net.inet6.ip6.dad_pending', 0, 'addresses doing DAD', 0, INT_MAX, true);
    this.icmp6_rediraccept = s.int('net.inet6.icmp6.rediraccept', 1, 'accept ICMPv6 redirects', 0, 1);
    this.icmp6_redirtimeout = s.int('net.inet6.icmp6.redirtimeout', 600, 'redirect route lifetime (s)', 0, INT_MAX);
    this.nd6_delay = s.int('net.inet6.icmp6.nd6_delay', 5, 'seconds in DELAY before probing', 0, INT_MAX);
    this.nd6_umaxtries = s.int('net.inet6.icmp6.nd6_umaxtries', 3, 'unicast probes before giving up', 0, INT_MAX);
    this.nd6_mmaxtries = s.int('net.inet6.icmp6.nd6_mmaxtries', 3, 'multicast solicitations before giving up', 0, INT_MAX);
    this.icmp6errppslim = s.int('net.inet6.icmp6.errppslimit', 100, 'ICMPv6 errors per second (-1: no limit)', -1, 1000);
    this.icmp6_mtudisc_hiwat = s.int('net.inet6.icmp6.mtudisc_hiwat', 1280, 'path MTU routes high water mark', 0, INT_MAX);
    this.icmp6_mtudisc_lowat = s.int('net.inet6.icmp6.mtudisc_lowat', 256, 'path MTU routes low water mark', 0, INT_MAX);
    this.nd6_timer_to = kernel.world.timeout<Kernel>(nd6_timer, kernel);
    this.frag6 = new Frag6State(kernel);
    this.loopTask = new Task<Kernel>(ip6_loop_task, kernel);
    this.pr_input[IPPROTO_ICMPV6] = icmp6_input;
    this.pr_input[IPPROTO_FRAGMENT] = frag6_input;
    this.pr_input[IPPROTO_ROUTING] = route6_input;
    this.pr_input[IPPROTO_DSTOPTS] = dest6_input;
    udp6_init(kernel, this);
    tcp6_init(kernel, this);
    in6_pcbinit(kernel);
    kernel.inet.ipv6_input = ipv6_input;
    kernel.af_input[AF_INET6] = ipv6_input;
    kernel.if_linkstatehooks.push(rt6_if_track, in6_if_up);
  }

  /** The IPv6 addresses of an interface (empty when none). */
  addrs(ifp: Ifnet | number): In6Ifaddr[] {
    const i = typeof ifp === 'number' ? ifp : ifp.if_index;
    return this.ifaddrs[i] ?? (this.ifaddrs[i] = []);
  }

  nd(ifp: Ifnet | number): NdIfinfo {
    const i = typeof ifp === 'number' ? ifp : ifp.if_index;
    return this.ndinfo[i] ?? (this.ndinfo[i] = new NdIfinfo());
  }
}
