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
