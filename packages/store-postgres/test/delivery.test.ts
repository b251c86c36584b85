/**
 * The delivery ports on PostgreSQL (RelayStore, WebhookStore, EventFeed): the contract in
 * `@paylink/core/store`, leases raced by two stores on two pools, and migration 4 over a version-3
 * database. Contract tests run on PGlite too; the races need the server and say so when skipped.
 */
import { createPaymentLinks, type Scope } from "@paylink/core";
import type { WebhookDelivery, WebhookEndpoint } from "@paylink/core/store";
import { deliveryStoreConformance, sampleDelivery, sampleEndpoint } from "@paylink/testing";
import pg from "pg";
import { afterAll, expect, onTestFinished, test } from "vitest";
import { eventFeedStatements } from "../src/event-feed.js";
import { createPostgresStore, type PostgresStore, PostgresStoreError } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import { LOCK_NAMESPACE, lockKey, statements } from "../src/sql.js";
import { webhookStatements } from "../src/webhook-sql.js";
import { type Backend, freshStore, openBackend, serverOnly } from "./support.js";

const backend: Backend = await openBackend();
const onServer = backend.kind === "server";
const suffix = serverOnly(backend);
afterAll(() => backend.close());

const scope: Scope = { accountId: "acct_delivery", livemode: false };
const otherScope: Scope = { accountId: "acct_other", livemode: false };
const T0 = "2030-01-01T00:00:00.000Z";
/** `T0` plus `seconds`, as ISO-8601. */
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** A migrated store on a fresh schema, dropped when the test ends. */
async function fresh(): Promise<{ store: PostgresStore; pool: pg.Pool; schema: string }> {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  onTestFinished(() => backend.dropSchema(schema));
  return { store, pool, schema };
}

let counter = 0;
const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint =>
  sampleEndpoint(
    {
      id: `we_${++counter}`,
      url: "https://example.com/hook",
      secret: "whsec_c2VjcmV0",
      createdAt: T0,
      ...overrides,
    },
    scope,
  );
const delivery = (
  endpointId: string,
  sequence: number,
  overrides: Partial<WebhookDelivery> = {},
): WebhookDelivery =>
  sampleDelivery(endpoint({ id: endpointId }), sequence, {
    id: `whd_${endpointId}_${sequence}`,
    eventId: `evt_${sequence}`,
    eventType: "payment_link.canceled",
    payload: `{"id":"evt_${sequence}"}`,
    nextAttemptAt: T0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  });
const succeeded = (attempts = 1) => ({
  status: "succeeded" as const,
  attempts,
  lastStatusCode: 200,
  lastError: null,
  nextAttemptAt: null,
  updatedAt: at(1),
});
const ids = (rows: readonly { id: string }[]) => rows.map((row) => row.id);

// ---- The shared suite ----------------------------------------------------------------------------

// Each store on a schema of its own, so every test starts from empty tables, like a fresh memory store.
const conformancePool = await backend.pool(16);
const schemas = new WeakMap<PostgresStore, string>();
deliveryStoreConformance(
  test,
  async () => {
    const { store, schema } = await freshStore(backend, conformancePool);
    schemas.set(store, schema);
    return store;
  },
  {
    name: "postgres delivery store",
    teardown: (store) => backend.dropSchema(schemas.get(store)!),
    concurrency: 16,
    timeout: 120_000,
  },
);

// ---- What is particular to this store, and the contract checked directly --------------------------

// ---- RelayStore ----------------------------------------------------------------------------------

test("claimSink: a new sink starts at 0; a live lease keeps others out; its owner may claim again", async () => {
  const { store } = await fresh();
  expect(await store.claimSink("webhooks", "relay-a", T0, at(30))).toBe(0);
  expect(await store.claimSink("webhooks", "relay-b", at(10), at(40))).toBeUndefined();
  expect(await store.advanceSink("webhooks", "relay-a", 7, at(60))).toBe(true);
  expect(await store.claimSink("webhooks", "relay-a", at(20), at(90))).toBe(7);
  expect(await store.sinkPositions()).toEqual([
    { sink: "webhooks", position: 7, owner: "relay-a", leaseUntil: at(90) },
  ]);
});

