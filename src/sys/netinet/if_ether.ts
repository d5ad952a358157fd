/**
 * ARP for IPv4 over Ethernet (sys/netinet/if_ether.c, RFC 826).  As in
 * OpenBSD, ARP entries are host routes in the routing table: cloned from
 * the connected route (RTF_CLONED|RTF_LLINFO) with an AF_LINK gateway that
 * stays empty ("incomplete") until a reply fills it in.  Each entry has an
 * llinfo_arp holding the packets waiting for the address (la_mq, at most
 * LA_HOLD_QUEUE each, LA_HOLD_TOTAL in all), the requests asked so far
 * (la_asked, arp_maxtries before the entry is rejected for arpt_down
 * seconds) and rt_expire (arpt_keep seconds after resolution).  arptimer()
 * runs every arpt_prune seconds while entries exist and frees expired ones.
 *
 * OpenBSD keeps no ARP statistics; packetflow counts every ARP drop and
 * event in `arpstat` (names in FreeBSD's style, see ARPSTAT_NAMES), so each
 * drop site still increments exactly one counter that names its reason.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_NOARP, IFF_RUNNING, IFF_STATICARP } from '../net/if.js';
import { MbufList } from '../kern/uipc_mbuf.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import * as uipc_mbuf_ from '../kern/uipc_mbuf.js';
import { CounterBlock, type StatsLayout } from '../kern/counters.js';
import type { Timeout } from '../kern/kern_timeout.js';
import { ArpPacket } from '../../wire/arp.js';
import * as arp_ from '../../wire/arp.js';
import { EthernetFrame } from '../../wire/ether.js';
import * as ether_ from '../../wire/ether.js';
import * as addr_ from '../../wire/addr.js';
import { macHi, macLo, macNum, traceEvent, traceSegment } from '../kern/kern_trace.js';
import {
  AF_LINK, EAGAIN, EHOSTDOWN, EHOSTUNREACH, EINVAL, RTF_ANNOUNCE, RTF_BROADCAST, RTF_CACHED,
  RTF_CLONING, RTF_GATEWAY, RTF_LLINFO, RTF_LOCAL, RTF_MPLS, RTF_MULTICAST, RTF_PERMANENT_ARP,
  RTF_REJECT, RTF_STATIC, RTM_ADD, RTM_DELETE, RTM_INVALIDATE, RTM_RESOLVE, RT_RESOLVE, rt_getll,
  rt_match, rtdeletemsg, rtisvalid, type Rtentry,
} from '../net/route.js';
import { if_enqueue } from '../net/if.js';
import { ether_output } from '../net/if_ethersubr.js';

// Imported constants and functions as the module's own constants: V8
// folds a module's const like a literal, but reads an imported binding from
// its cell, with a TDZ check, at every use (dozens per forwarded packet).
// Only from modules without imports back here, so they are always
// initialized first.
const { M_BCAST, M_MCAST } = uipc_mbuf_;
const { ARP_ETHER_IP_LEN, ARPHRD_ETHER, ARPOP_REPLY, ARPOP_REQUEST } = arp_;
const { ETHER_ADDR_LEN, ETHER_HDR_LEN, ETHERTYPE_ARP, ETHERTYPE_IP, etherAddrCopy, etherAddrEqual, etherbroadcastaddr, etherIsBroadcast, etherIsMulticast } = ether_;
const { formatIp4 } = addr_;

// Trace events of arpresolve's hot path (kern_trace.ts).
const T_ARPRESOLVE = traceEvent('fn', 'arpresolve', '%a');
const T_ARP_CACHED = traceEvent('branch', 'arpresolve: %a is-at %m (cached)');
// ether_output's events (interned there too: the same codes), which
// arpresolve records with its own, ether_output being its only caller.
const T_ETHER_OUTPUT = traceEvent('fn', 'ether_output');
const T_ETHER_RESOLVE = traceEvent('fn', 'ether_resolve', 'IPv4: arpresolve()');
const T_EO_RESOLVE = traceSegment(T_ETHER_OUTPUT, T_ETHER_RESOLVE);
const T_EO_ARPRESOLVE = traceSegment(T_ETHER_OUTPUT, T_ETHER_RESOLVE, T_ARPRESOLVE);
/** With the common answer too: one record. */
const T_EO_ARPRESOLVE_CACHED = traceSegment(T_ETHER_OUTPUT, T_ETHER_RESOLVE, T_ARPRESOLVE, T_ARP_CACHED);

