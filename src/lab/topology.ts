/**
 * Lab topology files: YAML in, a checked LabSpec out.  Every error names
 * the file, the line and the key it is about, as a compiler does:
 *
 *   lab.yaml:12: cable r1:em3: no such interface
 *
 * Three passes: YAML syntax (the yaml package, with line numbers), shapes
 * (the JSON Schema of schema.ts, through ajv) and meaning (interfaces that
 * exist, addresses that parse, cables plugged in once).
 */
import { parseDocument, LineCounter, isMap, isSeq, isScalar, type Document } from 'yaml';
import { Ajv, type ErrorObject } from 'ajv';
import { LAB_SCHEMA } from './schema.js';
import { parseIp4, parseIp6, parseMac } from '../wire/addr.js';
import { parseHostPort, type AttachSpec } from '../sys/dev/attach.js';

export interface NicSpec {
  name: string;
  /** em, ix: a NIC on a cable; tap, vxlan: attached to the host (attach is set). */
  driver: 'em' | 'ix' | 'tap' | 'vxlan';
  /** Absent on an attachment that lets the kernel pick one. */
  lladdr?: string;
  inet: Array<{ addr: number; plen: number; text: string }>;
  inet6: Array<{ addr: Uint8Array; plen: number; text: string }>;
  description?: string;
  queues?: number;
  up: boolean;
  pci?: [number, number, number];
  txslots?: number;
  rxslots?: number;
  /** tap and vxlan: what dev/attach.ts attaches (name, lladdr, mtu and up included). */
  attach?: AttachSpec;
  /** Line of the interface's key. */
  line: number;
}

/** An IPv4 route (dest, gateway) or, when gateway6 is set, an IPv6 one (dest6, gateway6). */
export interface RouteSpec {
  dest: number;
  plen: number;
  gateway: number;
  dest6?: Uint8Array;
  gateway6?: Uint8Array;
  text: string;
}

export interface MachineSpec {
  name: string;
  hostname: string;
  kind: 'host' | 'router';
  description?: string;
  nics: NicSpec[];
  routes: RouteSpec[];
  sysctl: Array<[string, number, number]>; // name, value, line
  /**
   * ns the softnet thread runs after work arrives (`softnet: { latency }`):
   * a busy CPU, so that input queues fill and drop (kstat rxq qdrops).
   * 0: at once, as a machine with CPU to spare.
   */
  softnetLatency: number;
  files: Map<string, string>;
  /** Line of each file's key (a block scalar's first line is the next one). */
  fileLines: Map<string, number>;
  line: number;
}

export interface CableSpec {
  a: { machine: string; nic: string };
  b: { machine: string; nic: string };
  rate: number;
  delay: number;
  loss: number;
  duplicate: number;
  reorder: number;
  name: string;
}

export interface LabSpec {
  file: string;
  name: string;
  description: string;
  seed: number;
  machines: MachineSpec[];
  cables: CableSpec[];
}

/** A topology error: file:line: message. */
export class TopologyError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

/** Errors of one file, reported together. */
export class TopologyErrors extends Error {
  constructor(readonly errors: TopologyError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

let ajvValidate: ReturnType<Ajv['compile']> | null = null;
function validator(): ReturnType<Ajv['compile']> {
  if (ajvValidate === null) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajvValidate = ajv.compile(LAB_SCHEMA);
  }
  return ajvValidate;
}

/** "1G", "100Mbit", "10M", "1e9", 1e9: bits per second. */
export function parseRate(v: number | string): number | null {
  if (typeof v === 'number') return v > 0 ? v : null;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]?)(bit|bps|b|bit\/s)?$/.exec(v.trim());
  if (!m) return null;
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
  const r = Number(m[1]) * mult[m[2]!.toLowerCase()]!;
  return r > 0 ? r : null;
}

