/**
 * TSO and LRO on em(4)/ix(4): what the stack hands the driver, what goes
 * on the wire (bytes and checksums of every frame), what the receiver
 * hands up, and the counters OpenBSD moves for each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { Cable, type CableOptions } from '../../../src/sys/dev/cable.js';
import { Em } from '../../../src/sys/dev/em.js';
import { Ix } from '../../../src/sys/dev/ix.js';
import type { EtherNic } from '../../../src/sys/dev/nic.js';
import { IFCAP_TSOv4, IFF_SIMPLEX, IFXF_LRO, if_addr_add, if_setflags_up, type Ifnet } from '../../../src/sys/net/if.js';
import { bpf_listen, BPF_DIRECTION_IN, BPF_DIRECTION_OUT } from '../../../src/sys/net/bpf.js';
import { sum16 } from '../../../src/wire/checksum.js';
import { M_BCAST, M_TCP_CSUM_OUT, M_TCP_TSO, MbufList, type Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';
import { in_ifcap_cksum, tcp_softtso_chop } from '../../../src/sys/netinet/tcp_tso.js';
import { EINVAL, ENOPROTOOPT, EPROTOTYPE } from '../../../src/sys/sys/errno.js';
import { listener, connect, accept, payload, pump, drain, sha, ip } from '../netinet/tcp_lab.js';

let mac = 0x40;

function host(world: World, name: string, addr: string, nic: 'em' | 'ix'): { k: Kernel; ifp: Ifnet } {
  const k = new Kernel(world, { hostname: name });
  const lladdr = `02:00:00:00:01:${(mac++).toString(16).padStart(2, '0')}`;
  const n: EtherNic = nic === 'em' ? new Em(k, { lladdr }) : new Ix(k, { lladdr });
  if_setflags_up(n.ifp, true);
  if_addr_add(n.ifp, ip(addr), 0xffffff00);
  return { k, ifp: n.ifp };
}

interface Frame {
  bytes: Uint8Array;
}

function pair(nic: 'em' | 'ix', opts: CableOptions = {}, nicB: 'em' | 'ix' = nic): { world: World; a: { k: Kernel; ifp: Ifnet }; b: { k: Kernel; ifp: Ifnet } } {
  const world = new World({ seed: 5 });
  const a = host(world, 'a', '192.0.2.1', nic);
  const b = host(world, 'b', '192.0.2.2', nicB);
  new Cable(world, { delay: 10_000, ...opts }).connect(a.ifp.if_softc as EtherNic, b.ifp.if_softc as EtherNic);
  world.runFor(1e6);
  return { world, a, b };
}

/** Capture the IPv4/TCP packets a tap sees in one direction. */
function capture(ifp: Ifnet, dir: number): Frame[] {
  const out: Frame[] = [];
  bpf_listen(ifp, (buf, off, caplen, _wirelen, _ts, d) => {
    if (d !== dir || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00 || buf[off + 23] !== 6) return;
    out.push({ bytes: buf.slice(off, off + caplen) });
  });
  return out;
}

function tcpPayloadLen(f: Uint8Array): number {
  const iplen = (f[16]! << 8) | f[17]!;
  return iplen - 20 - ((f[46]! >> 4) << 2);
}

/** The IP header and TCP checksums of a frame verify. */
function checksumsOk(f: Uint8Array): boolean {
  const iplen = (f[16]! << 8) | f[17]!;
  if (sum16(f, 14, 20) !== 0xffff) return false;
  const ph = ((f[26]! << 8) | f[27]!) + ((f[28]! << 8) | f[29]!) + ((f[30]! << 8) | f[31]!) + ((f[32]! << 8) | f[33]!) + 6 + iplen - 20;
  return sum16(f, 34, iplen - 20, ph) === 0xffff;
}

function seqOf(f: Uint8Array): number {
  return ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0;
}

/** Move `data` from a to b; returns what b read. */
function transfer(world: World, a: Kernel, b: Kernel, data: Uint8Array): Uint8Array {
  const l = listener(b, 7000);
  const c = connect(a, ip('192.0.2.2'), 7000);
  world.runFor(1e9);
  const s = accept(l)!;
  assert.ok(s !== null);
  const d = drain(s);
  pump(c, data);
  world.runFor(60e9);
  assert.ok(d.eof(), 'the transfer ends');
  return d.bytes();
}

