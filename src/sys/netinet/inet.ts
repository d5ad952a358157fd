/**
 * The IPv4 state of one kernel: what OpenBSD keeps in globals of
 * netinet/ (the routing table, the ARP cache, the reassembly queue, the
 * ICMP rate limiter, protocol switch, sysctl knobs), gathered per kernel.
 *
 * Protocols plug in through pr_input / pr_ctlinput (inetsw[ip_protox[]]);
 * raw ICMP listeners (ping's socket, until sockets exist) through
 * icmpListeners.
 */
import type { Kernel } from '../kern/kernel.js';
import type { SysctlNode } from '../kern/kern_sysctl.js';
import type { CounterBlock } from '../kern/counters.js';
import type { Ifnet } from '../net/if.js';
import { MbufList, type Mbuf } from '../kern/uipc_mbuf.js';
import { Task } from '../kern/kern_task.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import { AF_INET, Rtable, rt_if_track, type Rtentry } from '../net/route.js';
import { in_ifaddr_change } from './in.js';
import { newEtherStats } from '../net/if_ethersubr.js';
import { ArpState } from './if_ether.js';
import { IpReass, ipv4_input, type IpProtoCtlinput, type IpProtoInput } from './ip_input.js';
import { IcmpState, icmp_input } from './ip_icmp.js';
import { loop_task, Route } from './ip_output.js';
import { AF_INET6, Inpcbtable, PcbConf } from './in_pcb.js';
import { udp_init } from './udp_usrreq.js';
import type { Protosw } from '../kern/uipc_socket.js';
import type { TcpState } from './tcp_var.js';
import { tcp_init } from './tcp_subr.js';

/** A raw ICMP socket's receive hook: the whole datagram at buf[off, off+len), IP header hlen. */
export type IcmpListener = (buf: Uint8Array, off: number, len: number, hlen: number) => void;

const INT_MAX = 0x7fffffff;

export class Inet {
  /** net.inet.ip.forwarding: 0 drops packets not for us (ips_cantforward). */
  readonly ipforwarding: SysctlNode;
  /** net.inet.ip.ttl: default TTL of packets we originate. */
  readonly ipdefttl: SysctlNode;
  /** net.inet.ip.redirect: send ICMP redirects when forwarding back out the same interface. */
  readonly ipsendredirects: SysctlNode;
  /** net.inet.ip.directed-broadcast */
  readonly ipdirectedbcast: SysctlNode;
  /** net.inet.ip.maxqueue: most fragments queued for reassembly. */
  readonly ipmaxqueue: SysctlNode;
  /** net.inet.ip.sourceroute: forward source-routed packets. */
  readonly ipsourceroute: SysctlNode;
  /** net.inet.ip.mtudisc */
  readonly ipmtudisc: SysctlNode;
  /** net.inet.ip.arptimeout (arpt_keep): seconds a resolved ARP entry lives. */
  readonly arpt_keep: SysctlNode;
  /** net.inet.ip.arpdown (arpt_down): seconds an unresolvable entry stays rejected. */
  readonly arpt_down: SysctlNode;
  readonly icmpmaskrepl: SysctlNode;
  readonly icmpbmcastecho: SysctlNode;
  readonly icmperrppslim: SysctlNode;
  readonly icmp_rediraccept: SysctlNode;
  readonly icmptstamprepl: SysctlNode;

  /** Routing table 0. */
  readonly rtable = new Rtable(0);
  readonly arp: ArpState;
  readonly ipq: IpReass;
  readonly icmp = new IcmpState();
  /** packetflow's Ethernet drop counters (see if_ethersubr.ts). */
  readonly etherstat: CounterBlock = newEtherStats();
  /** Addresses in_ifaddr_change() has installed, per interface index. */
  readonly installed = new Map<number, unknown[]>();

  /** inetsw[ip_protox[p]].pr_input; unset protocols go to rip_input. */
  readonly pr_input: Array<IpProtoInput | undefined> = new Array<IpProtoInput | undefined>(256);
  /** inetsw[ip_protox[p]].pr_ctlinput */
  readonly pr_ctlinput: Array<IpProtoCtlinput | undefined> = new Array<IpProtoCtlinput | undefined>(256);
  /** Raw ICMP sockets. */
  readonly icmpListeners = new Set<IcmpListener>();
  /** vlan_input(), once vlan(4) exists: returns the frame to process further or null. */
  vlan_input: ((ifp: Ifnet, m: Mbuf) => Mbuf | null) | null = null;
  /** ipv6_input(), once IPv6 exists; until then IPv6 frames count as if_noproto. */
  ipv6_input: ((ifp: Ifnet, m: Mbuf) => void) | null = null;

