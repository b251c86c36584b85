import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";

// The TSDoc gate. Every exported declaration in `packages/*/src` carries a TSDoc comment (`/** … */`)
// right before it, with one exception: a type alias derived from the const declared right before it
// shares that const's comment. So the pair
//
//   /** Every status of any kind of payment; {@link Status} is one of them. */
//   export const STATUSES = ["pending", …] as const;
//   export type Status = (typeof STATUSES)[number];
//
// is documented once, by the comment on the const, which then says what both are. "Derived" means the
// alias's type names the const with `typeof` (`(typeof STATUSES)[number]`, `keyof typeof ERROR_CODES`,
// `z.infer<typeof PaymentSchema>`); "right before" means no other statement between the two. An alias
// that keeps a comment of its own must say something its const's comment does not: a sentence said on
// both (the alias's comment found in the const's) is a tautology, and fails the second test.

const root = fileURLToPath(new URL("..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

function packageSources(): string[] {
  return readdirSync(`${root}packages`).flatMap((pkg) => {
    try {
      return sources(`${root}packages/${pkg}/src`);
    } catch {
      return [];
    }
  });
}

/** A top-level exported declaration, with the TSDoc right before it (its text, or `null`). */
interface Exported {
  readonly statement: ts.Statement;
  readonly doc: string | null;
  readonly where: string;
}

const isExported = (statement: ts.Statement) =>
  ts.canHaveModifiers(statement) &&
  (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** The TSDoc comment right before `statement` (the last of its leading comments, if it is `/** … *\/`). */
function docOf(text: string, statement: ts.Statement): string | null {
  const last = ts.getLeadingCommentRanges(text, statement.getFullStart())?.at(-1);
  if (last === undefined || last.kind !== ts.SyntaxKind.MultiLineCommentTrivia) return null;
  const comment = text.slice(last.pos, last.end);
  if (!comment.startsWith("/**")) return null;
  return comment
    .slice(3, -2)
    .split("\n")
    .map((line) => line.replace(/^\s*\*? ?/, "").trim())
    .join(" ")
    .trim();
}

/** The exported declarations of one file, in order; `export { … }` and `export * from` are not declarations. */
function exportedDeclarations(file: string): Array<Exported | ts.Statement> {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  return source.statements.map((statement) => {
    if (!isExported(statement)) return statement;
    const line = source.getLineAndCharacterOfPosition(statement.getStart()).line + 1;
    const first = text.slice(statement.getStart()).split("\n", 1)[0]!.slice(0, 80);
    return { statement, doc: docOf(text, statement), where: `${file.slice(root.length)}:${line} ${first}` };
  });
}

const isExportedDeclaration = (item: Exported | ts.Statement): item is Exported => "where" in item;

/** The name of the one const `statement` declares, or `undefined` when it is not such a statement. */
function constName(statement: ts.Statement): string | undefined {
  if (!ts.isVariableStatement(statement)) return undefined;
  const [declaration, ...more] = statement.declarationList.declarations;
  return more.length === 0 && declaration !== undefined && ts.isIdentifier(declaration.name)
    ? declaration.name.text
    : undefined;
}

/** True when the type of `alias` names `name` with `typeof` (`typeof X`, `keyof typeof X` …). */
function derivesFrom(alias: ts.TypeAliasDeclaration, name: string): boolean {
  let found = false;
  const visit = (node: ts.Node) => {
    if (ts.isTypeQueryNode(node) && ts.isIdentifier(node.exprName) && node.exprName.text === name)
      found = true;
    else ts.forEachChild(node, visit);
  };
  visit(alias.type);
  return found;
}

/**
 * Pairs of a documented exported const and the exported type alias derived from it, declared right after
 * it: the alias may share the const's TSDoc.
 */
function sharedPairs(items: ReadonlyArray<Exported | ts.Statement>): Array<[Exported, Exported]> {
  const pairs: Array<[Exported, Exported]> = [];
  items.forEach((item, index) => {
    const previous = items[index - 1];
    if (!isExportedDeclaration(item) || previous === undefined || !isExportedDeclaration(previous)) return;
    if (!ts.isTypeAliasDeclaration(item.statement) || previous.doc === null) return;
    const name = constName(previous.statement);
    if (name !== undefined && derivesFrom(item.statement, name)) pairs.push([previous, item]);
  });
  return pairs;
}

test("every exported declaration in packages/*/src carries TSDoc (a type alias may share its const's)", () => {
  const missing: string[] = [];
  for (const file of packageSources()) {
    const items = exportedDeclarations(file);
    const shared = new Set(sharedPairs(items).map(([, alias]) => alias));
    for (const item of items.filter(isExportedDeclaration)) {
      if (item.doc === null && !shared.has(item)) missing.push(item.where);
    }
  }
  expect(missing).toEqual([]);
});

/** A comment reduced to its words, for comparison: case, spacing and the final period do not count. */
const words = (doc: string) => doc.toLowerCase().replace(/\s+/g, " ").replace(/\.$/, "");

test("a type alias that may share its const's TSDoc does not repeat it", () => {
  const repeated: string[] = [];
  for (const file of packageSources()) {
    for (const [constant, alias] of sharedPairs(exportedDeclarations(file))) {
      if (alias.doc !== null && words(constant.doc!).includes(words(alias.doc))) repeated.push(alias.where);
    }
  }
  expect(repeated).toEqual([]);
});

/**
 * The undocumented members (properties, methods) of the interfaces in `file` and of the object types a type
 * alias is made of (`type A = { … } | { … }`). Inline shapes nested inside a member (a parameter's options,
 * a `{ status, body }` response) are described by that member's comment.
 */
function undocumentedMembers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const missing: string[] = [];
  const visit = (node: ts.Node) => {
    const owner = node.parent;
    const declared =
      owner !== undefined &&
      (ts.isInterfaceDeclaration(owner) ||
        (ts.isTypeLiteralNode(owner) &&
          (ts.isTypeAliasDeclaration(owner.parent) ||
            (ts.isUnionTypeNode(owner.parent) && ts.isTypeAliasDeclaration(owner.parent.parent)))));
    if ((ts.isPropertySignature(node) || ts.isMethodSignature(node)) && declared) {
      const last = ts.getLeadingCommentRanges(text, node.getFullStart())?.at(-1);
      const documented = last !== undefined && text.slice(last.pos, last.end).startsWith("/**");
      if (!documented) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        missing.push(`${file.slice(root.length)}:${line} ${node.getText().split("\n", 1)[0]}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return missing;
}

// The ports an application implements: each member says what it must do, not only the type.
const PORTS = ["packages/core/src/gateway.ts", "packages/core/src/store.ts"];

test("every member of the ports' types carries TSDoc (the gateway and the store)", () => {
  expect(PORTS.flatMap((file) => undocumentedMembers(`${root}${file}`))).toEqual([]);
});