export const LA_HOLD_QUEUE = 10;
export const LA_HOLD_TOTAL = 100;
/** Seconds between walks of the ARP list. */
export const ARPT_PRUNE = 5 * 60;
export const ARP_MAXTRIES = 5;

// ---- arpstat: packetflow's ARP counters (OpenBSD has none) ----
export const ARPSTAT_NAMES = [
  'arps_txrequests', // requests sent (resolution, refresh, gratuitous)
  'arps_txreplies', // replies sent
  'arps_received', // ARP packets received on an Ethernet interface
  'arps_rxrequests', // requests received
  'arps_rxreplies', // replies received
  'arps_badhdr', // drop: not Ethernet/IPv4 or truncated (arppullup)
  'arps_badop', // drop: operation neither request nor reply
  'arps_bcastsha', // drop: sender hardware address is broadcast
  'arps_fromself', // drop: our own packet came back
  'arps_dupips', // another host claims one of our addresses
  'arps_permoverwrite', // drop: attempt to overwrite a permanent entry
  'arps_ifoverwrite', // drop: entry belongs to another interface
  'arps_notarget', // consumed: request for an address we neither own nor publish
  'arps_noarp', // drop: ARP on an IFF_NOARP interface
  'arps_holddrops', // drop: oldest packet pushed out of a full hold queue
  'arps_holdtotal', // drop: LA_HOLD_TOTAL exceeded, queue purged with the new packet
  'arps_maxtries', // drop: held packets purged when an entry is declared down
  'arps_rejected', // drop: packet to an entry that is down (RTF_REJECT)
  'arps_noinfo', // drop: route without ARP information
  'arps_invalidated', // drop: held packets purged by arp -d / deletion
  'arps_timeouts', // entries freed by arptimer
  'arps_resolved', // entries that got their address
] as const;
export const arps_txrequests = 0;
export const arps_txreplies = 1;
export const arps_received = 2;
export const arps_rxrequests = 3;
export const arps_rxreplies = 4;
export const arps_badhdr = 5;
export const arps_badop = 6;
export const arps_bcastsha = 7;
export const arps_fromself = 8;
export const arps_dupips = 9;
export const arps_permoverwrite = 10;
export const arps_ifoverwrite = 11;
export const arps_notarget = 12;
export const arps_noarp = 13;
export const arps_holddrops = 14;
export const arps_holdtotal = 15;
export const arps_maxtries = 16;
export const arps_rejected = 17;
export const arps_noinfo = 18;
export const arps_invalidated = 19;
export const arps_timeouts = 20;
export const arps_resolved = 21;

/** A counter block layout made here rather than generated from OpenBSD's headers. */
export function packetflowLayout(proto: string, struct: string, names: readonly string[]): StatsLayout {
  return {
    proto,
    struct,
    header: 'packetflow',
    ncounters: names.length,
    fields: names.map((name, id) => ({ name, ctype: 'u_int64_t', width: 'u64' as const, count: 1, id })),
  };
}

export const ARPSTAT_LAYOUT = packetflowLayout('arp', 'arpstat', ARPSTAT_NAMES);

/** struct llinfo_arp */
export class LlinfoArp {
  readonly la_mq = new MbufList();
  la_asked = 0;
  la_refreshed = 0;
  constructor(readonly la_rt: Rtentry) {}
}

/** The ARP state of one kernel. */
export class ArpState {
  /** arp_list, newest first as LIST_INSERT_HEAD keeps it. */
  readonly list: LlinfoArp[] = [];
  /** Packets held in all hold queues. */
  la_hold_total = 0;
  readonly stats = new CounterBlock(ARPSTAT_LAYOUT);
  readonly timer: Timeout<Kernel>;

  constructor(readonly k: Kernel) {
    this.timer = k.world.timeout<Kernel>(arptimer, k);
  }
}

const arpv = new ArpPacket();
const ethv = new EthernetFrame();

/**
 * getuptime() for ARP: seconds since boot, counting from 1.  A machine that
 * runs its network has been up for some time, and rt_expire 0 means
 * "never expires": an entry made in the world's first second must not read
 * as permanent.
 */
export function getuptime(k: Kernel): number {
  return k.world.uptime() + 1;
}
const uptime = getuptime;

