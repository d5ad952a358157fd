import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { Em } from '../../../src/sys/dev/em.js';
import { Cable } from '../../../src/sys/dev/cable.js';
import { if_addr_add } from '../../../src/sys/net/if.js';
import { ether_ifattach } from '../../../src/sys/net/if_ethersubr.js';
import { capture } from '../../../src/lib/io.js';
import { netstatTool } from '../../../src/usr.bin/netstat/main.js';
import { routeTool } from '../../../src/sbin/route/route.js';
import { SHARED } from '../../helpers/root.js';
import { threeHosts, echoRequest, send, ip } from '../../sys/netinet/lab.js';

/** OpenBSD's regress/usr.bin/netstat nstest1, replayed on an em(4) interface. */
function nstest1(): Kernel {
  const world = new World();
  const k = new Kernel(world, { hostname: 'nstest' });
  const nic = new Em(k, { lladdr: 'fe:e1:ba:d4:c8:1d', name: 'vether99' });
  ether_ifattach(nic.ifp);
  // vether(4) always has link: plug the em into a peer.
  const peer = new Em(new Kernel(world, { hostname: 'peer' }), { lladdr: '02:00:00:00:00:99' });
  new Cable(world).connect(nic, peer);
  // ifconfig vether99 192.168.89.5 (classful /24, brings it up)
  if_addr_add(nic.ifp, 0xc0a85905);
  return k;
}

test('netstat -rnf inet after route add 0.0.0.0 (regress nstest1)', async () => {
  const k = nstest1();
  const r = await capture(routeTool(k), ['-n', 'add', '0.0.0.0', '192.168.89.1']);
  assert.equal(r.stdout, 'add host 0.0.0.0: gateway 192.168.89.1\n');
  const n = await capture(netstatTool(k), ['-rnf', 'inet']);
  assert.equal(n.status, 0);
  // The regress rewrites link#<n> and its padding the same way.
  const got = n.stdout.replace(/link#[0-9 ]*U/, 'link#              U');
  const ok = join(SHARED, 'reference-data', 'misc-regress', 'netstat-nstest1.ok');
  const want = existsSync(ok)
    ? readFileSync(ok, 'utf8')
    : 'Routing tables\n\nInternet:\n' +
      'Destination        Gateway            Flags   Refs      Use   Mtu  Prio Iface\n' +
      '0.0.0.0            192.168.89.1       UGHS       0        0     -     8 vether99\n' +
      '192.168.89/24      192.168.89.5       UCn        1        0     -     4 vether99\n' +
      '192.168.89.1       link#              UHLch      1        2     -     3 vether99\n' +
      '192.168.89.5       fe:e1:ba:d4:c8:1d  UHLl       0        0     -     1 vether99\n' +
      '192.168.89.255     192.168.89.5       UHb        0        0     -     1 vether99\n';
  assert.equal(got, want);
});

test('netstat -rn on the router after a ping', async () => {
  const { world, a, r } = threeHosts();
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(1e9);
  const n = await capture(netstatTool(r.k), ['-rn']);
  assert.equal(
    n.stdout,
    'Routing tables\n\nInternet:\n' +
      'Destination        Gateway            Flags   Refs      Use   Mtu  Prio Iface\n' +
      '127.0.0.1          127.0.0.1          UHl        0        0 32768     1 lo0  \n' +
      // Uses follow OpenBSD's lookups: ARP requests and gratuitous ARPs look up
      // senders and targets without cloning, forwarded packets once each.
      '192.0.2/24         192.0.2.1          UCn        1        3     -     4 em0  \n' +
      '192.0.2.1          02:00:00:00:00:02  UHLl       0        1     -     1 em0  \n' +
      '192.0.2.10         02:00:00:00:00:01  UHLc       0        2     -     3 em0  \n' +
      '192.0.2.255        192.0.2.1          UHb        0        0     -     1 em0  \n' +
      '198.51.100/24      198.51.100.1       UCn        1        3     -     4 em1  \n' +
      '198.51.100.1       02:00:00:00:00:03  UHLl       0        1     -     1 em1  \n' +
      '198.51.100.20      02:00:00:00:00:04  UHLc       0        2     -     3 em1  \n' +
      '198.51.100.255     198.51.100.1       UHb        0        0     -     1 em1  \n',
  );
});

test('netstat -i and -I', async () => {
  const { world, a } = threeHosts();
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(1e9);
  const n = await capture(netstatTool(a.k), ['-i']);
  assert.equal(
    n.stdout,
    'Name    Mtu   Network     Address              Ipkts Ifail    Opkts Ofail Colls\n' +
      'lo0     32768 <Link>                               0     0        0     0     0\n' +
      'lo0     32768 127/8       127.0.0.1                0     0        0     0     0\n' +
      'em0     1500  <Link>      02:00:00:00:00:01        3     0        3     0     0\n' +
      'em0     1500  192.0.2/24  192.0.2.10               3     0        3     0     0\n',
  );
  const one = await capture(netstatTool(a.k), ['-I', 'em0', '-b']);
  assert.match(one.stdout, /^Name {4}Mtu {3}Network {5}Address {15}Ibytes {5}Obytes\nem0 /);
});
