import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringOutput } from '../../src/lib/io.js';
import { explainCommand, countersForLine, counterInfo } from '../../src/lab/explain.js';
import { EXPLAIN } from '../../src/lab/explain.gen.js';
import { scanSources, type Site } from '../../src/lab/gen-explain.js';
import { repoRoot } from './helpers.js';
import { STATS_LAYOUTS } from '../../src/sys/kern/counters.gen.js';
import { ETHERSTAT_NAMES } from '../../src/sys/net/if_ethersubr.js';
import { ARPSTAT_NAMES } from '../../src/sys/netinet/if_ether.js';
import { SECTIONS } from '../../src/usr.bin/netstat/netstat-format.gen.js';
import { cprintf } from '../../src/usr.bin/netstat/inet.js';
import { PF_COUNTERS } from '../../src/lab/pf-counters.js';

/** The files of the IPv4 packet path this index is checked on. */
const SCOPE = [
  'src/sys/dev/nic.ts', 'src/sys/dev/cable.ts', 'src/sys/net/ifq.ts', 'src/sys/net/if_ethersubr.ts', 'src/sys/net/if_loop.ts',
  'src/sys/netinet/if_ether.ts', 'src/sys/netinet/ip_input.ts', 'src/sys/netinet/ip_output.ts', 'src/sys/netinet/ip_icmp.ts',
];

/** Counters of implemented protocols that nothing increments yet, and why. */
const NOT_YET: Record<string, string> = {
  ips_nogif: 'gif(4) is not built',
  ips_outswcsum: 'output checksums are always computed in ip_output (no offload model yet)',
  ips_rtcachehit: 'the route cache is not counted yet',
  ips_rtcachemiss: 'the route cache is not counted yet',
  ips_idropped: 'no input queue of IP (ipintrq) in the model',
  icps_oldshort: 'icmp_do_error never sees a datagram shorter than its header',
  PFRES_BADOFF: 'OpenBSD defines it and counts it nowhere either',
  PFRES_TS: "pf's TCP timestamp modulation (scrub reassemble tcp) is not built",
  PFRES_CONGEST: 'if_congested() is not modelled: pf_test_rule never drops for congestion',
  LCNT_SYNFLOODS: "pf's syncookies are not built",
  LCNT_SYNCOOKIES_SENT: "pf's syncookies are not built",
  LCNT_SYNCOOKIES_VALID: "pf's syncookies are not built",
};

/** Places on the IPv4 path that free a packet without a counter, and why that is right (or a known gap). */
const KNOWN_UNCOUNTED: Record<string, string> = {
  'src/sys/dev/nic.ts stop': 'interface stopped: the rings are emptied (OpenBSD does not count these)',
  'src/sys/dev/nic.ts txeof': 'transmitted frames freed after the wire took them: not a drop',
  'src/sys/dev/nic.ts lroMerge': 'LRO: the frame\'s payload was appended to the packet before it: not a drop',
  'src/sys/netinet/if_ether.ts in_arpinput': 'arpcache refused the entry and counted why (arps_permoverwrite/arps_ifoverwrite)',
  'src/sys/netinet/if_ether.ts arpreply': 'the request is freed after the reply was sent: not a drop',
  'src/sys/netinet/ip_icmp.ts icmp_do_error': 'the offending datagram is consumed by the error (icps_error counted)',
  'src/sys/netinet/ip_icmp.ts freeit': 'no error about this datagram (OpenBSD counts only some reasons)',
  'src/sys/netinet/ip_icmp.ts icmp_input': 'redirects ignored on routers or when not accepted, as OpenBSD does',
  'src/sys/netinet/ip_icmp.ts icmp_reflect': 'known gap: a reflection to an unroutable source is dropped uncounted, as in OpenBSD',
  'src/sys/netinet/ip_input.ts ip_reass': 'fragments merged into the reassembled datagram, or dropped with ips_fragdropped above',
  'src/sys/netinet/ip_input.ts ip_freef': 'reassembly queue freed; callers count ips_fragtimeout/ips_fragdropped',
  'src/sys/netinet/ip_output.ts loop_task': 'known gap: the interface went away while a looped packet waited',
};