/** An entry the next arptimer walk can free (a cached one, once invalidated, waits for traffic). */
function expirable(la: LlinfoArp): boolean {
  const rt = la.la_rt;
  return rt.rt_expire !== 0 && !(rt.rt_flags & RTF_CACHED && rt.rt_gwalen === 0);
}

/**
 * Arm arptimer, on the arpt_prune grid since boot, while some entry can
 * expire (local and static entries never do): an idle kernel leaves the
 * world idle.
 */
function arptimer_arm(k: Kernel): void {
  const a = k.inet.arp;
  if (a.timer.pending || !a.list.some(expirable)) return;
  const period = ARPT_PRUNE * 1e9;
  a.timer.at((Math.floor(k.world.now / period) + 1) * period);
}

/** arptimer(): free expired entries. */
export function arptimer(k: Kernel): void {
  const a = k.inet.arp;
  const now = uptime(k);
  for (const la of a.list.slice()) {
    const rt = la.la_rt;
    if (rt.rt_expire && rt.rt_expire < now) {
      a.stats.inc(arps_timeouts);
      arptfree(k, rt);
    }
  }
  arptimer_arm(k);
}

/** arp_rtrequest(): ARP state of routes as they are added, cloned and deleted. */
export function arp_rtrequest(k: Kernel, ifp: Ifnet, req: number, rt: Rtentry): void {
  if (rt.rt_flags & (RTF_GATEWAY | RTF_BROADCAST | RTF_MULTICAST | RTF_MPLS)) return;
  const a = k.inet.arp;
  switch (req) {
    case RTM_ADD:
    case RTM_RESOLVE: {
      if (req === RTM_ADD) {
        if (rt.rt_flags & RTF_CLONING) {
          rt.rt_expire = 0;
          break;
        }
        if (rt.rt_flags & RTF_LOCAL && rt.rt_llinfo === null) rt.rt_expire = 0;
        // Announce a new entry, or learn whether someone else has our address.
        if (rt.rt_flags & (RTF_ANNOUNCE | RTF_LOCAL)) arprequest(k, ifp, rt.rt_dst, rt.rt_dst, rt.rt_gwll);
      }
      if (rt.rt_gwfamily !== AF_LINK) break;
      if (rt.rt_llinfo !== null) break;
      const la = new LlinfoArp(rt);
      rt.rt_llinfo = la;
      rt.rt_flags |= RTF_LLINFO;
      a.list.unshift(la);
      if (!(rt.rt_flags & RTF_LOCAL) && !(rt.rt_flags & RTF_STATIC && rt.rt_gwalen > 0)) rt.rt_expire = uptime(k);
      arptimer_arm(k);
      break;
    }
    case RTM_DELETE: {
      const la = rt.rt_llinfo as LlinfoArp | null;
      if (la === null) break;
      const i = a.list.indexOf(la);
      if (i >= 0) a.list.splice(i, 1);
      rt.rt_llinfo = null;
      rt.rt_flags &= ~RTF_LLINFO;
      const n = la.la_mq.purge();
      a.la_hold_total -= n;
      a.stats.add(arps_invalidated, n);
      if (a.list.length === 0) a.timer.del();
      break;
    }
    case RTM_INVALIDATE:
      if (!(rt.rt_flags & RTF_LOCAL)) arpinvalidate(k, rt);
      break;
  }
}

