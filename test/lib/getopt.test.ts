import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getopt } from '../../src/lib/getopt.js';

test('bundled flags, attached and separate arguments', () => {
  const r = getopt(['-nr', 'file.pcap', '-c5', '-v', 'tcp', 'port', '80'], 'c:nr:v');
  assert.deepEqual(r.opts, [['n', undefined], ['r', 'file.pcap'], ['c', '5'], ['v', undefined]]);
  assert.deepEqual(r.rest, ['tcp', 'port', '80']);
  assert.equal(r.error, undefined);
});

test('options end at the first operand and at --', () => {
  assert.deepEqual(getopt(['a', '-n'], 'n').rest, ['a', '-n']);
  assert.deepEqual(getopt(['-n', '--', '-v'], 'nv').rest, ['-v']);
  assert.deepEqual(getopt(['-'], 'n').rest, ['-']);
});

test('libc error texts', () => {
  assert.equal(getopt(['-z'], 'n').error, 'unknown option -- z');
  assert.equal(getopt(['-c'], 'c:').error, 'option requires an argument -- c');
});
