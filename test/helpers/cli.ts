/**
 * The `packetflow` command as a user runs it: a child process whose
 * standard output and standard error go into one pipe (`2>&1`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../lab/helpers.js';

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