/** "500ns", "2us", "1.5ms", "1s", 500: nanoseconds. */
export function parseDelay(v: number | string): number | null {
  if (typeof v === 'number') return v >= 0 ? Math.round(v) : null;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(ns|us|µs|ms|s)?$/.exec(v.trim());
  if (!m) return null;
  const mult: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };
  return Math.round(Number(m[1]) * mult[m[2] ?? 'ns']!);
}

type Path = ReadonlyArray<string | number>;

/** Human words for a key path: machines.router.nics.em0.lladdr -> "machine router: nic em0: lladdr". */
export function describePath(path: Path, root: unknown): string {
  const words: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    const next = path[i + 1];
    if (p === 'machines' && next !== undefined) {
      words.push(`machine ${next}`);
      i++;
    } else if (p === 'nics' && next !== undefined) {
      words.push(`nic ${next}`);
      i++;
    } else if (p === 'cables' && typeof next === 'number') {
      const ends = (root as { cables?: Array<{ ends?: unknown }> }).cables?.[next]?.ends;
      words.push(Array.isArray(ends) ? `cable ${ends.join(' ')}` : `cable ${next + 1}`);
      i++;
    } else if (p === 'routes' && typeof next === 'number') {
      words.push(`route ${next + 1}`);
      i++;
    } else if (typeof p === 'number') {
      words.push(`[${p}]`);
    } else words.push(p);
  }
  return words.join(': ');
}

/** Parse and check a topology file's text. Throws TopologyErrors. */
export function parseTopology(text: string, file = 'lab.yaml'): LabSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: TopologyError[] = [];
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    errors.push(new TopologyError(file, line, e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')));
  }
  if (errors.length > 0) throw new TopologyErrors(errors);
  const root = doc.toJS() as unknown;
  if (root === null || typeof root !== 'object') throw new TopologyErrors([new TopologyError(file, 1, 'a lab is a mapping with `machines` (and `cables`)')]);

  const lineOf = (path: Path, key = false): number => lineAt(doc, lc, path, key);
  const validate = validator();
  if (!validate(root)) {
    for (const e of dedupe(validate.errors ?? [])) {
      const path = e.instancePath.split('/').slice(1).map((s) => unescapePointer(s)).map((s, i, a) => (isIndex(root, a.slice(0, i), s) ? Number(s) : s));
      let msg = e.message ?? 'invalid';
      let p: Path = path;
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        p = [...path, extra];
        msg = 'unknown key';
      } else if (e.keyword === 'propertyNames' || e.propertyName !== undefined) {
        const name = e.propertyName ?? (e.params as { propertyName: string }).propertyName;
        p = [...path, name];
        msg = path[path.length - 1] === 'nics' ? 'interface names are em0, em1, ..., ix0, ix1, ..., tap0, ... or vxlan0, ...' : 'bad name';
      } else if (e.keyword === 'pattern') {
        msg = patternWords((e.params as { pattern: string }).pattern);
      } else if (e.keyword === 'required') {
        msg = `missing key ${(e.params as { missingProperty: string }).missingProperty}`;
      } else if (e.keyword === 'enum') {
        msg = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
      }
      const where = describePath(p, root);
      errors.push(new TopologyError(file, lineOf(p, e.keyword === 'additionalProperties' || e.keyword === 'propertyNames' || e.propertyName !== undefined), where ? `${where}: ${msg}` : msg));
    }
    throw new TopologyErrors(sortErrors(errors));
  }
  const spec = build(root as RawLab, file, lineOf, errors);
  if (errors.length > 0) throw new TopologyErrors(sortErrors(errors));
  return spec;
}

