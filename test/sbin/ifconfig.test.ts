import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { Em } from '../../src/sys/dev/em.js';
import { Cable } from '../../src/sys/dev/cable.js';
import { loopattach } from '../../src/sys/net/if_loop.js';
import { ifconfig, printb } from '../../src/sbin/ifconfig/ifconfig.js';
import { StringOutput } from '../../src/lib/io.js';
import type { Ifnet, InIfaddr } from '../../src/sys/net/if.js';

interface Run {
  status: number;
  out: string;
  err: string;
}

function lab(): { k: Kernel; em0: Em; em1: Em; run: (...argv: string[]) => Run } {
  const w = new World();
  const k = new Kernel(w, { hostname: 'fw' });
  const peer = new Kernel(w, { hostname: 'peer' });
  loopattach(k);
  const em0 = new Em(k, { lladdr: '0c:c4:7a:78:f3:54' });
  const em1 = new Em(k, { lladdr: '0c:c4:7a:78:f3:55' });
  const p1 = new Em(peer, { lladdr: '02:00:00:00:00:01' });
  new Cable(w).connect(em1, p1);
  const run = (...argv: string[]): Run => {
    const out = new StringOutput();
    const err = new StringOutput();
    const status = ifconfig(k, argv, { stdout: out, stderr: err });
    return { status, out: out.text(), err: err.text() };
  };
  return { k, em0, em1, run };
}

test('ifconfig IF: the talk\'s em1 block', () => {
  const { run } = lab();
  assert.deepEqual(run('em1', 'inet', '198.51.100.3/24'), { status: 0, out: '', err: '' });
  run('em1', 'description', 'Intel I210');
  assert.equal(
    run('em1').out,
    'em1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n' +
      '\tlladdr 0c:c4:7a:78:f3:55\n' +
      '\tdescription: Intel I210\n' +
      '\tindex 3 priority 0 llprio 3\n' +
      '\tmedia: Ethernet autoselect (1000baseT full-duplex)\n' +
      '\tstatus: active\n' +
      '\tinet 198.51.100.3 netmask 0xffffff00 broadcast 198.51.100.255\n',
  );
});

test('ifconfig: listing order, lo0 first, down interface without carrier, aliases with -A only', () => {
  const { run } = lab();
  run('lo0', 'inet', '127.0.0.1');
  run('em1', '192.0.2.1', 'netmask', '255.255.255.128');
  run('em1', 'inet', '192.0.2.200/32', 'alias');
  const all = run().out;
  assert.equal(
    all,
    'lo0: flags=2008049<UP,LOOPBACK,RUNNING,MULTICAST,LRO> mtu 32768\n' +
      '\tindex 1 priority 0 llprio 3\n' +
      '\tgroups: lo\n' +
      '\tinet 127.0.0.1 netmask 0xff000000\n' +
      'em0: flags=8802<BROADCAST,SIMPLEX,MULTICAST> mtu 1500\n' +
      '\tlladdr 0c:c4:7a:78:f3:54\n' +
      '\tindex 2 priority 0 llprio 3\n' +
      '\tmedia: Ethernet autoselect (none)\n' +
      '\tstatus: no carrier\n' +
      'em1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n' +
      '\tlladdr 0c:c4:7a:78:f3:55\n' +
      '\tindex 3 priority 0 llprio 3\n' +
      '\tmedia: Ethernet autoselect (1000baseT full-duplex)\n' +
      '\tstatus: active\n' +
      '\tinet 192.0.2.1 netmask 0xffffff80 broadcast 192.0.2.127\n',
  );
  assert.equal(run('-a').out, all);
  assert.match(run('-A').out, /inet 192\.0\.2\.1 netmask 0xffffff80 broadcast 192\.0\.2\.127\n\tinet 192\.0\.2\.200 netmask 0xffffffff broadcast 192\.0\.2\.200\n$/);
  assert.match(run('em1').out, /\tinet 192\.0\.2\.200 /, 'a named interface shows all addresses');
  const A = run('-A').out;
  assert.equal(run('em').out, A.slice(A.indexOf('em0:')), 'a name prefix matches em0 and em1, with aliases');
  assert.equal(run('lo').out, run('lo0').out, 'group lo');
});

