import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, echoRequest, send, ip, ipstat, icmpstat } from './lab.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import type { Ifnet } from '../../../src/sys/net/if.js';
import { ether_setmtu } from '../../../src/sys/net/if.js';
import { ipv4_input } from '../../../src/sys/netinet/ip_input.js';
import { ether_input } from '../../../src/sys/net/if_ethersubr.js';
import { Ipv4Packet } from '../../../src/wire/ip4.js';
import { IcmpPacket, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_TIMXCEED, ICMP_UNREACH, ICMP_PARAMPROB } from '../../../src/wire/icmp.js';
import { EMSGSIZE } from '../../../src/sys/sys/errno.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { M_IPV4_CSUM_IN_OK } from '../../../src/sys/kern/uipc_mbuf.js';

/** Echo request datagram bytes (IP + ICMP) from src to dst, payload i & 0xff. */
function echoBytes(src: number, dst: number, datalen: number, id = 7): Uint8Array {
  const b = new Uint8Array(28 + datalen);
  const iph = new Ipv4Packet(b);
  iph.version = 4;
  iph.ihl = 5;
  iph.totalLength = b.length;
  iph.id = id;
  iph.ttl = 64;
  iph.protocol = 1;
  iph.src = src;
  iph.dst = dst;
  iph.fillChecksum();
  const icp = new IcmpPacket(b, 20, 8 + datalen);
  icp.type = ICMP_ECHO;
  icp.id = 0x4242;
  icp.seq = 1;
  for (let i = 0; i < datalen; i++) b[28 + i] = i & 0xff;
  icp.fillChecksum();
  return b;
}

/** A fragment of datagram d: payload bytes [off, off+len), MF as given; bogus fills the data with 0xee. */
function frag(d: Uint8Array, off: number, len: number, mf: boolean, bogus = false): Uint8Array {
  const f = new Uint8Array(20 + len);
  f.set(d.subarray(0, 20));
  f.set(d.subarray(20 + off, 20 + off + len), 20);
  if (bogus) f.fill(0xee, 20);
  const iph = new Ipv4Packet(f);
  iph.totalLength = f.length;
  iph.ipOff = (mf ? 0x2000 : 0) | (off >> 3);
  iph.fillChecksum();
  return f;
}

function inject(k: Kernel, ifp: Ifnet, bytes: Uint8Array): void {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  m.ph_ifidx = ifp.if_index;
  ipv4_input(ifp, m);
}

function listen(k: Kernel): Array<{ type: number; code: number; bytes: Uint8Array }> {
  const got: Array<{ type: number; code: number; bytes: Uint8Array }> = [];
  k.inet.icmpListeners.add((buf, off, len, hlen) => {
    got.push({ type: buf[off + hlen]!, code: buf[off + hlen + 1]!, bytes: buf.slice(off, off + len) });
  });
  return got;
}

test('forwarding off: the router counts ips_cantforward and nothing comes back', () => {
  const { world, a, r } = threeHosts();
  r.k.sysctl.set('net.inet.ip.forwarding', 0);
  const got = listen(a.k);
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(2e9);
  assert.equal(ipstat(r.k, 'ips_cantforward'), 1);
  assert.equal(ipstat(r.k, 'ips_forward'), 0);
  assert.equal(got.length, 0);
});

test('TTL 1: time exceeded in transit from the router', () => {
  const { world, a, r } = threeHosts();
  const got = listen(a.k);
  send(a.k, echoRequest(a.k, ip('198.51.100.20'), 56, { ttl: 1 }));
  world.runFor(2e9);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.type, ICMP_TIMXCEED);
  assert.equal(got[0]!.code, 0);
  // The error comes from the router's address on the sender's side and quotes the header + 8 bytes.
  const e = new Ipv4Packet(got[0]!.bytes);
  assert.equal(e.src, ip('192.0.2.1'));
  assert.equal(e.totalLength, 20 + 8 + 28);
  assert.equal(icmpstat(r.k, 'icps_error'), 1);
  assert.equal(icmpstat(r.k, 'icps_outhist', ICMP_TIMXCEED), 1);
  assert.equal(ipstat(r.k, 'ips_forward'), 0);
  assert.equal(ipstat(r.k, 'ips_cantforward'), 0);
  assert.equal(icmpstat(a.k, 'icps_inhist', ICMP_TIMXCEED), 1);
});

