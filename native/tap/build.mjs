#!/usr/bin/env node
/* global process, console */
// Builds native/tap/build/tap.node, the TAP addon (see tap.c), with the C
// compiler and Node's own headers: no download, no node-gyp.  Never fails
// an install: without a compiler or headers it says why and exits 0, and
// tap attachments then report that the addon is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'tap.node');
const src = join(here, 'tap.c');

function note(msg) {
  console.error(`packetflow: TAP addon not built: ${msg} (tap attachments unavailable; VXLAN attachments need no native code)`);
  process.exit(0);
}

if (process.platform !== 'linux') note('TAP needs Linux');
const candidates = [
  process.env.NODE_INCLUDE_DIR,
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter((d) => d && existsSync(join(d, 'node_api.h')));
if (candidates.length === 0) note("Node's headers (node_api.h) not found; install nodejs headers or set NODE_INCLUDE_DIR");
const cc = process.env.CC || 'cc';
try {
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(cc, ['-O2', '-Wall', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=tap', `-I${candidates[0]}`, '-o', out, src], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
} catch (e) {
  note(`${cc} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
}
console.error(`packetflow: built ${out}`);
