import type { IdempotencyStore, PaymentStore } from "@paylink/core";
import { concurrencyTests } from "./conformance/concurrency.js";
import { idempotencyTests } from "./conformance/idempotency.js";
import { lacksIdempotency, type StoreProbe, type Suite, selfProbe } from "./conformance/kit.js";
import { lawTests } from "./conformance/laws.js";
import { outboxTests } from "./conformance/outbox.js";
import { readTests } from "./conformance/reads.js";
import { textTests } from "./conformance/text.js";
import { writeTests } from "./conformance/writes.js";

export { type StoreProbe, samplePayment } from "./conformance/kit.js";

/**
 * The test runner's `test` (vitest, jest, node:test …), injected so the suite has no runner dependency.
 * A body reads `skip` off its first argument when the runner passes a test context that has one
 * (vitest, node:test): whether a store lacks a capability is only known once the test has made the
 * store, so that is where such a test is marked skipped.
 */
export type TestFunction = (
  name: string,
  fn: (...context: unknown[]) => Promise<void>,
  timeout?: number,
) => void;

/** Options of {@link storeConformance}. */
export interface ConformanceOptions<S extends PaymentStore> {
  /**
   * Makes the independent probe for a store made by `makeStore`: raw SQL, or a second connection of a
   * key-value store. Default: reads through the store itself, which cannot see what the store hides
   * from itself (an event written but never read back, a write that only lives in a cache).
   */
  readonly probe?: (store: S) => StoreProbe;
  /** Closes a store after each test. */
  readonly teardown?: (store: S) => Promise<void> | void;
  /** Prefix of every test name. Default: `store conformance`. */
  readonly name?: string;
  /** Number of concurrent writers in the race tests. Default: 16. */
  readonly concurrency?: number;
  /** Runs of each property test. Default: 25. */
  readonly numRuns?: number;
  /** Per-test timeout in ms. Default: 30 000. */
  readonly timeout?: number;
  /**
   * Told of every test skipped because the store lacks a capability (today: `IdempotencyStore`), with
   * the reason. Runners that can skip a running test (vitest, node:test) also report it as skipped;
   * for one that cannot (jest), this is the report: without `onSkip` the suite warns on the console.
   */
  readonly onSkip?: (name: string, reason: string) => void;
}

/**
 * The conformance suite every Paylink store runs (in the style of `@keyv/test-suite`): reads and
 * copies, scoping, writes and compare-and-swap, the outbox, idempotency keys, races, text, and the
 * lifecycle laws run through the store. `makeStore` must give every test a fresh, empty store: result
 * sets (`findDue`, `list`, `readEvents`) are compared exactly. See `docs/writing-a-store.md`.
 *
 * @example
 * import { test } from "vitest";
 * storeConformance(test, () => createMemoryStore());
 */
export function storeConformance<S extends PaymentStore>(
  test: TestFunction,
  makeStore: () => S | Promise<S>,
  options: ConformanceOptions<S> = {},
): void {
  const prefix = options.name ?? "store conformance";
  const timeout = options.timeout ?? 30_000;

  /** Runs `body` on a fresh store; `lacks` says why this store cannot run it, if it cannot. */
  const register = (
    name: string,
    lacks: (store: S) => string | null,
    body: (store: S, probe: StoreProbe) => Promise<void>,
  ) => {
    const fullName = `${prefix}: ${name}`;
    // Rest parameters keep `fn.length` at 0: jest takes a body that declares a parameter for a
    // callback-style test and would wait for a `done` that never comes.
    test(
      fullName,
      async (...context: unknown[]) => {
        const store = await makeStore();
        try {
          const reason = lacks(store);
          if (reason !== null) skip(fullName, reason, context[0]);
          else await body(store, options.probe ? options.probe(store) : selfProbe(store));
        } finally {
          await options.teardown?.(store);
        }
      },
      timeout,
    );
  };

  const skip = (name: string, reason: string, context: unknown): void => {
    options.onSkip?.(name, reason);
    const runner = context as { skip?: (note?: string) => void } | undefined;
    // vitest's skip throws to end the test as skipped, with the note; node:test's marks it and returns.
    if (typeof runner?.skip === "function") runner.skip(`skipped: ${reason}`);
    else if (options.onSkip === undefined) console.warn(`${name} (skipped: ${reason})`);
  };

  const suite: Suite = {
    it: (name, body) => register(name, () => null, body),
    itIdempotent: (name, body) =>
      register(name, lacksIdempotency, (store, probe) =>
        body(store as unknown as PaymentStore & IdempotencyStore, probe),
      ),
    concurrency: options.concurrency ?? 16,
    numRuns: options.numRuns ?? 25,
  };

  readTests(suite);
  textTests(suite);
  writeTests(suite);
  outboxTests(suite);
  concurrencyTests(suite);
  idempotencyTests(suite);
  lawTests(suite);
}
