/**
 * Regenerates the docs that describe the machine. `pnpm docs:generate` writes them; the drift test in
 * `test/docs.test.ts` fails when the committed files differ from what this produces.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generatedDocs } from "./docs.js";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const [path, content] of Object.entries(await generatedDocs())) {
  writeFileSync(`${root}${path}`, content);
  console.log(`wrote ${path}`);
}