test('ifconfig: replacing, deleting addresses and the protocol hooks', () => {
  const { k, em1, run } = lab();
  const events: string[] = [];
  k.if_addrhooks.push((ifp: Ifnet, ia: InIfaddr, added: boolean) => events.push(`${ifp.if_xname} ${added ? '+' : '-'}${ia.addr.toString(16)}/${ia.mask.toString(16)}`));
  run('em1', 'inet', '192.0.2.1/24');
  run('em1', 'inet', '192.0.2.9/25', 'alias');
  run('em1', 'inet', '198.51.100.1/24');
  assert.deepEqual(
    em1.ifp.if_addrs.map((a) => a.addr.toString(16)),
    ['c0000209', 'c6336401'],
    'without alias the first address is replaced',
  );
  run('em1', 'inet', '192.0.2.9', '-alias');
  run('em1', 'delete');
  assert.equal(em1.ifp.if_addrs.length, 0);
  assert.deepEqual(events, [
    'em1 +c0000201/ffffff00',
    'em1 +c0000209/ffffff80',
    'em1 -c0000201/ffffff00',
    'em1 +c6336401/ffffff00',
    'em1 -c0000209/ffffff80',
    'em1 -c6336401/ffffff00',
  ]);
  assert.deepEqual(run('em1', 'delete'), { status: 1, out: '', err: "ifconfig: SIOCDIFADDR: Can't assign requested address\n" });
});

test('ifconfig: up/down, mtu, lladdr, priority, description, groups', () => {
  const { em0, run } = lab();
  run('em0', 'up');
  assert.match(run('em0').out, /^em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n/);
  run('em0', 'mtu', '9000', 'lladdr', '02:aa:bb:cc:dd:ee', 'priority', '7', 'llprio', '5', 'group', 'uplink', 'description', 'to the lab');
  assert.equal(
    run('em0').out,
    'em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 9000\n' +
      '\tlladdr 02:aa:bb:cc:dd:ee\n' +
      '\tdescription: to the lab\n' +
      '\tindex 2 priority 7 llprio 5\n' +
      '\tgroups: uplink\n' +
      '\tmedia: Ethernet autoselect (none)\n' +
      '\tstatus: no carrier\n',
  );
  assert.equal(run('uplink').out, run('em0').out, 'a group name lists its members');
  run('em0', '-description', '-group', 'uplink', 'down');
  assert.match(run('em0').out, /^em0: flags=8802<BROADCAST,SIMPLEX,MULTICAST> mtu 9000\n\tlladdr 02:aa:bb:cc:dd:ee\n\tindex 2 /);
  assert.equal(em0.ifp.if_mtu, 9000);
});

test('ifconfig: OpenBSD error texts and exit statuses', () => {
  const { run } = lab();
  assert.deepEqual(run('em9'), { status: 1, out: '', err: 'em9: no such interface\n' });
  assert.deepEqual(run('em1', 'mtu', '9999'), { status: 0, out: '', err: 'ifconfig: SIOCSIFMTU: Invalid argument\n' });
  assert.deepEqual(run('em1', 'mtu', '20'), { status: 0, out: '', err: 'ifconfig: SIOCSIFMTU: Invalid argument\n' });
  assert.deepEqual(run('em1', 'mtu', 'big'), { status: 1, out: '', err: 'ifconfig: mtu big: invalid\n' });
  assert.deepEqual(run('em9', 'up'), { status: 1, out: '', err: 'ifconfig: em9: SIOCGIFFLAGS: Device not configured\n' });
  // Without `alias` the old address is deleted first, and that fails first.
  assert.deepEqual(run('em9', 'inet', '192.0.2.1/24'), { status: 1, out: '', err: 'ifconfig: SIOCDIFADDR: Device not configured\n' });
  assert.deepEqual(run('em9', 'inet', '192.0.2.1/24', 'alias'), { status: 1, out: '', err: 'ifconfig: SIOCAIFADDR: Device not configured\n' });
  assert.deepEqual(run('em1', 'inet', '192.0.2.300'), { status: 1, out: '', err: 'ifconfig: 192.0.2.300: bad value\n' });
  assert.deepEqual(run('em1', 'inet', '192.0.2.1', 'netmask', '255.0.255.0'), {
    status: 1,
    out: '',
    err: 'ifconfig: 255.0.255.0: non-contiguous mask\n',
  });
  assert.deepEqual(run('em1', 'inet', '192.0.2.1/33'), { status: 1, out: '', err: 'ifconfig: prefix 33: too large\n' });
  assert.deepEqual(run('em1', 'mtu'), { status: 1, out: '', err: "ifconfig: 'mtu' requires argument\n" });
  assert.equal(run('-x').status, 1);
  assert.equal(
    run('-x').err,
    'usage: ifconfig [-AaC] [-M lladdr] [interface] [address_family]\n\t\t[address [dest_address]] [parameters]\n',
  );
});

