/**
 * The output half of TSO (sys/netinet/tcp_output.c: tcp_if_output_tso,
 * tcp_softtso_chop) and the deferred TCP checksum (in_proto_cksum_out's
 * TCP case), in a module of their own so that ip_output.ts calls them
 * without importing TCP (see tcp_output.ts for where TSO segments come
 * from).
 */
import type { Kernel } from '../kern/kernel.js';
import { M_BCAST, M_TCP_CSUM_OUT, M_TCP_TSO, type Mbuf, type MbufList } from '../kern/uipc_mbuf.js';
import { tcps_outbadtso, tcps_outhwtso, tcps_outpkttso, tcps_outswcsum, tcps_outswtso } from '../kern/counters.gen.js';
import type { Ifnet } from '../net/if.js';
import { IFCAP_TSOv4, IFF_SIMPLEX } from '../net/if.js';
import type { Rtentry } from '../net/route.js';
import { ENOBUFS, RTF_LOCAL } from '../net/route.js';
import { EINVAL, ENOPROTOOPT, EPROTOTYPE } from '../sys/errno.js';
import { put16, put32 } from '../../wire/bytes.js';
import { IP_MF, IP_OFFMASK } from '../../wire/ip4.js';
import { sum16 } from '../../wire/checksum.js';
import { if_output, ip_randomid } from './ip_output.js';

const TH_FIN = 0x01;
const TH_PUSH = 0x08;

/**
 * in_ifcap_cksum() (sys/netinet/ip_output.c): ifp does the work of
 * capability ifcap for m, unless m is a broadcast on a simplex interface
 * (it comes back to this host through the software path, with no hardware
 * to finish it) that pf did not route.  OpenBSD also refuses bridge
 * members; there is no bridge(4) here.
 */
export function in_ifcap_cksum(m: Mbuf, ifp: Ifnet, ifcap: number): boolean {
  if ((ifp.if_capabilities & ifcap) === 0) return false;
  if (m.m_flags & M_BCAST && ifp.if_flags & IFF_SIMPLEX && m.pf_routed === 0) return false;
  return true;
}

/**
 * in_proto_cksum_out() for a TCP segment whose checksum was left for later
 * (M_TCP_CSUM_OUT) and is not cut by hardware: computed in software,
 * tcps_outswcsum.
 */
export function tcp_delayed_cksum(k: Kernel, m: Mbuf): void {
  m.csum_flags &= ~M_TCP_CSUM_OUT;
  const hl = (m.buf[m.off]! & 0x0f) << 2;
  tcp_cksum_fill(m.buf, m.off, hl, m.len - hl);
  k.stats.tcpstat.inc(tcps_outswcsum);
}

/**
 * tcp_if_output_tso(): a TSO segment m (IPv4, more than mtu bytes) to ifp.
 * Returns -1 when m is not one to cut here (no M_TCP_TSO, or pieces larger
 * than the MTU: the flag is cleared and ip_output goes on with m), else 0
 * or an errno with m consumed.  An interface with IFCAP_TSOv4 takes the
 * segment whole (tcps_outhwtso); else it goes in pieces cut here
 * (tcps_outswtso).
 */
export function tcp_if_output_tso(k: Kernel, ifp: Ifnet, m: Mbuf, dst: number, rt: Rtentry | null, mtu: number): number {
  if ((m.csum_flags & M_TCP_TSO) === 0) return -1;
  if (m.ph_mss > mtu) {
    m.csum_flags &= ~M_TCP_TSO;
    return -1;
  }
  const st = k.stats.tcpstat;
  // The hardware cuts it: a local route goes through the loopback path, which cannot.
  if (in_ifcap_cksum(m, ifp, IFCAP_TSOv4) && (rt === null || (rt.rt_flags & RTF_LOCAL) === 0)) {
    if (k.trace !== null) k.trace.branch(k, m, 'tcp_if_output_tso: %d bytes, mss %d → %s cuts the segment (IFCAP_TSOv4), tcps_outhwtso', '', m.len, m.ph_mss, 0, ifp.if_xname);
    const error = if_output(k, ifp, m, dst, rt);
    if (error === 0) st.inc(tcps_outhwtso);
    return error;
  }
  if (k.trace !== null) k.trace.branch(k, m, 'tcp_if_output_tso: %d bytes, mss %d → tcp_softtso_chop, tcps_outswtso', '', m.len, m.ph_mss, 0, ifp.if_xname);
  const ml = k.inet.tsoList;
  let error = tcp_softtso_chop(k, ml, m, m.ph_mss);
  if (error !== 0) return error;
  for (let s = ml.dequeue(); s !== null; s = ml.dequeue()) {
    error = if_output(k, ifp, s, dst, rt);
    if (error !== 0) {
      ml.purge();
      return error;
    }
  }
  st.inc(tcps_outswtso);
  return 0;
}

