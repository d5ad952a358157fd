/**
 * Ethernet (sys/net/if_ethersubr.c): ether_ifattach() gives an interface
 * Ethernet input; ether_input() checks and demultiplexes received frames;
 * ether_output() resolves the next hop (ARP) and frames IPv4 datagrams for
 * if_enqueue().
 *
 * OpenBSD drops short, foreign and looped frames silently; packetflow
 * counts each in `etherstat` (ETHERSTAT_NAMES) so that every drop names
 * its reason.  Unknown ethertypes count in the interface's if_noproto.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from './if.js';
import { IFF_RUNNING, IFF_SIMPLEX, if_enqueue } from './if.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import * as uipc_mbuf_ from '../kern/uipc_mbuf.js';
import { CounterBlock } from '../kern/counters.js';
import * as ether_ from '../../wire/ether.js';
import { arpinput, arpresolve, packetflowLayout } from '../netinet/if_ether.js';
import { ipv4_input } from '../netinet/ip_input.js';
import { ENETDOWN, ENOBUFS, EAGAIN, type Rtentry } from './route.js';
import { macHi, macLo, traceEvent, traceSegment } from '../kern/kern_trace.js';

// Imported constants and functions as the module's own constants: V8
// folds a module's const like a literal, but reads an imported binding from
// its cell, with a TDZ check, at every use (dozens per forwarded packet).
// Only from modules without imports back here, so they are always
// initialized first.
const { M_BCAST, M_MCAST, M_VLANTAG } = uipc_mbuf_;
const { ETHER_HDR_LEN, ETHERTYPE_ARP, ETHERTYPE_IP, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN, etherAddrCopy, etherAddrEqual, etherIsBroadcast, etherIsMulticast } = ether_;

// Trace events of the hot path (kern_trace.ts).
const T_ETHER_OUTPUT = traceEvent('fn', 'ether_output');
const T_ETHER_ENCAP = traceEvent('bytes', 'ether_encap: Ethernet header %m > %m, type 0x%x');
// arpresolve's record of a cached answer (interned there too: the same
// codes), which ether_encap's event continues when it comes right after.
const T_ETHER_RESOLVE = traceEvent('fn', 'ether_resolve', 'IPv4: arpresolve()');
const T_ARPRESOLVE = traceEvent('fn', 'arpresolve', '%a');
const T_ARP_CACHED = traceEvent('branch', 'arpresolve: %a is-at %m (cached)');
const T_EO_ARPRESOLVE_CACHED = traceSegment(T_ETHER_OUTPUT, T_ETHER_RESOLVE, T_ARPRESOLVE, T_ARP_CACHED);
const T_EO_ARPRESOLVE_ENCAP = traceSegment(T_ETHER_OUTPUT, T_ETHER_RESOLVE, T_ARPRESOLVE, T_ARP_CACHED, T_ETHER_ENCAP);

export const ETHERSTAT_NAMES = [
  'ethers_ipackets', // frames handed to ether_input
  'ethers_short', // drop: shorter than an Ethernet header
  'ethers_sdelim', // drop: VLAN-tagged with no vlan(4) to take it
  'ethers_notforus', // drop: unicast to another station
  'ethers_fromself', // drop: our own multicast came back on a non-simplex interface
  'ethers_noproto', // drop: unknown ethertype (also if_noproto of the interface)
  'ethers_opackets', // frames handed to if_enqueue by ether_output
  'ethers_odown', // drop: output on an interface that is not running
  'ethers_onobufs', // drop: no room for the Ethernet header
] as const;
export const ethers_ipackets = 0;
export const ethers_short = 1;
export const ethers_sdelim = 2;
export const ethers_notforus = 3;
export const ethers_fromself = 4;
export const ethers_noproto = 5;
export const ethers_opackets = 6;
export const ethers_odown = 7;
export const ethers_onobufs = 8;

export const ETHERSTAT_LAYOUT = packetflowLayout('ether', 'etherstat', ETHERSTAT_NAMES);

export function newEtherStats(): CounterBlock {
  return new CounterBlock(ETHERSTAT_LAYOUT);
}

/** ether_ifattach(): Ethernet input for ifp. */
export function ether_ifattach(ifp: Ifnet): void {
  ifp.if_input = ether_input;
  ifp.if_output = ether_if_output;
}

/** ifp->if_output for Ethernet: dst is the IPv4 next hop, rt the route. */
function ether_if_output(ifp: Ifnet, m: Mbuf, dst: unknown, rt: unknown): number {
  return ether_output(ifp, m, dst as number, rt as Rtentry | null);
}

