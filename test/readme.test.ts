/**
 * The README's examples are run as a reader would run them, so the README
 * stays true: the shell transcript of the quick start (every line shown
 * must come out, in that order and each right after the one before; `...`
 * stands for lines left out) and each
 * `$ npx packetflow ...` command with the output printed under it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lab/helpers.js';
import { packetflow } from './helpers/cli.js';
import { fencedBlocks, inOrder, type Want } from './helpers/transcript.js';

const README = readFileSync(join(repoRoot(), 'README.md'), 'utf8');

/** The fenced blocks of the README. */
function blocks(): Array<{ info: string; lines: string[] }> {
  return fencedBlocks(README);
}

const PROMPT = /^([a-z][a-z0-9-]*)# (.*)$/;

test('README: the quick start transcript comes out of the default lab as shown', () => {
  const transcript = blocks().find((b) => b.info === '' && b.lines.some((l) => PROMPT.test(l) && l.includes('trace')));
  assert.ok(transcript, 'the README has a shell transcript with trace');
  const commands: string[] = [];
  const want: Want[] = [];
  let gap = true;
  for (const l of transcript.lines) {
    const p = PROMPT.exec(l);
    if (p !== null) commands.push(p[2]!);
    if (l.trim() === '...') {
      gap = true;
      continue;
    }
    // the shell does not echo `on HOST`: its effect shows in the next prompt
    if (p !== null && /^on \S+$/.test(p[2]!)) continue;
    // piped input echoes `HOST: CMD` with HOST's prompt, as the command runs there
    const there = p === null ? null : /^([a-z][a-z0-9-]*): (.*)$/.exec(p[2]!);
    want.push({ line: there === null ? l : `${there[1]}# ${there[2]}`, gap });
    gap = false;
  }
  const r = packetflow([], commands.join('\n') + '\n');
  assert.equal(r.status, 0);
  const missing = inOrder(r.out.split('\n'), want, (g, w) => g === w);
  assert.equal(missing, null, `README line not in the output (or out of order): ${missing}\n--- output:\n${r.out}`);
});

test('README: each `$ npx packetflow` example prints what the README shows', { skip: import.meta.url.includes('/dist/') ? false : 'runs the compiled command (npm test)' }, () => {
  const root = repoRoot();
  let n = 0;
  for (const b of blocks().filter((x) => x.info === 'sh')) {
    for (let i = 0; i < b.lines.length; i++) {
      const l = b.lines[i]!;
      if (!l.startsWith('$ ') || !l.includes('npx packetflow')) continue;
      const expected: string[] = [];
      for (let j = i + 1; j < b.lines.length && !b.lines[j]!.startsWith('$ '); j++) expected.push(b.lines[j]!);
      const cmd = l.slice(2).replaceAll('npx packetflow', `${JSON.stringify(process.execPath)} bin/packetflow.js`);
      // as a terminal shows it: standard error and output in one stream
      const r = spawnSync('sh', ['-c', `(${cmd}) 2>&1`], { cwd: root, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 60_000 });
      assert.equal(r.stdout, expected.join('\n') + '\n', l);
      n++;
    }
  }
  assert.ok(n >= 3, `README examples run: ${n}`);
});
