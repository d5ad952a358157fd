/**
 * Exact goldens of the IPv6 observability tools after forwarded and local
 * traffic (pings through the router and a TCP transfer): the router's and
 * a host's `netstat -ss -p ip6` / `-p icmp6`, `ndp -an`, `ifconfig em0`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threeHosts6, ip6 } from './lab6.js';
import { accept, drain, payload, pump } from '../netinet/tcp_lab.js';
import { socreate, sobind, solisten, soconnect, SOCK_STREAM } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { netstat } from '../../../src/usr.bin/netstat/main.js';
import { ndp } from '../../../src/usr.sbin/ndp/ndp.js';
import { ifconfig } from '../../../src/sbin/ifconfig/ifconfig.js';
import { ping6 } from '../../../src/sbin/ping6/ping6.js';
import { StringOutput, type Io } from '../../../src/lib/io.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

const here = dirname(fileURLToPath(import.meta.url));
const goldenDir = join(here.replace(/([\\/])dist([\\/])test([\\/])/, '$1test$3'), 'golden');

function golden(name: string, text: string): void {
  const p = join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(p, text);
  assert.equal(text, readFileSync(p, 'utf8'));
}

function run(tool: (k: Kernel, argv: readonly string[], io: Io) => number, k: Kernel, argv: string[]): string {
  const out = new StringOutput();
  const err = new StringOutput();
  assert.equal(tool(k, argv, { stdout: out, stderr: err }), 0);
  assert.equal(err.text(), '');
  return out.text();
}

test('netstat -ss ip6/icmp6, ndp -an, ifconfig em0 after forwarded and local IPv6 traffic', () => {
  const { world, a, r, b } = threeHosts6(1);
  run(ping6, a.k, ['-c', '3', '2001:db8:2::20']);
  run(ping6, a.k, ['-c', '2', '2001:db8:1::1']);
  const l = socreate(b.k, AF_INET6, SOCK_STREAM, 0);
  if (typeof l === 'number') throw new Error('socreate');
  sobind(l, Sockaddr.in6(new Uint8Array(16), 80));
  solisten(l, 5);
  const c = socreate(a.k, AF_INET6, SOCK_STREAM, 0);
  if (typeof c === 'number') throw new Error('socreate');
  soconnect(c, Sockaddr.in6(ip6('2001:db8:2::20'), 80));
  world.runFor(1e9);
  const s = accept(l)!;
  drain(s);
  pump(c, payload(50_000, 9), 'close');
  world.runFor(5e9);
  golden('ip6-router-netstat-ss-ip6.txt', run(netstat, r.k, ['-ss', '-p', 'ip6']));
  golden('ip6-router-netstat-ss-icmp6.txt', run(netstat, r.k, ['-ss', '-p', 'icmp6']));
  golden('ip6-host-netstat-ss-ip6.txt', run(netstat, a.k, ['-ss', '-p', 'ip6']));
  golden('ip6-host-netstat-ss-icmp6.txt', run(netstat, a.k, ['-ss', '-p', 'icmp6']));
  golden('ip6-router-ndp-an.txt', run(ndp, r.k, ['-an']));
  golden('ip6-router-ifconfig-em0.txt', run(ifconfig, r.k, ['em0']));
});