test('explain ips_cantforward: struct, netstat line, and each increment with its condition', () => {
  const out = new StringOutput();
  assert.equal(explainCommand(['ips_cantforward'], { stdout: out, stderr: out }), 0);
  const t = out.text();
  assert.match(t, /^ips_cantforward: struct ipstat \(sys\/netinet\/ip_var\.h\), netstat section "ip"\n {2}netstat: n packets not forwardable\n/);
  assert.match(t, /src\/sys\/netinet\/ip_input\.ts:\d+ ip_input_if\(\)\n {8}when !\(flags & IP_FORWARDING\)\n/);
  assert.match(t, /src\/sys\/netinet\/ip_input\.ts:\d+ ip_forward\(\)\n/);
});

test("explain 'packets not forwardable' finds the counter from the netstat line (with or without the number)", () => {
  assert.ok(countersForLine('packets not forwardable').includes('ips_cantforward'));
  assert.ok(countersForLine('81 packets not forwardable').includes('ips_cantforward'));
  assert.equal(counterInfo('ethers_notforus')?.struct, 'packetflow etherstat');
  const err = new StringOutput();
  assert.equal(explainCommand(['no such line'], { stdout: err, stderr: err }), 1);
});

test('the generated index is up to date with the IPv4 path sources', () => {
  const root = repoRoot();
  if (!existsSync(join(root, 'src', 'sys'))) return;
  const fresh = scanSources(join(root, 'src'));
  const pick = (sites: Record<string, Site[]>): string[] =>
    Object.entries(sites).flatMap(([n, ss]) => ss.filter((s) => SCOPE.includes(s.file)).map((s) => `${n} ${s.file}:${s.line} ${s.fn} ${s.cond}`)).sort();
  assert.deepEqual(pick(EXPLAIN.sites), pick(fresh.sites), 'run: npx tsx src/lab/gen-explain.ts');
});

test("every counter of IPv4, ICMP, Ethernet, ARP and pf's pfctl -si has an increment site", () => {
  const names: string[] = [
    ...[...STATS_LAYOUTS.ip.fields, ...STATS_LAYOUTS.icmp.fields].map((f) => f.name), ...ETHERSTAT_NAMES, ...ARPSTAT_NAMES,
    ...PF_COUNTERS.flatMap((a) => a.names),
  ];
  const missing = names.filter((n) => (EXPLAIN.sites[n] ?? []).length === 0 && NOT_YET[n] === undefined);
  assert.deepEqual(missing, []);
  for (const n of Object.keys(NOT_YET)) assert.equal(EXPLAIN.sites[n], undefined, `${n} is incremented now: remove it from NOT_YET`);
});

test('every place on the IPv4 path that frees a packet counts why (or is a listed exception)', () => {
  const root = repoRoot();
  const ix = existsSync(join(root, 'src', 'sys')) ? scanSources(join(root, 'src')) : EXPLAIN;
  const bad = ix.uncounted.filter((s) => SCOPE.includes(s.file) && KNOWN_UNCOUNTED[`${s.file} ${s.fn}`] === undefined);
  assert.deepEqual(bad.map((s) => `${s.file}:${s.line} ${s.fn} when ${s.cond}`), []);
});

/** explain's output for a query, and its exit status. */
function explainOut(q: string): { rc: number; out: string } {
  const out = new StringOutput();
  const rc = explainCommand([q], { stdout: out, stderr: out });
  return { rc, out: out.text() };
}

