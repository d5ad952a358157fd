/**
 * pfctl's command-line behaviour against a kernel, as sbin/pfctl/pfctl.c
 * has it: what a failed load says (pfctl_rules()), the -s modes that list
 * anchors, interfaces, queues and OS fingerprints, -R selecting one rule,
 * and the options that pfctl.c acts on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { pfctlKernel } from '../../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../../src/sbin/pfctl/pfctl_env.js';
import { StringOutput } from '../../../src/lib/io.js';
import { loopattach } from '../../../src/sys/net/if_loop.js';
import { em_attach } from '../../../src/sys/dev/em.js';
import { threeHosts, ip } from '../../sys/netinet/lab.js';
import { pfctl, loadPf, sendRaw, udpBytes } from '../../sys/net/pf_lab.js';

const FILES: Record<string, string> = {
  'good.conf': 'pass all\n',
  'bad.conf': 'pass all\nblock frobnicate\n',
  'outer.conf': 'anchor "web"\nload anchor "web" from "bad.conf"\n',
  'outer-missing.conf': 'anchor "web"\nload anchor "web" from "nowhere.conf"\n',
};

type Run = (argv: string[], stdin?: string) => { out: string; err: string; status: number };

/** pfctl bound to a kernel; without one, a kernel with the regress machine's facts, with one, the kernel's own */
function kernelPfctl(kernel?: Kernel): Run & { k: Kernel } {
  const k = kernel ?? new Kernel(new World({ seed: 1 }), { hostname: 'fw' });
  const f: Run = (argv, stdin = '') => {
    const o = new StringOutput();
    const e = new StringOutput();
    const status = pfctlKernel(k, argv, { stdout: o, stderr: e }, {
      ...(kernel === undefined ? { env: defaultPfctlEnv() } : {}),
      readFile: (p) => FILES[p] ?? null,
      readStdin: () => stdin,
    }) as number;
    return { out: o.text(), err: e.text(), status };
  };
  return Object.assign(f, { k });
}

const NOT_LOADED = 'pfctl: Syntax error in config file: pf rules not loaded\n';

test('-f with a syntax error: the parser\'s message, then pfctl_rules()\'s, exit 1, the old rules stay', () => {
  const pfctl = kernelPfctl();
  assert.equal(pfctl(['-f', 'good.conf']).status, 0);
  const r = pfctl(['-f', 'bad.conf']);
  assert.deepEqual(r, { out: '', err: 'bad.conf:2: syntax error\n' + NOT_LOADED, status: 1 });
  assert.equal(pfctl(['-sr']).out, 'pass all flags S/SA\n');
  // -n: nothing was to be loaded, pfctl_rules() exits 1 without the message (the regress pfail files end so)
  const n = pfctl(['-nf', 'bad.conf']);
  assert.deepEqual(n, { out: '', err: 'bad.conf:2: syntax error\n', status: 1 });
});

test('-nvf: nat-to on an inbound rule and rdr-to on an outbound one are accepted (rule_consistent() has no such check); without a direction they are not', () => {
  const pfctl = kernelPfctl();
  assert.deepEqual(pfctl(['-nvf', '-'], 'pass in on lo0 nat-to 192.0.2.1\npass out on lo0 rdr-to 192.0.2.1\n'), {
    out: 'pass in on lo0 inet all flags S/SA nat-to 192.0.2.1\npass out on lo0 inet all flags S/SA rdr-to 192.0.2.1\n',
    err: '',
    status: 0,
  });
  const r = pfctl(['-nvf', '-'], 'pass on lo0 nat-to 192.0.2.1\n');
  assert.equal(r.err, 'stdin:1: nat-to and rdr-to require a direction\nstdin:1: skipping rule due to errors\nstdin:1: rule expands to no valid combination\n');
  assert.equal(r.status, 1);
});

test('-f of a file that does not open: pushfile, parse_config, then the same message (not with -n)', () => {
  const pfctl = kernelPfctl();
  const pre = 'pfctl: pushfile: nowhere.conf: No such file or directory\npfctl: cannot open the main config file!: No such file or directory\n';
  assert.deepEqual(pfctl(['-f', 'nowhere.conf']), { out: '', err: pre + NOT_LOADED, status: 1 });
  assert.deepEqual(pfctl(['-nf', 'nowhere.conf']), { out: '', err: pre, status: 1 });
});

