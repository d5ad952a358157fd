/**
 * pf scenario helpers: the three-host lab of test/sys/netinet with pfctl
 * bound to the router's kernel, hand-built TCP/UDP datagrams, and captures.
 */
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import type { Ifnet } from '../../../src/sys/net/if.js';
import { StringOutput } from '../../../src/lib/io.js';
import { pfctlKernel } from '../../../src/sbin/pfctl/pfctl.js';
import { put16, put32 } from '../../../src/wire/bytes.js';
import { pseudoSum4, sum16 } from '../../../src/wire/checksum.js';
import { ip_output } from '../../../src/sys/netinet/ip_output.js';
import { bpf_listen } from '../../../src/sys/net/bpf.js';

export function pfctl(k: Kernel, argv: string[], conf?: string): { status: number; out: string; err: string } {
  const stdout = new StringOutput();
  const stderr = new StringOutput();
  const status = pfctlKernel(k, argv, { stdout, stderr }, { readFile: (n) => (n === 'pf.conf' ? (conf ?? null) : null) });
  return { status, out: stdout.text(), err: stderr.text() };
}

/** Load a pf.conf and enable pf. */
export function loadPf(k: Kernel, conf: string): void {
  const r = pfctl(k, ['-f', 'pf.conf'], conf);
  if (r.status !== 0) throw new Error(`pfctl -f: ${r.err}`);
  pfctl(k, ['-e']);
}

/** A TCP segment (IP + 20-byte TCP header + data), checksums filled. */
export function tcpBytes(src: number, dst: number, sport: number, dport: number, flags: number, seq: number, ack = 0, data = 0, win = 16384): Uint8Array {
  const b = new Uint8Array(40 + data);
  b[0] = 0x45;
  put16(b, 2, b.length);
  put16(b, 4, 0x1234);
  b[8] = 64;
  b[9] = 6;
  put32(b, 12, src >>> 0);
  put32(b, 16, dst >>> 0);
  put16(b, 10, ~sum16(b, 0, 20) & 0xffff);
  put16(b, 20, sport);
  put16(b, 22, dport);
  put32(b, 24, seq >>> 0);
  put32(b, 28, ack >>> 0);
  b[32] = 5 << 4;
  b[33] = flags;
  put16(b, 34, win);
  put16(b, 36, ~sum16(b, 20, 20 + data, pseudoSum4(src >>> 0, dst >>> 0, 6, 20 + data)) & 0xffff);
  return b;
}

/** A UDP datagram with `data` bytes of payload. */
export function udpBytes(src: number, dst: number, sport: number, dport: number, data = 4): Uint8Array {
  const b = new Uint8Array(28 + data);
  b[0] = 0x45;
  put16(b, 2, b.length);
  put16(b, 4, 0x4321);
  b[8] = 64;
  b[9] = 17;
  put32(b, 12, src >>> 0);
  put32(b, 16, dst >>> 0);
  put16(b, 10, ~sum16(b, 0, 20) & 0xffff);
  put16(b, 20, sport);
  put16(b, 22, dport);
  put16(b, 24, 8 + data);
  for (let i = 0; i < data; i++) b[28 + i] = i;
  put16(b, 26, ~sum16(b, 20, 8 + data, pseudoSum4(src >>> 0, dst >>> 0, 17, 8 + data)) & 0xffff);
  return b;
}

/** Send raw IP bytes from k (already addressed) through ip_output. */
export function sendRaw(k: Kernel, bytes: Uint8Array): number {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  return ip_output(k, m, 0x2 /* IP_RAWOUTPUT */, null);
}

/** Frames seen on an interface's bpf tap (copies of the bytes). */
export function capture(ifp: Ifnet): Uint8Array[] {
  const got: Uint8Array[] = [];
  bpf_listen(ifp, (buf, off, caplen) => got.push(buf.slice(off, off + caplen)));
  return got;
}

/** IPv4 datagrams (Ethernet stripped) among captured frames, filtered by protocol. */
export function ipOf(frames: Uint8Array[], proto: number): Uint8Array[] {
  return frames.filter((f) => f.length > 34 && f[12] === 8 && f[13] === 0 && f[23] === proto).map((f) => f.subarray(14));
}
