import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sh } from './helpers.js';
import { parseTopology, parseRate, parseDelay, derivedLladdr, TopologyErrors } from '../../src/lab/topology.js';
import { LAB_SCHEMA } from '../../src/lab/schema.js';
import { Lab } from '../../src/lab/lab.js';
import { TALK_LAB_YAML } from '../../src/lab/default.js';

function errors(yaml: string): string[] {
  try {
    parseTopology(yaml, 'lab.yaml');
  } catch (e) {
    if (e instanceof TopologyErrors) return e.errors.map((x) => x.message);
    throw e;
  }
  return [];
}

const CABLE = '  - { ends: [h1:em0, r1:em0] }\n';
const BASE = `name: t
machines:
  r1:
    kind: router
    nics:
      em0: { lladdr: "02:00:00:00:00:01", inet: 192.0.2.1/24 }
      em1: { lladdr: "02:00:00:00:00:02", inet: 198.51.100.1/24 }
  h1:
    nics:
      em0: { lladdr: "02:00:00:00:00:03", inet: 192.0.2.2/24 }
    routes:
      - { dest: default, gateway: 192.0.2.1 }
cables:
`;

test('a cable to an interface that does not exist names file, line and key', () => {
  const y = BASE + '  - { ends: [h1:em0, r1:em0] }\n  - { ends: [r1:em3, h1:em1] }\n';
  assert.deepEqual(errors(y), ['lab.yaml:15: cable r1:em3: no such interface', 'lab.yaml:15: cable h1:em1: no such interface']);
});

test('schema errors carry the line of the offending key', () => {
  const y = BASE.replace('"02:00:00:00:00:03"', '"02:00:00:00:03"').replace('kind: router', 'kind: switch') + '  - { ends: [h1:em0, r1:em0], rate: fast, colour: red }\n';
  assert.deepEqual(errors(y), [
    'lab.yaml:4: machine r1: kind: must be one of host, router',
    'lab.yaml:10: machine h1: nic em0: lladdr: must be a MAC address such as 0c:c4:7a:78:f3:55',
    'lab.yaml:14: cable h1:em0 r1:em0: colour: unknown key',
    'lab.yaml:14: cable h1:em0 r1:em0: rate: must be a number with a unit, such as 1G or 500ns',
  ]);
});

test('meaning checks: gateways off-net, plugged twice, unit gaps, bad interface names, YAML syntax', () => {
  assert.deepEqual(errors(BASE.replace('gateway: 192.0.2.1', 'gateway: 203.0.113.1') + CABLE), ['lab.yaml:12: machine h1: route default: gateway 203.0.113.1 is on none of the machine\'s networks']);
  assert.deepEqual(errors(BASE + '  - { ends: [h1:em0, r1:em0] }\n  - { ends: [r1:em0, r1:em1] }\n'), ['lab.yaml:15: cable r1:em0: interface already has a cable (cable 1)']);
  assert.deepEqual(errors(BASE.replace('em1: {', 'em2: {') + CABLE), ['lab.yaml:7: machine r1: nic em2: em units count from 0 without gaps (expected em1)']);
  assert.deepEqual(errors(BASE.replace('em1: {', 'eth1: {') + CABLE), ['lab.yaml:7: machine r1: nic eth1: interface names are em0, em1, ..., ix0, ix1, ..., tap0, ... or vxlan0, ...']);
  assert.match(errors('machines: {\n  a: [\n')[0]!, /^lab\.yaml:\d+: /);
});

test('sysctl errors found while building name the line', () => {
  const y = BASE.replace('    kind: router\n', '    kind: router\n    sysctl:\n      net.inet.ip.nosuch: 1\n') + CABLE;
  assert.throws(() => Lab.fromYaml(y, 'lab.yaml'), /lab\.yaml:6: machine r1: sysctl net\.inet\.ip\.nosuch: no such variable/);
});

