import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, listener, connect, accept, payload, pump, tcpstat } from './tcp_lab.js';
import { tcpbench } from '../../../src/usr.bin/tcpbench/tcpbench.js';
import { StringOutput } from '../../../src/lib/io.js';

test('tcpbench client and server: periodic reports and summaries in virtual time', async () => {
  const { a, b } = pair(1, { rate: 100e6, delay: 100_000 });
  const so = new StringOutput();
  const se = new StringOutput();
  const co = new StringOutput();
  const ce = new StringOutput();
  const server = tcpbench(b.k, ['-s'], { stdout: so, stderr: se });
  const client = await tcpbench(a.k, ['-t', '3', '192.0.2.2'], { stdout: co, stderr: ce });
  assert.equal(client, 0);
  assert.equal(await server, 0);
  const c = co.text();
  assert.ok(c.startsWith('  elapsed_ms          bytes         mbps   bwidth \n'));
  assert.match(c, /\n {8}1000 +\d+ +\d+\.\d{3} +100\.00% \nConn: {3}1 Mbps: +\d+\.\d{3} Peak Mbps: +\d+\.\d{3} Avg Mbps: +\d+\.\d{3}\n/);
  // tcpbench.c arms the client's quit timer for secs + 1 seconds: -t 3
  // reports the slices at 1000, 2000 and 3000 ms, and the summary's
  // min/avg/max are those three samples (the byte total runs to the quit).
  assert.deepEqual([...c.matchAll(/\n {8}(\d+) +\d+ +[\d.]+ +100\.00% \n/g)].map((m) => m[1]), ['1000', '2000', '3000']);
  const sm = /--- 192\.0\.2\.2 tcpbench statistics ---\n\d+ bytes sent over 3\.\d{3} seconds\nbandwidth min\/avg\/max\/std-dev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/[\d.]+ Mbps\n$/.exec(c);
  assert.ok(sm !== null, c);
  // A 100 Mbit/s cable: the steady slices are a little under the line rate.
  const mbps = [...c.matchAll(/Conn: +1 Mbps: +([\d.]+)/g)].map((m) => Number(m[1]));
  assert.equal(mbps.length, 3);
  assert.equal(Number(sm[1]), Math.min(...mbps));
  assert.equal(Number(sm[3]), Math.max(...mbps));
  assert.ok(Math.abs(Number(sm[2]) - mbps.reduce((x, y) => x + y, 0) / 3) <= 0.001, sm[2]);
  assert.ok(mbps[1]! > 80 && mbps[1]! < 100, `slice ${mbps[1]}`);
  assert.match(so.text(), /--- tcpbench server statistics ---\n\d+ bytes received over/);
  assert.equal(ce.text(), '');
});

test('tcpbench usage and errors', async () => {
  const { a } = pair();
  const e = new StringOutput();
  assert.equal(await tcpbench(a.k, [], { stdout: new StringOutput(), stderr: e }), 1);
  assert.match(e.text(), /^usage: tcpbench -l\n/);
  const e2 = new StringOutput();
  assert.equal(await tcpbench(a.k, ['-r', 'x', '192.0.2.2'], { stdout: new StringOutput(), stderr: e2 }), 1);
  assert.equal(e2.text(), 'tcpbench: statistics interval is invalid: x\n');
  const e3 = new StringOutput();
  assert.equal(await tcpbench(a.k, ['-t', '1', '192.0.2.2'], { stdout: new StringOutput(), stderr: e3 }), 1);
  assert.equal(e3.text(), 'tcpbench: connect: Connection refused\n');
});

void listener; void connect; void accept; void payload; void pump; void tcpstat;
