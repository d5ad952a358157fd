/**
 * ix(4): Intel X550T 10 gigabit Ethernet with four queues.  Model numbers
 * from OpenBSD's if_ix.c: 256 descriptors per ring, a transmit queue of
 * 255 packets per ring (num_tx_desc - 1), OACTIVE when no more than
 * IXGBE_TX_OP_THRESHOLD (scatter 32 + 2) descriptors are free, LRO on.
 *
 * Receive side scaling: the hardware hashes a frame's IPv4/IPv6 addresses
 * and TCP/UDP ports with a symmetric Toeplitz key (both directions of a
 * flow get the same hash, as OpenBSD's stoeplitz), picks the receive ring
 * from it and stores it as the packet's flow id (M_FLOWID), which
 * if_enqueue() later uses to pick the transmit ring.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { M_FLOWID } from '../kern/uipc_mbuf.js';
import {
  IFCAP_CSUM_IPv4, IFCAP_CSUM_TCPv4, IFCAP_CSUM_TCPv6, IFCAP_CSUM_UDPv4, IFCAP_CSUM_UDPv6, IFCAP_LRO, IFCAP_TSOv4,
  IFCAP_TSOv6, IFCAP_VLAN_HWTAGGING, IFCAP_VLAN_MTU, IFXF_LRO,
} from '../net/if.js';
import type { IfQueue } from '../net/ifq.js';
import { EtherNic, copperMedia, type NicModel, type NicOptions } from './nic.js';

export const IX_DEFAULT_TXD = 256;
export const IX_DEFAULT_RXD = 256;
export const IXGBE_82599_SCATTER = 32;
export const IXGBE_MAX_FRAME_SIZE = 9216;

export const X550T: NicModel = {
  driver: 'ix',
  product: 'Intel X550T',
  rev: 0x01,
  intr: 'msix',
  txSlots: IX_DEFAULT_TXD,
  rxSlots: IX_DEFAULT_RXD,
  queues: 4,
  maxFrame: IXGBE_MAX_FRAME_SIZE,
  // ixgbe_start: `if (free <= IXGBE_TX_OP_THRESHOLD)`
  txThreshold: IXGBE_82599_SCATTER + 2,
  media: (rate) => copperMedia(rate),
  xflags: IFXF_LRO,
  // ixgbe_setup_interface() for an X550 (not an 82598: LRO).
  capabilities: IFCAP_VLAN_MTU | IFCAP_VLAN_HWTAGGING | IFCAP_CSUM_TCPv4 | IFCAP_CSUM_UDPv4 | IFCAP_CSUM_TCPv6 |
    IFCAP_CSUM_UDPv6 | IFCAP_CSUM_IPv4 | IFCAP_TSOv4 | IFCAP_TSOv6 | IFCAP_LRO,
  intrName: 'ixgbe_queue_intr',
  startName: 'ixgbe_start',
};

/** A 40-byte symmetric RSS key: the 16-bit pattern 0x6d5a repeated. */
const RSS_KEY = new Uint8Array(40);
for (let i = 0; i < 40; i += 2) {
  RSS_KEY[i] = 0x6d;
  RSS_KEY[i + 1] = 0x5a;
}

/**
 * What byte value v at input position i (mod 36) xors into the Toeplitz
 * hash: for every set bit of v, the 32-bit window of the key starting at
 * that bit.  One lookup per input byte instead of a loop over its bits.
 */
const TOEPLITZ = new Uint32Array(36 * 256);
for (let i = 0; i < 36; i++) {
  // The 40 key bits starting at byte i: 32-bit window plus the next byte.
  const k = RSS_KEY[i % 36]! * 0x1000000 + RSS_KEY[(i + 1) % 36]! * 0x10000 + RSS_KEY[(i + 2) % 36]! * 0x100 + RSS_KEY[(i + 3) % 36]!;
  const nx = RSS_KEY[(i + 4) % 36]!;
  for (let v = 0; v < 256; v++) {
    let h = 0;
    for (let bit = 0; bit < 8; bit++) {
      if ((v & (0x80 >> bit)) !== 0) h ^= ((k << bit) | (nx >>> (8 - bit))) >>> 0;
    }
    TOEPLITZ[i * 256 + v] = h >>> 0;
  }
}

/**
 * Toeplitz hash of `len` bytes at buf[off] with RSS_KEY: for every set
 * bit of the input, xor in the 32-bit window of the key starting there.
 */
export function toeplitz(buf: Uint8Array, off: number, len: number, init = 0): number {
  let h = init;
  for (let i = 0; i < len; i++) h ^= TOEPLITZ[(i % 36) * 256 + buf[off + i]!]!;
  return h >>> 0;
}

