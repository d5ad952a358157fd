/**
 * pfctl's ruleset optimizer (pfctl_optimize.c) on our own rulesets: the
 * default level is basic, `-o none`/`-o basic`/`-o profile` and `set
 * ruleset-optimization` choose it, rules another rule covers go, more than
 * TABLE_THRESHOLD-1 rules differing in one address become one rule on a
 * const automatic table (also in anchors filled by `load anchor`, OpenBSD's
 * pfloadanchors target), labels keep rules apart, the skip step reorder
 * groups rules, and -o profile orders quick rules by the running
 * ruleset's packet counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { makePfctl, pfctlKernel } from '../../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../../src/sbin/pfctl/pfctl_env.js';
import { unclassifiedFields } from '../../../src/sbin/pfctl/pfctl_optimize.js';
import { newRule } from '../../../src/sbin/pfctl/pf_ruleset.js';
import { pf_open } from '../../../src/sys/net/pf_ioctl.js';
import { StringOutput } from '../../../src/lib/io.js';

const TEN =
  'addrs = "{ 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5,\n' +
  '\t198.51.100.1, 198.51.100.2, 203.0.113.1, 203.0.113.2, 203.0.113.3 }"\n' +
  'pass from $addrs\n';

const FILES: Record<string, string> = {
  'top.conf': 'anchor "one"\nload anchor "one" from "one.conf"\n',
  'one.conf': 'anchor "two"\nload anchor "two" from "two.conf"\n',
  'two.conf': TEN,
  'quick.conf':
    'pass in quick proto tcp to port 22\npass in quick proto tcp to port 80\n' +
    'pass in quick proto tcp to port 443\npass out quick proto udp to port 53\n',
};

/** pfctl -n (no kernel): what it would load */
function pfctlN(argv: string[], stdin: string): { out: string; err: string } {
  const o = new StringOutput();
  const e = new StringOutput();
  makePfctl({ env: defaultPfctlEnv(), readStdin: () => stdin, readFile: (p) => FILES[p] ?? null })(argv, { stdout: o, stderr: e });
  return { out: o.text(), err: e.text() };
}

function kernelPfctl(): { k: Kernel; run: (argv: string[], stdin?: string) => { out: string; err: string; status: number } } {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'fw' });
  const run = (argv: string[], stdin = ''): { out: string; err: string; status: number } => {
    const o = new StringOutput();
    const e = new StringOutput();
    const status = pfctlKernel(k, argv, { stdout: o, stderr: e }, {
      env: defaultPfctlEnv(),
      readFile: (p) => FILES[p] ?? null,
      readStdin: () => stdin,
    });
    return { out: o.text(), err: e.text(), status };
  };
  return { k, run };
}

const rules = (out: string): string[] => out.split('\n').filter((l) => /^(pass|block|match|anchor)/.test(l));

test('basic is the default: ten addresses become one rule on a const table, -o none keeps ten rules', () => {
  const { out } = pfctlN(['-nvf', '-'], TEN);
  assert.equal(
    out.split('\n').slice(1).join('\n'),
    'table <__automatic_0> const { 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 198.51.100.1 198.51.100.2 203.0.113.1 203.0.113.2 203.0.113.3 }\n' +
      'pass inet from <__automatic_0> to any flags S/SA\n',
  );
  assert.deepEqual(pfctlN(['-obasic', '-nvf', '-'], TEN).out, out);
  const none = rules(pfctlN(['-o', 'none', '-nvf', '-'], TEN).out);
  assert.equal(none.length, 10);
  assert.equal(none[9], 'pass inet from 203.0.113.3 to any flags S/SA');
});

test('TABLE_THRESHOLD: five addresses stay five rules, six become a table', () => {
  const five = 'pass in proto udp to { 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 } port 53\n';
  assert.deepEqual(rules(pfctlN(['-nvf', '-'], five).out), [
    'pass in inet proto udp from any to 192.0.2.1 port = 53',
    'pass in inet proto udp from any to 192.0.2.2 port = 53',
    'pass in inet proto udp from any to 192.0.2.3 port = 53',
    'pass in inet proto udp from any to 192.0.2.4 port = 53',
    'pass in inet proto udp from any to 192.0.2.5 port = 53',
  ]);
  const six = five.replace('192.0.2.5 }', '192.0.2.5 192.0.2.6 }');
  assert.equal(
    pfctlN(['-nvf', '-'], six).out,
    'table <__automatic_0> const { 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 }\n' +
      'pass in inet proto udp from any to <__automatic_0> port = 53\n',
  );
});

test('rules another rule of the superblock covers go; labels and other actions keep rules apart', () => {
  const conf =
    'pass in proto tcp to port 22\n' +
    'pass proto tcp to port 22\n' +
    'pass proto tcp from 192.0.2.0/24 to port 22\n' +
    'pass proto tcp to port 22\n' +
    'block in proto tcp to port 22\n' +
    'pass in proto udp to { 192.0.2.10 192.0.2.11 192.0.2.12 192.0.2.13 192.0.2.14 192.0.2.15 } port 53 label dns\n';
  assert.deepEqual(rules(pfctlN(['-nvf', '-'], conf).out), [
    'pass proto tcp from any to any port = 22 flags S/SA',
    'block drop in proto tcp from any to any port = 22',
    'pass in inet proto udp from any to 192.0.2.10 port = 53 label "dns"',
    'pass in inet proto udp from any to 192.0.2.11 port = 53 label "dns"',
    'pass in inet proto udp from any to 192.0.2.12 port = 53 label "dns"',
    'pass in inet proto udp from any to 192.0.2.13 port = 53 label "dns"',
    'pass in inet proto udp from any to 192.0.2.14 port = 53 label "dns"',
    'pass in inet proto udp from any to 192.0.2.15 port = 53 label "dns"',
  ]);
  assert.equal(rules(pfctlN(['-o', 'none', '-nvf', '-'], conf).out).length, 11);
});

