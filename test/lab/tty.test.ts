/**
 * The interactive shell on a real terminal: `packetflow` runs on a
 * pseudo-terminal that python3's pty module (standard library, no new
 * dependency) opens; the relay copies our keystrokes to the terminal and
 * the terminal's output back, and exits with the shell's status.  Every
 * wait is bounded; teardown kills the relay and the shell by pid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from './helpers.js';

/** Fork the command on a 200x50 pty; relay stdin -> pty, pty -> stdout; print "pid N" on stderr; exit with its status. */
const RELAY = `
import os, pty, sys, select, struct, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 200, 0, 0))
sys.stderr.write('pid %d\\n' % pid)
sys.stderr.flush()
inp, out, fds = sys.stdin.fileno(), sys.stdout.fileno(), [fd, sys.stdin.fileno()]
while True:
    r = select.select(fds, [], [])[0]
    if inp in r:
        d = os.read(inp, 4096)
        if d:
            os.write(fd, d)
        else:
            fds.remove(inp)
    if fd in r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            d = b''
        if not d:
            break
        os.write(out, d)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;

const python = spawnSync('python3', ['-c', 'import pty, termios'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

/**
 * The text as the terminal shows it: readline redraws a line with "cursor
 * to column 1, erase below" then the whole line, so that sequence clears the
 * line so far; other control sequences and carriage returns drop out.
 */
const ESC = String.fromCharCode(27);
const CSI = new RegExp(`(${ESC}\\[[0-9;?]*[A-Za-z])`);

function plain(s: string): string {
  let out = '';
  for (const part of s.split(CSI)) {
    if (part === `${ESC}[1G`) out = out.slice(0, out.lastIndexOf('\n') + 1);
    else if (!part.startsWith(`${ESC}[`)) out += part.replace(/\r/g, '');
  }
  return out;
}

class Terminal {
  private readonly relay: ChildProcess;
  private raw = '';
  private cursor = 0;
  shellPid = 0;
  private exit: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor() {
    const root = repoRoot();
    const compiled = import.meta.url.includes('/dist/');
    // Compiled (npm test): the installed command itself; from source: the same main() under tsx.
    const cmd = compiled
      ? [process.execPath, join(root, 'bin', 'packetflow.js')]
      : [process.execPath, '--import', 'tsx', '--input-type=module', '-e', `import { main } from ${JSON.stringify(join(root, 'src', 'cli.ts'))}; process.exitCode = await main(process.argv.slice(1));`];
    this.relay = spawn('python3', ['-c', RELAY, ...cmd], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
    this.exit = new Promise((resolve) => this.relay.on('exit', (code) => resolve(code)));
    this.relay.stdout!.setEncoding('utf8');
    this.relay.stdout!.on('data', (d: string) => {
      this.raw += d;
      for (const w of this.waiters) w();
    });
    this.relay.stderr!.setEncoding('utf8');
    this.relay.stderr!.on('data', (d: string) => {
      const m = /pid (\d+)/.exec(d);
      if (m) this.shellPid = Number(m[1]);
    });
  }

  /** Everything the terminal showed so far, as text. */
  get text(): string {
    return plain(this.raw);
  }

  send(keys: string): void {
    this.relay.stdin!.write(keys);
  }

  /** Send text and wait for its echo, so that the next key arrives on its own. */
  async type(s: string): Promise<void> {
    this.send(s);
    await this.line(new RegExp(`${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  }

  /** Wait (at most ms) until the line being edited (after the last newline) matches re. */
  line(re: RegExp, ms = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const t = this.text;
        const from = t.lastIndexOf('\n') + 1;
        if (!re.test(t.slice(from))) return;
        this.cursor = Math.max(this.cursor, from);
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the line is not ${re} within ${ms} ms; the terminal shows:\n${this.text.slice(-2000)}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Wait (at most ms) until re matches what the terminal printed after the last match; returns the match. */
  expect(re: RegExp, ms = 15_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const t = this.text;
        const m = re.exec(t.slice(this.cursor));
        if (m === null) return;
        this.cursor += m.index + m[0].length;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${re} within ${ms} ms; the terminal shows after the last match:\n${this.text.slice(this.cursor)}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** What the terminal printed after the last match, without consuming it. */
  rest(): string {
    return this.text.slice(this.cursor);
  }

  /** The relay's status (the shell's) once it ends, at most ms. */
  status(ms = 10_000): Promise<number | null> {
    return Promise.race([this.exit, new Promise<number | null>((_, reject) => setTimeout(() => reject(new Error(`the shell did not exit within ${ms} ms:\n${this.rest()}`)), ms))]);
  }

  kill(): void {
    for (const pid of [this.shellPid, this.relay.pid]) {
      if (pid === undefined || pid === 0) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const UP = '\x1b[A';
const TAB = '\t';
const CTRL_C = '\x03';
const CTRL_D = '\x04';

test('the shell on a terminal: prompt, help, machines, completion, history, clock, paced ping, Ctrl-C, exit', { skip: !python && 'python3 with pty is not available', timeout: 120_000 }, async () => {
  const t = new Terminal();
  try {
    await t.expect(/type help[^\n]*\n/, 60_000);
    await t.expect(/router# $/);

    t.send('help\r');
    await t.expect(/\n {2}trace +run a command and show the journey/);
    await t.expect(/router# $/);

    // Switching machines both ways.
    t.send('on client\r');
    await t.expect(/client# $/);
    t.send('router:\r');
    await t.expect(/router# $/);

    // A command completes; an ambiguous interface lists its candidates on a second tab.
    // (Keys go one at a time: readline completes nothing in a chunk of several, a paste.)
    await t.type('ifcon');
    t.send(TAB);
    await t.line(/^router# ifconfig$/);
    await t.type(' em');
    t.send(TAB);
    await pause(300);
    t.send(TAB);
    await t.expect(/em0 +em1 +em2 +em3\n/);
    await t.line(/^router# ifconfig em$/);
    await t.type('1');
    t.send('\r');
    await t.expect(/em1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 0c:c4:7a:78:f3:55\n/);
    await t.expect(/router# $/);

    // A machine completes after `on`; an interface completes on that machine.
    await t.type('on cli');
    t.send(TAB);
    await t.line(/^router# on client$/);
    t.send('\r');
    await t.expect(/client# $/);
    await t.type('ifconfig e');
    t.send(TAB);
    await t.line(/^client# ifconfig em0$/);
    t.send('\r');
    await t.expect(/em0: flags=8843<[^\n]*\n\tlladdr /);
    await t.expect(/client# $/);

    // History: the up arrow brings the last command back.
    t.send(UP);
    await t.line(/^client# ifconfig em0$/);
    t.send('\r');
    await t.expect(/em0: flags=8843</);
    await t.expect(/client# $/);

    // The lab clock follows the wall clock between commands.
    t.send('date\r');
    const d0 = Number((await t.expect(/([\d.]+) s\n/))[1]);
    await t.expect(/client# $/);
    await pause(1500);
    t.send('date\r');
    const d1 = Number((await t.expect(/([\d.]+) s\n/))[1]);
    await t.expect(/client# $/);
    assert.ok(d1 - d0 >= 1.4 && d1 - d0 < 10, `lab time moved ${d1 - d0} s in 1.5 s of wall time`);

    // ping's replies are paced a second apart, as on a real machine.
    t.send('ping -c 2 10.0.2.2\r');
    await t.expect(/PING 10\.0\.2\.2 \(10\.0\.2\.2\): 56 data bytes\n/);
    await t.expect(/64 bytes from 10\.0\.2\.2: icmp_seq=0 ttl=254 time=[\d.]+ ms\n/);
    const s0 = performance.now();
    await t.expect(/64 bytes from 10\.0\.2\.2: icmp_seq=1 /);
    const gap = performance.now() - s0;
    assert.ok(gap > 700 && gap < 3000, `replies ${gap} ms apart`);
    await t.expect(/--- 10\.0\.2\.2 ping statistics ---\n2 packets transmitted, 2 packets received, 0\.0% packet loss\n/);
    await t.expect(/client# $/);

    // Ctrl-C stops a ping (without -c) and comes back to the prompt; the shell lives on.
    t.send('ping 10.0.2.2\r');
    await t.expect(/icmp_seq=1 /);
    t.send(CTRL_C);
    await t.expect(/\^C\n/);
    await t.expect(/client# $/);
    assert.doesNotMatch(t.text, /icmp_seq=4 /);
    t.send(CTRL_C);
    await t.expect(/\^C\nclient# $/);
    t.send('echo still here\r');
    await t.expect(/\nstill here\nclient# $/);

    t.send('exit\r');
    assert.equal(await t.status(), 0);
  } finally {
    t.kill();
  }
});

test('on a terminal, waiting commands run in lab time that follows the wall clock, and Ctrl-C is their SIGINT', { skip: !python && 'python3 with pty is not available', timeout: 120_000 }, async () => {
  const t = new Terminal();
  try {
    await t.expect(/router# $/, 60_000);
    t.send('on client\r');
    await t.expect(/client# $/);

    // ping without -c runs until Ctrl-C, then prints its statistics as ping.c does on SIGINT.
    t.send('ping 10.0.2.2\r');
    await t.expect(/PING 10\.0\.2\.2 \(10\.0\.2\.2\): 56 data bytes\n/);
    await t.expect(/64 bytes from 10\.0\.2\.2: icmp_seq=0 ttl=254 time=[\d.]+ ms\n/);
    await t.expect(/64 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=254 time=[\d.]+ ms\n/);
    t.send(CTRL_C);
    const st = await t.expect(/\^C\n--- 10\.0\.2\.2 ping statistics ---\n(\d+) packets transmitted, (\d+) packets received, 0\.0% packet loss\nround-trip min\/avg\/max\/std-dev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n/);
    assert.equal(st[1], st[2]);
    assert.ok(Number(st[1]) >= 2 && Number(st[1]) <= 4, `${st[1]} requests before Ctrl-C`);
    await t.expect(/^client# $/m);

    // ping -c 3 is paced by the wall clock: three replies over two seconds, each as it arrives.
    t.send('ping -c 3 10.0.2.2\r');
    await t.expect(/icmp_seq=0 /);
    const s0 = performance.now();
    await t.expect(/icmp_seq=1 /);
    const s1 = performance.now();
    await t.expect(/icmp_seq=2 /);
    const s2 = performance.now();
    assert.ok(s1 - s0 > 700 && s1 - s0 < 3000, `seq 0 to 1: ${s1 - s0} ms`);
    assert.ok(s2 - s0 > 1600 && s2 - s0 < 5000, `seq 0 to 2: ${s2 - s0} ms`);
    await t.expect(/--- 10\.0\.2\.2 ping statistics ---\n3 packets transmitted, 3 packets received, 0\.0% packet loss\n/);
    await t.expect(/client# $/);

    // Ctrl-C ends ping -c early, with the statistics of what was sent.
    t.send('ping -c 50 10.0.2.2\r');
    await t.expect(/icmp_seq=1 /);
    t.send(CTRL_C);
    await t.expect(/\^C\n--- 10\.0\.2\.2 ping statistics ---\n[23] packets transmitted, [23] packets received/);
    await t.expect(/client# $/);

    // tcpdump -i runs until Ctrl-C, printing packets as they pass, then what bpf received.
    t.send('sink: tcpbench -s >/dev/null &\r');
    await t.expect(/\[1\] tcpbench -s >\/dev\/null on sink\n/);
    t.send('router: tcpbench -t 1 10.10.12.4 >/dev/null &\r');
    await t.expect(/\[2\] tcpbench -t 1 10\.10\.12\.4 >\/dev\/null on router\n/);
    t.send("sink: tcpdump -ni em0 'tcp[13] & 1 != 0'\r");
    await t.expect(/tcpdump: listening on em0, link-type EN10MB\n/);
    // The connection ends after one second of lab time: both FINs pass sink's em0.
    await t.expect(/\d\d:\d\d:\d\d\.\d{6} 10\.10\.12\.3\.\d+ > 10\.10\.12\.4\.12345: F/, 10_000);
    await t.expect(/10\.10\.12\.4\.12345 > 10\.10\.12\.3\.\d+: F/, 10_000);
    const fin = performance.now();
    await pause(500);
    assert.doesNotMatch(t.rest(), /client# $/, 'tcpdump is still running');
    t.send(CTRL_C);
    const rx = await t.expect(/\^C\n(\d+) packets received by filter\n0 packets dropped by kernel\n/);
    assert.ok(Number(rx[1]) > 100, `${rx[1]} packets received by filter`);
    await t.expect(/client# $/);
    assert.ok(performance.now() - fin < 10_000);

    t.send('exit\r');
    assert.equal(await t.status(), 0);
  } finally {
    t.kill();
  }
});

test('the shell on a terminal leaves on end of input (Ctrl-D) with status 0', { skip: !python && 'python3 with pty is not available', timeout: 90_000 }, async () => {
  const t = new Terminal();
  try {
    await t.expect(/router# $/, 60_000);
    t.send(CTRL_D);
    assert.equal(await t.status(), 0);
  } finally {
    t.kill();
  }
});

test('the shell on a terminal leaves with exit N\'s status, or with the last command\'s at end of input', { skip: !python && 'python3 with pty is not available', timeout: 90_000 }, async () => {
  const t = new Terminal();
  try {
    await t.expect(/router# $/, 60_000);
    t.send('exit 3\r');
    assert.equal(await t.status(), 3);
  } finally {
    t.kill();
  }
  const u = new Terminal();
  try {
    await u.expect(/router# $/, 60_000);
    u.send('false\r');
    await u.expect(/false\n(\r)?router# $/);
    u.send(CTRL_D);
    assert.equal(await u.status(), 1);
  } finally {
    u.kill();
  }
});

test('on a terminal, a foreground nc reads the typed lines; Ctrl-D is their end and the shell goes on', { skip: !python && 'python3 with pty is not available', timeout: 90_000 }, async () => {
  const t = new Terminal();
  try {
    await t.expect(/router# $/, 60_000);
    t.send('router: nc -l 12345 >got &\r');
    await t.expect(/\[1\] \d+ nc -l 12345 >got on router\n/);
    await t.expect(/router# $/);
    t.send('client: nc -N 10.0.1.1 12345\r');
    await t.expect(/client: nc -N 10\.0\.1\.1 12345\n/);
    await t.type('hello router');
    t.send('\r');
    await t.type('second line');
    t.send('\r');
    await pause(300);
    // Ctrl-D on an empty line: nc's standard input ends (-N: it shuts down its side), not the shell.
    t.send(CTRL_D);
    await t.expect(/router# $/);
    t.send('router: cat got\r');
    await t.expect(/\nhello router\nsecond line\nrouter# $/);
    t.send('echo still here\r');
    await t.expect(/\nstill here\nrouter# $/);
    // Ctrl-C is a reading nc's SIGINT: it dies, the shell lives.
    t.send('router: nc -l 2345 &\r');
    await t.expect(/router# $/);
    t.send('client: nc 10.0.1.1 2345\r');
    await pause(500);
    t.send(CTRL_C);
    await t.expect(/\^C\n?router# $/);
    t.send('jobs\r');
    await t.expect(/\[2\] Done +nc -l 2345 \(on router\)\nrouter# $/);
    t.send('exit\r');
    assert.equal(await t.status(), 0);
  } finally {
    t.kill();
  }
});