test("claimSink: a lease that ended at or before now is taken over, and the old owner can no longer advance", async () => {
  const { store } = await fresh();
  await store.claimSink("nats", "relay-a", T0, at(30));
  await store.advanceSink("nats", "relay-a", 5, at(30));
  expect(await store.claimSink("nats", "relay-b", at(29.999), at(60))).toBeUndefined();
  expect(await store.claimSink("nats", "relay-b", at(30), at(60))).toBe(5); // ended exactly at now
  expect(await store.advanceSink("nats", "relay-a", 9, at(90))).toBe(false);
  expect(await store.sinkPositions()).toEqual([
    { sink: "nats", position: 5, owner: "relay-b", leaseUntil: at(60) },
  ]);
});

test("times are compared as instants, not as text: the same instant in another offset", async () => {
  const { store } = await fresh();
  await store.claimSink("s", "relay-a", T0, "2030-01-01T01:00:00+01:00"); // = T0
  // As text "2030-01-01T00:00:00.000Z" < "2030-01-01T01:00:00+01:00": the lease would look alive.
  expect(await store.claimSink("s", "relay-b", T0, at(60))).toBe(0);
  // And one that is alive although its text sorts before now's.
  await store.claimSink("t", "relay-a", T0, "2030-01-01T00:00:30.000-05:00"); // = T0 + 5 h
  expect(await store.claimSink("t", "relay-b", "2030-01-01T01:00:00.000Z", at(60))).toBeUndefined();
});

test("advanceSink never moves a position backwards; releaseSink frees only its owner's lease", async () => {
  const { store } = await fresh();
  await store.claimSink("s", "relay-a", T0, at(30));
  expect(await store.advanceSink("s", "relay-a", 10, at(30))).toBe(true);
  expect(await store.advanceSink("s", "relay-a", 4, at(45))).toBe(true);
  await store.releaseSink("s", "relay-b");
  expect(await store.sinkPositions()).toEqual([
    { sink: "s", position: 10, owner: "relay-a", leaseUntil: at(45) },
  ]);
  await store.releaseSink("s", "relay-a");
  expect(await store.sinkPositions()).toEqual([{ sink: "s", position: 10, owner: null, leaseUntil: null }]);
  expect(await store.advanceSink("s", "relay-a", 11, at(60))).toBe(false);
  expect(await store.advanceSink("unknown", "relay-a", 1, at(60))).toBe(false);
  expect(await store.claimSink("s", "relay-b", at(1), at(60))).toBe(10);
});

test("sinkPositions lists every sink by name; lastSequence is the newest outbox sequence", async () => {
  const { store } = await fresh();
  expect(await store.sinkPositions()).toEqual([]);
  expect(await store.lastSequence()).toBe(0);
  for (const sink of ["webhooks", "Nats", "audit"]) await store.claimSink(sink, "relay-a", T0, at(30));
  expect((await store.sinkPositions()).map((p) => p.sink)).toEqual(["Nats", "audit", "webhooks"]);
  const links = createPaymentLinks({ store });
  const link = (await links.create(scope, linkInput()))._unsafeUnwrap();
  await links.cancel(scope, link.id);
  const events = await store.readEvents(0, 100);
  expect(events).toHaveLength(2);
  expect(await store.lastSequence()).toBe(events[1]!.sequence);
});

// ---- WebhookStore: endpoints ---------------------------------------------------------------------