test('DF over a smaller MTU: need-frag with the next-hop MTU; without DF the router fragments', () => {
  const { world, a, r, b } = threeHosts();
  assert.equal(ether_setmtu(r.ifs[1]!, 1000), 0);
  const got = listen(a.k);
  send(a.k, echoRequest(a.k, ip('198.51.100.20'), 1172, { df: true }));
  world.runFor(2e9);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.type, ICMP_UNREACH);
  assert.equal(got[0]!.code, 4);
  assert.equal(new IcmpPacket(got[0]!.bytes, 20).nextMtu, 1000);
  // OpenBSD counts ips_cantfrag in ip_output and again in ip_forward's EMSGSIZE case.
  assert.equal(ipstat(r.k, 'ips_cantfrag'), 2);
  assert.equal(ipstat(r.k, 'ips_cantforward'), 1);
  // The sender's own output refuses DF datagrams too big for its interface.
  assert.equal(send(a.k, echoRequest(a.k, ip('198.51.100.20'), 1600, { df: true })), EMSGSIZE);
  assert.equal(ipstat(a.k, 'ips_cantfrag'), 1);

  got.length = 0;
  send(a.k, echoRequest(a.k, ip('198.51.100.20'), 1172));
  world.runFor(2e9);
  assert.equal(ipstat(r.k, 'ips_fragmented'), 1);
  assert.equal(ipstat(r.k, 'ips_ofragments'), 2);
  assert.equal(ipstat(b.k, 'ips_fragments'), 2);
  assert.equal(ipstat(b.k, 'ips_reassembled'), 1);
  // b's 1200-byte reply fits its own MTU; the router sends it on unfragmented.
  assert.equal(got.length, 1);
  assert.equal(got[0]!.type, ICMP_ECHOREPLY);
  assert.equal(got[0]!.bytes.length, 1200);
  for (let i = 0; i < 1172; i++) assert.equal(got[0]!.bytes[28 + i], i & 0xff);
});

test('reassembly in any order, OpenBSD overlap rules, and the 30 s timeout', () => {
  const { world, a, r } = threeHosts();
  const ifp = r.ifs[0]!;
  const got = listen(a.k);
  const base = r.k.mbufs.inUse;
  const d = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 40, 1);
  // icmp (8) + 40 = 48 bytes of payload, in three fragments, last one first.
  inject(r.k, ifp, frag(d, 32, 16, false));
  inject(r.k, ifp, frag(d, 0, 16, true));
  inject(r.k, ifp, frag(d, 16, 16, true));
  world.runFor(1e9);
  assert.equal(ipstat(r.k, 'ips_fragments'), 3);
  assert.equal(ipstat(r.k, 'ips_reassembled'), 1);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.bytes.subarray(28), d.subarray(28));

  // Head overlap: queued data wins, the new fragment is cut (frag_overhead).
  const d2 = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 40, 2);
  inject(r.k, ifp, frag(d2, 0, 24, true));
  const f = frag(d2, 16, 32, false);
  f.fill(0xee, 20, 28); // bytes 16..23 are already queued: bogus here must not win
  new Ipv4Packet(f).fillChecksum();
  inject(r.k, ifp, f);
  world.runFor(1e9);
  assert.equal(got.length, 2);
  assert.deepEqual(got[1]!.bytes.subarray(28), d2.subarray(28));

  // A fragment fully covered by queued data is dropped (ips_fragdropped).
  const d3 = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 40, 3);
  inject(r.k, ifp, frag(d3, 0, 32, true));
  inject(r.k, ifp, frag(d3, 8, 16, true, true));
  assert.equal(ipstat(r.k, 'ips_fragdropped'), 1);
  // Tail overlap: the new fragment trims the queued one that follows (frag_overtail).
  const g = frag(d3, 24, 24, false);
  g.fill(0xee, 20, 28); // bytes 24..31: queued already by the first fragment
  new Ipv4Packet(g).fillChecksum();
  inject(r.k, ifp, g);
  world.runFor(1e9);
  assert.equal(got.length, 3);
  assert.deepEqual(got[2]!.bytes.subarray(28), d3.subarray(28));

  // Timeout: IPFRAGTTL runs of the 500 ms slow timer (51 ticks each).
  const d4 = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 40, 4);
  inject(r.k, ifp, frag(d4, 0, 16, true));
  world.runFor(30e9);
  assert.equal(ipstat(r.k, 'ips_fragtimeout'), 0);
  world.runFor(1e9);
  assert.equal(ipstat(r.k, 'ips_fragtimeout'), 1);
  assert.equal(r.k.inet.ipq.ip_frags, 0);
  assert.equal(r.k.inet.ipq.slowtimo.pending, false);
  // A late fragment starts a new queue and never completes.
  inject(r.k, ifp, frag(d4, 16, 32, false));
  world.runFor(40e9);
  assert.equal(ipstat(r.k, 'ips_fragtimeout'), 2);
  assert.equal(got.length, 3);
  assert.equal(r.k.mbufs.inUse, base);
});

