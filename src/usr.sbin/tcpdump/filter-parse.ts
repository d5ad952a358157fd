/**
 * The parser of pcap-filter expressions: a recursive-descent reading of
 * libpcap's grammar.y that calls the generator as yacc's reductions would,
 * in the same order (so "vlan" shifts exactly the primitives after it).
 *
 * Things worth knowing about that grammar, kept here on purpose:
 * - "and" and "or" have the same precedence and associate to the left:
 *   "a or b and c" is "(a or b) and c".  "not" binds tighter than both.
 * - A bare identifier after "and"/"or" inherits the qualifiers of the term
 *   before it: "host a or b" is "host a or host b", "port 22 or 80" is
 *   "port 22 or port 80", and "tcp and 80" is a syntax error, since "tcp"
 *   carries no address qualifier.
 * - A parenthesised expression passes on the qualifiers that were in force
 *   before its "(": "(host a) or b" is a syntax error.
 */

import type { Token, TokenType } from './filter-lex.js';
import { bpfError } from './filter-lex.js';
import type { AluOp, ArthExpr, Block, Gen, Qual } from './filter-gen.js';
import {
  QERR,
  Q_ADDR1,
  Q_ADDR2,
  Q_ADDR3,
  Q_ADDR4,
  Q_AH,
  Q_AND,
  Q_ARP,
  Q_ATALK,
  Q_DECNET,
  Q_DEFAULT,
  Q_DST,
  Q_ESP,
  Q_GATEWAY,
  Q_HOST,
  Q_ICMP,
  Q_ICMPV6,
  Q_IGMP,
  Q_IGRP,
  Q_IP,
  Q_IPV6,
  Q_LAT,
  Q_LINK,
  Q_MOPDL,
  Q_MOPRC,
  Q_NET,
  Q_OR,
  Q_PIM,
  Q_PORT,
  Q_PORTRANGE,
  Q_PROTO,
  Q_PROTOCHAIN,
  Q_RARP,
  Q_SCA,
  Q_SRC,
  Q_STP,
  Q_TCP,
  Q_UDP,
  etherAton,
  gen_and,
  gen_not,
  gen_or,
  pfAction,
  pfReason,
} from './filter-gen.js';

const PNAME: Partial<Record<TokenType, number>> = {
  link: Q_LINK,
  ip: Q_IP,
  arp: Q_ARP,
  rarp: Q_RARP,
  tcp: Q_TCP,
  udp: Q_UDP,
  icmp: Q_ICMP,
  igmp: Q_IGMP,
  igrp: Q_IGRP,
  pim: Q_PIM,
  atalk: Q_ATALK,
  decnet: Q_DECNET,
  lat: Q_LAT,
  sca: Q_SCA,
  mopdl: Q_MOPDL,
  moprc: Q_MOPRC,
  ip6: Q_IPV6,
  icmp6: Q_ICMPV6,
  ah: Q_AH,
  esp: Q_ESP,
  stp: Q_STP,
};

const AQUAL: Partial<Record<TokenType, number>> = {
  host: Q_HOST,
  net: Q_NET,
  port: Q_PORT,
  portrange: Q_PORTRANGE,
};

/** Tokens that can follow an arithmetic operand (so a number or "(...)" before them is arithmetic). */
const ARITH_FOLLOW = new Set<TokenType>([
  '>', '>=', '=', '<=', '<', '!=', '+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>',
]);

/** Binary operators by precedence level, lowest first (libpcap: | ^ & shifts +- * / %). */
const BINARY: readonly (readonly [TokenType, AluOp][])[] = [
  [['|', 'or']],
  [['^', 'xor']],
  [['&', 'and']],
  [['<<', 'lsh'], ['>>', 'rsh']],
  [['+', 'add'], ['-', 'sub']],
  [['*', 'mul'], ['/', 'div'], ['%', 'mod']],
];

interface Blk {
  b: Block;
  q: Qual;
}

