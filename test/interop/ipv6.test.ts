/**
 * IPv6 with the Linux kernel as peer, over each attachment: the kernel
 * pings packetflow (global and link-local), packetflow pings the kernel,
 * neighbor discovery resolves both ways, fragments are reassembled both
 * ways, TCP over IPv6 carries 1 MB byte-exact, and tcpdump's capture of
 * packetflow's IPv6 frames passes the tshark gate.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteropLab, interopSkip, needTools, tapSkip, run, type KernelLink, type LinkKind } from './harness.js';
import { inet6_enable, in6_update_ifa, in6_ifaddrs } from '../../src/sys/netinet6/in6.js';
import { ip6_output } from '../../src/sys/netinet6/ip6_output.js';
import { ndp } from '../../src/usr.sbin/ndp/ndp.js';
import { StringOutput } from '../../src/lib/io.js';
import { parseIp6, formatIp6 } from '../../src/wire/addr.js';
import { M_ICMP_CSUM_OUT } from '../../src/sys/kern/uipc_mbuf.js';
import { ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY } from '../../src/wire/icmp6.js';
import { IPPROTO_ICMPV6 } from '../../src/wire/ip4.js';
import { Proc, AF_INET6, SOCK_STREAM, SocketError } from '../../src/lib/socket.js';

const PF6 = '2001:db8:1::1';
const NS6 = '2001:db8:1::2';

function ip6(s: string): Uint8Array {
  const a = parseIp6(s);
  if (a === null) throw new Error(`bad address ${s}`);
  return a;
}

/** packetflow pings an IPv6 address; resolves with the replies seen. */
function pfPing6(lab: InteropLab, dst: string, count: number, datalen = 56): Promise<number> {
  const k = lab.k;
  const ident = (Math.random() * 0xffff) | 0;
  const seen = new Set<number>();
  // icmpoff: where ICMPv6 starts, from the start of the datagram.
  const listener = (buf: Uint8Array, off: number, len: number, icmpoff: number): void => {
    if (len - icmpoff < 8) return;
    const p = off + icmpoff;
    if (buf[p] === ICMP6_ECHO_REPLY && ((buf[p + 4]! << 8) | buf[p + 5]!) === ident) seen.add((buf[p + 6]! << 8) | buf[p + 7]!);
  };
  k.inet6.icmp6Listeners.add(listener);
  const d = ip6(dst);
  for (let seq = 0; seq < count; seq++) {
    const len = 40 + 8 + datalen;
    const m = k.mbufs.get(len)!;
    m.append(len);
    const b = m.buf;
    const o = m.off;
    b.fill(0, o, o + len);
    b[o] = 0x60;
    b[o + 4] = ((8 + datalen) >> 8) & 0xff;
    b[o + 5] = (8 + datalen) & 0xff;
    b[o + 6] = IPPROTO_ICMPV6;
    b[o + 7] = 64;
    b.set(d, o + 24);
    b[o + 40] = ICMP6_ECHO_REQUEST;
    b[o + 44] = ident >> 8;
    b[o + 45] = ident & 0xff;
    b[o + 47] = seq;
    for (let i = 0; i < datalen; i++) b[o + 48 + i] = i & 0xff;
    m.csum_flags |= M_ICMP_CSUM_OUT;
    lab.world.syncNow();
    ip6_output(k, m, 0, null);
    lab.world.syncNow();
  }
  return new Promise((resolve) => {
    const t0 = Date.now();
    const poll = (): void => {
      if (seen.size >= count || Date.now() - t0 > 5000) {
        k.inet6.icmp6Listeners.delete(listener);
        resolve(seen.size);
      } else setTimeout(poll, 20);
    };
    poll();
  });
}