test('load anchor of a bad file: the anchor\'s pfctl_rules() says so, then "load anchors"', () => {
  const pfctl = kernelPfctl();
  assert.deepEqual(pfctl(['-f', 'outer.conf']), {
    out: '',
    err: 'bad.conf:2: syntax error\n' + NOT_LOADED + 'pfctl: load anchors\n',
    status: 1,
  });
  assert.deepEqual(pfctl(['-nf', 'outer.conf']), { out: '', err: 'bad.conf:2: syntax error\npfctl: load anchors\n', status: 1 });
  assert.deepEqual(pfctl(['-f', 'outer-missing.conf']), {
    out: '',
    err:
      'pfctl: pushfile: nowhere.conf: No such file or directory\npfctl: cannot open the main config file!: No such file or directory\n' +
      NOT_LOADED + 'pfctl: load anchors\n',
    status: 1,
  });
});

/* ---- -s Anchors, Interfaces, queue, osfp ---- */

const ANCHORS = 'anchor "foo" {\n pass in on em0\n anchor "bar" {\n  block\n }\n anchor {\n  pass\n }\n}\nanchor "zed"\nanchor {\n pass\n}\n';

function lab(): Run & { k: Kernel } {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'fw' });
  loopattach(k);
  em_attach(k, { lladdr: '00:00:5e:00:53:01' });
  em_attach(k, { lladdr: '00:00:5e:00:53:02' });
  return kernelPfctl(k);
}

test('-sA lists the anchors below -a, depth first by name; those starting with _ only with -v; a missing anchor fails', () => {
  const pfctl = lab();
  assert.equal(pfctl(['-f', '-'], ANCHORS).status, 0);
  assert.deepEqual(pfctl(['-sA']), { out: '  foo\n  foo/_3\n  foo/bar\n  zed\n', err: '', status: 0 });
  // pfctl_walk_show(): below the top it is the path that must not start with _, so foo/_3 shows without -v
  assert.equal(pfctl(['-vsA']).out, '  _4\n  foo\n  foo/_3\n  foo/bar\n  zed\n');
  assert.equal(pfctl(['-a', 'foo', '-sA']).out, '  foo/_3\n  foo/bar\n');
  assert.equal(pfctl(['-a', 'foo/bar', '-sA']).out, '');
  assert.equal(pfctl(['-a', '_4', '-sA']).out, '');
  assert.deepEqual(pfctl(['-a', 'nope', '-sA']), { out: '', err: 'pfctl: Anchor does not exist\n', status: 1 });
  // an anchor loaded on its own (-a) is listed too
  assert.equal(pfctl(['-a', 'zed/inner', '-f', '-'], 'pass out\n').status, 0);
  assert.equal(pfctl(['-sA']).out, '  foo\n  foo/_3\n  foo/bar\n  zed\n  zed/inner\n');
});

test('-sI: all, the interfaces, their groups and the names rules use, by name; -i filters by name or group; -v marks skip', () => {
  const pfctl = lab();
  assert.equal(pfctl(['-f', '-'], 'set skip on lo\npass in on em0\npass on em7 from (em8)\n').status, 0);
  assert.deepEqual(pfctl(['-sI']), { out: 'all\nem0\nem1\nem7\nem8\nlo\nlo0\npflog\npflog0\n', err: '', status: 0 });
  assert.equal(pfctl(['-vsI']).out, 'all\nem0\nem1\nem7\nem8\nlo (skip)\nlo0 (skip)\npflog\npflog0\n');
  // pfi_skip_if(): a group name selects its members; a name ending in a digit only itself
  assert.equal(pfctl(['-sI', '-i', 'lo']).out, 'lo\nlo0\n');
  assert.equal(pfctl(['-sI', '-i', 'em0']).out, 'em0\n');
  assert.equal(pfctl(['-sI', '-i', 'em']).out, '');
});

function counters(lines: Array<[number, number]>): string {
  const names = ['In4/Pass:', 'In4/Block:', 'Out4/Pass:', 'Out4/Block:', 'In6/Pass:', 'In6/Block:', 'Out6/Pass:', 'Out6/Block:'];
  return lines.map(([p, b], i) => `\t${names[i]!.padEnd(12)} [ Packets: ${String(p).padEnd(18)} Bytes: ${String(b).padEnd(18)} ]\n`).join('');
}

