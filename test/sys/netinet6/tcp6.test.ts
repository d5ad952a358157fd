import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6, ip6, ip6stat, icmp6stat } from './lab6.js';
import { accept, drain, payload, pump, sha, tcpstat, tp } from '../netinet/tcp_lab.js';
import { socreate, sobind, solisten, soconnect, SOCK_STREAM, type Socket } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { TCPS_ESTABLISHED } from '../../../src/sys/netinet/tcp_fsm.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

const S = 1e9;
const ECONNREFUSED = 61;

function sock6(k: Kernel): Socket {
  const so = socreate(k, AF_INET6, SOCK_STREAM, 0);
  if (typeof so === 'number') throw new Error(`socreate: errno ${so}`);
  return so;
}

function listen6(k: Kernel, port: number): Socket {
  const so = sock6(k);
  assert.equal(sobind(so, Sockaddr.in6(new Uint8Array(16), port)), 0);
  assert.equal(solisten(so, 5), 0);
  return so;
}

function connect6(k: Kernel, addr: string, port: number): Socket {
  const so = sock6(k);
  assert.equal(soconnect(so, Sockaddr.in6(ip6(addr), port)), 0);
  return so;
}

test('TCP over IPv6: handshake through the router, MSS 1440 less timestamps, tcp6 PCBs', () => {
  const { world, a, b } = threeHosts6(1);
  const l = listen6(b.k, 80);
  const c = connect6(a.k, '2001:db8:2::20', 80);
  world.runFor(S);
  const s = accept(l);
  assert.ok(s !== null);
  assert.equal(tp(c).t_state, TCPS_ESTABLISHED);
  assert.equal(tp(s).t_state, TCPS_ESTABLISHED);
  // 1500 - 40 (IPv6) - 20 (TCP) = 1440, less 12 bytes of timestamps.
  assert.equal(tp(c).t_maxseg, 1428);
  assert.equal(tp(s).t_maxseg, 1428);
  assert.ok(c.so_pcb!.isIpv6 && s.so_pcb!.isIpv6);
  assert.equal(a.k.inet.tcb6table.inpt_count, 1);
  assert.equal(b.k.inet.tcb6table.inpt_count, 2);
  assert.equal(tcpstat(b.k, 'tcps_accepts'), 1);
  assert.equal(tcpstat(a.k, 'tcps_connects'), 1);
  assert.equal(tcpstat(a.k, 'tcps_rcvbadsum') + tcpstat(b.k, 'tcps_rcvbadsum'), 0);
});

test('TCP over IPv6: 1 MB each way through the router, hashes equal', () => {
  const { world, a, r, b } = threeHosts6(2);
  const l = listen6(b.k, 5001);
  const c = connect6(a.k, '2001:db8:2::20', 5001);
  world.runFor(S);
  const s = accept(l)!;
  const up = payload(1 << 20, 11);
  const down = payload(1 << 20, 12);
  const rs = drain(s);
  const rc = drain(c);
  pump(c, up, 'none');
  pump(s, down, 'none');
  world.runFor(30 * S);
  assert.equal(sha(rs.bytes()), sha(up));
  assert.equal(sha(rc.bytes()), sha(down));
  assert.ok(ip6stat(r.k, 'ip6s_forward') > 1400);
  assert.equal(ip6stat(r.k, 'ip6s_cantforward'), 0);
  assert.equal(tcpstat(a.k, 'tcps_rcvbadsum') + tcpstat(b.k, 'tcps_rcvbadsum'), 0);
});

test('TCP over IPv6: SYN to a closed port gets RST, connect fails with ECONNREFUSED', () => {
  const { world, a, b } = threeHosts6(3);
  const c = connect6(a.k, '2001:db8:2::20', 9);
  world.runFor(S);
  assert.equal(tcpstat(b.k, 'tcps_noport'), 1);
  assert.equal(tcpstat(b.k, 'tcps_pcbhashmiss'), 1);
  assert.equal(c.so_error, ECONNREFUSED);
  assert.equal(tcpstat(a.k, 'tcps_conndrops'), 1);
});

test('TCP over IPv6: Packet Too Big from the router lowers the MSS, the transfer completes', () => {
  const { world, a, r, b } = threeHosts6(4);
  r.ifs[1]!.if_mtu = 1400;
  const l = listen6(b.k, 5001);
  const c = connect6(a.k, '2001:db8:2::20', 5001);
  world.runFor(S);
  const s = accept(l)!;
  const up = payload(200_000, 3);
  const rs = drain(s);
  pump(c, up, 'none');
  world.runFor(30 * S);
  assert.equal(sha(rs.bytes()), sha(up));
  assert.ok(icmp6stat(r.k, 'icp6s_outhist', 2) >= 1, 'packet too big sent');
  assert.ok(icmp6stat(a.k, 'icp6s_pmtuchg') >= 1);
  assert.equal(tp(c).t_maxseg, 1400 - 60 - 12);
});
