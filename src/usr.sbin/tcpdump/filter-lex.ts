/**
 * The tokenizer of pcap-filter expressions, after libpcap's scanner.l:
 * flex semantics (the longest match wins, the earlier rule breaks ties), so
 * "hosts" is a name while "host" is a keyword, "tcp-syn" is a number and
 * "1000-2000" is a single name.  Errors carry libpcap's wording.
 */

export class FilterError {
  readonly name = 'FilterError';
  constructor(readonly message: string) {}
  toString(): string {
    return this.message;
  }
}

/** Thrown inside the compiler only (libpcap's bpf_error longjmp); caught by compileFilter. */
export function bpfError(message: string): never {
  throw new FilterError(message);
}

export type TokenType =
  // qualifiers and primitives
  | 'dst' | 'src' | 'host' | 'net' | 'mask' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway'
  | 'less' | 'greater' | 'byte' | 'broadcast' | 'multicast' | 'and' | 'or' | 'len' | 'rnd' | 'sample'
  | 'inbound' | 'outbound' | 'vlan' | 'mpls'
  | 'ifname' | 'rset' | 'rnr' | 'srnr' | 'reason' | 'action'
  | 'type' | 'subtype' | 'dir' | 'addr1' | 'addr2' | 'addr3' | 'addr4'
  // protocol names (grammar.y's pname)
  | 'link' | 'ip' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'icmp' | 'igmp' | 'igrp' | 'pim' | 'ip6' | 'icmp6'
  | 'ah' | 'esp' | 'atalk' | 'decnet' | 'lat' | 'sca' | 'moprc' | 'mopdl' | 'stp'
  // punctuation ('!' is also "not")
  | '+' | '-' | '*' | '/' | '%' | '^' | ':' | '[' | ']' | '!' | '<' | '>' | '(' | ')' | '&' | '|' | '='
  | '>=' | '<=' | '!=' | '<<' | '>>'
  // values
  | 'NUM' | 'HID' | 'HID6' | 'EID' | 'ID'
  | 'END';

export interface Token {
  type: TokenType;
  /** Source text (the name for ID, without a leading backslash). */
  text: string;
  /** Value of NUM tokens, as an unsigned 32-bit number. */
  num: number;
  pos: number;
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['dst', 'dst'], ['src', 'src'],
  ['link', 'link'], ['ether', 'link'], ['ppp', 'link'], ['slip', 'link'], ['fddi', 'link'], ['wlan', 'link'],
  ['arp', 'arp'], ['rarp', 'rarp'], ['ip', 'ip'], ['tcp', 'tcp'], ['udp', 'udp'], ['icmp', 'icmp'],
  ['igmp', 'igmp'], ['igrp', 'igrp'], ['pim', 'pim'], ['ip6', 'ip6'], ['icmp6', 'icmp6'], ['ah', 'ah'],
  ['esp', 'esp'], ['atalk', 'atalk'], ['decnet', 'decnet'], ['lat', 'lat'], ['sca', 'sca'],
  ['moprc', 'moprc'], ['mopdl', 'mopdl'], ['stp', 'stp'],
  ['host', 'host'], ['net', 'net'], ['mask', 'mask'], ['port', 'port'], ['portrange', 'portrange'],
  ['proto', 'proto'], ['protochain', 'protochain'], ['gateway', 'gateway'],
  ['less', 'less'], ['greater', 'greater'], ['byte', 'byte'], ['broadcast', 'broadcast'], ['multicast', 'multicast'],
  ['and', 'and'], ['&&', 'and'], ['or', 'or'], ['||', 'or'], ['not', '!'],
  ['len', 'len'], ['length', 'len'], ['rnd', 'rnd'], ['random', 'rnd'], ['sample', 'sample'],
  ['inbound', 'inbound'], ['outbound', 'outbound'], ['vlan', 'vlan'], ['mpls', 'mpls'],
  ['on', 'ifname'], ['ifname', 'ifname'], ['rset', 'rset'], ['ruleset', 'rset'], ['rnr', 'rnr'], ['rulenum', 'rnr'],
  ['srnr', 'srnr'], ['subrulenum', 'srnr'], ['reason', 'reason'], ['action', 'action'],
  ['type', 'type'], ['subtype', 'subtype'], ['direction', 'dir'], ['dir', 'dir'],
  ['address1', 'addr1'], ['addr1', 'addr1'], ['address2', 'addr2'], ['addr2', 'addr2'],
  ['address3', 'addr3'], ['addr3', 'addr3'], ['address4', 'addr4'], ['addr4', 'addr4'],
]);