test('em TSO: large segments to the driver, MSS-sized frames with right bytes and checksums on the wire', () => {
  const { world, a, b } = pair('em');
  assert.ok(a.ifp.if_capabilities & IFCAP_TSOv4);
  const out = capture(a.ifp, BPF_DIRECTION_OUT);
  const wire = capture(b.ifp, BPF_DIRECTION_IN);
  const data = payload(300_000);
  const got = transfer(world, a.k, b.k, data);
  assert.equal(sha(got), sha(data));

  const st = a.k.stats.tcpstat;
  const hwtso = st.value('tcps_outhwtso');
  assert.ok(hwtso > 0, 'some segments went to the driver whole');
  assert.equal(st.value('tcps_outswtso'), 0);
  assert.equal(st.value('tcps_outbadtso'), 0);
  // The tap in the start routine sees the large packets, as on OpenBSD.
  const big = out.filter((f) => f.bytes.length > 1514);
  assert.equal(big.length, hwtso);
  // On the wire: no frame over the MTU, every checksum right.
  const data_frames = wire.filter((f) => tcpPayloadLen(f.bytes) > 0);
  assert.ok(data_frames.every((f) => f.bytes.length <= 1514), 'frames fit the MTU');
  assert.ok(wire.every((f) => checksumsOk(f.bytes)), 'IP and TCP checksums verify');
  // The frames cut from the large packets: one per MSS, counted by the driver.
  const cut = big.reduce((n, f) => n + Math.ceil(tcpPayloadLen(f.bytes) / 1448), 0);
  assert.equal(st.value('tcps_outpkttso'), cut);
  // A TSO segment counts once as a data packet.
  assert.equal(st.value('tcps_sndpack'), out.filter((f) => tcpPayloadLen(f.bytes) > 0).length);
  assert.ok(st.value('tcps_sndpack') < data_frames.length);
  // The payload in wire order is the data (no loss on this cable), sequence numbers contiguous.
  const isn = seqOf(data_frames[0]!.bytes);
  let next = isn;
  const joined = new Uint8Array(data.length);
  for (const f of data_frames) {
    assert.equal(seqOf(f.bytes), next);
    const n = tcpPayloadLen(f.bytes);
    joined.set(f.bytes.subarray(f.bytes.length - n), (next - isn) >>> 0);
    next = (next + n) >>> 0;
  }
  assert.equal(sha(joined), sha(data));
  // Within one large packet: IP ids count up, PUSH only on the last frame.
  const first = big[0]!.bytes;
  const firstSeq = seqOf(first);
  const pieces = data_frames.filter((f) => {
    const d = (seqOf(f.bytes) - firstSeq) | 0;
    return d >= 0 && d < tcpPayloadLen(first);
  });
  assert.equal(pieces.length, Math.ceil(tcpPayloadLen(first) / 1448));
  const id0 = (first[18]! << 8) | first[19]!;
  pieces.forEach((f, i) => {
    assert.equal((f.bytes[18]! << 8) | f.bytes[19]!, (id0 + i) & 0xffff);
    assert.equal((f.bytes[47]! & 0x08) !== 0, i === pieces.length - 1 && (first[47]! & 0x08) !== 0);
  });
});

test('net.inet.tcp.tso=0: segments of one MSS, no TSO counters', () => {
  const { world, a, b } = pair('em');
  a.k.sysctl.set('net.inet.tcp.tso', 0);
  const out = capture(a.ifp, BPF_DIRECTION_OUT);
  const data = payload(100_000);
  assert.equal(sha(transfer(world, a.k, b.k, data)), sha(data));
  assert.ok(out.every((f) => f.bytes.length <= 1514));
  const st = a.k.stats.tcpstat;
  for (const c of ['tcps_outhwtso', 'tcps_outswtso', 'tcps_outpkttso']) assert.equal(st.value(c), 0, c);
});

