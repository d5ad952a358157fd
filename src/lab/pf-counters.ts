/**
 * pf's counter arrays in struct pf_status (sys/net/pfvar.h), as `pfctl -si`
 * prints them: the index names C uses (PFRES_BADSTATE) and the label of
 * each row (state-mismatch).  explain and its generated index read them;
 * the labels are pf's own (PFRES_NAMES, LCNT_NAMES).
 */
import { LCNT_NAMES, PFRES_NAMES } from '../sys/net/pf.js';

export interface PfCounterArray {
  /** The pf_status member: counters, fcounters, scounters, ncounters, lcounters. */
  array: string;
  /** The heading pfctl -si prints the rows under. */
  section: string;
  /** Printed only by pfctl -vsi. */
  verbose: boolean;
  /** C's index names, in index order. */
  names: readonly string[];
  /** pfctl's row labels, in index order. */
  labels: readonly string[];
}

const TABLE_ROWS = ['searches', 'inserts', 'removals'];

export const PF_COUNTERS: readonly PfCounterArray[] = [
  { array: 'fcounters', section: 'State Table', verbose: false, names: ['FCNT_STATE_SEARCH', 'FCNT_STATE_INSERT', 'FCNT_STATE_REMOVALS'], labels: TABLE_ROWS },
  { array: 'scounters', section: 'Source Tracking Table', verbose: true, names: ['SCNT_SRC_NODE_SEARCH', 'SCNT_SRC_NODE_INSERT', 'SCNT_SRC_NODE_REMOVALS'], labels: TABLE_ROWS },
  { array: 'ncounters', section: 'Fragments', verbose: true, names: ['NCNT_FRAG_SEARCH', 'NCNT_FRAG_INSERT', 'NCNT_FRAG_REMOVALS'], labels: TABLE_ROWS },
  {
    array: 'counters', section: 'Counters', verbose: false, labels: PFRES_NAMES,
    names: ['PFRES_MATCH', 'PFRES_BADOFF', 'PFRES_FRAG', 'PFRES_SHORT', 'PFRES_NORM', 'PFRES_MEMORY', 'PFRES_TS', 'PFRES_CONGEST', 'PFRES_IPOPTIONS',
      'PFRES_PROTCKSUM', 'PFRES_BADSTATE', 'PFRES_STATEINS', 'PFRES_MAXSTATES', 'PFRES_SRCLIMIT', 'PFRES_SYNPROXY', 'PFRES_TRANSLATE', 'PFRES_NOROUTE'],
  },
  {
    array: 'lcounters', section: 'Limit Counters', verbose: true, labels: LCNT_NAMES,
    names: ['LCNT_STATES', 'LCNT_SRCSTATES', 'LCNT_SRCNODES', 'LCNT_SRCCONN', 'LCNT_SRCCONNRATE', 'LCNT_OVERLOAD_TABLE', 'LCNT_OVERLOAD_FLUSH',
      'LCNT_SYNFLOODS', 'LCNT_SYNCOOKIES_SENT', 'LCNT_SYNCOOKIES_VALID'],
  },
];

/** The array and index of a pf counter name, or null. */
export function pfCounter(name: string): { arr: PfCounterArray; i: number } | null {
  for (const arr of PF_COUNTERS) {
    const i = arr.names.indexOf(name);
    if (i >= 0) return { arr, i };
  }
  return null;
}
