/**
 * pf's walk over the IP header's options and the IPv6 extension headers
 * (pf_walk_header, pf_walk_option, pf_walk_header6, pf_walk_option6 of
 * sys/net/pf.c), called by pf_setup_pdesc.  It finds the transport header
 * and protocol, drops what pf refuses whatever the rules say (malformed
 * options, an IPv6 type 0 routing header, two routing headers, a
 * hop-by-hop header that is not first, a header chain longer than
 * pf_hdr_limit, IGMP to 224.0.0.1 with a TTL other than 1, MLD with a hop
 * limit other than 1 or from a non link-local address: reason
 * PFRES_IPOPTIONS "ip-option", or PFRES_SHORT when a header is cut
 * short), and sets pd.badopts when the packet carries options:
 * PF_OPT_ROUTER_ALERT for a router alert, PF_OPT_OTHER for any other
 * option, an IPv6 routing or destination options header, or an option
 * area of padding only, PF_OPT_JUMBO for a jumbo payload option.  A router
 * alert is forgiven on IGMP and on valid MLD (they carry one by design).
 * pf_test then drops a packet with badopts unless the rule that passes it
 * (pf_test_rule) or its state (PFSTATE_ALLOWOPTS) says allow-opts.
 *
 * Packets with options are rare: pf_setup_pdesc calls pf_walk_header only
 * for an IPv4 header longer than 20 bytes or an IGMP or AH payload, and
 * nothing here allocates.
 */
import type { Pf, PfPdesc } from './pf.js';
import { PF_DROP, PF_PASS, PFRES_FRAG, PFRES_IPOPTIONS, PFRES_SHORT, REASON_SET } from './pf.js';
import { get16 } from '../../wire/bytes.js';

/** pd.badopts bits (pfvar_priv.h) */
export const PF_OPT_OTHER = 0x0001;
export const PF_OPT_JUMBO = 0x0002;
export const PF_OPT_ROUTER_ALERT = 0x0004;

/** the longest header chain pf walks (pf_hdr_limit) */
const pf_hdr_limit = 20;

const IPOPT_EOL = 0;
const IPOPT_NOP = 1;
const IPOPT_RA = 148;
const IPPROTO_HOPOPTS = 0;
const IPPROTO_IGMP = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_DSTOPTS = 60;
const IP6OPT_PAD1 = 0x00;
const IP6OPT_PADN = 0x01;
const IP6OPT_JUMBO = 0xc2;
const IP6OPT_ROUTER_ALERT = 0x05;
const IPV6_RTHDR_TYPE_0 = 0;
const IPV6_MAXPACKET = 65535;
const INADDR_ALLHOSTS_GROUP = 0xe0000001 | 0;
const MLD_LISTENER_QUERY = 130;
const MLD_LISTENER_REPORT = 131;
const MLD_LISTENER_DONE = 132;
const MLDV2_LISTENER_REPORT = 143;

function drop(pf: Pf, reason: number, why: string): number {
  REASON_SET(pf, reason);
  const k = pf.k;
  if (k.trace !== null) k.trace.branch(k, pf.pd.m, `pf_walk_header: ${why}`);
  return PF_DROP;
}

/** pf_walk_option(): the IPv4 options in b[off, end). */
function pf_walk_option(pf: Pf, pd: PfPdesc, b: Uint8Array, off: number, end: number): number {
  while (off < end) {
    const type = b[off]!;
    if (type === IPOPT_EOL) break;
    if (type === IPOPT_NOP) {
      off++;
      continue;
    }
    if (off + 2 > end) return drop(pf, PFRES_IPOPTIONS, 'IP length opt');
    const length = b[off + 1]!;
    if (length < 2) return drop(pf, PFRES_IPOPTIONS, 'IP short opt');
    if (off + length > end) return drop(pf, PFRES_IPOPTIONS, 'IP long opt');
    pd.badopts |= type === IPOPT_RA ? PF_OPT_ROUTER_ALERT : PF_OPT_OTHER;
    off += length;
  }
  return PF_PASS;
}

/**
 * pf_walk_header(): the IPv4 header at b[o] of hl bytes (checked by the
 * caller), the datagram ending at end.  Sets pd.proto and pd.thoff (after
 * any AH headers).
 */