test('an interface without IFCAP_TSOv4: tcp_softtso_chop cuts the segment, each piece checksummed in software', () => {
  const { world, a, b } = pair('em');
  a.ifp.if_capabilities &= ~IFCAP_TSOv4;
  const out = capture(a.ifp, BPF_DIRECTION_OUT);
  const data = payload(200_000);
  assert.equal(sha(transfer(world, a.k, b.k, data)), sha(data));
  const st = a.k.stats.tcpstat;
  assert.equal(st.value('tcps_outhwtso'), 0);
  const sw = st.value('tcps_outswtso');
  assert.ok(sw > 0);
  assert.ok(out.every((f) => f.bytes.length <= 1514 && checksumsOk(f.bytes)));
  const frames = out.filter((f) => tcpPayloadLen(f.bytes) > 0).length;
  // Every data frame either came out of the chopper or was a plain segment.
  assert.equal(frames, st.value('tcps_outpkttso') + st.value('tcps_sndpack') - sw);
  // Every frame sent was software-checksummed (the chopped ones by the chopper).
  assert.equal(st.value('tcps_outswcsum'), st.value('tcps_sndtotal') - sw + st.value('tcps_outpkttso'));
});

test('ix LRO: in-order segments of one flow come up as one packet; counters as ixgbe_rx_offload', () => {
  const { world, a, b } = pair('ix');
  assert.ok(b.ifp.if_xflags & IFXF_LRO);
  const wire = capture(b.ifp, BPF_DIRECTION_IN);
  const data = payload(400_000);
  assert.equal(sha(transfer(world, a.k, b.k, data)), sha(data));
  const st = b.k.stats.tcpstat;
  const lro = st.value('tcps_inhwlro');
  assert.ok(lro > 0);
  assert.ok(st.value('tcps_inpktlro') >= 2 * lro);
  assert.equal(st.value('tcps_inbadlro'), 0);
  // The receiver's tap sees the coalesced packets (at most 16 frames each).
  const big = wire.filter((f) => f.bytes.length > 1514);
  assert.equal(big.length, lro);
  assert.ok(big.every((f) => tcpPayloadLen(f.bytes) <= 16 * 1448));
  // Segments received count the coalesced packets once, as on OpenBSD.
  assert.equal(st.value('tcps_rcvpack'), wire.filter((f) => tcpPayloadLen(f.bytes) > 0).length);
  // Their checksums were checked by the hardware: not in software.
  assert.ok(st.value('tcps_inswcsum') < wire.length);
});

test('ix -tcplro: every frame comes up on its own', () => {
  const { world, a, b } = pair('ix');
  b.ifp.if_xflags &= ~IFXF_LRO;
  const wire = capture(b.ifp, BPF_DIRECTION_IN);
  const data = payload(200_000);
  assert.equal(sha(transfer(world, a.k, b.k, data)), sha(data));
  assert.equal(b.k.stats.tcpstat.value('tcps_inhwlro'), 0);
  assert.ok(wire.every((f) => f.bytes.length <= 1514));
});

test('TSO and LRO over a lossy, reordering, duplicating cable: the data arrives intact', () => {
  for (const nic of ['em', 'ix'] as const) {
    const { world, a, b } = pair(nic, { loss: 0.01, reorder: 0.01, duplicate: 0.01 });
    const data = payload(500_000, 3);
    assert.equal(sha(transfer(world, a.k, b.k, data)), sha(data), nic);
    assert.ok(a.k.stats.tcpstat.value('tcps_sndrexmitpack') > 0, `${nic}: something was retransmitted`);
    assert.ok(a.k.stats.tcpstat.value('tcps_outhwtso') > 0, `${nic}: TSO was used`);
  }
});

test('a frame with a bad TCP checksum is not coalesced: tcp_input counts it', () => {
  const { world, a, b } = pair('ix');
  // Corrupt one data frame on its way: flip a payload byte as the cable hands it over.
  const nb = b.ifp.if_softc as EtherNic;
  const rx = nb.cable_rx.bind(nb);
  const ahead = nb.cable_rx_ahead!.bind(nb);
  let n = 0;
  const bad = (buf: Uint8Array, off: number, len: number): void => {
    if (len > 1000 && ++n === 20) buf[off + len - 1] ^= 0xff;
  };
  nb.cable_rx = (buf, off, len, trace) => {
    bad(buf, off, len);
    return rx(buf, off, len, trace);
  };
  nb.cable_rx_ahead = (buf, off, len, trace, when) => {
    bad(buf, off, len);
    return ahead(buf, off, len, trace, when);
  };
  const data = payload(200_000);
  assert.equal(sha(transfer(world, a.k, b.k, data)), sha(data));
  assert.equal(b.k.stats.tcpstat.value('tcps_rcvbadsum'), 1);
});

