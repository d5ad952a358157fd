/**
 * `synproxy state` (sys/net/pf.c: pf_create_state's tail, pf_synproxy(),
 * pf_build_tcp()): pf completes the TCP handshake with the client itself
 * and opens the connection to the server only once the client has
 * proven it is there; then the two halves are spliced by translating
 * sequence numbers.
 *
 *   client                       pf                            server
 *   SYN seq=x         ->  state PROXY:SRC, ISN y = arc4random()
 *                     <-  SYN|ACK seq=y ack=x+1 win 0 <mss>
 *   ACK seq=x+1 ack=y+1 -> PROXY:DST, ISN z = arc4random()
 *                          SYN seq=z win 0 <mss> (from the client) ->
 *                                                  <- SYN|ACK seq=w ack=z+1
 *                     <-  ACK seq=y+1 ack=x+1 win (server's) ; ACK seq=z+1 ack=w+1 win (client's) ->
 *                          ESTABLISHED:ESTABLISHED, seqdiff: client +(z-x), server +(y-w)
 *
 * Every packet pf consumes or answers on the way counts `synproxy` in
 * pfctl -si (PFRES_SYNPROXY) and leaves pf_test as PF_SYNPROXY_DROP: pf
 * passed it, but the packet is gone.  Packets that do not fit the
 * handshake are dropped with the same reason.  After the handshake,
 * pf_tcp_track_full() rewrites every segment's sequence and
 * acknowledgment numbers (and SACK blocks) by the peers' seqdiff.
 *
 * The MSS pf announces is the client's, bounded by the MTUs of the routes
 * to both ends (pf_get_mss, pf_calc_mss).  Both families: IPv6 packets
 * pf builds go out by ip6_send (pf.netout, set by pf_open).
 */
import type { KRule, Pf, PfPdesc } from './pf.js';
import {
  AF_INET, K_A, K_B, K_META, K_PORTS, PF_DROP, PF_PASS, PF_TCPS_PROXY_DST, PF_TCPS_PROXY_SRC, PFRES_MEMORY, PFRES_SRCLIMIT,
  PFRES_SYNPROXY, PR_MAXWIN, PR_MSS, PR_SEQDIFF, PR_SEQHI, PR_SEQLO, PR_STATE, PR_WSCALE, REASON_SET, ST_DIR, ST_DST,
  ST_FLAGS, ST_HALFOPEN, ST_N, ST_NKEYS, ST_SRC, TCPS_ESTABLISHED, PFSTATE_SRCNODE, PFSTATE_SYNPROXY,
} from './pf.js';
import { pf_src_connlimit } from './pf_src.js';
import { PF_TAG_GENERATED } from '../kern/uipc_mbuf.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { adjust16, pseudoSum4, pseudoSum6, sum16 } from '../../wire/checksum.js';
import { rt_match } from './route.js';

/** pf_test's action when pf consumed the packet of a synproxy handshake */
export const PF_SYNPROXY_DROP = 10;

const IPPROTO_TCP = 6;
const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const TCPOPT_MAXSEG = 2;
const TCPOPT_SACK = 5;
const IPTOS_LOWDELAY = 0x10;
const IP_DF = 0x4000;
const IPV6_DEFHLIM = 64;

/* ------------------------------------------------------------------ */
/* pf_build_tcp / pf_send_tcp                                          */

/** pf.tcpaddr from a packet's addresses, reversed (the answer's source is the packet's destination). */
function pf_tcpaddr_reply(pf: Pf, pd: PfPdesc): void {
  const a = pf.tcpaddr;
  put32(a, 0, pd.d0 >>> 0);
  put32(a, 4, pd.d1 >>> 0);
  put32(a, 8, pd.d2 >>> 0);
  put32(a, 12, pd.d3 >>> 0);
  put32(a, 16, pd.s0 >>> 0);
  put32(a, 20, pd.s1 >>> 0);
  put32(a, 24, pd.s2 >>> 0);
  put32(a, 28, pd.s3 >>> 0);
}

/** pf.tcpaddr from side si (source) and side di (destination) of the state key at o. */
function pf_tcpaddr_key(pf: Pf, kd: Int32Array, o: number, si: number, di: number): void {
  const a = pf.tcpaddr;
  const sa = o + (si === 0 ? K_A : K_B);
  const da = o + (di === 0 ? K_A : K_B);
  for (let i = 0; i < 4; i++) {
    put32(a, 4 * i, kd[sa + i]! >>> 0);
    put32(a, 16 + 4 * i, kd[da + i]! >>> 0);
  }
}