export function pf_walk_header(pf: Pf, pd: PfPdesc, b: Uint8Array, o: number, hl: number, end: number): number {
  if (hl !== 20) {
    if (pf_walk_option(pf, pd, b, o + 20, o + hl) !== PF_PASS) return PF_DROP;
    // an option area of padding only is fishy
    if (pd.badopts === 0) pd.badopts |= PF_OPT_OTHER;
  }
  let off = o + hl;
  let proto = b[o + 9]!;
  pd.proto = proto;
  pd.thoff = off;
  // IGMP carries a router alert; to all hosts it must have TTL 1 (RFC 1112)
  if (proto === IPPROTO_IGMP) {
    if (b[o + 8] !== 1 && (b[o + 16]! << 24 | b[o + 17]! << 16 | b[o + 18]! << 8 | b[o + 19]!) === INADDR_ALLHOSTS_GROUP)
      return drop(pf, PFRES_IPOPTIONS, 'Invalid IGMP');
    pd.badopts &= ~PF_OPT_ROUTER_ALERT;
  }
  const ipoff = get16(b, o + 6);
  // not the first fragment: no header to walk
  if ((ipoff & 0x1fff) !== 0) return PF_PASS;
  for (let n = 0; n < pf_hdr_limit; n++) {
    if (proto !== IPPROTO_AH) {
      pd.proto = proto;
      pd.thoff = off;
      return PF_PASS;
    }
    // fragments may be short
    if ((ipoff & 0x3fff) !== 0 && end < off + 2) {
      pd.proto = proto;
      pd.thoff = off;
      return PF_PASS;
    }
    if (off + 2 > end) return drop(pf, PFRES_SHORT, 'IP short exthdr');
    proto = b[off]!;
    off += (b[off + 1]! + 2) * 4;
  }
  return drop(pf, PFRES_IPOPTIONS, 'IPv4 nested authentication header limit');
}

