import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh, talk } from './helpers.js';
import { LabTracer, journeyData } from '../../src/lab/journey.js';
import { Shell } from '../../src/lab/shell.js';
import { StringOutput } from '../../src/lib/io.js';

// The router runs pf (the pf Rules slide's ruleset): pf_test(IN) in ip_input, pf_test(OUT) in ip_output.
const FORWARD = [
  'em_intr', 'ifiq_input', 'bpf_mtap_ether(IN)', 'if_input_process', 'ether_input', 'ip_input', 'pf_test(IN)', 'ip_forward', 'ip_output',
  'pf_test(OUT)', 'ether_output', 'ether_resolve', 'arpresolve',
];

test('trace ping: the echo request on every machine, with the exact function path', async () => {
  const r = await sh('on client\ntrace -s ping -c 1 10.0.2.2');
  const paths = r.out.slice(r.out.indexOf('#1 '));
  const lines = paths.split('\n');
  assert.equal(lines[0], '#1 10.0.1.2 > 10.0.2.2: icmp: echo request');
  assert.equal(lines[1], '  client: ip_output → ether_output → ether_resolve → arpresolve → ifq_enqueue → ifq_start → em_start → bpf_mtap_ether(OUT)');
  // The router held the packet for ARP (ix0 had not resolved 10.0.2.2), then sent it on.
  assert.equal(lines[2], `  router: ${[...FORWARD, 'ether_output', 'ether_resolve', 'arpresolve', 'ifq_enqueue', 'ifq_start', 'ixgbe_start', 'bpf_mtap_ether(OUT)'].join(' → ')}`);
  assert.equal(lines[3], '  peer: ixgbe_queue_intr → ifiq_input → bpf_mtap_ether(IN) → if_input_process → ether_input → ip_input → ip_ours → ip_deliver → icmp_input');
  assert.match(paths, /\n#2 \(from #1\) arp who-has 10\.0\.2\.2 tell 10\.0\.2\.1\n {2}router: arprequest → ifq_enqueue → ifq_start → ixgbe_start → bpf_mtap_ether\(OUT\)\n {2}peer: .* → arpinput → in_arpinput\n/);
  assert.match(paths, /\n#3 \(from #2\) arp reply 10\.0\.2\.2 is-at a0:36:9f:02:00:02\n/);
  assert.match(paths, /\n#4 \(from #1\) 10\.0\.2\.2 > 10\.0\.1\.2: icmp: echo reply\n {2}peer: icmp_reflect → ip_output → /);
  assert.match(paths, /\n {2}client: em_intr → .* → icmp_input → rip_input\n/);
});

test('the full trace shows branches with reasons, counters, taps with tcpdump lines, byte changes', async () => {
  const r = await sh('on client\nping -c 1 -q 10.0.2.2 >/dev/null\ntrace ping -c 1 10.0.2.2');
  const t = r.out;
  assert.match(t, /trace: ping -c 1 10\.0\.2\.2 \(on client\): 2 packets\n/);
  assert.match(t, /↳ ip_input: 10\.0\.2\.2 is not ours, forwarding enabled → ip_forward\n/);
  assert.match(t, /Δ ip_forward: ttl 64 → 63\n/);
  assert.match(t, /Δ ip_output: ip_sum 0x[0-9a-f]{4} → 0x[0-9a-f]{4}\n/);
  assert.match(t, /\+ ips_forward\n/);
  assert.match(t, /◉ bpf_mtap_ether\(IN\) em0: 10\.0\.1\.2 > 10\.0\.2\.2: icmp: echo request\n/);
  assert.match(t, /↳ arpresolve: 10\.0\.2\.2 is-at a0:36:9f:02:00:02 \(cached\)\n/);
  assert.match(t, /fate: delivered on peer\n/);
});

test('forwarding disabled: the router drops the packet and says why', async () => {
  const r = await sh('router: sysctl net.inet.ip.forwarding=0\non client\ntrace ping -c 1 -w 1 10.0.2.2');
  assert.match(r.out, /✗ ip_input: 10\.0\.2\.2 is not ours and forwarding is disabled \(net\.inet\.ip\.forwarding=0\) → drop, ips_cantforward\n\s+\+ ips_cantforward\n/);
  assert.match(r.out, /fate: dropped on router: ip_input: 10\.0\.2\.2 is not ours and forwarding is disabled/);
});

test('TTL expiry: the ICMP error is a journey of its own, linked to its cause', async () => {
  const r = await sh('on client\nping -c 1 -q 10.0.2.2 >/dev/null\ntrace -s ping -c 1 -t 1 -w 1 10.0.2.2');
  assert.match(r.out, /\n#2 \(from #1\) 10\.0\.1\.1 > 10\.0\.1\.2: icmp: time exceeded in-transit\n {2}router: icmp_error → icmp_reflect → ip_output → /);
});

test('trace --json gives the same as data', async () => {
  const r = await sh('on client\ntrace --json ping -c 1 10.0.2.2');
  const d = JSON.parse(r.out) as ReturnType<typeof journeyData> & { status: number; output: string };
  assert.equal(d.command, 'ping -c 1 10.0.2.2');
  assert.equal(d.status, 0);
  assert.match(d.output, /1 packets received/);
  const j1 = d.journeys[0]!;
  assert.equal(j1.parent, null);
  assert.deepEqual(j1.hops.map((h) => h.host), ['client', 'router', 'peer']);
  assert.deepEqual(j1.hops[1]!.path.slice(0, FORWARD.length), FORWARD);
  const ttl = j1.hops[1]!.events.find((e) => e.kind === 'bytes' && e.name.includes('ttl'));
  assert.equal(ttl?.name, 'ip_forward: ttl 64 → 63');
  const reply = d.journeys.find((j) => j.packet.includes('echo reply'))!;
  assert.equal(reply.parent, 1);
  assert.equal(reply.origin, 'peer');
  assert.ok(d.journeys.every((j) => j.hops.length > 0));
});

test('tracing off records nothing and leaves no tracer behind', async () => {
  const lab = talk();
  const shell = new Shell(lab);
  const out = new StringOutput();
  await shell.run('on client', { stdout: out, stderr: out });
  await shell.run('trace -s ping -c 1 10.0.2.2', { stdout: out, stderr: out });
  for (const k of lab.kernels()) assert.equal(k.trace, null);
  for (const c of lab.cables) assert.equal(c.trace, null);
  const t = new LabTracer('x');
  await shell.run('ping -c 1 -q 10.0.2.2', { stdout: out, stderr: out });
  assert.equal(t.events.length, 0);
});

test('trace ping6: the IPv6 slide\'s path, ether_input → ip6_input → ip6_forward → ether_output on the router', async () => {
  const r = await sh('on client\ntrace -s ping6 -c 1 2001:db8:2::2');
  assert.match(r.out, /^PING 2001:db8:2::2 \(2001:db8:2::2\): 56 data bytes\n64 bytes from 2001:db8:2::2: icmp_seq=0 hlim=63 /);
  assert.match(r.out, /\n1 packets transmitted, 1 packets received, 0\.0% packet loss\n/);
  const lines = r.out.slice(r.out.indexOf('#1 ')).split('\n');
  assert.equal(lines[0], '#1 2001:db8:1::2 > 2001:db8:2::2: icmp6: echo request');
  assert.match(lines[1]!, /^ {2}client: ip6_output → ether_output → .*bpf_mtap_ether\(OUT\)$/);
  assert.match(lines[2]!, /^ {2}router: em_intr → ifiq_input → bpf_mtap_ether\(IN\) → if_input_process → ether_input → ip6_input → (.* → )?ip6_forward → (.* → )?ether_output → .*ixgbe_start → bpf_mtap_ether\(OUT\)$/);
  assert.match(lines[3]!, /^ {2}peer: ixgbe_queue_intr → .*ether_input → ip6_input → (.* → )?icmp6_input/);
  // Neighbor discovery on the way, linked to the echo request, and the reply back.
  assert.match(r.out, /\n#\d+ \(from #1\) \S+ > ff02::1:ff00:1: icmp6: neighbor sol: who has 2001:db8:1::1\n/);
  assert.match(r.out, /\n#\d+ \(from #1\) 2001:db8:2::2 > 2001:db8:1::2: icmp6: echo reply\n {2}peer: /);
});

test('IPv6 in the talk lab: two hosts ping through the router, forwarding on, the router counts it', async () => {
  const r = await sh('client: ping6 -c 2 -q 2001:db8:3::2\nrouter: sysctl net.inet6.ip6.forwarding\nrouter: netstat -ss -p ip6 | grep forwarded\nclient: ndp -an');
  assert.match(r.out, /2 packets transmitted, 2 packets received, 0\.0% packet loss/);
  assert.match(r.out, /net\.inet6\.ip6\.forwarding=1\n/);
  assert.match(r.out, /\n\t4 packets forwarded\n/);
  assert.match(r.out, /2001:db8:1::1 +0c:c4:7a:78:f3:54 +em0 /);
});

test('pf_test in a path names its direction, and a drop by pf names the direction and the rule (trace -s)', async () => {
  const pass = await sh('on client\nping -c 1 -q 10.0.2.2 >/dev/null\ntrace -s ping -c 1 10.0.2.2');
  assert.match(pass.out, /\n {2}router: [^\n]* → ip_input → pf_test\(IN\) → ip_forward → ip_output → pf_test\(OUT\) → ether_output → /);
  assert.doesNotMatch(pass.out, /pf_test →|pf_test\n/);
  const inb = await sh([
    "router: echo 'block in on em0 inet proto icmp' >/etc/pf.icmp",
    'router: pfctl -f /etc/pf.icmp',
    'on client',
    'trace -s ping -c 1 -w 1 10.0.2.2',
  ].join('\n'));
  assert.match(inb.out, /\n {2}router: [^\n]* → ip_input → pf_test\(IN\)\n {2}dropped on router: pf_test\(IN\): block, rule 0\n/);
  const outb = await sh([
    "router: echo 'block out on ix0 inet proto icmp' >/etc/pf.icmp",
    'router: pfctl -f /etc/pf.icmp',
    'on client',
    'ping -c 1 -q 10.0.3.2 >/dev/null',
    'trace -s ping -c 1 -w 1 10.0.2.2',
  ].join('\n'));
  assert.match(outb.out, /\n {2}router: [^\n]* → ip_input → pf_test\(IN\) → ip_forward → ip_output → pf_test\(OUT\)\n {2}dropped on router: pf_test\(OUT\): block, rule 0\n/);
  // The full journey names the drop the same way.
  const full = await sh([
    "router: echo 'block in on em0 inet proto icmp' >/etc/pf.icmp",
    'router: pfctl -f /etc/pf.icmp',
    'on client',
    'trace ping -c 1 -w 1 10.0.2.2',
  ].join('\n'));
  assert.match(full.out, /\n {9}✗ pf_test\(IN\): block, rule 0\n/);
  assert.match(full.out, /\n {3}fate: dropped on router: pf_test\(IN\): block, rule 0\n/);
});
