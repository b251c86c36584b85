import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const packages = readdirSync(`${root}packages`).filter((name) =>
  existsSync(`${root}packages/${name}/src/index.ts`),
);

const run = async (command: string, args: string[], cwd: string) =>
  (
    await promisify(execFile)(command, args, {
      cwd,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    })
  ).stdout;

describe.concurrent("package hygiene: every package builds, passes publint --strict and attw --pack", () => {
  for (const name of packages) {
    test(`@paylink/${name}`, async () => {
      const dir = `${root}packages/${name}`;
      const manifest = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
      expect(manifest.sideEffects).toBe(false);
      expect(existsSync(`${dir}/CHANGELOG.md`), "CHANGELOG.md").toBe(true);
      expect(existsSync(`${dir}/test`), "test/").toBe(true);
      expect(manifest.files).toEqual(["dist"]);
      expect(Object.keys(manifest.exports["."].import)[0]).toBe("types");
      expect(Object.keys(manifest.exports["."].require)[0]).toBe("types");

      await run(bin("tsup"), ["--silent"], dir);
      for (const file of ["index.js", "index.cjs", "index.d.ts", "index.d.cts"]) {
        expect(existsSync(`${dir}/dist/${file}`), `dist/${file}`).toBe(true);
      }
      // publint spawns the package manager it detects; pnpm is only reachable through npx here.
      const publint = await run(bin("publint"), ["--strict", "--pack", "npm"], dir);
      expect(publint).toContain("All good");
      // attw exits non-zero on any problem for ESM or CJS consumers.
      await run(bin("attw"), ["--pack", ".", "--format", "ascii"], dir);
    }, 180_000);
  }
});

test("changesets release every package in one fixed version group", () => {
  const config = JSON.parse(readFileSync(`${root}.changeset/config.json`, "utf8"));
  expect(config.fixed).toEqual([["@paylink/*"]]);
  const versions = new Set(
    packages.map((name) => JSON.parse(readFileSync(`${root}packages/${name}/package.json`, "utf8")).version),
  );
  expect(versions.size).toBe(1);
});
