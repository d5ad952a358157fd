import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip, echoRequest, send } from '../netinet/lab.js';
import { pfctl, loadPf, tcpBytes, udpBytes, sendRaw, capture, ipOf } from './pf_lab.js';

const RULES_SLIDE = `block return
pass all
block return in on ! lo0 proto tcp to port 6000:6010
block return out log proto tcp all user 55
block return out log proto udp all user 55
`;

test('pf Rules slide: pfctl -sr prints the five lines; traffic hits them', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, RULES_SLIDE);
  const sr = pfctl(r.k, ['-sr']);
  assert.equal(sr.status, 0);
  assert.equal(
    sr.out,
    'block return all\n' +
      'pass all flags S/SA\n' +
      'block return in on ! lo0 proto tcp from any to any port 6000:6010\n' +
      'block return out log proto tcp all user = 55\n' +
      'block return out log proto udp all user = 55\n',
  );
  // an X11 connection through the router is refused with a RST
  const frames = capture(a.ifs[0]!);
  sendRaw(a.k, tcpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40000, 6000, 0x02, 1000));
  world.runFor(1e9);
  const rst = ipOf(frames, 6).filter((d) => d[33] === 0x14);
  assert.equal(rst.length, 1);
  const v = pfctl(r.k, ['-vsr']).out.split('\n');
  assert.match(v[7]!, /Evaluations: 1 +Packets: 1 +Bytes: 40 /);
  assert.match(v[4]!, /Evaluations: 1 +Packets: 0 /);
});

import { World } from '../../../src/sys/kern/kern_clock.js';
import { host, wire } from '../netinet/lab.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { listener, connect, accept } from '../netinet/tcp_lab.js';
import { socreate, soconnect, SOCK_STREAM } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { bpf_listen } from '../../../src/sys/net/bpf.js';
import { show } from '../../usr.sbin/tcpdump/print-build.js';
import { pflog_clone_create } from '../../../src/sys/net/if_pflog.js';
import { sum16, pseudoSum4 } from '../../../src/wire/checksum.js';

