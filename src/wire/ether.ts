/**
 * Ethernet II frames and their 802.1Q / 802.1ad (QinQ) tags.
 *
 * Frames here carry no FCS, as a NIC hands them to ether_input.  A frame's
 * payload may end in padding (a 42-byte ARP packet travels in a 60-byte
 * frame): Ethernet cannot tell, so `payloadLength` includes it and the
 * upper layer trims by its own length field (ARP's fixed size, IP's total
 * length).
 */

import { EMPTY, get16, put16 } from './bytes.js';
import { WireCode, WireError } from './error.js';

export const ETHER_ADDR_LEN = 6;
export const ETHER_TYPE_LEN = 2;
export const ETHER_CRC_LEN = 4;
export const ETHER_HDR_LEN = 14;
/** Smallest frame on the wire, FCS included. */
export const ETHER_MIN_LEN = 64;
/** Largest untagged frame on the wire, FCS included. */
export const ETHER_MAX_LEN = 1518;
/** What a sender pads a frame to before the NIC appends the FCS. */
export const ETHER_MIN_FRAME = ETHER_MIN_LEN - ETHER_CRC_LEN;
export const ETHERMTU = ETHER_MAX_LEN - ETHER_HDR_LEN - ETHER_CRC_LEN;
/** Bytes one 802.1Q/802.1ad tag adds (TPID + TCI). */
export const EVL_ENCAPLEN = 4;

// Ethertypes, named as in OpenBSD's <net/ethertypes.h> and tcpdump's ethertype.h.
export const ETHERTYPE_PUP = 0x0200;
export const ETHERTYPE_SPRITE = 0x0500;
export const ETHERTYPE_NS = 0x0600;
export const ETHERTYPE_IP = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_TRAIL = 0x1000;
export const ETHERTYPE_MOPDL = 0x6001;
export const ETHERTYPE_MOPRC = 0x6002;
export const ETHERTYPE_DN = 0x6003;
export const ETHERTYPE_LAT = 0x6004;
export const ETHERTYPE_SCA = 0x6007;
export const ETHERTYPE_REVARP = 0x8035;
export const ETHERTYPE_LANBRIDGE = 0x8038;
export const ETHERTYPE_DECDNS = 0x803c;
export const ETHERTYPE_DECDTS = 0x803e;
export const ETHERTYPE_VEXP = 0x805b;
export const ETHERTYPE_VPROD = 0x805c;
export const ETHERTYPE_ATALK = 0x809b;
export const ETHERTYPE_AARP = 0x80f3;
/** 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_8021Q = ETHERTYPE_VLAN;
export const ETHERTYPE_IPX = 0x8137;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_SLOW = 0x8809;
export const ETHERTYPE_PPP = 0x880b;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MCAST = 0x8848;
export const ETHERTYPE_MPLS_MULTI = ETHERTYPE_MPLS_MCAST;
export const ETHERTYPE_PPPOEDISC = 0x8863;
export const ETHERTYPE_PPPOED = ETHERTYPE_PPPOEDISC;
export const ETHERTYPE_PPPOE = 0x8864;
export const ETHERTYPE_PPPOES = ETHERTYPE_PPPOE;
export const ETHERTYPE_JUMBO = 0x8870;
export const ETHERTYPE_EAPOL = 0x888e;
export const ETHERTYPE_PAE = ETHERTYPE_EAPOL;
/** 802.1ad service VLAN tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_LLDP = 0x88cc;
export const ETHERTYPE_MACSEC = 0x88e5;
export const ETHERTYPE_PBB = 0x88e7;
export const ETHERTYPE_NSH = 0x894f;
export const ETHERTYPE_LOOPBACK = 0x9000;
/** Extreme's VMAN; tcpdump decodes it as a VLAN tag, OpenBSD's stack does not. */
export const ETHERTYPE_VMAN = 0x9100;
export const ETHERTYPE_ISO = 0xfefe;
/** Type/length values below this are 802.3 lengths, not ethertypes. */
export const ETHERTYPE_MIN = 0x0600;

// Tag control information: 3 bits priority (PCP), 1 bit DEI (was CFI), 12 bits VLAN id.
export const EVL_VLID_MASK = 0x0fff;
export const EVL_PRIO_BITS = 13;
export const EVL_PRIO_MAX = 7;
export const EVL_CFI_BIT = 0x1000;
export const EVL_VLID_NULL = 0x000;
export const EVL_VLID_MAX = 0xffe;

export function evlVlanOfTag(tci: number): number {
  return tci & EVL_VLID_MASK;
}

export function evlPrioOfTag(tci: number): number {
  return (tci >>> EVL_PRIO_BITS) & 7;
}

export function evlDeiOfTag(tci: number): boolean {
  return (tci & EVL_CFI_BIT) !== 0;
}

