import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StringOutput } from '../../../src/lib/io.js';
import { PfParser } from '../../../src/sbin/pfctl/parse.js';
import { makePfctl, parseRuleset } from '../../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../../src/sbin/pfctl/pfctl_env.js';
import {
  PF_OPT_NOACTION,
  PF_OPT_VERBOSE,
  host,
  parseFlags,
  printAddr,
  printFlags,
  printRule,
} from '../../../src/sbin/pfctl/pfctl_parser.js';
import { AF_INET, AF_INET6, PF_ADDR_DYNIFTL, PFI_AFLAG_NETWORK, newAddrWrap } from '../../../src/sbin/pfctl/pf_ruleset.js';

function lex(text: string, macros: Record<string, string> = {}): string[] {
  const p = new PfParser({
    env: defaultPfctlEnv(),
    opts: PF_OPT_NOACTION,
    anchorPath: '',
    readFile: () => null,
    out: () => {},
    err: () => {},
    cmdlineMacros: new Map(Object.entries(macros)),
  });
  return p.tokenize(text).map((t) => (t.t === 'STRING' || t.t === 'NUMBER' ? `${t.t}(${t.s})` : t.t));
}

/** pfctl -o none -nv over a ruleset text: [stdout, stderr, status]. */
function nv(text: string, extra: string[] = []): [string, string, number] {
  const out = new StringOutput();
  const err = new StringOutput();
  const status = makePfctl({ readStdin: () => text })(['-o', 'none', '-nv', ...extra, '-f', '-'], {
    stdout: out,
    stderr: err,
  }) as number;
  return [out.text(), err.text(), status];
}

test('lexer: keywords, strings, numbers, operators', () => {
  assert.deepEqual(lex('pass in on lo0 proto tcp from 10/8 port >= 1024 to !10.1.2.3 port 1:2 flags S/SA\n'), [
    'PASS', 'IN', 'ON', 'STRING(lo0)', 'PROTO', 'STRING(tcp)', 'FROM', 'NUMBER(10)', '/', 'NUMBER(8)', 'PORT', 'GE',
    'NUMBER(1024)', 'TO', '!', 'STRING(10.1.2.3)', 'PORT', 'STRING(1:2)', 'FLAGS', 'STRING(S)', '/', 'STRING(SA)',
    '\n', '\n', 'EOF',
  ]);
  assert.deepEqual(lex('port 1 >< 2 <> 3 != 4 <= 5\n'), [
    'PORT', 'NUMBER(1)', 'PORTBINARY', 'NUMBER(2)', 'PORTBINARY', 'NUMBER(3)', 'NE', 'NUMBER(4)', 'LE', 'NUMBER(5)',
    '\n', '\n', 'EOF',
  ]);
});

test('lexer: comments, quoting, line continuation', () => {
  assert.deepEqual(lex('label "a b # c" # comment\nblock \\\n in\n'), [
    'LABEL', 'STRING(a b # c)', '\n', 'BLOCK', 'IN', '\n', '\n', 'EOF',
  ]);
  // a number glued to other characters is a string (addresses, hex, 0.5)
  assert.deepEqual(lex('0x10 0.5 50%\n'), ['STRING(0x10)', 'STRING(0.5)', 'STRING(50%)', '\n', '\n', 'EOF']);
});

test('lexer: macros expand at token start, -D macros are given', () => {
  assert.deepEqual(lex('$x port\n', { x: 'from { a b }' }), [
    'FROM', '{', 'STRING(a)', 'STRING(b)', '}', 'PORT', '\n', '\n', 'EOF',
  ]);
  // no expansion inside quotes
  assert.deepEqual(lex('"$x"\n', { x: 'y' }), ['STRING($x)', '\n', '\n', 'EOF']);
});

test('macro definitions echo and concatenate; -D overrides the file', () => {
  const [out] = nv('a="ssh"\nb=$a "ftp"\npass in proto tcp to port { $b }\n');
  assert.equal(
    out,
    'a = "ssh"\nb = "ssh ftp"\n' +
      'pass in proto tcp from any to any port = 22 flags S/SA\n' +
      'pass in proto tcp from any to any port = 21 flags S/SA\n',
  );
  const [out2] = nv('if="em0"\nblock on $if\n', ['-Dif=lo0']);
  assert.equal(out2, 'if = "em0"\nblock drop on lo0 all\n');
});

test('undefined macro is an error on its line', () => {
  const [out, err, status] = nv('pass\nblock on $nope\n');
  assert.equal(out, '');
  assert.equal(err, "stdin:2: macro 'nope' not defined\nstdin:2: syntax error\n");
  assert.equal(status, 1);
});

