import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project root (tests also run compiled, from dist/test/). */
function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'scripts', 'gen-netstat.mjs'))) {
    const up = dirname(d);
    if (up === d) throw new Error('project root not found');
    d = up;
  }
  return d;
}

interface Generator {
  generate(json: unknown): { counters: string; format: string };
}

test('generated netstat tables are up to date with shared/reference/openbsd-netstat-s.json', async (t) => {
  const root = projectRoot();
  const json = join(root, '..', 'shared', 'reference', 'openbsd-netstat-s.json');
  if (!existsSync(json)) {
    t.skip('../shared/reference/openbsd-netstat-s.json is absent: cannot check the generated files');
    return;
  }
  const gen = (await import(pathToFileURL(join(root, 'scripts', 'gen-netstat.mjs')).href)) as Generator;
  const out = gen.generate(JSON.parse(readFileSync(json, 'utf8')));
  const stale = 'is out of date: run node scripts/gen-netstat.mjs';
  assert.equal(readFileSync(join(root, 'src/sys/kern/counters.gen.ts'), 'utf8'), out.counters, `counters.gen.ts ${stale}`);
  assert.equal(readFileSync(join(root, 'src/usr.bin/netstat/netstat-format.gen.ts'), 'utf8'), out.format, `netstat-format.gen.ts ${stale}`);
});

test('the generated tables hold every section and all 360 counter lines', async () => {
  const { SECTIONS, PROTOX, IP6PROTOX, COUNTER_LINES, ICMPNAMES, IP6NH, ICMP6NAMES } = await import('../../src/usr.bin/netstat/netstat-format.gen.js');
  assert.equal(COUNTER_LINES, 360);
  assert.deepEqual(Object.keys(SECTIONS), [...PROTOX, ...IP6PROTOX]);
  let n = 0;
  for (const s of Object.values(SECTIONS)) n += s.items.filter((i) => i.kind === 'counter').length;
  assert.equal(n, 360);
  assert.equal(ICMPNAMES.length, 41);
  assert.equal(IP6NH.length, 256);
  assert.equal(IP6NH[90], '#80'); // upstream typo, kept
  assert.equal(ICMP6NAMES.length, 256);
});
