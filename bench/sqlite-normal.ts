/**
 * Paylink on its SQLite store at `synchronous: "normal"` (no fsync at commit; see the store's README for
 * what that survives), one cancel at a time, next to the same raw autocommitted prepared `UPDATE` as
 * bench/sqlite.ts on the same file, its connection at `synchronous = NORMAL` too. Without an fsync per
 * operation on either side, the row shows what Paylink's own work costs against a bare write.
 *
 * A second row compares the same cancels with the SQL a cancel cannot avoid, done raw: in one
 * transaction, read the payment, compare-and-swap it, append its event to the outbox. The bare UPDATE of
 * the first row skips the read and the outbox, which no store that writes its events atomically can skip
 * (the raw transaction alone runs at about 0.3× the bare UPDATE here), so the second row is the one that
 * measures Paylink's own overhead; see docs/benchmarks.md.
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
    // The same SQL work, raw: one transaction reading the payment, swapping it, appending the event.
    const baselineIds = factory.make(20_000);
    const select = env.raw.prepare("SELECT payment, version FROM payments WHERE id = ?");
    const swap = env.raw.prepare(
      "UPDATE payments SET status = ?, version = ?, payment = ? WHERE id = ? AND version = ?",
    );
    const append = env.raw.prepare(
      "INSERT INTO outbox (event_id, payment_id, account_id, livemode, type, event) VALUES (?, ?, ?, ?, ?, ?)",
    );
    let n = 0;
    const cancelRaw = env.raw.transaction((id: string) => {
      const row = select.get(id) as { payment: string; version: number };
      const payment = {
        ...JSON.parse(row.payment),
        status: "canceled",
        canceledAt: new Date().toISOString(),
      };
      const json = JSON.stringify(payment);
      if (swap.run("canceled", row.version + 1, json, id, row.version).changes !== 1)
        throw new Error("raw cancel swapped no row");
      const event = { id: `evt_raw_${n}`, type: "payment_link.canceled", paymentId: id, payment };
      append.run(event.id, id, "acct_bench", 0, event.type, JSON.stringify(event));
    });
    let next = 0;
    const rawCancel = {
      name: "raw transaction: SELECT, compare-and-swap UPDATE, INSERT outbox event, synchronous = NORMAL",
      fn: () => {
        n++;
        // Each id once; a second pass finds version 2 and swaps again, which costs the same.
        cancelRaw(baselineIds[next++ % baselineIds.length]!);
      },
    };
    stock(40_000);
    const sameWork = await compare(
      'cancel on SQLite at synchronous: "normal" vs the same SQL raw, 1 caller',
      { name: 'links.cancel + SQLite store, synchronous: "normal"', fn: () => cancelOne(take(1)[0]!) },
      rawCancel,
      { rounds: ROUNDS, timeMs: TIME_MS, unit: "cancel", target: 0.5 },
    );
    if (topUps() > 0) console.warn(`  bench/sqlite-normal: the link pool was topped up ${topUps()} times`);
    return { rows: [row, sameWork] };
  } finally {
    env.close();
  }
}
