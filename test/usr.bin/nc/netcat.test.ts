import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts } from '../../sys/netinet/lab.js';
import { nc, ncTool } from '../../../src/usr.bin/nc/netcat.js';
import { runWorld } from '../../../src/lib/socket.js';
import { QueueInput, StringOutput, type Io, type Output } from '../../../src/lib/io.js';

class BytesOutput implements Output {
  readonly chunks: Uint8Array[] = [];
  write(s: string): void {
    this.chunks.push(new TextEncoder().encode(s));
  }
  writeBytes(b: Uint8Array, length: number): void {
    this.chunks.push(b.slice(0, length));
  }
  bytes(): Uint8Array {
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const r = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      r.set(c, o);
      o += c.length;
    }
    return r;
  }
}

function io(): Io & { out: BytesOutput; err: StringOutput } {
  const out = new BytesOutput();
  const err = new StringOutput();
  return { stdout: out, stderr: err, out, err };
}

test('nc -u: a datagram from a client on one machine to a listener on another, byte-exact', async () => {
  const { world, a, b } = threeHosts(21);
  const payload = new Uint8Array(5000).map((_, i) => (i * 31 + 7) & 0xff);
  const sio = io();
  const cio = io();
  const server = nc(b.k, ['-u', '-l', '-v', '-w', '2', '5000'], sio);
  const [sst, cst] = await runWorld(world, Promise.all([server, nc(a.k, ['-u', '-v', '-w', '1', '198.51.100.20', '5000'], cio, { stdin: payload })]));
  assert.equal(sst, 0);
  assert.equal(cst, 0);
  assert.deepEqual(sio.out.bytes(), payload);
  const port = /Connection received on 192\.0\.2\.10 (\d+)\n/.exec(sio.err.text());
  assert.ok(port, sio.err.text());
  assert.equal(sio.err.text(), `Bound on 0.0.0.0 5000\nConnection received on 192.0.2.10 ${port[1]}\n`);
  // Without a terminal on stdin, udptest() prints nothing for -u -v.
  assert.equal(cio.err.text(), '');
  assert.equal(b.k.stats.udpstat.value('udps_ipackets'), 1);
});

test('nc -u -z: scan prints succeeded for UDP; usage and option errors', async () => {
  const { a } = threeHosts(22);
  const cio = io();
  const st = await ncTool(a.k)(['-u', '-z', '-v', '-n', '198.51.100.20', '53'], cio);
  assert.equal(st, 0);
  assert.equal(cio.err.text(), 'Connection to 198.51.100.20 53 port [udp/*] succeeded!\n');
  const e1 = io();
  assert.equal(await ncTool(a.k)(['-l', '-z', '1234'], e1), 1);
  assert.equal(e1.err.text(), 'nc: cannot use -z and -l\n');
  const e2 = io();
  assert.equal(await ncTool(a.k)(['-u', 'nosuchhost', '53'], e2), 1);
  assert.equal(e2.err.text(), 'nc: getaddrinfo for host "nosuchhost" port 53: no address associated with name\n');
  const e3 = io();
  assert.equal(await ncTool(a.k)([], e3), 1);
  assert.ok(e3.err.text().startsWith('usage: nc [-46cDdFhklNnrStUuvz]'));
});

test('nc over TCP: nc -l on one machine, nc -N from another, byte-exact; netstat -an shows the connection', async () => {
  const { world, a, b } = threeHosts(23);
  const payload = new Uint8Array(200_000).map((_, i) => (i * 131 + (i >> 8)) & 0xff);
  const sio = io();
  const cio = io();
  const server = nc(b.k, ['-l', '-v', '12345'], sio);
  world.runFor(1e6);
  const client = nc(a.k, ['-N', '-v', '198.51.100.20', '12345'], cio, { stdin: payload });
  // Mid-transfer (once the server accepted), the connection is ESTABLISHED.
  await runWorld(world, new Promise<void>((r) => {
    const check = (): void => {
      if (sio.err.text().includes('Connection received')) r();
      else world.after(10e3, check);
    };
    check();
  }));
  const ns = new StringOutput();
  const { netstat } = await import('../../../src/usr.bin/netstat/main.js');
  netstat(b.k, ['-an'], { stdout: ns, stderr: ns });
  const lines = ns.text().split('\n');
  assert.equal(lines[0], 'Active Internet connections (including servers)');
  assert.equal(lines[1], 'Proto   Recv-Q Send-Q  Local Address          Foreign Address        TCP-State');
  assert.match(lines[2]!, /^tcp +\d+ +\d+ {2}198\.51\.100\.20\.12345 +192\.0\.2\.10\.\d+ +ESTABLISHED$/);
  assert.equal(lines[3], 'tcp          0      0  *.12345                *.*                    LISTEN');
  const [sst, cst] = await runWorld(world, Promise.all([server, client]));
  assert.equal(sst, 0);
  assert.equal(cst, 0);
  assert.deepEqual(sio.out.bytes(), payload);
  assert.equal(cio.err.text(), 'Connection to 198.51.100.20 12345 port [tcp/*] succeeded!\n');
  assert.match(sio.err.text(), /^Listening on 0\.0\.0\.0 12345\nConnection received on 192\.0\.2\.10 \d+\n$/);
});

test('nc -v to a closed TCP port: connect failed, Connection refused', async () => {
  const { a } = threeHosts(24);
  const cio = io();
  assert.equal(await ncTool(a.k)(['-v', '198.51.100.20', '9'], cio), 1);
  assert.equal(cio.err.text(), 'nc: connect to 198.51.100.20 port 9 (tcp) failed: Connection refused\n');
});

test('nc with standard input that comes over time (a terminal): each piece is sent as it comes, its end shuts down (-N)', async () => {
  const { world, a, b } = threeHosts(24);
  const sio = io();
  const cio = io();
  const server = nc(b.k, ['-l', '12345'], sio);
  world.runFor(1e6);
  const typed = new QueueInput();
  const client = nc(a.k, ['-N', '198.51.100.20', '12345'], cio, { stdin: typed });
  const got: string[] = [];
  const t0 = world.now;
  world.after(1e9, () => typed.push(new Uint8Array([0x68, 0x69, 0x0a])));
  world.after(1.5e9, () => got.push(new TextDecoder().decode(sio.out.bytes())));
  world.after(2e9, () => typed.push(new Uint8Array([0xe9, 0x0a])));
  world.after(3e9, () => typed.end());
  const [sst, cst] = await runWorld(world, Promise.all([server, client]));
  assert.equal(sst, 0);
  assert.equal(cst, 0);
  // The first line was there half a second after it was typed, before the second came.
  assert.deepEqual(got, ['hi\n']);
  assert.deepEqual([...sio.out.bytes()], [0x68, 0x69, 0x0a, 0xe9, 0x0a]);
  // Both ended when the typed input did (the FIN, then the server's own close).
  assert.ok(world.now - t0 >= 3e9 && world.now - t0 < 3.01e9, `ended after ${(world.now - t0) / 1e9} s`);
});
