/**
 * A cancel through Paylink on PostgreSQL (`createPaymentLinks` + `@paylink/store-postgres`: the read, the
 * decision, then one statement holding the conditional UPDATE and the outbox insert: two round trips
 * for a lone cancel, fewer when cancels run together, since the store reads the `get`s of one turn in
 * one statement) next to the raw floor of a hand-written compare-and-swap: one named prepared
 * `UPDATE paylink_payments SET status = $1, version = $2, payment = $3 WHERE id = $4 AND version = $5`
 * (one round trip) writing a payment JSON of the real size, serialized once outside the timed part,
 * tracking each row's version. Like a cancel, every baseline UPDATE changes the row's status (pending to
 * canceled, and back at the row's next turn), so neither side gets PostgreSQL's cheaper HOT update. Both
 * sides share one pool, one table and one run. The baseline writes no outbox row: it is the floor.
 *
 * Two rows: one caller at a time, and 16 concurrent callers, where one measured call runs 16 cancels
 * (or 16 UPDATEs) at once on 16 distinct rows with `Promise.all`. The pool has 16 connections, one per
 * caller: neither side ever waits for a connection, and no more backends exist than callers to use them.
 *
 * Every measured cancel hits a still-pending link. tinybench decides the number of calls from the time
 * they take, so the links are made before measuring, more than the fastest run could use (from a timed
 * calibration): one real link made by Paylink, cloned in one `INSERT … SELECT … generate_series` with
 * only `id` and `url` changed. Through the port a clone is an ordinary pending link; only its `created`
 * event is missing from the outbox, which cancel never reads. Should they still run out, links are made
 * inside the measured calls (slower, never faster) and the count is printed.
 *
 * The store is given the pool through a thin wrapper counting its statements, so the row also reports
 * the statements one cancel took (`statements/cancel`; at 16 callers the reads of one turn are one
 * statement, see the store's batched `get`).
 *
 * Needs `PAYLINK_PG_URL`; without it, or with the server not answering, the module measures nothing and
 * says why.
 */
import { createRequire } from "node:module";
import { createPaymentLinks, type Scope } from "@paylink/core";
import {
  createPostgresStore,
  type PostgresClient,
  type PostgresPool,
  type PostgresQueryConfig,
} from "@paylink/store-postgres";
import { type BenchModuleResult, type BenchRow, compare } from "./harness.js";

interface BenchPool extends PostgresPool {
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
}

// pg is a dependency of @paylink/store-postgres, not of the workspace root: load that package's copy.
function loadPg(): {
  Pool: new (config: { connectionString: string; max: number; connectionTimeoutMillis: number }) => BenchPool;
} {
  return createRequire(new URL("../packages/store-postgres/package.json", import.meta.url))("pg");
}

const CALLERS = 16;
const ROUNDS = 5;
const TIME_MS = 300;
// Per task and round tinybench runs at least 250 ms of warmup (or 16 calls) and TIME_MS (or 64 calls).
const SPAN_MS = 250 + TIME_MS;
const MIN_CALLS = 16 + 64;

const scope: Scope = { accountId: "acct_bench", livemode: false };

/** A connection error's own message, without a stack (Node reports a refused dual-stack connect as an AggregateError). */
function reason(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: unknown[] };
  if (e?.message) return e.message;
  if (e?.code) return e.code;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return reason(e.errors[0]);
  return String(error);
}

