import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");
const tsx = `${root}node_modules/.bin/tsx`;

test("the README's example runs and prints what its comments say", () => {
  const block = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  mkdirSync(`${root}test/.generated`, { recursive: true });
  const file = `${root}test/.generated/readme-example.mts`;
  writeFileSync(file, block!);
  const output = execFileSync(tsx, ["--tsconfig", `${root}tsconfig.json`, file], {
    cwd: root,
    encoding: "utf8",
  });
  const expected = [...block!.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
  expect(output.trim().split("\n")).toEqual(expected);
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