/** Write an Ethernet+ARP frame into a fresh mbuf and send it; false when out of mbufs or down. */
function arp_send(
  k: Kernel, ifp: Ifnet, op: number, dsthw: Uint8Array, dsthwOff: number, sha: Uint8Array, spa: number,
  tha: Uint8Array, thaOff: number, tpa: number, flags: number,
): boolean {
  const m = k.mbufs.get(ETHER_HDR_LEN + ARP_ETHER_IP_LEN);
  if (m === null) return false;
  m.append(ETHER_HDR_LEN + ARP_ETHER_IP_LEN);
  m.m_flags |= flags;
  const e = ethv.wrap(m.buf, m.off, m.len);
  e.setDst(dsthw, dsthwOff);
  e.setSrc(ifp.if_lladdr);
  e.etherType = ETHERTYPE_ARP;
  const ap = arpv.wrap(m.buf, m.off + ETHER_HDR_LEN, ARP_ETHER_IP_LEN);
  ap.htype = ARPHRD_ETHER;
  ap.ptype = ETHERTYPE_IP;
  ap.hlen = ETHER_ADDR_LEN;
  ap.plen = 4;
  ap.op = op;
  ap.setSha(sha);
  ap.spa = spa;
  ap.setTha(tha, thaOff);
  ap.tpa = tpa;
  if (k.trace !== null) k.trace.caused(m, op === ARPOP_REQUEST ? `arprequest: who-has ${formatIp4(tpa)} tell ${formatIp4(spa)}` : `arpreply: ${formatIp4(spa)} is-at ${macAt(sha, 0)}`);
  if (!(ifp.if_flags & IFF_RUNNING)) {
    if (k.trace !== null) k.trace.drop(k, m, 'arp: %s not running → not sent', '', 0, 0, 0, ifp.if_xname);
    m.free();
    return false;
  }
  if (k.trace !== null) k.trace.fn(k, m, op === ARPOP_REQUEST ? 'arprequest' : 'arpreply', ifp.if_xname);
  if_enqueue(ifp, m);
  return true;
}

const ZERO_MAC = new Uint8Array(6);

/** arprequest(): broadcast a request for tip from sip. */
export function arprequest(k: Kernel, ifp: Ifnet, sip: number, tip: number, enaddr: Uint8Array): void {
  if (arp_send(k, ifp, ARPOP_REQUEST, etherbroadcastaddr, 0, enaddr, sip, ZERO_MAC, 0, tip, M_BCAST))
    k.inet.arp.stats.inc(arps_txrequests);
}

/**
 * arpresolve(): the destination MAC of an IPv4 packet into desten.  0: sent
 * on; EAGAIN: the packet is held (or dropped and counted) while resolving;
 * other errors: the packet was freed.
 */
export function arpresolve(k: Kernel, ifp: Ifnet, rt0: Rtentry | null, m: Mbuf, dst: number, desten: Uint8Array): number {
  const a = k.inet.arp;
  const tr = k.trace;
  // ether_output's events (ether_output, ether_resolve) are recorded here
  // with the first of this function's: one record on the common path.
  if (m.m_flags & (M_BCAST | M_MCAST) && tr !== null) tr.evi(k, m, T_EO_RESOLVE, ifp);
  if (m.m_flags & M_BCAST) {
    desten.set(etherbroadcastaddr);
    return 0;
  }
  if (m.m_flags & M_MCAST) {
    // ETHER_MAP_IP_MULTICAST
    desten[0] = 0x01; desten[1] = 0x00; desten[2] = 0x5e;
    desten[3] = (dst >>> 16) & 0x7f; desten[4] = (dst >>> 8) & 0xff; desten[5] = dst & 0xff;
    return 0;
  }
  const now = uptime(k);
  const rt = rt0 === null ? null : rt_getll(rt0);
  // The function event is recorded with the cached answer (one record), or first on each other way out.
  if (rt === null || (rt.rt_flags & RTF_REJECT && (rt.rt_expire === 0 || rt.rt_expire > now))) {
    if (tr !== null) {
      tr.evi1(k, m, T_EO_ARPRESOLVE, ifp, dst);
      tr.drop(k, m, 'arpresolve: %a is down (RTF_REJECT) → drop, arps_rejected', '', dst);
    }
    a.stats.inc(arps_rejected);
    m.free();
    return rt === rt0 ? EHOSTDOWN : EHOSTUNREACH;
  }
  if (!(rt.rt_flags & RTF_LLINFO) || rt.rt_gwfamily !== AF_LINK) {
    if (tr !== null) tr.evi1(k, m, T_EO_ARPRESOLVE, ifp, dst);
    a.stats.inc(arps_noinfo);
    m.free();
    return EINVAL;
  }
  if ((rt.rt_expire === 0 || rt.rt_expire > now) && rt.rt_gwalen !== 0) {
    // Six bytes: a loop is cheaper than TypedArray.set.
    etherAddrCopy(desten, 0, rt.rt_gwll);
    // ether_encap's event, next, continues this record (Tracer.cont5).
    if (tr !== null) tr.evi4c(k, m, T_EO_ARPRESOLVE_CACHED, ifp, dst, dst, macHi(desten, 0), macLo(desten, 0));
    // Refresh the entry when its timeout gets close.
    if (rt.rt_expire !== 0 && rt.rt_expire - (k.inet.arpt_keep.value >>> 3) < now) {
      const la = rt.rt_llinfo as LlinfoArp | null;
      if (la !== null && la.la_refreshed + 30 < now) {
        la.la_refreshed = now;
        arprequest(k, ifp, rt.rt_ifa!.addr, dst, ifp.if_lladdr);
      }
    }
    return 0;
  }
  if (tr !== null) tr.evi1(k, m, T_EO_ARPRESOLVE, ifp, dst);
  if (ifp.if_flags & (IFF_NOARP | IFF_STATICARP)) {
    a.stats.inc(arps_noinfo);
    m.free();
    return EINVAL;
  }
  const la = rt.rt_llinfo as LlinfoArp | null;
  if (la === null) {
    a.stats.inc(arps_noinfo);
    m.free();
    return EINVAL;
  }
  // Hold the packet while resolving (mq_push drops the oldest when full).
  if (tr !== null) tr.branch(k, m, 'arpresolve: %a unresolved → packet held in la_mq while ARP asks', '', dst);
  if (++a.la_hold_total <= LA_HOLD_TOTAL) {
    if (la.la_mq.len >= LA_HOLD_QUEUE) {
      la.la_mq.dequeue()!.free();
      a.la_hold_total--;
      a.stats.inc(arps_holddrops);
    }
    la.la_mq.enqueue(m);
  } else {
    const n = la.la_mq.purge();
    a.la_hold_total -= n + 1;
    a.stats.add(arps_holdtotal, n + 1);
    m.free();
  }
  let refresh = false;
  let reject = 0;
  if (rt.rt_expire) {
    reject = ~RTF_REJECT;
    if (la.la_asked === 0 || rt.rt_expire !== now) {
      rt.rt_expire = now;
      if (la.la_asked++ < ARP_MAXTRIES) refresh = true;
      else {
        reject = RTF_REJECT;
        rt.rt_expire += k.inet.arpt_down.value;
        la.la_asked = 0;
        la.la_refreshed = 0;
        const n = la.la_mq.purge();
        a.la_hold_total -= n;
        a.stats.add(arps_maxtries, n);
      }
    }
  }
  if (reject === RTF_REJECT) rt.rt_flags |= RTF_REJECT;
  else if (reject === ~RTF_REJECT) rt.rt_flags &= ~RTF_REJECT;
  if (refresh) arprequest(k, ifp, rt.rt_ifa!.addr, dst, ifp.if_lladdr);
  return EAGAIN;
}