test("the Measurement slide's tcp lines, pasted with both numbers, name both counters with their increment sites", () => {
  const cases: Array<[string, string, string[]]> = [
    ['616615 data packets (165690394 bytes)', 'n data packets (n bytes)', ['tcps_sndpack', 'tcps_sndbyte']],
    ['333 data packets (296898 bytes) retransmitted', 'n data packets (n bytes) retransmitted', ['tcps_sndrexmitpack', 'tcps_sndrexmitbyte']],
    ['740242 ack-only packets (646590 delayed)', 'n ack-only packets (n delayed)', ['tcps_sndacks', 'tcps_delack']],
    ['153288 window update packets', 'n window update packets', ['tcps_sndwinup']],
    ['1542163 packets sent', 'n packets sent', ['tcps_sndtotal']],
  ];
  for (const [q, line, names] of cases) {
    const { rc, out } = explainOut(q);
    assert.equal(rc, 0, q);
    for (const n of names) {
      assert.match(out, new RegExp(`(^|\\n)${n}: struct tcpstat \\(sys/netinet/tcp_var\\.h\\), netstat section "tcp"\\n {2}netstat: ${line.replace(/[()]/g, '\\$&')}\\n {2}incremented in \\d+ places?:\\n {4}src/sys/netinet/tcp_\\w+\\.ts:\\d+ \\w+\\(\\)\\n`), `${q}: ${n}`);
    }
  }
  // A count of one and bytes of many is the same line.
  assert.deepEqual(countersForLine('1 data packet (1448 bytes) retransmitted'), ['tcps_sndrexmitpack', 'tcps_sndrexmitbyte']);
  // The pasted line with both numbers is that line only, not every line that starts the same.
  assert.deepEqual(countersForLine('616615 data packets (165690394 bytes)'), ['tcps_sndpack', 'tcps_sndbyte']);
});

test("the udp 'delivered' line is computed by netstat: explain says from which counters, as inet.c computes it", () => {
  const { rc, out } = explainOut('318113273 delivered');
  assert.equal(rc, 0);
  assert.match(out, /^delivered: computed by netstat from struct udpstat, netstat section "udp"\n {2}netstat: n delivered\n {2}= udps_ipackets - udps_hdrops - udps_badlen - udps_badsum - udps_noport - udps_noportbcast - udps_fullsock\n/);
  assert.match(out, /\nudps_fullsock: struct udpstat \(sys\/netinet\/udp_var\.h\), netstat section "udp"\n {2}netstat: n dropped due to full socket buffers\n {2}incremented in \d+ places?:\n/);
  assert.match(out, /\ndelivered: computed by netstat from struct rip6stat, netstat section "rip6"\n {2}netstat: n delivered\n {2}= rip6s_ipackets - rip6s_nosock - rip6s_nosockmcast - rip6s_fullsock\n/);
});

test('explain qdrops: the kstat key names the receive and the transmit queue counter; rxq/txq picks one', () => {
  const { rc, out } = explainOut('qdrops');
  assert.equal(rc, 0);
  assert.match(out, /^ifq_qdrops: struct ifqueue \(sys\/net\/ifq\.h\), the transmit queue\n {2}shown by: kstat IF:0:txq:N qdrops\n {2}incremented in \d+ places:\n {4}src\/sys\/net\/ifq\.ts:\d+ ifq_enqueue\(\)\n/);
  assert.match(out, /\nifiq_qdrops: struct ifiqueue \(sys\/net\/ifq\.h\), the receive queue\n {2}shown by: kstat IF:0:rxq:N qdrops\n {2}incremented in \d+ places:\n {4}src\/sys\/net\/ifq\.ts:\d+ ifiq_input\(\)\n/);
  assert.match(explainOut('rxq qdrops').out, /^ifiq_qdrops: [^\n]*\n(?![^]*ifq_qdrops)/);
  assert.match(explainOut('txq qdrops').out, /^ifq_qdrops: [^\n]*\n(?![^]*ifiq_qdrops)/);
  assert.match(explainOut('qlen').out, /^ifq_len: /);
});

/** plural(), plurales(), pluralys() of inet.c. */
function suffix(n: number, kind: number): string {
  if (kind === 1) return n !== 1 ? 's' : '';
  if (kind === 2) return n !== 1 ? 'es' : '';
  return n !== 1 ? 'ies' : 'y';
}

