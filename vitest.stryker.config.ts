import { defineConfig } from "vitest/config";
// The workspace config, for its aliases (every `@paylink/<name>` to its `src/`) and, by importing it, its
// Map.groupBy polyfill: vitest 5's reporter needs it on Node 20 when it prints a failure, which it does
// for every killed mutant.
import workspace from "./vitest.config";

const root = new URL(".", import.meta.url).pathname;

/**
 * The tests `pnpm mutate` (StrykerJS, `stryker.config.mjs`) runs against mutants of `packages/core/src`:
 * core's own tests and the drift test of the docs generated from core (the machine's descriptions, the
 * diagram, the error registry). One project, not the workspace's `projects`: Stryker's vitest runner
 * runs every project it is given, and only these tests are about core.
 */
export default defineConfig({
  resolve: workspace.resolve,
  test: {
    root,
    include: ["packages/core/test/**/*.test.ts", "test/docs.test.ts"],
    // Instrumented code runs slower, and mutants run side by side on a shared machine.
    testTimeout: 60_000,
    // Stryker runs a test by its name, and a property test's name holds its seed: fix it.
    setupFiles: ["packages/core/test/fixed-seed.ts"],
  },
});