test('-vvsI: when cleared, references and the packets pf passed and blocked on the interface; -Fi -i clears one, -si sums the loginterface', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'set loginterface em0\nblock in on em0 proto udp to port 99\npass in on em0 proto udp to port 53\npass out\n');
  world.runFor(3e9);
  for (let i = 0; i < 3; i++) sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000 + i, 53));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 2000, 99, 10));
  world.runFor(2e9);
  // in: three datagrams of 32 bytes passed, one of 38 blocked; out: b's three port unreachables (56 bytes)
  const em0 = (cleared: string, c: Array<[number, number]>): string =>
    `em0\n\tCleared:     ${cleared}\n\tReferences:  [ States:  0                  Rules: 2                  ]\n` + counters(c);
  const z: [number, number] = [0, 0];
  assert.equal(pfctl(r.k, ['-vvsI', '-i', 'em0']).out, em0('Thu Jan  1 00:00:00 1970', [[3, 96], [1, 38], [3, 168], z, z, z, z, z]));
  // floating states are bound to `all`
  assert.match(pfctl(r.k, ['-vvsI', '-i', 'all']).out, /^all\n\tCleared: {5}Thu Jan {2}1 00:00:00 1970\n\tReferences: {2}\[ States: {2}6 {18}Rules: 0 {18}\]\n/);
  const vsi = pfctl(r.k, ['-vsi']).out;
  assert.ok(
    vsi.includes(
      '\nInterface Stats for em0               IPv4             IPv6\n' +
        '  Bytes In                             134                0\n  Bytes Out                            168                0\n' +
        '  Packets In\n    Passed                               3                0\n    Blocked                              1                0\n' +
        '  Packets Out\n    Passed                               3                0\n    Blocked                              0                0\n\n',
    ),
    vsi,
  );
  // -Fi leaves the interfaces' counters; -Fi -i em0 clears em0's only, and its Cleared time
  assert.equal(pfctl(r.k, ['-Fi']).err, 'pf: statistics cleared\n');
  assert.ok(pfctl(r.k, ['-vsi']).out.includes('\n    Passed                               3                0\n'));
  assert.equal(pfctl(r.k, ['-Fi', '-i', 'em0']).err, 'pf: statistics cleared for interface em0\n');
  assert.equal(pfctl(r.k, ['-vvsI', '-i', 'em0']).out, em0('Thu Jan  1 00:00:06 1970', [z, z, z, z, z, z, z, z]));
  assert.match(pfctl(r.k, ['-vvsI', '-i', 'em1']).out, /\tIn4\/Pass: {4}\[ Packets: 3 {18}Bytes: 168 {16}\]\n/);
  assert.ok(pfctl(r.k, ['-vsi']).out.includes('\n  Bytes In                               0                0\n'));
});

const QUEUES = 'queue rq on em0 bandwidth 10M\nqueue std parent rq bandwidth 5M default\nqueue fq on em1 flows 1024 qlimit 300\npass on em1 set queue std\n';

test('-sq prints the queues the kernel has (print_queuespec), -i one interface\'s, -v their counters, -g their qids', () => {
  const pfctl = lab();
  assert.deepEqual(pfctl(['-sq']), { out: '', err: '', status: 0 });
  assert.equal(pfctl(['-f', '-'], QUEUES).status, 0);
  const q = ['queue rq on em0 bandwidth 10M\n', 'queue std parent rq bandwidth 5M default\n', 'queue fq on em1 flows 1024 qlimit 300\n'];
  assert.equal(pfctl(['-sq']).out, q.join(''));
  assert.equal(pfctl(['-sq', '-i', 'em1']).out, q[2]);
  const pkts = '  [ pkts:          0  bytes:          0  dropped pkts:      0 bytes:      0 ]\n';
  assert.equal(
    pfctl(['-vsq']).out,
    q[0] + pkts + '  [ qlength:   0/ 50 ]\n' + q[1] + pkts + '  [ qlength:   0/ 50 ]\n' +
      q[2] + pkts + '  [ qlength:   0/300  avg delay: 0.000ms std-dev: 0.000ms  flows:   0 ]\n',
  );
  assert.equal(
    pfctl(['-gsq']).out,
    q[0] + '  [ qid=1 parent_qid=0 ifname=em0]\n' + q[1] + '  [ qid=2 parent_qid=1 ifname=em0]\n' + q[2] + '  [ qid=3 parent_qid=0 ifname=em1]\n',
  );
  // an anchor's load keeps them, -n loads nothing, the main ruleset's load replaces them
  assert.equal(pfctl(['-a', 'x', '-f', '-'], 'pass\n').status, 0);
  assert.equal(pfctl(['-nf', '-'], 'pass\n').status, 0);
  assert.equal(pfctl(['-sq']).out, q.join(''));
  assert.equal(pfctl(['-f', '-'], 'pass\n').status, 0);
  assert.equal(pfctl(['-sq']).out, '');
});