/** arpinput(): ARP from ether_input (m starts at the ARP header). */
export function arpinput(ifp: Ifnet, m: Mbuf): void {
  const k = ifp.kernel;
  const a = k.inet.arp;
  if (k.trace !== null) k.trace.fn(k, m, 'arpinput', ifp.if_xname);
  a.stats.inc(arps_received);
  if (ifp.if_flags & IFF_NOARP) {
    a.stats.inc(arps_noarp);
    m.free();
    return;
  }
  // arppullup(): Ethernet and IPv4 only, the addresses present.
  const ap = arpv.wrap(m.buf, m.off, m.len);
  if (m.len < 8 || ap.htype !== ARPHRD_ETHER || ap.ptype !== ETHERTYPE_IP || ap.hlen !== ETHER_ADDR_LEN ||
      ap.plen !== 4 || m.len < ARP_ETHER_IP_LEN) {
    a.stats.inc(arps_badhdr);
    m.free();
    return;
  }
  in_arpinput(k, ifp, m);
}

/** in_arpinput(): RFC 826 with OpenBSD's checks against impersonation. */
export function in_arpinput(k: Kernel, ifp: Ifnet, m: Mbuf): void {
  const a = k.inet.arp;
  const ap = arpv.wrap(m.buf, m.off, m.len);
  const op = ap.op;
  if (op !== ARPOP_REQUEST && op !== ARPOP_REPLY) {
    a.stats.inc(arps_badop);
    m.free();
    return;
  }
  a.stats.inc(op === ARPOP_REQUEST ? arps_rxrequests : arps_rxreplies);
  if (k.trace !== null) k.trace.fn(k, m, 'in_arpinput', ifp.if_xname, op === ARPOP_REQUEST ? 'request: who-has %a tell %a' : 'reply: %a is-at %m', op === ARPOP_REQUEST ? ap.tpa : ap.spa, op === ARPOP_REQUEST ? ap.spa : macNum(m.buf, ap.shaOffset));
  let itaddr = ap.tpa;
  const isaddr = ap.spa;
  const sha = ap.shaOffset;
  if (etherIsMulticast(m.buf, sha) && etherIsBroadcast(m.buf, sha)) {
    k.printf(`arp: ether address is broadcast for IP address ${formatIp4(isaddr)}!`);
    a.stats.inc(arps_bcastsha);
    m.free();
    return;
  }
  if (etherAddrEqual(m.buf, sha, ifp.if_lladdr, 0)) {
    a.stats.inc(arps_fromself);
    m.free();
    return;
  }
  let target = false;
  const trt = rt_match(k, itaddr, 0);
  if (rtisvalid(trt) && trt.rt_flags & RTF_LOCAL && trt.rt_ifidx === ifp.if_index) target = true;

  const rt = arplookup(k, isaddr, target, false);
  if (rt !== null && rt.rt_flags & RTF_LOCAL && rt.rt_ifidx === ifp.if_index && isaddr !== 0) {
    k.printf(`duplicate IP address ${formatIp4(isaddr)} sent from ethernet address ${macAt(m.buf, sha)}`);
    a.stats.inc(arps_dupips);
    itaddr = isaddr;
  } else if (rt !== null) {
    if (arpcache(k, ifp, ap, rt) !== 0) {
      m.free();
      return;
    }
  }
  if (op === ARPOP_REQUEST) {
    let eaddr: Uint8Array;
    if (target) eaddr = ifp.if_lladdr;
    else {
      const prt = arplookup(k, itaddr, false, true);
      if (prt === null || prt.rt_ifidx !== ifp.if_index || !(prt.rt_flags & RTF_ANNOUNCE)) {
        if (k.trace !== null) k.trace.branch(k, m, 'in_arpinput: %a is not ours → no reply, arps_notarget', '', itaddr);
        a.stats.inc(arps_notarget);
        m.free();
        return;
      }
      eaddr = prt.rt_gwll;
    }
    arpreply(k, ifp, m, itaddr, eaddr);
    return;
  }
  m.free();
}

