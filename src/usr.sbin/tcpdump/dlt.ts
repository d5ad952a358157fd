/**
 * Link types.  Two numbering spaces exist: the DLT_* values a kernel hands to
 * bpf listeners (OpenBSD's own, from sys/net/bpf.h) and the LINKTYPE_* values
 * written in capture files (the tcpdump.org registry).  They agree for most
 * types, but a few DLT values differ between systems, so files carry the
 * LINKTYPE value and readers translate; this module does both directions.
 */

import { get32, get32le } from '../../wire/bytes.js';

// OpenBSD's DLT_* values (sys/net/bpf.h).
export const DLT_NULL = 0; // BSD loopback: 4-byte AF header, host byte order
export const DLT_EN10MB = 1;
export const DLT_LOOP = 12; // OpenBSD loopback: 4-byte AF header, network byte order
export const DLT_ENC = 13; // IPsec enc(4): struct enchdr (af, spi, flags)
export const DLT_RAW = 14; // raw IP, version in the first nibble
export const DLT_PFSYNC = 18;
export const DLT_PFLOG = 117; // pflog(4): struct pfloghdr

// LINKTYPE_* values of capture files (tcpdump.org registry).
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_ENC = 109;
export const LINKTYPE_PFLOG = 117;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_PFSYNC = 246;

/** Length of the 4-byte address family header of DLT_NULL and DLT_LOOP. */
export const NULL_HDRLEN = 4;

/**
 * File LINKTYPE to OpenBSD DLT, as libpcap's savefile.c does (OpenBSD maps
 * the values that differ and passes the rest through).  LINKTYPE_IPV4/IPV6
 * become DLT_RAW: it reads the version nibble, so they decode the same.
 */
export function linktypeToDlt(linktype: number): number {
  switch (linktype) {
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return DLT_RAW;
    case LINKTYPE_LOOP:
      return DLT_LOOP;
    case LINKTYPE_ENC:
      return DLT_ENC;
    case LINKTYPE_PFSYNC:
      return DLT_PFSYNC;
    default:
      return linktype;
  }
}

/**
 * OpenBSD DLT to the LINKTYPE a file should carry.  OpenBSD's own tcpdump -w
 * writes the DLT unchanged (12 for lo0), which other systems misread; we
 * write the registry value so tcpdump, tshark and Wireshark agree.
 */
export function dltToLinktype(dlt: number): number {
  switch (dlt) {
    case DLT_RAW:
      return LINKTYPE_RAW;
    case DLT_LOOP:
      return LINKTYPE_LOOP;
    case DLT_ENC:
      return LINKTYPE_ENC;
    case DLT_PFSYNC:
      return LINKTYPE_PFSYNC;
    default:
      return dlt;
  }
}

// Names and descriptions as in OpenBSD's libpcap (pcap.c, DLT_CHOICE table).
const DLT_NAMES: ReadonlyMap<number, readonly [string, string]> = new Map([
  [DLT_NULL, ['NULL', 'no link-layer encapsulation']],
  [DLT_EN10MB, ['EN10MB', 'Ethernet (10Mb)']],
  [DLT_LOOP, ['LOOP', 'loopback type (af header)']],
  [DLT_ENC, ['ENC', 'IPSEC enc type (af header, spi, flags)']],
  [DLT_RAW, ['RAW', 'raw IP']],
  [DLT_PFSYNC, ['PFSYNC', 'Packet filter state syncing']],
  [DLT_PFLOG, ['PFLOG', 'Packet filter logging, by pcap people']],
]);

/** pcap_datalink_val_to_name(): "EN10MB", or undefined when unknown. */
export function dltName(dlt: number): string | undefined {
  return DLT_NAMES.get(dlt)?.[0];
}

/** pcap_datalink_val_to_description(): "Ethernet (10Mb)", or undefined. */
export function dltDescription(dlt: number): string | undefined {
  return DLT_NAMES.get(dlt)?.[1];
}

/** pcap_datalink_name_to_val(): "en10mb" -> 1 (case-insensitive, no DLT_ prefix), -1 when unknown. */
export function dltFromName(name: string): number {
  const want = name.toUpperCase();
  for (const [dlt, [n]] of DLT_NAMES) if (n === want) return dlt;
  return -1;
}

/**
 * The link type as OpenBSD tcpdump prints it after "link-type " (its
 * pcap_print_linktype(): the bare name, e.g. "EN10MB", or "<unknown: N>").
 * OpenBSD prints this only for live captures ("tcpdump: listening on em0,
 * link-type EN10MB"); reading a file prints no banner, unlike libpcap-based
 * tcpdump elsewhere ("reading from file f, link-type EN10MB (Ethernet)").
 */
export function linktypeString(dlt: number): string {
  return dltName(dlt) ?? `<unknown: ${dlt}>`;
}

/**
 * Address family from the 4-byte header of DLT_NULL (host order of the
 * writer, so either order: a value with high bits set is byte-swapped, as
 * tcpdump's null printer does) or DLT_LOOP (network order).  -1 if `len` < 4.
 */
export function loopbackFamily(dlt: number, buf: Uint8Array, off: number, len: number): number {
  if (len < NULL_HDRLEN) return -1;
  if (dlt === DLT_LOOP) return get32(buf, off);
  const v = get32le(buf, off);
  return (v & 0xffff0000) !== 0 ? get32(buf, off) : v;
}
