/**
 * The one-statement writes: `insert` and `compareAndSwap` send the payment and its events as one SQL
 * statement. These check what that statement stores, on either backend: every event, in the order
 * given, with outbox columns that agree with the event, and nothing at all when the payment is not
 * written.
 */
import type { DomainEvent, Payment, Scope } from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { allEvents, freshStore, openBackend, rawProbe } from "./support.js";

const backend = await openBackend();
afterAll(() => backend.close());

const scope: Scope = { accountId: "acct_writes", livemode: true };
let counter = 0;
const eventOf = (payment: Payment, type: DomainEvent["type"] = "payment_link.viewed"): DomainEvent => ({
  // Ids that sort against their order (z… before a…), so order can only come from the array.
  id: `evt_${String.fromCharCode(122 - (counter % 26))}_${process.pid}_${++counter}`,
  type,
  paymentId: payment.id,
  accountId: scope.accountId,
  livemode: scope.livemode,
  occurredAt: payment.createdAt,
  previousStatus: "pending",
  payment,
});

/** The outbox, in sequence order, holds exactly `events`, each row's columns read off its event. */
async function expectOutboxColumns(pool: pg.Pool, schema: string, events: readonly DomainEvent[]) {
  const { rows } = await pool.query(
    `SELECT event_id, payment_id, account_id, livemode, type, event FROM ${pg.escapeIdentifier(schema)}.paylink_outbox
     ORDER BY sequence`,
  );
  expect(rows).toEqual(
    events.map((event) => ({
      event_id: event.id,
      payment_id: event.paymentId,
      account_id: event.accountId,
      livemode: event.livemode,
      type: event.type,
      event,
    })),
  );
}

test("insert and compareAndSwap with 40 events each: stored in the given order, one row per event, columns from the event", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const probe = rawProbe(pool, schema);
  const payment = samplePayment();
  const created = Array.from({ length: 40 }, () => eventOf(payment, "payment_link.created"));
  expect(await store.insert(scope, { payment, version: 1 }, created)).toBe(true);
  const viewed = { ...payment, status: "viewed" as const };
  const swapped = Array.from({ length: 40 }, () => eventOf(viewed));
  expect(await store.compareAndSwap(scope, { payment: viewed, version: 2 }, 1, swapped)).toBe(true);

  expect(await probe.events(scope, payment.id)).toEqual([...created, ...swapped]);
  const rows = await allEvents(pool, schema);
  for (let i = 1; i < rows.length; i++) expect(rows[i]!.sequence).toBe(rows[i - 1]!.sequence + 1);
  await expectOutboxColumns(pool, schema, [...created, ...swapped]);
  await backend.dropSchema(schema);
});

test("insert and compareAndSwap with exactly one event (their one-event statements): one row, columns from the event", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const probe = rawProbe(pool, schema);
  const payment = samplePayment();
  const created = eventOf(payment, "payment_link.created");
  expect(await store.insert(scope, { payment, version: 1 }, [created])).toBe(true);
  const viewed = { ...payment, status: "viewed" as const };
  const swapped = eventOf(viewed);
  expect(await store.compareAndSwap(scope, { payment: viewed, version: 2 }, 1, [swapped])).toBe(true);
  // Stale: neither the payment nor the event is written.
  expect(await store.compareAndSwap(scope, { payment: viewed, version: 2 }, 1, [eventOf(viewed)])).toBe(
    false,
  );

  expect(await probe.events(scope, payment.id)).toEqual([created, swapped]);
  await expectOutboxColumns(pool, schema, [created, swapped]);
  await backend.dropSchema(schema);
});

test("a write that does not happen writes no event: stale version, other scope, missing payment, existing id", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const payment = samplePayment();
  expect(await store.insert(scope, { payment, version: 1 }, [eventOf(payment, "payment_link.created")])).toBe(
    true,
  );
  const viewed = { ...payment, status: "viewed" as const };
  const other: Scope = { accountId: scope.accountId, livemode: !scope.livemode };
  const missing = samplePayment();
  expect(await store.compareAndSwap(scope, { payment: viewed, version: 3 }, 2, [eventOf(viewed)])).toBe(
    false,
  );
  expect(await store.compareAndSwap(other, { payment: viewed, version: 2 }, 1, [eventOf(viewed)])).toBe(
    false,
  );
  expect(await store.compareAndSwap(scope, { payment: missing, version: 2 }, 1, [eventOf(missing)])).toBe(
    false,
  );
  expect(await store.insert(other, { payment, version: 1 }, [eventOf(payment), eventOf(payment)])).toBe(
    false,
  );
  expect((await allEvents(pool, schema)).length).toBe(1);
  expect((await rawProbe(pool, schema).raw(scope, payment.id))?.version).toBe(1);
  await backend.dropSchema(schema);
});

test("compareAndSwap writes the status, the version and the payment; expires_at and created_at stay as inserted", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const columns = async (id: string) =>
    (
      await pool.query(
        `SELECT status, version, expires_at, created_at FROM ${pg.escapeIdentifier(schema)}.paylink_payments WHERE id = $1`,
        [id],
      )
    ).rows[0];
  const payment = samplePayment();
  expect(await store.insert(scope, { payment, version: 1 }, [])).toBe(true);
  const inserted = await columns(payment.id);
  // Fields core never changes after insert (see `compareAndSwap` in core's port), changed anyway.
  const moved = {
    ...payment,
    status: "viewed" as const,
    expiresAt: "2001-01-02T00:00:00.000Z",
    createdAt: "2001-01-01T00:00:00.000Z",
  };
  expect(await store.compareAndSwap(scope, { payment: moved, version: 2 }, 1, [])).toBe(true);
  expect(await columns(payment.id)).toEqual({
    status: "viewed",
    version: 2,
    expires_at: inserted.expires_at,
    created_at: inserted.created_at,
  });
  expect((await store.get(scope, payment.id))?.payment).toEqual(moved);
  await backend.dropSchema(schema);
});
