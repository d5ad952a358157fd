/**
 * The build's transformer: each reference to a module's numeric constant
 * (`const ST_N = 64`, `export const IPPROTO_UDP = 17`, `const HT_KX =
 * (1 << HT_KBITS) - 1`), in its own module or imported from another, is
 * emitted as the number, with the name in a comment: what the C
 * preprocessor does with OpenBSD's #defines.
 *
 * Why: V8 keeps an ES module's top-level bindings in cells, and its
 * optimizing compiler does not fold them into the code.  Each use on the
 * packet path loads the cell, compares it with the TDZ hole and untags
 * it, and arithmetic with it keeps the checks a constant would drop
 * (`s * ST_N` stays a multiply with an overflow deopt, not a shift).  The
 * declarations stay: the constants are still exported and readable.
 *
 * A constant qualifies when it is declared `const` at the top level of a
 * TypeScript module (not `declare`d, not in a .d.ts) and its initializer
 * is a finite number built from literals, other such constants and the
 * operators + - * / % ** | & ^ ~ << >> >>> (type assertions and
 * parentheses aside).  Declarations, property names (in destructuring
 * too), import and export specifiers, shorthand properties and types are
 * left as they are.  (A
 * constant read before its declaration ran would throw in the original;
 * tsc rejects such reads at the top level, and through a function called
 * early the number reads where the binding would have thrown.)
 */
import ts from 'typescript';

const BINARY = new Map([
  [ts.SyntaxKind.PlusToken, (a, b) => a + b],
  [ts.SyntaxKind.MinusToken, (a, b) => a - b],
  [ts.SyntaxKind.AsteriskToken, (a, b) => a * b],
  [ts.SyntaxKind.SlashToken, (a, b) => a / b],
  [ts.SyntaxKind.PercentToken, (a, b) => a % b],
  [ts.SyntaxKind.AsteriskAsteriskToken, (a, b) => a ** b],
  [ts.SyntaxKind.BarToken, (a, b) => a | b],
  [ts.SyntaxKind.AmpersandToken, (a, b) => a & b],
  [ts.SyntaxKind.CaretToken, (a, b) => a ^ b],
  [ts.SyntaxKind.LessThanLessThanToken, (a, b) => a << b],
  [ts.SyntaxKind.GreaterThanGreaterThanToken, (a, b) => a >> b],
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken, (a, b) => a >>> b],
]);

/**
 * The constants of a program: value(symbol) is the number a reference to
 * `symbol` stands for, or undefined.
 */
export class ModuleConstants {
  /** @param {ts.TypeChecker} checker */
  constructor(checker) {
    this.checker = checker;
    /** @type {Map<ts.VariableDeclaration, number | null>} */
    this.known = new Map();
    /** @type {Set<ts.VariableDeclaration>} declarations being evaluated (a cycle is no constant) */
    this.active = new Set();
  }

