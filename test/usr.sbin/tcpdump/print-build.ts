/**
 * Hand-built frames for the printer tests: headers written from the RFCs
 * with their checksums filled, documentation addresses only.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers/root.js';
import { hex, put16, put32 } from '../../../src/wire/bytes.js';
import { checksum, pseudoSum4, pseudoSum6 } from '../../../src/wire/checksum.js';
import { parseIp4, parseIp6, parseMac } from '../../../src/wire/addr.js';
import { OutBuf, StringSink } from '../../../src/usr.sbin/tcpdump/outbuf.js';
import { PrintState, printPacket, type PrintOptions } from '../../../src/usr.sbin/tcpdump/print.js';

export { hex };

export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const MAC_A = '02:00:00:00:00:01';
export const MAC_B = '02:00:00:00:00:02';

export function eth(type: number, payload: Uint8Array, src = MAC_A, dst = MAC_B): Uint8Array {
  const h = new Uint8Array(14);
  h.set(parseMac(dst)!, 0);
  h.set(parseMac(src)!, 6);
  put16(h, 12, type);
  return cat(h, payload);
}

export interface Ip4Opts {
  id?: number;
  ttl?: number;
  tos?: number;
  off?: number;
  options?: Uint8Array;
  len?: number;
}

export function ip4(proto: number, src: string, dst: string, payload: Uint8Array, o: Ip4Opts = {}): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const hl = 20 + opt.length;
  const h = new Uint8Array(hl);
  h[0] = 0x40 | (hl >> 2);
  h[1] = o.tos ?? 0;
  put16(h, 2, o.len ?? hl + payload.length);
  put16(h, 4, o.id ?? 1);
  put16(h, 6, o.off ?? 0);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  put32(h, 12, parseIp4(src));
  put32(h, 16, parseIp4(dst));
  h.set(opt, 20);
  put16(h, 10, checksum(h, 0, hl));
  return cat(h, payload);
}

export function ip6(nxt: number, src: string, dst: string, payload: Uint8Array, hlim = 64, flow = 0): Uint8Array {
  const h = new Uint8Array(40);
  put32(h, 0, (0x60000000 | flow) >>> 0);
  put16(h, 4, payload.length);
  h[6] = nxt;
  h[7] = hlim;
  h.set(parseIp6(src)!, 8);
  h.set(parseIp6(dst)!, 24);
  return cat(h, payload);
}

/** Fill the transport checksum of a complete IPv4 or IPv6 packet (at `csumAt` inside the transport header). */
export function fillTransport(pkt: Uint8Array, csumAt: number): Uint8Array {
  const v6 = pkt[0]! >> 4 === 6;
  const hl = v6 ? 40 : (pkt[0]! & 15) * 4;
  const proto = v6 ? pkt[6]! : pkt[9]!;
  const len = pkt.length - hl;
  put16(pkt, hl + csumAt, 0);
  const ph = v6
    ? pseudoSum6(pkt, 8, 24, proto, len)
    : pseudoSum4(((pkt[12]! << 24) | (pkt[13]! << 16) | (pkt[14]! << 8) | pkt[15]!) >>> 0, ((pkt[16]! << 24) | (pkt[17]! << 16) | (pkt[18]! << 8) | pkt[19]!) >>> 0, proto, len);
  put16(pkt, hl + csumAt, checksum(pkt, hl, len, proto === 1 ? 0 : ph));
  return pkt;
}

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, win: number, options: Uint8Array = new Uint8Array(0), data: Uint8Array = new Uint8Array(0), urp = 0): Uint8Array {
  const hl = 20 + options.length;
  const h = new Uint8Array(hl);
  put16(h, 0, sport);
  put16(h, 2, dport);
  put32(h, 4, seq);
  put32(h, 8, ack);
  h[12] = (hl >> 2) << 4;
  h[13] = flags;
  put16(h, 14, win);
  put16(h, 18, urp);
  h.set(options, 20);
  return cat(h, data);
}

export function udp(sport: number, dport: number, data: Uint8Array): Uint8Array {
  const h = new Uint8Array(8);
  put16(h, 0, sport);
  put16(h, 2, dport);
  put16(h, 4, 8 + data.length);
  return cat(h, data);
}

export function icmp(type: number, code: number, rest: Uint8Array): Uint8Array {
  const m = cat(new Uint8Array([type, code, 0, 0]), rest);
  put16(m, 2, checksum(m, 0, m.length));
  return m;
}

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PUSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;

/** Print packets (linktype, bytes[, caplen]) with fixed timestamps 1.000000, 1.000001, ... and return the text. */
export function show(opts: PrintOptions, linktype: number, ...pkts: (Uint8Array | [Uint8Array, number])[]): string {
  const sink = new StringSink();
  const out = new OutBuf(sink.sink);
  const st = new PrintState({ thiszone: 0, tflag: 0, ...opts });
  let i = 0;
  for (const p of pkts) {
    const [b, cap] = p instanceof Uint8Array ? [p, p.length] : p;
    printPacket(out, st, linktype, 1, 1000 * i++, b, 0, cap, b.length);
  }
  out.flush();
  return sink.text();
}

export interface Rec {
  sec: number;
  nsec: number;
  off: number;
  caplen: number;
  len: number;
}

/** A minimal pcap walk for the fixtures (the reader proper is tested elsewhere). */
export function readPcap(file: Uint8Array): { linktype: number; recs: Rec[] } {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = dv.getUint32(0, true);
  const nsec = magic === 0xa1b23c4d;
  const linktype = dv.getUint32(20, true);
  const recs: Rec[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const sec = dv.getUint32(o, true);
    const frac = dv.getUint32(o + 4, true);
    const caplen = dv.getUint32(o + 8, true);
    const len = dv.getUint32(o + 12, true);
    recs.push({ sec, nsec: nsec ? frac : frac * 1000, off: o + 16, caplen, len });
    o += 16 + caplen;
  }
  return { linktype, recs };
}

export function fixture(name: string): Uint8Array {
  return readFileSync(join(ROOT, 'test/fixtures/captures', name));
}

export function printFile(name: string, opts: PrintOptions): string[] {
  const file = fixture(name);
  const { linktype, recs } = readPcap(file);
  const sink = new StringSink();
  const out = new OutBuf(sink.sink);
  const st = new PrintState({ thiszone: 0, ...opts });
  for (const r of recs) printPacket(out, st, linktype, r.sec, r.nsec, file, r.off, r.caplen, r.len);
  out.flush();
  return sink.text().split('\n').slice(0, -1);
}
