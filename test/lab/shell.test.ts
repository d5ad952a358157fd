import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseLine } from '../../src/lab/shell.js';
import { unifiedDiff } from '../../src/lab/diff.js';
import { delayText } from '../../src/lab/settings.js';
import { sh, talk, repoRoot } from './helpers.js';

test('parseLine: quotes, pipes, redirections, ; and &', () => {
  assert.deepEqual(parseLine(`netstat -ss >before; explain 'packets not forwardable' | grep ip 2>>err`), [
    { stages: [{ argv: ['netstat', '-ss'], out: { file: 'before', append: false } }], background: false },
    { stages: [{ argv: ['explain', 'packets not forwardable'] }, { argv: ['grep', 'ip'], err: { file: 'err', append: true } }], background: false },
  ]);
  assert.deepEqual(parseLine('tcpdump -ni em0 & # live'), [{ stages: [{ argv: ['tcpdump', '-ni', 'em0'] }], background: true }]);
  assert.throws(() => parseLine('netstat >'), /redirection without a file/);
  assert.throws(() => parseLine("echo 'x"), /unterminated/);
});

test('on HOST and HOST: switch machines or run one command there; the prompt follows', async () => {
  const r = await sh('on client\nsysctl net.inet.ip.forwarding\nrouter: sysctl net.inet.ip.forwarding\non peer');
  assert.equal(r.out, 'net.inet.ip.forwarding=0\nnet.inet.ip.forwarding=1\n');
  assert.equal(r.shell.prompt(), 'peer# ');
  const bad = await sh('on nosuch');
  assert.match(bad.err, /nosuch: no such machine/);
});

test('the Netstat Diff slide: netstat -ss >before, traffic, >after, diff -up', async () => {
  const r = await sh('netstat -ss >before\nclient: ping -c 2 -q 10.0.2.2\nnetstat -ss >after\ndiff -up before after');
  assert.match(r.out, /\n--- before\n\+\+\+ after\n@@ -1,\d+ \+1,\d+ @@\n ip:\n\+\t4 total packets received\n/);
  assert.match(r.out, /\+\t4 packets forwarded\n/);
  const ls = await sh('netstat -ss >x\nls\ncat x | head -n 1', r.shell.lab);
  assert.equal(ls.out, '/etc/pf.conf\nafter\nbefore\nx\nip:\n');
});

test('mark and netstat -s --since: only what moved since the mark', async () => {
  const r = await sh('mark m\nclient: ping -c 1 -q 10.0.2.2\nnetstat -ss --since m | head -n 4');
  assert.equal(r.out.slice(r.out.indexOf('ip:')).split('\n').slice(0, 4).join('\n'), 'ip:\n\t2 total packets received\n\t2 packets forwarded\n\t2 input datagrams software-checksummed');
});

test('unified diff with -p names the section of each hunk', () => {
  const a = 'ip:\n\t1 a\n\t2 b\n\t3 c\n\t4 d\n\t5 e\n\t6 f\n\t7 g\ntcp:\n\t1 x\n';
  const b = a.replace('\t1 x', '\t2 x');
  assert.equal(unifiedDiff('before', a, 'after', b, 3, true), '--- before\n+++ after\n@@ -7,4 +7,4 @@ ip:\n \t6 f\n \t7 g\n tcp:\n-\t1 x\n+\t2 x\n');
});

test('pktgen fills em1 of the OACTIVE slide: flags=8c43, qdrops in kstat', async () => {
  const r = await sh('on router\nping -c 1 -q 10.10.12.4 >/dev/null\npktgen -c 1000 10.10.12.4\nifconfig em1 | head -n 1\nkstat em1:0:txq:0 | grep -E "qdrops|oactive"');
  assert.match(r.out, /^pktgen: 1000 datagrams of 1028 bytes to 10\.10\.12\.4 in 0\.000000 s: \d+ sent, \d+ refused \(last error ENOBUFS\)\n/);
  assert.match(r.out, /em1: flags=8c43<UP,BROADCAST,RUNNING,OACTIVE,SIMPLEX,MULTICAST> mtu 1500\n/);
  assert.match(r.out, /qdrops: [1-9]\d* packets\n\s+oactive: true\n/);
});

test('live tcpdump in the background prints what passes while later commands run', async () => {
  const r = await sh('router: tcpdump -ni em0 icmp &\nclient: ping -c 1 -q 10.0.1.1\njobs\nkill %1\njobs');
  assert.match(r.out, /\[1\] tcpdump on router:em0\n/);
  assert.match(r.out, /00:00:\d\d\.\d{6} 10\.0\.1\.2 > 10\.0\.1\.1: icmp: echo request\n\d\d:\d\d:\d\d\.\d{6} 10\.0\.1\.1 > 10\.0\.1\.2: icmp: echo reply\n/);
  assert.equal(r.out.match(/Running/g)?.length, 1);
});

