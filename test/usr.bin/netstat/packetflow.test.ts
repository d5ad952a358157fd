import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture } from '../../../src/lib/io.js';
import { KernelStats } from '../../../src/sys/kern/counters.js';
import { netstatTool } from '../../../src/usr.bin/netstat/main.js';
import { EXTRA_SECTIONS } from '../../../src/usr.bin/netstat/packetflow.js';
import { ETHERSTAT_LAYOUT } from '../../../src/sys/net/if_ethersubr.js';
import { ARPSTAT_LAYOUT } from '../../../src/sys/netinet/if_ether.js';
import { threeHosts, echoRequest, send, ip } from '../../sys/netinet/lab.js';

test('netstat -s -X: packetflow sections after OpenBSD output, which stays identical', async () => {
  const { world, a, r } = threeHosts();
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(1e9);
  const ns = netstatTool(r.k);
  const plain = await capture(ns, ['-ss']);
  const extra = await capture(ns, ['-ss', '-X']);
  assert.equal(extra.status, 0);
  assert.equal(extra.stderr, '');
  assert.ok(extra.stdout.startsWith(plain.stdout), 'OpenBSD sections first and unchanged');
  assert.equal(
    extra.stdout.slice(plain.stdout.length),
    'ether:\n' +
      '\t6 input frames\n' +
      '\t2 output datagrams framed\n' +
      'arp:\n' +
      '\t4 requests sent\n' +
      '\t4 packets received\n' +
      '\t\t2 requests\n' +
      '\t\t2 replies\n' +
      '\t\t2 requests for an address not ours\n' +
      '\t2 entries resolved\n',
  );
  // -f restricts to OpenBSD's families: no packetflow sections.
  assert.equal((await capture(ns, ['-ss', '-X', '-f', 'inet'])).stdout, (await capture(ns, ['-ss', '-f', 'inet'])).stdout);
});

test('netstat -s -X -p ether|arp: every counter, one line each, C plurals', async () => {
  const { world, a, r } = threeHosts();
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(1e9);
  const ns = netstatTool(r.k);
  const arp = await capture(ns, ['-s', '-X', '-p', 'arp']);
  assert.equal(
    arp.stdout,
    'arp:\n' +
      '\t4 requests sent\n' +
      '\t0 replies sent\n' +
      '\t4 packets received\n' +
      '\t\t2 requests\n' +
      '\t\t2 replies\n' +
      '\t\t0 with a bad header\n' +
      '\t\t0 with an unknown operation\n' +
      '\t\t0 with a broadcast sender address\n' +
      '\t\t0 sent by ourselves\n' +
      '\t\t0 on an interface without ARP\n' +
      '\t\t2 requests for an address not ours\n' +
      '\t0 duplicate IP addresses detected\n' +
      '\t0 attempts to overwrite a permanent entry\n' +
      '\t0 attempts to overwrite an entry of another interface\n' +
      '\t2 entries resolved\n' +
      '\t0 entries timed out\n' +
      '\t0 packets dropped from a full hold queue\n' +
      '\t0 packets dropped over the total hold limit\n' +
      '\t0 packets dropped, no reply after the last try\n' +
      '\t0 packets dropped, destination down\n' +
      '\t0 packets dropped, route without ARP information\n' +
      '\t0 packets dropped, entry deleted\n',
  );
  const ether = await capture(ns, ['-X', '-s', '-p', 'ether']);
  assert.equal(
    ether.stdout,
    'ether:\n' +
      '\t6 input frames\n' +
      '\t\t0 shorter than an Ethernet header\n' +
      '\t\t0 VLAN tagged with no vlan interface\n' +
      '\t\t0 unicast to another station\n' +
      '\t\t0 own multicast looped back\n' +
      '\t\t0 with unknown ethertype\n' +
      '\t2 output datagrams framed\n' +
      '\t0 output datagrams dropped, interface not running\n' +
      '\t0 output datagrams dropped, no space for the header\n',
  );
  // Singular forms.
  r.k.inet.arp.stats.zero();
  for (const n of ['arps_txreplies', 'arps_dupips', 'arps_resolved']) r.k.inet.arp.stats.inc(r.k.inet.arp.stats.id(n));
  assert.equal(
    (await capture(ns, ['-ssX', '-p', 'arp'])).stdout,
    'arp:\n\t1 reply sent\n\t1 duplicate IP address detected\n\t1 entry resolved\n',
  );
  // Every counter of the two layouts has exactly one line.
  for (const [s, layout] of [[EXTRA_SECTIONS[0]!, ETHERSTAT_LAYOUT], [EXTRA_SECTIONS[1]!, ARPSTAT_LAYOUT]] as const) {
    assert.deepEqual(s.lines.map((l) => l[0]).sort(), layout.fields.map((f) => f.name).sort(), s.name);
  }
});

test('netstat -X: packetflow names need -X; OpenBSD behaviour otherwise', async () => {
  const { r } = threeHosts();
  const ns = netstatTool(r.k);
  assert.deepEqual(Object.values(await capture(ns, ['-s', '-p', 'arp'])), [1, '', 'netstat: arp: unknown protocol\n']);
  assert.deepEqual(Object.values(await capture(ns, ['-s', '-p', 'ether'])), [1, '', 'netstat: ether: unknown protocol\n']);
  // A source without packetflow blocks prints zeros.
  const z = await capture(netstatTool(new KernelStats()), ['-ssX']);
  assert.ok(z.stdout.endsWith('rip6:\nether:\narp:\n'), z.stdout.slice(-40));
});
