/**
 * kstat(4): named kernel statistics, as sys/dev/kstat.c keeps them.  Each
 * kstat is identified by provider:instance:name:unit (e.g. em0:0:txq:0);
 * its owner supplies a copy function that fills key/value pairs on read,
 * so nothing is computed until kstat(1) asks.
 */

// kstat_kv types, sys/sys/kstat.h
export const KSTAT_KV_T_NULL = 0;
export const KSTAT_KV_T_BOOL = 1;
export const KSTAT_KV_T_COUNTER64 = 2;
export const KSTAT_KV_T_COUNTER32 = 3;
export const KSTAT_KV_T_UINT64 = 4;
export const KSTAT_KV_T_INT64 = 5;
export const KSTAT_KV_T_UINT32 = 6;
export const KSTAT_KV_T_INT32 = 7;
export const KSTAT_KV_T_COUNTER16 = 8;
export const KSTAT_KV_T_UINT16 = 9;
export const KSTAT_KV_T_INT16 = 10;
export const KSTAT_KV_T_STR = 11;

// kstat_kv units
export const KSTAT_KV_U_NONE = 0;
export const KSTAT_KV_U_PACKETS = 1;
export const KSTAT_KV_U_BYTES = 2;
export const KSTAT_KV_U_CYCLES = 3;

export interface KstatKv {
  readonly key: string;
  readonly type: number;
  readonly unit: number;
  value: number | boolean | string;
}

/** KSTAT_KV_UNIT_INITIALIZER() */
export function kstat_kv(key: string, type: number, unit = KSTAT_KV_U_NONE): KstatKv {
  return { key, type, unit, value: type === KSTAT_KV_T_BOOL ? false : type === KSTAT_KV_T_STR ? '' : 0 };
}

export class Kstat {
  /** Virtual time (ns) of the last read, as ks_updated. */
  updated = 0;

  constructor(
    readonly provider: string,
    readonly instance: number,
    readonly name: string,
    readonly unit: number,
    /** The key/value pairs, in the order kstat(1) prints them. */
    readonly data: KstatKv[],
    /** ks_copy: refresh `data` from the owner's counters. */
    readonly copy: (data: KstatKv[]) => void,
  ) {}

  /** KSTATIOC_FIND_ID + read: fresh values. */
  read(now = 0): KstatKv[] {
    this.copy(this.data);
    this.updated = now;
    return this.data;
  }
}

function cmp(a: Kstat, b: Kstat): number {
  if (a.provider !== b.provider) return a.provider < b.provider ? -1 : 1;
  if (a.instance !== b.instance) return a.instance - b.instance;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.unit - b.unit;
}

/** The kstats of one kernel. */
export class KstatTree {
  private readonly list: Kstat[] = [];

  /** kstat_create() + kstat_install() */
  create(
    provider: string,
    instance: number,
    name: string,
    unit: number,
    data: KstatKv[],
    copy: (data: KstatKv[]) => void,
  ): Kstat {
    const ks = new Kstat(provider, instance, name, unit, data, copy);
    this.list.push(ks);
    return ks;
  }

  /** kstat_destroy() */
  destroy(ks: Kstat): void {
    const i = this.list.indexOf(ks);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** All kstats, sorted as kstat(1) prints them (provider, instance, name, unit). */
  all(): Kstat[] {
    return this.list.slice().sort(cmp);
  }
}