test("endpoints: scoped reads, oldest first by createdAt then id, copies, update and delete", async () => {
  const { store } = await fresh();
  const late = endpoint({ id: "we_b", createdAt: at(10), events: ["payment_link.canceled"] });
  const early = endpoint({ id: "we_c", createdAt: T0 });
  const tie = endpoint({ id: "we_a", createdAt: at(10) });
  const foreign = endpoint({ id: "we_x", accountId: otherScope.accountId });
  for (const e of [late, early, tie, foreign]) await store.insertEndpoint(e);

  expect(await store.getEndpoint(scope, "we_b")).toEqual(late);
  expect(await store.getEndpoint(scope, "we_x")).toBeUndefined();
  expect(await store.getEndpoint({ ...scope, livemode: true }, "we_b")).toBeUndefined();
  expect(ids(await store.listEndpoints(scope))).toEqual(["we_c", "we_a", "we_b"]);
  expect(ids(await store.listEndpoints(otherScope))).toEqual(["we_x"]);

  const copy = (await store.getEndpoint(scope, "we_b"))!;
  (copy.events as string[]).push("mutated");
  expect((await store.getEndpoint(scope, "we_b"))!.events).toEqual(["payment_link.canceled"]);

  const patch = { status: "disabled", disabledReason: "failing", failingSince: at(5) } as const;
  expect(await store.updateEndpoint(otherScope, "we_b", patch)).toBe(false);
  expect(await store.updateEndpoint(scope, "we_b", patch)).toBe(true);
  expect(await store.getEndpoint(scope, "we_b")).toEqual({ ...late, ...patch });
  expect(await store.updateEndpoint(scope, "we_nope", patch)).toBe(false);

  expect(await store.deleteEndpoint(otherScope, "we_b")).toBe(false);
  expect(await store.deleteEndpoint(scope, "we_b")).toBe(true);
  expect(await store.deleteEndpoint(scope, "we_b")).toBe(false);
  expect(await store.getEndpoint(scope, "we_b")).toBeUndefined();
});

test("deleting an endpoint deletes its deliveries; ids with U+0000 are simply not found", async () => {
  const { store } = await fresh();
  const e = endpoint();
  await store.insertEndpoint(e);
  await store.insertDeliveries([delivery(e.id, 1), delivery(e.id, 2)]);
  await store.deleteEndpoint(scope, e.id);
  expect(await store.getDelivery(scope, `whd_${e.id}_1`)).toBeUndefined();
  expect(await store.listDeliveries(scope, e.id, { limit: 10 })).toEqual([]);
  expect(await store.getEndpoint(scope, "we_\u0000")).toBeUndefined();
  expect(await store.getDelivery(scope, "whd_\u0000")).toBeUndefined();
  expect(await store.recordAttempt("whd_\u0000", "d", succeeded())).toBe(false);
});

// ---- WebhookStore: deliveries --------------------------------------------------------------------

test("insertDeliveries skips an (endpoint, event) pair already stored, repeated in the batch, or of no endpoint", async () => {
  const { store } = await fresh();
  const e = endpoint();
  await store.insertEndpoint(e);
  await store.insertDeliveries([delivery(e.id, 1)]);
  await store.insertDeliveries([
    delivery(e.id, 1, { id: "whd_again", payload: "changed" }),
    delivery(e.id, 2),
    delivery(e.id, 2, { id: "whd_twice" }),
    delivery("we_gone", 3),
  ]);
  const listed = await store.listDeliveries(scope, e.id, { limit: 10 });
  expect(ids(listed)).toEqual([`whd_${e.id}_2`, `whd_${e.id}_1`]);
  expect(listed[1]).toEqual(delivery(e.id, 1));
  expect(await store.getDelivery(scope, "whd_we_gone_3")).toBeUndefined();
  await store.insertDeliveries([]);
});