/** client 203.0.113.10 -- em0 203.0.113.48 [fw] em1 198.51.100.1 -- server 198.51.100.31 */
function firewall(): { world: World; c: ReturnType<typeof host>; fw: ReturnType<typeof host>; s: ReturnType<typeof host> } {
  const world = new World({ seed: 3 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24']);
  const s = host(world, 'server', ['198.51.100.31/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[1]!, s.ifs[0]!, { delay: 50_000 });
  rt_route_add(c.k, 0, 0, ip('203.0.113.48'));
  rt_route_add(s.k, 0, 0, ip('198.51.100.1'));
  fw.k.sysctl.set('net.inet.ip.forwarding', 1);
  world.runFor(1e8);
  return { world, c, fw, s };
}

test('pf State slide: interface-bound states with rdr-to and nat-to translations in parentheses', () => {
  const { world, c, fw, s } = firewall();
  loadPf(fw.k, `set state-policy if-bound
pass
pass in on em0 proto tcp to 203.0.113.48 port 10031 rdr-to 198.51.100.31 port 22
pass out on em0 from 198.51.100.0/24 nat-to 203.0.113.48
`);
  const ls = listener(s.k, 22);
  const lfw = listener(fw.k, 22);
  const lc = listener(c.k, 443);
  const c1 = connect(c.k, ip('203.0.113.48'), 22);
  const c2 = connect(c.k, ip('203.0.113.48'), 10031);
  const c3 = connect(s.k, ip('203.0.113.10'), 443);
  world.runFor(2e9);
  assert.ok(accept(ls) && accept(lfw) && accept(lc));
  const p1 = c1.so_pcb!.inp_lport;
  const p2 = c2.so_pcb!.inp_lport;
  const p3 = c3.so_pcb!.inp_lport;
  const ss = pfctl(fw.k, ['-ss']).out.split('\n').filter(Boolean);
  const natLine = ss.find((l) => l.startsWith('em0 tcp 203.0.113.48:') && l.includes(' ('))!;
  const natPort = Number(/^em0 tcp 203\.0\.113\.48:(\d+) \(/.exec(natLine)![1]);
  assert.ok(natPort >= 50001 && natPort <= 65535);
  assert.deepEqual(ss.sort(), [
    `em0 tcp 203.0.113.48:22 <- 203.0.113.10:${p1}       ESTABLISHED:ESTABLISHED`,
    `em0 tcp 198.51.100.31:22 (203.0.113.48:10031) <- 203.0.113.10:${p2}       ESTABLISHED:ESTABLISHED`,
    `em1 tcp 203.0.113.10:${p2} -> 198.51.100.31:22       ESTABLISHED:ESTABLISHED`,
    `em1 tcp 203.0.113.10:443 <- 198.51.100.31:${p3}       ESTABLISHED:ESTABLISHED`,
    `em0 tcp 203.0.113.48:${natPort} (198.51.100.31:${p3}) -> 203.0.113.10:443       ESTABLISHED:ESTABLISHED`,
  ].sort());
  const v = pfctl(fw.k, ['-vss']).out.split('\n');
  assert.match(v[1]!, /^ {3}\[\d+ \+ \d+\](?: wscale \d+)? {2}\[\d+ \+ \d+\]/);
  assert.match(v[2]!, /^ {3}age 00:00:0\d, expires in 23:59:5\d, \d+:\d+ pkts, \d+:\d+ bytes, rule 0$/);
  // -k kills the client's states, -F states the rest
  const kill = pfctl(fw.k, ['-k', '203.0.113.10']);
  assert.equal(kill.err, 'killed 3 states from 1 sources and 0 destinations\n');
  assert.equal(pfctl(fw.k, ['-F', 'states']).err, '2 states cleared\n');
});

test('state-mismatch: a segment outside the window is dropped and counted', () => {
  const { world, c, fw, s } = firewall();
  loadPf(fw.k, 'pass\n');
  const ls = listener(s.k, 80);
  const so = connect(c.k, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  assert.ok(accept(ls));
  const inp = so.so_pcb!;
  sendRaw(c.k, tcpBytes(ip('203.0.113.10'), ip('198.51.100.31'), inp.inp_lport, 80, 0x10, 0x7fffffff, 12345, 10));
  world.runFor(1e9);
  const si = pfctl(fw.k, ['-si']).out;
  assert.match(si, /\n {2}state-mismatch +1 /);
  assert.equal(fw.k.pf!.counters[10], 1);
});

test('pflog of a state packet dropped on a pass log (all) rule: the rule\'s action, the drop\'s reason (pflog_packet)', () => {
  const { world, c, fw, s } = firewall();
  loadPf(fw.k, 'pass log (all)\n');
  const logged: Uint8Array[] = [];
  bpf_listen(fw.k.ifunit('pflog0')!, (buf, off, caplen) => logged.push(buf.slice(off, off + caplen)));
  const ls = listener(s.k, 80);
  const so = connect(c.k, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  assert.ok(accept(ls));
  const n = logged.length;
  const inp = so.so_pcb!;
  sendRaw(c.k, tcpBytes(ip('203.0.113.10'), ip('198.51.100.31'), inp.inp_lport, 80, 0x10, 0x7fffffff, 12345, 10));
  world.runFor(1e9);
  assert.equal(fw.k.pf!.counters[10], 1);
  // the segment outside the window: logged once, as OpenBSD's header has it (action pass, reason state-mismatch)
  assert.equal(logged.length, n + 1);
  const h = logged[n]!;
  assert.equal(h[2], 0);
  assert.equal(h[3], 10);
  assert.match(show({ eflag: true }, 117, h), /^rule 0\/\(state-mismatch\) pass in on em0: 203\.0\.113\.10\.\d+ > 198\.51\.100\.31\.80: \. /);
});

test('state limits: rule (max 2) gives state-limit, set limit states gives memory', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\npass in proto udp keep state (max 2)\n');
  for (let i = 0; i < 3; i++) sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000 + i, 53));
  world.runFor(1e9);
  const si = pfctl(r.k, ['-v', '-si']).out;
  assert.match(si, /\n {2}state-limit +1 /);
  assert.match(si, /\n {2}max states per rule +1 /);
  loadPf(r.k, 'set limit states 4\npass\n');
  pfctl(r.k, ['-F', 'states']);
  assert.match(pfctl(r.k, ['-sm']).out, /^states +hard limit +4\n/);
  for (let i = 0; i < 5; i++) sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 2000 + i, 53));
  world.runFor(1e9);
  // each forwarded flow takes two states (in on em0, out on em1): two flows fit, three are refused
  assert.equal(r.k.pf!.states, 4);
  assert.equal(r.k.pf!.counters[5], 3);
});

test('a state table at the most its hash can number refuses new states as memory, not with an exception', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'set limit states 10000000\npass\n');
  const st = r.k.pf!.st;
  // what the table looks like with its 2^21 states in use (filling it for real takes gigabytes)
  st.nfree = 0;
  st.cap = 1 << 21;
  assert.equal(st.canAlloc(), false);
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 4000, 53));
  world.runFor(1e9);
  assert.equal(r.k.pf!.states, 0);
  assert.match(pfctl(r.k, ['-si']).out, /\n {2}memory +1 /);
});