/**
 * pf_build_tcp() + pf_send_tcp(): a TCP segment of family af from
 * pf.tcpaddr's source (sport) to its destination (dport), with an MSS
 * option when mss is nonzero, sent after the current packet (ip_send /
 * ip6_send: a softnet task, ip_output / ip6_output with flags 0).
 * IPv4: TOS lowdelay, DF when net.inet.ip.mtudisc is on, TTL ttl (the
 * rule's return-ttl) or net.inet.ip.ttl; IPv6: traffic class 0, hop
 * limit 64 (IPV6_DEFHLIM, ttl is not used).  generated: PF_TAG_GENERATED
 * (pf lets it pass untested).
 */
export function pf_send_tcp_full(pf: Pf, af: number, sport: number, dport: number, seq: number, ack: number,
  flags: number, win: number, mss: number, ttl: number, generated: boolean, rdomain: number, why: string): void {
  const k = pf.k;
  const tlen = 20 + (mss !== 0 ? 4 : 0);
  const hlen = af === AF_INET ? 20 : 40;
  const len = hlen + tlen;
  const m = k.mbufs.get(len);
  if (m === null) {
    REASON_SET(pf, PFRES_MEMORY);
    return;
  }
  m.append(len);
  const b = m.buf;
  const o = m.off;
  const a = pf.tcpaddr;
  b.fill(0, o, o + len);
  let ps: number;
  if (af === AF_INET) {
    b[o] = 0x45;
    b[o + 1] = IPTOS_LOWDELAY;
    put16(b, o + 2, len);
    put16(b, o + 6, k.inet.ipmtudisc.value !== 0 ? IP_DF : 0);
    b[o + 8] = ttl !== 0 ? ttl : k.inet.ipdefttl.value;
    b[o + 9] = IPPROTO_TCP;
    const s = get32(a, 0);
    const d = get32(a, 16);
    put32(b, o + 12, s);
    put32(b, o + 16, d);
    ps = pseudoSum4(s, d, IPPROTO_TCP, tlen);
  } else {
    b[o] = 0x60;
    put16(b, o + 4, tlen);
    b[o + 6] = IPPROTO_TCP;
    b[o + 7] = IPV6_DEFHLIM;
    b.set(a, o + 8);
    ps = pseudoSum6(b, o + 8, o + 24, IPPROTO_TCP, tlen);
  }
  const t = o + hlen;
  put16(b, t, sport);
  put16(b, t + 2, dport);
  put32(b, t + 4, seq >>> 0);
  put32(b, t + 8, ack >>> 0);
  b[t + 12] = (tlen >> 2) << 4;
  b[t + 13] = flags;
  put16(b, t + 14, win);
  if (mss !== 0) {
    b[t + 20] = TCPOPT_MAXSEG;
    b[t + 21] = 4;
    put16(b, t + 22, mss);
  }
  put16(b, t + 16, ~sum16(b, t, tlen, ps) & 0xffff);
  if (generated) m.pf_flags |= PF_TAG_GENERATED;
  m.ph_rtableid = rdomain;
  if (k.trace !== null) k.trace.caused(m, why);
  pf.sendq.enqueue(m);
  k.softnet.add(pf.sendTask);
}

/* ------------------------------------------------------------------ */
/* MSS                                                                 */

