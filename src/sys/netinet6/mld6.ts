/**
 * MLDv1 listener (sys/netinet6/mld6.c, RFC 2710), enough to be a
 * well-behaved host: a Report when a group is joined and one more after a
 * random delay up to MLD_V1_MAX_RI (10 s), Reports in answer to Queries
 * (after a random delay up to the query's maximum response delay,
 * suppressed when another listener reports first), a Done when the last
 * reporter leaves.  Never for ff02::1 or interface-local groups.
 * Reports go with a hop-by-hop router alert and hop limit 1, from the
 * link-local address (:: while it is tentative).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_RUNNING } from '../net/if.js';
import { M_MCAST, type Mbuf } from '../kern/uipc_mbuf.js';
import type { Timeout } from '../kern/kern_timeout.js';
import { icp6s_outhist } from '../kern/counters.gen.js';
import { get16 } from '../../wire/bytes.js';
import { IP6_HDR_LEN, Ipv6Packet } from '../../wire/ip6.js';
import { IPPROTO_HOPOPTS, IPPROTO_ICMPV6 } from '../../wire/ip4.js';
import { MLD_LISTENER_DONE, MLD_LISTENER_QUERY, MLD_LISTENER_REPORT } from '../../wire/icmp6.js';
import {
  In6Multi, IN6_ARE_ADDR_EQUAL, IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE, IN6_IS_ADDR_UNSPECIFIED, in6_clearscope,
  in6_setscope,
} from './in6_var.js';
import { in6_cksum, in6ifa_ifpforlinklocal } from './in6.js';
import { ip6_output, IPV6_UNSPECSRC } from './ip6_output.js';
import { ip6x_mld_ignored } from './inet6.js';

export const MLD_OTHERLISTENER = 0;
export const MLD_IREPORTEDLAST = 1;
/** Seconds: the most an unsolicited report is delayed. */
export const MLD_V1_MAX_RI = 10;

const ip6v = new Ipv6Packet();

/** The MLD timer of a group, made on first use. */
interface MldTimer {
  k: Kernel;
  in6m: In6Multi;
  to: Timeout<MldTimer>;
}

function timerOf(k: Kernel, in6m: In6Multi): MldTimer {
  let t = in6m.mld as MldTimer | null;
  if (t === null) {
    const mt = { k, in6m } as MldTimer;
    mt.to = k.world.timeout<MldTimer>(mld6_timeo, mt);
    in6m.mld = mt;
    t = mt;
  }
  return t;
}

