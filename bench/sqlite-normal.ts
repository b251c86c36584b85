/**
 * Paylink on its SQLite store at `synchronous: "normal"` (no fsync at commit; see the store's README for
 * what that survives), one cancel at a time, next to the same raw autocommitted prepared `UPDATE` as
 * bench/sqlite.ts on the same file, its connection at `synchronous = NORMAL` too. Without an fsync per
 * operation on either side, the row shows what Paylink's own work costs against a bare write.
 */
import type { BenchModuleResult } from "./harness.js";
import { compare } from "./harness.js";
import { cancels, linkFactory, setUp } from "./sqlite.js";

const ROUNDS = Number(process.env.PAYLINK_BENCH_ROUNDS ?? 5);
const TIME_MS = 300;

/** Runs the benchmark. */
export async function run(): Promise<BenchModuleResult> {
  const env = setUp("normal");
  try {
    const factory = await linkFactory(env.links, env.raw);
    const { rawUpdate, stock, take, cancelOne, topUps } = cancels(
      env.links,
      env.raw,
      factory,
      "raw prepared UPDATE, autocommit, synchronous = NORMAL",
    );
    stock(40_000);
    const row = await compare(
      'cancel on SQLite at synchronous: "normal", 1 caller',
      { name: 'links.cancel + SQLite store, synchronous: "normal"', fn: () => cancelOne(take(1)[0]!) },
      rawUpdate,
      { rounds: ROUNDS, timeMs: TIME_MS, unit: "cancel", target: 0.5 },
    );
    if (topUps() > 0) console.warn(`  bench/sqlite-normal: the link pool was topped up ${topUps()} times`);
    return { rows: [row] };
  } finally {
    env.close();
  }
}