/** ether_input(): one received frame (m starts at the Ethernet header). */
export function ether_input(ifp: Ifnet, m: Mbuf): void {
  const k = ifp.kernel;
  const st = k.inet.etherstat;
  const tr = k.trace;
  // This function's event is recorded by if_input_process, its caller, with its own (T_IF_INPUT_ETHER).
  st.inc(ethers_ipackets);
  if (m.ph_ifidx === 0) m.ph_ifidx = ifp.if_index;
  if (m.len < ETHER_HDR_LEN) {
    if (tr !== null) tr.drop(k, m, 'ether_input: shorter than an Ethernet header → drop, ethers_short');
    st.inc(ethers_short);
    m.free();
    return;
  }
  // The header's bytes read directly: view getters inlined here spend the inlining budget.
  let etype = (m.buf[m.off + 12]! << 8) | m.buf[m.off + 13]!;
  if (m.m_flags & M_VLANTAG || etype === ETHERTYPE_VLAN || etype === ETHERTYPE_QINQ) {
    const vinput = k.inet.vlan_input;
    if (vinput === null) {
      if (tr !== null) tr.drop(k, m, 'ether_input: VLAN tag and no vlan(4) → drop, ethers_sdelim');
      st.inc(ethers_sdelim);
      m.free();
      return;
    }
    const r = vinput(ifp, m);
    if (r === null) return;
    m = r;
  }
  const b = m.buf;
  const dst = m.off;
  if (!etherAddrEqual(b, dst, ifp.if_lladdr, 0)) {
    if (!etherIsMulticast(b, dst)) {
      if (tr !== null) tr.drop(k, m, "ether_input: unicast to another station, not %s's address → drop, ethers_notforus", '', 0, 0, 0, ifp.if_xname);
      st.inc(ethers_notforus);
      m.free();
      return;
    }
    if (!(ifp.if_flags & IFF_SIMPLEX) && etherAddrEqual(b, m.off + 6, ifp.if_lladdr, 0)) {
      if (tr !== null) tr.drop(k, m, 'ether_input: our own multicast came back → drop, ethers_fromself');
      st.inc(ethers_fromself);
      m.free();
      return;
    }
    m.m_flags |= etherIsBroadcast(b, dst) ? M_BCAST : M_MCAST;
    ifp.if_imcasts++;
    if (tr !== null) tr.branch(k, m, m.m_flags & M_BCAST ? 'ether_input: broadcast frame → M_BCAST' : 'ether_input: multicast frame → M_MCAST');
  }
  etype = (b[dst + 12]! << 8) | b[dst + 13]!;
  if (etype === ETHERTYPE_IP) {
    // A direct call: ipv4_input is inlined here, where a call through `input` was not.
    m.adj(ETHER_HDR_LEN);
    ipv4_input(ifp, m);
    return;
  }
  let input: ((ifp: Ifnet, m: Mbuf) => void) | null;
  switch (etype) {
    case ETHERTYPE_ARP:
      input = arpinput;
      break;
    case ETHERTYPE_IPV6:
      input = k.inet.ipv6_input;
      break;
    default:
      input = null;
  }
  if (input === null) {
    ifp.if_noproto++;
    if (tr !== null) tr.drop(k, m, 'ether_input: ethertype 0x%x unknown → drop, ethers_noproto, if_noproto', '', etype);
    st.inc(ethers_noproto);
    m.free();
    return;
  }
  m.adj(ETHER_HDR_LEN);
  input(ifp, m);
}

/**
 * ether_output(): an IPv4 datagram to next hop dst over ifp (rt: the route,
 * for ARP).  0 when sent or held for ARP, else an errno (m freed).
 */
export function ether_output(ifp: Ifnet, m: Mbuf, dst: number, rt: Rtentry | null): number {
  const k = ifp.kernel;
  const st = k.inet.etherstat;
  const tr = k.trace;
  if (!(ifp.if_flags & IFF_RUNNING)) {
    if (tr !== null) {
      tr.evi(k, m, T_ETHER_OUTPUT, ifp);
      tr.drop(k, m, 'ether_output: %s not running → drop, ethers_odown', '', 0, 0, 0, ifp.if_xname);
    }
    st.inc(ethers_odown);
    m.free();
    return ENETDOWN;
  }
  const desten = k.inet.desten;
  // When the interface runs, this function's events (ether_output, then
  // ether_resolve for IPv4) are recorded by arpresolve with its own: one record.
  const error = arpresolve(k, ifp, rt, m, dst, desten);
  if (error !== 0) return error === EAGAIN ? 0 : error;
  return ether_encap_output(k, ifp, m, desten, ETHERTYPE_IP);
}

/** ether_encap() + if_enqueue(): prepend the header and queue the frame. */
export function ether_encap_output(k: Kernel, ifp: Ifnet, m: Mbuf, desten: Uint8Array, etype: number): number {
  if (!m.prepend(ETHER_HDR_LEN)) {
    if (k.trace !== null) k.trace.drop(k, m, 'ether_encap: no room for the Ethernet header → drop, ethers_onobufs');
    k.inet.etherstat.inc(ethers_onobufs);
    m.free();
    return ENOBUFS;
  }
  // Six-byte loops: cheaper than TypedArray.set for an address.
  const b = m.buf;
  const o = m.off;
  etherAddrCopy(b, o, desten, 0);
  etherAddrCopy(b, o + 6, ifp.if_lladdr, 0);
  b[o + 12] = etype >>> 8;
  b[o + 13] = etype & 0xff;
  if (k.trace !== null) k.trace.cont5(k, m, T_EO_ARPRESOLVE_CACHED, T_EO_ARPRESOLVE_ENCAP, T_ETHER_ENCAP, macHi(ifp.if_lladdr, 0), macLo(ifp.if_lladdr, 0), macHi(desten, 0), macLo(desten, 0), etype);
  k.inet.etherstat.inc(ethers_opackets);
  return if_enqueue(ifp, m);
}