function macAt(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[o + i]!.toString(16).padStart(2, '0');
  return s;
}

/** arpreply(): answer a request in place. */
function arpreply(k: Kernel, ifp: Ifnet, m: Mbuf, sip: number, eaddr: Uint8Array): void {
  const ap = arpv.wrap(m.buf, m.off, m.len);
  const sha = ap.shaOffset;
  const spa = ap.spa;
  // Send a fresh frame (the request's buffer may carry padding and VLAN leftovers).
  const ok = arp_send(k, ifp, ARPOP_REPLY, m.buf, sha, eaddr, sip, m.buf, sha, spa, 0);
  m.free();
  if (ok) k.inet.arp.stats.inc(arps_txreplies);
}

/** arpcache(): learn the sender's address; nonzero to drop the packet. */
function arpcache(k: Kernel, ifp: Ifnet, ap: ArpPacket, rt: Rtentry): number {
  const a = k.inet.arp;
  const la = rt.rt_llinfo as LlinfoArp | null;
  if (la === null) return 0;
  const spa = ap.spa;
  const sha = ap.shaOffset;
  let changed = false;
  if (rt.rt_gwalen > 0) {
    if (!etherAddrEqual(ap.buf, sha, rt.rt_gwll, 0)) {
      if (rt.rt_flags & (RTF_PERMANENT_ARP | RTF_LOCAL)) {
        k.printf(`arp: attempt to overwrite permanent entry for ${formatIp4(spa)} by ${macAt(ap.buf, sha)} on ${ifp.if_xname}`);
        a.stats.inc(arps_permoverwrite);
        return -1;
      } else if (rt.rt_ifidx !== ifp.if_index) {
        const rifp = k.ifnets[rt.rt_ifidx];
        k.printf(`arp: attempt to overwrite entry for ${formatIp4(spa)} on ${rifp?.if_xname ?? '?'} by ${macAt(ap.buf, sha)} on ${ifp.if_xname}`);
        a.stats.inc(arps_ifoverwrite);
        return -1;
      } else {
        k.printf(`arp info overwritten for ${formatIp4(spa)} by ${macAt(ap.buf, sha)} on ${ifp.if_xname}`);
        rt.rt_expire = 1;
      }
      changed = true;
    }
  } else if (rt.rt_ifidx !== ifp.if_index) {
    const rifp = k.ifnets[rt.rt_ifidx];
    k.printf(`arp: attempt to add entry for ${formatIp4(spa)} on ${rifp?.if_xname ?? '?'} by ${macAt(ap.buf, sha)} on ${ifp.if_xname}`);
    a.stats.inc(arps_ifoverwrite);
    return -1;
  }
  rt.rt_gwll.set(ap.buf.subarray(sha, sha + 6));
  rt.rt_gwalen = 6;
  if (rt.rt_expire) {
    rt.rt_expire = uptime(k) + k.inet.arpt_keep.value;
    arptimer_arm(k);
  }
  rt.rt_flags &= ~RTF_REJECT;
  if (la.la_asked || changed) a.stats.inc(arps_resolved);
  if (k.trace !== null) k.trace.branch(k, null, la.la_mq.len ? 'arpcache: %a is-at %m, %d held packet(s) sent' : 'arpcache: %a is-at %m', '', spa, macNum(ap.buf, sha), la.la_mq.len);
  la.la_asked = 0;
  la.la_refreshed = 0;
  // if_output_mq(): send what was held.
  const held = new MbufList();
  for (let m = la.la_mq.dequeue(); m !== null; m = la.la_mq.dequeue()) {
    a.la_hold_total--;
    held.enqueue(m);
  }
  for (let m = held.dequeue(); m !== null; m = held.dequeue()) ether_output(ifp, m, rt.rt_dst, rt);
  return 0;
}