  // Scratch space of the packet path (no allocation per packet).
  readonly desten = new Uint8Array(6);
  /** ip_forward's copy of a datagram's head: a cluster's size, so a whole cluster is copied at once. */
  readonly icmpSave = new Uint8Array(2048);
  readonly optScratch = new Uint8Array(44);
  readonly fragList = new MbufList();
  /** tcp_softtso_chop()'s segments of one TSO packet. */
  readonly tsoList = new MbufList();
  /** Datagrams looped back to ourselves, drained by loopTask on softnet. */
  readonly loopq = new MbufList();
  readonly loopTask: Task<Kernel>;
  /** struct netstack's cached route for the packet being input. */
  readonly ns_route = new Route();
  /** The route the last ip_output() used (for ip_forward's need-frag MTU). */
  ip_output_rt: Rtentry | null = null;

  /** PCB tables (in_pcb.ts): UDP and TCP, IPv4 and IPv6. */
  readonly udbtable: Inpcbtable;
  readonly udb6table: Inpcbtable;
  readonly tcbtable: Inpcbtable;
  readonly tcb6table: Inpcbtable;
  /** Socket protocols (inetsw/inet6sw, see uipc_socket.ts pffindproto): UDP and TCP register here. */
  readonly protosw: Protosw[] = [];
  /** Ephemeral port ranges, bad dynamic ports, IPv6 hooks of the PCB layer. */
  readonly pcbconf: PcbConf;
  /** TCP (tcp_var.ts): knobs, SYN cache, ISN state; set by tcp_init(). */
  tcp!: TcpState;

  constructor(readonly kernel: Kernel) {
    const s = kernel.sysctl;
    this.ipforwarding = s.int('net.inet.ip.forwarding', 0, 'forward packets not addressed to us', 0, 2);
    this.ipsendredirects = s.int('net.inet.ip.redirect', 1, 'send ICMP redirects', 0, 1);
    this.ipdefttl = s.int('net.inet.ip.ttl', 64, 'default TTL', 0, 255);
    this.ipdirectedbcast = s.int('net.inet.ip.directed-broadcast', 0, 'forward directed broadcasts', 0, 1);
    this.ipmaxqueue = s.int('net.inet.ip.maxqueue', 300, 'most fragments in the reassembly queue', 0, 10000);
    this.ipsourceroute = s.int('net.inet.ip.sourceroute', 0, 'forward source-routed packets', 0, 1);
    this.ipmtudisc = s.int('net.inet.ip.mtudisc', 1, 'path MTU discovery', 0, 1);
    this.arpt_keep = s.int('net.inet.ip.arptimeout', 20 * 60, 'seconds a resolved ARP entry is kept', 0, INT_MAX);
    this.arpt_down = s.int('net.inet.ip.arpdown', 20, 'seconds an unresolved ARP entry is refused', 0, INT_MAX);
    this.icmpmaskrepl = s.int('net.inet.icmp.maskrepl', 0, 'answer address mask requests', 0, 1);
    this.icmpbmcastecho = s.int('net.inet.icmp.bmcastecho', 0, 'answer broadcast and multicast echo requests', 0, 1);
    this.icmperrppslim = s.int('net.inet.icmp.errppslimit', 100, 'ICMP errors per second (-1: no limit)', -1, INT_MAX);
    this.icmp_rediraccept = s.int('net.inet.icmp.rediraccept', 0, 'accept ICMP redirects', 0, 1);
    this.icmptstamprepl = s.int('net.inet.icmp.tstamprepl', 1, 'answer timestamp requests', 0, 1);
    this.arp = new ArpState(kernel);
    this.ipq = new IpReass(kernel);
    this.loopTask = new Task<Kernel>(loop_task, kernel);
    this.pr_input[IPPROTO_ICMP] = icmp_input;
    this.pcbconf = new PcbConf(kernel);
    this.udbtable = new Inpcbtable(kernel, IPPROTO_UDP, AF_INET);
    this.udb6table = new Inpcbtable(kernel, IPPROTO_UDP, AF_INET6);
    this.tcbtable = new Inpcbtable(kernel, IPPROTO_TCP, AF_INET);
    this.tcb6table = new Inpcbtable(kernel, IPPROTO_TCP, AF_INET6);
    this.tcp = tcp_init(kernel, this);
    udp_init(this);
    kernel.af_input[AF_INET] = ipv4_input;
    kernel.if_linkstatehooks.push(rt_if_track);
  }

  /** Routes for ifp's addresses as they now are (if_addrchange() calls this). */
  in_ifaddr_change(ifp: Ifnet): void {
    in_ifaddr_change(ifp);
  }
}
