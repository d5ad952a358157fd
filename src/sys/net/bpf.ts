/**
 * bpf(4) taps.  An interface has `if_bpf === null` until a listener (a live
 * `tcpdump -i`, a pcap writer, a test) attaches, so the tap points cost one
 * comparison when nobody listens:
 *
 *     if (ifp.if_bpf !== null && bpf_mtap_ether(ifp.if_bpf, m, BPF_DIRECTION_IN)) drop
 *
 * Each listener is a bpf descriptor (struct bpf_d): a compiled filter, a
 * snap length, a direction filter and the counters bpf keeps per
 * descriptor.  A matching packet is handed to the listener's `catch`
 * callback with the bytes, the capture and wire lengths, the virtual
 * timestamp and the direction; the bytes are only valid during the call.
 */
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { M_TIMESTAMP, M_VLANTAG } from '../kern/uipc_mbuf.js';
import type { Ifnet } from './if.js';

// Direction of a tapped packet (sys/net/bpf.h).
export const BPF_DIRECTION_IN = 1 << 0;
export const BPF_DIRECTION_OUT = 1 << 1;

// bd_fildrop: what happens to a packet the filter accepts.
export const BPF_FILDROP_PASS = 0;
export const BPF_FILDROP_CAPTURE = 1;
export const BPF_FILDROP_DROP = 2;

// Data link types of the interfaces created here (net/dlt.h).
export const DLT_NULL = 0;
export const DLT_EN10MB = 1;
export const DLT_LOOP = 12;

/** The default snap length of a descriptor without one (bpf's bd_bufsize cap). */
export const BPF_MAXSNAPLEN = 262144;

const ETHER_HDR_LEN = 14;
const ETHERTYPE_VLAN = 0x8100;

/** A compiled filter, as tcpdump's compileFilter() returns: true accepts. */
export type BpfMatch = (buf: Uint8Array, off: number, caplen: number, wirelen: number) => boolean;

/** What a listener receives per accepted packet. */
export type BpfCatch = (
  buf: Uint8Array,
  off: number,
  caplen: number,
  wirelen: number,
  /** Virtual time of the packet, ns. */
  tsNs: number,
  direction: number,
  ifp: Ifnet,
) => void;

/** struct bpf_d: one listener on one interface. */
export class BpfDesc {
  /** BIOCSETF: null accepts every packet. */
  filter: BpfMatch | null = null;
  /** Bytes captured per packet. */
  snaplen = BPF_MAXSNAPLEN;
  /** BIOCSDIRFILT: directions NOT to capture (BPF_DIRECTION_IN/OUT bits). */
  dirfilt = 0;
  /** BIOCSFILDROP */
  fildrop = BPF_FILDROP_PASS;
  /** Packets seen by this descriptor ("received by filter"). */
  bd_rcount = 0;
  /** Packets the listener could not take ("dropped by kernel"). */
  bd_dcount = 0;
  /** Packets that matched and were delivered. */
  bd_ccount = 0;
  /** The interface it is attached to, or null. */
  bd_bif: BpfIf | null = null;

  constructor(public catchpacket: BpfCatch) {}
}

/** struct bpf_if: the listeners of one interface. */
export class BpfIf {
  readonly dlist: BpfDesc[] = [];
  /** Scratch for frames whose VLAN tag lives in the packet header. */
  private scratch = new Uint8Array(2048);

  constructor(
    readonly ifp: Ifnet,
    readonly dlt: number,
  ) {}

  /** _bpf_mtap() over (buf, off, len); true when a listener asks to drop the packet. */
  tap(buf: Uint8Array, off: number, len: number, m: Mbuf, direction: number): boolean {
    let drop = false;
    let ts = -1;
    const list = this.dlist;
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      d.bd_rcount++;
      if ((d.dirfilt & direction) !== 0) continue;
      const caplen = len < d.snaplen ? len : d.snaplen;
      if (d.filter !== null && !d.filter(buf, off, caplen, len)) continue;
      if (d.fildrop !== BPF_FILDROP_PASS) drop = true;
      if (d.fildrop === BPF_FILDROP_DROP) continue;
      if (ts < 0) ts = (m.csum_flags & M_TIMESTAMP) !== 0 ? m.ph_timestamp : this.ifp.kernel.world.now;
      d.bd_ccount++;
      d.catchpacket(buf, off, caplen, len, ts, direction, this.ifp);
    }
    return drop;
  }

  /** A buffer of at least n bytes, reused between packets. */
  scratchBuf(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(n);
    return this.scratch;
  }
}