/**
 * tcp_softtso_chop(): cut the IPv4 TSO segment m0 into pieces of at most
 * mss payload bytes on ml (the first is m0 itself, trimmed), each with its
 * own IP length, id and header checksum, sequence number and TCP checksum
 * (software: tcps_outswcsum); PUSH and FIN stay on the last piece only.
 */
export function tcp_softtso_chop(k: Kernel, ml: MbufList, m0: Mbuf, mss: number): number {
  const st = k.stats.tcpstat;
  const b0 = m0.buf;
  const o0 = m0.off;
  const iphlen = (b0[o0]! & 0x0f) << 2;
  const tlen = m0.len;
  // Only TCP without fragment or IP option (EPROTOTYPE); the TCP header, with its data offset, in the packet (ENOPROTOOPT).
  let error = 0;
  if (mss === 0) error = EINVAL;
  else if (((b0[o0 + 6]! << 8) | b0[o0 + 7]!) & (IP_MF | IP_OFFMASK) || iphlen !== 20 || b0[o0 + 9] !== 6) error = EPROTOTYPE;
  else if (tlen < iphlen + 20) error = ENOPROTOOPT;
  const th0 = o0 + iphlen;
  const hlen = error === 0 ? iphlen + ((b0[th0 + 12]! >> 4) << 2) : 0;
  if (error === 0 && tlen < hlen) error = ENOPROTOOPT;
  if (error !== 0) {
    st.inc(tcps_outbadtso);
    m0.free();
    return error;
  }
  const firstlen = tlen - hlen < mss ? tlen - hlen : mss;
  m0.csum_flags &= ~(M_TCP_TSO | M_TCP_CSUM_OUT);
  const seq0 = ((b0[th0 + 4]! << 24) | (b0[th0 + 5]! << 16) | (b0[th0 + 6]! << 8) | b0[th0 + 7]!) >>> 0;
  ml.enqueue(m0);
  for (let off = hlen + firstlen; off < tlen; off += mss) {
    const len = tlen - off < mss ? tlen - off : mss;
    const m = k.mbufs.get(hlen + len);
    if (m === null) {
      st.inc(tcps_outbadtso);
      ml.purge();
      return ENOBUFS;
    }
    m.copyPkthdr(m0);
    if (k.trace !== null) k.trace.caused(m, 'tcp_softtso_chop');
    m.append(hlen + len);
    const b = m.buf;
    const o = m.off;
    b.set(b0.subarray(o0, o0 + hlen), o);
    b.set(b0.subarray(o0 + off, o0 + off + len), o + hlen);
    put32(b, o + iphlen + 4, (seq0 + (off - hlen)) >>> 0);
    if (off + len < tlen) b[o + iphlen + 13] &= ~(TH_PUSH | TH_FIN);
    put16(b, o + 2, hlen + len);
    put16(b, o + 4, ip_randomid(k));
    ip_hdr_cksum(b, o);
    tcp_cksum_fill(b, o, iphlen, hlen - iphlen + len);
    st.inc(tcps_outswcsum);
    ml.enqueue(m);
  }
  if (hlen + firstlen < tlen) {
    m0.truncate(hlen + firstlen);
    b0[th0 + 13] &= ~(TH_PUSH | TH_FIN);
  }
  put16(b0, o0 + 2, m0.len);
  ip_hdr_cksum(b0, o0);
  tcp_cksum_fill(b0, o0, iphlen, m0.len - iphlen);
  st.inc(tcps_outswcsum);
  st.add(tcps_outpkttso, ml.len);
  return 0;
}

/** The TCP checksum of the segment at b[o + thoff], tlen bytes, with the pseudo-header of the IPv4 header at b[o]. */
function tcp_cksum_fill(b: Uint8Array, o: number, thoff: number, tlen: number): void {
  const th = o + thoff;
  b[th + 16] = 0;
  b[th + 17] = 0;
  const ph = ((b[o + 12]! << 8) | b[o + 13]!) + ((b[o + 14]! << 8) | b[o + 15]!) +
    ((b[o + 16]! << 8) | b[o + 17]!) + ((b[o + 18]! << 8) | b[o + 19]!) + 6 + tlen;
  put16(b, th + 16, ~sum16(b, th, tlen, ph) & 0xffff);
}

/** The IPv4 header checksum of a 20-byte header at b[o]. */
function ip_hdr_cksum(b: Uint8Array, o: number): void {
  b[o + 10] = 0;
  b[o + 11] = 0;
  put16(b, o + 10, ~sum16(b, o, 20) & 0xffff);
}