test('rates and delays with units', () => {
  assert.equal(parseRate('10M'), 10e6);
  assert.equal(parseRate('1Gbit'), 1e9);
  assert.equal(parseRate(1e9), 1e9);
  assert.equal(parseDelay('2ms'), 2e6);
  assert.equal(parseDelay('500ns'), 500);
  assert.equal(parseDelay('1.5us'), 1500);
  assert.equal(parseRate('fast'), null);
});

test('the published schema is the one the loader uses', () => {
  const published = JSON.parse(readFileSync(join(repoRoot(), 'docs', 'lab.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(published, JSON.parse(JSON.stringify(LAB_SCHEMA)));
});

test('the talk lab parses and boots: machines, NICs, dmesg of the multiqueue slide', () => {
  const lab = Lab.fromYaml(TALK_LAB_YAML, 'talk.yaml');
  assert.deepEqual([...lab.machines.keys()], ['router', 'client', 'peer', 'far', 'reader', 'sink', 'fw', 'server']);
  const r = lab.machine('router')!;
  assert.deepEqual(r.interfaces(), ['lo0', 'ix0', 'ix1', 'em0', 'em1', 'em2', 'em3', 'pflog0']);
  assert.ok(r.k.msgbuf.some((l) => l.startsWith('ix1 at pci1 dev 0 function 1 "Intel X550T" rev 0x01') && l.includes('4 queues') && l.endsWith('address a0:36:9f:e0:52:55')));
  assert.equal(r.k.sysctl.get('net.inet.ip.forwarding')!.value, 1);
  assert.equal(lab.machine('client')!.k.sysctl.get('net.inet.ip.forwarding')!.value, 0);
  // IPv6 in the lab: boot settles until DAD and the MLD reports are over.
  assert.equal(lab.world.now, 11e9);
});


const V6 = `name: six
machines:
  r1:
    kind: router
    nics:
      em0: { lladdr: "02:00:00:00:00:01", inet: 192.0.2.1/24, inet6: 2001:db8:1::1/64 }
      em1: { lladdr: "02:00:00:00:00:02", inet6: [2001:db8:2::1/64, 2001:db8:2::99/64] }
  h1:
    nics:
      em0: { lladdr: "02:00:00:00:00:03", inet6: 2001:db8:1::10/64 }
    routes:
      - { dest: default, gateway: "2001:db8:1::1" }
  h2:
    nics:
      em0: { lladdr: "02:00:00:00:00:04", inet6: 2001:db8:2::20/64 }
    routes:
      - { dest: "2001:db8:1::/64", gateway: "2001:db8:2::1" }
cables:
  - { ends: [h1:em0, r1:em0] }
  - { ends: [h2:em0, r1:em1] }
`;

test('inet6 addresses and IPv6 routes: IPv6 on those interfaces and lo0, a router forwards IPv6', () => {
  const lab = Lab.fromYaml(V6, 'lab.yaml');
  const r1 = lab.machine('r1')!;
  assert.equal(r1.k.sysctl.get('net.inet6.ip6.forwarding')!.value, 1);
  assert.equal(lab.machine('h1')!.k.sysctl.get('net.inet6.ip6.forwarding')!.value, 0);
  // Boot waits for DAD: no address is tentative any more; em1's link-local is there too.
  const em1 = r1.k.ifunit('em1')!;
  const addrs = r1.k.inet6.addrs(em1);
  assert.equal(addrs.length, 3);
  assert.ok(addrs.every((a) => (a.ia6_flags & 0x02) === 0));
  const lo0 = r1.k.ifunit('lo0')!;
  assert.ok(r1.k.inet6.addrs(lo0).length >= 2);
});

test('inet6 and IPv6 route errors name file, line and key', () => {
  const bad = V6.replace('inet6: 2001:db8:1::10/64', 'inet6: [2001:db8:1::10/64, "fe80::1/64", "ff02::1/64"]')
    .replace('gateway: "2001:db8:1::1"', 'gateway: "2001:db8:7::1"')
    .replace('dest: "2001:db8:1::/64"', 'dest: "2001:db8:1::1/64"')
    .replace('inet6: [2001:db8:2::1/64', 'inet6: [2001:db8:2::1/200');
  assert.deepEqual(errors(bad), [
    'lab.yaml:7: machine r1: nic em1: inet6: [0]: must be an IPv6 address with prefix length, such as 2001:db8:1::1/64',
  ]);
  const bad2 = bad.replace('2001:db8:2::1/200', '2001:db8:2::1/64');
  assert.deepEqual(errors(bad2), [
    'lab.yaml:10: machine h1: nic em0: inet6: fe80::1/64: link-local addresses come from the lladdr',
    'lab.yaml:10: machine h1: nic em0: inet6: ff02::1/64 is a multicast address',
    'lab.yaml:12: machine h1: route default: gateway 2001:db8:7::1 is on none of the machine\'s networks',
    'lab.yaml:17: machine h2: route 2001:db8:1::1/64: host bits set in the network',
  ]);
});

test('/etc/pf.conf is loaded at boot and pf enabled; its errors point into the topology file', () => {
  const y = BASE.replace('      em1: { lladdr: "02:00:00:00:00:02", inet: 198.51.100.1/24 }\n',
    '      em1: { lladdr: "02:00:00:00:00:02", inet: 198.51.100.1/24 }\n    files:\n      /etc/pf.conf: |\n        block return in on em0 proto tcp to port 22\n        pass in proto udp to port 53 flags S/SA\n') + CABLE;
  try {
    Lab.fromYaml(y, 'lab.yaml');
    assert.fail('loaded a bad pf.conf');
  } catch (e) {
    assert.ok(e instanceof TopologyErrors);
    assert.deepEqual(e.errors.map((x) => x.message), ['lab.yaml:11: machine r1: /etc/pf.conf:2: flags only apply to tcp']);
  }
  const lab = Lab.fromYaml(y.replace(' flags S/SA', ''), 'lab.yaml');
  const pf = lab.machine('r1')!.k.pf!;
  assert.equal(pf.running, true);
  assert.equal(lab.machine('h1')!.k.pf ?? null, null);
});

test('softnet: { latency } makes a machine\'s CPU busy: its input queue fills and drops (kstat rxq qdrops)', async () => {
  const y = BASE.replace('    kind: router\n', '    kind: router\n    softnet: { latency: 10ms }\n') + '  - { ends: [h1:em0, r1:em0], rate: 10G }\n';
  const spec = parseTopology(y, 'lab.yaml');
  assert.equal(spec.machines.find((m) => m.name === 'r1')!.softnetLatency, 10e6);
  assert.equal(spec.machines.find((m) => m.name === 'h1')!.softnetLatency, 0);
  const lab = Lab.fromYaml(y, 'lab.yaml');
  assert.equal(lab.machine('r1')!.k.softnet.latency, 10e6);
  const r = await sh('h1: ping -c 1 -q 192.0.2.1 >/dev/null\nh1: pktgen -r 1500000 -t 0.02 -s 64 198.51.100.9 >/dev/null\nr1: kstat em0:0:rxq:0 | grep qdrops', lab);
  const drops = Number(/qdrops: (\d+) packets/.exec(r.out)?.[1]);
  assert.ok(drops > 0, r.out);
  // The same lab without the key drops nothing there.
  const idle = await sh('h1: ping -c 1 -q 192.0.2.1 >/dev/null\nh1: pktgen -r 1500000 -t 0.02 -s 64 198.51.100.9 >/dev/null\nr1: kstat em0:0:rxq:0 | grep qdrops', Lab.fromYaml(BASE + '  - { ends: [h1:em0, r1:em0], rate: 10G }\n', 'lab.yaml'));
  assert.equal(idle.out, '          qdrops: 0 packets\n');
  // A latency that is not a delay: file, line, key.
  assert.deepEqual(errors(BASE.replace('    kind: router\n', '    kind: router\n    softnet: { latency: 10 parsecs }\n') + CABLE), ['lab.yaml:5: machine r1: softnet: latency: not a delay such as 500us or 10ms']);
  assert.deepEqual(errors(BASE.replace('    kind: router\n', '    kind: router\n    softnet: { delay: 10ms }\n') + CABLE), ['lab.yaml:5: machine r1: softnet: delay: unknown key']);
});

test('lladdr is optional on em and ix: a locally administered address from the machine\'s and the interface\'s names, the same every time', async () => {
  const y = `name: t
machines:
  r1:
    kind: router
    nics:
      em0: { inet: 192.0.2.1/24 }
      ix0: { inet: 198.51.100.1/24 }
  h1:
    nics:
      em0: { lladdr: "02:00:00:00:00:03", inet: 192.0.2.2/24 }
cables:
  - { ends: [h1:em0, r1:em0] }
`;
  const spec = parseTopology(y, 'lab.yaml');
  const r1 = spec.machines[0]!.nics;
  assert.equal(r1[0]!.lladdr, derivedLladdr('r1', 'em0'));
  assert.equal(r1[1]!.lladdr, derivedLladdr('r1', 'ix0'));
  assert.match(r1[0]!.lladdr!, /^02(:[0-9a-f]{2}){5}$/);
  assert.notEqual(r1[0]!.lladdr, r1[1]!.lladdr);
  // Stable: the same names give the same address, in another lab too.
  assert.equal(derivedLladdr('r1', 'em0'), parseTopology(y.replace('name: t', 'name: other'), 'x.yaml').machines[0]!.nics[0]!.lladdr);
  assert.equal(spec.machines[1]!.nics[0]!.lladdr, '02:00:00:00:00:03');
  // A file address that happens to be the derived one wins; the derived one moves aside.
  const taken = parseTopology(y.replace('"02:00:00:00:00:03"', `"${derivedLladdr('r1', 'em0')}"`), 'lab.yaml');
  assert.equal(taken.machines[1]!.nics[0]!.lladdr, derivedLladdr('r1', 'em0'));
  assert.equal(taken.machines[0]!.nics[0]!.lladdr, derivedLladdr('r1', 'em0', 1));
  // The lab boots with it: ifconfig shows it, and the hosts talk.
  const lab = await Lab.load(y, 'lab.yaml');
  const r = await sh('r1: ifconfig em0\nh1: ping -c 1 -q 192.0.2.1', lab);
  assert.match(r.out, new RegExp(`^em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\\n\\tlladdr ${derivedLladdr('r1', 'em0')}\\n`));
  assert.match(r.out, /1 packets transmitted, 1 packets received, 0\.0% packet loss/);
});

test('an address on both ends of a cable is an error naming the second one\'s line; the schema no longer hides it', () => {
  const y = BASE.replace('em0: { lladdr: "02:00:00:00:00:03", inet: 192.0.2.2/24 }', 'em0: { inet: 192.0.2.1/24 }') + CABLE;
  assert.deepEqual(errors(y), ['lab.yaml:6: machine r1: nic em0: inet 192.0.2.1/24: the address of h1:em0 too, on the same cable']);
  const y6 = `machines:
  a:
    nics:
      em0: { inet6: [2001:db8:1::1/64, 2001:db8:1::9/64] }
  b:
    nics:
      em0:
        inet6:
          - 2001:db8:1::2/64
          - 2001:db8:1:0::9/64
cables:
  - { ends: [a:em0, b:em0] }
`;
  assert.deepEqual(errors(y6), ['lab.yaml:10: machine b: nic em0: inet6 2001:db8:1:0::9/64: the address of a:em0 too, on the same cable']);
  // The same address on two links that do not meet is fine.
  assert.deepEqual(errors(BASE.replace('em1: { lladdr: "02:00:00:00:00:02", inet: 198.51.100.1/24 }', 'em1: { lladdr: "02:00:00:00:00:02", inet: 192.0.2.2/24 }') + CABLE), []);
});

test('a cable from an interface to itself is refused with its line', () => {
  assert.deepEqual(errors(BASE + '  - { ends: [h1:em0, h1:em0] }\n'), ['lab.yaml:14: cable h1:em0: both ends are the same interface (a cable joins two)']);
});
