/**
 * ARP and RARP (RFC 826, RFC 903).  The header is generic (hardware and
 * protocol address lengths are fields); this stack, like OpenBSD's
 * in_arpinput, only decodes Ethernet hardware addresses with IPv4 protocol
 * addresses.  Other combinations are Unsupported: they are read safely,
 * never decoded as if they were Ethernet/IPv4.
 */

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { WireCode, WireError } from './error.js';
import { ETHERTYPE_IP, etherAddrCopy } from './ether.js';

/** The fixed part: hrd, pro, hln, pln, op. */
export const ARP_HDR_LEN = 8;
/** A whole Ethernet/IPv4 ARP packet (struct ether_arp). */
export const ARP_ETHER_IP_LEN = 28;

// Hardware types (ar_hrd).
export const ARPHRD_ETHER = 1;
export const ARPHRD_IEEE802 = 6;
export const ARPHRD_FRELAY = 15;
export const ARPHRD_IEEE1394 = 24;

// Operations (ar_op).
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
export const ARPOP_REVREQUEST = 3;
export const ARPOP_REVREPLY = 4;
export const ARPOP_INVREQUEST = 8;
export const ARPOP_INVREPLY = 9;

/** A reusable view of an ARP packet at `off`. */
export class ArpPacket {
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

  /**
   * Truncated when the fixed part or the addresses it declares do not fit;
   * Unsupported when well formed but not Ethernet (or IEEE 802) hardware
   * with 6-byte addresses and IPv4 with 4-byte addresses; else Ok.
   * Bytes after the addresses (Ethernet padding) are ignored.
   */
  check(): WireCode {
    if (this.len < ARP_HDR_LEN) return WireCode.Truncated;
    if (this.len < this.headerLength) return WireCode.Truncated;
    return this.isEtherIp ? WireCode.Ok : WireCode.Unsupported;
  }

  /** Whether the addresses are 6-byte Ethernet and 4-byte IPv4 ones. */
  get isEtherIp(): boolean {
    const h = this.htype;
    return (
      (h === ARPHRD_ETHER || h === ARPHRD_IEEE802) && this.ptype === ETHERTYPE_IP && this.hlen === 6 && this.plen === 4
    );
  }

  get htype(): number {
    return get16(this.buf, this.off);
  }
  set htype(v: number) {
    put16(this.buf, this.off, v);
  }
  get ptype(): number {
    return get16(this.buf, this.off + 2);
  }
  set ptype(v: number) {
    put16(this.buf, this.off + 2, v);
  }
  get hlen(): number {
    return this.buf[this.off + 4];
  }
  set hlen(v: number) {
    this.buf[this.off + 4] = v;
  }
  get plen(): number {
    return this.buf[this.off + 5];
  }
  set plen(v: number) {
    this.buf[this.off + 5] = v;
  }
  get op(): number {
    return get16(this.buf, this.off + 6);
  }
  set op(v: number) {
    put16(this.buf, this.off + 6, v);
  }

  // Address offsets follow the declared lengths, so they are right for any hardware.
  get shaOffset(): number {
    return this.off + ARP_HDR_LEN;
  }
  get spaOffset(): number {
    return this.off + ARP_HDR_LEN + this.hlen;
  }
  get thaOffset(): number {
    return this.off + ARP_HDR_LEN + this.hlen + this.plen;
  }
  get tpaOffset(): number {
    return this.off + ARP_HDR_LEN + 2 * this.hlen + this.plen;
  }

  /** Sender IPv4 address; only meaningful when check() is Ok. */
  get spa(): number {
    return get32(this.buf, this.spaOffset);
  }
  set spa(v: number) {
    put32(this.buf, this.spaOffset, v);
  }
  /** Target IPv4 address; only meaningful when check() is Ok. */
  get tpa(): number {
    return get32(this.buf, this.tpaOffset);
  }
  set tpa(v: number) {
    put32(this.buf, this.tpaOffset, v);
  }

  setSha(mac: Uint8Array, moff = 0): void {
    etherAddrCopy(this.buf, this.shaOffset, mac, moff);
  }
  setTha(mac: Uint8Array, moff = 0): void {
    etherAddrCopy(this.buf, this.thaOffset, mac, moff);
  }
  copySha(to: Uint8Array, toff = 0): void {
    etherAddrCopy(to, toff, this.buf, this.shaOffset);
  }
  copyTha(to: Uint8Array, toff = 0): void {
    etherAddrCopy(to, toff, this.buf, this.thaOffset);
  }

  /** Fixed part plus the four addresses, as the length fields declare. */
  get headerLength(): number {
    return ARP_HDR_LEN + 2 * (this.hlen + this.plen);
  }
  /** ARP carries no payload; anything after the addresses is padding. */
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  get payloadLength(): number {
    return 0;
  }
}

/** An Ethernet/IPv4 ARP packet.  `htype` is ARPHRD_ETHER or ARPHRD_IEEE802. */
export interface ArpRepr {
  htype: number;
  op: number;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

export function arpReprLength(_repr?: ArpRepr): number {
  return ARP_ETHER_IP_LEN;
}

export function parseArp(buf: Uint8Array, off: number, len: number): ArpRepr | WireError {
  const p = new ArpPacket(buf, off, len);
  const code = p.check();
  if (code === WireCode.Truncated) {
    const need = len < ARP_HDR_LEN ? ARP_HDR_LEN : p.headerLength;
    return new WireError('arp', 'truncated', `${len} bytes, need ${need}`);
  }
  if (code === WireCode.Unsupported) {
    return new WireError(
      'arp',
      'unsupported',
      `hrd ${p.htype} pro 0x${p.ptype.toString(16).padStart(4, '0')} hln ${p.hlen} pln ${p.plen}`,
    );
  }
  return {
    htype: p.htype,
    op: p.op,
    sha: buf.slice(p.shaOffset, p.shaOffset + 6),
    spa: p.spa,
    tha: buf.slice(p.thaOffset, p.thaOffset + 6),
    tpa: p.tpa,
  };
}

/** Write the 28-byte packet at `off`; returns 28. */
export function emitArp(repr: ArpRepr, buf: Uint8Array, off: number): number {
  put16(buf, off, repr.htype);
  put16(buf, off + 2, ETHERTYPE_IP);
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  put16(buf, off + 6, repr.op);
  etherAddrCopy(buf, off + 8, repr.sha);
  put32(buf, off + 14, repr.spa);
  etherAddrCopy(buf, off + 18, repr.tha);
  put32(buf, off + 24, repr.tpa);
  return ARP_ETHER_IP_LEN;
}
