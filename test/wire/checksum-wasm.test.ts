import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { SIMD_WASM } from '../../src/wire/checksum.js';
import { ROOT } from '../helpers/root.js';

test('the embedded checksum module is the assembly of checksum.wat', async () => {
  const wabt = await wabtInit();
  const text = readFileSync(join(ROOT, 'src/wire/checksum.wat'), 'utf8');
  const mod = wabt.parseWat('checksum.wat', text, { simd: true });
  try {
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({});
    assert.equal(Buffer.from(buffer).toString('base64'), SIMD_WASM);
  } finally {
    mod.destroy();
  }
});