test("listDeliveries: newest first by sequence, paged by the last id, scoped; an unknown cursor gives an empty page", async () => {
  const { store } = await fresh();
  const e = endpoint();
  const f = endpoint();
  await store.insertEndpoint(e);
  await store.insertEndpoint(f);
  await store.insertDeliveries([5, 1, 4, 2, 3].map((n) => delivery(e.id, n)));
  await store.insertDeliveries([delivery(f.id, 9)]);
  const first = await store.listDeliveries(scope, e.id, { limit: 2 });
  expect(first.map((d) => d.sequence)).toEqual([5, 4]);
  const second = await store.listDeliveries(scope, e.id, { limit: 2, startingAfter: first[1]!.id });
  expect(second.map((d) => d.sequence)).toEqual([3, 2]);
  const last = await store.listDeliveries(scope, e.id, { limit: 2, startingAfter: second[1]!.id });
  expect(last.map((d) => d.sequence)).toEqual([1]);
  expect(await store.listDeliveries(scope, e.id, { limit: 2, startingAfter: "whd_unknown" })).toEqual([]);
  expect(await store.listDeliveries(scope, e.id, { limit: 2, startingAfter: `whd_${f.id}_9` })).toEqual([]);
  expect(await store.listDeliveries(otherScope, e.id, { limit: 10 })).toEqual([]);
  expect(await store.listDeliveries(scope, e.id, { limit: 0 })).toEqual([]);
  expect(await store.getDelivery(otherScope, `whd_${e.id}_1`)).toBeUndefined();
});

test("leaseDueDeliveries: each enabled, idle endpoint's oldest pending delivery if due, at most limit", async () => {
  const { store } = await fresh();
  const [a, b, c, off, waiting] = [
    endpoint(),
    endpoint(),
    endpoint(),
    endpoint({ status: "disabled" }),
    endpoint(),
  ];
  for (const e of [a, b, c, off, waiting]) await store.insertEndpoint(e);
  await store.insertDeliveries([
    delivery(a.id, 3),
    delivery(a.id, 1, { status: "succeeded", nextAttemptAt: null }),
    delivery(a.id, 2),
    delivery(b.id, 4),
    delivery(c.id, 6),
    delivery(off.id, 1),
    delivery(waiting.id, 2, { nextAttemptAt: at(60) }), // its oldest is not due: nothing after it goes
    delivery(waiting.id, 5),
  ]);
  const leased = await store.leaseDueDeliveries("d1", T0, at(30), 2);
  expect(ids(leased)).toEqual([`whd_${a.id}_2`, `whd_${b.id}_4`]);
  expect(leased[0]).toEqual(delivery(a.id, 2)); // the lease is not part of the delivery
  // a and b are busy until at(30); c is next; waiting and the disabled endpoint never come.
  expect(ids(await store.leaseDueDeliveries("d2", at(1), at(30), 10))).toEqual([`whd_${c.id}_6`]);
  expect(await store.leaseDueDeliveries("d2", at(2), at(30), 10)).toEqual([]);
  expect(await store.leaseDueDeliveries("d2", at(2), at(30), 0)).toEqual([]);
});

test("recordAttempt ends the lease and needs its owner; a lapsed lease is taken over", async () => {
  const { store } = await fresh();
  const e = endpoint();
  await store.insertEndpoint(e);
  await store.insertDeliveries([delivery(e.id, 1), delivery(e.id, 2)]);
  const [first] = await store.leaseDueDeliveries("d1", T0, at(30), 10);
  expect(first!.id).toBe(`whd_${e.id}_1`);
  expect(await store.recordAttempt(first!.id, "d2", succeeded())).toBe(false);

  // d1 stalls past its lease: d2 takes the same delivery over, and d1's late answer changes nothing.
  expect(await store.leaseDueDeliveries("d2", at(29), at(60), 10)).toEqual([]);
  expect(ids(await store.leaseDueDeliveries("d2", at(30), at(60), 10))).toEqual([first!.id]);
  expect(await store.recordAttempt(first!.id, "d1", succeeded())).toBe(false);
  const retry = {
    status: "pending" as const,
    attempts: 1,
    lastStatusCode: 500,
    lastError: "HTTP 500",
    nextAttemptAt: at(100),
    updatedAt: at(31),
  };
  expect(await store.recordAttempt(first!.id, "d2", retry)).toBe(true);
  expect(await store.getDelivery(scope, first!.id)).toEqual({ ...delivery(e.id, 1), ...retry });
  // Lease ended, but the oldest pending delivery is not due: the endpoint waits.
  expect(await store.leaseDueDeliveries("d3", at(50), at(80), 10)).toEqual([]);
  const again = await store.leaseDueDeliveries("d3", at(100), at(130), 10);
  expect(again).toEqual([{ ...delivery(e.id, 1), ...retry }]);
  expect(await store.recordAttempt(first!.id, "d3", succeeded(2))).toBe(true);
  expect(await store.recordAttempt(first!.id, "d3", succeeded(3))).toBe(false); // the lease is over
  expect(ids(await store.leaseDueDeliveries("d3", at(101), at(130), 10))).toEqual([`whd_${e.id}_2`]);
});