test('-so: no fingerprints loaded, nothing; -sa: FILTER RULES: always, QUEUES: when there are some, no OS FINGERPRINTS:', () => {
  const pfctl = lab();
  assert.deepEqual(pfctl(['-so']), { out: '', err: '', status: 0 });
  assert.match(pfctl(['-sa']).out, /^FILTER RULES:\n\nINFO:\n/);
  assert.equal(pfctl(['-f', '-'], QUEUES).status, 0);
  const all = pfctl(['-sa']).out;
  assert.match(all, /^FILTER RULES:\npass on em1 all flags S\/SA set \(queue std\)\n\nQUEUES:\nqueue rq on em0 bandwidth 10M\n/);
  assert.doesNotMatch(all, /FINGERPRINTS/);
  assert.ok(all.endsWith('\nanchors       hard limit      512\n'));
});

/* ---- -R ---- */

const USAGE =
  'usage: pfctl [-deghNnPqrvz] [-a anchor] [-D macro=value] [-F modifier] [-f file]\n' +
  '\t[-i interface] [-K key] [-k key] [-L statefile] [-o level]\n' +
  '\t[-p device] [-S statefile] [-s modifier [-R id]]\n' +
  '\t[-t table -T command [address ...]] [-V rdomain] [-x level]\n';

test('-R N: -sr and -sl show rule N only, -ss the states rule N made; a bad id is refused', () => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, 'pass out\npass in on em0 proto udp to port 53 label "dns"\npass in on em0 proto udp to port 123 label "ntp"\n');
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000, 53));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1001, 123));
  world.runFor(1e9);
  assert.equal(pfctl(r.k, ['-sr', '-R', '2']).out, 'pass in on em0 proto udp from any to any port = 123 label "ntp"\n');
  assert.equal(pfctl(r.k, ['-vsr', '-R', '1']).out,
    'pass in on em0 proto udp from any to any port = 53 label "dns"\n' +
    '  [ Evaluations: 4         Packets: 2         Bytes: 88          States: 1     ]\n' +
    '  [ Inserted: uid 0 pid 0 State Creations: 1     ]\n');
  assert.equal(pfctl(r.k, ['-sl', '-R', '2']).out, 'ntp 2 2 88 1 32 1 56 1\n');
  assert.equal(pfctl(r.k, ['-sr', '-R', '-1']).out.split('\n').length, 4);
  // states: rule 1's inbound one; rule 0 made the two outbound ones; none is rule 99's
  assert.equal(pfctl(r.k, ['-ss', '-R', '1']).out, 'all udp 198.51.100.20:53 <- 192.0.2.10:1000       NO_TRAFFIC:SINGLE\n');
  assert.equal(pfctl(r.k, ['-ss', '-R', '0']).out,
    'all udp 192.0.2.10:1000 -> 198.51.100.20:53       SINGLE:NO_TRAFFIC\nall udp 192.0.2.10:1001 -> 198.51.100.20:123       SINGLE:NO_TRAFFIC\n');
  assert.deepEqual(pfctl(r.k, ['-ss', '-R', '99']), { status: 0, out: '', err: '' });
  assert.equal(pfctl(r.k, ['-ss']).out.split('\n').length, 5);
  // strtonum(-1, LONG_MAX)
  assert.deepEqual(pfctl(r.k, ['-ss', '-R', 'x1']), { status: 1, out: '', err: 'pfctl: invalid rule id: invalid\n' + USAGE });
  assert.deepEqual(pfctl(r.k, ['-ss', '-R', '-2']), { status: 1, out: '', err: 'pfctl: invalid rule id: too small\n' + USAGE });
  assert.deepEqual(pfctl(r.k, ['-ss', '-R', '9223372036854775808']), { status: 1, out: '', err: 'pfctl: invalid rule id: too large\n' + USAGE });
});