/** pf_walk_option6(): the options of the hop-by-hop header in b[off, end); ip6 at b[o]. */
function pf_walk_option6(pf: Pf, pd: PfPdesc, b: Uint8Array, o: number, off: number, end: number, mend: number): number {
  while (off < end) {
    if (off + 1 > mend) return drop(pf, PFRES_SHORT, 'IPv6 short opt type');
    const type = b[off]!;
    if (type === IP6OPT_PAD1) {
      off++;
      continue;
    }
    if (off + 2 > mend) return drop(pf, PFRES_SHORT, 'IPv6 short opt');
    const len = b[off + 1]!;
    if (off + 2 + len > end) return drop(pf, PFRES_IPOPTIONS, 'IPv6 long opt');
    switch (type) {
      case IP6OPT_PADN:
        break;
      case IP6OPT_JUMBO: {
        pd.badopts |= PF_OPT_JUMBO;
        if (pd.jumbolen !== 0) return drop(pf, PFRES_IPOPTIONS, 'IPv6 multiple jumbo');
        if (get16(b, o + 4) !== 0) return drop(pf, PFRES_IPOPTIONS, 'IPv6 bad jumbo plen');
        if (off + 6 > mend) return drop(pf, PFRES_SHORT, 'IPv6 short jumbo');
        pd.jumbolen = ((b[off + 2]! << 24) | (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!) >>> 0;
        if (pd.jumbolen < IPV6_MAXPACKET) return drop(pf, PFRES_IPOPTIONS, 'IPv6 short jumbolen');
        break;
      }
      case IP6OPT_ROUTER_ALERT:
        pd.badopts |= PF_OPT_ROUTER_ALERT;
        break;
      default:
        pd.badopts |= PF_OPT_OTHER;
        break;
    }
    off += 2 + len;
  }
  return PF_PASS;
}

function isLinkLocal6(b: Uint8Array, o: number): boolean {
  return b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0x80;
}

/**
 * pf_walk_header6(): the IPv6 header at b[o] and its extension headers,
 * the datagram ending at end.  Sets pd.proto, pd.thoff and pd.fragoff
 * (the fragment header's index, 0 when the packet is no fragment).  A
 * fragment's headers are walked as far as the first fragment carries
 * them; a later fragment (or a first one too short for its headers) is
 * left at its fragment header, pd.proto IPPROTO_FRAGMENT, as OpenBSD's:
 * `proto udp` matches the first fragment of a UDP datagram only (with
 * `set reassemble no`).  pd.extoff is the last extension header before the
 * fragment header (0: none).
 */
export function pf_walk_header6(pf: Pf, pd: PfPdesc, b: Uint8Array, o: number, end: number): number {
  let off = o + 40;
  let proto = b[o + 6]!;
  let fraghdr = 0;
  let rthdr = 0;
  pd.fragoff = 0;
  pd.extoff = 0;
  pd.jumbolen = 0;
  for (let n = 0; n < pf_hdr_limit; n++) {
    pd.proto = proto;
    pd.thoff = off;
    switch (proto) {
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
        pd.badopts |= PF_OPT_OTHER;
        break;
      case IPPROTO_HOPOPTS:
        if (off + 2 > end) return drop(pf, PFRES_SHORT, 'IPv6 short exthdr');
        if (pf_walk_option6(pf, pd, b, o, off + 2, off + (b[off + 1]! + 1) * 8, end) !== PF_PASS) return PF_DROP;
        // an option header of padding only is fishy
        if (pd.badopts === 0) pd.badopts |= PF_OPT_OTHER;
        break;
    }
    switch (proto) {
      case IPPROTO_FRAGMENT: {
        if (fraghdr++ !== 0) return drop(pf, PFRES_FRAG, 'IPv6 multiple fragment');
        // jumbo payload packets cannot be fragmented
        if (pd.jumbolen !== 0) return drop(pf, PFRES_FRAG, 'IPv6 fragmented jumbo');
        if (off + 8 > end) return drop(pf, PFRES_SHORT, 'IPv6 short fragment');
        const offlg = get16(b, off + 2);
        if ((offlg & 0xfff8) !== 0) {
          // not the first fragment: stop walking, at the fragment header (its protocol is the fragment's)
          pd.fragoff = off;
          return PF_PASS;
        }
        // RFC 6946: an atomic fragment is no fragment
        if ((offlg & 1) !== 0) pd.fragoff = off;
        proto = b[off]!;
        off += 8;
        break;
      }
      case IPPROTO_ROUTING:
      case IPPROTO_HOPOPTS:
      case IPPROTO_AH:
      case IPPROTO_DSTOPTS: {
        if (proto === IPPROTO_ROUTING) {
          if (rthdr++ !== 0) return drop(pf, PFRES_IPOPTIONS, 'IPv6 multiple rthdr');
          if (pd.fragoff !== 0 && end < off + 4) return fragShort(pd);
          if (off + 4 > end) return drop(pf, PFRES_SHORT, 'IPv6 short rthdr');
          if (b[off + 2] === IPV6_RTHDR_TYPE_0) return drop(pf, PFRES_IPOPTIONS, 'IPv6 rthdr0');
        }
        // RFC 2460 4.1: hop-by-hop only right after the IPv6 header
        if (proto === IPPROTO_HOPOPTS && n > 0) return drop(pf, PFRES_IPOPTIONS, 'IPv6 hopopts not first');
        if (pd.fragoff !== 0 && end < off + 2) return fragShort(pd);
        if (off + 2 > end) return drop(pf, PFRES_SHORT, 'IPv6 short exthdr');
        // reassembly writes the next header into the last one before the fragment header
        if (pd.fragoff === 0) pd.extoff = off;
        if (proto === IPPROTO_HOPOPTS && pd.fragoff === 0 && get16(b, o + 4) === 0 && pd.jumbolen !== 0)
          return drop(pf, PFRES_IPOPTIONS, 'IPv6 missing jumbo');
        const nxt = b[off]!;
        off += proto === IPPROTO_AH ? (b[off + 1]! + 2) * 4 : (b[off + 1]! + 1) * 8;
        proto = nxt;
        break;
      }
      case IPPROTO_ICMPV6: {
        if (pd.fragoff !== 0 && end < off + 8) return fragShort(pd);
        if (off + 8 > end) return drop(pf, PFRES_SHORT, 'IPv6 short icmp6hdr');
        const type = b[off]!;
        if (type === MLD_LISTENER_QUERY || type === MLD_LISTENER_REPORT || type === MLD_LISTENER_DONE || type === MLDV2_LISTENER_REPORT) {
          // RFC 2710: MLD goes with hop limit 1 from a link-local address
          if (b[o + 7] !== 1 || !isLinkLocal6(b, o + 8)) return drop(pf, PFRES_IPOPTIONS, 'Invalid MLD');
          pd.badopts &= ~PF_OPT_ROUTER_ALERT;
        }
        return PF_PASS;
      }
      case IPPROTO_TCP:
      case IPPROTO_UDP:
        if (pd.fragoff !== 0 && end < off + (proto === IPPROTO_TCP ? 20 : 8)) return fragShort(pd);
        return PF_PASS;
      default:
        return PF_PASS;
    }
  }
  return drop(pf, PFRES_IPOPTIONS, 'IPv6 nested extension header limit');
}

/** A first fragment too short for the next header: filtered as a fragment, at its fragment header (protocol IPPROTO_FRAGMENT). */
function fragShort(pd: PfPdesc): number {
  pd.thoff = pd.fragoff;
  pd.proto = IPPROTO_FRAGMENT;
  return PF_PASS;
}
