import { fc } from "@fast-check/vitest";

// Setup file of `vitest.stryker.config.ts` (mutation testing), not of the usual test run.
// @fast-check/vitest names a property test after its seed ("… (with seed=123)"), random per run. Stryker
// records the names in its first run and reruns each mutant's tests by name, so a new seed would match no
// test and let every mutant survive. One seed also makes a mutant's fate the same on every run.
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: 20260101 });