test('NAT port exhaustion: the third flow finds no port and counts translate', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\npass out on em1 proto udp nat-to 198.51.100.1 port 50001:50002\n');
  const frames = capture(b.ifs[0]!);
  for (let i = 0; i < 3; i++) sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 3000 + i, 7));
  world.runFor(1e9);
  const got = ipOf(frames, 17);
  assert.equal(got.length, 2);
  const ports = got.map((d) => (d[20]! << 8) | d[21]!).sort();
  assert.deepEqual(ports, [50001, 50002]);
  // translated with incremental checksums: IP and UDP sums still verify
  for (const d of got) {
    assert.equal(d[12], 198);
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (d[i]! << 8) | d[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    assert.equal(s, 0xffff);
  }
  assert.equal(r.k.pf!.counters[15], 1);
});

test('NAT port exhaustion on one address of a round-robin pool: pf_get_sport takes the pool\'s next address, until it comes round', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\npass out on em1 proto udp from 192.0.2.0/24 nat-to { 198.51.100.1 198.51.100.2 } port 50001 round-robin\n');
  const frames = capture(b.ifs[0]!);
  // the router's own datagram from 198.51.100.1:50001 holds that address's only port toward b's port 7
  sendRaw(r.k, udpBytes(ip('198.51.100.1'), ip('198.51.100.20'), 50001, 7));
  world.runFor(1e8);
  // the first flow: round-robin gives 198.51.100.1, its port is taken, the next address's is free
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 3000, 7));
  world.runFor(1e8);
  // the second: 198.51.100.1 taken, 198.51.100.2 taken, back at the first: no port (translate)
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 3001, 7));
  world.runFor(1e8);
  const got = ipOf(frames, 17).map((d) => `${d[12]}.${d[13]}.${d[14]}.${d[15]}:${(d[20]! << 8) | d[21]!}`);
  assert.deepEqual(got, ['198.51.100.1:50001', '198.51.100.2:50001']);
  assert.equal(r.k.pf!.counters[15], 1);
  assert.match(pfctl(r.k, ['-ss']).out, /all udp 198\.51\.100\.2:50001 \(192\.0\.2\.10:3000\) -> 198\.51\.100\.20:7 /);
});

test('block return: RST bytes for TCP, return-icmp(net-unr) for UDP', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\nblock return in proto tcp to port 23\nblock return-icmp(net-unr) in proto udp to port 69\n');
  const frames = capture(a.ifs[0]!);
  sendRaw(a.k, tcpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 41000, 23, 0x02, 5000));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 4000, 69));
  world.runFor(1e9);
  const rst = ipOf(frames, 6).find((d) => d[12] === 198)!;
  // the IP header as OpenBSD's pf_build_tcp makes it: TOS lowdelay, DF (net.inet.ip.mtudisc is on), TTL 64; the id is ip_output's
  const hdr = [0x45, 0x10, 0, 40, rst[4]!, rst[5]!, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 20, 192, 0, 2, 10];
  const ck = ~sum16(Uint8Array.from(hdr), 0, 20) & 0xffff;
  hdr[10] = ck >> 8;
  hdr[11] = ck & 0xff;
  assert.deepEqual([...rst.subarray(0, 20)], hdr);
  // 198.51.100.20:23 -> 192.0.2.10:41000, seq 0, ack 5001, RST|ACK, window 0
  assert.deepEqual([...rst.subarray(12, 20)], [198, 51, 100, 20, 192, 0, 2, 10]);
  assert.deepEqual([...rst.subarray(20, 36)], [0, 23, 0xa0, 0x28, 0, 0, 0, 0, 0, 0, 0x13, 0x89, 0x50, 0x14, 0, 0]);
  assert.equal(sum16(rst, 20, 20, pseudoSum4(0xc6336414, 0xc000020a, 6, 20)), 0xffff);
  const icmp = ipOf(frames, 1).find((d) => d[20] === 3)!;
  assert.equal(icmp[21], 0);
  assert.deepEqual([...icmp.subarray(12, 16)], [192, 0, 2, 1]);
  assert.equal(r.k.pf!.main.rules[2]!.packets0, 1);
});