/** Named constants the scanner turns into numbers (OpenBSD's, plus libpcap's ICMPv6 and ECN names). */
const NAMED_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['icmptype', 0], ['icmpcode', 1],
  ['icmp-echoreply', 0], ['icmp-unreach', 3], ['icmp-sourcequench', 4], ['icmp-redirect', 5], ['icmp-echo', 8],
  ['icmp-routeradvert', 9], ['icmp-routersolicit', 10], ['icmp-timxceed', 11], ['icmp-paramprob', 12],
  ['icmp-tstamp', 13], ['icmp-tstampreply', 14], ['icmp-ireq', 15], ['icmp-ireqreply', 16],
  ['icmp-maskreq', 17], ['icmp-maskreply', 18],
  ['icmp6type', 0], ['icmp6code', 1],
  ['icmp6-destinationunreach', 1], ['icmp6-packettoobig', 2], ['icmp6-timeexceeded', 3],
  ['icmp6-parameterproblem', 4], ['icmp6-echo', 128], ['icmp6-echoreply', 129],
  ['icmp6-multicastlistenerquery', 130], ['icmp6-multicastlistenerreportv1', 131],
  ['icmp6-multicastlistenerdone', 132], ['icmp6-routersolicit', 133], ['icmp6-routeradvert', 134],
  ['icmp6-neighborsolicit', 135], ['icmp6-neighboradvert', 136], ['icmp6-redirect', 137],
  ['icmp6-multicastlistenerreportv2', 143],
  ['tcpflags', 13], ['tcp-fin', 0x01], ['tcp-syn', 0x02], ['tcp-rst', 0x04], ['tcp-push', 0x08],
  ['tcp-ack', 0x10], ['tcp-urg', 0x20], ['tcp-ece', 0x40], ['tcp-cwr', 0x80],
]);

const SINGLE = '+-*/%^:[]!<>()&|=';
const DOUBLE = ['>=', '<=', '!=', '==', '<<', '>>'];

const RE_WS = /[ \n\t]/y;
const RE_NUM = /0[Xx][0-9A-Fa-f]+|[0-9]+/y;
const N = '(?:0[Xx][0-9A-Fa-f]+|[0-9]+)';
const RE_HID = [
  new RegExp(`${N}\\.${N}\\.${N}\\.${N}`, 'y'),
  new RegExp(`${N}\\.${N}\\.${N}`, 'y'),
  new RegExp(`${N}\\.${N}`, 'y'),
];
const RE_EID = /[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}/y;
const RE_V6RUN = /[0-9A-Fa-fXx:.]+/y;
const RE_BOGUS_ETHER = /[0-9A-Fa-f]{1,2}:+(?:[0-9A-Fa-f]{1,2}:+)+/y;
const RE_ID = /[A-Za-z0-9][-_.A-Za-z0-9]*[.A-Za-z0-9]/y;
const RE_LETTER = /[A-Za-z]/y;
const RE_ESCAPED = /\\[^ !()\n\t]+/y;
const RE_ILLEGAL = /[^ [\]\t\n\-_.A-Za-z0-9!<>()&|=]+/y;

function matchAt(re: RegExp, s: string, i: number): number {
  re.lastIndex = i;
  const m = re.exec(s);
  return m ? m[0].length : 0;
}

/** scanner.l's stoi(): a leading 0x means hex, a leading 0 octal (digits are not checked). */
export function stoi(s: string): number {
  let base = 10;
  let i = 0;
  if (s[0] === '0') {
    if (s[1] === 'x' || s[1] === 'X') {
      base = 16;
      i = 2;
    } else {
      base = 8;
      i = 1;
    }
  }
  let n = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = c <= 0x39 ? c - 0x30 : c >= 0x61 ? c - 0x61 + 10 : c - 0x41 + 10;
    n = (Math.imul(n, base) + d) >>> 0;
  }
  return n;
}

const RE_W = /^[0-9A-Fa-f]{1,4}$/;
const RE_N = new RegExp(`^${N}$`);