/* ---- the other options pfctl.c acts on ---- */

function dnsLab(): ReturnType<typeof threeHosts> {
  const h = threeHosts();
  loadPf(h.r.k, 'pass out\npass in on em0 proto udp to port 53 label "dns"\n');
  sendRaw(h.a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000, 53));
  h.world.runFor(1e9);
  return h;
}

test('-n: nothing is shown, flushed, enabled, disabled or set', () => {
  const { r } = dnsLab();
  for (const argv of [['-n', '-sr'], ['-n', '-ss'], ['-n', '-Fs'], ['-n', '-d'], ['-n', '-x', 'debug'], ['-n', '-z']]) {
    assert.deepEqual(pfctl(r.k, argv), { status: 0, out: '', err: '' }, argv.join(' '));
  }
  assert.equal(pfctl(r.k, ['-ss']).out.split('\n').length, 3);
  assert.match(pfctl(r.k, ['-si']).out, /^Status: Enabled .*Debug: err\n/);
});

test('-z clears the rule counters as they are read: alone silently, with -sr after printing them', () => {
  const { r } = dnsLab();
  const rule1 = (e: number, p: number, b: number, st: number): string =>
    'pass in on em0 proto udp from any to any port = 53 label "dns"\n' +
    `  [ Evaluations: ${String(e).padEnd(8)}  Packets: ${String(p).padEnd(8)}  Bytes: ${String(b).padEnd(10)}  States: 1     ]\n` +
    `  [ Inserted: uid 0 pid 0 State Creations: ${String(st).padEnd(6)}]\n`;
  assert.equal(pfctl(r.k, ['-vsr', '-R', '1', '-z']).out, rule1(2, 2, 88, 1));
  assert.equal(pfctl(r.k, ['-vsr', '-R', '1']).out, rule1(0, 0, 0, 0));
  assert.equal(pfctl(r.k, ['-sl']).out, 'dns 0 0 0 0 0 0 0 0\n');
  const { r: r2 } = dnsLab();
  assert.deepEqual(pfctl(r2.k, ['-z']), { status: 0, out: '', err: '' });
  assert.equal(pfctl(r2.k, ['-sl']).out, 'dns 0 0 0 0 0 0 0 0\n');
});

test('-x sets pf\'s debug level by syslog name (loglevel_to_string names it back), -q quiet; an unknown one is refused', () => {
  const { r } = dnsLab();
  assert.deepEqual(pfctl(r.k, ['-x', 'debug']), { status: 0, out: '', err: "debug level set to 'debug'\n" });
  assert.match(pfctl(r.k, ['-si']).out, /^Status: Enabled for 0 days 00:00:01 {12}Debug: debug\n/);
  assert.equal(pfctl(r.k, ['-x', 'warn']).err, "debug level set to 'warn'\n");
  assert.equal(pfctl(r.k, ['-x', 'error']).err, "debug level set to 'err'\n");
  assert.match(pfctl(r.k, ['-si']).out, /Debug: err\n/);
  assert.deepEqual(pfctl(r.k, ['-q', '-x', 'emerg']), { status: 0, out: '', err: '' });
  assert.match(pfctl(r.k, ['-si']).out, /Debug: emerg\n/);
  assert.deepEqual(pfctl(r.k, ['-x', 'loud']), { status: 1, out: '', err: "pfctl: Unknown debug level 'loud'\n" + USAGE });
});

