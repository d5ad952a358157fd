/**
 * Decodes a frame with packetflow's wire layer into the same named fields
 * that tshark's `-T fields` prints, so the two can be compared.  Only the
 * outermost instance of each protocol is decoded (tshark is asked for the
 * first occurrence), and decoding stops at the first header that fails its
 * check(), as a receiver would.
 */
import { EtherTagIterator, EthernetFrame, ETHERTYPE_ARP, ETHERTYPE_IP, ETHERTYPE_IPV6, ETHERTYPE_VLAN } from '../../src/wire/ether.js';
import { ArpPacket } from '../../src/wire/arp.js';
import { Ipv4Packet, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ESP } from '../../src/wire/ip4.js';
import { Ipv6ExtIterator, Ipv6Packet } from '../../src/wire/ip6.js';
import { TcpPacket, TcpOptionIter, TCPOPT_MAXSEG, TCPOPT_WINDOW } from '../../src/wire/tcp.js';
import { UdpPacket } from '../../src/wire/udp.js';
import { IcmpPacket, icmpErrorType } from '../../src/wire/icmp.js';
import { Icmpv6Packet, icmp6ErrorType } from '../../src/wire/icmp6.js';
import { EspPacket } from '../../src/wire/esp.js';
import { WireCode } from '../../src/wire/error.js';
import { formatIp4, formatIp6, formatMac } from '../../src/wire/addr.js';

/** tshark field names compared, in the order given to `-e`. */
export const FIELDS = [
  'eth.src', 'eth.dst', 'vlan.id',
  'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'arp.src.hw_mac',
  'ip.src', 'ip.dst', 'ip.ttl', 'ip.id', 'ip.len', 'ip.proto', 'ip.hdr_len', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset',
  'ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'ipv6.plen', 'ipv6.nxt',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.window_size_value', 'tcp.hdr_len', 'tcp.len',
  'tcp.urgent_pointer', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
  'udp.srcport', 'udp.dstport', 'udp.length',
  'icmp.type', 'icmp.code', 'icmpv6.type', 'icmpv6.code',
  'esp.spi', 'esp.sequence',
] as const;

/** Whether a datagram is quoted by an ICMP (4) or ICMPv6 (6) error, or not (0). */
type Quote = 0 | 4 | 6;

export type Fields = Partial<Record<(typeof FIELDS)[number], string>> & {
  /** The protocol whose header failed check(): a receiver drops the packet there. */
  rejected?: string;
};

const eth = new EthernetFrame();
const tags = new EtherTagIterator();
const arp = new ArpPacket();
const ip4 = new Ipv4Packet();
const ip6 = new Ipv6Packet();
const ext = new Ipv6ExtIterator();
const tcp = new TcpPacket();
const udp = new UdpPacket();
const icmp = new IcmpPacket();
const icmp6 = new Icmpv6Packet();
const esp = new EspPacket();
const opts = new TcpOptionIter();

export function decodeEthernet(buf: Uint8Array, off: number, len: number): Fields {
  const f: Fields = {};
  if (eth.wrap(buf, off, len).check() !== WireCode.Ok) return f;
  put(f, 'eth.src', formatMac(buf, eth.srcOffset));
  put(f, 'eth.dst', formatMac(buf, eth.dstOffset));
  tags.reset(buf, off, len);
  // tshark names 802.1Q tags vlan.id and 802.1ad (QinQ) tags otherwise.
  while (tags.next()) {
    if (tags.tpid === ETHERTYPE_VLAN) put(f, 'vlan.id', String(tags.tci & 0xfff));
  }
  if (tags.code !== WireCode.Ok) {
    reject(f, 'vlan');
    return f;
  }
  const p = tags.payloadOffset;
  const rest = off + len - p;
  if (tags.type === ETHERTYPE_ARP) {
    if (arp.wrap(buf, p, rest).check() === WireCode.Ok) {
      put(f, 'arp.opcode', String(arp.op));
      put(f, 'arp.src.proto_ipv4', formatIp4(arp.spa));
      put(f, 'arp.dst.proto_ipv4', formatIp4(arp.tpa));
      put(f, 'arp.src.hw_mac', formatMac(buf, arp.shaOffset));
    }
  } else if (tags.type === ETHERTYPE_IP) {
    decodeIp4(buf, p, rest, f);
  } else if (tags.type === ETHERTYPE_IPV6) {
    decodeIp6(buf, p, rest, f);
  }
  return f;
}

function decodeIp4(buf: Uint8Array, off: number, len: number, f: Fields, quoted: Quote = 0): void {
  if (ip4.wrap(buf, off, len).check() !== WireCode.Ok) return reject(f, 'ip4');
  put(f, 'ip.src', formatIp4(ip4.src));
  put(f, 'ip.dst', formatIp4(ip4.dst));
  put(f, 'ip.ttl', String(ip4.ttl));
  put(f, 'ip.id', hex(ip4.id, 4));
  put(f, 'ip.len', String(ip4.totalLength));
  put(f, 'ip.proto', String(ip4.protocol));
  put(f, 'ip.hdr_len', String(ip4.headerLength));
  put(f, 'ip.flags.df', ip4.df ? '1' : '0');
  put(f, 'ip.flags.mf', ip4.mf ? '1' : '0');
  put(f, 'ip.frag_offset', String(ip4.fragOffset));
  // Only first fragments carry the transport header.
  if (ip4.fragOffset !== 0) return;
  decodeTransport(buf, ip4.payloadOffset, Math.min(ip4.totalLength, ip4.len) - ip4.headerLength, ip4.protocol, f, quoted, ip4.mf);
}

