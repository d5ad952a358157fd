/**
 * explain COUNTER | 'NETSTAT LINE': the Grep Inet Counter slide, done by
 * packetflow.  From `ips_cantforward` or `packets not forwardable` to the
 * counter's struct, its netstat -s line, and every place in packetflow's
 * source that increments it with the condition it sits under.  The index
 * of places is generated from the source (gen-explain.ts), not written by
 * hand.
 */
import type { Io } from '../lib/io.js';
import { STATS_LAYOUTS } from '../sys/kern/counters.gen.js';
import { SECTIONS } from '../usr.bin/netstat/netstat-format.gen.js';
import { EXPLAIN } from './explain.gen.js';
import type { Site } from './gen-explain.js';

export interface CounterInfo {
  name: string;
  /** `struct ipstat (sys/netinet/ip_var.h)` or `packetflow etherstat`. */
  struct: string;
  /** netstat section. */
  section: string;
  /** The netstat -s line, with n for the value. */
  line: string;
  sites: Site[];
}

/** A netstat format line with `n` for the number and the plural of n > 1. */
function render(format: string, plural: boolean): string {
  let argi = 0;
  return format
    .replace(/%(l?l?u|d|q?d|llu)/g, () => (argi++ === 0 ? 'n' : ''))
    .replace(/%s/g, () => (plural ? 's' : ''))
    .replace(/\t/g, '')
    .replace(/\n$/, '')
    .trim();
}

function netstatLines(): Array<{ section: string; counters: string[]; one: string; many: string }> {
  const out: Array<{ section: string; counters: string[]; one: string; many: string }> = [];
  for (const [sec, s] of Object.entries(SECTIONS)) {
    for (const it of s.items) {
      if (it.kind === 'counter') {
        const counters = [...new Set(it.args.map((a) => a[0]))];
        out.push({ section: sec, counters, one: render(it.format, false), many: render(it.format, true) });
      } else if (it.kind === 'histogram') {
        out.push({ section: sec, counters: [it.field], one: `${it.header.trim()} ${render(it.line, false)}`, many: `${it.header.trim()} ${render(it.line, true)}` });
      }
    }
  }
  return out;
}

/** Every counter packetflow knows, OpenBSD's and its own. */
export function counterInfo(name: string): CounterInfo | null {
  const lines = netstatLines();
  for (const l of Object.values(STATS_LAYOUTS)) {
    const f = l.fields.find((x) => x.name === name);
    if (f === undefined) continue;
    const nl = lines.find((x) => x.counters.includes(name));
    return { name, struct: `struct ${l.struct} (${l.header})`, section: l.proto, line: nl ? nl.many : '(not printed by netstat -s)', sites: EXPLAIN.sites[name] ?? [] };
  }
  const own = EXPLAIN.own[name];
  if (own !== undefined) {
    return { name, struct: `packetflow ${own[0]}`, section: own[0].replace(/stat$/, ''), line: `${own[1]} (netstat -s -X)`, sites: EXPLAIN.sites[name] ?? [] };
  }
  const sites = EXPLAIN.sites[name];
  if (sites !== undefined) return { name, struct: 'struct ifnet / ifqueue (interface and queue counters)', section: 'interface', line: 'netstat -i, kstat', sites };
  return null;
}

/** Counter names whose netstat line contains `text` (case-insensitive, leading number ignored). */
export function countersForLine(text: string): string[] {
  const q = text.trim().replace(/^\d+\s+/, '').toLowerCase();
  if (q === '') return [];
  const out: string[] = [];
  for (const l of netstatLines()) {
    if (l.one.toLowerCase().includes(q) || l.many.toLowerCase().includes(q)) for (const c of l.counters) if (!out.includes(c)) out.push(c);
  }
  for (const [n, [, d]] of Object.entries(EXPLAIN.own)) if (d.toLowerCase().includes(q) && !out.includes(n)) out.push(n);
  return out;
}

export function explainText(info: CounterInfo): string {
  const out = [`${info.name}: ${info.struct}, netstat section "${info.section}"`, `  netstat: ${info.line}`];
  if (info.sites.length === 0) out.push('  incremented nowhere in packetflow yet (the protocol is not built)');
  else {
    out.push(`  incremented in ${info.sites.length} place${info.sites.length === 1 ? '' : 's'}:`);
    for (const s of info.sites) out.push(`    ${s.file}:${s.line} ${s.fn}()\n        when ${s.cond}`);
  }
  return out.join('\n') + '\n';
}

export function explainCommand(argv: readonly string[], io: Io): number {
  const json = argv[0] === '--json';
  const words = json ? argv.slice(1) : argv;
  if (words.length === 0) {
    io.stderr.write("usage: explain [--json] counter | 'netstat line'\n");
    return 1;
  }
  const q = words.join(' ');
  let names: string[];
  if (/^[a-z][a-z0-9]*_\w+$/.test(q)) names = [q];
  else names = countersForLine(q);
  const infos = names.map(counterInfo).filter((x): x is CounterInfo => x !== null);
  if (infos.length === 0) {
    io.stderr.write(`explain: ${q}: no such counter or netstat line\n`);
    return 1;
  }
  if (json) io.stdout.write(JSON.stringify(infos, null, 2) + '\n');
  else io.stdout.write(infos.map(explainText).join('\n'));
  return 0;
}
