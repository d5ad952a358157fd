/**
 * packetflow as a router between two Linux namespaces: the kernels'
 * ping, UDP and TCP (10 MB, compared by hash) cross packetflow's
 * ip_forward.  Uses only IPv4 forwarding, so it runs before packetflow's
 * own TCP exists.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteropLab, needTools, type KernelLink } from './harness.js';

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