test('pflog0: the header OpenBSD writes, printed as tcpdump -e prints it', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\nblock in log proto udp to port 9\n');
  const logged: Uint8Array[] = [];
  bpf_listen(r.k.ifunit('pflog0')!, (buf, off, caplen) => logged.push(buf.slice(off, off + caplen)));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 5000, 9));
  world.runFor(1e9);
  assert.equal(logged.length, 1);
  const h = logged[0]!;
  assert.equal(h[0], 100);
  assert.equal(h[1], 2);
  assert.equal(h[2], 1);
  assert.equal(h[3], 0);
  assert.equal(String.fromCharCode(...h.subarray(4, 7)), 'em0');
  assert.deepEqual([...h.subarray(36, 44)], [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
  assert.equal(h[60], 1);
  assert.equal(show({ eflag: true }, 117, h), 'rule 1/(match) block in on em0: 192.0.2.10.5000 > 198.51.100.20.9: udp 4\n');
});

test('pflog0 of a translated packet: the header has the addresses pf_get_transaddr chose, the packet those it came with', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\npass out log on em1 proto udp nat-to 198.51.100.1\n');
  const logged: Uint8Array[] = [];
  bpf_listen(r.k.ifunit('pflog0')!, (buf, off, caplen) => logged.push(buf.slice(off, off + caplen)));
  const sent = udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 5000, 9);
  sendRaw(a.k, sent);
  world.runFor(1e9);
  assert.equal(logged.length, 1);
  const h = logged[0]!;
  const nport = (h[96]! << 8) | h[97]!;
  assert.notEqual(nport, 5000);
  // uid -1 and pid NO_PID (no log (user)), rule_uid and rule_pid 0; out, rewritten, naf inet
  assert.deepEqual([...h.subarray(44, 64)], [0xff, 0xff, 0xff, 0xff, 0xa0, 0x86, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 0]);
  assert.deepEqual([...h.subarray(64, 68)], [198, 51, 100, 1]);
  assert.deepEqual([...h.subarray(80, 84)], [198, 51, 100, 20]);
  assert.deepEqual([...h.subarray(98, 100)], [0, 9]);
  // the packet as it was before pf translated it (TTL already one less: ip_forward's)
  const body = sent.slice();
  body[8]! -= 1;
  assert.deepEqual([...h.subarray(100, 120)].slice(12), [...body.subarray(12, 20)]);
  assert.deepEqual([...h.subarray(120)], [...body.subarray(20)]);
  const line = show({ eflag: true, vflag: 1 }, 117, h);
  const want = `rule 1/(match) [uid 0, pid 0] pass out on em1: [rewritten: src 198.51.100.1:${nport}, dst 198.51.100.20:9] 192.0.2.10.5000 > 198.51.100.20.9: `;
  assert.equal(line.slice(0, want.length), want);
});

test('log (matches): each rule that matches after the match rule is logged, to the match rule\'s pflog interface', () => {
  const { world, a, r } = threeHosts();
  pflog_clone_create(r.k, 1); // ifconfig pflog1 create: the log (matches) rule's interface
  loadPf(r.k, 'match in log (matches, to pflog1) on em0 proto icmp\npass\nblock in log quick on em0 inet proto icmp icmp-type echoreq once\n');
  const logged0: Uint8Array[] = [];
  const logged1: Uint8Array[] = [];
  bpf_listen(r.k.ifunit('pflog0')!, (buf, off, caplen) => logged0.push(buf.slice(off, off + caplen)));
  bpf_listen(r.k.ifunit('pflog1')!, (buf, off, caplen) => logged1.push(buf.slice(off, off + caplen)));
  const echo = echoRequest(a.k, ip('198.51.100.20'));
  send(a.k, echo);
  world.runFor(1e9);
  // rule 0 itself (its log), rule 1 and rule 2 as they match (log (matches), on pflog1), rule 2 by its own
  // log (pflog0), then rule 2 once more by log (matches) when pf_test_rule is done: OpenBSD's pf_log_matches calls
  const rn = (h: Uint8Array): string => `${(h[36]! << 24 | h[37]! << 16 | h[38]! << 8 | h[39]!) >>> 0}/${h[2]}`;
  assert.deepEqual(logged1.map(rn), ['0/12', '1/0', '2/1', '2/1']);
  assert.deepEqual(logged0.map(rn), ['2/1']);
  // the header of rule 1's entry: reason match, in on em0, no translation, subrule -1
  const h = logged1[1]!;
  assert.deepEqual([...h.subarray(0, 7)], [100, 2, 0, 0, 0x65, 0x6d, 0x30]);
  assert.deepEqual([...h.subarray(36, 64)], [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0, 0x86, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0]);
  assert.equal(show({ eflag: true }, 117, h).split(': ')[0], 'rule 1/(match) pass in on em0');
  // the second echo request: rule 2 has expired, rule 1 passes it, logged by log (matches) from rule 0 twice
  logged1.length = 0;
  send(a.k, echoRequest(a.k, ip('198.51.100.20'), 56, { seq: 1 }));
  world.runFor(1e9);
  assert.deepEqual(logged1.map(rn), ['0/12', '1/0', '1/0']);
});

