/**
 * `pnpm bench`: every benchmark module under bench/ that exports `run(): Promise<Comparison[]>`, each
 * subject reported as a ratio against a raw baseline measured in the same run.
 * `pnpm bench decision` runs only the modules whose file name contains "decision".
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Comparison, report } from "./harness.js";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filter = process.argv[2];
const modules = readdirSync(dir)
  .filter((file) => file.endsWith(".ts") && !["run.ts", "harness.ts"].includes(file))
  .filter((file) => filter === undefined || file.includes(filter))
  .sort();

const rows: Comparison[] = [];
for (const file of modules) {
  console.log(`running bench/${file} …`);
  const mod = (await import(`./${file}`)) as { run?: () => Promise<Comparison[]> };
  if (mod.run) rows.push(...(await mod.run()));
}
report(rows);
process.exit(0);
