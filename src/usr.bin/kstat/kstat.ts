/**
 * kstat(1): print kernel statistics (usr.bin/kstat/kstat.c): every kstat,
 * or those matching `name` or `provider:instance:name:unit` filters (empty
 * fields are wildcards, provider and name are fnmatch(3) patterns).  The
 * interface queues appear as em0:0:rxq:0 and em0:0:txq:0.
 *
 * `-w wait` is accepted and checked, but the output is printed once: a
 * tool run here returns instead of sleeping (the lab shell can repeat it).
 */
import type { Io } from '../../lib/io.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { getopt } from '../../lib/getopt.js';
import {
  type Kstat,
  type KstatKv,
  KSTAT_KV_T_NULL,
  KSTAT_KV_T_BOOL,
  KSTAT_KV_T_STR,
  KSTAT_KV_U_PACKETS,
  KSTAT_KV_U_BYTES,
  KSTAT_KV_U_CYCLES,
} from '../../sys/kern/kern_kstat.js';
import { Exit, exitStatus } from '../../lib/exit.js';

interface Filter {
  provider?: string;
  instance?: number;
  name?: string;
  unit?: number;
}

/** fnmatch(3) with FNM_NOESCAPE | FNM_LEADING_DIR: *, ?, [...] patterns. */
export function fnmatch(pattern: string, s: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^]*';
    else if (c === '?') re += '[^]';
    else if (c === '[') {
      const j = pattern.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, j);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  re += '(?:/[^]*)?$';
  return new RegExp(re).test(s);
}

function strtonum(s: string, min: number, max: number): { v: number; err?: string } {
  if (!/^\s*[-+]?\d+$/.test(s)) return { v: 0, err: 'invalid' };
  const v = Number(s);
  if (v < min) return { v: 0, err: 'too small' };
  if (v > max) return { v: 0, err: 'too large' };
  return { v };
}

/** One kv line: "%16.16s: " key, value, unit. */
export function kvline(kv: KstatKv): string {
  const key = kv.key.length > 16 ? kv.key.slice(0, 16) : kv.key.padStart(16);
  let v: string;
  if (kv.type === KSTAT_KV_T_NULL) v = 'null';
  else if (kv.type === KSTAT_KV_T_BOOL) v = kv.value ? 'true' : 'false';
  else if (kv.type === KSTAT_KV_T_STR) v = String(kv.value);
  else v = String(kv.value);
  const unit =
    kv.unit === KSTAT_KV_U_PACKETS ? ' packets' : kv.unit === KSTAT_KV_U_BYTES ? ' bytes' : kv.unit === KSTAT_KV_U_CYCLES ? ' cycles' : '';
  return `${key}: ${v}${unit}\n`;
}

/** kstat_print() of one entry. */
export function kstatEntry(ks: Kstat, now = 0): string {
  let s = `${ks.provider}:${ks.instance}:${ks.name}:${ks.unit}\n`;
  for (const kv of ks.read(now)) s += kvline(kv);
  return s;
}

export function kstat(k: Kernel, argv: readonly string[], io: Io): number {
  return exitStatus(() => run(k, argv, io));
}

function run(k: Kernel, argv: readonly string[], io: Io): number {
  const errx = (msg: string): never => {
    io.stderr.write(`kstat: ${msg}\n`);
    throw new Exit(1);
  };
  const usage = (): never => {
    io.stderr.write('usage: kstat [-w wait] [name | provider:instance:name:unit] ...\n');
    throw new Exit(1);
  };
  const g = getopt(argv, 'w:');
  if (g.error !== undefined) {
    io.stderr.write(`kstat: ${g.error}\n`);
    usage();
  }
  for (const [c, arg] of g.opts) {
    if (c === 'w') {
      const r = strtonum(arg!, 1, 0xffffffff);
      if (r.err) errx(`wait is ${r.err}: ${arg}`);
    }
  }
  const filters: Filter[] = [];
  for (const arg of g.rest) {
    const parts = arg.split(':');
    if (parts.length === 1) {
      if (parts[0] === '') errx('empty name');
      filters.push({ name: parts[0]! });
    } else if (parts.length === 4) {
      const [p, i, n, u] = parts as [string, string, string, string];
      const f: Filter = {};
      if (p !== '') f.provider = p;
      if (i !== '') {
        const r = strtonum(i, 0, 0xffffffff);
        if (r.err) errx(`${p}:${i}:${n}:${u}: instance ${i}: ${r.err}`);
        f.instance = r.v;
      }
      if (n !== '') f.name = n;
      if (u !== '') {
        const r = strtonum(u, 0, 0xffffffff);
        if (r.err) errx(`${p}:${i}:${n}:${u}: unit ${u}: ${r.err}`);
        f.unit = r.v;
      }
      filters.push(f);
    } else usage();
  }
  const match = (ks: Kstat): boolean => {
    if (filters.length === 0) return true;
    for (const f of filters) {
      if (f.provider !== undefined && !fnmatch(f.provider, ks.provider)) continue;
      if (f.instance !== undefined && f.instance !== ks.instance) continue;
      if (f.name !== undefined && !fnmatch(f.name, ks.name)) continue;
      if (f.unit !== undefined && f.unit !== ks.unit) continue;
      return true;
    }
    return false;
  };
  let s = '';
  for (const ks of k.kstats.all()) if (match(ks)) s += kstatEntry(ks, k.world.now);
  io.stdout.write(s);
  return 0;
}
