/**
 * Batched reads: the `get`s of one event-loop turn are one `id = ANY($1)` statement. Each caller must
 * still get exactly what its own single read would have: its scope checked, its own object, its own
 * failure.
 */
import type { Scope } from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import type pg from "pg";
import { afterAll, expect, test } from "vitest";
import { createPostgresStore, type PostgresPool, type PostgresQueryConfig } from "../src/index.js";
import { freshStore, openBackend } from "./support.js";

const backend = await openBackend();
afterAll(() => backend.close());

const live: Scope = { accountId: "acct_reads", livemode: true };
const testMode: Scope = { accountId: "acct_reads", livemode: false };
const other: Scope = { accountId: "acct_other", livemode: true };

/** The pool, counting the statements sent through it (and failing them on demand). */
function counting(pool: pg.Pool) {
  const state = { statements: 0, fail: false };
  const counted: PostgresPool = {
    query: (config: string | PostgresQueryConfig, values?: unknown[]) => {
      state.statements++;
      if (state.fail) return Promise.reject(new Error("connection reset by the test"));
      return pool.query(config, values);
    },
    connect: () => pool.connect(),
  };
  return { counted, state };
}

test("concurrent reads are one statement; each answer honours its scope and is its own object", async () => {
  const pool = await backend.pool(2);
  const { schema } = await freshStore(backend, pool);
  const { counted, state } = counting(pool);
  const store = createPostgresStore({ pool: counted, schema });
  const a = samplePayment({ livemode: true });
  const b = samplePayment({ livemode: false });
  expect(await store.insert(live, { payment: a, version: 1 }, [])).toBe(true);
  expect(await store.insert(testMode, { payment: b, version: 1 }, [])).toBe(true);

  state.statements = 0;
  const [a1, a2, aOther, aTestMode, b1, missing] = await Promise.all([
    store.get(live, a.id),
    store.get(live, a.id),
    store.get(other, a.id),
    store.get(testMode, a.id),
    store.get(testMode, b.id),
    store.get(live, "pay_missing"),
  ]);
  expect(state.statements).toBe(1);
  expect(a1).toEqual({ payment: a, version: 1 });
  expect(a2).toEqual({ payment: a, version: 1 });
  // Two reads of one id in one batch never share an object.
  expect(a1!.payment).not.toBe(a2!.payment);
  a1!.payment.metadata.changed = "yes";
  expect(a2!.payment.metadata.changed).toBeUndefined();
  // Another account, or the other mode, does not see it.
  expect(aOther).toBeUndefined();
  expect(aTestMode).toBeUndefined();
  expect(b1).toEqual({ payment: b, version: 1 });
  expect(missing).toBeUndefined();

  // A read alone is the single-row statement, as before.
  state.statements = 0;
  expect(await store.get(live, a.id)).toEqual({ payment: a, version: 1 });
  expect(state.statements).toBe(1);
  await backend.end(pool);
});

test("a failed batch rejects every read in it with the store's error; the next batch works", async () => {
  const pool = await backend.pool(2);
  const { schema } = await freshStore(backend, pool);
  const { counted, state } = counting(pool);
  const store = createPostgresStore({ pool: counted, schema });
  const a = samplePayment({ livemode: true });
  expect(await store.insert(live, { payment: a, version: 1 }, [])).toBe(true);

  state.fail = true;
  const failed = await Promise.allSettled([store.get(live, a.id), store.get(live, "pay_other")]);
  for (const outcome of failed) {
    expect(outcome.status).toBe("rejected");
    const reason = (outcome as PromiseRejectedResult).reason as Error & { code?: string };
    expect(reason.name).toBe("PostgresStoreError");
    // The driver's message stays in `cause`, never in the store's message.
    expect(reason.message).not.toContain("connection reset");
  }
  state.fail = false;
  const [again, none] = await Promise.all([store.get(live, a.id), store.get(live, "pay_other")]);
  expect(again).toEqual({ payment: a, version: 1 });
  expect(none).toBeUndefined();
  await backend.end(pool);
});
