/**
 * af-to's prefix lengths (pf_af.ts maskLen, read from the rule's masks
 * for every new af-to state): every contiguous mask of 0 to 128 bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskLen } from '../../../src/sys/net/pf_af.js';

/** Word i of a /plen mask, as pf keeps it (int32). */
function word(plen: number, i: number): number {
  const n = Math.max(0, Math.min(32, plen - 32 * i));
  return n === 0 ? 0 : (0xffffffff << (32 - n)) | 0;
}

test('maskLen: the length of each contiguous IPv6 or IPv4 mask, 0 to 128', () => {
  for (let plen = 0; plen <= 128; plen++) assert.equal(maskLen(word(plen, 0), word(plen, 1), word(plen, 2), word(plen, 3)), plen);
  // unsigned words give the same
  assert.equal(maskLen(0xffffffff, 0xffff0000, 0, 0), 48);
  assert.equal(maskLen(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 128);
});
