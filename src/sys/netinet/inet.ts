/**
 * The IPv4 state of one kernel: what OpenBSD keeps in globals of
 * netinet/ (the routing table, the ARP cache, the reassembly queue, the
 * ip_id source, sysctl knobs), gathered per kernel.
 */
import type { Kernel } from '../kern/kernel.js';
import type { SysctlNode } from '../kern/kern_sysctl.js';

export class Inet {
  /** net.inet.ip.forwarding: 0 drops packets not for us (ips_cantforward). */
  readonly ipforwarding: SysctlNode;
  /** net.inet.ip.ttl: default TTL of packets we originate. */
  readonly ipdefttl: SysctlNode;

  constructor(readonly kernel: Kernel) {
    this.ipforwarding = kernel.sysctl.int('net.inet.ip.forwarding', 0, 'forward packets not addressed to us', 0, 2);
    this.ipdefttl = kernel.sysctl.int('net.inet.ip.ttl', 64, 'default TTL', 0, 255);
  }
}