/** pf_get_mss(): the SYN's MSS option (mssdflt when it has options but no MSS; 0 without options). */
function pf_get_mss(pd: PfPdesc, mssdflt: number): number {
  const olen = pd.hdrlen - 20;
  if (olen < 4) return 0;
  const b = pd.m.buf;
  let mss = mssdflt;
  let p = pd.thoff + 20;
  const end = pd.thoff + pd.hdrlen;
  while (p < end) {
    const kind = b[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const l = b[p + 1]!;
    if (l < 2 || p + l > end) break;
    if (kind === TCPOPT_MAXSEG && l === 4) mss = get16(b, p + 2);
    p += l;
  }
  return mss;
}

/**
 * pf_calc_mss(): offer bounded by the MTU of the route to the address at
 * pf.tcpaddr[ao] (at least mssdflt there, at least 64).
 */
function pf_calc_mss(pf: Pf, af: number, ao: number, rtableid: number, offer: number, mssdflt: number): number {
  const k = pf.k;
  let mss = mssdflt;
  const rt = af === AF_INET ? rt_match(k, get32(pf.tcpaddr, ao) | 0, 0, rtableid) : pf.netout!.rt6_match(k, pf.tcpaddr, ao, 0);
  if (rt !== null) {
    const ifp = k.ifnets[rt.rt_ifidx];
    if (ifp !== undefined) mss = Math.max(ifp.if_mtu - (af === AF_INET ? 20 : 40) - 20, mssdflt);
  }
  mss = Math.min(mss, offer);
  return Math.max(mss, 64);
}

/* ------------------------------------------------------------------ */
/* the handshake                                                       */

/** pf_set_protostate(SRC, PROXY_*): OpenBSD counts a proxied state as no longer half-open. */
function setProxyState(pf: Pf, s: number, state: number): void {
  const si = pf.st.si;
  const b = s * ST_N;
  si[b + ST_SRC + PR_STATE] = state;
  if (si[b + ST_HALFOPEN] !== 0) {
    si[b + ST_HALFOPEN] = 0;
    pf.states_halfopen--;
  }
}

/**
 * pf_create_state()'s synproxy tail: state s was made for a client's SYN;
 * pf answers with its own SYN|ACK and keeps the SYN.
 */
export function pf_synproxy_create(pf: Pf, pd: PfPdesc, s: number, r: KRule): number {
  const k = pf.k;
  const si = pf.st.si;
  const b = s * ST_N;
  const rtid = pf.ctx_rtableid >= 0 ? pf.ctx_rtableid : pd.rdomain;
  setProxyState(pf, s, PF_TCPS_PROXY_SRC);
  si[b + ST_FLAGS] |= PFSTATE_SYNPROXY;
  si[b + ST_SRC + PR_SEQHI] = k.random.arc4random() | 0;
  const mssdflt = k.inet.tcp.mssdflt.value;
  let mss = pf_get_mss(pd, mssdflt);
  pf_tcpaddr_reply(pf, pd);
  mss = pf_calc_mss(pf, pd.af, 16, rtid, mss, mssdflt);
  mss = pf_calc_mss(pf, pd.af, 0, rtid, mss, mssdflt);
  si[b + ST_SRC + PR_MSS] = mss;
  if (k.trace !== null)
    k.trace.branch(k, pd.m, `pf_synproxy: SYN from the client → PROXY:SRC, SYN|ACK seq ${si[b + ST_SRC + PR_SEQHI]! >>> 0} mss ${mss}`);
  pf_send_tcp_full(pf, pd.af, pd.odport, pd.osport, si[b + ST_SRC + PR_SEQHI]!, (pd.th_seq + 1) | 0,
    TH_SYN | TH_ACK, 0, mss, 0, true, pd.rdomain, 'pf_synproxy: SYN|ACK to the client');
  void r;
  REASON_SET(pf, PFRES_SYNPROXY);
  return PF_SYNPROXY_DROP;
}

/** Key i (0 wire, 1 stack) of state s: its word offset in pf.st.kd. */
function keyOff(pf: Pf, s: number, i: number): number {
  return pf.st.ko(2 * s + (i === 1 && pf.st.si[s * ST_N + ST_NKEYS] === 2 ? 1 : 0));
}

function keyPort(kd: Int32Array, o: number, i: number): number {
  const p = kd[o + K_PORTS]!;
  return i === 0 ? p >>> 16 : p & 0xffff;
}

/** A synproxy drop: count the reason, and PF_SYNPROXY_DROP (consumed) or PF_DROP. */
function spDrop(pf: Pf, consumed: boolean, why: string): number {
  const k = pf.k;
  REASON_SET(pf, PFRES_SYNPROXY);
  if (k.trace !== null) k.trace.branch(k, pf.pd.m, `pf_synproxy: ${why}`);
  if (consumed) {
    pf.ctx_synproxy = true;
    return PF_SYNPROXY_DROP;
  }
  return PF_DROP;
}

/**
 * pf_synproxy(): a packet of state s while pf is in the handshake (the
 * source peer in PROXY:SRC or PROXY:DST).  PF_PASS when the state is past
 * it; else the packet is dropped (PF_DROP) or consumed (PF_SYNPROXY_DROP,
 * pf.ctx_synproxy set), the reason counted.
 */
export function pf_synproxy(pf: Pf, pd: PfPdesc, s: number): number {
  const si = pf.st.si;
  const kd = pf.st.kd;
  const b = s * ST_N;
  const src = b + ST_SRC;
  const dst = b + ST_DST;
  const flags = pd.th_flags;
  const sameDir = pd.dir === si[b + ST_DIR];
  const k = pf.k;
  if (si[src + PR_STATE] === PF_TCPS_PROXY_SRC) {
    if (!sameDir) return spDrop(pf, true, 'PROXY:SRC, a packet from the server side → consumed');
    if (flags & TH_SYN) {
      if (pd.th_seq !== si[src + PR_SEQLO]) return spDrop(pf, false, 'PROXY:SRC, SYN with another sequence number → drop');
      if (k.trace !== null) k.trace.branch(k, pd.m, 'pf_synproxy: PROXY:SRC, the client repeats its SYN → SYN|ACK again');
      pf_tcpaddr_reply(pf, pd);
      pf_send_tcp_full(pf, pd.af, pd.odport, pd.osport, si[src + PR_SEQHI]!, (pd.th_seq + 1) | 0,
        TH_SYN | TH_ACK, 0, si[src + PR_MSS]!, 0, true, pd.rdomain, 'pf_synproxy: SYN|ACK to the client');
      return spDrop(pf, true, 'PROXY:SRC, SYN consumed');
    }
    if ((flags & (TH_ACK | TH_RST | TH_FIN)) !== TH_ACK || pd.th_ack !== ((si[src + PR_SEQHI]! + 1) | 0) ||
        pd.th_seq !== ((si[src + PR_SEQLO]! + 1) | 0))
      return spDrop(pf, false, 'PROXY:SRC, not the ACK of our SYN|ACK → drop');
    if ((si[b + ST_FLAGS]! & PFSTATE_SRCNODE) !== 0 && pf_src_connlimit(pf, s)) {
      REASON_SET(pf, PFRES_SRCLIMIT);
      return PF_DROP;
    }
    si[src + PR_STATE] = PF_TCPS_PROXY_DST;
    if (k.trace !== null) k.trace.branch(k, pd.m, 'pf_synproxy: the client ACKed our SYN|ACK → PROXY:DST');
  }
  if (si[src + PR_STATE] === PF_TCPS_PROXY_DST) {
    if (sameDir) {
      if ((flags & (TH_SYN | TH_ACK)) !== TH_ACK || pd.th_ack !== ((si[src + PR_SEQHI]! + 1) | 0) ||
          pd.th_seq !== ((si[src + PR_SEQLO]! + 1) | 0))
        return spDrop(pf, false, 'PROXY:DST, not the client\'s ACK → drop');
      si[src + PR_MAXWIN] = Math.max(pd.th_win, 1);
      if (si[dst + PR_SEQHI] === 1) si[dst + PR_SEQHI] = k.random.arc4random() | 0;
      // the stack key: the server as the rules translated it
      const o = keyOff(pf, s, pd.didx);
      pf_tcpaddr_key(pf, kd, o, pd.sidx, pd.didx);
      pf_send_tcp_full(pf, kd[o + K_META]! & 0xff, keyPort(kd, o, pd.sidx), keyPort(kd, o, pd.didx),
        si[dst + PR_SEQHI]!, 0, TH_SYN, 0, si[src + PR_MSS]!, 0, false, kd[o + K_META]! >>> 16, 'pf_synproxy: SYN to the server');
      return spDrop(pf, true, `PROXY:DST, SYN seq ${si[dst + PR_SEQHI]! >>> 0} to the server → consumed`);
    }
    if ((flags & (TH_SYN | TH_ACK)) !== (TH_SYN | TH_ACK) || pd.th_ack !== ((si[dst + PR_SEQHI]! + 1) | 0))
      return spDrop(pf, false, 'PROXY:DST, not the server\'s SYN|ACK → drop');
    si[dst + PR_MAXWIN] = Math.max(pd.th_win, 1);
    si[dst + PR_SEQLO] = pd.th_seq;
    // ACK the server's SYN|ACK (as the client), and open the client's window (as the server)
    pf_tcpaddr_reply(pf, pd);
    pf_send_tcp_full(pf, pd.af, pd.odport, pd.osport, pd.th_ack, (pd.th_seq + 1) | 0, TH_ACK, si[src + PR_MAXWIN]!,
      0, 0, false, pd.rdomain, 'pf_synproxy: ACK to the server');
    const o = keyOff(pf, s, pd.didx);
    pf_tcpaddr_key(pf, kd, o, pd.sidx, pd.didx);
    pf_send_tcp_full(pf, kd[o + K_META]! & 0xff, keyPort(kd, o, pd.sidx), keyPort(kd, o, pd.didx),
      (si[src + PR_SEQHI]! + 1) | 0, (si[src + PR_SEQLO]! + 1) | 0, TH_ACK, si[dst + PR_MAXWIN]!, 0, 0, true,
      kd[o + K_META]! >>> 16, 'pf_synproxy: ACK to the client');
    si[src + PR_SEQDIFF] = (si[dst + PR_SEQHI]! - si[src + PR_SEQLO]!) | 0;
    si[dst + PR_SEQDIFF] = (si[src + PR_SEQHI]! - si[dst + PR_SEQLO]!) | 0;
    si[src + PR_SEQHI] = (si[src + PR_SEQLO]! + si[dst + PR_MAXWIN]!) | 0;
    si[dst + PR_SEQHI] = (si[dst + PR_SEQLO]! + si[src + PR_MAXWIN]!) | 0;
    si[src + PR_WSCALE] = si[dst + PR_WSCALE] = 0;
    si[src + PR_STATE] = si[dst + PR_STATE] = TCPS_ESTABLISHED;
    si[b + ST_FLAGS] &= ~PFSTATE_SYNPROXY;
    return spDrop(pf, true, 'PROXY:DST, the server\'s SYN|ACK → ACKs both ways, ESTABLISHED:ESTABLISHED');
  }
  return PF_PASS;
}

/**
 * pf_remove_state() of a state still in PROXY:DST: the client was told the
 * connection is open; reset it (from the server's address as it sees it).
 */
export function pf_synproxy_remove(pf: Pf, s: number): void {
  const si = pf.st.si;
  const kd = pf.st.kd;
  const b = s * ST_N;
  const o = keyOff(pf, s, 0);
  pf_tcpaddr_key(pf, kd, o, 1, 0);
  pf_send_tcp_full(pf, kd[o + K_META]! & 0xff, keyPort(kd, o, 1), keyPort(kd, o, 0),
    si[b + ST_SRC + PR_SEQHI]!, (si[b + ST_SRC + PR_SEQLO]! + 1) | 0, TH_RST | TH_ACK, 0, 0, 0, true,
    kd[o + K_META]! >>> 16, 'pf_synproxy: RST to the client (state removed)');
}

/* ------------------------------------------------------------------ */
/* sequence number modulation                                          */

function adj32(sum: number, o: number, n: number): number {
  return adjust16(adjust16(sum, (o >>> 16) & 0xffff, (n >>> 16) & 0xffff), o & 0xffff, n & 0xffff);
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** pf_patch_32() of th_seq and th_ack: the segment carries seq and ack, the TCP checksum follows. */
export function pf_tcp_modulate(pd: PfPdesc, seq: number, ack: number): void {
  const b = pd.m.buf;
  const t = pd.thoff;
  let sum = get16(b, t + 16);
  const os = get32(b, t + 4);
  const oa = get32(b, t + 8);
  const ns = seq >>> 0;
  const na = ack >>> 0;
  if (os !== ns) {
    put32(b, t + 4, ns);
    sum = adj32(sum, os, ns);
  }
  if (oa !== na) {
    put32(b, t + 8, na);
    sum = adj32(sum, oa, na);
  }
  put16(b, t + 16, sum);
}

/**
 * pf_modulate_sack(): SACK blocks acknowledge the peer's sequence space as
 * this side sees it: take seqdiff (the peer's) off each edge.
 */
export function pf_modulate_sack(pd: PfPdesc, seqdiff: number): void {
  const b = pd.m.buf;
  const start = pd.thoff + 20;
  const end = pd.thoff + pd.hdrlen;
  let sum = get16(b, pd.thoff + 16);
  let changed = false;
  for (let p = start; p < end; ) {
    const kind = b[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const l = b[p + 1]!;
    if (l < 2 || p + l > end) break;
    if (kind === TCPOPT_SACK && l >= 10) {
      for (let i = p + 2; i + 8 <= p + l; i += 8) {
        for (let j = 0; j < 8; j += 4) {
          const ov = get32(b, i + j);
          const nv = (ov - seqdiff) >>> 0;
          put32(b, i + j, nv);
          // an edge at an odd offset adds to the sum byte-swapped (PF_ALGNMNT)
          if (((i + j - pd.thoff) & 1) === 0) sum = adj32(sum, ov, nv);
          else sum = swap16(adj32(swap16(sum), ov, nv));
        }
      }
      changed = true;
    }
    p += l;
  }
  if (changed) put16(b, pd.thoff + 16, sum);
}