test("reviveDelivery makes a dead delivery pending and due at now, keeping its attempts; only a dead one", async () => {
  const { store } = await fresh();
  const e = endpoint();
  await store.insertEndpoint(e);
  const dead = delivery(e.id, 1, { status: "dead", attempts: 9, nextAttemptAt: null, lastError: "timeout" });
  await store.insertDeliveries([dead, delivery(e.id, 2, { status: "succeeded", nextAttemptAt: null })]);
  expect(await store.reviveDelivery(otherScope, dead.id, at(5))).toBeUndefined();
  expect(await store.reviveDelivery(scope, `whd_${e.id}_2`, at(5))).toBeUndefined();
  const revived = { ...dead, status: "pending", nextAttemptAt: at(5), updatedAt: at(5) };
  expect(await store.reviveDelivery(scope, dead.id, at(5))).toEqual(revived);
  expect(await store.reviveDelivery(scope, dead.id, at(6))).toBeUndefined();
  expect(await store.leaseDueDeliveries("d", at(5), at(30), 10)).toEqual([revived]);
});

test("leaseDueDeliveries reads the pending index, one probe per endpoint, not the endpoint's history", async () => {
  const { store, pool, schema } = await fresh();
  for (let i = 0; i < 20; i++) {
    const e = endpoint();
    await store.insertEndpoint(e);
    const rows = Array.from({ length: 20 }, (_, n) => delivery(e.id, n + 1, { status: "succeeded" }));
    await store.insertDeliveries([...rows, delivery(e.id, 100)]);
  }
  const sql = webhookStatements(statements(schema).schema);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`ANALYZE ${pg.escapeIdentifier(schema)}.paylink_webhook_deliveries`);
    await client.query("SET LOCAL enable_seqscan = off");
    const plan = async (text: string, values: unknown[]) =>
      (await client.query(`EXPLAIN ${text}`, values)).rows.map((row) => row["QUERY PLAN"]).join("\n");
    expect(await plan(sql.leaseDue.text, ["d", T0, at(30), 10])).toContain(
      "paylink_webhook_deliveries_pending",
    );
    expect(await plan(sql.listDeliveries.text, ["we_1", scope.accountId, false, 10])).toContain(
      "paylink_webhook_deliveries_list",
    );
    await client.query("ROLLBACK");
  } finally {
    client.release();
  }
});

// ---- EventFeed -----------------------------------------------------------------------------------

const linkInput = () => ({
  customerId: "cus_1",
  provider: "stripe",
  amountSubtotal: 1000,
  currency: "GBP",
  expiresAt: new Date(Date.now() + 86_400_000),
});