test('help lists commands; unknown commands say so', async () => {
  const r = await sh('help\nnosuch');
  assert.match(r.out, /^lab talk: router \(ix0 ix1 em0 em1 em2 em3\), client \(em0\)/);
  for (const c of ['trace', 'netstat', 'diff', 'pktgen', 'explain', 'tcpdump', 'ifconfig', 'kstat']) assert.match(r.out, new RegExp(`\\n  ${c} `));
  assert.match(r.err, /nosuch: command not found/);
});

test('tab completion of commands, machines and interfaces', async () => {
  const { shell } = await sh('');
  assert.deepEqual(shell.complete('tra')[0], ['trace']);
  assert.deepEqual(shell.complete('on cl')[0], ['client']);
  assert.deepEqual(shell.complete('ifconfig e')[0], ['em0', 'em1', 'em2', 'em3']);
  assert.deepEqual(shell.complete('peer: ifconfig i')[0], ['inet', 'ix0']);
});

test('packetflow reads commands from standard input when it is not a terminal; run and exec', () => {
  const root = repoRoot();
  const compiled = import.meta.url.includes('/dist/');
  const cli = compiled ? join(root, 'dist', 'src', 'cli.js') : join(root, 'src', 'cli.ts');
  const args = compiled ? [] : ['--import', 'tsx'];
  const code = `import { main } from ${JSON.stringify(cli)}; process.exitCode = await main(process.argv.slice(1));`;
  const run = (argv: string[], input = ''): { out: string; err: string; status: number | null } => {
    const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', code, ...argv], { input, encoding: 'utf8', cwd: root });
    return { out: r.stdout, err: r.stderr, status: r.status };
  };
  const a = run([], 'netstat -ss | head -n 1\nclient: ping -c 1 -q 10.0.2.2\n');
  assert.equal(a.status, 0, a.err);
  assert.match(a.out, /^router# netstat -ss \| head -n 1\nip:\nclient# ping -c 1 -q 10\.0\.2\.2\nPING 10\.0\.2\.2/);
  const e = run(['exec', 'router', '--', 'ifconfig', 'em1']);
  assert.match(e.out, /^em1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 0c:c4:7a:78:f3:55\n\tdescription: Intel I210\n/);
  const bad = run(['exec', 'nosuch', '--', 'ifconfig']);
  assert.equal(bad.status, 1);
  assert.match(bad.err, /nosuch: no such machine/);
});

void talk;

test('softnet and cable change the lab at run time (the topology keys softnet: { latency } and loss/duplicate/reorder)', async () => {
  const r = await sh([
    'router: softnet',
    'router: softnet 10ms',
    'router: softnet 2 parsecs',
    'router: softnet fast',
    'client: cable em0 loss 1',
    'client: ping -c 2 -q 10.0.1.1',
    'cable client:em0 loss 0 duplicate 0.5',
    'machines | grep client:em0',
    'cable router:em9 loss 1',
    'cable client:em0 lost 1',
    'cable client:em0 loss 2',
  ].join('\n'));
  assert.equal(r.shell.lab.machine('router')!.k.softnet.latency, 10e6);
  assert.match(r.out, /^router: softnet latency 0\nrouter: softnet latency 10ms\ncable client:em0 - router:em0 1Gbit\/s 500ns loss 1\n/);
  // Every frame lost on the cable: no reply.
  assert.match(r.out, /\n2 packets transmitted, 0 packets received, 100\.0% packet loss\n/);
  assert.match(r.out, /\ncable client:em0 - router:em0 1Gbit\/s 500ns dup 0\.5\ncable client:em0 - router:em0 1Gbit\/s 500ns dup 0\.5\n$/);
  assert.equal(r.err, [
    'usage: softnet [latency]',
    'softnet: fast: not a delay such as 500us or 10ms',
    'cable: router:em9: no cable plugged in there',
    'cable: lost: not a setting (loss, duplicate, reorder)',
    'usage: cable machine:nic [loss p] [duplicate p] [reorder p]',
    'cable: loss 2: a probability between 0 and 1',
    '',
  ].join('\n'));
});

test('&& runs the next command when the one before succeeded, || when it failed; the status is the last one run', async () => {
  assert.deepEqual(parseLine('a && b || c'), [
    { stages: [{ argv: ['a'] }], background: false },
    { stages: [{ argv: ['b'] }], background: false, after: '&&' },
    { stages: [{ argv: ['c'] }], background: false, after: '||' },
  ]);
  const r = await sh('echo a && echo b\nfalse && echo no\nfalse || echo yes\ntrue || echo no\nfalse && echo no || echo then\nnosuch || echo fallback');
  assert.equal(r.out, 'a\nb\nyes\nthen\nfallback\n');
  assert.equal(r.err, 'packetflow: nosuch: command not found (type help)\n');
  assert.equal((await sh('true && false')).status, 1);
  assert.equal((await sh('false && true')).status, 1);
  assert.equal((await sh('false || true')).status, 0);
});

test('a line that cannot be parsed runs nothing and says why', async () => {
  for (const [line, why] of [
    ['echo a &&', '&& without a command after it'],
    ['&& echo b', '&& without a command before it'],
    ['echo a || ; echo b', '|| without a command after it'],
    ['echo a;; echo b', ';; unexpected'],
    ['; echo b', '; without a command before it'],
    ['echo a && tcpdump -ni em0 &', '& after a list with && (only a single command runs in the background)'],
  ]) {
    assert.deepEqual(await sh(line).then((r) => [r.out, r.err, r.status]), ['', `packetflow: syntax error: ${why}\n`, 2], line);
  }
});

test('exit N leaves with status N, exit with the last status; a bad number is an error', async () => {
  const three = await sh('exit 3');
  assert.deepEqual([three.status, three.shell.exitRequested], [3, true]);
  assert.equal((await sh('exit 256')).status, 0);
  const last = await sh('false\nexit');
  assert.deepEqual([last.status, last.shell.exitRequested], [1, true]);
  const bad = await sh('exit x');
  assert.deepEqual([bad.err, bad.status, bad.shell.exitRequested], ['packetflow: exit: x: bad number\n', 2, false]);
});

test('sleep: a number too large for lab time, or not a number, is an error; a long sleep runs to its end', async () => {
  const big = await sh('sleep 99999999999');
  assert.deepEqual([big.err, big.status], ['sleep: seconds is too large: 99999999999 (lab time ends at 2^53 ns, about 104 days)\n', 1]);
  const bad = await sh('sleep abc');
  assert.deepEqual([bad.err, bad.status], ['sleep: seconds is invalid: abc\n', 1]);
  const long = await sh('sleep 7200\ndate');
  assert.equal(long.err, '');
  assert.match(long.out, /^72\d\d\.\d{9} s\n$/);
  assert.ok(long.shell.lab.world.now >= 7200e9);
});

test('a redirection into a directory is an error as in sh, and the command does not run', async () => {
  const r = await sh('echo x > /\necho y >/etc\nnetstat -ss 2>/ | head -n 1\nls');
  assert.equal(r.err, 'packetflow: cannot create /: Is a directory\npacketflow: cannot create /etc: Is a directory\npacketflow: cannot create /: Is a directory\n');
  assert.equal(r.out, '/etc/pf.conf\n');
  assert.equal(r.status, 0);
  assert.equal((await sh('echo x > /')).status, 1);
});

test('machines (packetflow lab): IPv4 and IPv6 addresses, cable delays in the units a topology file uses', async () => {
  const r = await sh('machines');
  assert.equal(r.err, '');
  const lines = r.out.split('\n');
  assert.equal(lines[1], 'client   host   em0 10.0.1.2/24,2001:db8:1::2/64');
  assert.equal(lines[5], 'sink     host   em0 10.10.12.4/24');
  assert.ok(lines.includes('cable sink:em0 - router:em1 10Mbit/s 2ms'));
  assert.ok(lines.includes('cable client:em0 - router:em0 1Gbit/s 500ns'));
  assert.deepEqual([0, 500, 1500, 2e6, 2500e3, 10e9, 1.5e9].map(delayText), ['0', '500ns', '1500ns', '2ms', '2500us', '10s', '1500ms']);
});

test('a background tcpdump -c N ends after its N packets: jobs shows it Done once, then forgets it', async () => {
  const r = await sh('router: tcpdump -ni em0 -c 2 icmp &\nclient: ping -c 3 -q 10.0.2.2\nrouter: sleep 1\nrouter: jobs\nrouter: jobs');
  assert.equal(r.out.split('\n').filter((l) => l.includes(': icmp: echo')).length, 2);
  assert.ok(r.out.includes('00:00:11.000001 10.0.1.2 > 10.0.2.2: icmp: echo request\n00:00:11.000253 10.0.2.2 > 10.0.1.2: icmp: echo reply\n'), r.out);
  assert.ok(r.out.endsWith('round-trip min/avg/max/std-dev = 0.126/0.210/0.379/0.119 ms\n[1] Done       tcpdump on router:em0\n'), r.out);
  // a capture still running is Running; once ended, kill finds no such job
  const k = await sh('router: tcpdump -ni em0 -c 1 icmp &\nrouter: jobs\nclient: ping -c 1 -q 10.0.2.2 >/dev/null\nrouter: kill %1\nrouter: jobs\nrouter: jobs');
  assert.ok(k.out.startsWith('[1] tcpdump on router:em0\n[1] Running    tcpdump on router:em0\n'), k.out);
  assert.ok(k.out.endsWith('[1] Done       tcpdump on router:em0\n'), k.out);
  assert.equal(k.err, 'kill: %1: no such job\n');
});