test('journeys: pf_test(IN) and pf_test(OUT) with the rule that decided', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\nblock in proto tcp to port 25\n');
  const t = new Tracer();
  r.k.setTracer(t);
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 6000, 53));
  sendRaw(a.k, tcpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 6001, 25, 0x02, 1));
  world.runFor(1e9);
  const pfEv = t.events.filter((e) => e.name.startsWith('pf_test'));
  assert.deepEqual(pfEv.slice(0, 7).map((e) => [e.kind, e.name, e.ifname, e.detail].filter(Boolean).join(' ')), [
    'fn pf_test em0 in',
    'branch pf_test: rule 0 pass state created',
    'fn pf_test em1 out',
    'branch pf_test: rule 0 pass state created',
    'fn pf_test em0 in',
    'branch pf_test: rule 1 block',
    'drop pf_test: block rule 1',
  ]);
});

test('user = 55 matches the owner of the local socket (in_pcblookup hook)', () => {
  const { world, a, b } = threeHosts();
  loadPf(a.k, RULES_SLIDE);
  listener(b.k, 80);
  const so = socreate(a.k, AF_INET, SOCK_STREAM, 0, 55);
  assert.notEqual(typeof so, 'number');
  if (typeof so === 'number') return;
  soconnect(so, Sockaddr.in(ip('198.51.100.20'), 80));
  const ok = connect(a.k, ip('198.51.100.20'), 80);
  world.runFor(2e9);
  assert.equal(a.k.pf!.main.rules[3]!.packets1 >= 1, true);
  assert.ok(ok.so_pcb !== null);
});

test('once: the first matching packet expires the rule; -sr hides it, -vvsr marks it "# expired"', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\nblock in quick proto udp to port 9 once\n');
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40000, 9));
  world.runFor(1e8);
  // the first datagram was blocked (no state), the second passed (the rule expired) and made its two states
  assert.equal(r.k.pf!.states, 0);
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40001, 9));
  world.runFor(1e8);
  assert.equal(r.k.pf!.states, 2);
  assert.equal(pfctl(r.k, ['-sr']).out, 'pass all flags S/SA\n');
  assert.equal(pfctl(r.k, ['-vvsr']).out.split('\n')[3], '@1 block drop in quick proto udp from any to any port = 9 once # expired');
});

test('pfctl -si: "half-open tcp" counts TCP states until their source peer establishes, never UDP (pf_set_protostate)', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass\n');
  // a UDP flow and a TCP SYN through the router (each: a state in on em0, one out on em1)
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000, 53));
  sendRaw(a.k, tcpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40000, 7, 0x02, 1000));
  world.runFor(1e9);
  const halfOpen = (): string => /\n {2}half-open tcp +(\d+) /.exec(pfctl(r.k, ['-si']).out)![1]!;
  // the server answers the SYN with a RST: the TCP states are closed (TIME_WAIT), the UDP ones never counted
  assert.equal(r.k.pf!.states, 4);
  assert.equal(halfOpen(), '0');
  // a SYN to an address nobody has: its two states stay half-open
  sendRaw(a.k, tcpBytes(ip('192.0.2.10'), ip('198.51.100.99'), 40001, 7, 0x02, 2000));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.99'), 1001, 53));
  world.runFor(1e9);
  assert.equal(r.k.pf!.states, 8);
  assert.equal(halfOpen(), '2');
  pfctl(r.k, ['-F', 'states']);
  assert.equal(halfOpen(), '0');
});