test("listEvents: the scope's events oldest first, paged by the last event id, optionally of one payment", async () => {
  const { store } = await fresh();
  const links = createPaymentLinks({ store });
  const one = (await links.create(scope, linkInput()))._unsafeUnwrap();
  const foreign = (await links.create(otherScope, linkInput()))._unsafeUnwrap();
  const two = (await links.create(scope, linkInput()))._unsafeUnwrap();
  await links.cancel(scope, one.id);
  await links.cancel(otherScope, foreign.id);
  await links.cancel(scope, two.id);
  const all = (await store.readEvents(0, 100)).filter((e) => e.event.accountId === scope.accountId);
  expect(all).toHaveLength(4);

  const page1 = await store.listEvents(scope, { limit: 3 });
  expect(page1).toEqual(all.slice(0, 3));
  const page2 = await store.listEvents(scope, { limit: 3, startingAfter: page1[2]!.event.id });
  expect(page2).toEqual(all.slice(3));
  expect(await store.listEvents(scope, { limit: 3, startingAfter: all[3]!.event.id })).toEqual([]);

  const ofOne = all.filter((e) => e.event.paymentId === one.id);
  expect(await store.listEvents(scope, { limit: 10, paymentId: one.id })).toEqual(ofOne);
  // The cursor need not be the payment's own: the page starts after its sequence.
  const afterSecond = await store.listEvents(scope, {
    limit: 10,
    paymentId: one.id,
    startingAfter: all[1]!.event.id,
  });
  expect(afterSecond).toEqual(ofOne.filter((e) => e.sequence > all[1]!.sequence));

  const foreignEvent = (await store.readEvents(0, 100)).find(
    (e) => e.event.accountId === otherScope.accountId,
  )!;
  expect(await store.listEvents(scope, { limit: 10, startingAfter: foreignEvent.event.id })).toEqual([]);
  expect(await store.listEvents(scope, { limit: 10, startingAfter: "evt_unknown" })).toEqual([]);
  expect(await store.listEvents(scope, { limit: 10, paymentId: foreign.id })).toEqual([]);
  expect(await store.listEvents({ ...scope, livemode: true }, { limit: 10 })).toEqual([]);
  expect(await store.listEvents(scope, { limit: 0 })).toEqual([]);
});

test("listEvents reads the outbox's scope index, not the whole outbox", async () => {
  const { store, pool, schema } = await fresh();
  const links = createPaymentLinks({ store });
  for (let i = 0; i < 10; i++) await links.create(i % 2 === 0 ? scope : otherScope, linkInput());
  const sql = eventFeedStatements(statements(schema).schema);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`ANALYZE ${pg.escapeIdentifier(schema)}.paylink_outbox`);
    await client.query("SET LOCAL enable_seqscan = off");
    const { rows } = await client.query(`EXPLAIN ${sql.listAfter.text}`, [
      scope.accountId,
      false,
      10,
      100,
      "evt_x",
    ]);
    expect(rows.map((row) => row["QUERY PLAN"]).join("\n")).toContain("paylink_outbox_scope");
    await client.query("ROLLBACK");
  } finally {
    client.release();
  }
});

