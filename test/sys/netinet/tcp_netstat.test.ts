import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { pair, listener, connect, accept, payload, pump, drain } from './tcp_lab.js';
import { netstat } from '../../../src/usr.bin/netstat/main.js';
import { StringOutput } from '../../../src/lib/io.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { sosetopt, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF } from '../../../src/sys/kern/uipc_socket.js';

const S = 1e9;

function ns(k: Kernel, argv: string[]): string {
  const o = new StringOutput();
  const e = new StringOutput();
  assert.equal(netstat(k, argv, { stdout: o, stderr: e }), 0, e.text());
  return o.text();
}

/** The golden file in the source tree (also when run from dist/). */
function goldenPath(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'test', 'sys', 'netinet', 'golden', name);
}

function golden(name: string, text: string): void {
  const path = goldenPath(name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'));
}

test('netstat -s -p tcp after a lossy 1 MB transfer (both ends, golden)', () => {
  const { world, a, b, bAddr } = pair(1, { loss: 0.01, reorder: 0.01 });
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  const s = accept(l)!;
  const d = drain(s);
  pump(c, payload(1_000_000));
  for (let i = 0; i < 100 && !d.eof(); i++) world.runFor(S);
  assert.ok(d.eof());
  world.runFor(S);
  const sender = ns(a.k, ['-s', '-p', 'tcp']);
  const receiver = ns(b.k, ['-s', '-p', 'tcp']);
  // The lines the talk shows move where OpenBSD moves them.
  assert.match(sender, /\n\t\t\d+ data packets \(\d+ bytes\)\n/);
  assert.match(receiver, /\n\t\t\d+ ack-only packets \(\d+ delayed\)\n/);
  assert.match(receiver, /\n\t\t\d+ packets \(\d+ bytes\) received in-sequence\n\t\t\d+ completely duplicate packets/);
  golden('tcp-netstat-s-sender.txt', sender);
  golden('tcp-netstat-s-receiver.txt', receiver);
});

test('socket buffer slide: a reader that does not read fills Recv-Q; a slow link fills Send-Q', () => {
  const { world, a, b, bAddr } = pair(1, { rate: 1e6, delay: 1_000_000 });
  const l = listener(b.k, 12345);
  sosetopt(l, SOL_SOCKET, SO_RCVBUF, 16384);
  const c = connect(a.k, bAddr, 12345);
  sosetopt(c, SOL_SOCKET, SO_SNDBUF, 65536);
  world.runFor(S);
  const s = accept(l)!;
  pump(c, payload(300_000), 'none');
  world.runFor(2 * S);
  // The slow link: data waits in the sender's Send-Q.
  const early = ns(a.k, ['-n', '-p', 'tcp']);
  const sendq = Number(/^tcp +(\d+) +(\d+) +192\.0\.2\.1\.\d+ +192\.0\.2\.2\.12345 +ESTABLISHED$/m.exec(early)![2]);
  assert.ok(sendq > 30_000, early);
  world.runFor(20 * S);
  // The reader never reads: Recv-Q full on b, the window closed, Send-Q full on a.
  const rq = ns(b.k, ['-n', '-p', 'tcp']);
  const m = /^tcp +(\d+) +(\d+) +192\.0\.2\.2\.12345 +192\.0\.2\.1\.\d+ +ESTABLISHED$/m.exec(rq);
  assert.ok(m, rq);
  assert.ok(Number(m[1]) >= 16384 - 1448 && Number(m[1]) <= s.so_rcv.sb_hiwat, rq);
  assert.equal(Number(m[1]), s.so_rcv.sb_cc);
  const sq = ns(a.k, ['-n', '-p', 'tcp']);
  const m2 = /^tcp +(\d+) +(\d+) +192\.0\.2\.1\.\d+ +192\.0\.2\.2\.12345 +ESTABLISHED$/m.exec(sq);
  assert.ok(m2, sq);
  assert.equal(Number(m2[1]), 0);
  assert.equal(Number(m2[2]), c.so_snd.sb_cc);
  assert.ok(Number(m2[2]) > 30_000);
  // Reading drains both.
  const d = drain(s);
  for (let i = 0; i < 60 && d.bytes().length < 300_000; i++) world.runFor(S);
  assert.equal(d.bytes().length, 300_000);
  const after = ns(a.k, ['-n', '-p', 'tcp']);
  assert.match(after, /^tcp +0 +0 +192\.0\.2\.1\.\d+ +192\.0\.2\.2\.12345 +ESTABLISHED$/m);
});
