/**
 * Paylink on its embedded SQLite store (an on-disk file, the store's defaults: WAL, `synchronous = FULL`,
 * group commit), each row next to the cheapest raw SQL that could record the same thing on the same file
 * with the same pragmas, through the same better-sqlite3:
 *
 * - **1 caller**: one cancel at a time (read, decide, compare-and-swap, outbox insert, commit) vs one
 *   autocommitted prepared `UPDATE payments SET status, version, payment WHERE id = ? AND version = ?`
 *   writing a payment JSON of the real size. Both pay one fsync per operation.
 * - **64 concurrent cancels**: 64 cancels in flight at once (their writes share group commits) vs the
 *   same one-at-a-time durable `UPDATE`: the per-operation durable rate the issue measures against.
 * - **expireDue over 100,000 due links**: `expireDue(1000)` until nothing is due vs raw `UPDATE`s of
 *   100,000 due rows, 256 per transaction (as many as one sweep chunk).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPaymentLinks, type PaymentLinks, type Scope } from "@paylink/core";
import { createSqliteStore } from "@paylink/store-sqlite";
import { type BenchModuleResult, type BenchRow, compare, rowFromRounds } from "./harness.js";

/** The few better-sqlite3 calls the baseline makes. */
interface RawStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}
interface RawDatabase {
  pragma(source: string): unknown;
  exec(source: string): void;
  prepare(source: string): RawStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}

// The workspace root does not depend on better-sqlite3; the store package does, so the baseline loads
// that very copy: same driver, same SQLite build as the subject.
const requireFromStore = createRequire(new URL("../packages/store-sqlite/package.json", import.meta.url));
const Database = requireFromStore("better-sqlite3") as new (
  filename: string,
  options?: { timeout?: number },
) => RawDatabase;

const scope: Scope = { accountId: "acct_bench", livemode: false };
const input = {
  customerId: "cus_1",
  provider: "stripe",
  amountSubtotal: 1000,
  taxAmount: 200,
  currency: "GBP",
  description: "For cappuccino",
  metadata: { order: "A-1" },
  expiresAt: new Date(Date.now() + 86_400_000 * 365),
};

const ROUNDS = Number(process.env.PAYLINK_BENCH_ROUNDS ?? 5);
const TIME_MS = 300;
const CONCURRENT = 64;
const DUE_LINKS = 100_000;
const SWEEP_ROUNDS = 3;

