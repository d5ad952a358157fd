import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterBlock, KernelStats, STATS_LAYOUTS, cvalue } from '../../../src/sys/kern/counters.js';
import {
  icps_badcode,
  icps_inhist,
  icps_ncounters,
  icps_outhist,
  ip6s_m1,
  ip6s_ncounters,
  ip6s_nxthist,
  ips_cantforward,
  ips_ncounters,
  ips_total,
  tcps_ncounters,
  tcps_sndacks,
  udps_fullsock,
} from '../../../src/sys/kern/counters.gen.js';

test('generated ids follow the OpenBSD enums, arrays expanded', () => {
  assert.equal(ips_total, 0);
  assert.equal(ips_ncounters, 36);
  // icmp_var.h: icps_badcode = icps_outhist + ICMP_MAXTYPE + 1
  assert.equal(icps_badcode, icps_outhist + 41);
  assert.equal(icps_ncounters, icps_inhist + 41);
  // ip6_var.h: ip6s_m1 = ip6s_nxthist + 256
  assert.equal(ip6s_m1, ip6s_nxthist + 256);
  assert.equal(ip6s_ncounters, 401);
  assert.equal(tcps_ncounters, STATS_LAYOUTS.tcp.ncounters);
  for (const l of Object.values(STATS_LAYOUTS)) {
    let id = 0;
    for (const f of l.fields) {
      assert.equal(f.id, id, `${l.struct}.${f.name}`);
      id += f.count;
    }
    assert.equal(id, l.ncounters);
  }
});

test('a kernel has one block per stats struct, by OpenBSD variable and netstat name', () => {
  const k = new KernelStats();
  const blocks = k.blocks();
  assert.deepEqual(
    blocks.map((b) => b.proto),
    Object.keys(STATS_LAYOUTS),
  );
  assert.equal(k.counters('ipencap'), k.ipipstat);
  assert.equal(k.counters('divert'), k.divstat);
  assert.equal(k.counters('nope'), undefined);
  for (const b of blocks) assert.equal(b.v.length, b.layout.ncounters);
  // Blocks of two kernels are independent.
  const k2 = new KernelStats();
  k.ipstat.inc(ips_total);
  assert.equal(k2.ipstat.get(ips_total), 0);
});

test('inc, add, dec, set, get, by name, zero, snapshot', () => {
  const k = new KernelStats();
  const ip = k.ipstat;
  ip.inc(ips_cantforward);
  ip.inc(ips_cantforward);
  ip.add(ips_total, 10);
  assert.equal(ip.get(ips_cantforward), 2);
  assert.equal(ip.value('ips_total'), 10);
  k.icmpstat.inc(icps_outhist + 8);
  assert.equal(k.icmpstat.value('icps_outhist', 8), 1);
  k.udpstat.set(udps_fullsock, 5);
  k.udpstat.dec(udps_fullsock);
  assert.equal(k.udpstat.get(udps_fullsock), 4);
  const snap = ip.snapshot();
  ip.inc(ips_total);
  assert.equal(snap[ips_total], 10);
  assert.equal(ip.field('ips_total')?.ctype, 'u_long');
  assert.equal(k.tcpstat.field('tcps_sndacks')?.width, 'u32');
  assert.equal(k.tcpstat.field('tcps_sc_uses_left')?.width, 'i64');
  assert.throws(() => ip.id('tcps_sndacks'), /no counter/);
  k.zero();
  assert.equal(ip.get(ips_total), 0);
  assert.equal(k.udpstat.get(udps_fullsock), 0);
});

test('counters are exact past 2^32; C widths apply when read', () => {
  const b = new CounterBlock(STATS_LAYOUTS.tcp);
  b.set(tcps_sndacks, 2 ** 32 - 1);
  b.inc(tcps_sndacks);
  assert.equal(b.get(tcps_sndacks), 2 ** 32);
  assert.equal(cvalue(b.get(tcps_sndacks), 'u32'), 0);
  assert.equal(cvalue(2 ** 32 + 5, 'u32'), 5);
  assert.equal(cvalue(-1, 'u32'), 2 ** 32 - 1);
  assert.equal(cvalue(2 ** 40, 'u64'), 2 ** 40);
  const big = new CounterBlock(STATS_LAYOUTS.ip);
  big.set(ips_total, 2 ** 53 - 2);
  big.inc(ips_total);
  assert.equal(big.get(ips_total), 2 ** 53 - 1);
});
