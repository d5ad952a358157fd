/**
 * pf_calc_chksum(): the MD5 of the main ruleset that `pfctl -s info -v`
 * prints as "Checksum: 0x...".  pfsync peers compare it to know they run
 * the same rules, so it hashes what decides a rule's matching, field by
 * field as pf_hash_rule() feeds them to MD5: one-byte fields as they are,
 * 16/32-bit ones in network order, strings without their NUL, fixed-size
 * name buffers (interface, table, route label) whole with their zero
 * padding, addresses and ports as the rule stores them (network order).
 * Automatic tables of the optimizer are left out, as their names differ
 * from load to load.
 */
import { createHash, type Hash } from 'node:crypto';
import type { PfRule, PfRuleAddr } from '../../sbin/pfctl/pf_ruleset.js';
import type { KRule } from './pf.js';

const PF_ADDR_ADDRMASK = 0;
const PF_ADDR_DYNIFTL = 2;
const PF_ADDR_TABLE = 3;
const PF_ADDR_RTLABEL = 4;
const IFNAMSIZ = 16;
const PF_TABLE_NAME_SIZE = 32;
const RTLABEL_LEN = 32;
const PF_OPTIMIZER_TABLE_PFX = '__automatic_';
/** pfvar.h: no `os` criterion, `os unknown`, a name pf.os does not know. */
const PF_OSFP_ANY = 0;
const PF_OSFP_UNKNOWN = 0xffffffff;
const PF_OSFP_NOMATCH = 0xfffffffe;

const scratch = new Uint8Array(4);

function u8(h: Hash, v: number): void {
  scratch[0] = v & 0xff;
  h.update(scratch.subarray(0, 1));
}

function be16(h: Hash, v: number): void {
  scratch[0] = (v >>> 8) & 0xff;
  scratch[1] = v & 0xff;
  h.update(scratch.subarray(0, 2));
}

function be32(h: Hash, v: number): void {
  scratch[0] = (v >>> 24) & 0xff;
  scratch[1] = (v >>> 16) & 0xff;
  scratch[2] = (v >>> 8) & 0xff;
  scratch[3] = v & 0xff;
  h.update(scratch);
}

/** PF_MD5_UPD_STR: the string's bytes, no NUL. */
function str(h: Hash, s: string): void {
  if (s.length > 0) h.update(Buffer.from(s, 'latin1'));
}

/** PF_MD5_UPD of a char[size] buffer: the name, then zeros up to size. */
function namebuf(h: Hash, s: string, size: number): void {
  const b = new Uint8Array(size);
  b.set(Buffer.from(s.slice(0, size - 1), 'latin1'));
  h.update(b);
}

/** pf_hash_rule_addr() */
function hashRuleAddr(h: Hash, ra: PfRuleAddr): void {
  const a = ra.addr;
  u8(h, a.type);
  switch (a.type) {
    case PF_ADDR_DYNIFTL:
      namebuf(h, a.ifname, IFNAMSIZ);
      u8(h, a.iflags);
      break;
    case PF_ADDR_TABLE:
      if (!a.tblname.startsWith(PF_OPTIMIZER_TABLE_PFX)) namebuf(h, a.tblname, PF_TABLE_NAME_SIZE);
      break;
    case PF_ADDR_ADDRMASK:
      h.update(a.addr);
      h.update(a.mask);
      break;
    case PF_ADDR_RTLABEL:
      namebuf(h, a.rtlabelname, RTLABEL_LEN);
      break;
  }
  be16(h, ra.port[0]);
  be16(h, ra.port[1]);
  u8(h, ra.neg ? 1 : 0);
  u8(h, ra.portOp);
}

function osfp(name: string | null): number {
  if (name === null) return PF_OSFP_ANY;
  return name === 'unknown' ? PF_OSFP_UNKNOWN : PF_OSFP_NOMATCH;
}

/** pf_hash_rule(): r is pfctl's rule, matchTag the kernel's id of its `tagged` name. */
function hashRule(h: Hash, r: PfRule, matchTag: number): void {
  hashRuleAddr(h, r.src);
  hashRuleAddr(h, r.dst);
  str(h, r.label);
  str(h, r.ifname);
  str(h, r.rcvIfname);
  str(h, r.matchTagname);
  be16(h, matchTag);
  be32(h, osfp(r.osFingerprint));
  be32(h, r.prob);
  be32(h, r.uid.id[0]);
  be32(h, r.uid.id[1]);
  u8(h, r.uid.op);
  be32(h, r.gid.id[0]);
  be32(h, r.gid.id[1]);
  u8(h, r.gid.op);
  be32(h, r.ruleFlag);
  u8(h, r.action);
  u8(h, r.direction);
  u8(h, r.af);
  u8(h, r.quick ? 1 : 0);
  u8(h, r.ifnot ? 1 : 0);
  u8(h, r.rcvifnot ? 1 : 0);
  u8(h, r.matchTagNot ? 1 : 0);
  u8(h, r.keepState);
  u8(h, r.proto);
  u8(h, r.type);
  u8(h, r.code);
  u8(h, r.flags);
  u8(h, r.flagset);
  u8(h, r.allowOpts ? 1 : 0);
  u8(h, r.rt);
  u8(h, r.tos);
}

/** The checksum of the main ruleset's rules, in order. */
export function pf_calc_chksum(rules: readonly KRule[]): Uint8Array {
  const h = createHash('md5');
  for (const kr of rules) hashRule(h, kr.src_rule as PfRule, kr.matchTag);
  return new Uint8Array(h.digest());
}