test('-k label, -k id and -V: the states of a label, one state by id, only in the rdomain given', () => {
  const { r } = dnsLab();
  assert.equal(pfctl(r.k, ['-k', '192.0.2.10', '-V', '1']).err, 'killed 0 states from 1 sources and 0 destinations\n');
  assert.deepEqual(pfctl(r.k, ['-k', '192.0.2.10', '-V', '256']), { status: 1, out: '', err: 'pfctl: Invalid rdomain: too large\n' + USAGE });
  assert.equal(pfctl(r.k, ['-k', 'label', '-k', 'dns', '-V', '1']).err, 'killed 0 states\n');
  assert.equal(pfctl(r.k, ['-k', 'label', '-k', 'nope']).err, 'killed 0 states\n');
  assert.deepEqual(pfctl(r.k, ['-k', 'label']), { status: 1, out: '', err: 'pfctl: no label specified\n' + USAGE });
  assert.equal(pfctl(r.k, ['-k', 'label', '-k', 'dns']).err, 'killed 1 states\n');
  // the outbound state is left; kill it by the id -vvss shows
  const ss = pfctl(r.k, ['-vvss']).out;
  assert.match(ss, /^all udp 192\.0\.2\.10:1000 -> 198\.51\.100\.20:53 {7}SINGLE:NO_TRAFFIC\n/);
  const [, id, creator] = /\n {3}id: ([0-9a-f]{16}) creatorid: ([0-9a-f]{8})\n/.exec(ss)!;
  assert.equal(pfctl(r.k, ['-k', 'id', '-k', `${id}/12345678`]).err, 'killed 0 states\n');
  assert.deepEqual(pfctl(r.k, ['-k', 'id', '-k', 'zz']), { status: 1, out: '', err: 'pfctl: wrong id format specified\n' + USAGE });
  assert.deepEqual(pfctl(r.k, ['-k', 'id', '-k', '0']), { status: 1, out: '', err: 'pfctl: cannot kill id 0\n' + USAGE });
  assert.equal(pfctl(r.k, ['-k', 'id', '-k', `${id}/${creator}`]).err, 'killed 1 states\n');
  assert.equal(pfctl(r.k, ['-ss']).out, '');
});

test('-i all: floating states are on pfi_all ("all") for -F states, -k and -k label; an interface name leaves them', () => {
  // dnsLab's states float (state-policy floating): kif "all"
  const { r } = dnsLab();
  assert.equal(pfctl(r.k, ['-i', 'em0', '-k', '192.0.2.10']).err, 'killed 0 states from 1 sources and 0 destinations\n');
  assert.equal(pfctl(r.k, ['-i', 'em0', '-k', 'label', '-k', 'dns']).err, 'killed 0 states\n');
  assert.equal(pfctl(r.k, ['-i', 'all', '-k', 'label', '-k', 'dns']).err, 'killed 1 states\n');
  assert.equal(pfctl(r.k, ['-i', 'em1', '-F', 'states']).err, '0 states cleared\n');
  assert.equal(pfctl(r.k, ['-i', 'all', '-F', 'states']).err, '1 states cleared\n');
  assert.equal(pfctl(r.k, ['-ss']).out, '');
  const { r: r2 } = dnsLab();
  assert.equal(pfctl(r2.k, ['-i', 'all', '-k', '192.0.2.10']).err, 'killed 2 states from 1 sources and 0 destinations\n');
});

test('-k key: the states of one connection by its key as -ss prints it (pfctl_key_kill_states), -> or <-, an IPv6 host as ADDR[PORT]', () => {
  const { world, a, r } = dnsLab();
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1001, 53));
  world.runFor(1e9);
  assert.equal(pfctl(r.k, ['-ss']).out.split('\n').length, 5);
  const key = (k: string, ...more: string[]): ReturnType<typeof pfctl> => pfctl(r.k, [...more, '-k', 'key', '-k', k]);
  // the wrong port, protocol, interface (the states float), rdomain: none
  assert.equal(key('udp 192.0.2.10:1000 -> 198.51.100.20:54').err, 'killed 0 states\n');
  assert.equal(key('tcp 192.0.2.10:1000 -> 198.51.100.20:53').err, 'killed 0 states\n');
  assert.equal(key('udp 192.0.2.10:1000 -> 198.51.100.20:53', '-i', 'em0').err, 'killed 0 states\n');
  assert.equal(key('udp 192.0.2.10:1000 -> 198.51.100.20:domain', '-V', '1').err, 'killed 0 states\n');
  assert.equal(key('udp 2001:db8::1[1000] -> 2001:db8::2[53]').err, 'killed 0 states\n');
  // the connection's state in on em0 and its state out on em1; a service name as the port
  assert.equal(key('udp 192.0.2.10:1000 -> 198.51.100.20:domain').err, 'killed 2 states\n');
  assert.equal(pfctl(r.k, ['-ss']).out,
    'all udp 198.51.100.20:53 <- 192.0.2.10:1001       NO_TRAFFIC:SINGLE\nall udp 192.0.2.10:1001 -> 198.51.100.20:53       SINGLE:NO_TRAFFIC\n');
  // <-: the second host is the source; -q says nothing
  assert.deepEqual(key('udp\t198.51.100.20:53  <- 192.0.2.10:1001', '-q'), { status: 0, out: '', err: '' });
  assert.equal(pfctl(r.k, ['-ss']).out, '');
  // the errors, as pfctl.c words them
  assert.deepEqual(pfctl(r.k, ['-k', 'key']), { status: 1, out: '', err: 'pfctl: no key specified\n' + USAGE });
  const fmt = 'pfctl: pfctl_key_kill_states: key must be "protocol host1:port1 direction host2:port2" format\n';
  assert.deepEqual(key('udp 192.0.2.10:1000 ->'), { status: 1, out: '', err: fmt });
  assert.deepEqual(key('udq 192.0.2.10:1000 -> 198.51.100.20:53'), { status: 1, out: '', err: 'pfctl: invalid protocol: udq\n' });
  assert.deepEqual(key('udp 192.0.2.10:1000 => 198.51.100.20:53'), { status: 1, out: '', err: 'pfctl: invalid direction: =>\n' });
  assert.deepEqual(key('udp 192.0.2.10 -> 198.51.100.20:53'), { status: 1, out: '', err: 'pfctl: invalid host: 192.0.2.10\n' });
  assert.deepEqual(key('udp 192.0.2.10:1 <- 2001:db8::1:53'), { status: 1, out: '', err: 'pfctl: invalid host: 2001:db8::1:53\n' });
});