test('lists expand to the cross product in pfctl order', () => {
  const [out] = nv('pass in on { lo0 tun1000000 } proto { tcp udp } from { 192.0.2.1 192.0.2.2 } to any port { 1 2 } no state\n');
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 16);
  assert.equal(lines[0], 'pass in on lo0 inet proto tcp from 192.0.2.1 to any port = 1 no state');
  assert.equal(lines[1], 'pass in on lo0 inet proto tcp from 192.0.2.1 to any port = 2 no state');
  assert.equal(lines[2], 'pass in on lo0 inet proto tcp from 192.0.2.2 to any port = 1 no state');
  assert.equal(lines[4], 'pass in on lo0 inet proto udp from 192.0.2.1 to any port = 1 no state');
  assert.equal(lines[8], 'pass in on tun1000000 inet proto tcp from 192.0.2.1 to any port = 1 no state');
});

test('mixed address families drop impossible combinations', () => {
  const [out] = nv('pass from { 192.0.2.1 2001:db8::1 } to { 198.51.100.1 2001:db8::2 } no state\n');
  assert.equal(
    out,
    'pass inet from 192.0.2.1 to 198.51.100.1 no state\npass inet6 from 2001:db8::1 to 2001:db8::2 no state\n',
  );
});

test('semantic errors name the line and skip the rule', () => {
  const [, err, status] = nv('pass\npass proto icmp to port 80\n');
  assert.equal(
    err,
    'stdin:2: port only applies to tcp/udp\nstdin:2: skipping rule due to errors\nstdin:2: rule expands to no valid combination\n',
  );
  assert.equal(status, 1);
});

test('a syntax error right after another is not reported twice (yacc errflag)', () => {
  // after a recovery yacc stays silent until three tokens were shifted
  const [, err] = nv('pass foo\nx\npass bar\n');
  assert.equal(err, 'stdin:1: syntax error\n');
  const [, err2] = nv('pass foo\npass in all bar\n');
  assert.equal(err2, 'stdin:1: syntax error\nstdin:2: syntax error\n');
});

test('address printing', () => {
  const ctx = { env: defaultPfctlEnv(), opts: 0, warn: () => {} };
  const h = host(ctx, '192.0.2.77/24')!;
  assert.equal(printAddr(h[0]!.addr, AF_INET, false), '192.0.2.0/24');
  const h6 = host(ctx, '2001:db8::1/64')!;
  assert.equal(printAddr(h6[0]!.addr, AF_INET6, false), '2001:db8::/64');
  assert.equal(printAddr(host(ctx, '10.1.2.3')![0]!.addr, AF_INET, false), '10.1.2.3');
  assert.equal(printAddr(newAddrWrap(), AF_INET, false), 'any');
  const dyn = newAddrWrap(PF_ADDR_DYNIFTL);
  dyn.ifname = 'lo0';
  dyn.iflags = PFI_AFLAG_NETWORK;
  dyn.mask.fill(0xff);
  assert.equal(printAddr(dyn, AF_INET6, false), '(lo0:network)');
  assert.equal(printAddr(dyn, AF_INET6, true), '(lo0:network:*)');
  // interface names expand to their addresses
  assert.deepEqual(
    host(ctx, 'lo0')!.map((n) => printAddr(n.addr, n.af, false)),
    ['::1', 'fe80::1', '127.0.0.1'],
  );
  const warns: string[] = [];
  assert.equal(host({ ...ctx, warn: (m) => warns.push(m) }, '256.0.0.1'), null);
  assert.deepEqual(warns, ['no IP address found for 256.0.0.1\n']);
});

test('port and flag printing', () => {
  const { result } = parseRuleset(
    'pass in proto tcp from any port 1:2 to any port != 3 flags FUPEW/FSRPAUEW\npass in proto udp to port 5 >< 9\n',
  );
  const env = defaultPfctlEnv();
  const [a, b] = result.main.ruleset.rules;
  assert.equal(printRule(a!, '', PF_OPT_VERBOSE, env), 'pass in proto tcp from any port 1:2 to any port != 3 flags FPUEW/FSRPAUEW');
  assert.equal(printRule(b!, '', PF_OPT_VERBOSE, env), 'pass in proto udp from any to any port 5 >< 9');
  assert.equal(parseFlags('SA'), 0x12);
  assert.equal(parseFlags('X'), -1);
  assert.equal(printFlags(0x12), 'SA');
});

test('the rule model is typed data', () => {
  const { result } = parseRuleset('block return in quick on lo0 inet proto tcp from 192.0.2.0/24 to any port 22\n');
  const r = result.main.ruleset.rules[0]!;
  assert.equal(r.quick, true);
  assert.equal(r.ifname, 'lo0');
  assert.equal(r.proto, 6);
  assert.equal(r.af, AF_INET);
  assert.deepEqual(Array.from(r.src.addr.addr.subarray(0, 4)), [192, 0, 2, 0]);
  assert.deepEqual(r.dst.port, [22, 0]);
});
