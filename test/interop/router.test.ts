/**
 * packetflow as a router between two Linux namespaces: the kernels'
 * ping, UDP and TCP (10 MB, compared by hash) cross packetflow's
 * ip_forward, and ping -6 and TCP over IPv6 its ip6_forward.  Only the
 * forwarding paths are packetflow's: TCP is the kernels' own.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteropLab, needTools, type KernelLink } from './harness.js';
import { inet6_enable, in6_update_ifa } from '../../src/sys/netinet6/in6.js';
import { parseIp6 } from '../../src/wire/addr.js';

const MB10 = 10 * 1024 * 1024;

const skip = needTools('nc', 'timeout', 'sh');
describe('packetflow routes between two kernel namespaces (VXLAN)', { skip: skip ?? false }, () => {
  let lab: InteropLab;
  let a: KernelLink;
  let b: KernelLink;
  let dir: string;
  before(async () => {
    lab = await InteropLab.create('router');
    lab.k.sysctl.set('net.inet.ip.forwarding', 1);
    a = await lab.addPeer({ pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24', defaultRoute: true });
    b = await lab.addPeer({ pfAddr: '198.51.100.1/24', nsAddr: '198.51.100.2/24', defaultRoute: true });
    dir = mkdtempSync(join(tmpdir(), 'pf-interop-'));
  });
  after(async () => {
    if (lab) await lab.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('ping crosses packetflow, TTL decremented once', async () => {
    const f0 = lab.k.stats.ipstat.value('ips_forward');
    const out = await a.ns.must('ping', ['-c', '3', '-i', '0.2', '-W', '2', b.nsAddr], { timeoutMs: 8000 });
    assert.match(out, /3 received/);
    assert.match(out, /ttl=63/);
    assert.equal(lab.k.stats.ipstat.value('ips_forward') - f0, 6);
  });

  test('UDP datagrams cross packetflow', async () => {
    const out = join(dir, 'udp.out');
    const srv = lab.spawn(b.ns, 'sh', ['-c', `exec timeout 10 nc -u -l ${b.nsAddr} 5002 > ${out}`], 15000);
    await new Promise((r) => setTimeout(r, 300));
    const msg = 'datagram through packetflow\n';
    await a.ns.run('sh', ['-c', `printf '${msg}' | timeout 5 nc -u -w 1 ${b.nsAddr} 5002`], { timeoutMs: 8000 });
    for (let t = 0; t < 100 && readFileSync(out, 'utf8') === ''; t++) await new Promise((r) => setTimeout(r, 20));
    await srv.stop();
    assert.equal(readFileSync(out, 'utf8'), msg);
  });

  test('kernel TCP, 10 MB each way through packetflow, byte-exact', async (t) => {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const data = randomBytes(MB10);
      const src = join(dir, 'tcp.in');
      const dst = join(dir, 'tcp.out');
      writeFileSync(src, data);
      writeFileSync(dst, '');
      const srv = lab.spawn(to.ns, 'sh', ['-c', `exec timeout 30 nc -l ${to.nsAddr} 5001 > ${dst}`], 35000);
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      const r = await from.ns.run('sh', ['-c', `exec timeout 30 nc -N ${to.nsAddr} 5001 < ${src}`], { timeoutMs: 35000 });
      assert.equal(r.code, 0, `nc: ${r.stderr}`);
      await srv.exited;
      const secs = (performance.now() - t0) / 1000;
      const got = readFileSync(dst);
      assert.equal(got.length, MB10, `received ${got.length} bytes`);
      assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
      t.diagnostic(`${from.nsAddr} -> ${to.nsAddr}: 10 MB in ${secs.toFixed(2)} s (${((MB10 * 8) / secs / 1e6).toFixed(0)} Mbit/s)`);
    }
    assert.deepEqual(lab.errors, []);
  });
});

describe('packetflow routes IPv6 between two kernel namespaces (VXLAN)', { skip: skip ?? false }, () => {
  let lab: InteropLab;
  let a: KernelLink;
  let b: KernelLink;
  let dir: string;
  before(async () => {
    lab = await InteropLab.create('router6');
    inet6_enable(lab.k);
    lab.k.sysctl.set('net.inet6.ip6.forwarding', 1);
    a = await lab.addPeer({ pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24', ipv6: true });
    b = await lab.addPeer({ pfAddr: '198.51.100.1/24', nsAddr: '198.51.100.2/24', ipv6: true });
    for (const [l, net] of [[a, '2001:db8:1'], [b, '2001:db8:2']] as const) {
      const r = in6_update_ifa(lab.k, l.link.ifp, parseIp6(`${net}::1`)!, 64, { nodad: true });
      assert.notEqual(typeof r, 'number');
      await l.ns.must('ip', ['-6', 'addr', 'add', `${net}::2/64`, 'dev', l.dev, 'nodad']);
      await l.ns.must('ip', ['-6', 'route', 'add', 'default', 'via', `${net}::1`]);
    }
    dir = mkdtempSync(join(tmpdir(), 'pf-interop-'));
  });
  after(async () => {
    if (lab) await lab.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('ping -6 crosses packetflow, hop limit decremented once', async () => {
    const out = await a.ns.must('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:2::2'], { timeoutMs: 8000 });
    assert.match(out, /3 received/);
    assert.match(out, /ttl=63/);
  });

  test('kernel TCP over IPv6, 10 MB through packetflow, byte-exact', async () => {
    const data = randomBytes(MB10);
    const src = join(dir, 'tcp6.in');
    const dst = join(dir, 'tcp6.out');
    writeFileSync(src, data);
    writeFileSync(dst, '');
    const srv = lab.spawn(b.ns, 'sh', ['-c', `exec timeout 30 nc -6 -l 2001:db8:2::2 5001 > ${dst}`], 35000);
    await new Promise((r) => setTimeout(r, 300));
    const r = await a.ns.run('sh', ['-c', `exec timeout 30 nc -6 -N 2001:db8:2::2 5001 < ${src}`], { timeoutMs: 35000 });
    assert.equal(r.code, 0, `nc: ${r.stderr}`);
    await srv.exited;
    assert.equal(createHash('sha256').update(readFileSync(dst)).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.deepEqual(lab.errors, []);
  });
});