test('traced: a malformed datagram records ip_input and ips_total first, then ips_inswcsum when its checksum is computed, its counter and the drop', () => {
  const { r } = threeHosts();
  const ifp = r.ifs[0]!;
  const t = new Tracer();
  r.k.setTracer(t);
  const good = (): Uint8Array => echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 8);
  const fix = (b: Uint8Array): Uint8Array => {
    new Ipv4Packet(b).fillChecksum();
    return b;
  };
  const cases: Array<[string, Uint8Array, boolean]> = [
    ['ips_toosmall', good().subarray(0, 12), false],
    ['ips_badvers', fix(((b) => ((b[0] = 0x65), b))(good())), false],
    ['ips_badaddr', fix(((b) => ((b[12] = 127), b))(good())), false],
    ['ips_badsum', ((b) => ((b[10] ^= 0xff), b))(good()), true],
    ['ips_tooshort', fix(((b) => ((b[2] = 0), (b[3] = 200), b))(good())), true],
  ];
  for (const [name, bytes, summed] of cases) {
    const from = t.events.length;
    inject(r.k, ifp, bytes);
    const got = t.events.slice(from).map((e) => (e.kind === 'counter' ? `+${e.name}` : e.name));
    const want = ['ip_input', '+ips_total', ...(summed ? ['+ips_inswcsum'] : []), `+${name}`, 'ipv4_check: bad header → drop'];
    assert.deepEqual(got, want, name);
  }
  // A checksum the card verified: no ips_inswcsum.
  const from = t.events.length;
  const m = r.k.mbufs.get(64)!;
  m.setBytes(good());
  m.ph_ifidx = ifp.if_index;
  m.csum_flags |= M_IPV4_CSUM_IN_OK;
  ipv4_input(ifp, m);
  assert.deepEqual(t.events.slice(from, from + 3).map((e) => e.name), ['ip_input', 'ips_total', 'ip_input: 192.0.2.1 is ours → ip_ours']);
});

test('every malformed datagram is dropped with its own counter', () => {
  const { world, r } = threeHosts();
  const ifp = r.ifs[0]!;
  const base = r.k.mbufs.inUse;
  const good = (): Uint8Array => echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 8);
  const fix = (b: Uint8Array): Uint8Array => {
    new Ipv4Packet(b).fillChecksum();
    return b;
  };
  const cases: Array<[string, Uint8Array]> = [
    ['ips_toosmall', good().subarray(0, 12)],
    ['ips_badvers', fix(((b) => ((b[0] = 0x65), b))(good()))],
    ['ips_badhlen', fix(((b) => ((b[0] = 0x44), b))(good()))],
    ['ips_badsum', ((b) => ((b[10] ^= 0xff), b))(good())],
    ['ips_badlen', fix(((b) => ((b[2] = 0), (b[3] = 16), b))(good()))],
    ['ips_tooshort', fix(((b) => ((b[2] = 0), (b[3] = 200), b))(good()))],
    ['ips_badaddr', fix(((b) => ((b[12] = 127), b))(good()))],
    ['ips_badfrags', fix(((b) => ((b[6] = 0x20), (b[3] = 20 + 12), b))(good()).subarray(0, 32))],
  ];
  // A header of 24 bytes with a 4-byte header in a 20-byte buffer: badhlen too (m_pullup fails).
  for (const [name, bytes] of cases) {
    const before = r.k.stats.ipstat.snapshot();
    inject(r.k, ifp, bytes);
    const after = r.k.stats.ipstat.snapshot();
    const moved: string[] = [];
    for (const f of r.k.stats.ipstat.layout.fields) {
      if (after[f.id] !== before[f.id] && f.name !== 'ips_total' && f.name !== 'ips_inswcsum') moved.push(f.name);
    }
    assert.deepEqual(moved, [name], `${name}: moved ${moved.join(',')}`);
  }
  world.runFor(1e9);
  assert.equal(r.k.mbufs.inUse, base);
});

