/**
 * em(4): Intel I210 gigabit Ethernet, one queue.  Model numbers from
 * OpenBSD's if_em.c: 512 transmit and 256 receive descriptors, a transmit
 * queue of 511 packets (sc_tx_slots - 1), OACTIVE when fewer than
 * EM_MAX_SCATTER + 2 descriptors are free, 9234-byte jumbo frames.
 */
import type { Kernel } from '../kern/kernel.js';
import {
  IFCAP_CSUM_IPv4, IFCAP_CSUM_TCPv4, IFCAP_CSUM_TCPv6, IFCAP_CSUM_UDPv4, IFCAP_CSUM_UDPv6, IFCAP_TSOv4, IFCAP_TSOv6,
  IFCAP_VLAN_HWTAGGING, IFCAP_VLAN_MTU,
} from '../net/if.js';
import type { Cable } from './cable.js';
import { EtherNic, copperMedia, type NicModel, type NicOptions } from './nic.js';

export const EM_MAX_TXD = 512;
export const EM_MAX_RXD = 256;
export const EM_MAX_SCATTER = 64;

export const I210: NicModel = {
  driver: 'em',
  product: 'Intel I210',
  rev: 0x03,
  intr: 'msi',
  txSlots: EM_MAX_TXD,
  rxSlots: EM_MAX_RXD,
  queues: 1,
  maxFrame: 9234,
  // em_start: `if (EM_MAX_SCATTER + 2 > free)`
  txThreshold: EM_MAX_SCATTER + 1,
  media: (rate) => copperMedia(rate > 1e9 ? 1e9 : rate),
  xflags: 0,
  // em_setup_interface() for an I210 (em_82575 ... em_i210).
  capabilities: IFCAP_VLAN_MTU | IFCAP_VLAN_HWTAGGING | IFCAP_CSUM_TCPv4 | IFCAP_CSUM_UDPv4 | IFCAP_CSUM_IPv4 |
    IFCAP_CSUM_TCPv6 | IFCAP_CSUM_UDPv6 | IFCAP_TSOv4 | IFCAP_TSOv6,
};

export class Em extends EtherNic {
  constructor(kernel: Kernel, opts: NicOptions) {
    super(kernel, I210, { ...opts, queues: 1 });
  }

  /** em_update_link_status(): no TSO at 10 and 100 Mbit/s (hardware issues), back at 1000. */
  override cable_link(cable: Cable | null): void {
    if (cable !== null) {
      if (cable.rate < 1e9) this.ifp.if_capabilities &= ~(IFCAP_TSOv4 | IFCAP_TSOv6);
      else this.ifp.if_capabilities |= IFCAP_TSOv4 | IFCAP_TSOv6;
    }
    super.cable_link(cable);
  }
}

/** Attach an em(4) to a kernel (prints its dmesg line). */
export function em_attach(kernel: Kernel, opts: NicOptions): Em {
  return new Em(kernel, opts);
}
