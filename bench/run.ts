/**
 * `pnpm bench`: every benchmark module under bench/ that exports `run(): Promise<BenchModuleResult>`, each
 * subject reported as a throughput ratio against a raw baseline measured in the same run. Prints a
 * Markdown table and writes bench/results.json.
 * `pnpm bench sqlite` runs only the modules whose file name contains "sqlite".
 */
import { readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { type BenchModuleResult, type BenchRow, table } from "./harness.js";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filter = process.argv[2];
const modules = readdirSync(dir)
  .filter((file) => file.endsWith(".ts") && !["run.ts", "harness.ts"].includes(file))
  .filter((file) => filter === undefined || file.includes(filter))
  .sort();

const rows: BenchRow[] = [];
const skipped: string[] = [];
for (const file of modules) {
  console.log(`running bench/${file} …`);
  const mod = (await import(`./${file}`)) as { run?: () => Promise<BenchModuleResult> };
  if (!mod.run) continue;
  const result = await mod.run();
  rows.push(...result.rows);
  if (result.skipped) {
    console.log(`  skipped: ${result.skipped}`);
    skipped.push(`${file}: ${result.skipped}`);
  }
}

const machine = {
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cpus: cpus().length,
  platform: `${process.platform} ${process.arch}`,
  date: new Date().toISOString(),
};
console.log(`\n${machine.node}, ${machine.cpus} × ${machine.cpu}, ${machine.date}\n`);
console.log(table(rows, skipped));
const out = fileURLToPath(new URL("results.json", import.meta.url));
writeFileSync(out, `${JSON.stringify({ ...machine, rows, skipped }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
process.exit(0);