test('unknown protocol: protocol unreachable and ips_noproto; bad options: parameter problem', () => {
  const { world, a, r } = threeHosts();
  const got = listen(a.k);
  const b = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 8);
  b[9] = 253;
  new Ipv4Packet(b).fillChecksum();
  inject(r.k, r.ifs[0]!, b);
  world.runFor(1e9);
  assert.equal(ipstat(r.k, 'ips_noproto'), 1);
  assert.equal(ipstat(r.k, 'ips_delivered'), 0);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.type, ICMP_UNREACH);
  assert.equal(got[0]!.code, 2);

  // Options area with a record-route option whose length runs past the header.
  const o = new Uint8Array(24 + 16);
  o.set(echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 8).subarray(0, 20));
  o[0] = 0x46;
  o[3] = o.length;
  o.set([7, 9, 4, 0], 20);
  o.set(echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 8).subarray(20), 24);
  new Ipv4Packet(o).fillChecksum();
  inject(r.k, r.ifs[0]!, o);
  world.runFor(1e9);
  assert.equal(ipstat(r.k, 'ips_badoptions'), 1);
  assert.equal(got.length, 2);
  assert.equal(got[1]!.type, ICMP_PARAMPROB);
  assert.equal(new IcmpPacket(got[1]!.bytes, 20).pointer, 21);
});

test('ICMP errors follow the rules: never about ICMP errors, rate limited', () => {
  const { world, a, r } = threeHosts();
  const got = listen(a.k);
  // An ICMP error with TTL 1 through the router: no error about an error.
  const m = echoRequest(a.k, ip('198.51.100.20'), 56, { ttl: 1 });
  m.buf[m.off + 20] = ICMP_UNREACH;
  new IcmpPacket(m.buf, m.off + 20, 64).fillChecksum();
  send(a.k, m);
  world.runFor(1e9);
  assert.equal(icmpstat(r.k, 'icps_oldicmp'), 1);
  assert.equal(got.length, 0);
  // errppslimit 2: the third error in the same second is refused.
  r.k.sysctl.set('net.inet.icmp.errppslimit', 2);
  for (let i = 0; i < 3; i++) send(a.k, echoRequest(a.k, ip('198.51.100.20'), 56, { ttl: 1 }));
  world.runFor(1e8);
  assert.equal(icmpstat(r.k, 'icps_toofreq'), 1);
  assert.equal(got.length, 2);
});

test('ICMP input drops: too short and bad checksum', () => {
  const { r } = threeHosts();
  const short = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 0).subarray(0, 24);
  const s2 = new Uint8Array(short);
  new Ipv4Packet(s2).totalLength = 24;
  new Ipv4Packet(s2).fillChecksum();
  inject(r.k, r.ifs[0]!, s2);
  assert.equal(icmpstat(r.k, 'icps_tooshort'), 1);
  const bad = echoBytes(ip('192.0.2.10'), ip('192.0.2.1'), 8);
  bad[22] ^= 1;
  inject(r.k, r.ifs[0]!, bad);
  assert.equal(icmpstat(r.k, 'icps_checksum'), 1);
});

test('Ethernet drops: short, not for us, unknown ethertype', () => {
  const { r } = threeHosts();
  const ifp = r.ifs[0]!;
  const base = r.k.mbufs.inUse;
  const fr = (bytes: number[]): void => {
    const m = r.k.mbufs.get(64)!;
    m.setBytes(new Uint8Array(bytes));
    ether_input(ifp, m);
  };
  fr([1, 2, 3]);
  fr([0x02, 0, 0, 0, 0, 0x77, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, 0x45]);
  fr([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5, 0]);
  const st = r.k.inet.etherstat;
  assert.equal(st.value('ethers_short'), 1);
  assert.equal(st.value('ethers_notforus'), 1);
  assert.equal(st.value('ethers_noproto'), 1);
  assert.equal(ifp.if_noproto, 1);
  assert.equal(r.k.mbufs.inUse, base);
});
