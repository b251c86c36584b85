/**
 * Batched reads: the `get`s of one event-loop turn are one `id = ANY($1)` statement. Each caller must
 * still get exactly what its own single read would have: its scope checked, its own object, its own
 * failure. And the one meaning of `limit` in every read that takes one.
 */
import { createPaymentLinks, type Scope } from "@paylink/core";
import { sampleLinkInput, samplePayment } from "@paylink/testing";
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

// That concurrent reads each honour their scope and get their own object is a law of the conformance
// suite (conformance.test.ts runs it on this store); here, what is particular to it: one statement.
test("concurrent reads are one statement; a read alone is the single-row statement", async () => {
  const pool = await backend.pool(2);
  const { schema } = await freshStore(backend, pool);
  const { counted, state } = counting(pool);
  const store = createPostgresStore({ pool: counted, schema });
  const a = samplePayment({ livemode: true });
  const b = samplePayment({ livemode: false });
  expect(await store.insert(live, { payment: a, version: 1 }, [])).toBe(true);
  expect(await store.insert(testMode, { payment: b, version: 1 }, [])).toBe(true);

  state.statements = 0;
  const reads = await Promise.all([
    store.get(live, a.id),
    store.get(live, a.id),
    store.get(other, a.id),
    store.get(testMode, b.id),
    store.get(live, "pay_missing"),
  ]);
  expect(state.statements).toBe(1);
  expect(reads).toEqual([
    { payment: a, version: 1 },
    { payment: a, version: 1 },
    undefined,
    { payment: b, version: 1 },
    undefined,
  ]);

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

// The meaning `rowLimit` (in `@paylink/core/store`) gives every `limit` of the port, as counts of three.
const LIMITS: readonly (readonly [number, number])[] = [
  [Number.NaN, 0],
  [-1, 0],
  [0, 0],
  [0.5, 0],
  [1.9, 1],
  [2, 2],
  [Number.POSITIVE_INFINITY, 3],
];

test("every limit means what rowLimit says: none for NaN and below 1, fractions truncated, all for Infinity", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const links = createPaymentLinks({ store });
  for (let i = 0; i < 3; i++) (await links.create(live, sampleLinkInput(new Date())))._unsafeUnwrap();
  const later = new Date(Date.now() + 10 * 86_400_000).toISOString();
  for (const [limit, count] of LIMITS) {
    expect((await store.findDue(later, limit)).length, `findDue, limit ${limit}`).toBe(count);
    expect((await store.readEvents(0, limit)).length, `readEvents, limit ${limit}`).toBe(count);
    expect((await store.list(live, { limit })).length, `list, limit ${limit}`).toBe(count);
  }
  await backend.dropSchema(schema);
  await backend.end(pool);
});
