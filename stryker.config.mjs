/**
 * Mutation testing of `@paylink/core` (`pnpm mutate`): StrykerJS breaks core's source one mutant at a time
 * and runs the tests that cover it; a mutant no test notices is a hole in the specification. Too slow for
 * CI; the last run's summary and every survivor's reason are in docs/testing.md.
 * Options: https://stryker-mutator.io/docs/stryker-js/configuration (Stryker validates them against
 * node_modules/@stryker-mutator/core/schema/stryker-schema.json when it starts).
 */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  // A dedicated config: core's tests only, without the workspace's projects (see the file).
  vitest: { configFile: "vitest.stryker.config.ts", related: false },
  // vitest strips types without checking them, and the default would prefix `// @ts-nocheck` to every
  // script in the sandbox, docs/lifecycle.stately.js included, which the docs drift test compares as is.
  disableTypeChecks: false,
  mutate: [
    "packages/core/src/**/*.ts",
    // Only re-exports.
    "!packages/core/src/index.ts",
    // The storage port and the kit for writing a store (`@paylink/core/store`): the stores and the
    // conformance suite test them, not core's tests.
    "!packages/core/src/store.ts",
    // The provider port: types and the metadata key every gateway uses; the gateways' conformance suite
    // (`gatewayConformance`) and their own tests check it, not core's tests.
    "!packages/core/src/gateway.ts",
    "!packages/core/src/delivery-store.ts",
    "!packages/core/src/store-kit/**",
  ],
  // Only the tests that reach a mutant run for it.
  coverageAnalysis: "perTest",
  // Two cores shared with other work; a mutant run takes a few seconds, a busy machine many more.
  concurrency: 2,
  timeoutMS: 60_000,
  timeoutFactor: 3,
  dryRunTimeoutMinutes: 15,
  // Not ignoreStatic: the machine, the decision table and the schemas are built at load, so their
  // mutants are static, and they are the rules this exists to check.
  ignoreStatic: false,
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
};
