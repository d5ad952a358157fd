#!/usr/bin/env node
/**
 * The build: `tsc -p .` through the TypeScript API, with one transformer
 * added to the emit (inline-constants.mjs: references to numeric module
 * constants become their numbers, for V8 does not fold module bindings).
 * Diagnostics go to stdout in tsc's formats (with colour and context on a
 * terminal, where a count of errors follows); an error in the program or
 * in tsconfig.json exits 2, as tsc does, after writing what it could emit.
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

const pretty = process.stdout.isTTY === true;

function report(diagnostics) {
  if (diagnostics.length === 0) return;
  process.stdout.write(pretty ?
    ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost) :
    ts.formatDiagnostics(diagnostics, formatHost));
}

const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    report([d]);
    process.exit(1);
  },
});
if (parsed === undefined) process.exit(1);
// tsconfig.json's own errors are reported with the program's (getPreEmitDiagnostics), as tsc does
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
  if (pretty) process.stdout.write(`${ts.sys.newLine}Found ${errors} error${errors === 1 ? '' : 's'}.${ts.sys.newLine}`);
  process.exit(2);
}