  /** The module-level `const` declaration behind a symbol (through imports), or undefined. */
  declaration(symbol) {
    if (symbol === undefined) return undefined;
    if ((symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = this.checker.getAliasedSymbol(symbol);
    const d = symbol.valueDeclaration;
    if (d === undefined || !ts.isVariableDeclaration(d) || !ts.isIdentifier(d.name) || d.initializer === undefined) return undefined;
    const list = d.parent;
    if (!ts.isVariableDeclarationList(list) || (list.flags & ts.NodeFlags.BlockScoped) !== ts.NodeFlags.Const) return undefined;
    const stmt = list.parent;
    if (!ts.isVariableStatement(stmt) || !ts.isSourceFile(stmt.parent) || stmt.parent.isDeclarationFile) return undefined;
    if (stmt.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) return undefined;
    return d;
  }

  /** The value of the constant a symbol names, or undefined. */
  value(symbol) {
    const d = this.declaration(symbol);
    if (d === undefined) return undefined;
    const k = this.known.get(d);
    if (k !== undefined) return k ?? undefined;
    if (this.active.has(d)) return undefined;
    this.active.add(d);
    const v = this.evaluate(d.initializer);
    this.active.delete(d);
    const ok = v !== undefined && Number.isFinite(v) && !Object.is(v, -0);
    this.known.set(d, ok ? v : null);
    return ok ? v : undefined;
  }

  /** The number an initializer computes, or undefined. */
  evaluate(e) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) ||
      ts.isTypeAssertionExpression(e) || ts.isNonNullExpression(e)) return this.evaluate(e.expression);
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (ts.isIdentifier(e)) return this.value(this.checker.getSymbolAtLocation(e));
    if (ts.isPrefixUnaryExpression(e)) {
      const v = this.evaluate(e.operand);
      if (v === undefined) return undefined;
      if (e.operator === ts.SyntaxKind.MinusToken) return -v;
      if (e.operator === ts.SyntaxKind.PlusToken) return v;
      if (e.operator === ts.SyntaxKind.TildeToken) return ~v;
      return undefined;
    }
    if (ts.isBinaryExpression(e)) {
      const op = BINARY.get(e.operatorToken.kind);
      if (op === undefined) return undefined;
      const a = this.evaluate(e.left);
      const b = a === undefined ? undefined : this.evaluate(e.right);
      return b === undefined ? undefined : op(a, b);
    }
    return undefined;
  }
}

/** Whether identifier `id` is read as a value here (not a name being declared, a property's name, an import or export). */
function isValueReference(id) {
  const p = id.parent;
  if (p === undefined) return false;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p) || ts.isFunctionDeclaration(p) ||
    ts.isClassDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) ||
    ts.isEnumMember(p) || ts.isPropertySignature(p)) && p.name === id) return false;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  // `const { N: x } = ns`: N names a property there (of a namespace object, the constant's own symbol)
  if (ts.isBindingElement(p) && p.propertyName === id) return false;
  return !(ts.isShorthandPropertyAssignment(p) || ts.isImportSpecifier(p) || ts.isExportSpecifier(p) ||
    ts.isImportClause(p) || ts.isNamespaceImport(p) || ts.isImportEqualsDeclaration(p) || ts.isLabeledStatement(p) ||
    ts.isBreakOrContinueStatement(p) || ts.isQualifiedName(p));
}

/** The literal for v, named in a comment, that replaces `node`: in parentheses when negative or when a member is read from it. */
function literal(factory, v, name, node) {
  let e = v < 0 ?
    factory.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, factory.createNumericLiteral(-v)) :
    factory.createNumericLiteral(v);
  ts.addSyntheticTrailingComment(e, ts.SyntaxKind.MultiLineCommentTrivia, ` ${name} `, false);
  const p = node.parent;
  if (v < 0 || (p !== undefined && ts.isPropertyAccessExpression(p) && p.expression === node)) e = factory.createParenthesizedExpression(e);
  return ts.setTextRange(e, node);
}

/**
 * The transformer (for program.emit's `before`): references to constants
 * become their numbers.
 * @param {ts.Program} program
 * @returns {ts.TransformerFactory<ts.SourceFile>}
 */
export function inlineConstants(program) {
  const constants = new ModuleConstants(program.getTypeChecker());
  const checker = program.getTypeChecker();
  return (context) => {
    const factory = context.factory;
    const visit = (node) => {
      // types are erased: nothing to inline there
      if (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) return node;
      if (ts.isIdentifier(node) && isValueReference(node)) {
        const v = constants.value(checker.getSymbolAtLocation(node));
        if (v !== undefined) return literal(factory, v, node.text, node);
        return node;
      }
      // ns.NAME of `import * as ns`
      if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && ts.isIdentifier(node.name)) {
        const ns = checker.getSymbolAtLocation(node.expression);
        if (ns !== undefined && (ns.flags & ts.SymbolFlags.Alias) !== 0 && ns.declarations?.some((d) => ts.isNamespaceImport(d))) {
          const v = constants.value(checker.getSymbolAtLocation(node.name));
          if (v !== undefined) return literal(factory, v, `${node.expression.text}.${node.name.text}`, node);
        }
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (sf) => ts.visitEachChild(sf, visit, context);
  };
}
