/**
 * netstat -an with tcp6/udp6 rows (inet6print): inet before inet6, one
 * header per (family, type), `::` as `*`, %.16s truncation unless -v,
 * link-local addresses with their scope.  Goldens in golden/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threeHosts6, ip6 } from './lab6.js';
import { accept, listener } from '../netinet/tcp_lab.js';
import { socreate, sobind, solisten, soconnect, SOCK_DGRAM, SOCK_STREAM, type Socket } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { netstat } from '../../../src/usr.bin/netstat/main.js';
import { StringOutput } from '../../../src/lib/io.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

const here = dirname(fileURLToPath(import.meta.url));
const goldenDir = join(here.replace(/([\\/])dist([\\/])test([\\/])/, '$1test$3'), 'golden');

function golden(name: string, text: string): void {
  const p = join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(p, text);
  assert.equal(text, readFileSync(p, 'utf8'));
}

function ns(k: Kernel, argv: string[]): string {
  const out = new StringOutput();
  const err = new StringOutput();
  assert.equal(netstat(k, argv, { stdout: out, stderr: err }), 0);
  assert.equal(err.text(), '');
  return out.text();
}

function sock(k: Kernel, type: number): Socket {
  const so = socreate(k, AF_INET6, type, 0);
  if (typeof so === 'number') throw new Error(`socreate ${so}`);
  return so;
}

test('netstat -an: tcp6 and udp6 rows after the inet ones, -v, -f inet6, -l', () => {
  const { world, a, b } = threeHosts6(1);
  listener(b.k, 22);
  const l6 = sock(b.k, SOCK_STREAM);
  assert.equal(sobind(l6, Sockaddr.in6(new Uint8Array(16), 80)), 0);
  assert.equal(solisten(l6, 5), 0);
  const c = sock(a.k, SOCK_STREAM);
  assert.equal(soconnect(c, Sockaddr.in6(ip6('2001:db8:2::20'), 80)), 0);
  const u = sock(b.k, SOCK_DGRAM);
  assert.equal(sobind(u, Sockaddr.in6(ip6('2001:db8:2::20'), 53)), 0);
  const ul = sock(b.k, SOCK_DGRAM);
  // A link-local bind: the address with its scope embedded, as the kernel keeps it.
  const ll = b.k.inet6.addrs(b.ifs[0]!).find((ia) => ia.addr[0] === 0xfe)!;
  assert.equal(sobind(ul, Sockaddr.in6(ll.addr, 546)), 0);
  world.runFor(1e9);
  assert.ok(accept(l6) !== null);
  golden('netstat-an-b.txt', ns(b.k, ['-an']));
  golden('netstat-an-a.txt', ns(a.k, ['-an']));
  golden('netstat-anv-b.txt', ns(b.k, ['-anv']));
  golden('netstat-an-f-inet6-b.txt', ns(b.k, ['-an', '-f', 'inet6']));
  golden('netstat-ln-b.txt', ns(b.k, ['-ln']));
  golden('netstat-n-p-tcp-a.txt', ns(a.k, ['-n', '-p', 'tcp']));
});

test('netstat -i: a row per inet6 address after the inet rows, netname6 and routename6 with scopes, widened by -v', () => {
  const { r } = threeHosts6();
  const rows = ns(r.k, ['-in']).split('\n').filter((l) => l.startsWith('em0 '));
  assert.deepEqual(rows.map((l) => l.slice(0, 44)), [
    'em0     1500  <Link>      02:00:00:00:00:06 ',
    'em0     1500  192.0.2/24  192.0.2.1         ',
    'em0     1500  fe80::%em0/ fe80::ff:fe00:6%e ',
    'em0     1500  2001:db8:1: 2001:db8:1::1     ',
  ]);
  const v = ns(r.k, ['-inv']).split('\n').filter((l) => l.startsWith('em0 ') && l.includes('fe80'));
  assert.match(v[0]!, /^em0 {5}1500 {2}fe80::%em0\/64 fe80::ff:fe00:6%em0 +\d+ /);
});
