// `pnpm mutate`: StrykerJS on core (stryker.config.mjs), through its API rather than its CLI.
// Stryker 10 is the first release whose vitest runner filters tests the way vitest 5 names them
// (`suite > test`); with 9.x every filter matches nothing and every mutant "survives". Stryker 10's CLI
// refuses to start on Node < 22 by a version check alone, and its package entry loads the CLI; its
// Stryker class runs on Node 20, which is what this repository supports, so the script imports that
// class's module by path (the package's `exports` do not expose it). Any arguments are Stryker options as JSON, e.g.
// `pnpm mutate '{"mutate":["packages/core/src/money.ts"]}'`.
const { Stryker } = await import(
  new URL("../node_modules/@stryker-mutator/core/dist/src/stryker.js", import.meta.url).href
);

const options = process.argv[2] === undefined ? {} : JSON.parse(process.argv[2]);
const results = await new Stryker(options).runMutationTest();
if (results.length === 0) process.exitCode = 1;
