/**
 * The `packetflow` command as a user runs it: a child process whose
 * standard output and standard error go into one pipe (`2>&1`), so what
 * is asserted is the order a terminal or a log file shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packetflow } from './helpers/cli.js';

test('packetflow run: each command\'s standard error appears under it, in order with standard output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-cli-'));
  try {
    writeFileSync(join(dir, 's.pfs'), 'pfctl -d\nfoo\npfctl -e\necho done\n');
    const r = packetflow(['run', join(dir, 's.pfs')]);
    assert.equal(r.out, [
      'router# pfctl -d',
      'pf disabled',
      'router# foo',
      'packetflow: foo: command not found (type help)',
      'router# pfctl -e',
      'pf enabled',
      'router# echo done',
      'done',
      '',
    ].join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('packetflow with commands on a pipe: standard error in order with standard output', () => {
  const r = packetflow([], 'pfctl -d\nfoo\necho done\n');
  assert.equal(r.out, 'router# pfctl -d\npf disabled\nrouter# foo\npacketflow: foo: command not found (type help)\nrouter# echo done\ndone\n');
});

test("packetflow run exits as sh does: the last command's status, or exit's; a failure earlier does not stop it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-cli-'));
  try {
    const run = (text: string): { out: string; status: number | null } => {
      writeFileSync(join(dir, 's.pfs'), text);
      return packetflow(['run', join(dir, 's.pfs')]);
    };
    assert.deepEqual(run('false\necho ok\n'), { out: 'router# false\nrouter# echo ok\nok\n', status: 0 });
    assert.deepEqual(run('echo ok\nfalse\n'), { out: 'router# echo ok\nok\nrouter# false\n', status: 1 });
    assert.deepEqual(run('false || exit 4\necho not reached\n'), { out: 'router# false\nrouter# exit 4\n', status: 4 });
    assert.deepEqual(run('exit 3\n'), { out: 'router# exit 3\n', status: 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Commands on a pipe: the same.
  assert.deepEqual(packetflow([], 'echo a\nexit 3\n'), { out: 'router# echo a\na\nrouter# exit 3\n', status: 3 });
});

test('--lab without a file is a usage error, not the default lab', () => {
  assert.deepEqual(packetflow(['--lab']), { out: 'packetflow: option --lab requires an argument: a topology file\nusage: packetflow [shell] [--lab file]\n', status: 1 });
  assert.deepEqual(packetflow(['lab', '--lab']), { out: 'packetflow: option --lab requires an argument: a topology file\nusage: packetflow lab [--lab file]\n', status: 1 });
  assert.deepEqual(packetflow(['run', 'x.pfs', '--lab=']), { out: 'packetflow: option --lab requires an argument: a topology file\nusage: packetflow run script [--lab file]\n', status: 1 });
});