function sortErrors(e: TopologyError[]): TopologyError[] {
  return e.sort((a, b) => a.line - b.line);
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function isIndex(root: unknown, path: string[], _s: string): boolean {
  let v: unknown = root;
  for (const p of path) v = (v as Record<string, unknown>)?.[p];
  return Array.isArray(v);
}

/** Keep the most useful error per location (oneOf reports every branch). */
function dedupe(errs: ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject>();
  for (const e of errs) {
    const key = e.instancePath + (e.keyword === 'additionalProperties' ? `/${(e.params as { additionalProperty: string }).additionalProperty}` : '') +
      (e.propertyName !== undefined ? `/${e.propertyName}` : e.keyword === 'propertyNames' ? `/${(e.params as { propertyName: string }).propertyName}` : '');
    const prev = byPath.get(key);
    if (prev === undefined || (prev.keyword === 'oneOf' || prev.keyword === 'type') && e.keyword === 'pattern') byPath.set(key, e);
  }
  // A oneOf (or its type branch) with a deeper error: the deeper one says it better.
  return [...byPath.values()].filter((e) => (e.keyword !== 'oneOf' && e.keyword !== 'type') || ![...byPath.keys()].some((k) => k !== e.instancePath && k.startsWith(e.instancePath + '/')));
}

function patternWords(p: string): string {
  if (p.includes('{2}(:')) return 'must be a MAC address such as 0c:c4:7a:78:f3:55';
  if (p.includes('/([0-9]') && p.startsWith('^(25')) return 'must be an IPv4 address with prefix length, such as 10.0.1.1/24';
  if (p.startsWith('^[0-9a-fA-F]{0,4}') && p.includes('/')) return 'must be an IPv6 address with prefix length, such as 2001:db8:1::1/64';
  if (p.startsWith('^(default')) return 'must be "default", a network such as 10.0.2.0/24 or 2001:db8:2::/64, or an address';
  if (p.startsWith('^((25')) return 'must be an IPv4 or IPv6 address such as 10.0.1.1 or 2001:db8:1::1';
  if (p.startsWith('^(25')) return 'must be an IPv4 address such as 10.0.1.1';
  if (p.includes(':(em|ix)')) return 'must be machine:interface, such as router:em0 (tap and vxlan interfaces have no cables)';
  if (p.startsWith('^([0-9.]+|')) return 'must be address:port, such as 127.0.0.1:4789';
  if (p.startsWith('^[a-zA-Z0-9_.%')) return 'must be a Linux interface name, such as pf0';
  if (p.startsWith('^[0-9]+')) return 'must be a number with a unit, such as 1G or 500ns';
  return `must match ${p}`;
}

/** The line of the node at path (or of its key), else of the nearest parent that exists. */
function lineAt(doc: Document, lc: LineCounter, path: Path, key: boolean): number {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (key && n === path.length && n > 0) {
      const parent = n === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(sub[n - 1]));
        const r = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (r) return lc.linePos(r[0]).line;
      }
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      if (isMap(node) || isSeq(node)) {
        // A block collection starts at its first entry; its key is the better line.
        if (n > 0) {
          const parent = n === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
          if (isMap(parent)) {
            const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(sub[n - 1]));
            if (pair && isScalar(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
          }
        }
      }
      return lc.linePos(node.range[0] as number).line;
    }
  }
  return 1;
}

interface RawNic {
  lladdr?: string;
  inet?: string | string[];
  inet6?: string | string[];
  description?: string;
  queues?: number;
  up?: boolean;
  pci?: [number, number, number];
  txslots?: number;
  rxslots?: number;
  mtu?: number;
  driver?: string;
  device?: string;
  vni?: number;
  remote?: string;
  local?: string;
}
interface RawMachine {
  kind?: 'host' | 'router';
  hostname?: string;
  description?: string;
  nics?: Record<string, RawNic>;
  routes?: Array<{ dest: string; gateway: string }>;
  sysctl?: Record<string, number>;
  softnet?: { latency?: number | string };
  files?: Record<string, string>;
}
interface RawCable {
  ends: [string, string];
  rate?: number | string;
  delay?: number | string;
  loss?: number;
  duplicate?: number;
  reorder?: number;
  name?: string;
}
interface RawLab {
  name?: string;
  description?: string;
  seed?: number;
  machines: Record<string, RawMachine>;
  cables?: RawCable[];
}

