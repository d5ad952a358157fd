#!/usr/bin/env node
/**
 * The build: `tsc -p .` through the TypeScript API, with one transformer
 * added to the emit (inline-constants.mjs: references to numeric module
 * constants become their numbers, for V8 does not fold module bindings).
 * Diagnostics print as tsc prints them; any error exits 2, as tsc does
 * when it reports errors (what it could emit is written all the same).
 *
 *   node scripts/build.mjs
 */
import process from 'node:process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { inlineConstants } from './inline-constants.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => ts.sys.newLine,
};

function report(diagnostics) {
  if (diagnostics.length === 0) return;
  const text = process.stderr.isTTY ?
    ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost) :
    ts.formatDiagnostics(diagnostics, formatHost);
  process.stderr.write(text);
}

const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    report([d]);
    process.exit(1);
  },
});
if (parsed === undefined) process.exit(1);
if (parsed.errors.length > 0) {
  report(parsed.errors);
  process.exit(1);
}
const program = ts.createProgram({
  rootNames: parsed.fileNames,
  options: parsed.options,
  projectReferences: parsed.projectReferences,
  configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
});
const emitted = program.emit(undefined, undefined, undefined, false, { before: [inlineConstants(program)] });
const diagnostics = ts.sortAndDeduplicateDiagnostics([...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]);
report(diagnostics);
const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
if (errors > 0) {
  process.stderr.write(`${ts.sys.newLine}Found ${errors} error${errors === 1 ? '' : 's'}.${ts.sys.newLine}`);
  process.exit(2);
}
