/**
 * ping -f as ping.c floods: a dot for each request, a backspace for each
 * reply, no reply lines; the next request leaves when a packet is read or
 * 10 ms pass.  And round trips in the lab's virtual time: cable delays and
 * serialization, nothing else, so they can be asserted to the microsecond.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lab/helpers.js';

test('ping -f -c 5: a dot per request, a backspace per reply, then the statistics', async () => {
  const r = await sh('ping -f -c 5 10.0.2.2');
  assert.equal(r.err, '');
  assert.equal(r.out, [
    'PING 10.0.2.2 (10.0.2.2): 56 data bytes',
    '.\b.\b.\b.\b.\b',
    '--- 10.0.2.2 ping statistics ---',
    '5 packets transmitted, 5 packets received, 0.0% packet loss',
    // Back to back, each reply waits for the ix0 queue's moderated interrupt (125 us after the last one).
    'round-trip min/avg/max/std-dev = 0.125/0.125/0.126/0.000 ms',
    '',
  ].join('\n'));
  assert.equal(r.status, 0);
});

test('ping -f: with replies lost, the dots stay: one request every 10 ms', async () => {
  // far's em0 is down: nothing answers, every request leaves after the last 10 ms poll.
  const r = await sh('far: ifconfig em0 down\ndate\nping -f -c 3 -w 1 10.0.3.2\ndate');
  const lines = r.out.split('\n');
  assert.deepEqual(lines.slice(1, 5), ['PING 10.0.3.2 (10.0.3.2): 56 data bytes', '...', '--- 10.0.3.2 ping statistics ---', '3 packets transmitted, 0 packets received, 100.0% packet loss']);
  // Three requests 10 ms apart; 10 ms after the last, ping.c finds its count sent and sets the -w 1 alarm.
  const [t0, t1] = [lines[0]!, lines[5]!].map((l) => Number(/^([0-9.]+) s$/.exec(l)![1]));
  assert.equal(Math.round((t1! - t0!) * 1e3), 1030);
});

test('ping -f -q prints neither dots nor backspaces; -f and -i are incompatible', async () => {
  const q = await sh('ping -f -q -c 3 10.0.2.2');
  assert.match(q.out, /^PING 10\.0\.2\.2 \(10\.0\.2\.2\): 56 data bytes\n\n--- 10\.0\.2\.2 ping statistics ---\n3 packets transmitted, 3 packets received/);
  const i = await sh('ping -f -i 1 10.0.2.2');
  assert.deepEqual([i.out, i.err, i.status], ['', 'ping: -f and -i options are incompatible\n', 1]);
});

test("round trips are the cables': twice the delay and the frames' serialization, in virtual time", async () => {
  // sink is 2 ms away at 10 Mbit/s: 944 more payload bytes each way add 2 * 944 * 8 bits / 10 Mbit/s = 1.5104 ms.
  const small = await sh('ping -c 2 10.10.12.4');
  const big = await sh('ping -c 2 -s 1000 10.10.12.4');
  const times = (out: string): number[] => [...out.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]));
  assert.deepEqual(times(small.out), [8.291, 4.176]);
  assert.equal(times(big.out)[1], 5.686);
  assert.ok(Math.abs(times(big.out)[1]! - times(small.out)[1]! - 1.5104) < 0.001);
  // peer is 500 ns away at 10 Gbit/s: 1.2 us, printed as ping.c prints it (%.3f ms).
  assert.match((await sh('ping -c 2 10.0.2.2')).out, /icmp_seq=1 ttl=255 time=0\.001 ms\n/);
});
