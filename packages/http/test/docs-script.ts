/**
 * Compiles the `/docs` page's script (`src/docs-page/client.ts`) into the module the page inlines
 * (`src/docs-page/client.generated.ts`). The package's `generate` script runs this file to write it; the
 * drift test compares what it would write with what is checked in.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The one esbuild call used here. */
interface Esbuild {
  transformSync(
    code: string,
    options: { loader: "ts"; format: "iife"; target: string; charset: "utf8"; legalComments: "none" },
  ): { code: string };
}

const CLIENT = fileURLToPath(new URL("../src/docs-page/client.ts", import.meta.url));
/** Where the compiled script is checked in. */
export const GENERATED = fileURLToPath(new URL("../src/docs-page/client.generated.ts", import.meta.url));

/** The compiled script: a classic script (no module syntax) for the browsers that run the page. */
export function compileDocsScript(source = readFileSync(CLIENT, "utf8")): string {
  // esbuild is not a dependency of this package: it comes with tsup, which builds it.
  const fromTsup = createRequire(createRequire(import.meta.url).resolve("tsup"));
  const esbuild = fromTsup("esbuild") as Esbuild;
  return esbuild.transformSync(source, {
    loader: "ts",
    format: "iife",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
  }).code;
}

/** The text of `client.generated.ts` for a compiled script. */
export function generatedModule(script: string): string {
  // A template literal keeps the script readable in the file; Biome leaves its content alone.
  const literal = script.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${");
  return `// Generated from client.ts by \`pnpm --filter @paylink/http generate\`. Do not edit: a test fails on drift.

/** The script of the \`/docs\` page, compiled from \`client.ts\`; the page inlines it and hashes it for its CSP. */
export const DOCS_SCRIPT = \`${literal}\`;
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(GENERATED, generatedModule(compileDocsScript()));
  console.log(`wrote ${GENERATED}`);
}
