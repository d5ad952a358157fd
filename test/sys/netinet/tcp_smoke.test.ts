import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, listener, connect, accept, tp, tcpstat, payload, sha, pump, drain } from '/work/main/test/sys/netinet/tcp_lab.js';
import { tcpstates } from '/work/main/src/sys/netinet/tcp_fsm.js';

test('smoke', () => {
  const { world, a, b, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(1e9);
  console.log('client', tcpstates[tp(c).t_state]);
  const s = accept(l);
  assert.ok(s);
  console.log('server', tcpstates[tp(s).t_state]);
  const data = payload(1_000_000);
  const d = drain(s);
  pump(c, data);
  world.runFor(20e9);
  console.log(d.bytes().length, d.eof(), tcpstat(a.k,'tcps_sndpack'), tcpstat(a.k,'tcps_sndrexmitpack'), tcpstat(b.k,'tcps_rcvpack'), tcpstat(b.k, 'tcps_sndacks'), tcpstat(b.k,'tcps_delack'));
  assert.equal(sha(d.bytes()), sha(data));
});
