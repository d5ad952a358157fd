import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pair, listener, connect, accept, tp, tcpstat, payload, sha, pump, drain, tcpSocket, ip,
} from './tcp_lab.js';
import { tcpstates, TCPS_ESTABLISHED, TCPS_TIME_WAIT, TCPS_CLOSED, TCPS_SYN_SENT } from '../../../src/sys/netinet/tcp_fsm.js';
import { sobind, soconnect, soclose, sosetopt, soreceive, SOL_SOCKET, SO_KEEPALIVE, SO_REUSEADDR, SO_RCVBUF } from '../../../src/sys/kern/uipc_socket.js';
import { Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { tcp_respond } from '../../../src/sys/netinet/tcp_subr.js';
import { TH_ACK, TH_RST, TH_SYN } from '../../../src/wire/tcp.js';
import { ECONNREFUSED, ECONNRESET, ETIMEDOUT } from '../../../src/sys/sys/errno.js';
import { Cable } from '../../../src/sys/dev/cable.js';
import { get16, get32, put16 } from '../../../src/wire/bytes.js';
import { TCPTV_MIN } from '../../../src/sys/netinet/tcp_var.js';
import type { Em } from '../../../src/sys/dev/em.js';

const S = 1e9;

function state(so: Parameters<typeof tp>[0]): string {
  const inp = so.so_pcb;
  if (inp === null || inp.inp_ppcb === null) return 'CLOSED';
  return tcpstates[tp(so).t_state]!;
}

test('three-way handshake through the SYN cache', () => {
  const { world, a, b, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  assert.equal(state(c), 'SYN_SENT');
  world.runFor(S);
  const s = accept(l);
  assert.ok(s);
  assert.equal(state(c), 'ESTABLISHED');
  assert.equal(state(s), 'ESTABLISHED');
  assert.equal(tcpstat(a.k, 'tcps_connattempt'), 1);
  assert.equal(tcpstat(a.k, 'tcps_connects'), 1);
  assert.equal(tcpstat(b.k, 'tcps_accepts'), 1);
  assert.equal(tcpstat(b.k, 'tcps_connects'), 1);
  assert.equal(tcpstat(b.k, 'tcps_sc_added'), 1);
  assert.equal(tcpstat(b.k, 'tcps_sc_completed'), 1);
  assert.equal(tcpstat(b.k, 'tcps_sc_entry_count'), 0);
  // Options negotiated: MSS 1460 less timestamps, window scaling, SACK.
  const t = tp(c);
  assert.equal(t.t_maxseg, 1448);
  assert.ok(t.sack_enable);
  assert.ok(t.snd_scale > 0 && t.rcv_scale > 0);
  assert.equal(tp(s).t_maxseg, 1448);
});

test('SYN to a closed port is answered with RST; connect fails with ECONNREFUSED', () => {
  const { world, a, b, bAddr } = pair();
  const c = connect(a.k, bAddr, 9);
  world.runFor(S);
  assert.equal(tcpstat(b.k, 'tcps_noport'), 1);
  assert.equal(tcpstat(b.k, 'tcps_pcbhashmiss'), 1);
  assert.equal(tcpstat(b.k, 'tcps_sndtotal'), 0, 'RSTs from tcp_respond are not counted by tcp_output');
  assert.equal(c.so_error, ECONNREFUSED);
  assert.equal(state(c), 'CLOSED');
  assert.equal(tcpstat(a.k, 'tcps_conndrops'), 1);
  assert.equal(tcpstat(a.k, 'tcps_closed'), 1);
});

test('simultaneous open: both sides SYN_SENT -> SYN_RCVD -> ESTABLISHED', () => {
  const { world, a, b, aAddr, bAddr } = pair();
  const ca = tcpSocket(a.k);
  const cb = tcpSocket(b.k);
  assert.equal(sobind(ca, Sockaddr.in(aAddr, 4000)), 0);
  assert.equal(sobind(cb, Sockaddr.in(bAddr, 5000)), 0);
  assert.equal(soconnect(ca, Sockaddr.in(bAddr, 5000)), 0);
  assert.equal(soconnect(cb, Sockaddr.in(aAddr, 4000)), 0);
  assert.equal(tp(ca).t_state, TCPS_SYN_SENT);
  world.runFor(5 * S);
  assert.equal(state(ca), 'ESTABLISHED');
  assert.equal(state(cb), 'ESTABLISHED');
  const d = drain(cb);
  const data = payload(10_000);
  pump(ca, data, 'none');
  world.runFor(5 * S);
  assert.equal(sha(d.bytes()), sha(data));
});

test('listen backlog: SYNs beyond the queue limit are dropped (tcps_dropsyn)', () => {
  const { world, a, b, bAddr } = pair();
  listener(b.k, 80, 1);
  const cs = [];
  for (let i = 0; i < 4; i++) {
    cs.push(connect(a.k, bAddr, 80));
    world.runFor(S / 10);
  }
  world.runFor(S / 2);
  // so_qlen > so_qlimit refuses the SYN: with a limit of 1, two are queued.
  assert.equal(tcpstat(b.k, 'tcps_accepts'), 2);
  assert.ok(tcpstat(b.k, 'tcps_dropsyn') >= 2);
  assert.equal(cs.filter((c) => state(c) === 'SYN_SENT').length, 2);
});

test('SYN cache overflow: the oldest entry is tossed (tcps_sc_overflowed)', () => {
  const { world, a, b, aAddr, bAddr } = pair();
  listener(b.k, 80, 128);
  b.k.sysctl.set('net.inet.tcp.syncachelimit', 4);
  // Bare SYNs from a: a has no PCBs for the SYN,ACKs and answers RSTs, rate limited to 1/s.
  a.k.sysctl.set('net.inet.tcp.rstppslimit', 1);
  for (let port = 1000; port < 1010; port++) tcp_respond(a.k, null, aAddr, bAddr, port, 80, 0, 1000 * port, TH_SYN, 0);
  world.runFor(S / 2);
  assert.equal(tcpstat(b.k, 'tcps_sc_added'), 10);
  assert.equal(tcpstat(b.k, 'tcps_sc_overflowed'), 6);
  assert.equal(tcpstat(b.k, 'tcps_sc_reset'), 1);
  assert.equal(tcpstat(b.k, 'tcps_sc_entry_count'), 3);
  assert.equal(tcpstat(a.k, 'tcps_noport'), 10);
  // The rest go with the SYN,ACK retransmissions: reset by a's rate-limited
  // RSTs, or timed out.
  world.runFor(120 * S);
  assert.equal(tcpstat(b.k, 'tcps_sc_entry_count'), 0);
  assert.equal(tcpstat(b.k, 'tcps_sc_timed_out') + tcpstat(b.k, 'tcps_sc_reset'), 4);
  assert.ok(tcpstat(b.k, 'tcps_sc_retransmitted') > 0);
});

function transfer(seed: number, opts: { loss?: number; duplicate?: number; reorder?: number }, size: number, limit: number): { ok: boolean; a: ReturnType<typeof pair>['a']; b: ReturnType<typeof pair>['b']; t: number } {
  const { world, a, b, bAddr } = pair(seed, opts);
  const l = listener(b.k, 12345);
  let c = connect(a.k, bAddr, 12345);
  let s = null;
  for (let i = 0; i < 200 && s === null; i++) {
    world.runFor(S / 10);
    s = accept(l);
    if (s === null && state(c) === 'CLOSED') c = connect(a.k, bAddr, 12345);
  }
  assert.ok(s, 'connection established');
  const data = payload(size, seed);
  const d = drain(s);
  pump(c, data);
  const t0 = world.now;
  while (!d.eof() && world.now - t0 < limit) world.runFor(S);
  return { ok: d.eof() && sha(d.bytes()) === sha(data), a, b, t: world.now - t0 };
}

test('bulk transfer, no loss: byte-exact, no retransmissions', () => {
  const r = transfer(1, {}, 2_000_000, 60 * S);
  assert.ok(r.ok);
  assert.equal(tcpstat(r.a.k, 'tcps_sndrexmitpack'), 0);
  assert.equal(tcpstat(r.a.k, 'tcps_sndbyte'), 2_000_000);
  assert.equal(tcpstat(r.b.k, 'tcps_rcvbyte'), 2_000_000);
  assert.equal(tcpstat(r.b.k, 'tcps_rcvoopack'), 0);
});

for (const seed of [1, 2, 3, 4, 5]) {
  test(`bulk transfer, 1% loss with reordering and duplication, seed ${seed}`, () => {
    const r = transfer(seed, { loss: 0.01, duplicate: 0.01, reorder: 0.02 }, 1_000_000, 300 * S);
    assert.ok(r.ok, 'payload intact');
    // SACK retransmissions go out at snd_max: OpenBSD counts them as data packets.
    assert.ok(tcpstat(r.a.k, 'tcps_sndrexmitpack') + tcpstat(r.a.k, 'tcps_sack_rexmits') > 0);
    assert.ok(tcpstat(r.b.k, 'tcps_rcvduppack') + tcpstat(r.b.k, 'tcps_rcvoopack') > 0);
  });
}

for (const seed of [1, 2, 3]) {
  test(`bulk transfer, 10% loss with reordering and duplication, seed ${seed}`, () => {
    const r = transfer(seed, { loss: 0.1, duplicate: 0.02, reorder: 0.05 }, 200_000, 3600 * S);
    assert.ok(r.ok, 'payload intact');
    assert.ok(tcpstat(r.a.k, 'tcps_rexmttimeo') > 0 || tcpstat(r.a.k, 'tcps_sack_rexmits') > 0);
  });
}

test('SACK recovery: holes filled from the scoreboard', () => {
  const r = transfer(7, { loss: 0.02 }, 2_000_000, 300 * S);
  assert.ok(r.ok);
  assert.ok(tcpstat(r.a.k, 'tcps_sack_recovery_episode') > 0);
  assert.ok(tcpstat(r.a.k, 'tcps_sack_rexmits') > 0);
  assert.ok(tcpstat(r.a.k, 'tcps_sack_rcv_opts') > 0);
  assert.ok(tcpstat(r.b.k, 'tcps_sack_snd_opts') > 0);
  assert.ok(tcpstat(r.a.k, 'tcps_cwr_frecovery') > 0);
});

test('NewReno fast retransmit when SACK is off', () => {
  const { world, a, b, bAddr } = pair(7, { loss: 0.02 });
  a.k.sysctl.set('net.inet.tcp.sack', 0);
  b.k.sysctl.set('net.inet.tcp.sack', 0);
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(5 * S);
  const s = accept(l)!;
  assert.ok(s);
  assert.equal(tp(c).sack_enable, 0);
  const data = payload(2_000_000);
  const d = drain(s);
  pump(c, data);
  for (let i = 0; i < 300 && !d.eof(); i++) world.runFor(S);
  assert.equal(sha(d.bytes()), sha(data));
  assert.ok(tcpstat(a.k, 'tcps_sndrexmitfast') > 0);
  assert.equal(tcpstat(a.k, 'tcps_sack_rexmits'), 0);
});

/**
 * One data segment lost on a clean cable; with `grow`, each duplicate ACK
 * of it offers one more unit of window, as Linux's receiver does while it
 * queues out-of-order data.  Returns the virtual time the transfer took.
 */
function oneLoss(grow: boolean): { ok: boolean; a: ReturnType<typeof pair>['a']; t: number } {
  const { world, a, b, bAddr } = pair(3);
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  const s = accept(l)!;
  let data = 0;
  let lost = -1;
  let dups = 0;
  // b's NIC loses the 200th full-sized frame; a's NIC rewrites the window of its duplicate ACKs.
  const toB = (buf: Uint8Array, off: number, len: number): boolean => {
    if (len < 1000 || ++data !== 200) return false;
    lost = get32(buf, off + 14 + 20 + 4);
    return true;
  };
  const toA = (buf: Uint8Array, off: number): void => {
    const th = off + 14 + ((buf[off + 14]! & 0xf) << 2);
    const tlen = get16(buf, off + 16) - (th - off - 14) - ((buf[th + 12]! >> 4) << 2);
    if (!grow || tlen !== 0 || get32(buf, th + 8) !== lost) return;
    const win = get16(buf, th + 14);
    const nwin = Math.min(0xffff, win + ++dups);
    put16(buf, th + 14, nwin);
    // RFC 1624: HC' = ~(~HC + ~m + m')
    let sum = (~get16(buf, th + 16) & 0xffff) + (~win & 0xffff) + nwin;
    sum = (sum & 0xffff) + (sum >>> 16);
    put16(buf, th + 16, ~((sum & 0xffff) + (sum >>> 16)) & 0xffff);
  };
  const nb = b.ifs[0]!.if_softc as Em;
  const na = a.ifs[0]!.if_softc as Em;
  const rxb = nb.cable_rx.bind(nb);
  const rxa = na.cable_rx.bind(na);
  nb.cable_rx = (buf, off, len, trace) => (toB(buf, off, len) ? undefined : rxb(buf, off, len, trace));
  // Every frame through cable_rx, once.
  nb.cable_rx_ahead = () => null;
  na.cable_rx = (buf, off, len, trace) => {
    toA(buf, off);
    return rxa(buf, off, len, trace);
  };
  na.cable_rx_ahead = () => null;
  const bytes = payload(1_000_000);
  const d = drain(s);
  pump(c, bytes);
  const t0 = world.now;
  while (!d.eof() && world.now - t0 < 60 * S) world.runFor(S / 100);
  assert.notEqual(lost, -1, 'a frame was lost');
  return { ok: sha(d.bytes()) === sha(bytes), a, t: world.now - t0 };
}

test('duplicate ACKs that change the window start no fast recovery (RFC 5681, as tcp_input.c): the loss waits for the retransmit timer', (t) => {
  // The same window each time: three duplicates start SACK recovery.
  const same = oneLoss(false);
  assert.ok(same.ok);
  assert.equal(tcpstat(same.a.k, 'tcps_sack_recovery_episode'), 1);
  assert.equal(tcpstat(same.a.k, 'tcps_rexmttimeo'), 0);
  assert.ok(tcpstat(same.a.k, 'tcps_rcvdupack') >= 3);
  assert.ok(same.t < S / 2, `${same.t} ns`);
  // A growing window (a Linux receiver): none counts, the timer resends after TCPTV_MIN.
  const grown = oneLoss(true);
  assert.ok(grown.ok);
  assert.equal(tcpstat(grown.a.k, 'tcps_rcvdupack'), 0);
  assert.equal(tcpstat(grown.a.k, 'tcps_sack_recovery_episode'), 0);
  assert.equal(tcpstat(grown.a.k, 'tcps_rexmttimeo'), 1);
  assert.ok(grown.t > TCPTV_MIN * 1e6, `${grown.t} ns`);
  t.diagnostic(`1 MB with one loss: ${(same.t / 1e6).toFixed(1)} ms with the same window, ${(grown.t / 1e6).toFixed(1)} ms with a growing one`);
});

test('zero window: persist timer probes until the reader reads', () => {
  const { world, a, b, bAddr } = pair();
  const l = listener(b.k, 12345);
  sosetopt(l, SOL_SOCKET, SO_RCVBUF, 16384);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  const s = accept(l)!;
  const data = payload(200_000);
  pump(c, data, 'none');
  world.runFor(30 * S);
  // Receiver never read: its buffer is full, the window closed.
  assert.ok(s.so_rcv.sb_cc > s.so_rcv.sb_hiwat - tp(s).t_maxseg);
  assert.ok(c.so_snd.sb_cc > 0);
  assert.ok(tcpstat(a.k, 'tcps_persisttimeo') >= 2);
  assert.ok(tcpstat(a.k, 'tcps_sndprobe') >= 2);
  assert.equal(tp(c).snd_wnd, 0);
  // The receiver advertised a zero window (silly window avoidance hides the last few bytes).
  assert.ok(tp(s).t_sndzerowin > 0);
  // Now read: window updates resume the transfer.
  const d = drain(s);
  for (let i = 0; i < 120 && d.bytes().length < data.length; i++) world.runFor(S);
  assert.equal(sha(d.bytes().subarray(0, data.length)), sha(data));
  assert.ok(tcpstat(b.k, 'tcps_sndwinup') > 0);
});

test('RTO backoff: retransmissions at doubling intervals, then ETIMEDOUT', () => {
  const { world, a, b, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  assert.ok(accept(l));
  // Pull the cable and send.
  const em = a.ifs[0]!.if_softc as Em;
  const cable = (em as unknown as { cable: Cable | null }).cable;
  assert.ok(cable);
  cable.disconnect();
  pump(c, payload(1000), 'none');
  const t = tp(c);
  const seen: number[] = [];
  let last = t.t_rxtshift;
  const t0 = world.now;
  for (let i = 0; i < 2000 && state(c) !== 'CLOSED'; i++) {
    world.runFor(S);
    if (state(c) !== 'CLOSED' && t.t_rxtshift !== last) {
      last = t.t_rxtshift;
      seen.push(t.t_rxtcur);
    }
  }
  assert.equal(state(c), 'CLOSED');
  assert.equal(c.so_error, ETIMEDOUT);
  assert.equal(tcpstat(a.k, 'tcps_rexmttimeo'), 12);
  assert.equal(tcpstat(a.k, 'tcps_timeoutdrop'), 1);
  assert.equal(tcpstat(a.k, 'tcps_drops'), 1);
  // RTO doubles and is capped at 64 s.
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!);
  assert.equal(seen[seen.length - 1], 64000);
  assert.ok(world.now - t0 > 400 * S);
});

test('RST: exact sequence resets; in-window gets a challenge ACK; outside the window is dropped', () => {
  const { world, a, b, aAddr, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  const s = accept(l)!;
  const ts = tp(s);
  const lport = tp(c).t_inpcb.inp_lport;
  const acksBefore = tcpstat(b.k, 'tcps_sndacks');
  // In the window, not exact: challenge ACK, connection stays.
  tcp_respond(a.k, null, aAddr, bAddr, lport, 12345, 0, (ts.rcv_nxt + 1000) >>> 0, TH_RST, 0);
  world.runFor(S);
  assert.equal(state(s), 'ESTABLISHED');
  assert.equal(tcpstat(b.k, 'tcps_sndacks'), acksBefore + 1);
  // Outside the window: dropped silently.
  tcp_respond(a.k, null, aAddr, bAddr, lport, 12345, 0, (ts.rcv_nxt + 10_000_000) >>> 0, TH_RST, 0);
  world.runFor(S);
  assert.equal(state(s), 'ESTABLISHED');
  assert.equal(tcpstat(b.k, 'tcps_sndacks'), acksBefore + 1);
  // A SYN in the window: challenge ACK too.
  tcp_respond(a.k, null, aAddr, bAddr, lport, 12345, 0, (ts.rcv_nxt + 5) >>> 0, TH_SYN, 0);
  world.runFor(S);
  assert.equal(state(s), 'ESTABLISHED');
  assert.equal(tcpstat(b.k, 'tcps_sndacks'), acksBefore + 2);
  // Exact: reset.
  tcp_respond(a.k, null, aAddr, bAddr, lport, 12345, 0, ts.rcv_nxt, TH_RST | TH_ACK, 0);
  world.runFor(S);
  assert.equal(state(s), 'CLOSED');
  assert.equal(s.so_error, ECONNRESET);
  assert.equal(tcpstat(b.k, 'tcps_drops'), 1);
  void TCPS_CLOSED;
});

test('FIN states: active closer goes FIN_WAIT_1/2 -> TIME_WAIT, passive closer CLOSE_WAIT -> LAST_ACK -> CLOSED', () => {
  const { world, a, b, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  const s = accept(l)!;
  const ct = tp(c);
  const st = tp(s);
  soclose(c);
  assert.equal(tcpstates[ct.t_state], 'FIN_WAIT_1');
  world.runFor(S);
  assert.equal(tcpstates[ct.t_state], 'FIN_WAIT_2');
  assert.equal(tcpstates[st.t_state], 'CLOSE_WAIT');
  const buf = new Uint8Array(10);
  assert.equal(soreceive(s, buf, 0, 10, null), 0, 'EOF');
  soclose(s);
  assert.equal(tcpstates[st.t_state], 'LAST_ACK');
  world.runFor(S);
  assert.equal(ct.t_state, TCPS_TIME_WAIT);
  assert.equal(st.t_inpcb.inp_ppcb, null, 'passive side closed');
  world.runFor(61 * S);
  assert.equal(ct.t_inpcb.inp_ppcb, null, 'TIME_WAIT over after 2MSL');
  assert.equal(tcpstat(a.k, 'tcps_closed'), 1);
  assert.equal(tcpstat(b.k, 'tcps_closed'), 1);
});

test('simultaneous close: both FIN_WAIT_1 -> CLOSING -> TIME_WAIT', () => {
  const { world, a, b, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  world.runFor(S);
  const s = accept(l)!;
  const ct = tp(c);
  const st = tp(s);
  soclose(c);
  soclose(s);
  world.runFor(S / 1000);
  world.runFor(S);
  assert.equal(ct.t_state, TCPS_TIME_WAIT);
  assert.equal(st.t_state, TCPS_TIME_WAIT);
});

test('TIME_WAIT reuse: a new SYN above the old sequence space opens a new connection', () => {
  const { world, a, b, aAddr, bAddr } = pair();
  const l = listener(b.k, 12345);
  const c = tcpSocket(a.k);
  sosetopt(c, SOL_SOCKET, SO_REUSEADDR, 1);
  sobind(c, Sockaddr.in(aAddr, 40000));
  soconnect(c, Sockaddr.in(bAddr, 12345));
  world.runFor(S);
  const s = accept(l)!;
  // The server closes first and holds TIME_WAIT.
  soclose(s);
  world.runFor(S);
  soclose(c);
  world.runFor(S);
  const old = b.k.inet.tcbtable.list().find((p) => p.inp_fport === 40000);
  assert.ok(old);
  assert.equal(tcpstates[tp(old.inp_socket).t_state], 'TIME_WAIT');
  world.runFor(5 * S);
  const c2 = tcpSocket(a.k);
  sosetopt(c2, SOL_SOCKET, SO_REUSEADDR, 1);
  assert.equal(sobind(c2, Sockaddr.in(aAddr, 40000)), 0);
  assert.equal(soconnect(c2, Sockaddr.in(bAddr, 12345)), 0);
  world.runFor(S);
  assert.equal(state(c2), 'ESTABLISHED');
  const s2 = accept(l);
  assert.ok(s2);
  assert.equal(state(s2), 'ESTABLISHED');
  assert.equal(old.inp_ppcb, null, 'the TIME_WAIT connection was closed');
});

test('keepalive: probes answered keep the connection; unanswered ones drop it', () => {
  const { world, a, b, bAddr } = pair();
  a.k.sysctl.set('net.inet.tcp.keepidle', 10);
  a.k.sysctl.set('net.inet.tcp.keepintvl', 5);
  const l = listener(b.k, 12345);
  const c = connect(a.k, bAddr, 12345);
  sosetopt(c, SOL_SOCKET, SO_KEEPALIVE, 1);
  world.runFor(S);
  assert.ok(accept(l));
  world.runFor(60 * S);
  assert.equal(state(c), 'ESTABLISHED');
  const probes = tcpstat(a.k, 'tcps_keepprobe');
  assert.ok(probes >= 3);
  assert.ok(tcpstat(b.k, 'tcps_sndacks') >= probes, 'each probe answered with an ACK');
  const cable = (a.ifs[0]!.if_softc as unknown as { cable: Cable | null }).cable!;
  cable.disconnect();
  world.runFor(200 * S);
  assert.equal(state(c), 'CLOSED');
  assert.equal(c.so_error, ETIMEDOUT);
  assert.equal(tcpstat(a.k, 'tcps_keepdrops'), 1);
  void TCPS_ESTABLISHED;
});

test('same seed, same bytes: a lossy transfer replays exactly', () => {
  const run = (): string => {
    const r = transfer(11, { loss: 0.03, reorder: 0.02 }, 300_000, 300 * S);
    assert.ok(r.ok);
    return JSON.stringify([...r.a.k.stats.tcpstat.snapshot()]) + JSON.stringify([...r.b.k.stats.tcpstat.snapshot()]);
  };
  assert.equal(run(), run());
});

test('ISNs and ephemeral ports come from the seeded stream', () => {
  const isn = (seed: number): number[] => {
    const { world, a, b, bAddr } = pair(seed);
    listener(b.k, 12345);
    const c = connect(a.k, bAddr, 12345);
    world.runFor(S);
    return [tp(c).iss, tp(c).t_inpcb.inp_lport];
  };
  assert.deepEqual(isn(3), isn(3));
  assert.notDeepEqual(isn(3), isn(4));
  void ip;
  void TH_ACK;
});
