import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';
import { parseTopology, parseRate, parseDelay, TopologyErrors } from '../../src/lab/topology.js';
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
  assert.deepEqual(errors(BASE.replace('em1: {', 'eth1: {') + CABLE), ['lab.yaml:7: machine r1: nic eth1: interface names are em0, em1, ... or ix0, ix1, ...']);
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
  assert.deepEqual([...lab.machines.keys()], ['router', 'client', 'peer', 'far', 'reader', 'sink']);
  const r = lab.machine('router')!;
  assert.deepEqual(r.interfaces(), ['lo0', 'ix0', 'ix1', 'em0', 'em1', 'em2']);
  assert.ok(r.k.msgbuf.some((l) => l.startsWith('ix1 at pci1 dev 0 function 1 "Intel X550T" rev 0x01') && l.includes('4 queues') && l.endsWith('address a0:36:9f:e0:52:55')));
  assert.equal(r.k.sysctl.get('net.inet.ip.forwarding')!.value, 1);
  assert.equal(lab.machine('client')!.k.sysctl.get('net.inet.ip.forwarding')!.value, 0);
  assert.equal(lab.world.now, 1e9);
});