/** Whether a and b agree in their first plen bits. */
function prefixMatch6(a: Uint8Array, b: Uint8Array, plen: number): boolean {
  for (let i = 0; i < 16 && plen > 0; i++, plen -= 8) {
    const mask = plen >= 8 ? 0xff : (0xff << (8 - plen)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** An IPv6 route: "default" or a network, via a gateway on one of the machine's IPv6 networks. */
function route6(r: { dest: string; gateway: string }, name: string, at: Path, nics: NicSpec[], err: (p: Path, m: string) => void): RouteSpec | null {
  let dest6: Uint8Array = new Uint8Array(16);
  let plen = 0;
  if (r.dest !== 'default') {
    const [a, l] = r.dest.split('/');
    const d = a!.includes(':') ? parseIp6(a!) : null;
    if (d === null) {
      err([...at, 'dest'], `machine ${name}: route ${r.dest}: ${a!.includes(':') ? 'bad destination' : 'an IPv6 gateway needs an IPv6 destination'}`);
      return null;
    }
    dest6 = d;
    plen = l === undefined ? 128 : Number(l);
    const masked = dest6.map((x, i) => (i * 8 >= plen ? 0 : i * 8 + 8 <= plen ? x : x & ((0xff << (8 - (plen - i * 8))) & 0xff)));
    if (masked.some((x, i) => x !== dest6[i])) err([...at, 'dest'], `machine ${name}: route ${r.dest}: host bits set in the network`);
  }
  const gateway6 = parseIp6(r.gateway);
  if (gateway6 === null) {
    err([...at, 'gateway'], `machine ${name}: route ${r.dest}: bad gateway ${r.gateway}`);
    return null;
  }
  const linklocal = gateway6[0] === 0xfe && (gateway6[1]! & 0xc0) === 0x80;
  if (!linklocal && !nics.some((n) => n.inet6.some((x) => prefixMatch6(x.addr, gateway6, x.plen)))) {
    err([...at, 'gateway'], `machine ${name}: route ${r.dest}: gateway ${r.gateway} is on none of the machine's networks`);
  }
  return { dest: 0, plen, gateway: 0, dest6, gateway6, text: `${r.dest} ${r.gateway}` };
}

/** The driver an interface name says: em0, ix1, tap0, vxlan2. */
function nicDriver(ifname: string): NicSpec['driver'] {
  const d = /^[a-z]+/.exec(ifname)![0];
  return d === 'ix' || d === 'tap' || d === 'vxlan' ? d : 'em';
}

/**
 * A tap or vxlan interface's attachment; what the schema cannot check
 * (ports in range, keys of the other driver) is reported here.  Whether
 * the host allows it (root, the addon, a free port) is the lab's to find
 * out when it attaches.
 */
function attachSpec(ifname: string, driver: 'tap' | 'vxlan', n: RawNic, machine: string, at: Path, err: (p: Path, m: string) => void): AttachSpec | undefined {
  const common = {
    name: ifname,
    ...(n.lladdr !== undefined ? { lladdr: n.lladdr } : {}),
    ...(n.mtu !== undefined ? { mtu: n.mtu } : {}),
    up: false, // the lab brings it up with the others, after the addresses
  };
  if (driver === 'tap') return { driver, ...common, ...(n.device !== undefined ? { device: n.device } : {}) };
  let ok = true;
  for (const key of ['remote', 'local'] as const) {
    const v = n[key];
    if (v === undefined) continue;
    const hp = parseHostPort(v);
    if (hp === null || (key === 'remote' && hp.port === 0)) {
      err([...at, key], `machine ${machine}: nic ${ifname}: ${key}: ${v}: ${hp === null ? 'expected address:port with a port up to 65535' : 'the remote port cannot be 0'}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return { driver, ...common, vni: n.vni!, remote: n.remote!, ...(n.local !== undefined ? { local: n.local } : {}) };
}

/**
 * The lladdr of an em or ix interface the file gives none: locally
 * administered (02:...), from the machine's and the interface's names
 * (FNV-1a), so the same lab has the same addresses in every run and an
 * interface keeps its address when others are added.  `salt` picks
 * another one after a collision.
 */
export function derivedLladdr(machine: string, ifname: string, salt = 0): string {
  const text = salt === 0 ? `${machine}:${ifname}` : `${machine}:${ifname}:${salt}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    h2 = (h2 ^ (h2 >>> 15)) >>> 0;
  }
  const b = [0x02, h1 >>> 24, (h1 >>> 16) & 0xff, (h1 >>> 8) & 0xff, h1 & 0xff, h2 & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function build(raw: RawLab, file: string, lineOf: (p: Path, key?: boolean) => number, errors: TopologyError[]): LabSpec {
  const err = (path: Path, msg: string, key = false): void => {
    errors.push(new TopologyError(file, lineOf(path, key), msg));
  };
  const machines: MachineSpec[] = [];
  const macs = new Map<string, string>();
  /** Where each address is written, for errors about it. */
  const addrPaths = new Map<object, Path>();
  const hostnames = new Set<string>();
  for (const [name, m] of Object.entries(raw.machines)) {
    const hostname = m.hostname ?? name;
    if (hostnames.has(hostname)) err(['machines', name, 'hostname'], `machine ${name}: hostname ${hostname} is used twice`);
    hostnames.add(hostname);
    const nics: NicSpec[] = [];
    for (const [ifname, n] of Object.entries(m.nics ?? {})) {
      const at: Path = ['machines', name, 'nics', ifname];
      if (n.lladdr !== undefined) {
        const mac = parseMac(n.lladdr);
        if (mac === null) err([...at, 'lladdr'], `machine ${name}: nic ${ifname}: lladdr: bad MAC address`);
        else if (mac[0]! & 1) err([...at, 'lladdr'], `machine ${name}: nic ${ifname}: lladdr: ${n.lladdr} is a multicast address`);
        const lower = n.lladdr.toLowerCase();
        const other = macs.get(lower);
        if (other !== undefined) err([...at, 'lladdr'], `machine ${name}: nic ${ifname}: lladdr ${n.lladdr} is also ${other}'s`);
        macs.set(lower, `${name}:${ifname}`);
      }
      const driver = nicDriver(ifname);
      const attach = driver === 'tap' || driver === 'vxlan' ? attachSpec(ifname, driver, n, name, at, err) : undefined;
      if (driver === 'em' && n.queues !== undefined && n.queues !== 1) err([...at, 'queues'], `machine ${name}: nic ${ifname}: queues: em(4) has one queue`);
      const inet = [];
      for (const [i, text] of (typeof n.inet === 'string' ? [n.inet] : n.inet ?? []).entries()) {
        const [a, l] = text.split('/');
        const addr = parseIp4(a!);
        const plen = Number(l);
        const where: Path = [...at, 'inet', ...(typeof n.inet === 'string' ? [] : [i])];
        if (addr < 0) err(where, `machine ${name}: nic ${ifname}: inet: bad address ${text}`);
        else {
          const a4 = { addr, plen, text };
          inet.push(a4);
          addrPaths.set(a4, where);
        }
      }
      const inet6 = [];
      for (const [i, text] of (typeof n.inet6 === 'string' ? [n.inet6] : n.inet6 ?? []).entries()) {
        const [a, l] = text.split('/');
        const addr = parseIp6(a!);
        const plen = Number(l);
        const where: Path = [...at, 'inet6', ...(typeof n.inet6 === 'string' ? [] : [i])];
        if (addr === null) err(where, `machine ${name}: nic ${ifname}: inet6: bad address ${text}`);
        else if (addr[0] === 0xff) err(where, `machine ${name}: nic ${ifname}: inet6: ${text} is a multicast address`);
        else if (addr[0] === 0xfe && (addr[1]! & 0xc0) === 0x80) err(where, `machine ${name}: nic ${ifname}: inet6: ${text}: link-local addresses come from the lladdr`);
        else {
          const a6 = { addr, plen, text };
          inet6.push(a6);
          addrPaths.set(a6, where);
        }
      }
      nics.push({
        name: ifname,
        driver,
        ...(n.lladdr !== undefined ? { lladdr: n.lladdr } : {}),
        inet,
        inet6,
        ...(n.description !== undefined ? { description: n.description } : {}),
        ...(n.queues !== undefined ? { queues: n.queues } : {}),
        up: n.up ?? true,
        ...(n.pci !== undefined ? { pci: n.pci } : {}),
        ...(n.txslots !== undefined ? { txslots: n.txslots } : {}),
        ...(n.rxslots !== undefined ? { rxslots: n.rxslots } : {}),
        ...(attach !== undefined ? { attach } : {}),
        line: lineOf(at, true),
      });
    }
    // Units must count up from 0 per driver, as autoconf numbers them.
    for (const drv of ['em', 'ix', 'tap', 'vxlan']) {
      const units = nics.filter((x) => x.driver === drv).map((x) => Number(x.name.slice(drv.length)));
      const sorted = [...units].sort((a, b) => a - b);
      sorted.forEach((u, i) => {
        if (u !== i) err(['machines', name, 'nics', `${drv}${u}`], `machine ${name}: nic ${drv}${u}: ${drv} units count from 0 without gaps (expected ${drv}${i})`, true);
      });
    }
    const routes: RouteSpec[] = [];
    for (const [i, r] of (m.routes ?? []).entries()) {
      const at: Path = ['machines', name, 'routes', i];
      if (r.gateway.includes(':')) {
        const rt = route6(r, name, at, nics, err);
        if (rt !== null) routes.push(rt);
        continue;
      }
      let dest = 0;
      let plen = 0;
      if (r.dest !== 'default') {
        if (r.dest.includes(':')) {
          err([...at, 'gateway'], `machine ${name}: route ${r.dest}: an IPv6 destination needs an IPv6 gateway`);
          continue;
        }
        const [a, l] = r.dest.split('/');
        dest = parseIp4(a!);
        plen = l === undefined ? 32 : Number(l);
        if (dest < 0) {
          err([...at, 'dest'], `machine ${name}: route ${r.dest}: bad destination`);
          continue;
        }
        const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
        if (((dest & ~mask) >>> 0) !== 0) err([...at, 'dest'], `machine ${name}: route ${r.dest}: host bits set in the network`);
      }
      const gw = parseIp4(r.gateway);
      if (gw < 0) {
        err([...at, 'gateway'], `machine ${name}: route ${r.dest}: bad gateway ${r.gateway}`);
        continue;
      }
      const onlink = nics.some((n) => n.inet.some((x) => {
        const mask = x.plen === 0 ? 0 : (0xffffffff << (32 - x.plen)) >>> 0;
        return ((x.addr & mask) >>> 0) === ((gw & mask) >>> 0);
      }));
      if (!onlink) err([...at, 'gateway'], `machine ${name}: route ${r.dest}: gateway ${r.gateway} is on none of the machine's networks`);
      routes.push({ dest, plen, gateway: gw, text: `${r.dest} ${r.gateway}` });
    }
    const sysctl: Array<[string, number, number]> = Object.entries(m.sysctl ?? {}).map(([k, v]) => [k, v, lineOf(['machines', name, 'sysctl', k], true)]);
    const latency = m.softnet?.latency === undefined ? 0 : parseDelay(m.softnet.latency);
    if (latency === null) err(['machines', name, 'softnet', 'latency'], `machine ${name}: softnet: latency: not a delay such as 500us or 10ms`);
    machines.push({
      name,
      hostname,
      kind: m.kind ?? 'host',
      ...(m.description !== undefined ? { description: m.description } : {}),
      nics,
      routes,
      sysctl,
      softnetLatency: latency ?? 0,
      files: new Map(Object.entries(m.files ?? {})),
      fileLines: new Map(Object.keys(m.files ?? {}).map((f) => [f, lineOf(['machines', name, 'files', f], true)])),
      line: lineOf(['machines', name], true),
    });
  }
  // em and ix interfaces without an lladdr get one of their own, unlike any other.
  for (const m of machines) {
    for (const n of m.nics) {
      if (n.lladdr !== undefined || n.attach !== undefined) continue;
      let salt = 0;
      let mac = derivedLladdr(m.name, n.name);
      while (macs.has(mac)) mac = derivedLladdr(m.name, n.name, ++salt);
      macs.set(mac, `${m.name}:${n.name}`);
      n.lladdr = mac;
    }
  }
  const cables: CableSpec[] = [];
  const plugged = new Map<string, number>();
  for (const [i, c] of (raw.cables ?? []).entries()) {
    const at: Path = ['cables', i];
    const ends: Array<{ machine: string; nic: string }> = [];
    for (const [j, e] of c.ends.entries()) {
      const [mname, ifname] = e.split(':') as [string, string];
      const m = machines.find((x) => x.name === mname);
      if (m === undefined) {
        err([...at, 'ends', j], `cable ${e}: no such machine`);
        continue;
      }
      if (!m.nics.some((n) => n.name === ifname)) {
        err([...at, 'ends', j], `cable ${e}: no such interface`);
        continue;
      }
      const prev = plugged.get(e);
      if (prev === i) {
        err([...at, 'ends', j], `cable ${e}: both ends are the same interface (a cable joins two)`);
        continue;
      }
      if (prev !== undefined) {
        err([...at, 'ends', j], `cable ${e}: interface already has a cable (cable ${prev + 1})`);
        continue;
      }
      plugged.set(e, i);
      ends.push({ machine: mname, nic: ifname });
    }
    const rate = c.rate === undefined ? 1e9 : parseRate(c.rate);
    if (rate === null) err([...at, 'rate'], `cable ${c.ends.join(' ')}: rate: not a rate such as 1G or 100M`);
    const delay = c.delay === undefined ? 500 : parseDelay(c.delay);
    if (delay === null) err([...at, 'delay'], `cable ${c.ends.join(' ')}: delay: not a delay such as 500ns or 2ms`);
    if (ends.length === 2 && ends[0]!.machine === ends[1]!.machine && ends[0]!.nic === ends[1]!.nic) {
      err([...at, 'ends'], `cable ${c.ends.join(' ')}: both ends are the same interface`);
      continue;
    }
    if (ends.length === 2) {
      // The two ends are one link: an address on both is a conflict (ARP and DAD would fight over it).
      const nic = (e: { machine: string; nic: string }): NicSpec => machines.find((x) => x.name === e.machine)!.nics.find((x) => x.name === e.nic)!;
      const [na, nb] = [nic(ends[0]!), nic(ends[1]!)];
      for (const x of nb.inet) {
        if (na.inet.some((y) => y.addr === x.addr)) err(addrPaths.get(x)!, `machine ${ends[1]!.machine}: nic ${ends[1]!.nic}: inet ${x.text}: the address of ${ends[0]!.machine}:${ends[0]!.nic} too, on the same cable`);
      }
      for (const x of nb.inet6) {
        if (na.inet6.some((y) => y.addr.every((v, k) => v === x.addr[k]))) err(addrPaths.get(x)!, `machine ${ends[1]!.machine}: nic ${ends[1]!.nic}: inet6 ${x.text}: the address of ${ends[0]!.machine}:${ends[0]!.nic} too, on the same cable`);
      }
    }
    if (ends.length !== 2 || rate === null || delay === null) continue;
    cables.push({
      a: ends[0]!,
      b: ends[1]!,
      rate,
      delay,
      loss: c.loss ?? 0,
      duplicate: c.duplicate ?? 0,
      reorder: c.reorder ?? 0,
      name: c.name ?? `${c.ends[0]}-${c.ends[1]}`,
    });
  }
  return {
    file,
    name: raw.name ?? file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    description: raw.description ?? '',
    seed: raw.seed ?? 1,
    machines,
    cables,
  };
}
