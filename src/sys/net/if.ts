/**
 * struct ifnet: one network interface of a kernel.  Drivers (dev/em,
 * dev/ix, lo0) create it, ether_ifattach() gives it Ethernet input and
 * output, and the tools (ifconfig, netstat -i, kstat) read it.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';

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
  }
}
