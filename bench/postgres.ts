/**
 * A cancel through Paylink on PostgreSQL (`createPaymentLinks` + `@paylink/store-postgres`: read, decide,
 * then one statement with the conditional UPDATE and the outbox insert: two round trips in all) next to
 * the raw floor of a compare-and-swap: one `UPDATE … WHERE id = $1 AND version = $2` (one round trip) on
 * the same pool, in the same run.
 * Needs `PAYLINK_PG_URL`; without it the module prints a note and measures nothing.
 */
import { createRequire } from "node:module";
import { createPaymentLinks, type Scope } from "@paylink/core";
import { createPostgresStore, type PostgresPool } from "@paylink/store-postgres";
import { type Comparison, compare } from "./harness.js";

interface BenchPool extends PostgresPool {
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
}

// pg is a dependency of @paylink/store-postgres, not of the workspace root: load that package's copy.
function loadPg(): { Pool: new (config: { connectionString: string; max: number }) => BenchPool } {
  return createRequire(new URL("../packages/store-postgres/package.json", import.meta.url))("pg");
}

// compare()'s defaults: 3 rounds of a 300 ms budget, plus tinybench's warmup (100 ms, at least 16 calls)
// and its minimum of 64 calls.
const ROUNDS = 3;
const BUDGET_MS = 300 + 100;
const MIN_CALLS = 64 + 16;

/** Runs the PostgreSQL benchmark, or returns nothing when no server is configured. */
export async function run(): Promise<Comparison[]> {
  const url = process.env.PAYLINK_PG_URL;
  if (!url) {
    console.log("bench/postgres.ts: PAYLINK_PG_URL is not set, skipping the PostgreSQL benchmark");
    return [];
  }
  const { Pool } = loadPg();
  const pool = new Pool({ connectionString: url, max: 16 });
  pool.on("error", () => {});
  const schema = `paylink_bench_${process.pid}`;
  const table = `"${schema}".paylink_payments`;
  const scope: Scope = { accountId: "acct_bench", livemode: false };
  try {
    const store = createPostgresStore({ pool, schema });
    await store.migrate();
    const links = createPaymentLinks({ store });
    const create = async () =>
      (
        await links.create(scope, {
          customerId: "cus_1",
          provider: "stripe",
          amountSubtotal: 1000,
          currency: "GBP",
          expiresAt: new Date(Date.now() + 86_400_000),
        })
      )._unsafeUnwrap().id;
    const createMany = async (count: number) => {
      const made: string[] = [];
      while (made.length < count) made.push(...(await Promise.all(Array.from({ length: 16 }, create))));
      return made;
    };
    // Every measured cancel needs a link that is still cancelable: time a few cancels first and, from
    // the fastest, create twice as many links as the measured rounds could use.
    const calibration = await createMany(32);
    let fastestMs = Number.POSITIVE_INFINITY;
    for (const id of calibration) {
      const started = performance.now();
      (await links.cancel(scope, id))._unsafeUnwrap();
      fastestMs = Math.min(fastestMs, performance.now() - started);
    }
    const needed = Math.ceil(2 * ROUNDS * (BUDGET_MS / fastestMs + MIN_CALLS));
    const ids = await createMany(needed + 1);
    // The baseline swaps one row over and over, tracking its version as a caller would.
    const baselineId = ids.pop()!;
    let baselineVersion = 1;
    let next = 0;
    let toppedUp = 0;

    const cancel = await compare(
      "cancel on PostgreSQL (per call)",
      {
        name: "links.cancel (postgres store)",
        fn: async () => {
          // Should the links run out after all, make one inside the measurement (counted and reported:
          // it makes those calls slower, never faster).
          let id = ids[next++];
          if (id === undefined) {
            toppedUp++;
            id = await create();
          }
          const result = await links.cancel(scope, id);
          if (!result._unsafeUnwrap().changed) throw new Error("the cancel changed nothing");
        },
      },
      {
        name: "raw UPDATE … WHERE id AND version",
        fn: async () => {
          const result = await pool.query(
            `UPDATE ${table} SET status = 'canceled', version = version + 1 WHERE id = $1 AND version = $2`,
            [baselineId, baselineVersion],
          );
          if (result.rowCount !== 1) throw new Error("the raw compare-and-swap missed");
          baselineVersion++;
        },
      },
    );
    console.log(
      `bench/postgres.ts: ${next} cancels measured, ${needed} links prepared` +
        (toppedUp > 0 ? `, ${toppedUp} created during the measurement (raise the margin)` : ""),
    );
    return [cancel];
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
}