for (const kind of ['vxlan', 'tap'] as LinkKind[]) {
  const skip = interopSkip() ?? (kind === 'tap' ? tapSkip() : null);
  describe(`IPv6 with the Linux kernel over ${kind}`, { skip: skip ?? false }, () => {
    let lab: InteropLab;
    let l: KernelLink;
    let dir: string;
    let linklocal = '';
    before(async () => {
      lab = await InteropLab.create();
      inet6_enable(lab.k);
      l = await lab.addPeer({ kind, pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24', ipv6: true });
      const r = in6_update_ifa(lab.k, l.link.ifp, ip6(PF6), 64, { nodad: true });
      assert.notEqual(typeof r, 'number', `in6_update_ifa: ${String(r)}`);
      await l.ns.must('ip', ['-6', 'addr', 'add', `${NS6}/64`, 'dev', l.dev, 'nodad']);
      for (const ia of in6_ifaddrs(lab.k, l.link.ifp)) {
        const b = ia.addr.slice(0, 16);
        b[2] = b[3] = 0; // the embedded scope (interface index)
        const a = formatIp6(b, 0);
        if (a.startsWith('fe80')) linklocal = a;
      }
      dir = mkdtempSync(join(tmpdir(), 'pf-interop-'));
    });
    after(async () => {
      if (lab) await lab.teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the kernel pings packetflow over IPv6 (global and link-local)', async () => {
      const out = await l.ns.must('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', PF6], { timeoutMs: 10000 });
      assert.match(out, /3 packets transmitted, 3 received/);
      assert.notEqual(linklocal, '', 'packetflow has a link-local address');
      const ll = await l.ns.must('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', `${linklocal}%${l.dev}`], { timeoutMs: 10000 });
      assert.match(ll, /2 received/);
    });

    test('packetflow pings the kernel over IPv6', async () => {
      assert.equal(await pfPing6(lab, NS6, 3), 3);
    });

    test('neighbor discovery resolves both ways', async () => {
      const neigh = await l.ns.must('ip', ['-6', 'neigh', 'show', PF6, 'dev', l.dev]);
      assert.match(neigh, new RegExp(`lladdr ${l.pfMac}`));
      const o = new StringOutput();
      const e = new StringOutput();
      assert.equal(ndp(lab.k, ['-an'], { stdout: o, stderr: e }), 0, e.text());
      assert.match(o.text(), new RegExp(`${NS6}\\s+${l.nsMac}\\s+${l.link.ifp.if_xname}`));
    });

    test('fragmented ICMPv6 echoes are reassembled both ways', async () => {
      const out = await l.ns.must('ping', ['-6', '-c', '2', '-i', '0.2', '-s', '3000', '-W', '2', PF6], { timeoutMs: 10000 });
      assert.match(out, /2 received/);
      assert.equal(await pfPing6(lab, NS6, 2, 3000), 2);
    });

    test('TCP over IPv6: the kernel nc sends 1 MB to packetflow', { skip: needTools('nc') ?? false }, async (t) => {
      const data = randomBytes(1 << 20);
      const file = join(dir, 'in6');
      writeFileSync(file, data);
      const p = new Proc(lab.k);
      let s: number;
      try {
        s = p.socket(AF_INET6, SOCK_STREAM);
      } catch (e) {
        if (!(e instanceof SocketError) || e.code !== 'EPROTONOSUPPORT') throw e;
        t.skip(`TCP over IPv6 has not landed yet (socket(AF_INET6, SOCK_STREAM): ${e.message})`);
        return;
      }
      p.bind(s, { address: PF6, port: 5006 });
      p.listen(s, 4);
      const sender = l.ns.run('sh', ['-c', `exec timeout 20 nc -N ${PF6} 5006 < ${file}`], { timeoutMs: 25000 });
      const { fd } = await p.accept(s);
      const parts: Uint8Array[] = [];
      for (;;) {
        const d = await p.recv(fd, 1 << 20);
        if (d.length === 0) break;
        parts.push(d.slice());
      }
      p.close(fd);
      p.close(s);
      const r = await sender;
      assert.equal(r.code, 0, r.stderr);
      const got = Buffer.concat(parts);
      assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
    });

    test('packetflow threw nothing while talking IPv6 with the kernel', () => {
      assert.deepEqual(lab.errors.map(String), []);
    });

    test("tcpdump's capture of packetflow's IPv6 frames passes the tshark gate", { skip: needTools('tcpdump', 'tshark') ?? false }, async () => {
      const file = join(dir, 'pf6.pcap');
      const dump = lab.spawn(l.ns, 'tcpdump', ['--immediate-mode', '-i', l.dev, '-w', file, '-U', '-s', '0', 'ether', 'src', l.pfMac, 'and', 'ip6'], 30000);
      for (let t = 0; t < 100 && !/listening on/.test(dump.stderr); t++) await new Promise((r) => setTimeout(r, 20));
      await l.ns.must('ip', ['-6', 'neigh', 'flush', 'dev', l.dev]);
      await l.ns.must('ping', ['-6', '-c', '3', '-i', '0.2', '-s', '2000', '-W', '2', PF6], { timeoutMs: 8000 });
      assert.equal(await pfPing6(lab, NS6, 2), 2);
      await new Promise((r) => setTimeout(r, 200));
      await dump.stop('SIGINT');
      assert.ok(statSync(file).size > 24);
      const gate = await run('tshark', ['-r', file, '-o', 'ip.check_checksum:TRUE', '-Y',
        'icmpv6.checksum.status==0 || udp.checksum.status==0 || tcp.checksum.status==0 || _ws.malformed || _ws.expert.severity>=error'], { timeoutMs: 30000 });
      assert.equal(gate.code, 0, gate.stderr);
      assert.equal(gate.stdout, '', `tshark flags packetflow's IPv6 frames:\n${gate.stdout}`);
      const n = await run('tshark', ['-r', file, '-Y', 'icmpv6.type==129 || icmpv6.type==128 || icmpv6.type==136', '-T', 'fields', '-e', 'frame.number'], { timeoutMs: 30000 });
      assert.ok(n.stdout.split('\n').filter((x) => x).length >= 5, 'echo replies, requests and neighbor advertisements captured');
    });
  });
}
