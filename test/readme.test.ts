import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");
const tsx = `${root}node_modules/.bin/tsx`;

/** Runnable examples: every block fenced exactly ```ts (```ts no-run marks fragments). */
function examples(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const GENERATED = new Set(["lifecycle.md", "errors.md"]);
const readmes = [
  "README.md",
  ...readdirSync(`${root}docs`)
    .filter((name) => name.endsWith(".md") && !GENERATED.has(name))
    .map((name) => `docs/${name}`),
  ...readdirSync(`${root}packages`)
    .map((name) => `packages/${name}/README.md`)
    .filter((path) => existsSync(`${root}${path}`)),
];

describe("README and docs examples run and print what their comments say", () => {
  for (const path of readmes) {
    const blocks = examples(readFileSync(`${root}${path}`, "utf8"));
    blocks.forEach((block, index) => {
      test(`${path} example ${index + 1}`, () => {
        // Next to the README, so the example resolves the dependencies its package has (pg, better-sqlite3 …).
        const dir = path.startsWith("packages/")
          ? `${root}${path.split("/").slice(0, 2).join("/")}/test/.generated`
          : `${root}test/.generated`;
        mkdirSync(dir, { recursive: true });
        const file = `${dir}/${path.replaceAll("/", "_")}-${index}.mts`;
        writeFileSync(file, block);
        const output = execFileSync(tsx, ["--tsconfig", `${root}tsconfig.json`, file], {
          cwd: root,
          encoding: "utf8",
          env: process.env,
        });
        const expected = [...block.matchAll(/console\.log\(.*\)[;,]? \/\/ (.*)$/gm)].map((m) => m[1]);
        expect(expected.length, "the example states its output in comments").toBeGreaterThan(0);
        expect(output.trim().split("\n")).toEqual(expected);
      }, 60_000);
    });
  }

  test("every package README has an install line and a runnable example", () => {
    for (const name of readdirSync(`${root}packages`)) {
      const path = `${root}packages/${name}/README.md`;
      if (!existsSync(`${root}packages/${name}/src/index.ts`)) continue;
      expect(existsSync(path), `${name} has a README`).toBe(true);
      const text = readFileSync(path, "utf8");
      expect(text, `${name} README install line`).toMatch(/npm install .*@paylink\//);
      expect(examples(text).length, `${name} README runnable example`).toBeGreaterThan(0);
    }
  });
});

test("the README's quickstart (pnpm start) prints a cancel, a no-op cancel and a refused charge cancel", () => {
  const output = execFileSync(tsx, [`${root}examples/quickstart/main.ts`], { cwd: root, encoding: "utf8" });
  expect(output).toMatch(/^cancel\s+Ok\s+\{"status":"canceled","changed":true\}$/m);
  expect(output).toMatch(/^cancel again \(no-op\)\s+Ok\s+\{"status":"canceled","changed":false\}$/m);
  expect(output).toMatch(/^cancel a charge\s+Err\s+\{"code":"charge_not_cancelable"/m);
});

test("the README gives the two commands for a fresh machine", () => {
  expect(readme).toContain("npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 start");
  expect(readme).toContain("npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 test");
  const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
  expect(pkg.packageManager).toBe("pnpm@12.4.2");
});