function syntaxError(): never {
  // byacc's yyerror() text, as OpenBSD's tcpdump prints it
  return bpfError('syntax error');
}

export class Parser {
  private pos = 0;

  constructor(
    private readonly toks: Token[],
    private readonly gen: Gen,
  ) {}

  /** prog: null expr | null.  Null means "accept everything". */
  parseProg(): Block | null {
    if (this.peek() === 'END') return null;
    const e = this.parseExpr(QERR);
    if (this.peek() !== 'END') syntaxError();
    return e.b;
  }

  private peek(k = 0): TokenType {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)]!.type;
  }

  private next(): Token {
    const t = this.toks[this.pos]!;
    if (t.type !== 'END') this.pos++;
    return t;
  }

  private expect(type: TokenType): Token {
    if (this.peek() !== type) syntaxError();
    return this.next();
  }

  /** Index just past the ")" matching the "(" at i, or -1. */
  private closeOf(i: number): number {
    let depth = 0;
    for (let j = i; j < this.toks.length; j++) {
      const t = this.toks[j]!.type;
      if (t === '(') depth++;
      else if (t === ')' && --depth === 0) return j + 1;
      else if (t === 'END') return -1;
    }
    return -1;
  }

  /** Index just past a pnum (NUM or "(" pnum ")") starting at i, or -1. */
  private pnumEnd(i: number): number {
    const t = this.toks[i]!.type;
    if (t === 'NUM') return i + 1;
    if (t === '(') {
      const e = this.pnumEnd(i + 1);
      return e >= 0 && this.toks[e]!.type === ')' ? e + 1 : -1;
    }
    return -1;
  }

  /**
   * After "and"/"or" (or "not"), does an identifier (grammar.y's id, which
   * inherits qualifiers) start at i, or a term?  yacc decides this from the
   * tokens; so do we.
   */
  private startsId(i: number): boolean {
    const t = this.toks[i]!.type;
    switch (t) {
      case '!':
        return this.startsId(i + 1);
      case 'ID':
      case 'HID':
      case 'HID6':
      case 'EID':
        return true;
      case 'NUM':
        return !ARITH_FOLLOW.has(this.toks[i + 1]!.type);
      case '(': {
        const close = this.closeOf(i);
        if (close >= 0 && ARITH_FOLLOW.has(this.toks[close]!.type)) return false;
        return this.startsId(i + 1);
      }
      default:
        return false;
    }
  }

  // expr: term | expr and term | expr and id | expr or term | expr or id
  private parseExpr(inh: Qual): Blk {
    let left = this.parseTerm(inh);
    for (;;) {
      const op = this.peek();
      if (op !== 'and' && op !== 'or') return left;
      this.next();
      const right = this.startsId(this.pos) ? this.parseId(left.q) : this.parseTerm(left.q);
      left = { b: op === 'and' ? gen_and(left.b, right.b) : gen_or(left.b, right.b), q: right.q };
    }
  }

  // term: rterm | not term
  private parseTerm(inh: Qual): Blk {
    if (this.peek() === '!') {
      this.next();
      const t = this.parseTerm(inh);
      return { b: gen_not(t.b), q: t.q };
    }
    return this.parseRterm(inh);
  }

  private parseRterm(inh: Qual): Blk {
    const gen = this.gen;
    const t = this.peek();
    if (t === '(') {
      const close = this.closeOf(this.pos);
      if (close >= 0 && ARITH_FOLLOW.has(this.toks[close]!.type)) return this.parseRelation();
      // paren expr ')': keeps the qualifiers from before the '('
      this.next();
      const e = this.parseExpr(inh);
      this.expect(')');
      return { b: e.b, q: inh };
    }
    if (t === 'NUM' || t === '-' || t === 'len' || t === 'rnd') return this.parseRelation();
    const pname = PNAME[t];
    if (pname !== undefined) {
      const n = this.peek(1);
      if (n === '[') return this.parseRelation();
      if (n === 'broadcast' || n === 'multicast' || n === 'type' || n === 'subtype' || n === 'dir') {
        this.next();
        return { b: this.parseOther(pname), q: QERR };
      }
      if (this.startsHeadAfterPqual(1)) return this.parseHeadId();
      this.next();
      return { b: gen.gen_proto_abbrev(pname), q: QERR };
    }
    if (this.startsHeadAfterPqual(0)) return this.parseHeadId();
    return { b: this.parseOther(Q_DEFAULT), q: QERR };
  }

  private startsHeadAfterPqual(k: number): boolean {
    const t = this.peek(k);
    return (
      t === 'src' || t === 'dst' || t === 'addr1' || t === 'addr2' || t === 'addr3' || t === 'addr4' ||
      AQUAL[t] !== undefined || t === 'proto' || t === 'protochain' || t === 'gateway'
    );
  }

  // head id, where head: pqual dqual aqual | pqual dqual | pqual aqual | pqual PROTO | pqual PROTOCHAIN | pqual GATEWAY
  private parseHeadId(): Blk {
    const q: Qual = { proto: Q_DEFAULT, dir: Q_DEFAULT, addr: Q_DEFAULT };
    const p = PNAME[this.peek()];
    if (p !== undefined) {
      this.next();
      q.proto = p;
    }
    const t = this.peek();
    if (t === 'src' || t === 'dst') {
      this.next();
      const other = t === 'src' ? 'dst' : 'src';
      if (this.peek() === 'or' && this.peek(1) === other) {
        this.pos += 2;
        q.dir = Q_OR;
      } else if (this.peek() === 'and' && this.peek(1) === other) {
        this.pos += 2;
        q.dir = Q_AND;
      } else if (this.peek() === 'or' || this.peek() === 'and') {
        syntaxError();
      } else {
        q.dir = t === 'src' ? Q_SRC : Q_DST;
      }
      const a = AQUAL[this.peek()];
      if (a !== undefined) {
        this.next();
        q.addr = a;
      }
    } else if (t === 'addr1' || t === 'addr2' || t === 'addr3' || t === 'addr4') {
      this.next();
      q.dir = { addr1: Q_ADDR1, addr2: Q_ADDR2, addr3: Q_ADDR3, addr4: Q_ADDR4 }[t];
      const a = AQUAL[this.peek()];
      if (a !== undefined) {
        this.next();
        q.addr = a;
      }
    } else if (AQUAL[t] !== undefined) {
      this.next();
      q.addr = AQUAL[t]!;
    } else if (t === 'proto') {
      this.next();
      q.addr = Q_PROTO;
    } else if (t === 'protochain') {
      this.next();
      q.addr = Q_PROTOCHAIN;
    } else if (t === 'gateway') {
      this.next();
      q.addr = Q_GATEWAY;
    } else {
      syntaxError();
    }
    return this.parseId(q);
  }

  // id: nid | pnum | paren pid ')'
  private parseId(inh: Qual): Blk {
    const t = this.peek();
    if (t === '!') {
      this.next();
      const id = this.parseId(inh);
      return { b: gen_not(id.b), q: id.q };
    }
    if (t === 'NUM' || (t === '(' && this.pnumEnd(this.pos) >= 0)) {
      const v = this.parsePnum();
      return { b: this.gen.gen_ncode(null, v, inh), q: inh };
    }
    if (t === '(') {
      this.next();
      const pid = this.parsePid(inh);
      this.expect(')');
      return pid;
    }
    return this.parseNid(inh);
  }

  // pid: nid | qid and id | qid or id; qid: pnum | pid
  private parsePid(inh: Qual): Blk {
    let left: Blk;
    if (this.peek() === 'NUM' || (this.peek() === '(' && this.pnumEnd(this.pos) >= 0)) {
      const v = this.parsePnum();
      left = { b: this.gen.gen_ncode(null, v, inh), q: inh };
      if (this.peek() !== 'and' && this.peek() !== 'or') syntaxError();
    } else {
      left = this.parseNid(inh);
    }
    for (;;) {
      const op = this.peek();
      if (op !== 'and' && op !== 'or') return left;
      this.next();
      const right = this.parseId(left.q);
      left = { b: op === 'and' ? gen_and(left.b, right.b) : gen_or(left.b, right.b), q: right.q };
    }
  }

  private parseNid(inh: Qual): Blk {
    const gen = this.gen;
    const tok = this.peek();
    switch (tok) {
      case '!': {
        this.next();
        const id = this.parseId(inh);
        return { b: gen_not(id.b), q: id.q };
      }
      case 'ID':
        return { b: gen.gen_scode(this.next().text, inh), q: inh };
      case 'HID': {
        const s = this.next().text;
        if (this.peek() === '/') {
          this.next();
          const len = this.expect('NUM').num;
          return { b: gen.gen_mcode(s, null, len, inh), q: inh };
        }
        if (this.peek() === 'mask') {
          this.next();
          const m = this.expect('HID').text;
          return { b: gen.gen_mcode(s, m, 0, inh), q: inh };
        }
        return { b: gen.gen_ncode(s, 0, inh), q: inh };
      }
      case 'HID6': {
        const s = this.next().text;
        if (this.peek() === '/') {
          this.next();
          const len = this.expect('NUM').num;
          return { b: gen.gen_mcode6(s, len, inh), q: inh };
        }
        return { b: gen.gen_mcode6(s, 128, inh), q: inh };
      }
      case 'EID':
        return { b: gen.gen_ecode(etherAton(this.next().text), inh), q: inh };
      default:
        return syntaxError();
    }
  }

  // pnum: NUM | paren pnum ')'
  private parsePnum(): number {
    if (this.peek() === '(') {
      this.next();
      const v = this.parsePnum();
      this.expect(')');
      return v;
    }
    return this.expect('NUM').num;
  }

  // other: pqual broadcast/multicast | less | greater | byte | inbound | outbound | vlan | mpls | pfvar | p80211 | sample
  private parseOther(pqual: number): Block {
    const gen = this.gen;
    const t = this.next();
    switch (t.type) {
      case 'broadcast':
        return gen.gen_broadcast(pqual);
      case 'multicast':
        return gen.gen_multicast(pqual);
      case 'type':
      case 'subtype':
      case 'dir':
        return this.parseP80211(t.type);
    }
    if (pqual !== Q_DEFAULT) syntaxError();
    switch (t.type) {
      case 'less':
        return gen.gen_less(this.expect('NUM').num);
      case 'greater':
        return gen.gen_greater(this.expect('NUM').num);
      case 'byte': {
        const idx = this.expect('NUM').num;
        const op = this.next().type;
        if (op !== '&' && op !== '|' && op !== '<' && op !== '>' && op !== '=') syntaxError();
        return gen.gen_byteop(op, idx, this.expect('NUM').num);
      }
      case 'inbound':
        return gen.gen_inbound(0);
      case 'outbound':
        return gen.gen_inbound(1);
      case 'vlan':
        return gen.gen_vlan(this.optionalPnum());
      case 'mpls':
        return gen.gen_mpls(this.optionalPnum());
      case 'sample':
        return gen.gen_sample(this.expect('NUM').num | 0);
      case 'ifname':
        return gen.gen_pf_ifname(this.expect('ID').text);
      case 'rset':
        return gen.gen_pf_ruleset(this.expect('ID').text);
      case 'rnr':
        return gen.gen_pf_rnr(this.expect('NUM').num);
      case 'srnr':
        return gen.gen_pf_srnr(this.expect('NUM').num);
      case 'reason': {
        const r = this.next();
        if (r.type === 'NUM') return gen.gen_pf_reason(r.num);
        if (r.type === 'ID') return gen.gen_pf_reason(pfReason(r.text));
        return syntaxError();
      }
      case 'action':
        return gen.gen_pf_action(pfAction(this.expect('ID').text));
      default:
        return syntaxError();
    }
  }

  /** vlan/mpls take an optional number; -1 when absent (as a C int, so a huge value is negative too). */
  private optionalPnum(): number {
    return this.peek() === 'NUM' || this.peek() === '(' ? this.parsePnum() | 0 : -1;
  }

  /** 802.11 type/subtype/dir: names are checked, but no supported link type carries 802.11 headers. */
  private parseP80211(kind: 'type' | 'subtype' | 'dir'): Block {
    const value = (what: 'type' | 'subtype' | 'dir'): void => {
      const v = this.next();
      if (v.type === 'NUM') return;
      if (v.type !== 'ID') syntaxError();
      const name = v.text.toLowerCase();
      const known: Record<typeof what, string[]> = {
        type: ['data', 'mgt', 'management', 'ctl', 'control'],
        subtype: [
          'assocreq', 'assocresp', 'reassocreq', 'reassocresp', 'probereq', 'proberesp', 'beacon', 'atim',
          'disassoc', 'disassociation', 'auth', 'authentication', 'deauth', 'deauthentication', 'data',
        ],
        dir: ['nods', 'tods', 'fromds', 'dstods'],
      };
      if (!known[what].includes(name)) {
        bpfError(what === 'dir' ? 'unknown 802.11 direction' : `unknown 802.11 ${what}`);
      }
    };
    value(kind);
    if (kind === 'type' && this.peek() === 'subtype') {
      this.next();
      value('subtype');
    }
    const lt = `0x${this.gen.linktype.toString(16)}`;
    return bpfError(kind === 'dir' ? `frame direction not supported on linktype ${lt}` : `type not supported on linktype ${lt}`);
  }

  // arth relop arth | arth irelop arth
  private parseRelation(): Blk {
    const a0 = this.parseArth(0);
    const op = this.next().type;
    const a1 = this.parseArth(0);
    const g = this.gen;
    switch (op) {
      case '>':
        return { b: g.gen_relation('gt', a0, a1, false), q: QERR };
      case '>=':
        return { b: g.gen_relation('ge', a0, a1, false), q: QERR };
      case '=':
        return { b: g.gen_relation('eq', a0, a1, false), q: QERR };
      case '<=':
        return { b: g.gen_relation('gt', a0, a1, true), q: QERR };
      case '<':
        return { b: g.gen_relation('ge', a0, a1, true), q: QERR };
      case '!=':
        return { b: g.gen_relation('eq', a0, a1, true), q: QERR };
      default:
        return syntaxError();
    }
  }

  private parseArth(level: number): ArthExpr {
    if (level >= BINARY.length) return this.parseUnary();
    let left = this.parseArth(level + 1);
    for (;;) {
      const op = BINARY[level]!.find(([tok]) => tok === this.peek());
      if (!op) return left;
      this.next();
      const right = this.parseArth(level + 1);
      left = this.gen.gen_arth(op[1], left, right);
    }
  }

  private parseUnary(): ArthExpr {
    const g = this.gen;
    const t = this.peek();
    switch (t) {
      case '-':
        this.next();
        return g.gen_neg(this.parseUnary());
      case 'NUM':
        return g.gen_loadi(this.next().num);
      case 'len':
        this.next();
        return g.gen_loadlen();
      case 'rnd':
        this.next();
        return g.gen_loadrnd();
      case '(': {
        this.next();
        const a = this.parseArth(0);
        this.expect(')');
        return a;
      }
    }
    const pname = PNAME[t];
    if (pname === undefined) return syntaxError();
    this.next();
    this.expect('[');
    const index = this.parseArth(0);
    let size = 1;
    if (this.peek() === ':') {
      this.next();
      size = this.expect('NUM').num;
    }
    this.expect(']');
    return g.gen_load(pname, index, size);
  }
}