test.skipIf(!onServer)(
  `listEvents waits for a write in flight, so an event with a smaller sequence is never skipped${suffix}`,
  async () => {
    const pools = [await backend.pool(2), await backend.pool(2)];
    onTestFinished(() => backend.end(...pools));
    const { store, schema } = await freshStore(backend, pools[0]!);
    onTestFinished(() => backend.dropSchema(schema));
    const links = createPaymentLinks({ store });
    const first = (await links.create(scope, linkInput()))._unsafeUnwrap();
    // A write in flight, as the store's writes do it: the outbox lock shared, then its event's row.
    const writer = await pools[1]!.connect();
    try {
      await writer.query("BEGIN");
      await writer.query("SELECT pg_advisory_xact_lock_shared($1::int4, $2::int4)", [
        LOCK_NAMESPACE.outbox,
        lockKey(schema),
      ]);
      const event = { id: "evt_in_flight", paymentId: first.id, accountId: scope.accountId, livemode: false };
      await writer.query(
        `INSERT INTO ${pg.escapeIdentifier(schema)}.paylink_outbox (event_id, payment_id, account_id, livemode, type, event)
         VALUES ($1, $2, $3, false, 'payment_link.viewed', $4::jsonb)`,
        [event.id, first.id, scope.accountId, JSON.stringify(event)],
      );
      // A later write commits first, with a larger sequence.
      const writing = links.cancel(scope, first.id);
      let page: string[] | undefined;
      const reading = store.listEvents(scope, { limit: 10 }).then((events) => {
        page = events.map((e) => e.event.id);
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(page).toBeUndefined(); // the feed waits for the write in flight
      await writer.query("COMMIT");
      await Promise.all([reading, writing]);
      // Whatever the page holds is a prefix of the outbox: nothing before its last event is missing.
      const all = (await store.readEvents(0, 100)).map((e) => e.event.id);
      expect(page).toEqual(all.slice(0, page!.length));
      expect(page).toContain("evt_in_flight");
    } finally {
      writer.release();
    }
  },
  60_000,
);

// ---- Errors --------------------------------------------------------------------------------------

test("on a schema never migrated every delivery method rejects with the store's error, code schema", async () => {
  const pool = await backend.pool(1);
  const store = createPostgresStore({ pool, schema: backend.schemaName() });
  const calls: (() => Promise<unknown>)[] = [
    () => store.claimSink("s", "o", T0, at(1)),
    () => store.sinkPositions(),
    () => store.lastSequence(),
    () => store.insertEndpoint(endpoint()),
    () => store.listEndpoints(scope),
    () => store.insertDeliveries([delivery("we_1", 1)]),
    () => store.leaseDueDeliveries("o", T0, at(1), 1),
    () => store.listDeliveries(scope, "we_1", { limit: 1 }),
    () => store.listEvents(scope, { limit: 1 }),
  ];
  for (const call of calls) {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PostgresStoreError);
    expect((error as PostgresStoreError).code).toBe("schema");
  }
});

test("text PostgreSQL cannot hold is rejected as unsupported_text, and nothing is stored", async () => {
  const { store } = await fresh();
  const e = endpoint();
  await store.insertEndpoint(e);
  await expect(store.insertDeliveries([delivery(e.id, 1, { payload: "a\u0000b" })])).rejects.toMatchObject({
    code: "unsupported_text",
  });
  await expect(store.insertEndpoint(endpoint({ url: "https://x/\u0000" }))).rejects.toMatchObject({
    code: "unsupported_text",
  });
  expect(await store.listDeliveries(scope, e.id, { limit: 10 })).toEqual([]);
  expect(ids(await store.listEndpoints(scope))).toEqual([e.id]);
});

// ---- Migration 4 ---------------------------------------------------------------------------------

test("migrate() upgrades a version-3 database: its data stays, the delivery tables arrive", async () => {
  const pool = await backend.pool(2);
  const schema = backend.schemaName();
  onTestFinished(() => backend.dropSchema(schema));
  const sql = statements(schema);
  // The database as version 3 of the store left it: migrations 1–3 applied and recorded.
  await pool.query(sql.createSchema);
  await pool.query(sql.createMigrations);
  for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) {
    for (const statement of migration.statements(sql.schema)) await pool.query(statement);
    await pool.query(sql.recordMigration, [migration.version, migration.name]);
  }
  const store = createPostgresStore({ pool, schema });
  const links = createPaymentLinks({ store });
  const link = (await links.create(scope, linkInput()))._unsafeUnwrap();
  await expect(store.claimSink("s", "o", T0, at(1))).rejects.toMatchObject({ code: "schema" });

  await store.migrate();
  const { rows } = await pool.query(`SELECT version FROM ${sql.schema}.paylink_migrations ORDER BY version`);
  expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
  expect((await store.get(scope, link.id))?.payment).toEqual(link);
  expect(await store.claimSink("s", "o", T0, at(1))).toBe(0);
  expect(await store.lastSequence()).toBe(1);
  expect((await store.listEvents(scope, { limit: 10 })).map((e) => e.event.type)).toEqual([
    "payment_link.created",
  ]);
});

