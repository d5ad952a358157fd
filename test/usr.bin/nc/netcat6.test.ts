/**
 * nc over IPv6: -6 listeners on ::, clients to global and link-local
 * (%em0) addresses, TCP and UDP, byte-exact, with netcat.c's messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6 } from '../../sys/netinet6/lab6.js';
import { nc, ncTool } from '../../../src/usr.bin/nc/netcat.js';
import { runWorld } from '../../../src/lib/socket.js';
import { StringOutput, type Io, type Output } from '../../../src/lib/io.js';
import { formatIp6 } from '../../../src/wire/addr.js';

class BytesOutput implements Output {
  readonly chunks: Uint8Array[] = [];
  write(s: string): void {
    this.chunks.push(new TextEncoder().encode(s));
  }
  writeBytes(b: Uint8Array, length: number): void {
    this.chunks.push(b.slice(0, length));
  }
  bytes(): Uint8Array {
    const r = new Uint8Array(this.chunks.reduce((a, c) => a + c.length, 0));
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

test('nc -6 -l and nc -N over IPv6 through the router: TCP, byte-exact, messages', async () => {
  const { world, a, b } = threeHosts6(41);
  const payload = new Uint8Array(300_000).map((_, i) => (i * 37 + (i >> 9)) & 0xff);
  const sio = io();
  const cio = io();
  const server = nc(b.k, ['-6', '-l', '-v', '12345'], sio);
  world.runFor(1e6);
  const client = nc(a.k, ['-N', '-v', '2001:db8:2::20', '12345'], cio, { stdin: payload });
  const [sst, cst] = await runWorld(world, Promise.all([server, client]));
  assert.deepEqual([sst, cst], [0, 0]);
  assert.deepEqual(sio.out.bytes(), payload);
  const m = /^Listening on :: 12345\nConnection received on 2001:db8:1::10 (\d+)\n$/.exec(sio.err.text());
  assert.ok(m, sio.err.text());
  assert.equal(cio.err.text(), 'Connection to 2001:db8:2::20 12345 port [tcp/*] succeeded!\n');
});

test('nc -u over IPv6 to a link-local address with its scope; the listener sees the scoped peer', async () => {
  const { world, a, r } = threeHosts6(42);
  const rll = r.k.inet6.addrs(r.ifs[0]!).find((ia) => ia.addr[0] === 0xfe)!.addr.slice();
  rll[2] = 0;
  rll[3] = 0;
  const all = formatIp6(rll, 0);
  const payload = new TextEncoder().encode('hello over fe80\n');
  const sio = io();
  const cio = io();
  const server = nc(r.k, ['-6', '-u', '-l', '-v', '-w', '2', '5353'], sio);
  world.runFor(1e6);
  const client = nc(a.k, ['-u', '-v', '-w', '1', `${all}%em0`, '5353'], cio, { stdin: payload });
  const [sst, cst] = await runWorld(world, Promise.all([server, client]));
  assert.deepEqual([sst, cst], [0, 0]);
  assert.deepEqual(sio.out.bytes(), payload);
  const all_a = a.k.inet6.addrs(a.ifs[0]!).find((ia) => ia.addr[0] === 0xfe)!.addr.slice();
  all_a[2] = 0;
  all_a[3] = 0;
  assert.match(sio.err.text(), new RegExp(`^Bound on :: 5353\\nConnection received on ${formatIp6(all_a, 0)}%em0 \\d+\\n$`));
});

test('nc -6 -z: scan an IPv6 port; a differently written address shows the numeric one; errors', async () => {
  const { world, b, a } = threeHosts6(43);
  const sio = io();
  const server = nc(b.k, ['-6', '-l', '22'], sio);
  world.runFor(1e6);
  const c1 = io();
  assert.equal(await ncTool(a.k)(['-z', '-v', '2001:db8:2:0::20', '22'], c1), 0);
  assert.equal(c1.err.text(), 'Connection to 2001:db8:2:0::20 (2001:db8:2::20) 22 port [tcp/ssh] succeeded!\n');
  await runWorld(world, server);
  const c2 = io();
  assert.equal(await ncTool(a.k)(['-v', '-n', '2001:db8:2::20', '23'], c2), 1);
  assert.equal(c2.err.text(), 'nc: connect to 2001:db8:2::20 port 23 (tcp) failed: Connection refused\n');
  const c3 = io();
  assert.equal(await ncTool(a.k)(['-4', '2001:db8:2::20', '23'], c3), 1);
  assert.equal(c3.err.text(), 'nc: getaddrinfo for host "2001:db8:2::20" port 23: no address associated with name\n');
  const c4 = io();
  assert.equal(await ncTool(a.k)(['-6', '198.51.100.20', '23'], c4), 1);
  assert.equal(c4.err.text(), 'nc: getaddrinfo for host "198.51.100.20" port 23: no address associated with name\n');
  const c5 = io();
  assert.equal(await ncTool(a.k)(['fe80::1%em7', '23'], c5), 1);
  assert.equal(c5.err.text(), 'nc: getaddrinfo for host "fe80::1%em7" port 23: no address associated with name\n');
});