/**
 * The RSS hash of an Ethernet frame: IPv4 or IPv6 source and destination
 * plus TCP/UDP ports when present (first fragments only); 0 for other
 * frames.  Symmetric: hash(a->b) == hash(b->a).
 */
export function rss_hash(buf: Uint8Array, off: number, len: number): number {
  if (len < 14) return 0;
  let p = off + 12;
  let type = (buf[p]! << 8) | buf[p + 1]!;
  p += 2;
  if (type === 0x8100 && len >= 18) {
    type = (buf[p + 2]! << 8) | buf[p + 3]!;
    p += 4;
  }
  const end = off + len;
  let h: number;
  let proto = 0;
  let l4 = 0;
  if (type === 0x0800) {
    if (p + 20 > end) return 0;
    const hl = (buf[p]! & 0x0f) * 4;
    // Sort the addresses so both directions hash alike.
    const a = p + 12;
    const b = p + 16;
    const swap = cmp(buf, a, b, 4) > 0;
    h = toeplitz(buf, swap ? b : a, 4, 0) ^ rot(toeplitz(buf, swap ? a : b, 4, 0));
    const frag = ((buf[p + 6]! & 0x1f) << 8) | buf[p + 7]!;
    if (frag === 0) {
      proto = buf[p + 9]!;
      l4 = p + hl;
    }
  } else if (type === 0x86dd) {
    if (p + 40 > end) return 0;
    const a = p + 8;
    const b = p + 24;
    const swap = cmp(buf, a, b, 16) > 0;
    h = toeplitz(buf, swap ? b : a, 16, 0) ^ rot(toeplitz(buf, swap ? a : b, 16, 0));
    proto = buf[p + 6]!;
    l4 = p + 40;
  } else {
    return 0;
  }
  if ((proto === 6 || proto === 17) && l4 + 4 <= end) {
    const swap = cmp(buf, l4, l4 + 2, 2) > 0;
    h ^= toeplitz(buf, swap ? l4 + 2 : l4, 2, 0) ^ rot(toeplitz(buf, swap ? l4 : l4 + 2, 2, 0));
  }
  return h >>> 0;
}

function cmp(buf: Uint8Array, a: number, b: number, n: number): number {
  for (let i = 0; i < n; i++) {
    const d = buf[a + i]! - buf[b + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function rot(x: number): number {
  return ((x << 13) | (x >>> 19)) >>> 0;
}

export class Ix extends EtherNic {
  private lastHash = 0;
  /**
   * The last IPv4 TCP/UDP flow hashed (addresses, ports, protocol) and its
   * hash: the frames of a flow follow each other, and their hash is a
   * function of these bytes alone.
   */
  private memoSrc = 0;
  private memoDst = 0;
  private memoPorts = 0;
  private memoProto = -1;
  private memoHash = 0;

  constructor(kernel: Kernel, opts: NicOptions) {
    super(kernel, X550T, opts);
  }

  protected override rxqueue(buf: Uint8Array, off: number, len: number): number {
    let h: number;
    const proto = buf[off + 23]!;
    // Untagged IPv4 without options, a first fragment, TCP or UDP with its ports in the frame.
    if (len >= 38 && buf[off + 12] === 0x08 && buf[off + 13] === 0 && buf[off + 14] === 0x45 &&
      (buf[off + 20]! & 0x1f) === 0 && buf[off + 21] === 0 && (proto === 6 || proto === 17)) {
      const src = (buf[off + 26]! << 24) | (buf[off + 27]! << 16) | (buf[off + 28]! << 8) | buf[off + 29]!;
      const dst = (buf[off + 30]! << 24) | (buf[off + 31]! << 16) | (buf[off + 32]! << 8) | buf[off + 33]!;
      const ports = (buf[off + 34]! << 24) | (buf[off + 35]! << 16) | (buf[off + 36]! << 8) | buf[off + 37]!;
      if (proto === this.memoProto && src === this.memoSrc && dst === this.memoDst && ports === this.memoPorts) h = this.memoHash;
      else {
        h = rss_hash(buf, off, len);
        this.memoProto = proto;
        this.memoSrc = src;
        this.memoDst = dst;
        this.memoPorts = ports;
        this.memoHash = h;
      }
    } else h = rss_hash(buf, off, len);
    this.lastHash = h;
    return h % this.nqueues;
  }

  protected override rxpkthdr(m: Mbuf, qid: number): void {
    void qid;
    m.ph_flowid = this.lastHash & 0xffff;
    m.csum_flags |= M_FLOWID;
  }

  /** ixgbe_start returns without link; the queue keeps its packets. */
  protected override startNoLink(ifq: IfQueue): void {
    void ifq;
  }
}

/** Attach an ix(4) to a kernel (prints its dmesg line). */
export function ix_attach(kernel: Kernel, opts: NicOptions): Ix {
  return new Ix(kernel, opts);
}
