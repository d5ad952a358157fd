/**
 * vxlan without the Linux kernel (no root needed): two packetflow kernels,
 * each in its own realtime world as if in two processes, joined by VXLAN
 * over loopback UDP; the socket's drop counters; realtime while attached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { if_addr_add } from '../../../src/sys/net/if.js';
import { ip_output } from '../../../src/sys/netinet/ip_output.js';
import { parseIp4 } from '../../../src/wire/addr.js';
import { Ipv4Packet, IPPROTO_ICMP } from '../../../src/wire/ip4.js';
import { IcmpPacket, ICMP_ECHO, ICMP_ECHOREPLY } from '../../../src/wire/icmp.js';
import { VxlanSocket, vxlan_attach, VXLAN_HDR_LEN, type Vxlan } from '../../../src/sys/dev/vxlan.js';
import { HostAttachments, parseHostPort } from '../../../src/sys/dev/attach.js';
import { hostlink_count } from '../../../src/sys/dev/hostlink.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';

function echo(k: Kernel, dst: number, seq: number): void {
  const len = 28 + 32;
  const m = k.mbufs.get(len)!;
  m.append(len);
  m.buf.fill(0, m.off, m.off + len);
  const iph = new Ipv4Packet(m.buf, m.off, len);
  iph.version = 4;
  iph.ihl = 5;
  iph.totalLength = len;
  iph.ttl = 64;
  iph.protocol = IPPROTO_ICMP;
  iph.dst = dst;
  const icp = new IcmpPacket(m.buf, m.off + 20, len - 20);
  icp.type = ICMP_ECHO;
  icp.id = 0x4242;
  icp.seq = seq;
  icp.fillChecksum();
  k.world.syncNow();
  ip_output(k, m, 0, null);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('two packetflow kernels ping each other over VXLAN on loopback', async () => {
  const wa = new World({ seed: 1 });
  const wb = new World({ seed: 2 });
  const a = new Kernel(wa, { hostname: 'a' });
  const b = new Kernel(wb, { hostname: 'b' });
  const sa = await VxlanSocket.open();
  const sb = await VxlanSocket.open();
  try {
    const va = vxlan_attach(a, { socket: sa, vni: 4242, remotePort: sb.port, lladdr: '02:00:00:00:aa:01' });
    const vb = vxlan_attach(b, { socket: sb, vni: 4242, remotePort: sa.port, lladdr: '02:00:00:00:bb:01' });
    assert.equal(wa.mode, 'realtime');
    assert.ok(wa.isRunning && wb.isRunning);
    assert.equal(hostlink_count(wa), 1);
    assert.equal(va.ifp.if_xname, 'vxlan0');
    assert.match(a.msgbuf.at(-1)!, /^vxlan0: vnetid 4242 udp 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+, address 02:00:00:00:aa:01$/);
    if_addr_add(va.ifp, parseIp4('198.51.100.1'), 0xffffff00);
    if_addr_add(vb.ifp, parseIp4('198.51.100.2'), 0xffffff00);
    const seen = new Set<number>();
    const icv = new IcmpPacket();
    a.inet.icmpListeners.add((buf, off, len, hlen) => {
      icv.wrap(buf, off + hlen, len - hlen);
      if (icv.type === ICMP_ECHOREPLY && icv.id === 0x4242) seen.add(icv.seq);
    });
    for (let i = 0; i < 3; i++) {
      echo(a, parseIp4('198.51.100.2'), i);
      for (let t = 0; t < 100 && !seen.has(i); t++) await sleep(10);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
    // Journeys name the attachment's trace points.
    const tr = new Tracer();
    a.setTracer(tr);
    echo(a, parseIp4('198.51.100.2'), 3);
    for (let t = 0; t < 100 && !seen.has(3); t++) await sleep(10);
    a.setTracer(null);
    const evs = tr.events;
    assert.ok(evs.some((e) => e.name === 'vxlan_start' && e.ifname === 'vxlan0' && e.detail === '74 bytes to 127.0.0.1 vnetid 4242'), 'vxlan_start');
    assert.ok(evs.some((e) => e.name === 'vxlan_input' && e.detail === '74 bytes from 127.0.0.1 vnetid 4242'), 'vxlan_input');
    assert.equal(b.stats.icmpstat.value('icps_inhist', ICMP_ECHO), 4);
    assert.ok(b.inet.arp.stats.value('arps_rxrequests') >= 1);
    assert.ok(va.tx_frames >= 4 && vb.rx_frames >= 4);

    // Datagrams that are not for a link: each counted by reason.
    const s = createSocket('udp4');
    const send = (d: Uint8Array): Promise<void> => new Promise((r) => s.send(d, sa.port, '127.0.0.1', () => r()));
    const frame = new Uint8Array(VXLAN_HDR_LEN + 60);
    frame[0] = 0x08;
    frame[6] = 7; // vni 7: nobody
    await send(new Uint8Array(5));
    await send(new Uint8Array(VXLAN_HDR_LEN + 60)); // I flag clear
    await send(frame);
    for (let t = 0; t < 100 && sa.vxs_short + sa.vxs_badflags + sa.vxs_novni < 3; t++) await sleep(10);
    s.close();
    assert.equal(sa.vxs_short, 1);
    assert.equal(sa.vxs_badflags, 1);
    assert.equal(sa.vxs_novni, 1);
  } finally {
    await sa.close();
    await sb.close();
  }
  assert.equal(wa.mode, 'simulated');
  assert.equal(wb.mode, 'simulated');
  assert.equal(hostlink_count(wa), 0);
  assert.ok(!wa.isRunning);
});

test('vxlan checks its vnetid and port, and a VNI once per socket', async () => {
  const w = new World();
  const k = new Kernel(w, { hostname: 'k' });
  const s = await VxlanSocket.open();
  try {
    assert.throws(() => vxlan_attach(k, { socket: s, vni: 1 << 24, remotePort: 4789 }), /vnetid 16777216 out of range/);
    assert.throws(() => vxlan_attach(k, { socket: s, vni: 1, remotePort: 0 }), /remote port 0 out of range/);
    const v = vxlan_attach(k, { socket: s, vni: 1, remotePort: 4789 });
    assert.throws(() => vxlan_attach(k, { socket: s, vni: 1, remotePort: 4789 }), /vnetid 1 is already attached/);
    assert.equal(s.linkCount, 1);
    v.detach();
    assert.equal(s.linkCount, 0);
    assert.equal(w.mode, 'simulated');
  } finally {
    await s.close();
  }
});

test('HostAttachments: links from descriptions share the default socket; close gives the world back', async () => {
  const w = new World();
  const k1 = new Kernel(w, { hostname: 'one' });
  const att = new HostAttachments();
  try {
    const a = await att.attach(k1, { driver: 'vxlan', vni: 10, remote: '127.0.0.1:4790', name: 'vxlan5' });
    const b = await att.attach(k1, { driver: 'vxlan', vni: 11, remote: '127.0.0.1:4790' });
    assert.equal(a.ifp.if_xname, 'vxlan5');
    assert.equal(att.vxlanSockets.length, 1);
    assert.equal(hostlink_count(w), 2);
    assert.equal((b as Vxlan).socket.port, (a as Vxlan).socket.port);
    await assert.rejects(att.attach(k1, { driver: 'vxlan', vni: 12, remote: 'localhost' }), /remote localhost: expected address:port/);
  } finally {
    await att.close();
  }
  assert.equal(hostlink_count(w), 0);
  assert.equal(w.mode, 'simulated');
  assert.deepEqual(parseHostPort('[2001:db8::1]:4789'), { address: '2001:db8::1', port: 4789 });
  assert.equal(parseHostPort('192.0.2.1:70000'), null);
});