test('-P names the ports of -ss; -p another device; -Fa with -i; -sr of a missing anchor warns', () => {
  const { r } = dnsLab();
  assert.equal(pfctl(r.k, ['-Pss']).out,
    'all udp 198.51.100.20:domain <- 192.0.2.10:1000       NO_TRAFFIC:SINGLE\nall udp 192.0.2.10:1000 -> 198.51.100.20:domain       SINGLE:NO_TRAFFIC\n');
  assert.deepEqual(pfctl(r.k, ['-p', '/dev/pf0', '-sr']), { status: 1, out: '', err: 'pfctl: /dev/pf0: No such file or directory\n' });
  assert.equal(pfctl(r.k, ['-p', '/dev/pf', '-sr', '-R', '0']).out, 'pass out all flags S/SA\n');
  assert.deepEqual(pfctl(r.k, ['-Fa', '-i', 'em0']), { status: 1, out: '', err: "pfctl: don't specify an interface with -Fall\n" + USAGE });
  assert.deepEqual(pfctl(r.k, ['-a', 'nope', '-sr']), { status: 0, out: '', err: 'pfctl: Anchor does not exist\n' });
});

test('-a "x/*" with -F rules, -F Tables, -F all and -s Tables goes through x and every anchor below it (pfctl_recurse)', () => {
  const pfctl = lab();
  const load = (a: string, conf: string): void => assert.equal(pfctl(['-a', a, '-f', '-'], conf).status, 0, a);
  load('regress', 'anchor "one"\nanchor "two"\ntable <t0> persist\npass\n');
  load('regress/one', 'table <t1> persist\npass in\n');
  load('regress/two', 'anchor "deep"\npass out\n');
  load('regress/two/deep', 'block\n');
  // the list is built head first: the deepest anchors come first, the one given last
  assert.equal(pfctl(['-a', 'regress/*', '-sT']).out, 't1@regress/one\nt0@regress\n');
  const removing = 'Removing:\n  regress/two/deep\n  regress/two\n  regress/one\n  regress\n';
  assert.deepEqual(pfctl(['-a', 'regress/*', '-F', 'Tables']), { status: 0, out: removing, err: '' });
  assert.equal(pfctl(['-a', 'regress/*', '-sT']).out, '');
  assert.equal(pfctl(['-a', 'regress/two/deep', '-sr']).out, 'block drop all\n');
  assert.deepEqual(pfctl(['-a', 'regress/*', '-F', 'rules']), { status: 0, out: removing, err: '' });
  assert.equal(pfctl(['-a', 'regress', '-sr']).out, '');
  assert.equal(pfctl(['-a', 'regress/one', '-sr']).out, '');
  assert.deepEqual(pfctl(['-a', 'nope/*', '-F', 'all']), { status: 1, out: '', err: 'pfctl: Anchor does not exist\n' });
});
