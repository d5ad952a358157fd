/**
 * netstat -rn -f inet6 and netstat -rn (both families) on a host and the
 * router of the IPv6 lab after a ping: show.c's Internet6 layout
 * (destinations %-43.43s, gateways %-39.39s unless -n, Prio masked,
 * scoped names, no connected route on lo0).  Goldens in golden/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture } from '../../../src/lib/io.js';
import { netstatTool } from '../../../src/usr.bin/netstat/main.js';
import { if_setflags_up } from '../../../src/sys/net/if.js';
import { threeHosts6, echo6, send6, ip6 } from '../../sys/netinet6/lab6.js';

const here = dirname(fileURLToPath(import.meta.url));
const goldenDir = join(here.replace(/([\\/])dist([\\/])test([\\/])/, '$1test$3'), 'golden');

function golden(name: string, text: string): void {
  const p = join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(p, text);
  assert.equal(text, readFileSync(p, 'utf8'));
}

test('netstat -rn -f inet6 and -rn on the IPv6 lab', async () => {
  // First hosts of this process: the MAC addresses in the goldens are fixed.
  const { world, a, r } = threeHosts6(71);
  send6(a.k, echo6(a.k, ip6('2001:db8:2::20')));
  world.runFor(1e9);
  golden('rn-f-inet6-host.txt', (await capture(netstatTool(a.k), ['-rn', '-f', 'inet6'])).stdout);
  golden('rn-f-inet6-router.txt', (await capture(netstatTool(r.k), ['-rn', '-f', 'inet6'])).stdout);
  golden('rn-host.txt', (await capture(netstatTool(a.k), ['-rn'])).stdout);
  // A down interface: its routes lose U and keep their priority in the Prio column.
  if_setflags_up(r.ifs[1]!, false);
  const down = (await capture(netstatTool(r.k), ['-rn', '-f', 'inet6'])).stdout;
  assert.match(down, /\n2001:db8:2::\/64 {29}2001:db8:2::1 {27}Cn {9}\d+ +\d+ +- +4 em1 {2}\n/);
});
