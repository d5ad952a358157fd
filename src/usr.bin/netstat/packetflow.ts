/**
 * `netstat -s -X`: packetflow's own counters, the ones OpenBSD does not
 * have (DESIGN.md §6: where OpenBSD drops without counting, packetflow
 * counts, and prints those counters only under an extra flag so that
 * netstat's default output stays byte-identical to OpenBSD's).
 *
 * -X is not an OpenBSD netstat option.  With -s it appends these sections
 * after OpenBSD's; `-s -X -p ether` prints one of them.  Lines follow
 * inet.c's style: a tab per level, the count first, C plurals, and under
 * -ss a zero line is hidden while the header stays.
 */
import type { StatsLayout } from '../../sys/kern/counters.js';
import { cprintf } from './inet.js';

/** A packetflow counter block (a CounterBlock): values and their names. */
export interface ExtraBlock {
  readonly v: Float64Array;
  readonly layout: StatsLayout;
}

/** 1: "s", 2: "es", 3: "y"/"ies", as inet.c's plural helpers; 0: none. */
type Plural = 0 | 1 | 2 | 3;

/** One line: counter name, printf format (%llu then %s for the plural), plural kind. */
type Line = readonly [counter: string, format: string, plural: Plural];

export interface ExtraSection {
  readonly name: string;
  readonly lines: readonly Line[];
}

/** Sections in print order. */
export const EXTRA_SECTIONS: readonly ExtraSection[] = [
  {
    // struct etherstat, sys/net/if_ethersubr.ts
    name: 'ether',
    lines: [
      ['ethers_ipackets', '\t%llu input frame%s\n', 1],
      ['ethers_short', '\t\t%llu shorter than an Ethernet header\n', 0],
      ['ethers_sdelim', '\t\t%llu VLAN tagged with no vlan interface\n', 0],
      ['ethers_notforus', '\t\t%llu unicast to another station\n', 0],
      ['ethers_fromself', '\t\t%llu own multicast looped back\n', 0],
      ['ethers_noproto', '\t\t%llu with unknown ethertype\n', 0],
      // ether_output() frames IP datagrams; ARP queues its own frames.
      ['ethers_opackets', '\t%llu output datagram%s framed\n', 1],
      ['ethers_odown', '\t%llu output datagram%s dropped, interface not running\n', 1],
      ['ethers_onobufs', '\t%llu output datagram%s dropped, no space for the header\n', 1],
    ],
  },
  {
    // struct arpstat, sys/netinet/if_ether.ts
    name: 'arp',
    lines: [
      ['arps_txrequests', '\t%llu request%s sent\n', 1],
      ['arps_txreplies', '\t%llu repl%s sent\n', 3],
      ['arps_received', '\t%llu packet%s received\n', 1],
      ['arps_rxrequests', '\t\t%llu request%s\n', 1],
      ['arps_rxreplies', '\t\t%llu repl%s\n', 3],
      ['arps_badhdr', '\t\t%llu with a bad header\n', 0],
      ['arps_badop', '\t\t%llu with an unknown operation\n', 0],
      ['arps_bcastsha', '\t\t%llu with a broadcast sender address\n', 0],
      ['arps_fromself', '\t\t%llu sent by ourselves\n', 0],
      ['arps_noarp', '\t\t%llu on an interface without ARP\n', 0],
      ['arps_notarget', '\t\t%llu request%s for an address not ours\n', 1],
      ['arps_dupips', '\t%llu duplicate IP address%s detected\n', 2],
      ['arps_permoverwrite', '\t%llu attempt%s to overwrite a permanent entry\n', 1],
      ['arps_ifoverwrite', '\t%llu attempt%s to overwrite an entry of another interface\n', 1],
      ['arps_resolved', '\t%llu entr%s resolved\n', 3],
      ['arps_timeouts', '\t%llu entr%s timed out\n', 3],
      ['arps_holddrops', '\t%llu packet%s dropped from a full hold queue\n', 1],
      ['arps_holdtotal', '\t%llu packet%s dropped over the total hold limit\n', 1],
      ['arps_maxtries', '\t%llu packet%s dropped, no reply after the last try\n', 1],
      ['arps_rejected', '\t%llu packet%s dropped, destination down\n', 1],
      ['arps_noinfo', '\t%llu packet%s dropped, route without ARP information\n', 1],
      ['arps_invalidated', '\t%llu packet%s dropped, entry deleted\n', 1],
    ],
  },
];

const BY_NAME: ReadonlyMap<string, ExtraSection> = new Map(EXTRA_SECTIONS.map((s) => [s.name, s]));

/** True when `name` is a packetflow section (`-X -p NAME`). */
export function isExtraSection(name: string): boolean {
  return BY_NAME.has(name);
}

function plural(n: number, kind: Plural): string {
  switch (kind) {
    case 0:
      return '';
    case 1:
      return n !== 1 ? 's' : '';
    case 2:
      return n !== 1 ? 'es' : '';
    default:
      return n !== 1 ? 'ies' : 'y';
  }
}

/**
 * One packetflow section; a missing block prints zeros (the protocol was
 * idle), as protoStats() does for OpenBSD's sections.
 */
export function extraStats(name: string, block: ExtraBlock | undefined, sflag: number): string {
  const section = BY_NAME.get(name);
  if (section === undefined) throw new Error(`netstat: no packetflow section ${name}`);
  let out = `${name}:\n`;
  for (const [counter, format, kind] of section.lines) {
    let v = 0;
    if (block !== undefined) {
      const f = block.layout.fields.find((x) => x.name === counter);
      if (f === undefined) throw new Error(`netstat: ${block.layout.struct} has no counter ${counter}`);
      v = block.v[f.id]!;
    }
    if (v === 0 && sflag > 1) continue;
    out += kind === 0 ? cprintf(format, [v]) : cprintf(format, [v, plural(v, kind)]);
  }
  return out;
}
