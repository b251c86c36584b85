import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// vitest 5's reporter calls Map.groupBy (Node 21+) when it prints a failure; Node 20 lacks it.
if (typeof (Map as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Map, "groupBy", {
    value<K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, V[]> {
      const groups = new Map<K, V[]>();
      let index = 0;
      for (const item of items) {
        const k = key(item, index++);
        const group = groups.get(k);
        if (group) group.push(item);
        else groups.set(k, [item]);
      }
      return groups;
    },
  });
}

const root = fileURLToPath(new URL(".", import.meta.url));
const packages = readdirSync(`${root}packages`).filter((name) =>
  existsSync(`${root}packages/${name}/src/index.ts`),
);

// Tests run against the sources, never a stale build: every `@paylink/<name>` resolves to its `src/`, and
// so does core's subpath. Exact matches: a bare `@paylink/core` would also catch `@paylink/core/store`.
const alias = [
  ...packages.map((name) => ({
    find: new RegExp(`^@paylink/${name}$`),
    replacement: `${root}packages/${name}/src/index.ts`,
  })),
  { find: /^@paylink\/core\/store$/, replacement: `${root}packages/core/src/store-kit/index.ts` },
];

// The JSON report is only written when .ci/run asks for it; it counts passed and failed tests.
const jsonReport = process.env.PAYLINK_VITEST_JSON;

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `${root}packages/${name}`, include: ["test/**/*.test.ts"] },
      })),
      {
        extends: true as const,
        test: { name: "workspace", root, include: ["test/**/*.test.ts", "examples/*/test/**/*.test.ts"] },
      },
    ],
  },
});