/** Runs the PostgreSQL benchmarks, or says why not. */
export async function run(): Promise<BenchModuleResult> {
  const url = process.env.PAYLINK_PG_URL;
  if (!url) {
    return { rows: [], skipped: "PAYLINK_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)" };
  }
  const { Pool } = loadPg();
  const pool = new Pool({ connectionString: url, max: CALLERS, connectionTimeoutMillis: 5000 });
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => {});
    return { rows: [], skipped: `PostgreSQL at PAYLINK_PG_URL does not answer: ${reason(error)}` };
  }

  const schema = `paylink_bench_${process.pid}`;
  const table = `"${schema}".paylink_payments`;
  // Every statement the store sends, counted.
  let storeQueries = 0;
  const counted: PostgresPool = {
    query: (config: string | PostgresQueryConfig, values?: unknown[]) => {
      storeQueries++;
      return pool.query(config, values);
    },
    connect: async (): Promise<PostgresClient> => {
      const client = await pool.connect();
      return {
        query: (config: string | PostgresQueryConfig, values?: unknown[]) => {
          storeQueries++;
          return client.query(config, values);
        },
        release: (destroy?: boolean | Error) => client.release(destroy),
      };
    },
  };

  try {
    const store = createPostgresStore({ pool: counted, schema });
    await store.migrate();
    const links = createPaymentLinks({ store });
    const create = async () =>
      (
        await links.create(scope, {
          customerId: "cus_1",
          provider: "stripe",
          amountSubtotal: 1000,
          currency: "GBP",
          expiresAt: new Date(Date.now() + 86_400_000 * 365),
        })
      )._unsafeUnwrap().id;
    const template = await create();

    let made = 0;
    const clone = async (count: number, prefix: string): Promise<string[]> => {
      const start = made;
      made += count;
      await pool.query(
        `INSERT INTO ${table} (id, account_id, livemode, status, expires_at, created_at, version, payment)
        SELECT c.id, p.account_id, p.livemode, p.status, p.expires_at, p.created_at, p.version,
          jsonb_set(jsonb_set(p.payment, '{id}', to_jsonb(c.id)), '{url}', to_jsonb('/pay/' || c.id))
        FROM ${table} p,
          LATERAL (SELECT 'pay_bench_' || $2 || '_' || g AS id FROM generate_series($3::int, $4::int) g) c
        WHERE p.id = $1`,
        [template, prefix, start, made - 1],
      );
      return Array.from({ length: count }, (_, i) => `pay_bench_${prefix}_${start + i}`);
    };

    const cancelOne = async (id: string) => {
      const result = await links.cancel(scope, id);
      if (result.isErr() || !result.value.changed) throw new Error(`the cancel of ${id} changed nothing`);
    };

    // Calibration: the fastest call of each shape, to size the pools of links.
    const calibration = await clone(40 * CALLERS + 40, "calibration");
    let fastestOne = Number.POSITIVE_INFINITY;
    let fastestBatch = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      await cancelOne(calibration.pop()!);
      fastestOne = Math.min(fastestOne, performance.now() - started);
    }
    for (let i = 0; i < 40; i++) {
      const batch = calibration.splice(0, CALLERS);
      const started = performance.now();
      await Promise.all(batch.map(cancelOne));
      fastestBatch = Math.min(fastestBatch, performance.now() - started);
    }
    // Calls one task can make in all rounds, twice over for margin.
    const calls = (fastestMs: number) => 2 * ROUNDS * (Math.ceil(SPAN_MS / fastestMs) + MIN_CALLS);
    const single = await clone(calls(fastestOne), "single");
    const batched = await clone(calls(fastestBatch) * CALLERS, "batched");

    // The baseline's rows: pending links of their own, each UPDATE moving one from its tracked version to
    // the next. Every UPDATE changes `status`, as every cancel does: from pending to canceled, then back
    // at the next visit. Rewriting a canceled row as canceled would change no indexed column, and would be
    // a HOT update (no index entries) that no real cancel gets. Both documents are a real payment's,
    // serialized once.
    const baselineIds = await clone(64 * CALLERS, "baseline");
    const versions = baselineIds.map(() => 1);
    const sample = (await links.get(scope, template))._unsafeUnwrap();
    const pendingJson = JSON.stringify(sample);
    const canceledJson = JSON.stringify({
      ...sample,
      status: "canceled",
      canceledAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    const update = {
      name: "bench_raw_cas",
      text: `UPDATE ${table} SET status = $1, version = $2, payment = $3 WHERE id = $4 AND version = $5`,
    };
    let b = 0;
    const rawUpdate = async (i: number) => {
      const version = versions[i]!;
      const cancel = version % 2 === 1; // odd versions are pending
      const result = await pool.query({
        ...update,
        values: [
          cancel ? "canceled" : "pending",
          version + 1,
          cancel ? canceledJson : pendingJson,
          baselineIds[i],
          version,
        ],
      });
      if (result.rowCount !== 1) throw new Error("the raw compare-and-swap missed");
      versions[i] = version + 1;
    };

    let toppedUp = 0;
    const take = async (ids: string[]) => {
      const id = ids.pop();
      if (id !== undefined) return id;
      toppedUp++;
      return create();
    };
    let cancels = 0;
    // Statements per cancel, per row (tinybench's warmup calls included: they are cancels too).
    const perCancel = (queries: number, count: number) =>
      toppedUp > 0 ? "n/a" : (queries / count).toFixed(2);
    let mark = { queries: storeQueries, cancels };

    const one = await compare(
      "cancel on PostgreSQL, 1 caller",
      {
        name: "links.cancel + PostgreSQL store",
        fn: async () => {
          await cancelOne(await take(single));
          cancels++;
        },
      },
      {
        name: "raw UPDATE … WHERE id AND version",
        fn: () => rawUpdate(b++ % baselineIds.length),
      },
      { rounds: ROUNDS, timeMs: TIME_MS, unit: "cancel" },
    );
    const oneQueries = perCancel(storeQueries - mark.queries, cancels - mark.cancels);
    mark = { queries: storeQueries, cancels };
    const many = await compare(
      `cancel on PostgreSQL, ${CALLERS} concurrent callers`,
      {
        name: `${CALLERS} × links.cancel + PostgreSQL store`,
        fn: async () => {
          const ids = await Promise.all(Array.from({ length: CALLERS }, () => take(batched)));
          await Promise.all(ids.map(cancelOne));
          cancels += CALLERS;
        },
        opsPerCall: CALLERS,
      },
      {
        name: `${CALLERS} × raw UPDATE … WHERE id AND version`,
        fn: () => {
          // 16 distinct rows: one group of the baseline's rows per call.
          const group = (b++ % (baselineIds.length / CALLERS)) * CALLERS;
          return Promise.all(Array.from({ length: CALLERS }, (_, i) => rawUpdate(group + i)));
        },
        opsPerCall: CALLERS,
      },
      { rounds: ROUNDS, timeMs: TIME_MS, unit: "cancel", target: 0.5 },
    );
    const manyQueries = perCancel(storeQueries - mark.queries, cancels - mark.cancels);
    console.log(
      `bench/postgres.ts: ${cancels} cancels measured, ${single.length + batched.length} links left over` +
        (toppedUp > 0 ? `, ${toppedUp} created inside measured calls (raise the margin)` : ""),
    );
    const withQueries = (row: BenchRow, queries: string): BenchRow => ({
      ...row,
      extra: { "statements/cancel": queries },
    });
    return { rows: [withQueries(one, oneQueries), withQueries(many, manyQueries)] };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
}
