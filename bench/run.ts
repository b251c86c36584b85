/**
 * `pnpm bench`: every benchmark module under bench/ that exports `run(): Promise<BenchModuleResult>`, each
 * subject reported as a throughput ratio against a raw baseline measured in the same run. Prints a
 * Markdown table and writes bench/results.json. Each module runs in a child process of its own.
 * `pnpm bench sqlite` runs only the modules whose file name contains "sqlite".
 */
import { spawn } from "node:child_process";
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

const CHILD_MARK = "__paylink_bench_result__";

// In a child: run one module and hand its result to the parent on stdout.
const only = process.env.PAYLINK_BENCH_MODULE;
if (only !== undefined) {
  const mod = (await import(`./${only}`)) as { run?: () => Promise<BenchModuleResult> };
  const result: BenchModuleResult = mod.run ? await mod.run() : { rows: [] };
  console.log(`${CHILD_MARK}${JSON.stringify(result)}`);
  process.exit(0);
}

/**
 * Each module runs in a process of its own (this script again, with the same loader flags), so that no
 * module measures in a heap, a JIT state or open handles left by another.
 */
function runModule(file: string): Promise<BenchModuleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, PAYLINK_BENCH_MODULE: file },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    let result: BenchModuleResult | undefined;
    const take = (line: string) => {
      if (line.startsWith(CHILD_MARK))
        result = JSON.parse(line.slice(CHILD_MARK.length)) as BenchModuleResult;
      // The module's own progress lines pass through.
      else if (line.length > 0) console.log(line);
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (out + chunk).split("\n");
      out = lines.pop() ?? "";
      for (const line of lines) take(line);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      take(out);
      if (result !== undefined) resolve(result);
      else reject(new Error(`bench/${file} exited with code ${code} and no result`));
    });
  });
}

const rows: BenchRow[] = [];
const skipped: string[] = [];
for (const file of modules) {
  console.log(`running bench/${file} …`);
  const result = await runModule(file);
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