test('ifconfig -C lists the cloners', () => {
  const { run } = lab();
  assert.equal(
    run('-C').out,
    'aggr bpe bridge carp egre enc eoip erspan etherip gif gre lo mgre mpe mpip mpw nvgre pair pflog pflow pfsync ppp pppoe rport sec svlan tap tpmr trunk tun veb vether vlan vport vxlan wg\n',
  );
});

test('printb: the talk\'s flag words', () => {
  assert.equal(printb('flags', 0x8c43), 'flags=8c43<UP,BROADCAST,RUNNING,OACTIVE,SIMPLEX,MULTICAST>');
  assert.equal(printb('flags', 0x2008049), 'flags=2008049<UP,LOOPBACK,RUNNING,MULTICAST,LRO>');
});

test('ifconfig IF hwfeatures: the driver\'s capabilities and hardmtu; tcplro only where the driver has LRO', async () => {
  const { k, run } = lab();
  const { Ix } = await import('../../src/sys/dev/ix.js');
  new Ix(k, { lladdr: '0c:c4:7a:78:f3:60' });
  // em_setup_interface() for an I210: checksums, VLAN, TSO; no LRO.
  assert.equal(
    run('em0', 'hwfeatures').out,
    'em0: flags=8802<BROADCAST,SIMPLEX,MULTICAST> mtu 1500\n' +
      '\thwfeatures=31b7<CSUM_IPv4,CSUM_TCPv4,CSUM_UDPv4,VLAN_MTU,VLAN_HWTAGGING,CSUM_TCPv6,CSUM_UDPv6,TSOv4,TSOv6> hardmtu 9216\n' +
      '\tlladdr 0c:c4:7a:78:f3:54\n' +
      '\tindex 2 priority 0 llprio 3\n' +
      '\tmedia: Ethernet autoselect (none)\n' +
      '\tstatus: no carrier\n',
  );
  assert.match(run('ix0', 'hwfeatures').out, /^ix0: flags=2008802<BROADCAST,SIMPLEX,MULTICAST,LRO> mtu 1500\n\thwfeatures=71b7<CSUM_IPv4,CSUM_TCPv4,CSUM_UDPv4,VLAN_MTU,VLAN_HWTAGGING,CSUM_TCPv6,CSUM_UDPv6,TSOv4,TSOv6,LRO> hardmtu 9198\n/);
  assert.deepEqual(run('ix0', '-tcplro'), { status: 0, out: '', err: '' });
  assert.match(run('ix0').out, /^ix0: flags=8802<BROADCAST,SIMPLEX,MULTICAST> mtu 1500\n/);
  assert.deepEqual(run('ix0', 'tcplro'), { status: 0, out: '', err: '' });
  assert.match(run('ix0').out, /^ix0: flags=2008802</);
  // em has no IFCAP_LRO: ifsetlro() says ENOTSUP.
  assert.deepEqual(run('em0', 'tcplro'), { status: 0, out: '', err: 'ifconfig: em0: SIOCSIFXFLAGS: Not supported\n' });
});