/** arpinvalidate(): forget the address and the held packets. */
export function arpinvalidate(k: Kernel, rt: Rtentry): void {
  const a = k.inet.arp;
  const la = rt.rt_llinfo as LlinfoArp | null;
  if (la === null) return;
  const n = la.la_mq.purge();
  a.la_hold_total -= n;
  a.stats.add(arps_invalidated, n);
  rt.rt_gwalen = 0;
  la.la_asked = 0;
}

/** arptfree(): an expired or deleted entry; cached next hops stay (incomplete). */
export function arptfree(k: Kernel, rt: Rtentry): void {
  if (!(rt.rt_flags & RTF_LLINFO)) return;
  arpinvalidate(k, rt);
  if (!(rt.rt_flags & (RTF_STATIC | RTF_CACHED))) rtdeletemsg(k, rt);
}

/** arplookup(): the ARP entry of an address, created (cloned) when asked. */
export function arplookup(k: Kernel, addr: number, create: boolean, proxy: boolean): Rtentry | null {
  const rt = rt_match(k, addr, create ? RT_RESOLVE : 0);
  if (!rtisvalid(rt) || rt.rt_flags & RTF_GATEWAY || !(rt.rt_flags & RTF_LLINFO) || rt.rt_gwfamily !== AF_LINK)
    return null;
  if (proxy && !(rt.rt_flags & RTF_ANNOUNCE)) {
    for (const r of k.inet.rtable.routesAt(rt.rt_dst, rt.rt_plen)) if (r.rt_flags & RTF_ANNOUNCE) return r;
    return null;
  }
  return rt;
}

/** arp_ifinit(): announce an address configured on an interface (gratuitous ARP). */
export function arp_ifinit(k: Kernel, ifp: Ifnet, addr: number): void {
  arprequest(k, ifp, addr, addr, ifp.if_lladdr);
}

/** arp -d: delete the entry of addr; returns an errno (0 when deleted). */
export function arp_delete(k: Kernel, addr: number): number {
  const rt = k.inet.rtable.lookup(addr, 32);
  if (rt === null || !(rt.rt_flags & RTF_LLINFO) || rt.rt_gwfamily !== AF_LINK) return 3; // ESRCH
  if (rt.rt_flags & RTF_LOCAL) return 0;
  arpinvalidate(k, rt);
  rtdeletemsg(k, rt);
  return 0;
}

/** The ARP entries (RTF_LLINFO routes), as arp -a lists them. */
export function arp_entries(k: Kernel): Rtentry[] {
  return k.inet.rtable.entries().filter((rt) => rt.rt_flags & RTF_LLINFO && rt.rt_gwfamily === AF_LINK);
}

