/**
 * The frames of the capture fixtures in test/fixtures/captures (classic
 * pcap, Ethernet link type), read with a few lines of code so the wire
 * tests do not depend on the tcpdump module they are meant to support.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get32, get32le } from '../../src/wire/bytes.js';

export const CAPTURES = ['linux-netns.pcap', 'scapy-mixed.pcap'];

export function captureFrames(name: string): Uint8Array[] {
  const path = capturePath(name);
  const f = new Uint8Array(readFileSync(path));
  const magic = get32(f, 0);
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? get32le(f, o) : get32(f, o));
  if (u32(20) !== 1) throw new Error(`${name}: link type ${u32(20)}, expected Ethernet`);
  const frames: Uint8Array[] = [];
  for (let o = 24; o + 16 <= f.length; ) {
    const caplen = u32(o + 8);
    frames.push(f.subarray(o + 16, o + 16 + caplen));
    o += 16 + caplen;
  }
  return frames;
}

// Walk up from this file (test/wire/ or dist/test/wire/) to the directory holding test/fixtures.
function capturePath(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'test', 'fixtures', 'captures', name);
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error(`capture fixture ${name} not found`);
  }
}