test('reorder for skip steps: rules sharing the most common field move together', () => {
  const conf =
    'pass in proto tcp to port 22\npass out proto udp to port 53\npass in proto tcp to port 80\n' +
    'pass out proto udp to port 123\npass in proto tcp to port 443\n';
  assert.deepEqual(rules(pfctlN(['-nvf', '-'], conf).out), [
    'pass in proto tcp from any to any port = 22 flags S/SA',
    'pass in proto tcp from any to any port = 80 flags S/SA',
    'pass in proto tcp from any to any port = 443 flags S/SA',
    'pass out proto udp from any to any port = 53',
    'pass out proto udp from any to any port = 123',
  ]);
});

test('set ruleset-optimization: the first one counts, -o overrides it', () => {
  assert.equal(rules(pfctlN(['-nvf', '-'], 'set ruleset-optimization none\n' + TEN).out).length, 10);
  assert.equal(rules(pfctlN(['-nvf', '-'], 'set ruleset-optimization none\nset ruleset-optimization basic\n' + TEN).out).length, 10);
  assert.equal(rules(pfctlN(['-nvf', '-'], 'set ruleset-optimization basic\nset ruleset-optimization none\n' + TEN).out).length, 1);
  assert.equal(rules(pfctlN(['-o', 'basic', '-nvf', '-'], 'set ruleset-optimization none\n' + TEN).out).length, 1);
  // the last -o counts
  assert.equal(rules(pfctlN(['-o', 'basic', '-o', 'none', '-nvf', '-'], TEN).out).length, 10);
  assert.match(pfctlN(['-o', 'fast', '-nvf', '-'], TEN).err, /^pfctl: Unknown optimization 'fast'\n/);
});

test('load anchor with ten addresses (pfloadanchors): the table lives in the loaded anchor', () => {
  const { run } = kernelPfctl();
  const load = run(['-a', 'regress', '-v', '-f', '-'], FILES['top.conf']);
  assert.equal(load.status, 0, load.err);
  assert.match(load.out, /\ntable <__automatic_[0-9a-f]+_0> const \{ 192\.0\.2\.1 192\.0\.2\.2 .* 203\.0\.113\.3 \}\npass inet from <__automatic_[0-9a-f]+_0> to any flags S\/SA\n$/);
  // the Makefile's sed: s/__automatic_[0-9a-f]*_.*>/__automatic_>/
  const sr = run(['-a', 'regress/*', '-sr']).out.replace(/__automatic_[0-9a-f]*_.*>/g, '__automatic_>');
  assert.equal(sr, 'anchor "one" all {\n  anchor "two" all {\n    pass inet from <__automatic_> to any flags S/SA\n  }\n}\n');
  const gvv = run(['-a', 'regress/one/two', '-gvvsr']).out;
  assert.match(gvv, /^@0 pass inet from <__automatic_[0-9a-f]+_0:10> to any flags S\/SA\n/);
  assert.match(run(['-a', 'regress/one/two', '-vsT']).out, /^c-a-r--\t__automatic_[0-9a-f]+_0@regress\/one\/two\n$/);
});

test('-o profile orders quick rules by the packets their twins in the running ruleset matched', () => {
  const { k, run } = kernelPfctl();
  assert.equal(run(['-f', 'quick.conf']).status, 0);
  assert.deepEqual(rules(run(['-sr']).out), [
    'pass in quick proto tcp from any to any port = 22 flags S/SA',
    'pass in quick proto tcp from any to any port = 80 flags S/SA',
    'pass in quick proto tcp from any to any port = 443 flags S/SA',
    'pass out quick proto udp from any to any port = 53',
  ]);
  const kr = pf_open(k).main.rules;
  kr[0]!.packets0 = 2;
  kr[1]!.packets0 = 7;
  kr[2]!.packets1 = 30;
  // basic leaves them in place
  run(['-f', 'quick.conf']);
  assert.equal(rules(run(['-sr']).out)[0], 'pass in quick proto tcp from any to any port = 22 flags S/SA');
  const kr2 = pf_open(k).main.rules;
  kr2[0]!.packets0 = 2;
  kr2[1]!.packets0 = 7;
  kr2[2]!.packets1 = 30;
  run(['-o', 'profile', '-f', 'quick.conf']);
  assert.deepEqual(rules(run(['-sr']).out), [
    'pass in quick proto tcp from any to any port = 443 flags S/SA',
    'pass in quick proto tcp from any to any port = 80 flags S/SA',
    'pass in quick proto tcp from any to any port = 22 flags S/SA',
    'pass out quick proto udp from any to any port = 53',
  ]);
});

test('every PfRule field has a pf_rule_desc class', () => {
  assert.deepEqual(unclassifiedFields(newRule()), []);
});