test('every counter line of netstat -s, printed with numbers of one and of many, leads back to its counters', () => {
  let checked = 0;
  for (const [sec, s] of Object.entries(SECTIONS)) {
    let seed = 0;
    for (const it of s.items) {
      if (it.kind !== 'counter' && it.kind !== 'computed') continue;
      const vals = new Map<string, number>();
      const val = (c: string): number => {
        if (!vals.has(c)) vals.set(c, seed++ % 3 === 0 ? 1 : 100000 + seed * 37);
        return vals.get(c)!;
      };
      const line = it.kind === 'counter'
        ? cprintf(it.format, it.args.map(([c, kind]) => (kind === 0 ? val(c) : suffix(val(c), kind))))
        : cprintf(it.format, [val(it.plus)]);
      const want = it.kind === 'counter' ? it.args.map((a) => a[0]) : [it.plus, ...it.minus];
      const got = countersForLine(line);
      for (const c of want) assert.ok(got.includes(c), `${sec}: ${JSON.stringify(line)} -> ${got.join(' ')} lacks ${c}`);
      checked++;
    }
  }
  assert.ok(checked > 300);
});

test("a histogram bucket's line (echo reply: 5) names the histograms it is printed under", () => {
  assert.deepEqual(countersForLine('echo reply: 5'), ['icps_outhist', 'icps_inhist', 'icp6s_outhist', 'icp6s_inhist']);
  assert.deepEqual(countersForLine('destination unreachable: 12'), ['icps_outhist', 'icps_inhist']);
  const { rc, out } = explainOut('Output packet histogram:');
  assert.equal(rc, 0);
  assert.match(out, /^icps_outhist: struct icmpstat \(sys\/netinet\/icmp_var\.h\), netstat section "icmp"\n {2}netstat: Output packet histogram: NAME: n\n/);
});