export function evlMakeTci(vid: number, prio: number, dei = false): number {
  return ((prio & 7) << EVL_PRIO_BITS) | (dei ? EVL_CFI_BIT : 0) | (vid & EVL_VLID_MASK);
}

/** The TPIDs ether_input and vlan_input treat as tags. */
export function isVlanTpid(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ;
}

/** ETHER_IS_MULTICAST: the group bit of the first octet (broadcast included). */
export function etherIsMulticast(b: Uint8Array, o: number): boolean {
  return (b[o] & 1) !== 0;
}

export function etherIsBroadcast(b: Uint8Array, o: number): boolean {
  return (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5]) === 0xff;
}

export function etherIsZero(b: Uint8Array, o: number): boolean {
  return (b[o] | b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5]) === 0;
}

/** Whether two 6-byte addresses are equal (unrolled: V8 runs short byte loops slowly). */
export function etherAddrEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  return a[ao] === b[bo] && a[ao + 1] === b[bo + 1] && a[ao + 2] === b[bo + 2] &&
    a[ao + 3] === b[bo + 3] && a[ao + 4] === b[bo + 4] && a[ao + 5] === b[bo + 5];
}

/** Copy a 6-byte address; no allocation.  Unrolled: about three times faster than the loop. */
export function etherAddrCopy(dst: Uint8Array, doff: number, src: Uint8Array, soff = 0): void {
  dst[doff] = src[soff]!;
  dst[doff + 1] = src[soff + 1]!;
  dst[doff + 2] = src[soff + 2]!;
  dst[doff + 3] = src[soff + 3]!;
  dst[doff + 4] = src[soff + 4]!;
  dst[doff + 5] = src[soff + 5]!;
}

/** ff:ff:ff:ff:ff:ff; do not write to it. */
export const etherbroadcastaddr = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** A reusable view of an Ethernet II header at `off`. */
export class EthernetFrame {
  constructor(
    public buf: Uint8Array = EMPTY,
    public off = 0,
    public len = buf.length - off,
  ) {}

  wrap(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** Ok when the 14-byte header fits. */
  check(): WireCode {
    return this.len < ETHER_HDR_LEN ? WireCode.Truncated : WireCode.Ok;
  }

  get dstOffset(): number {
    return this.off;
  }
  get srcOffset(): number {
    return this.off + ETHER_ADDR_LEN;
  }
  /** The outer type field: an ethertype, or a TPID when the frame is tagged. */
  get etherType(): number {
    return get16(this.buf, this.off + 12);
  }
  set etherType(v: number) {
    put16(this.buf, this.off + 12, v);
  }

  setDst(mac: Uint8Array, moff = 0): void {
    etherAddrCopy(this.buf, this.off, mac, moff);
  }
  setSrc(mac: Uint8Array, moff = 0): void {
    etherAddrCopy(this.buf, this.off + 6, mac, moff);
  }
  copyDst(to: Uint8Array, toff = 0): void {
    etherAddrCopy(to, toff, this.buf, this.off);
  }
  copySrc(to: Uint8Array, toff = 0): void {
    etherAddrCopy(to, toff, this.buf, this.off + 6);
  }

  get isMulticast(): boolean {
    return etherIsMulticast(this.buf, this.off);
  }
  get isBroadcast(): boolean {
    return etherIsBroadcast(this.buf, this.off);
  }
  get isTagged(): boolean {
    return isVlanTpid(this.etherType);
  }

  /** TCI of the outermost tag; meaningful only when `isTagged` and len >= 18. */
  get tci(): number {
    return get16(this.buf, this.off + 14);
  }
  set tci(v: number) {
    put16(this.buf, this.off + 14, v);
  }

  get headerLength(): number {
    return ETHER_HDR_LEN;
  }
  /** Payload after the untagged header (the first tag, if any, is part of it). */
  get payloadOffset(): number {
    return this.off + ETHER_HDR_LEN;
  }
  /** Includes any trailing padding; see the module comment. */
  get payloadLength(): number {
    return this.len - ETHER_HDR_LEN;
  }
}

/**
 * Walks the tag stack of a frame without allocating.  `next()` yields each
 * tag (its TPID, TCI and the offset of its TPID field); once it returns
 * false, `type` holds the inner ethertype, `payloadOffset` where that
 * payload starts, `count` the number of tags and `code` is Ok, or
 * Truncated when the frame ends inside a header or tag.
 */
export class EtherTagIterator {
  buf: Uint8Array = EMPTY;
  end = 0;
  /** Current tag. */
  tpid = 0;
  tci = 0;
  offset = 0;
  /** Results, valid once next() returned false. */
  type = 0;
  payloadOffset = 0;
  count = 0;
  code: WireCode = WireCode.Ok;
  private pos = 0;
  private done = true;