/** A TSO segment as tcp_output hands it to ip_output: 20-byte IP header, TCP header of thlen bytes, n payload bytes. */
function tsoSegment(k: Kernel, n: number, thlen = 20): Mbuf {
  const m = k.mbufs.get(20 + thlen + n)!;
  m.append(20 + thlen + n);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + 20 + thlen + n);
  b[o] = 0x45;
  b[o + 2] = (20 + thlen + n) >> 8;
  b[o + 3] = (20 + thlen + n) & 0xff;
  b[o + 8] = 64;
  b[o + 9] = 6;
  b.set([192, 0, 2, 1, 192, 0, 2, 2], o + 12);
  b[o + 20 + 12] = (thlen >> 2) << 4;
  b[o + 20 + 13] = 0x18;
  for (let i = 0; i < n; i++) b[o + 20 + thlen + i] = i & 0xff;
  m.csum_flags |= M_TCP_TSO | M_TCP_CSUM_OUT;
  m.ph_mss = 1000;
  return m;
}

test('tcp_softtso_chop refuses fragments, IP options and other protocols (EPROTOTYPE), a TCP header beyond the packet (ENOPROTOOPT), no mss (EINVAL); tcps_outbadtso each', () => {
  const world = new World({ seed: 5 });
  const k = new Kernel(world, { hostname: 'a' });
  const st = k.stats.tcpstat;
  const ml = new MbufList();
  const cases: [string, (m: Mbuf) => void, number, number][] = [
    ['MF set', (m) => { m.buf[m.off + 6] = 0x20; }, 1000, EPROTOTYPE],
    ['fragment offset', (m) => { m.buf[m.off + 7] = 1; }, 1000, EPROTOTYPE],
    ['IP options', (m) => { m.buf[m.off] = 0x46; }, 1000, EPROTOTYPE],
    ['UDP', (m) => { m.buf[m.off + 9] = 17; }, 1000, EPROTOTYPE],
    ['data offset beyond the packet', (m) => { m.buf[m.off + 32] = 0xf0; m.truncate(50); }, 1000, ENOPROTOOPT],
    ['shorter than a TCP header', (m) => { m.truncate(30); }, 1000, ENOPROTOOPT],
    ['mss 0', () => {}, 0, EINVAL],
  ];
  let bad = 0;
  for (const [what, spoil, mss, errno] of cases) {
    const m = tsoSegment(k, 3000);
    spoil(m);
    const out = k.mbufs.cluster.nout + k.mbufs.large.nout;
    assert.equal(tcp_softtso_chop(k, ml, m, mss), errno, what);
    assert.equal(st.value('tcps_outbadtso'), ++bad, what);
    assert.equal(ml.len, 0, what);
    assert.equal(k.mbufs.cluster.nout + k.mbufs.large.nout, out - 1, `${what}: the segment is freed`);
  }
  // DF alone is fine: three pieces of 1000 bytes, each checksummed.
  const m = tsoSegment(k, 3000);
  m.buf[m.off + 6] = 0x40;
  m.buf[m.off + 10] = 0;
  assert.equal(tcp_softtso_chop(k, ml, m, 1000), 0);
  assert.equal(ml.len, 3);
  assert.equal(st.value('tcps_outpkttso'), 3);
  assert.equal(st.value('tcps_outbadtso'), bad);
  for (let p = ml.dequeue(); p !== null; p = ml.dequeue()) {
    assert.equal(p.len, 1040);
    assert.equal(sum16(p.buf, p.off, 20), 0xffff);
    p.free();
  }
});

test('in_ifcap_cksum: a broadcast on a simplex interface is done in software unless pf routed it', () => {
  const { a } = pair('ix');
  const m = tsoSegment(a.k, 100);
  assert.ok(in_ifcap_cksum(m, a.ifp, IFCAP_TSOv4));
  m.m_flags |= M_BCAST;
  assert.ok(a.ifp.if_flags & IFF_SIMPLEX);
  assert.ok(!in_ifcap_cksum(m, a.ifp, IFCAP_TSOv4));
  m.pf_routed = 1;
  assert.ok(in_ifcap_cksum(m, a.ifp, IFCAP_TSOv4));
  a.ifp.if_capabilities &= ~IFCAP_TSOv4;
  assert.ok(!in_ifcap_cksum(m, a.ifp, IFCAP_TSOv4));
  m.free();
});
