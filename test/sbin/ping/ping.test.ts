import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture } from '../../../src/lib/io.js';
import { pingTool } from '../../../src/sbin/ping/ping.js';
import { netstatTool } from '../../../src/usr.bin/netstat/main.js';
import { ether_setmtu } from '../../../src/sys/net/if.js';
import { threeHosts } from '../../sys/netinet/lab.js';

test('ping -c 3 through a router: replies, times and statistics in virtual time', async () => {
  const { world, a } = threeHosts();
  const t0 = world.now;
  const r = await capture(pingTool(a.k), ['-c', '3', '198.51.100.20']);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.equal(
    r.stdout,
    'PING 198.51.100.20 (198.51.100.20): 56 data bytes\n' +
      '64 bytes from 198.51.100.20: icmp_seq=0 ttl=254 time=0.628 ms\n' +
      '64 bytes from 198.51.100.20: icmp_seq=1 ttl=254 time=0.129 ms\n' +
      '64 bytes from 198.51.100.20: icmp_seq=2 ttl=254 time=0.129 ms\n' +
      '\n--- 198.51.100.20 ping statistics ---\n' +
      '3 packets transmitted, 3 packets received, 0.0% packet loss\n' +
      'round-trip min/avg/max/std-dev = 0.129/0.295/0.628/0.235 ms\n',
  );
  // One request a second; ping returns with the last reply.
  assert.ok(world.now - t0 > 2e9 && world.now - t0 < 2.1e9);
});

test('netstat -ss ip and icmp parts after a ping', async () => {
  const { a, b, r } = threeHosts();
  await capture(pingTool(a.k), ['-c', '3', '198.51.100.20']);
  const sa = await capture(netstatTool(a.k), ['-ss', '-p', 'ip']);
  assert.equal(
    sa.stdout,
    'ip:\n' +
      '\t3 total packets received\n' +
      '\t3 packets for this host\n' +
      '\t3 packets sent from this host\n' +
      '\t3 input datagrams software-checksummed\n',
  );
  const ia = await capture(netstatTool(a.k), ['-ss', '-p', 'icmp']);
  assert.equal(ia.stdout, 'icmp:\n\tInput packet histogram:\n\t\techo reply: 3\n');
  const ib = await capture(netstatTool(b.k), ['-ss', '-f', 'inet']);
  assert.equal(
    ib.stdout,
    'ip:\n\t3 total packets received\n\t3 packets for this host\n\t3 packets sent from this host\n' +
      '\t3 input datagrams software-checksummed\n' +
      'icmp:\n\tOutput packet histogram:\n\t\techo reply: 3\n\tInput packet histogram:\n\t\techo: 3\n' +
      '\t3 message responses generated\n' +
      'igmp:\nipencap:\ntcp:\n\t293 hash bucket array size in current SYN cache\n\t100000 uses of current SYN cache left\nudp:\nipsec:\nesp:\nah:\netherip:\nipcomp:\ncarp:\npfsync:\ndivert:\npflow:\n',
  );
  const ir = await capture(netstatTool(r.k), ['-ss', '-p', 'ip']);
  assert.equal(ir.stdout, 'ip:\n\t6 total packets received\n\t6 packets forwarded\n\t6 input datagrams software-checksummed\n');
});

test('ping without replies, -v shows ICMP errors, -D and need-frag, usage and errors', async () => {
  const { a, r } = threeHosts();
  let c = await capture(pingTool(a.k), ['-c', '2', '-w', '2', '198.51.100.99']);
  assert.equal(c.status, 1);
  assert.equal(
    c.stdout,
    'PING 198.51.100.99 (198.51.100.99): 56 data bytes\n' +
      '\n--- 198.51.100.99 ping statistics ---\n' +
      '2 packets transmitted, 0 packets received, 100.0% packet loss\n',
  );
  c = await capture(pingTool(a.k), ['-v', '-c', '1', '-t', '1', '198.51.100.20']);
  assert.match(c.stdout, /\n36 bytes from 192\.0\.2\.1: Time to live exceeded\nVr HL TOS {2}Len {3}ID Flg {2}off TTL Pro {2}cks {6}Src {6}Dst Data\n 4 {2}5 {2}00 5400 [0-9a-f]{4} {3}0 0000 {2}01 {2}01 [0-9a-f]{4} 192\.0\.2\.10 {2}198\.51\.100\.20 \n/);
  ether_setmtu(r.ifs[1]!, 1000);
  c = await capture(pingTool(a.k), ['-v', '-D', '-s', '1200', '-c', '1', '198.51.100.20']);
  assert.match(c.stdout, /\n36 bytes from 192\.0\.2\.1: frag needed and DF set \(MTU 1000\)\n/);
  assert.equal(a.k.stats.ipstat.value('ips_rawout'), 1);
  c = await capture(pingTool(a.k), ['-c']);
  assert.equal(c.status, 1);
  assert.equal(c.stderr, 'ping: option requires an argument -- c\nusage: ping [-DdEefgHLnqRv] [-c count] [-I sourceaddr] [-i interval]\n\t[-l preload] [-p pattern] [-s packetsize] [-T toskeyword]\n\t[-t ttl] [-V rtable] [-w maxwait] host\n');
  c = await capture(pingTool(a.k), ['-c', 'x', '198.51.100.20']);
  assert.equal(c.stderr, 'ping: number of packets to transmit is invalid: x\n');
  c = await capture(pingTool(a.k), ['-s', '70000', '198.51.100.20']);
  assert.equal(c.stderr, 'ping: packet size is too large: 70000\n');
  c = await capture(pingTool(a.k), ['-c', '1', '0.1.2.3']);
  assert.equal(c.stderr, 'ping: sendmsg: Network is unreachable\n');
  assert.match(c.stdout, /ping: wrote 0\.1\.2\.3 64 chars, ret=-1\n/);
});

test('ping -i 0.2 -s 8: no timing below the 24-byte payload header', async () => {
  const { world, a } = threeHosts();
  const t0 = world.now;
  const c = await capture(pingTool(a.k), ['-i', '0.2', '-s', '8', '-c', '2', '198.51.100.20']);
  assert.equal(
    c.stdout,
    'PING 198.51.100.20 (198.51.100.20): 8 data bytes\n' +
      '16 bytes from 198.51.100.20: icmp_seq=0 ttl=254\n' +
      '16 bytes from 198.51.100.20: icmp_seq=1 ttl=254\n' +
      '\n--- 198.51.100.20 ping statistics ---\n' +
      '2 packets transmitted, 2 packets received, 0.0% packet loss\n',
  );
  assert.ok(world.now - t0 < 0.3e9);
});