/** The 1-based line of the first source line of `file` that contains `text`, for sites asserted exactly. */
function lineOf(file: string, text: string): number {
  const lines = readFileSync(join(repoRoot(), file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${file}: no line with ${text}`);
  return i + 1;
}

test('explain follows a counter chosen into a variable: icmp6_errcount picks icp6s_odst_unreach_noport, then counts it', () => {
  if (!existsSync(join(repoRoot(), 'src', 'sys'))) return;
  const want = [
    'icp6s_odst_unreach_noport: struct icmp6stat (sys/netinet/icmp6.h), netstat section "icmp6"',
    '  netstat: n port unreachable',
    '  incremented in 1 place:',
    `    src/sys/netinet6/icmp6.ts:${lineOf('src/sys/netinet6/icmp6.ts', 'c = icp6s_odst_unreach_noport')} icmp6_errcount()`,
    '        when case ICMP6_DST_UNREACH_NOPORT ← case ICMP6_DST_UNREACH',
    '',
  ].join('\n');
  assert.deepEqual(explainOut('port unreachable'), { rc: 0, out: want });
  assert.deepEqual(explainOut('1 port unreachable'), { rc: 0, out: want });
  assert.deepEqual(explainOut('icp6s_odst_unreach_noport'), { rc: 0, out: want });
});

test('explain says where a gauge of the SYN cache is set, not that nothing increments it', () => {
  if (!existsSync(join(repoRoot(), 'src', 'sys'))) return;
  const at = (f: string, t: string): string => `${f}:${lineOf(f, t)}`;
  assert.deepEqual(explainOut('hash bucket array size in current SYN cache'), {
    rc: 0,
    out: [
      'tcps_sc_hash_size: struct tcpstat (sys/netinet/tcp_var.h), netstat section "tcp"',
      '  netstat: n hash bucket array size in current SYN cache',
      '  a value, not a count: set in 2 places:',
      `    ${at('src/sys/netinet/tcp_input.ts', 'st.set(tcps_sc_hash_size')} syn_cache_gauges()`,
      '        when always',
      `    ${at('src/sys/netinet/tcp_subr.ts', 'st.set(tcps_sc_hash_size')} tcp_init()`,
      '        when always',
      '',
    ].join('\n'),
  });
  const uses = explainOut('100000 uses of current SYN cache left');
  assert.equal(uses.rc, 0);
  assert.match(uses.out, /^tcps_sc_uses_left: [^\n]*\n {2}netstat: n uses of current SYN cache left\n {2}a value, not a count: set in 2 places:\n/);
  // A counter both incremented and decremented says both.
  assert.match(explainOut('ips_delivered').out, /\n {2}incremented in \d+ places?:\n[^]*\n {2}decremented in \d+ places?:\n {4}src\/sys\/netinet\/ip_\w+\.ts:\d+ rip_input/);
});

test('a query that is part of a word, or of several different lines, picks no counter', () => {
  // `match` is no part of `protocol family mismatches`: it is pf's reason of that name.
  assert.match(explainOut('match').out, /^PFRES_MATCH: struct pf_status \(sys\/net\/pfvar\.h\), counters\[0\]\n {2}shown by: pfctl -si, "Counters": match\n {2}incremented in \d+ places?:\n/);
  assert.deepEqual(explainOut('ismatch'), { rc: 1, out: 'explain: ismatch: no such counter or netstat line\n' });
  assert.deepEqual(explainOut('family mis'), { rc: 1, out: 'explain: family mis: no such counter or netstat line\n' });
  // Part of several lines: they are listed, none is explained.
  const out = explainOut('due to full socket buffers');
  assert.deepEqual(out, {
    rc: 0,
    out: [
      'due to full socket buffers: part of 3 lines; explain one of them or its counter:',
      '  udp: n dropped due to full socket buffers (udps_fullsock)',
      '  divert: n dropped due to full socket buffers (divs_fullsock)',
      '  rip6: n messages dropped due to full socket buffers (rip6s_fullsock)',
      '',
    ].join('\n'),
  });
  // The same line in two sections is one line: both are explained.
  assert.match(explainOut('packets not forwardable').out, /^ips_cantforward: [^]*\nip6s_cantforward: /);
});

test("pf's pfctl -si counters are explained with their increment sites", () => {
  if (!existsSync(join(repoRoot(), 'src', 'sys'))) return;
  assert.deepEqual(explainOut('state-mismatch'), {
    rc: 0,
    out: [
      'PFRES_BADSTATE: struct pf_status (sys/net/pfvar.h), counters[10]',
      '  shown by: pfctl -si, "Counters": state-mismatch',
      '  incremented in 2 places:',
      `    src/sys/net/pf.ts:${lineOf('src/sys/net/pf.ts', 'REASON_SET(pf, PFRES_BADSTATE)')} pf_tcp_track_full()`,
      '        when always',
      `    src/sys/net/pf.ts:${lineOf('src/sys/net/pf.ts', 'if (!inWindow) {') + 1} pf_test_state_icmp_error()`,
      '        when !inWindow ← p2 === IPPROTO_TCP',
      '',
    ].join('\n'),
  });
  // A row pasted from pfctl -si, numbers and rate and all; a reason counted through a helper (pf_walk's drop()).
  assert.match(explainOut('  ip-option                              1            0.1/s').out, /^PFRES_IPOPTIONS: [^\n]*\n {2}shown by: pfctl -si, "Counters": ip-option\n {2}incremented in \d+ places:\n[^]*src\/sys\/net\/pf_walk\.ts:\d+ /);
  // The limit counters of pfctl -vsi, by name.
  assert.match(explainOut('LCNT_SRCCONN').out, /^LCNT_SRCCONN: struct pf_status \(sys\/net\/pfvar\.h\), lcounters\[3\]\n {2}shown by: pfctl -vsi, "Limit Counters": max-src-conn\n {2}incremented in 1 place:\n {4}src\/sys\/net\/pf_src\.ts:\d+ /);
  // searches: a row of three tables.
  assert.deepEqual(countersForLine('searches'), ['FCNT_STATE_SEARCH', 'SCNT_SRC_NODE_SEARCH', 'NCNT_FRAG_SEARCH']);
});