/** A file with Paylink's store on it (at `synchronous`) and a raw connection beside it, at the same. */
export function setUp(synchronous: "full" | "normal" = "full") {
  const dir = mkdtempSync(join(tmpdir(), "paylink-bench-sqlite-"));
  const filename = join(dir, "bench.db");
  const store = createSqliteStore({ filename, synchronous });
  const links = createPaymentLinks({ store });
  const raw = new Database(filename, { timeout: 5000 });
  // The store's pragmas (WAL is a property of the file; synchronous is per connection).
  raw.pragma("journal_mode = WAL");
  raw.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  return {
    links,
    raw,
    filename,
    close() {
      raw.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Pending links made fast: one real link created by Paylink, cloned with raw SQL in one transaction (only
 * the id, url and, for due links, the expiry differ). Through the port a clone is an ordinary link; only
 * its `created` event is missing from the outbox, which no command reads.
 */
export async function linkFactory(links: PaymentLinks, raw: RawDatabase) {
  const template = (await links.create(scope, input))._unsafeUnwrap();
  const clone = raw.prepare(`INSERT INTO payments
    (id, account_id, livemode, kind, status, expires_at, created_at, version, payment)
    SELECT ?, account_id, livemode, kind, status, ?, created_at, version,
      json_set(payment, '$.id', ?, '$.url', ?, '$.expiresAt', ?)
    FROM payments WHERE id = ?`);
  let made = 0;
  return {
    template,
    make(count: number, expiresAt = new Date(template.expiresAt!)): string[] {
      const ids = Array.from({ length: count }, () => `pay_bench_${made++}`);
      raw.exec("BEGIN IMMEDIATE");
      for (const id of ids)
        clone.run(id, expiresAt.getTime(), id, `/pay/${id}`, expiresAt.toISOString(), template.id);
      raw.exec("COMMIT");
      return ids;
    },
  };
}

/**
 * What a cancel row needs: the raw baseline, links still pending to cancel, and one checked cancel. The
 * baseline is a hand-written compare-and-swap over its own rows, tracking their versions, writing a
 * canceled payment JSON of the real size (serialized once: the baseline pays for the write only).
 */
export function cancels(
  links: PaymentLinks,
  raw: RawDatabase,
  factory: Awaited<ReturnType<typeof linkFactory>>,
  baselineName = "raw prepared UPDATE, autocommit",
) {
  const baselineIds = factory.make(1000);
  const versions = baselineIds.map(() => 1);
  const canceledJson = JSON.stringify({
    ...factory.template,
    status: "canceled",
    canceledAt: new Date().toISOString(),
  });
  const update = raw.prepare(
    "UPDATE payments SET status = ?, version = ?, payment = ? WHERE id = ? AND version = ?",
  );
  let b = 0;
  const rawUpdate = {
    name: baselineName,
    fn: () => {
      const i = b++ % baselineIds.length;
      const version = versions[i]!;
      const { changes } = update.run("canceled", version + 1, canceledJson, baselineIds[i], version);
      if (changes !== 1) throw new Error("baseline UPDATE changed no row");
      versions[i] = version + 1;
    },
  };

  // Every measured cancel needs a link still pending, and tinybench decides the number of calls from
  // the time they take: links are made in batches ahead of the measurement, topped up between calls
  // only should they run out (counted and reported; that makes the subject slower, never faster).
  let pool: string[] = [];
  let topUps = 0;
  return {
    rawUpdate,
    /** Makes `count` more pending links ahead of a measurement. */
    stock(count: number) {
      pool = pool.concat(factory.make(count));
    },
    take(count: number): string[] {
      if (pool.length < count) {
        topUps++;
        pool = pool.concat(factory.make(Math.max(count, 20_000)));
      }
      return pool.splice(0, count);
    },
    async cancelOne(id: string) {
      const result = await links.cancel(scope, id);
      if (result.isErr() || !result.value.changed) throw new Error(`cancel failed for ${id}`);
    },
    topUps: () => topUps,
  };
}

/** Runs the SQLite benchmarks. */
export async function run(): Promise<BenchModuleResult> {
  const rows: BenchRow[] = [];
  const env = setUp();
  try {
    const { links, raw } = env;
    const factory = await linkFactory(links, raw);
    const { rawUpdate, stock, take, cancelOne, topUps } = cancels(links, raw, factory);

    stock(40_000);
    rows.push(
      await compare(
        "cancel on SQLite, 1 caller",
        { name: "links.cancel + SQLite store", fn: () => cancelOne(take(1)[0]!) },
        rawUpdate,
        { rounds: ROUNDS, timeMs: TIME_MS, unit: "cancel", target: 0.5 },
      ),
    );

    stock(200_000);
    const concurrent = await compare(
      `${CONCURRENT} concurrent cancels on SQLite (group commit)`,
      {
        name: `${CONCURRENT} × links.cancel at once`,
        opsPerCall: CONCURRENT,
        fn: () => Promise.all(take(CONCURRENT).map(cancelOne)),
      },
      rawUpdate,
      { rounds: ROUNDS, timeMs: TIME_MS, unit: "cancel", target: 5 },
    );
    // What the ratio depends on: the disk's fsync latency (the baseline's time per durable commit), and
    // the same concurrent cancels against Paylink's own one-at-a-time rate.
    rows.push({
      ...concurrent,
      extra: {
        "µs per durable autocommit": Math.round(1e6 / concurrent.baseline),
        "vs Paylink 1 caller": `${(concurrent.opsPerSec / rows[0]!.opsPerSec).toFixed(1)}×`,
      },
    });
    if (topUps() > 0) console.warn(`  bench/sqlite: the link pool was topped up ${topUps()} times`);

    // expireDue: each round sweeps DUE_LINKS fresh due links, and the baseline expires DUE_LINKS rows.
    const expireUpdate = raw.prepare(
      "UPDATE payments SET status = 'expired', version = version + 1, payment = ? WHERE id = ? AND version = ?",
    );
    const expiredJson = JSON.stringify({ ...factory.template, status: "expired" });
    const sweep: number[] = [];
    const bulk: number[] = [];
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      const past = new Date(Date.now() - 60_000);
      factory.make(DUE_LINKS, past);
      let started = performance.now();
      let expired = 0;
      for (;;) {
        const n = (await links.expireDue(1000))._unsafeUnwrap();
        if (n === 0) break;
        expired += n;
      }
      sweep.push(expired / ((performance.now() - started) / 1000));
      if (expired !== DUE_LINKS) throw new Error(`expireDue expired ${expired} of ${DUE_LINKS}`);

      const ids = factory.make(DUE_LINKS, past);
      started = performance.now();
      for (let i = 0; i < ids.length; i += 256) {
        raw.exec("BEGIN IMMEDIATE");
        for (const id of ids.slice(i, i + 256)) expireUpdate.run(expiredJson, id, 1);
        raw.exec("COMMIT");
      }
      bulk.push(ids.length / ((performance.now() - started) / 1000));
    }
    rows.push(
      rowFromRounds(
        `expireDue over ${DUE_LINKS.toLocaleString("en")} due links on SQLite`,
        { name: "links.expireDue(1000) until none is due", opsPerSec: sweep },
        { name: "raw UPDATE per row, 256 per transaction", opsPerSec: bulk },
        { unit: "link" },
      ),
    );
    return { rows };
  } finally {
    env.close();
  }
}
