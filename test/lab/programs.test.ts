/**
 * Programs in the lab shell: nc and tcpbench in the foreground and as
 * background jobs, `<file` and `</dev/zero`, job control (kill -STOP/-CONT
 * keeps a reader from reading: the Socket Buffer slide's Recv-Q).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh, talk } from './helpers.js';
import { parseLine } from '../../src/lab/shell.js';
import { StringOutput } from '../../src/lib/io.js';

test('<file is parsed as a stage\'s standard input', () => {
  assert.deepEqual(parseLine('nc -N 10.0.1.1 12345 <data >out &'), [
    { stages: [{ argv: ['nc', '-N', '10.0.1.1', '12345'], in: 'data', out: { file: 'out', append: false } }], background: true },
  ]);
});

test('nc -l in the background and nc with <file move a file byte-exact; the job is Done after', async () => {
  const r = await sh([
    'router: nc -l 12345 >received &',
    'client: echo the journey of a packet >data',
    'client: nc -N 10.0.1.1 12345 <data',
    'sleep 1',
    'router: cat received',
    'jobs',
    'jobs',
  ].join('\n'));
  assert.equal(r.err, '');
  assert.match(r.out, /^\[1\] 101 nc -l 12345 >received on router\n/);
  assert.match(r.out, /\nthe journey of a packet\n\[1\] Done +nc -l 12345 >received \(on router\)\n$/);
});

test('foreground nc runs the world until done: -z scans, refused connections say so', async () => {
  const r = await sh('router: nc -l 2222 &\nclient: nc -z -v 10.0.1.1 2222\nclient: nc -v 10.0.1.1 2223');
  assert.match(r.err, /Connection to 10\.0\.1\.1 2222 port \[tcp\/\*\] succeeded!\n/);
  assert.match(r.err, /nc: connect to 10\.0\.1\.1 port 2223 \(tcp\) failed: Connection refused\n/);
});

test('foreground nc refused while its SYN waited for ARP: the RST finds nc waiting (no hang), traced or not', async () => {
  // Nothing resolved yet: the SYN waits in ARP's hold queue; pf on the router
  // refuses port 6001 (block return) before nc has reached its poll().
  const r = await sh('client: nc -v 10.0.1.1 6001');
  assert.equal(r.err, 'nc: connect to 10.0.1.1 port 6001 (tcp) failed: Connection refused\n');
  assert.equal(r.status, 1);
  const t = await sh('client: trace -s nc -v 10.0.1.1 6002');
  assert.equal(t.err, 'nc: connect to 10.0.1.1 port 6002 (tcp) failed: Connection refused\n');
  assert.match(t.out, /\n {2}dropped on router: pf_test\(IN\): block, rule 2\n/);
});

test('kill -STOP: a reader that does not read fills its Recv-Q; kill -CONT drains it', async () => {
  const r = await sh([
    'reader: nc -l 41996 </dev/zero &',
    'router: nc 10.10.11.1 41996 >/dev/null &',
    'kill -STOP %2',
    'sleep 1',
    'router: netstat -n -p tcp',
    'jobs',
    'kill -CONT %2',
    'sleep 100ms',
    'router: netstat -n -p tcp',
    'kill %2',
    'sleep 100ms',
    'jobs',
  ].join('\n'));
  const rows = r.out.split('\n').filter((l) => l.startsWith('tcp '));
  const recvq = (l: string): number => Number(l.split(/\s+/)[1]);
  assert.match(rows[0]!, /^tcp +\d+ +0 +10\.10\.11\.2\.\d+ +10\.10\.11\.1\.41996 +ESTABLISHED$/);
  assert.ok(recvq(rows[0]!) > 10000, rows[0]);
  assert.ok(recvq(rows[1]!) < recvq(rows[0]!), rows[1]);
  assert.match(r.out, /\[2\] Stopped +nc 10\.10\.11\.1 41996 >\/dev\/null \(on router\)\n/);
  assert.match(r.out, /\[2\] Terminated +nc 10\.10\.11\.1 41996/);
});

test('a slow link fills the Send-Q: tcpbench to sink behind 10 Mbit/s, in the background', async () => {
  const r = await sh('sink: tcpbench -s >/dev/null &\nrouter: tcpbench -t 5 10.10.12.4 >bench &\nsleep 2\nrouter: netstat -n -p tcp\nrouter: cat bench | head -n 2');
  assert.match(r.out, /\ntcp +0 +[1-9]\d{3,} +10\.10\.12\.3\.\d+ +10\.10\.12\.4\.12345 +ESTABLISHED\n/);
  assert.match(r.out, /elapsed_ms +bytes +mbps +bwidth \n +1000 +\d+ +9\.\d{3} +100\.00% \n/);
});

test('job control errors', async () => {
  const r = await sh('kill %3\nrouter: tcpdump -ni em0 &\nkill -STOP %1\nkill -HUP %1\nnetstat -ss &');
  assert.match(r.err, /kill: %3: no such job\n/);
  assert.match(r.err, /kill: %1: a capture is ended with kill %1\n/);
  assert.match(r.err, /usage: kill \[-INT \| -STOP \| -CONT \| -TERM\] %job\n/);
  assert.match(r.err, /only tcpdump, ping, ping6 and programs \(nc, tcpbench\) run in the background\n/);
});

test('ping in the background: it runs as lab time passes; kill -INT prints its statistics, kill ends it silently', async () => {
  const r = await sh([
    'client: ping -n 10.0.1.1 >pings &',
    'sleep 2500ms',
    'jobs',
    'kill -INT %1',
    'sleep 100ms',
    'jobs',
    'client: cat pings',
    'client: ping -n 10.0.1.1 &',
    'sleep 1500ms',
    'kill %1',
    'sleep 2s',
    'jobs',
  ].join('\n'));
  assert.equal(r.err, '');
  assert.match(r.out, /\[1\] Running +ping -n 10\.0\.1\.1 >pings \(on client\)\n/);
  assert.match(r.out, /\[1\] Done +ping -n 10\.0\.1\.1 >pings \(on client\)\n/);
  const pings = r.out.slice(r.out.indexOf('PING 10.0.1.1'));
  // Requests at 0, 1 and 2 s, all answered; SIGINT at 2.5 s.
  assert.equal((pings.match(/^64 bytes from 10\.0\.1\.1: icmp_seq=\d+ ttl=255 time=/gm) ?? []).length, 3 + 2, pings);
  assert.match(pings, /--- 10\.0\.1\.1 ping statistics ---\n3 packets transmitted, 3 packets received, 0\.0% packet loss\n/);
  // The second one went to the shell's output, two replies, then nothing after kill.
  assert.equal((r.out.match(/--- 10\.0\.1\.1 ping statistics ---/g) ?? []).length, 1);
  assert.match(r.out, /\[1\] Terminated +ping -n 10\.0\.1\.1 \(on client\)\n/);
});

test('a first nc on a cold lab (ARP still to resolve) ends as soon as its answer comes: refused, -w 1 on a dropped port, -u -w 1', async () => {
  // The program runs up to its poll before the world steps: the RST wakes it.
  const refused = await sh('client: nc -v 10.0.2.2 22\ndate');
  assert.equal(refused.err, 'nc: connect to 10.0.2.2 port 22 (tcp) failed: Connection refused\n');
  assert.equal(refused.out, '11.000627364 s\n');
  // pf drops the SYN: -w 1 ends the connect one second of lab time later, exactly.
  const dropped = await sh([
    "router: echo 'pass all' >d.conf",
    "router: echo 'block drop in proto tcp to port 23' >>d.conf",
    'router: pfctl -f d.conf',
    'client: nc -w 1 -v 10.0.2.2 23',
    'date',
  ].join('\n'));
  assert.equal(dropped.err, 'nc: connect to 10.0.2.2 port 23 (tcp) failed: Operation timed out\n');
  assert.equal(dropped.out, '12.000000000 s\n');
  const udp = await sh('client: echo hello >f\nclient: nc -u -w 1 10.0.2.2 5000 <f\ndate');
  assert.equal(udp.err, '');
  assert.equal(udp.out, '11.000378344 s\n');
});

test('a foreground server in a script that nobody calls is killed after an hour of lab time, and the script goes on', async () => {
  const r = await sh('client: nc -l 1234\necho next');
  assert.equal(r.err, 'nc: killed: still waiting after an hour of lab time (servers run in the background: nc ... &)\n');
  assert.equal(r.out, 'next\n');
  assert.equal(r.status, 0);
});

test('a command that fails inside packetflow says so on one line, without a JavaScript stack', async () => {
  const r = await sh('echo');
  r.shell.commands['boom'] = {
    summary: 'fails',
    run: () => {
      throw new Error('the world broke\nsecond line');
    },
  };
  const out = new StringOutput();
  const err = new StringOutput();
  assert.equal(await r.shell.run('boom', { stdout: out, stderr: err }), 70);
  assert.equal(err.text(), 'boom: internal error: the world broke\n');
});

test('nc moves every byte value unchanged: a binary file out with <file, on the wire as is, into >file', async () => {
  const lab = talk();
  let all = '';
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  // A machine file is a binary string, one char per byte (latin1).
  lab.machine('client')!.files.set('all', all + all);
  const r = await sh([
    'router: tcpdump -ni em0 -s 1500 -w cap.pcap tcp &',
    'router: nc -l 12345 >received &',
    'client: nc -N 10.0.1.1 12345 <all',
    'sleep 1',
    'router: kill %1',
    'router: netstat -s -p tcp | grep in-sequence',
  ].join('\n'), lab);
  assert.equal(r.err, '');
  const router = lab.machine('router')!;
  assert.equal(router.files.get('received'), all + all);
  // The 512 bytes went out as they are (as UTF-8 they were 768).
  assert.ok(router.files.get('cap.pcap')!.includes(all + all), 'the capture holds the file\'s bytes in one segment');
  assert.match(r.out, /\t\t2 packets \(512 bytes\) received in-sequence\n/);
});