  /** Start at the frame whose destination address is at `off`. */
  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.end = off + len;
    this.tpid = this.tci = this.offset = this.count = 0;
    this.done = false;
    if (len < ETHER_HDR_LEN) {
      this.finish(WireCode.Truncated, 0, off + len);
    } else {
      this.pos = off + 12;
    }
    return this;
  }

  next(): boolean {
    if (this.done) return false;
    const t = get16(this.buf, this.pos);
    if (!isVlanTpid(t)) {
      this.finish(WireCode.Ok, t, this.pos + 2);
      return false;
    }
    // A tag is 4 bytes and the type after it 2 more.
    if (this.pos + 2 + EVL_ENCAPLEN > this.end) {
      this.finish(WireCode.Truncated, t, this.end);
      return false;
    }
    this.tpid = t;
    this.offset = this.pos;
    this.tci = get16(this.buf, this.pos + 2);
    this.count++;
    this.pos += EVL_ENCAPLEN;
    return true;
  }

  /** Consume the remaining tags; returns `code`. */
  skip(): WireCode {
    while (this.next());
    return this.code;
  }

  private finish(code: WireCode, type: number, payloadOffset: number): void {
    this.done = true;
    this.code = code;
    this.type = type;
    this.payloadOffset = payloadOffset;
  }
}

/** One tag as plain data.  `tpid` is ETHERTYPE_VLAN or ETHERTYPE_QINQ. */
export interface EtherTagRepr {
  tpid: number;
  prio: number;
  dei: boolean;
  vid: number;
}

/** An Ethernet header with its tags, outermost first, and the inner ethertype. */
export interface EthernetRepr {
  dst: Uint8Array;
  src: Uint8Array;
  tags: EtherTagRepr[];
  etherType: number;
}

/** Header length including tags. */
export function ethernetReprLength(repr: EthernetRepr): number {
  return ETHER_HDR_LEN + EVL_ENCAPLEN * repr.tags.length;
}

/** Parse the header and tag stack; the payload starts at off + ethernetReprLength(). */
export function parseEthernet(buf: Uint8Array, off: number, len: number): EthernetRepr | WireError {
  if (len < ETHER_HDR_LEN) return new WireError('ether', 'truncated', `${len} bytes, header needs ${ETHER_HDR_LEN}`);
  const it = new EtherTagIterator().reset(buf, off, len);
  const tags: EtherTagRepr[] = [];
  while (it.next()) {
    tags.push({ tpid: it.tpid, prio: evlPrioOfTag(it.tci), dei: evlDeiOfTag(it.tci), vid: evlVlanOfTag(it.tci) });
  }
  if (it.code !== WireCode.Ok) {
    return new WireError('ether', 'truncated', `frame of ${len} bytes ends inside tag ${tags.length + 1}`);
  }
  return { dst: buf.slice(off, off + 6), src: buf.slice(off + 6, off + 12), tags, etherType: it.type };
}

/** Write the header and tags at `off`; returns the bytes written. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, off: number): number {
  etherAddrCopy(buf, off, repr.dst);
  etherAddrCopy(buf, off + 6, repr.src);
  let p = off + 12;
  for (const t of repr.tags) {
    put16(buf, p, t.tpid);
    put16(buf, p + 2, evlMakeTci(t.vid, t.prio, t.dei));
    p += EVL_ENCAPLEN;
  }
  put16(buf, p, repr.etherType);
  return p + 2 - off;
}

/**
 * Zero-fill a frame of `len` bytes at `off` up to `min` (ETHER_MIN_FRAME
 * unless told), as a NIC pads short frames; returns the new length.  The
 * buffer must have room.
 */
export function etherPad(buf: Uint8Array, off: number, len: number, min = ETHER_MIN_FRAME): number {
  if (len >= min) return len;
  buf.fill(0, off + len, off + min);
  return min;
}

/**
 * Insert a tag after the addresses of the frame at `off`, moving the
 * addresses 4 bytes towards the front (vlan_transmit's encapsulation).
 * Needs 4 bytes of headroom; returns the frame's new offset.
 */
export function etherInsertTag(buf: Uint8Array, off: number, tpid: number, tci: number): number {
  const n = off - EVL_ENCAPLEN;
  buf.copyWithin(n, off, off + 12);
  put16(buf, n + 12, tpid);
  put16(buf, n + 14, tci);
  return n;
}

/**
 * Remove the outermost tag of the frame at `off` (vlan_input's
 * decapsulation): the addresses move 4 bytes back over it.  Returns the
 * frame's new offset; its length shrinks by EVL_ENCAPLEN.
 */
export function etherRemoveTag(buf: Uint8Array, off: number): number {
  buf.copyWithin(off + EVL_ENCAPLEN, off, off + 12);
  return off + EVL_ENCAPLEN;
}