/** Is s one of scanner.l's V6 forms (eight words, or "::" with at most seven, or a trailing dotted quad)? */
function isV6Form(s: string): boolean {
  let body = s;
  let quadWords = 0;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const q = tail.split('.');
    if (q.length !== 4 || !q.every((p) => RE_N.test(p))) return false;
    quadWords = 2;
    body = s.slice(0, lastColon + 1);
    // "x:...:" before the quad: keep a trailing "::" intact, drop a lone trailing ':'
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const dbl = body.indexOf('::');
  if (dbl >= 0) {
    if (body.indexOf('::', dbl + 1) >= 0) return false;
    const head = body.slice(0, dbl);
    const rest = body.slice(dbl + 2);
    const hw = head === '' ? [] : head.split(':');
    const rw = rest === '' ? [] : rest.split(':');
    if (![...hw, ...rw].every((w) => RE_W.test(w))) return false;
    const total = hw.length + rw.length + quadWords;
    return quadWords ? total <= 7 && hw.length + rw.length <= 5 : total <= 7;
  }
  if (body === '') return false;
  const words = body.split(':');
  if (!words.every((w) => RE_W.test(w))) return false;
  return words.length + quadWords === 8;
}

/** What getaddrinfo(AI_NUMERICHOST) additionally rejects: dotted-quad parts above 255 or not decimal. */
function v6Numeric(s: string): boolean {
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (!tail.includes('.')) return true;
  return tail.split('.').every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** vis(3) of text for error messages: printable ASCII as is, others as octal escapes. */
function vis(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f && ch !== '\\') out += ch;
    else if (ch === '\\') out += '\\\\';
    else {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\' + b.toString(8).padStart(3, '0');
    }
  }
  return out;
}

/** Split an expression into tokens; throws FilterError (caught by compileFilter). */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (type: TokenType, len: number, num = 0, text = src.slice(i, i + len)): void => {
    out.push({ type, text, num, pos: i });
    i += len;
  };
  while (i < src.length) {
    if (matchAt(RE_WS, src, i)) {
      i++;
      continue;
    }
    // Candidates in scanner.l's rule order; the longest wins, earlier on ties.
    let bestLen = 0;
    let best = -1;
    const consider = (rule: number, len: number): void => {
      if (len > bestLen) {
        bestLen = len;
        best = rule;
      }
    };
    let kw: TokenType | undefined;
    for (const [word, type] of KEYWORDS) {
      if (word.length > bestLen && src.startsWith(word, i)) {
        kw = type;
        consider(0, word.length);
      }
    }
    if (SINGLE.includes(src[i]!)) consider(1, 1);
    for (const d of DOUBLE) if (src.startsWith(d, i)) consider(2, 2);
    consider(3, matchAt(RE_NUM, src, i));
    for (const re of RE_HID) {
      const l = matchAt(re, src, i);
      if (l) {
        consider(4, l);
        break;
      }
    }
    consider(5, matchAt(RE_EID, src, i));
    const run = matchAt(RE_V6RUN, src, i);
    let v6len = 0;
    for (let l = run; l >= 2; l--) {
      if (isV6Form(src.slice(i, i + l))) {
        v6len = l;
        break;
      }
    }
    consider(6, v6len);
    consider(7, matchAt(RE_BOGUS_ETHER, src, i));
    let named = -1;
    for (const [word, v] of NAMED_NUMBERS) {
      if (word.length > bestLen && src.startsWith(word, i)) {
        named = v;
        consider(8, word.length);
      }
    }
    consider(9, matchAt(RE_ID, src, i));
    consider(10, matchAt(RE_LETTER, src, i));
    consider(11, matchAt(RE_ESCAPED, src, i));
    consider(12, matchAt(RE_ILLEGAL, src, i));

    const text = src.slice(i, i + bestLen);
    switch (best) {
      case 0:
        push(kw!, bestLen);
        break;
      case 1:
        push(text as TokenType, 1);
        break;
      case 2:
        push(text === '==' ? '=' : (text as TokenType), 2);
        break;
      case 3:
        push('NUM', bestLen, stoi(text));
        break;
      case 4:
        push('HID', bestLen);
        break;
      case 5:
        push('EID', bestLen);
        break;
      case 6:
        if (!v6Numeric(text)) bpfError(`bogus IPv6 address ${text}`);
        push('HID6', bestLen);
        break;
      case 7:
        bpfError(`bogus ethernet address ${text}`);
        break;
      case 8:
        push('NUM', bestLen, named);
        break;
      case 9:
      case 10:
        push('ID', bestLen);
        break;
      case 11:
        push('ID', bestLen, 0, text.slice(1));
        break;
      case 12:
        bpfError(`illegal token: ${vis(text)}`);
        break;
      default:
        bpfError(`illegal char '${vis(src[i]!)}'`);
    }
  }
  out.push({ type: 'END', text: '', num: 0, pos: i });
  return out;
}
