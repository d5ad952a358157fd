/**
 * The IPv6 slide's path as a journey: a TCP SYN through the router reads
 * ether_input → ip6_input → pf_test(in) → ip6_forward → pf_test(out, the
 * forward path) → ether_output, and at the host ip6_input → tcp_input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6, ip6 } from './lab6.js';
import { loadPf } from '../net/pf_lab.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { socreate, sobind, solisten, soconnect, SOCK_STREAM } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';

test('journey of a TCP SYN over IPv6 through a router with pf', () => {
  const { world, a, r, b } = threeHosts6(1);
  loadPf(r.k, 'pass\n');
  const l = socreate(b.k, AF_INET6, SOCK_STREAM, 0);
  if (typeof l === 'number') throw new Error('socreate');
  assert.equal(sobind(l, Sockaddr.in6(new Uint8Array(16), 80)), 0);
  assert.equal(solisten(l, 5), 0);
  const t = new Tracer();
  r.k.setTracer(t);
  b.k.setTracer(t);
  const c = socreate(a.k, AF_INET6, SOCK_STREAM, 0);
  if (typeof c === 'number') throw new Error('socreate');
  assert.equal(soconnect(c, Sockaddr.in6(ip6('2001:db8:2::20'), 80)), 0);
  world.runFor(1e9);
  const fns = t.events.filter((e) => e.kind === 'fn').map((e) => e.name);
  const want = ['ether_input', 'ip6_input', 'pf_test', 'ip6_forward', 'pf_test', 'ether_output', 'ip6_input', 'tcp_input', 'syn_cache_respond', 'ip6_output'];
  // The SYN's own journey: the functions appear in this order (drivers and queues may interleave).
  let i = 0;
  for (const f of fns) if (f === want[i]) i++;
  assert.equal(i, want.length, `got ${fns.join(' ')}`);
  // On the router: the SYN (next header 6) from ip6_input to the wire.
  const ev = t.events.map((e) => [e.kind, e.name, e.ifname, e.detail].filter(Boolean).join(' '));
  const at = ev.indexOf('counter ip6s_nxthist[6]');
  assert.deepEqual(ev.slice(at - 2, at + 7), [
    'fn ip6_input em0',
    'counter ip6s_total',
    'counter ip6s_nxthist[6]',
    'fn pf_test em0 in',
    'branch pf_test: rule 0 pass state created',
    'branch ip6_input: not ours, forwarding → ip6_forward',
    'fn ip6_forward',
    'fn pf_test em1 out',
    'branch pf_test: rule 0 pass state created',
  ]);
  assert.equal(ev[at + 7], 'fn ether_output em1');
});
