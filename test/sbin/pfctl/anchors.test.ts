/**
 * Anchors named by rules and filled by `load anchor` (OpenBSD's
 * pfloadanchors regress targets, with our own files): the rulesets loaded
 * into nested anchors print nested under `-a 'x/*' -sr`, and an anchor
 * loaded from a file may use the main ruleset's queues.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { pfctlKernel, makePfctl } from '../../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../../src/sbin/pfctl/pfctl_env.js';
import { StringOutput } from '../../../src/lib/io.js';
import { pf_anchor_path } from '../../../src/sys/net/pf_ioctl.js';

const FILES: Record<string, string> = {
  'outer.conf': 'anchor "web"\nload anchor "web" from "web.conf"\n',
  'web.conf': 'anchor "inner"\nload anchor "inner" from "inner.conf"\npass in proto tcp to port 443\n',
  'inner.conf': 'table <clients> { 192.0.2.7 }\npass from <clients>\n',
  'queued.conf': 'queue main on lo0 bandwidth 10M\nqueue bulk parent main bandwidth 1M default\nload anchor "q" from "q.conf"\n',
  'q.conf': 'pass proto udp set queue bulk\n',
};

function kernelPfctl(): (argv: string[], stdin?: string) => { out: string; err: string; status: number } {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'fw' });
  return (argv, stdin = '') => {
    const o = new StringOutput();
    const e = new StringOutput();
    const status = pfctlKernel(k, argv, { stdout: o, stderr: e }, {
      env: defaultPfctlEnv(),
      readFile: (p) => FILES[p] ?? null,
      readStdin: () => stdin,
    }) as number;
    return { out: o.text(), err: e.text(), status };
  };
}

test('load anchor into nested anchors: -a "regress/*" -sr prints them nested', () => {
  const pfctl = kernelPfctl();
  const load = pfctl(['-a', 'regress', '-v', '-f', '-'], FILES['outer.conf']);
  assert.equal(load.status, 0, load.err);
  assert.match(load.err, /\nLoading anchor regress\/web from web\.conf\n\nLoading anchor regress\/web\/inner from inner\.conf\n/);
  assert.equal(
    pfctl(['-a', 'regress/*', '-sr']).out,
    [
      'anchor "web" all {',
      '  anchor "inner" all {',
      '    pass from <clients> to any flags S/SA',
      '  }',
      '  pass in proto tcp from any to any port = 443 flags S/SA',
      '}',
      '',
    ].join('\n'),
  );
  // Each anchor alone, the anchor rules as written.
  assert.equal(pfctl(['-a', 'regress', '-sr']).out, 'anchor "web" all\n');
  assert.equal(pfctl(['-a', 'regress/web/inner', '-sr']).out, 'pass from <clients> to any flags S/SA\n');
});

test('reloading the calling ruleset keeps what was loaded into the anchor it names', () => {
  const pfctl = kernelPfctl();
  assert.equal(pfctl(['-a', 'regress/web', '-f', '-'], 'pass out proto udp\n').status, 0);
  assert.equal(pfctl(['-a', 'regress', '-f', '-'], 'anchor "web"\n').status, 0);
  assert.equal(pfctl(['-a', 'regress/*', '-sr']).out, 'anchor "web" all {\n  pass out proto udp all\n}\n');
  // And the main ruleset's reload keeps the anchors loaded on their own.
  assert.equal(pfctl(['-f', '-'], 'pass all\n').status, 0);
  assert.equal(pfctl(['-a', 'regress/web', '-sr']).out, 'pass out proto udp all\n');
});

test('an anchor loaded from a file assigns packets to the main ruleset\'s queues', () => {
  const out = new StringOutput();
  const err = new StringOutput();
  const st = makePfctl({ readStdin: () => FILES['queued.conf']!, readFile: (p) => FILES[p] ?? null })(['-o', 'none', '-nv', '-f', '-'], { stdout: out, stderr: err });
  assert.equal(st, 0, err.text());
  assert.equal(out.text(), 'queue main on lo0 bandwidth 10M\nqueue bulk parent main bandwidth 1M default\npass proto udp all set (queue bulk)\n');
});

test('pf_anchor_path: absolute, relative, ../ and the wildcard', () => {
  assert.equal(pf_anchor_path('regress', 'one'), 'regress/one');
  assert.equal(pf_anchor_path('', 'one/two'), 'one/two');
  assert.equal(pf_anchor_path('a/b', '/c'), 'c');
  assert.equal(pf_anchor_path('a/b', '../c'), 'a/c');
  assert.equal(pf_anchor_path('a/b', '../../c'), 'c');
  assert.equal(pf_anchor_path('a', '../../c'), null);
  assert.equal(pf_anchor_path('a', 'b/*'), 'a/b');
  // "*" alone is an anchor named "*"; the main ruleset is no anchor to call.
  assert.equal(pf_anchor_path('', '*'), '*');
  assert.equal(pf_anchor_path('', '/*'), '*');
  assert.equal(pf_anchor_path('a', '/'), null);
});

test('an anchor call above the main ruleset fails the load (DIOCADDRULE: EINVAL) and changes nothing', () => {
  const pfctl = kernelPfctl();
  assert.equal(pfctl(['-f', '-'], 'block all\n').status, 0);
  for (const bad of ['pass\nanchor "../x"\n', 'anchor "a" {\n  anchor "../../x"\n}\n']) {
    const r = pfctl(['-f', '-'], bad);
    assert.equal(r.status, 1, bad);
    assert.equal(r.err, 'pfctl: DIOCADDRULE: Invalid argument\n', bad);
    assert.equal(pfctl(['-sr']).out, 'block drop all\n', bad);
  }
  // Inside an anchor, one level up is fine.
  assert.equal(pfctl(['-a', 'outer', '-f', '-'], 'anchor "../peer"\n').status, 0);
  assert.equal(pfctl(['-a', 'outer', '-sr']).out, 'anchor "../peer" all\n');
});

test('-a "regress/*" -sr names references as written at every depth, inline anchors by name, nested brace anchors in full', () => {
  const pfctl = kernelPfctl();
  const conf =
    'anchor "web/inner"\nanchor "spam/*"\nanchor "outer" {\n  anchor "/abs/one"\n  anchor {\n' +
    '    pass in proto tcp to port 25\n    anchor "mid" {\n      pass out\n    }\n  }\n}\n';
  assert.equal(pfctl(['-a', 'regress', '-f', '-'], conf).status, 0);
  assert.equal(
    pfctl(['-a', 'regress/*', '-sr']).out,
    [
      'anchor "web/inner" all {',
      '}',
      'anchor "spam/*" all {',
      '}',
      'anchor "outer" all {',
      '  anchor "/abs/one" all {',
      '  }',
      '  anchor all {',
      '    pass in proto tcp from any to any port = 25 flags S/SA',
      '    anchor "mid" all {',
      '      pass out all flags S/SA',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  assert.equal(pfctl(['-a', 'regress', '-sr']).out, 'anchor "web/inner" all\nanchor "spam/*" all\nanchor "outer" all\n');
});

test('-F rules on an anchor flushes its own rules only; an anchor left with no rules, anchors, tables or callers is removed (pf_remove_if_empty_ruleset), up the tree', () => {
  const pfctl = kernelPfctl();
  const load = (a: string, conf: string): void => assert.equal(pfctl(['-a', a, '-f', '-'], conf).status, 0, a);
  assert.equal(pfctl(['-f', '-'], 'anchor "x"\npass\n').status, 0);
  load('x', 'anchor "y"\npass in\n');
  load('x/y', 'pass out\n');
  load('x/z', 'block\n');
  assert.equal(pfctl(['-sA']).out, '  x\n  x/y\n  x/z\n');
  // x's rules go: y, no longer called, keeps its own rules and stays, as z
  assert.deepEqual(pfctl(['-a', 'x', '-F', 'rules']), { status: 0, out: '', err: 'rules cleared\n' });
  assert.equal(pfctl(['-a', 'x', '-sr']).out, '');
  assert.equal(pfctl(['-sA']).out, '  x\n  x/y\n  x/z\n');
  assert.equal(pfctl(['-a', 'x/y', '-sr']).out, 'pass out all flags S/SA\n');
  // emptied and called by nothing: gone
  assert.deepEqual(pfctl(['-a', 'x/y', '-F', 'rules']), { status: 0, out: '', err: 'rules cleared\n' });
  assert.equal(pfctl(['-sA']).out, '  x\n  x/z\n');
  assert.deepEqual(pfctl(['-a', 'x/y', '-sr']), { status: 0, out: '', err: 'pfctl: Anchor does not exist\n' });
  // x is empty too once z goes, but the main ruleset's anchor rule keeps it; a new main ruleset without it lets it go
  pfctl(['-a', 'x/z', '-F', 'rules']);
  assert.equal(pfctl(['-sA']).out, '  x\n');
  assert.equal(pfctl(['-f', '-'], 'pass\n').status, 0);
  assert.equal(pfctl(['-sA']).out, '');
  // a ruleset loaded empty is not kept; a table keeps its anchor until it is killed
  load('e', '');
  assert.equal(pfctl(['-sA']).out, '');
  assert.equal(pfctl(['-a', 't/u', '-t', 'tt', '-T', 'add', '192.0.2.1']).status, 0);
  assert.equal(pfctl(['-sA']).out, '  t\n  t/u\n');
  assert.equal(pfctl(['-a', 't/u', '-t', 'tt', '-T', 'kill']).err, '1 table deleted.\n');
  assert.equal(pfctl(['-sA']).out, '');
});
