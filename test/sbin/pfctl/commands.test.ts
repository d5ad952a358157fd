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

const FILES: Record<string, string> = {
  'good.conf': 'pass all\n',
  'bad.conf': 'pass all\nblock frobnicate\n',
  'outer.conf': 'anchor "web"\nload anchor "web" from "bad.conf"\n',
  'outer-missing.conf': 'anchor "web"\nload anchor "web" from "nowhere.conf"\n',
};

type Run = (argv: string[], stdin?: string) => { out: string; err: string; status: number };

function kernelPfctl(k = new Kernel(new World({ seed: 1 }), { hostname: 'fw' })): Run & { k: Kernel } {
  const f: Run = (argv, stdin = '') => {
    const o = new StringOutput();
    const e = new StringOutput();
    const status = pfctlKernel(k, argv, { stdout: o, stderr: e }, {
      env: defaultPfctlEnv(),
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