/** Groups MLD never reports: ff02::1 and scopes below link-local. */
function mld6_silent(a: Uint8Array): boolean {
  if ((a[1]! & 0x0f) < 2) return true;
  if (a[1] !== 0x02) return false;
  for (let i = 4; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1;
}

export function mld6_start_listening(k: Kernel, in6m: In6Multi): void {
  if (mld6_silent(in6m.addr)) {
    in6m.state = MLD_OTHERLISTENER;
    return;
  }
  mld6_sendpkt(k, in6m, MLD_LISTENER_REPORT, null);
  in6m.state = MLD_IREPORTEDLAST;
  in6m.iamlastreporter = true;
  const t = timerOf(k, in6m);
  in6m.timerPending = true;
  // MLD_RANDOM_DELAY: 1 to MLD_V1_MAX_RI * PR_FASTHZ fast ticks of 200 ms.
  t.to.addMsec((1 + k.random.arc4random_uniform(MLD_V1_MAX_RI * 5)) * 200);
}

const allrouters = new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

export function mld6_stop_listening(k: Kernel, in6m: In6Multi): void {
  const t = in6m.mld as MldTimer | null;
  if (t !== null) t.to.del();
  in6m.timerPending = false;
  if (in6m.state === MLD_IREPORTEDLAST && !mld6_silent(in6m.addr)) {
    const dst = allrouters.slice();
    in6_setscope(dst, 0, in6m.ifidx);
    mld6_sendpkt(k, in6m, MLD_LISTENER_DONE, dst);
  }
}

function mld6_timeo(t: MldTimer): void {
  const in6m = t.in6m;
  if (!in6m.timerPending) return;
  in6m.timerPending = false;
  mld6_sendpkt(t.k, in6m, MLD_LISTENER_REPORT, null);
  in6m.state = MLD_IREPORTEDLAST;
}

/** mld6_input(): a Query or Report (not consumed: raw listeners get it after). */
export function mld6_input(k: Kernel, m: Mbuf, off: number, ifp: Ifnet): void {
  const b = m.buf;
  const p = m.off + off;
  const type = b[p]!;
  const group = k.inet6.addrScratch;
  group.set(b.subarray(p + 8, p + 24));
  in6_setscope(group, 0, ifp.if_index);
  const l = k.inet6.multi[ifp.if_index] ?? [];
  if (type === MLD_LISTENER_QUERY) {
    const general = IN6_IS_ADDR_UNSPECIFIED(group, 0);
    const maxdelay = get16(b, p + 4);
    let any = false;
    for (const in6m of l) {
      if (mld6_silent(in6m.addr)) continue;
      if (!general && !IN6_ARE_ADDR_EQUAL(in6m.addr, 0, group, 0)) continue;
      any = true;
      const t = timerOf(k, in6m);
      const delayMs = maxdelay === 0 ? 0 : k.random.arc4random_uniform(maxdelay);
      if (maxdelay === 0) {
        t.to.del();
        in6m.timerPending = false;
        mld6_sendpkt(k, in6m, MLD_LISTENER_REPORT, null);
        in6m.state = MLD_IREPORTEDLAST;
      } else if (!in6m.timerPending || (t.to.pending && delayMs < (t.to.when - k.world.now) / 1e6)) {
        in6m.timerPending = true;
        t.to.addMsec(delayMs);
      }
    }
    if (!any) k.inet6.ip6xstat.inc(ip6x_mld_ignored);
    return;
  }
  // A Report from another listener suppresses ours.
  for (const in6m of l) {
    if (!IN6_ARE_ADDR_EQUAL(in6m.addr, 0, group, 0)) continue;
    const t = in6m.mld as MldTimer | null;
    if (t !== null) t.to.del();
    in6m.timerPending = false;
    in6m.state = MLD_OTHERLISTENER;
    return;
  }
  k.inet6.ip6xstat.inc(ip6x_mld_ignored);
}

/** mld6_sendpkt(): an MLD message about in6m (to the group, or dst). */
export function mld6_sendpkt(k: Kernel, in6m: In6Multi, type: number, dst: Uint8Array | null): void {
  const ifp = k.ifnets[in6m.ifidx];
  if (ifp === undefined || !(ifp.if_flags & IFF_RUNNING)) return;
  let ia = in6ifa_ifpforlinklocal(k, ifp, IN6_IFF_DUPLICATED);
  if (ia === null) return;
  if (ia.ia6_flags & IN6_IFF_TENTATIVE) ia = null;
  const len = IP6_HDR_LEN + 8 + 24;
  const m = k.mbufs.get(len);
  if (m === null) return;
  m.append(len);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + len);
  const ip6 = ip6v.wrap(b, o, len);
  ip6.version = 6;
  ip6.nextHeader = IPPROTO_HOPOPTS;
  if (ia !== null) b.set(ia.addr, ip6.srcOffset);
  b.set(dst ?? in6m.addr, ip6.dstOffset);
  // Hop-by-hop: router alert (MLD), PadN.
  const h = o + IP6_HDR_LEN;
  b[h] = IPPROTO_ICMPV6;
  b[h + 1] = 0;
  b[h + 2] = 0x05;
  b[h + 3] = 0x02;
  b[h + 6] = 0x01;
  const icp = h + 8;
  b[icp] = type;
  b.set(in6m.addr, icp + 8);
  in6_clearscope(b, icp + 8);
  m.m_flags |= M_MCAST;
  ip6.payloadLength = len - IP6_HDR_LEN;
  const c = in6_cksum(k, m, IPPROTO_ICMPV6, IP6_HDR_LEN + 8, 24);
  b[icp + 2] = c >>> 8;
  b[icp + 3] = c & 0xff;
  k.stats.icmp6stat.inc(icp6s_outhist + type);
  if (k.trace !== null) k.trace.caused(m, 'mld6_sendpkt');
  ip6_output(k, m, ia === null ? IPV6_UNSPECSRC : 0, null, ifp, 1);
}
