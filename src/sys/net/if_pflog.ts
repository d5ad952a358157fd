/**
 * pflog(4): the pseudo interface pf logs packets to.  pflog_packet() puts
 * OpenBSD's struct pfloghdr (100 bytes: af, action, reason, interface,
 * anchor, rule numbers, uid/pid, direction, the translated addresses and
 * ports) in front of the packet and hands both to the interface's bpf
 * listeners, so `tcpdump -i pflog0 -e` prints `rule 3/(match) block in on
 * em0: ...` and pcap files carry the PFLOG link type (117).  Nothing is
 * built when nobody listens (if_bpf is null).
 */
import type { Kernel } from '../kern/kernel.js';
import { Ifnet, IFF_RUNNING, IFF_UP, IFXF_CLONED, if_addgroup } from './if.js';
import { bpfattach, BPF_DIRECTION_OUT } from './bpf.js';
import type { Pf, PfPdesc, KRule } from './pf.js';
import { AF_INET, PF_LOG_USER, PF_NO_PID, pf_attach, pf_socket_lookup_once } from './pf.js';
import { put32, put16 } from '../../wire/bytes.js';

export const DLT_PFLOG = 117;
export const PFLOG_HDRLEN = 100;
export const PFLOG_RULESET_NAME_SIZE = 16;
const IFNAMSIZ = 16;
export const PFLOGIFS_MAX = 16;

/** pflog_clone_create(): pflog<unit>, up, in the "pflog" group. */
export function pflog_clone_create(k: Kernel, unit = 0): Ifnet {
  const pf = pf_attach(k);
  const existing = pf.pflogifs[unit];
  if (existing !== undefined) return existing;
  const ifp = new Ifnet(k, `pflog${unit}`, 0xf6 /* IFT_PFLOG */, new Uint8Array(0));
  ifp.if_mtu = 33136; // PFLOGMTU
  ifp.if_hardmtu = ifp.if_mtu;
  ifp.if_flags = IFF_UP | IFF_RUNNING;
  ifp.if_xflags = IFXF_CLONED;
  if_addgroup(ifp, 'pflog');
  bpfattach(ifp, DLT_PFLOG);
  pf.pflogifs[unit] = ifp;
  return ifp;
}

/**
 * pflog_packet(): log the packet of pd, decided by rule rm (in anchor rule
 * am), with reason and action, to the pflog interface of the rule that
 * asks for it (trigger: rm, or a log (matches) rule).
 */
export function pflog_packet(pf: Pf, pd: PfPdesc, reason: number, rm: KRule, am: KRule | null, action: number, trigger: KRule = rm): void {
  const ifp = pf.pflogifs[trigger.logif];
  if (ifp === undefined) return;
  const m = pd.m;
  ifp.if_opackets++;
  ifp.if_obytes += m.len;
  const bp = ifp.if_bpf;
  if (bp === null) return;
  const total = PFLOG_HDRLEN + m.len;
  if (pf.logbuf.length < total) pf.logbuf = new Uint8Array(total);
  const h = pf.logbuf;
  h.fill(0, 0, PFLOG_HDRLEN);
  h[0] = PFLOG_HDRLEN;
  h[1] = pd.af;
  h[2] = action;
  h[3] = reason;
  writeName(h, 4, pd.kif.if_xname, IFNAMSIZ);
  if (am === null) {
    put32(h, 36, rm.nr >>> 0);
    put32(h, 40, 0xffffffff);
  } else {
    put32(h, 36, am.nr >>> 0);
    put32(h, 40, rm.nr >>> 0);
    if (am.anchor !== null) writeName(h, 20, am.anchor.name, PFLOG_RULESET_NAME_SIZE);
  }
  // uid, pid (host order: little-endian, as written on amd64): the socket's owner for log (user), then
  // rule_uid, rule_pid: who loaded the rule (pfctl as root; its pid is 0 here, as -vsr's "Inserted:" says)
  const user = (trigger.log & PF_LOG_USER) !== 0 && pf_socket_lookup_once(pf, pd);
  le32(h, 44, user ? pd.lookup_uid >>> 0 : 0xffffffff);
  le32(h, 48, user ? pd.lookup_pid : PF_NO_PID);
  le32(h, 52, 0);
  le32(h, 56, 0);
  h[60] = pd.dir;
  h[61] = pd.ns0 !== pd.s0 || pd.nd0 !== pd.d0 || pd.nsport !== pd.osport || pd.ndport !== pd.odport ? 1 : 0;
  h[62] = pd.naf;
  if (pd.af === AF_INET) {
    put32(h, 64, pd.ns0 >>> 0);
    put32(h, 80, pd.nd0 >>> 0);
  } else {
    put32(h, 64, pd.ns0 >>> 0);
    put32(h, 68, pd.ns1 >>> 0);
    put32(h, 72, pd.ns2 >>> 0);
    put32(h, 76, pd.ns3 >>> 0);
    put32(h, 80, pd.nd0 >>> 0);
    put32(h, 84, pd.nd1 >>> 0);
    put32(h, 88, pd.nd2 >>> 0);
    put32(h, 92, pd.nd3 >>> 0);
  }
  put16(h, 96, pd.nsport);
  put16(h, 98, pd.ndport);
  h.set(m.buf.subarray(m.off, m.off + m.len), PFLOG_HDRLEN);
  if (pf.k.trace !== null) pf.k.trace.tap(pf.k, m, 'bpf_mtap_hdr', ifp.if_xname, 'OUT');
  bp.tap(h, 0, total, m, BPF_DIRECTION_OUT);
}

function writeName(b: Uint8Array, off: number, s: string, size: number): void {
  const n = Math.min(s.length, size - 1);
  for (let i = 0; i < n; i++) b[off + i] = s.charCodeAt(i) & 0xff;
}

function le32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
