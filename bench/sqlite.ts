/**
 * A cancel through Paylink on the SQLite store, next to the cheapest write that could record it: one raw
 * prepared `UPDATE payments … WHERE id = ? AND version = ?` on the same file with the same pragmas. The
 * ratio is what the lifecycle costs on top of the disk: the read, the decision, the JSON, the outbox
 * insert and the transaction around them. Both sides commit (and fsync, `synchronous = FULL`) once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPaymentLinks, type Scope } from "@paylink/core";
import { createSqliteStore } from "@paylink/store-sqlite";
import { type Comparison, compare } from "./harness.js";

/** The few better-sqlite3 calls the baseline makes. */
interface RawDatabase {
  pragma(source: string): unknown;
  exec(source: string): void;
  prepare(source: string): { run(...params: unknown[]): { changes: number } };
  close(): void;
}

// The workspace root does not depend on better-sqlite3; the store package does (as a peer and a dev
// dependency), so the baseline loads that very copy: same driver, same SQLite build as the subject.
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
  currency: "GBP",
  expiresAt: new Date(Date.now() + 86_400_000 * 365),
};

const ROUNDS = 5;
const TIME_MS = 300;
// Links for the measured cancels: tinybench runs each task for `time` plus a 250 ms warmup in every round,
// 2.75 s in all here; at 50 µs a cancel (no fsync wait at all) that is 55 000 calls.
const POOL_SIZE = 60_000;

/** Runs the SQLite benchmarks. */
export async function run(): Promise<Comparison[]> {
  const dir = mkdtempSync(join(tmpdir(), "paylink-bench-sqlite-"));
  const filename = join(dir, "bench.db");
  const store = createSqliteStore({ filename });
  const links = createPaymentLinks({ store });
  const raw = new Database(filename, { timeout: 5000 });
  try {
    // The store's pragmas (WAL is a property of the file; synchronous is per connection).
    raw.pragma("journal_mode = WAL");
    raw.pragma("synchronous = FULL");

    const create = async () => (await links.create(scope, input))._unsafeUnwrap().id;

    // Every measured cancel needs a link still pending, and tinybench decides the number of calls from
    // the time they take, which swings tenfold with the disk's fsync latency. So the links are made
    // before measuring, more than the fastest run could use: one real link made by Paylink, cloned
    // with raw SQL in one transaction (only the id and url differ). Through the port, a clone is an
    // ordinary pending link; only its `created` event is missing from the outbox, which cancel never reads.
    const template = await create();
    const clone = raw.prepare(`INSERT INTO payments
      (id, account_id, livemode, kind, status, expires_at, created_at, version, payment)
      SELECT ?, account_id, livemode, kind, status, expires_at, created_at, version,
        json_set(payment, '$.id', ?, '$.url', ?)
      FROM payments WHERE id = ?`);
    const makeLinks = (count: number, prefix: string): string[] => {
      const ids = Array.from({ length: count }, (_, i) => `pay_bench_${prefix}_${i}`);
      raw.exec("BEGIN IMMEDIATE");
      for (const id of ids) clone.run(id, id, `/pay/${id}`, template);
      raw.exec("COMMIT");
      return ids;
    };
    const pool = makeLinks(POOL_SIZE, "cancel");

    // The baseline cycles over its own links, tracking their versions, so each UPDATE changes one row.
    const baselineIds = makeLinks(1000, "update");
    const versions = baselineIds.map(() => 1);
    // A payment JSON of the real size, serialized once: the baseline pays for the write only.
    const sample = (await links.get(scope, template))._unsafeUnwrap();
    const canceledJson = JSON.stringify({
      ...sample,
      status: "canceled",
      canceledAt: new Date().toISOString(),
    });
    const update = raw.prepare(
      "UPDATE payments SET status = ?, version = ?, payment = ? WHERE id = ? AND version = ?",
    );

    let next = 0;
    let exhausted = 0;
    let b = 0;
    const cancel = await compare(
      "cancel on SQLite (per call, synchronous = FULL)",
      {
        name: "links.cancel + SQLite store",
        fn: async () => {
          // Should the pool still run dry, a fresh link is made in the measured call: counted, reported.
          let id = pool[next++];
          if (id === undefined) {
            exhausted++;
            id = await create();
          }
          const result = await links.cancel(scope, id);
          if (result.isErr() || !result.value.changed) throw new Error(`cancel failed for ${id}`);
        },
      },
      {
        name: "raw prepared UPDATE",
        fn: () => {
          const i = b++ % baselineIds.length;
          const version = versions[i]!;
          const { changes } = update.run("canceled", version + 1, canceledJson, baselineIds[i], version);
          if (changes !== 1) throw new Error("baseline UPDATE changed no row");
          versions[i] = version + 1;
        },
      },
      { rounds: ROUNDS, time: TIME_MS },
    );
    if (exhausted > 0)
      console.warn(`bench/sqlite: the link pool ran dry ${exhausted} times (creates measured)`);
    return [cancel];
  } finally {
    raw.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
