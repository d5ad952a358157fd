/**
 * The `packetflow` command as a user runs it: a child process whose
 * standard output and standard error go into one pipe (`2>&1`), so what
 * is asserted is the order a terminal or a log file shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './lab/helpers.js';

/** `packetflow ARGV 2>&1 <input`: the merged output and the status. */
export function packetflow(argv: readonly string[], input = ''): { out: string; status: number | null } {
  const root = repoRoot();
  const compiled = import.meta.url.includes('/dist/');
  // Compiled (npm test): the installed command itself; from source: the same main() under tsx.
  const cmd = compiled
    ? [process.execPath, join(root, 'bin', 'packetflow.js')]
    : [process.execPath, '--import', 'tsx', '--input-type=module', '-e', `import { main } from ${JSON.stringify(join(root, 'src', 'cli.ts'))}; process.exitCode = await main(process.argv.slice(1));`];
  const r = spawnSync('sh', ['-c', '"$@" 2>&1', 'sh', ...cmd, ...argv], { input, encoding: 'utf8', cwd: root, timeout: 60_000 });
  return { out: r.stdout, status: r.status };
}

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
