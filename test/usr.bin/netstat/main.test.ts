import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture } from '../../../src/lib/io.js';
import { KernelStats } from '../../../src/sys/kern/counters.js';
import { netstatTool, name2protox, strtonum, type NetstatSource } from '../../../src/usr.bin/netstat/main.js';
import { cprintf } from '../../../src/usr.bin/netstat/inet.js';

/** The project root (tests also run compiled, from dist/test/). */
function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) || !existsSync(join(d, 'test', 'usr.bin'))) {
    const up = dirname(d);
    if (up === d) throw new Error('project root not found');
    d = up;
  }
  return d;
}

const GOLDEN = join(projectRoot(), 'test', 'usr.bin', 'netstat', 'golden');
// The golden .txt files were printed by OpenBSD's own inet.c/inet6.c
// *_stats() functions (compiled against a stub sysctl) for fixture.json.
const golden = (name: string): string => readFileSync(join(GOLDEN, name), 'utf8');

function fixtureKernel(): KernelStats {
  const k = new KernelStats();
  const fx = JSON.parse(golden('fixture.json')) as { counters: [string, number, number][] };
  for (const [name, i, v] of fx.counters) {
    const b = k.blocks().find((blk) => blk.field(name));
    assert.ok(b, name);
    b.set(b.id(name) + i, v);
  }
  return k;
}

const USAGE =
  'usage: netstat [-AaBln] [-M core] [-N system] [-p protocol] [-T rtable]\n' +
  '       netstat -W interface\n' +
  '       netstat -m\n' +
  '       netstat -I interface | -i [-bdehnq]\n' +
  '       netstat -w wait [-bdehnq] [-c count] [-I interface]\n' +
  '       netstat -s [-gru] [-f address_family] [-p protocol]\n' +
  '       netstat -g [-lnu] [-f address_family]\n' +
  '       netstat -R\n' +
  '       netstat -r [-AFu] [-f address_family] [-M core] [-N system] [-T rtable]\n' +
  '       netstat -P pcbaddr [-v] [-M core] [-N system]\n' +
  '       netstat -s -X [-p protocol]\n'; // packetflow's addition

test('netstat -s with every counter zero prints every section', async () => {
  const r = await capture(netstatTool(new KernelStats()), ['-s']);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, golden('s-zeros.txt'));
  assert.match(r.stdout, /^ip:\n\t0 total packets received\n/);
  assert.match(r.stdout, /\nrip6:\n\t0 messages received\n/);
});

test('netstat -ss with every counter zero prints the headers and literals only', async () => {
  const r = await capture(netstatTool(new KernelStats()), ['-ss']);
  assert.equal(r.stdout, golden('ss-zeros.txt'));
  assert.ok(r.stdout.includes('ip6:\n\tMbuf statistics:\nicmp6:\n\tHistogram of error messages to be generated:\nrip6:\n'));
  // -s -s is the same as -ss.
  assert.equal((await capture(netstatTool(new KernelStats()), ['-s', '-s'])).stdout, r.stdout);
});

test('netstat -ss with counters set: plurals, p2b, u_int32 wrap, delivered, histograms', async () => {
  const r = await capture(netstatTool(fixtureKernel()), ['-ss']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, golden('ss-fixture.txt'));
  const out = r.stdout;
  assert.ok(out.includes('\t1 total packet received\n\t2 packets for this host\n'));
  assert.ok(out.includes('\t1 SYN cache entry added\n'));
  assert.ok(out.includes('\t1 PCB cache miss\n'));
  assert.ok(out.includes('\t1 protocol family mismatche\n'));
  assert.ok(out.includes('\t1 membership query received\n\t2 membership queries received'));
  // p2b: hidden when the first value is 0, whatever the limit.
  assert.ok(!out.includes('longest bucket length'));
  // u_int32_t counters wrap: 2^32 is 0 (hidden), 2^32 + 5 is 5.
  assert.ok(!out.includes('ack-only'));
  assert.ok(out.includes('\t5 packets received\n'));
  assert.ok(out.includes('\t3 delivered\n'));
  assert.ok(out.includes('\tOutput packet histogram:\n\t\techo reply: 2\n'));
  assert.ok(out.includes('\t\t#80: 1\n'));
  assert.ok(!out.includes(': 9\n')); // icp6s_inhist[255] is never printed
});

test('netstat -s -p tcp prints one section', async () => {
  const k = fixtureKernel();
  const r = await capture(netstatTool(k), ['-s', '-p', 'tcp']);
  assert.equal(r.stdout, golden('s-p-tcp-fixture.txt'));
  assert.ok(r.stdout.startsWith('tcp:\n\t1 packet sent\n\t\t2 data packets (1 byte)\n'));
  assert.ok(r.stdout.includes('\t0 longest bucket length in current SYN cache, limit is 105\n'));
  assert.ok(r.stdout.includes('\t\t0 ack-only packets (0 delayed)\n'));
  // Bundled flags, an /etc/protocols alias, and -p winning over -f.
  assert.equal((await capture(netstatTool(k), ['-sp', 'TCP', '-f', 'inet6'])).stdout, r.stdout);
  assert.equal((await capture(netstatTool(k), ['-sn', '-p', 'tcp'])).stdout, r.stdout);
});