/** bpfattach(): the interface can be tapped with link type dlt. */
export function bpfattach(ifp: Ifnet, dlt: number): void {
  ifp.if_bpf_dlt = dlt;
}

/**
 * BIOCSETIF: attach a listener to an interface.  The interface's if_bpf
 * becomes non-null, switching its taps on.
 */
export function bpf_attachd(ifp: Ifnet, d: BpfDesc): void {
  if (d.bd_bif !== null) bpf_detachd(d);
  let bp = ifp.if_bpf_if;
  if (bp === null) {
    bp = new BpfIf(ifp, ifp.if_bpf_dlt);
    ifp.if_bpf_if = bp;
  }
  bp.dlist.push(d);
  d.bd_bif = bp;
  ifp.if_bpf = bp;
}

/** Detach a listener; the last one switches the interface's taps off again. */
export function bpf_detachd(d: BpfDesc): void {
  const bp = d.bd_bif;
  if (bp === null) return;
  const i = bp.dlist.indexOf(d);
  if (i >= 0) bp.dlist.splice(i, 1);
  d.bd_bif = null;
  if (bp.dlist.length === 0) bp.ifp.if_bpf = null;
}

/** Convenience for tools and tests: attach a listener with a callback; returns the descriptor. */
export function bpf_listen(ifp: Ifnet, catchpacket: BpfCatch, filter: BpfMatch | null = null, snaplen = BPF_MAXSNAPLEN): BpfDesc {
  const d = new BpfDesc(catchpacket);
  d.filter = filter;
  d.snaplen = snaplen;
  bpf_attachd(ifp, d);
  return d;
}

/** bpf_mtap(): the packet as it is.  True when a listener asked to drop it. */
export function bpf_mtap(bp: BpfIf | null, m: Mbuf, direction: number): boolean {
  if (bp === null) return false;
  return bp.tap(m.buf, m.off, m.len, m, direction);
}

/**
 * bpf_mtap_ether(): an Ethernet frame; when the VLAN tag is in the packet
 * header (M_VLANTAG, hardware tagging), listeners see the tagged frame.
 */
export function bpf_mtap_ether(bp: BpfIf | null, m: Mbuf, direction: number): boolean {
  if (bp === null) return false;
  if ((m.m_flags & M_VLANTAG) === 0 || m.len < ETHER_HDR_LEN) return bp.tap(m.buf, m.off, m.len, m, direction);
  const len = m.len + 4;
  const s = bp.scratchBuf(len);
  const b = m.buf;
  const o = m.off;
  s.set(b.subarray(o, o + 12), 0);
  s[12] = ETHERTYPE_VLAN >> 8;
  s[13] = ETHERTYPE_VLAN & 0xff;
  s[14] = (m.ether_vtag >> 8) & 0xff;
  s[15] = m.ether_vtag & 0xff;
  s.set(b.subarray(o + 12, o + m.len), 16);
  return bp.tap(s, 0, len, m, direction);
}

/**
 * bpf_mtap_af(): a packet without link header (lo0, enc0), shown behind
 * the 4-byte address family header of DLT_LOOP (network byte order).
 */
export function bpf_mtap_af(bp: BpfIf | null, af: number, m: Mbuf, direction: number): boolean {
  if (bp === null) return false;
  const len = m.len + 4;
  const s = bp.scratchBuf(len);
  s[0] = (af >>> 24) & 0xff;
  s[1] = (af >>> 16) & 0xff;
  s[2] = (af >>> 8) & 0xff;
  s[3] = af & 0xff;
  s.set(m.buf.subarray(m.off, m.off + m.len), 4);
  return bp.tap(s, 0, len, m, direction);
}
