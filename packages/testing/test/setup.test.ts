import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import setup, { polyfillMapGroupBy } from "../src/setup.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixture = fileURLToPath(new URL("fixtures/reporter", import.meta.url));

describe("@paylink/testing/setup", () => {
  test("installs a Map.groupBy that groups by key in first-seen order, passing each item's index", () => {
    const native = Object.getOwnPropertyDescriptor(Map, "groupBy");
    // The root config polyfills vitest's main process only; a worker on Node 20 has none.
    if (native) Reflect.deleteProperty(Map, "groupBy");
    try {
      polyfillMapGroupBy();
      const groupBy = (
        Map as unknown as { groupBy: <K, V>(i: Iterable<V>, k: (v: V, n: number) => K) => Map<K, V[]> }
      ).groupBy;
      const indexes: number[] = [];
      const groups = groupBy(["b1", "a1", "b2", "c1", "a2"], (item, index) => {
        indexes.push(index);
        return item[0];
      });
      expect([...groups]).toEqual([
        ["b", ["b1", "b2"]],
        ["a", ["a1", "a2"]],
        ["c", ["c1"]],
      ]);
      expect(indexes).toEqual([0, 1, 2, 3, 4]);
      setup();
      expect((Map as unknown as { groupBy: unknown }).groupBy, "a second install keeps the first").toBe(
        groupBy,
      );
    } finally {
      Reflect.deleteProperty(Map, "groupBy");
      if (native) Object.defineProperty(Map, "groupBy", native);
    }
  });

  test("with it as globalSetup, vitest prints a failing test's assertion instead of crashing", async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "NODE_OPTIONS"),
    );
    const run = promisify(execFile)(
      `${root}node_modules/.bin/vitest`,
      ["run", "--root", fixture, "--config", `${fixture}/vitest.config.mts`],
      { cwd: fixture, encoding: "utf8", env: { ...env, NO_COLOR: "1", CI: "1" } },
    );
    const failure = await run.then(
      () => expect.unreachable("the fixture's test fails on purpose"),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    const output = `${failure.stdout}\n${failure.stderr}`;
    expect(output).not.toContain("Map.groupBy");
    expect(output).toContain("law: the reporter prints this message");
    expect(output).toMatch(/1 failed/);
  }, 60_000);
});