test('netstat -s -f inet6 and -f inet', async () => {
  const k = fixtureKernel();
  const r6 = await capture(netstatTool(k), ['-s', '-f', 'inet6']);
  assert.equal(r6.stdout, golden('s-f-inet6-fixture.txt'));
  const r4 = await capture(netstatTool(k), ['-s', '-finet']);
  const all = await capture(netstatTool(k), ['-s']);
  assert.equal(r4.stdout + r6.stdout, all.stdout);
  assert.ok(r4.stdout.endsWith('pflow:\n\t0 flows sent\n\t0 packets sent\n\t\t0 send failed due to mbuf memory error\n\t\t0 send error\n'));
  // Families without protocol statistics print nothing.
  for (const argv of [['-s', '-u'], ['-s', '-f', 'local'], ['-s', '-f', 'mpls']]) {
    const r = await capture(netstatTool(k), argv);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', '']);
  }
});

test('netstat errors and usage are OpenBSD main.c texts', async () => {
  const ns = netstatTool(new KernelStats());
  const cases: [string[], string][] = [
    [['-s', '-p', 'foo'], 'netstat: foo: unknown protocol\n'],
    [['-s', '-p', 'ipv6'], 'netstat: ipv6: unknown protocol\n'], // an alias of no section
    [['-s', '-f', 'ipx'], 'netstat: ipx: unknown address family\n'],
    [['-s', '-c', '0'], 'netstat: count is too small\n'],
    [['-s', '-c', 'x'], 'netstat: count is invalid\n'],
    [['-s', '-T', '256'], 'netstat: invalid table id: too large\n'],
    [['-s', '-w', '-1'], 'netstat: interval is too small\n'],
    [['-s', '-P', 'zz'], 'netstat: zz: invalid PCB address\n'],
    [['-s', 'x'], 'netstat: interval is invalid\n'],
    [['-z'], `netstat: unknown option -- z\n${USAGE}`],
    [['-s', '-p'], `netstat: option requires an argument -- p\n${USAGE}`],
    [['-L'], USAGE],
    [['-s', '1', '2'], USAGE],
  ];
  for (const [argv, err] of cases) {
    const r = await capture(ns, argv);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, '', err], argv.join(' '));
  }
  // The first bad option wins, as getopt processes them in order.
  assert.equal((await capture(ns, ['-p', 'bad', '-z'])).stderr, 'netstat: bad: unknown protocol\n');
});

test('modes not implemented yet end in usage', async () => {
  const ns = netstatTool(new KernelStats());
  for (const argv of [[], ['-an'], ['-rn'], ['-i'], ['-I', 'em0'], ['-m'], ['-R'], ['-g'], ['-W', 'em0'], ['-rs'], ['-gs'], ['-s', '5'], ['-p', 'tcp']]) {
    const r = await capture(ns, argv);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, '', USAGE], argv.join(' '));
  }
});

test('a source without a protocol prints zeros; ENOPROTOOPT skips it; ifindex names', async () => {
  const k = fixtureKernel();
  const src: NetstatSource = {
    counters: (p) => (p === 'carp' ? null : p === 'ip6' ? k.counters(p) : undefined),
    ifIndexToName: (i) => (i === 1 ? 'em0' : undefined),
  };
  const r = await capture(netstatTool(src), ['-ss']);
  assert.ok(!r.stdout.includes('carp:'));
  assert.ok(r.stdout.includes('pfsync:\ndivert:\n'));
  assert.ok(r.stdout.includes('\t\ttwo or more mbuf:\n\t\t\tem0 = 3\n'));
  assert.ok(r.stdout.startsWith('ip:\nicmp:\n'));
});

test('helpers: name2protox, strtonum, cprintf', () => {
  assert.equal(name2protox('ipencap'), 'ipencap');
  assert.equal(name2protox('IP-ENCAP'), 'ipencap');
  assert.equal(name2protox('vrrp'), 'carp');
  assert.equal(name2protox('Tcp'), undefined);
  assert.equal(strtonum(' +42', 1, 100), 42);
  assert.equal(strtonum('', 1, 100), 'invalid');
  assert.equal(strtonum('4x', 1, 100), 'invalid');
  assert.equal(cprintf('%u %lu %llu %lld %s %x %%\n', [2 ** 32 + 7, 2 ** 40, -1, -1, 'x', 255]), '7 1099511627776 18446744073709551615 -1 x ff %\n');
});
