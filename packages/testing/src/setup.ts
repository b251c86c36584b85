/**
 * `@paylink/testing/setup` — makes vitest 5 print a failing test on Node 20.
 *
 * vitest 5's reporter formats every failure with `Map.groupBy`, which Node 20 lacks (it arrived in Node
 * 21): on Node 20 the reporter crashes instead, and a store author sees `Map.groupBy is not a function`
 * in place of the conformance law that failed. The reporter runs in vitest's main process, so the fix
 * must load there: as a `globalSetup` file, or called from the config file. A `setupFiles` entry runs in
 * the test workers and does not help.
 *
 * @example
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ["@paylink/testing/setup"] } });
 * @packageDocumentation
 */

type GroupBy = <K, V>(items: Iterable<V>, key: (item: V, index: number) => K) => Map<K, V[]>;

/**
 * Installs `Map.groupBy` as ES2024 specifies it, when the runtime has none; a native one is left alone.
 * Safe to call more than once.
 */
export function polyfillMapGroupBy(): void {
  if (typeof (Map as { groupBy?: unknown }).groupBy === "function") return;
  const groupBy: GroupBy = (items, key) => {
    const groups = new Map();
    let index = 0;
    for (const item of items) {
      const k = key(item, index++);
      const group = groups.get(k);
      if (group) group.push(item);
      else groups.set(k, [item]);
    }
    return groups;
  };
  Object.defineProperty(Map, "groupBy", { value: groupBy, writable: true, configurable: true });
}

/** The `globalSetup` entry point: vitest calls it once, in its main process, before any test runs. */
export default function setup(): void {
  polyfillMapGroupBy();
}
