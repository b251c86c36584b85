import type { TestFunction } from "../src/index.js";

/** How one test of a conformance suite ended, when run by {@link recordSuite}. */
export type Outcome =
  | { state: "passed" }
  | { state: "failed"; message: string }
  | { state: "skipped"; note: string };

class Skipped extends Error {}

/**
 * Runs a conformance suite through a `test` that records each outcome instead of registering it with
 * vitest: `register` calls the suite with that `test`; names lose their `planted: ` prefix. The context
 * offers `skip` the way vitest's does, by throwing. `parallel` runs the tests at once (the gateway
 * suite's outages each wait out a timeout); by default one after another.
 */
export async function recordSuite(
  register: (test: TestFunction) => void,
  options: { readonly parallel?: boolean } = {},
): Promise<Map<string, Outcome>> {
  const registered: { name: string; fn: Parameters<TestFunction>[1] }[] = [];
  register((name, fn) => registered.push({ name: name.replace(/^planted: /, ""), fn }));
  const outcomes = new Map<string, Outcome>();
  const run = async ({ name, fn }: (typeof registered)[number]) => {
    const context = {
      skip: (note?: string) => {
        throw new Skipped(note);
      },
    };
    try {
      await fn(context);
      outcomes.set(name, { state: "passed" });
    } catch (error) {
      outcomes.set(
        name,
        error instanceof Skipped
          ? { state: "skipped", note: error.message }
          : { state: "failed", message: error instanceof Error ? error.message : String(error) },
      );
    }
  };
  if (options.parallel) await Promise.all(registered.map(run));
  else for (const test of registered) await run(test);
  return outcomes;
}