// ---- Races: two stores, two pools, one database --------------------------------------------------

test.skipIf(!onServer)(
  `claimSink: two stores on two pools race for a free sink, 200 rounds: exactly one wins each${suffix}`,
  async () => {
    const pools = [await backend.pool(4), await backend.pool(4)];
    onTestFinished(() => backend.end(...pools));
    const { store: a, schema } = await freshStore(backend, pools[0]!);
    onTestFinished(() => backend.dropSchema(schema));
    const b = createPostgresStore({ pool: pools[1]!, schema });
    for (let round = 0; round < 200; round++) {
      const sink = `sink_${round}`;
      // A new sink in even rounds; in odd ones a lapsed lease of a third relay.
      if (round % 2 === 1) await a.claimSink(sink, "relay-gone", T0, at(1));
      const answers = await Promise.all([
        a.claimSink(sink, "relay-a", at(5), at(60)),
        b.claimSink(sink, "relay-b", at(5), at(60)),
        a.claimSink(sink, "relay-c", at(5), at(60)),
        b.claimSink(sink, "relay-d", at(5), at(60)),
      ]);
      expect(answers.filter((answer) => answer !== undefined)).toEqual([0]);
      const winner = ["relay-a", "relay-b", "relay-c", "relay-d"][answers.findIndex((x) => x !== undefined)];
      expect((await b.sinkPositions()).find((p) => p.sink === sink)?.owner).toBe(winner);
    }
  },
  120_000,
);

test.skipIf(!onServer)(
  `leaseDueDeliveries: four dispatchers on two pools never lease one delivery twice, nor two of one endpoint${suffix}`,
  async () => {
    const pools = [await backend.pool(4), await backend.pool(4)];
    onTestFinished(() => backend.end(...pools));
    const { store: a, schema } = await freshStore(backend, pools[0]!);
    onTestFinished(() => backend.dropSchema(schema));
    const b = createPostgresStore({ pool: pools[1]!, schema });
    const endpoints = Array.from({ length: 12 }, () => endpoint());
    for (const e of endpoints) await a.insertEndpoint(e);
    await a.insertDeliveries(endpoints.flatMap((e) => [10, 11, 12, 13, 14].map((n) => delivery(e.id, n))));
    // Older deliveries that died, made pending again by a reviver, one a round, while the dispatchers
    // lease: a revived one becomes its endpoint's oldest pending delivery under their feet.
    const dead = [1, 2, 3, 4, 5].flatMap((n) => endpoints.map((e) => delivery(e.id, n, { status: "dead" })));
    await a.insertDeliveries(dead);

    const delivered = new Set<string>();
    const dispatchers = [a, b, a, b].map((store, i) => ({ store, owner: `dispatcher-${i}` }));
    for (let round = 0; round < 300 && delivered.size < 120; round++) {
      const now = at(round);
      const reviving = dead[round];
      const [, ...leases] = await Promise.all([
        reviving === undefined ? Promise.resolve() : b.reviveDelivery(scope, reviving.id, now),
        ...dispatchers.map(({ store, owner }) => store.leaseDueDeliveries(owner, now, at(round + 0.5), 5)),
      ]);
      const held = leases.flatMap((rows, i) => rows.map((row) => ({ row, owner: dispatchers[i]!.owner })));
      // Every lease of this round is live at once: distinct deliveries, distinct endpoints.
      expect(new Set(held.map(({ row }) => row.id)).size).toBe(held.length);
      expect(new Set(held.map(({ row }) => row.endpointId)).size).toBe(held.length);
      for (const { row, owner } of held) {
        expect(delivered.has(row.id)).toBe(false);
        const { store } = dispatchers.find((d) => d.owner === owner)!;
        expect(await store.recordAttempt(row.id, owner, succeeded())).toBe(true);
        delivered.add(row.id);
      }
    }
    expect(delivered.size).toBe(120); // 60 pending deliveries, and the 60 dead ones once revived
  },
  120_000,
);
