/**
 * Lab settings at run time, the topology keys a user may want to change
 * without writing a topology file:
 *
 *   softnet [latency]                  the machine's softnet thread runs
 *                                      that late (a busy CPU): input queues
 *                                      fill and drop (kstat rxq: qdrops)
 *   cable END [loss P] [duplicate P] [reorder P]
 *                                      a cable's seeded impairments; END is
 *                                      machine:nic or a nic of this machine
 *
 * Both are the lab's, not OpenBSD's: they model the hardware and the wire
 * (the topology file's `softnet: { latency }` and cable keys), so they are
 * shell commands, not sysctl nodes.
 */
import type { Io } from '../lib/io.js';
import type { Cable } from '../sys/dev/cable.js';
import type { CableSpec } from './topology.js';
import { parseDelay } from './topology.js';
import type { Lab, Machine } from './lab.js';

/** ns as the topology writes them: 10ms, 500us, 0. */
export function formatDelay(ns: number): string {
  if (ns === 0) return '0';
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}

export function softnetCommand(m: Machine, argv: readonly string[], io: Io): number {
  const tq = m.k.softnet;
  if (argv.length > 1) {
    io.stderr.write('usage: softnet [latency]\n');
    return 1;
  }
  if (argv.length === 1) {
    const ns = parseDelay(argv[0]!);
    if (ns === null) {
      io.stderr.write(`softnet: ${argv[0]}: not a delay such as 500us or 10ms\n`);
      return 1;
    }
    tq.latency = ns;
  }
  io.stdout.write(`${m.name}: softnet latency ${formatDelay(tq.latency)}\n`);
  return 0;
}

/** A delay as a topology file writes it: the largest unit it is a whole number of (2ms, 10s, 500ns). */
export function delayText(ns: number): string {
  if (ns === 0) return '0';
  for (const [unit, n] of [['s', 1e9], ['ms', 1e6], ['us', 1e3]] as const) if (ns % n === 0) return `${ns / n}${unit}`;
  return `${ns}ns`;
}

/** A cable as `machines` lists it, with its impairments as they are now. */
export function cableLine(cs: CableSpec, c: Cable | undefined): string {
  const rate = cs.rate >= 1e9 ? `${cs.rate / 1e9}G` : cs.rate >= 1e6 ? `${cs.rate / 1e6}M` : `${cs.rate}`;
  const loss = c?.loss ?? cs.loss;
  const dup = c?.duplicate ?? cs.duplicate;
  const reorder = c?.reorder ?? cs.reorder;
  return `cable ${cs.a.machine}:${cs.a.nic} - ${cs.b.machine}:${cs.b.nic} ${rate}bit/s ${delayText(cs.delay)}${loss ? ` loss ${loss}` : ''}${dup ? ` dup ${dup}` : ''}${reorder ? ` reorder ${reorder}` : ''}\n`;
}

const CABLE_USAGE = 'usage: cable machine:nic [loss p] [duplicate p] [reorder p]\n';

export function cableCommand(lab: Lab, m: Machine, argv: readonly string[], io: Io): number {
  if (argv.length === 0 || argv.length % 2 === 0) {
    io.stderr.write(CABLE_USAGE);
    return 1;
  }
  const end = argv[0]!.includes(':') ? argv[0]! : `${m.name}:${argv[0]}`;
  const i = lab.spec.cables.findIndex((c) => `${c.a.machine}:${c.a.nic}` === end || `${c.b.machine}:${c.b.nic}` === end);
  const cable = lab.cables[i];
  if (i < 0 || cable === undefined) {
    io.stderr.write(`cable: ${end}: no cable plugged in there\n`);
    return 1;
  }
  const set: Array<[('loss' | 'duplicate' | 'reorder'), number]> = [];
  for (let a = 1; a < argv.length; a += 2) {
    const key = argv[a]!;
    const v = Number(argv[a + 1]);
    if (key !== 'loss' && key !== 'duplicate' && key !== 'reorder') {
      io.stderr.write(`cable: ${key}: not a setting (loss, duplicate, reorder)\n${CABLE_USAGE}`);
      return 1;
    }
    if (argv[a + 1] === '' || !(v >= 0 && v <= 1)) {
      io.stderr.write(`cable: ${key} ${argv[a + 1]}: a probability between 0 and 1\n`);
      return 1;
    }
    set.push([key, v]);
  }
  for (const [key, v] of set) cable[key] = v;
  io.stdout.write(cableLine(lab.spec.cables[i]!, cable));
  return 0;
}
