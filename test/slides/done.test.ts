/**
 * The kernel issue's "Done when": a lab of two hosts and a router built in
 * code pings end to end, and `netstat -ss`, `kstat`, `ifconfig em1` and
 * `dmesg` on the router print what the talk's slides print, from that
 * traffic.  The whole session is one golden transcript
 * (golden/done-router.txt): `machine# command` lines, then the output.
 *
 * UPDATE_GOLDEN=1 rewrites the transcript instead of comparing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slideLab, sh, type KTool } from './lab.js';
import type { Kernel } from '../../src/sys/kern/kernel.js';
import { ping } from '../../src/sbin/ping/ping.js';
import { ifconfig } from '../../src/sbin/ifconfig/ifconfig.js';
import { dmesg } from '../../src/sbin/dmesg/dmesg.js';
import { kstat } from '../../src/usr.bin/kstat/kstat.js';
import { netstat } from '../../src/usr.bin/netstat/main.js';

/** test/slides in the source tree (tests also run compiled from dist/). */
function sourceDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('project root not found');
    d = up;
  }
  return join(d, 'test', 'slides');
}

test('Done when: two hosts and a router ping end to end; the router prints the slides', () => {
  const L = slideLab();
  let transcript = '';
  const run = (name: string, k: Kernel, tool: KTool, ...argv: string[]): void => {
    transcript += `${name}# ${argv.length ? `${toolName(tool)} ${argv.join(' ')}` : toolName(tool)}\n`;
    transcript += sh(k, tool, ...argv);
  };
  const toolName = (t: KTool): string => (t === ping ? 'ping' : t === ifconfig ? 'ifconfig' : t === dmesg ? 'dmesg' : t === kstat ? 'kstat' : 'netstat');
  run('a', L.a.k, ping, '-c', '3', '198.51.100.20');
  run('a', L.a.k, ping, '-c', '2', '192.0.2.1');
  run('router', L.router.k, netstat as KTool, '-ss');
  run('router', L.router.k, kstat);
  run('router', L.router.k, ifconfig, 'em1');
  run('router', L.router.k, dmesg);

  const file = join(sourceDir(), 'golden', 'done-router.txt');
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, transcript);
  assert.equal(transcript, readFileSync(file, 'utf8'));
  // The slides' lines, from this traffic.
  assert.match(transcript, /\nip:\n\t8 total packets received\n\t2 packets for this host\n\t6 packets forwarded\n\t2 packets sent from this host\n/);
  assert.match(transcript, /\nem1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 0c:c4:7a:78:f3:55\n\tdescription: Intel I210\n/);
  assert.match(transcript, /\nem1 at pci2 dev 0 function 0 "Intel I210" rev 0x03: msi, address 0c:c4:7a:78:f3:55\n/);
  assert.match(transcript, /\nem1:0:txq:0\n {9}packets: \d+ packets\n {11}bytes: \d+ bytes\n {10}qdrops: 0 packets\n/);
});
