/**
 * lo(4): the loopback interface.  looutput() queues the packet on lo0's
 * own receive queue (if_output_local), so that a reply to ourselves is
 * handled after the sender has returned, as in OpenBSD; the softnet task
 * then runs loinput() -> if_input_local(), which taps bpf (on output only:
 * tcpdump -i lo0 sees each packet once), counts it and hands it to the
 * network layer registered in k.af_input.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { M_BCAST, M_FLOWID, M_LOOP, M_MCAST } from '../kern/uipc_mbuf.js';
import { ENOBUFS } from '../sys/errno.js';
import {
  Ifnet,
  IFF_LOOPBACK,
  IFF_MULTICAST,
  IFF_RUNNING,
  IFT_LOOP,
  IFXF_CLONED,
  IFXF_LRO,
  if_addgroup,
  if_attach_iqueues,
  if_attach_queues,
} from './if.js';
import { ifiq_enqueue } from './ifq.js';
import { bpf_mtap_af, bpfattach, BPF_DIRECTION_OUT, DLT_LOOP } from './bpf.js';

export const LOMTU = 32768;

/** Route flags looutput() checks (net/route.h). */
const RTF_HOST = 0x4;
const RTF_REJECT = 0x8;
const RTF_BLACKHOLE = 0x1000;
const EHOSTUNREACH = 65;
const ENETUNREACH = 51;

/** Create lo<unit> (loop_clone_create); lo0 joins the "lo" group. */
export function loop_clone_create(k: Kernel, unit = 0): Ifnet {
  const ifp = new Ifnet(k, `lo${unit}`, IFT_LOOP, new Uint8Array(0));
  ifp.if_mtu = LOMTU;
  ifp.if_hardmtu = LOMTU;
  ifp.if_flags = IFF_LOOPBACK | IFF_MULTICAST;
  ifp.if_xflags = IFXF_CLONED | IFXF_LRO;
  ifp.if_input = loinput;
  ifp.if_output = looutput;
  ifp.if_bpf_mtap = lo_bpf_mtap;
  ifp.if_setmtu = losetmtu;
  // loioctl(SIOCSIFFLAGS/SIOCSIFADDR): lo is RUNNING as soon as it is up.
  ifp.if_init = (p) => {
    p.if_flags |= IFF_RUNNING;
  };
  ifp.if_stop = (p) => {
    p.if_flags &= ~IFF_RUNNING;
  };
  if (unit === 0) ifp.if_listhead = true;
  if_addgroup(ifp, 'lo');
  const n = k.softnet_count;
  if_attach_queues(ifp, n);
  if_attach_iqueues(ifp, n);
  bpfattach(ifp, DLT_LOOP);
  return ifp;
}

/** loopattach(): lo0. */
export function loopattach(k: Kernel): Ifnet {
  return loop_clone_create(k, 0);
}

/** Loopback dumps on output: no input tap. */
function lo_bpf_mtap(): boolean {
  return false;
}

/** loioctl(SIOCSIFMTU) takes any value. */
function losetmtu(ifp: Ifnet, mtu: number): number {
  ifp.if_mtu = mtu;
  return 0;
}

/** Minimal view of a route for looutput(): the netinet side's rtentry has rt_flags. */
interface RtFlags {
  rt_flags: number;
}

/** looutput(): reject/blackhole routes, else back in through our own input queue. */
export function looutput(ifp: Ifnet, m: Mbuf, dst: unknown, rt: unknown): number {
  void dst;
  const r = rt as RtFlags | null | undefined;
  const tr = ifp.kernel.trace;
  if (tr !== null) tr.fn(ifp.kernel, m, 'looutput', ifp.if_xname);
  if (r !== null && r !== undefined && (r.rt_flags & (RTF_REJECT | RTF_BLACKHOLE)) !== 0) {
    if (tr !== null) tr.drop(ifp.kernel, m, `looutput: ${(r.rt_flags & RTF_BLACKHOLE) !== 0 ? 'blackhole' : 'reject'} route → drop`);
    m.free();
    return (r.rt_flags & RTF_BLACKHOLE) !== 0 ? 0 : (r.rt_flags & RTF_HOST) !== 0 ? EHOSTUNREACH : ENETUNREACH;
  }
  return if_output_local(ifp, m, m.ph_family);
}

/** if_output_local(): queue a packet for local input on ifp (af in ph_family). */
export function if_output_local(ifp: Ifnet, m: Mbuf, af: number): number {
  m.ph_family = af;
  m.ph_ifidx = ifp.if_index;
  m.ph_rtableid = ifp.if_rdomain;
  const flow = (m.csum_flags & M_FLOWID) !== 0 ? m.ph_flowid : 0;
  const ifiq = ifp.if_iqs[flow % ifp.if_iqs.length]!;
  return ifiq_enqueue(ifiq, m, 8192) === 0 ? 0 : ENOBUFS;
}

function loinput(ifp: Ifnet, m: Mbuf): void {
  if (if_input_local(ifp, m, m.ph_family) !== 0) ifp.if_ierrors++;
}

/**
 * if_input_local(): deliver a packet to ourselves: bpf (loopback only, as
 * output), the output counters of lo, then the network layer.
 */
export function if_input_local(ifp: Ifnet, m: Mbuf, af: number): number {
  const tr = ifp.kernel.trace;
  if (tr !== null) {
    tr.fn(ifp.kernel, m, 'if_input_local', ifp.if_xname);
    if ((ifp.if_flags & IFF_LOOPBACK) !== 0) tr.tap(ifp.kernel, m, 'bpf_mtap_af', ifp.if_xname, 'OUT');
  }
  if ((ifp.if_flags & IFF_LOOPBACK) !== 0 && ifp.if_bpf !== null) bpf_mtap_af(ifp.if_bpf, af, m, BPF_DIRECTION_OUT);
  const keep = m.m_flags & (M_BCAST | M_MCAST);
  m.m_flags = (m.m_flags & ~(M_BCAST | M_MCAST)) | M_LOOP | keep;
  m.ph_ifidx = ifp.if_index;
  m.ph_rtableid = ifp.if_rdomain;
  if ((ifp.if_flags & IFF_LOOPBACK) !== 0) {
    ifp.if_opackets++;
    ifp.if_obytes += m.len;
  }
  const input = ifp.kernel.af_input[af];
  if (input === undefined) {
    ifp.if_noproto++;
    if (tr !== null) tr.drop(ifp.kernel, m, `if_input_local: no input for address family ${af} → drop, if_noproto`);
    m.free();
    return 0;
  }
  input(ifp, m);
  return 0;
}