function decodeIp6(buf: Uint8Array, off: number, len: number, f: Fields, quoted: Quote = 0): void {
  if (ip6.wrap(buf, off, len).check() !== WireCode.Ok) return reject(f, 'ip6');
  put(f, 'ipv6.src', formatIp6(buf, ip6.srcOffset));
  put(f, 'ipv6.dst', formatIp6(buf, ip6.dstOffset));
  put(f, 'ipv6.hlim', String(ip6.hopLimit));
  put(f, 'ipv6.plen', String(ip6.payloadLength));
  put(f, 'ipv6.nxt', String(ip6.nextHeader));
  ext.resetPacket(ip6);
  if (ext.skip() !== WireCode.Ok) return reject(f, 'ip6');
  if (ext.fragOffset > 0) return;
  const end = ip6.payloadOffset + ip6.payloadLength;
  decodeTransport(buf, ext.protoOffset, Math.min(end, ip6.off + ip6.len) - ext.protoOffset, ext.proto, f, quoted, ext.fragMore);
}

function decodeTransport(buf: Uint8Array, off: number, len: number, proto: number, f: Fields, quoted: Quote, firstFragment = false): void {
  if (proto === IPPROTO_TCP) {
    if (tcp.wrap(buf, off, len).check() !== WireCode.Ok) return reject(f, 'tcp');
    put(f, 'tcp.srcport', String(tcp.srcPort));
    put(f, 'tcp.dstport', String(tcp.dstPort));
    // tshark leaves the segment length out of quoted datagrams, and the raw sequence number out of ICMP's.
    if (quoted !== 4) put(f, 'tcp.seq_raw', String(tcp.seq));
    put(f, 'tcp.ack_raw', String(tcp.ack));
    put(f, 'tcp.flags', hex(tcp.flags | (tcp.reserved << 8), 4));
    put(f, 'tcp.window_size_value', String(tcp.window));
    put(f, 'tcp.hdr_len', String(tcp.headerLength));
    if (quoted === 0) put(f, 'tcp.len', String(len - tcp.headerLength));
    put(f, 'tcp.urgent_pointer', String(tcp.urgent));
    opts.reset(buf, tcp.optionsOffset, tcp.optionsLength);
    while (opts.next()) {
      if (opts.kind === TCPOPT_MAXSEG && opts.length === 4) put(f, 'tcp.options.mss_val', String((buf[opts.offset + 2] << 8) | buf[opts.offset + 3]));
      if (opts.kind === TCPOPT_WINDOW && opts.length === 3) put(f, 'tcp.options.wscale.shift', String(buf[opts.offset + 2]));
    }
  } else if (proto === IPPROTO_UDP) {
    // A first fragment holds the header of a datagram longer than itself.
    const code = udp.wrap(buf, off, len).check();
    if (code !== WireCode.Ok && !(firstFragment && len >= 8)) return reject(f, 'udp');
    put(f, 'udp.srcport', String(udp.srcPort));
    put(f, 'udp.dstport', String(udp.dstPort));
    put(f, 'udp.length', String(udp.length));
  } else if (proto === IPPROTO_ICMP) {
    if (icmp.wrap(buf, off, len).check() !== WireCode.Ok) return reject(f, 'icmp');
    put(f, 'icmp.type', String(icmp.type));
    put(f, 'icmp.code', String(icmp.code));
    // tshark goes on into the datagram an error quotes; so do we.
    if (icmpErrorType(icmp.type)) decodeIp4(buf, icmp.quoteOffset, off + len - icmp.quoteOffset, f, 4);
  } else if (proto === IPPROTO_ICMPV6) {
    if (icmp6.wrap(buf, off, len).check() !== WireCode.Ok) return reject(f, 'icmp6');
    put(f, 'icmpv6.type', String(icmp6.type));
    put(f, 'icmpv6.code', String(icmp6.code));
    if (icmp6ErrorType(icmp6.type)) decodeIp6(buf, icmp6.invokingOffset, off + len - icmp6.invokingOffset, f, 6);
  } else if (proto === IPPROTO_ESP) {
    if (esp.wrap(buf, off, len).check() !== WireCode.Ok) return reject(f, 'esp');
    put(f, 'esp.spi', hex(esp.spi, 8));
    put(f, 'esp.sequence', String(esp.seq));
  }
}

function reject(f: Fields, proto: string): void {
  f.rejected ??= proto;
}

/** Keep the first occurrence, as `tshark -E occurrence=f` does. */
function put(f: Fields, k: keyof Fields, v: string): void {
  if (f[k] === undefined) f[k] = v;
}

function hex(v: number, width: number): string {
  return '0x' + v.toString(16).padStart(width, '0');
}
