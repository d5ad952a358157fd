import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ROOT } from '../helpers/root.js';

interface Inliner {
  inlineConstants(program: ts.Program): ts.TransformerFactory<ts.SourceFile>;
}

const A = `
export const N = 64;
export const SHIFT = 3;
export const MASK = (1 << SHIFT) - 1;
export const NEG = -5;
export const HEX = 0x3f as number;
export const NAME = 'x';
export const HUGE = 2 ** 1024;
export let mutable = 1;
const local = N * 2;
export function f(i: number): number {
  return i * N + local + MASK;
}
`;

const B = `
import { N, NEG as MINUS, HEX, NAME, mutable, HUGE } from './a.js';
import * as a from './a.js';
const obj = { N, M: N, [HEX]: 1 };
export { N as OUT };
export function g(x: number): number {
  const typed: typeof N = N;
  const inner = 7;
  return x + N + MINUS + a.MASK + a.N.toString().length + inner + mutable + NAME.length + typed + 2 ** MINUS + obj.M + obj.N + obj[63];
}
export function h(): number {
  return HUGE;
}
export function d(): number {
  const { N: x, MASK: y = 1 } = a;
  return x + y;
}
`;

/** Compiles a.ts and b.ts (in memory) through the transformer; their JavaScript. */
async function compile(): Promise<{ a: string; b: string }> {
  const inliner = (await import(pathToFileURL(join(ROOT, 'scripts', 'inline-constants.mjs')).href)) as Inliner;
  const files = new Map([['/v/a.ts', A], ['/v/b.ts', B]]);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    types: [],
    noLib: true,
  };
  const host = ts.createCompilerHost(options);
  const out = new Map<string, string>();
  host.fileExists = (f) => files.has(f);
  host.directoryExists = (d) => d === '/v' || d === '/';
  host.realpath = (f) => f;
  host.readFile = (f) => files.get(f);
  host.getSourceFile = (f, lang) => {
    const text = files.get(f);
    return text === undefined ? undefined : ts.createSourceFile(f, text, lang);
  };
  host.writeFile = (f, text) => out.set(f, text);
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  program.emit(undefined, undefined, undefined, false, { before: [inliner.inlineConstants(program)] });
  return { a: out.get('/v/a.js') ?? '', b: out.get('/v/b.js') ?? '' };
}

test('inline-constants: numeric module constants become numbers, in their module and where imported', async () => {
  const { a, b } = await compile();
  // the declarations stay (still exported); references, local ones too, are numbers named in a comment
  assert.match(a, /export const N = 64;/);
  assert.match(a, /const local = 64 \/\* N \*\/ \* 2;/);
  assert.match(a, /return i \* 64 \/\* N \*\/ \+ 128 \/\* local \*\/ \+ 7 \/\* MASK \*\/;/);
  // imports, renamed imports, namespace members; negatives and member access in parentheses
  assert.match(b, /return x \+ 64 \/\* N \*\/ \+ \(-5 \/\* MINUS \*\/\) \+ 7 \/\* a\.MASK \*\/ \+ \(64 \/\* a\.N \*\/\)\.toString\(\)\.length/);
  assert.match(b, /2 \*\* \(-5 \/\* MINUS \*\/\)/);
  // a shorthand property keeps its name; computed keys and values are inlined
  assert.match(b, /const obj = \{ N, M: 64 \/\* N \*\/, \[63 \/\* HEX \*\/\]: 1 \};/);
  assert.match(b, /export \{ N as OUT \};/);
  // not constants: a function's own const, a let, a string, an infinity
  assert.match(b, /\+ inner \+ mutable \+ NAME\.length \+ typed/);
  assert.match(b, /return HUGE;/);
  // a destructured property keeps its name
  assert.match(b, /const \{ N: x, MASK: y = 1 \} = a;/);
});

test('inline-constants: the compiled code computes what the original computes', async () => {
  const { a, b } = await compile();
  const dir = mkdtempSync(join(tmpdir(), 'pf-inline-'));
  try {
    writeFileSync(join(dir, 'a.js'), a);
    writeFileSync(join(dir, 'b.js'), b);
    const m = (await import(pathToFileURL(join(dir, 'b.js')).href)) as { g(x: number): number; h(): number; d(): number; OUT: number };
    assert.equal(m.d(), 64 + 7);
    // x + N + NEG + MASK + "64".length + inner + mutable + "x".length + typed + 2 ** -5 + M + N + obj[63]
    assert.equal(m.g(1), 1 + 64 - 5 + 7 + 2 + 7 + 1 + 1 + 64 + 2 ** -5 + 64 + 64 + 1);
    assert.equal(m.h(), Infinity);
    assert.equal(m.OUT, 64);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the build inlines the packet path: pf_test_fast4 reads the state record at constant offsets', () => {
  const pf = readFileSync(join(ROOT, 'dist', 'src', 'sys', 'net', 'pf.js'), 'utf8');
  const body = pf.slice(pf.indexOf('export function pf_test_fast4('), pf.indexOf('export function pf_prefetch('));
  assert.ok(body.length > 0, 'pf_test_fast4 not found in dist/src/sys/net/pf.js');
  assert.match(body, /const sb = s \* 64 \/\* ST_N \*\/;/);
  assert.match(body, /proto !== 17 \/\* IPPROTO_UDP \*\//);
  assert.doesNotMatch(body, /\b(ST_N|ST_KIF|K_REV|IPPROTO_UDP|PF_PASS|PF_IN)\b(?! \*\/)/);
});
