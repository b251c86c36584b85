/**
 * Group commit: writes that arrive together share one transaction (one fsync), yet each stays its own
 * compare-and-swap, fails alone, and is answered only once committed.
 */
import { createPaymentLinks, type DomainEvent, type Payment, type Scope } from "@paylink/core";
import { sampleLinkInput } from "@paylink/testing";
import { afterAll, afterEach, expect, test } from "vitest";
import { createSqliteStore, type SqliteStore, SqliteStoreError } from "../src/index.js";
import { rawDb, tempDir } from "./helpers.js";

const scope: Scope = { accountId: "acct_group", livemode: false };
const tmp = tempDir();
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});
const open = (filename: string, groupCommit = true) => {
  const store = createSqliteStore({ filename, groupCommit });
  stores.push(store);
  return store;
};

/** WAL frames written since the last truncation: every committed transaction appends its pages. */
function walFrames(filename: string): number {
  const db = rawDb(filename);
  try {
    const [row] = db.pragma("wal_checkpoint(PASSIVE)") as { log: number }[];
    return row!.log;
  } finally {
    db.close();
  }
}
function truncateWal(filename: string): void {
  const db = rawDb(filename);
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** WAL frames written by `count` concurrent cancels, with or without group commit. */
async function framesFor(groupCommit: boolean, count: number): Promise<number> {
  const filename = tmp.file();
  const links = createPaymentLinks({ store: open(filename, groupCommit) });
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push((await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap().id);
  truncateWal(filename);
  const results = await Promise.all(ids.map((id) => links.cancel(scope, id)));
  expect(results.map((r) => r.isOk() && r.value.changed)).toEqual(ids.map(() => true));
  return walFrames(filename);
}

test("concurrent cancels share transactions: far fewer WAL frames than one commit each", async () => {
  const alone = await framesFor(false, 64);
  const grouped = await framesFor(true, 64);
  // Alone, each commit rewrites its pages (row, indexes, outbox): ≥ 64 × 2 frames. Grouped, a page
  // touched by many cancels is written once per transaction.
  expect(alone).toBeGreaterThanOrEqual(128);
  expect(grouped * 4).toBeLessThan(alone);
});

test("a write that fails in a group is undone alone; the others commit and answer true", async () => {
  const filename = tmp.file();
  const store = open(filename);
  const now = new Date().toISOString();
  const payment = (id: string): Payment => ({
    id,
    customerId: "cus_1",
    kind: "link",
    status: "pending",
    provider: "stripe",
    amountSubtotal: 100,
    taxAmount: 0,
    amountTotal: 100,
    currency: "GBP",
    description: null,
    metadata: {},
    url: `/pay/${id}`,
    expiresAt: null,
    createdAt: now,
    updatedAt: now,
    object: "payment",
    livemode: false,
    viewedAt: null,
    attemptedAt: null,
    paidAt: null,
    canceledAt: null,
    expiredAt: null,
  });
  const created = (p: Payment, eventId: string): DomainEvent[] => [
    {
      id: eventId,
      type: "payment_link.created",
      paymentId: p.id,
      accountId: scope.accountId,
      livemode: false,
      occurredAt: now,
      previousStatus: null,
      payment: p,
    },
  ];
  const a = payment("pay_group_a");
  const b = payment("pay_group_b");
  const c = payment("pay_group_c");
  // b reuses a's event id: its payment row is written, then its event breaks the UNIQUE constraint.
  const outcomes = await Promise.allSettled([
    store.insert(scope, { payment: a, version: 1 }, created(a, "evt_same")),
    store.insert(scope, { payment: b, version: 1 }, created(b, "evt_same")),
    store.insert(scope, { payment: c, version: 1 }, created(c, "evt_c")),
  ]);
  expect(outcomes[0]).toEqual({ status: "fulfilled", value: true });
  expect(outcomes[1]!.status).toBe("rejected");
  expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(SqliteStoreError);
  expect((outcomes[1] as PromiseRejectedResult).reason.code).toBe("constraint");
  expect(outcomes[2]).toEqual({ status: "fulfilled", value: true });

  const db = rawDb(filename);
  try {
    const ids = db.prepare("SELECT id FROM payments ORDER BY id").pluck().all();
    // b's row, written before its event failed, was rolled back with it.
    expect(ids).toEqual(["pay_group_a", "pay_group_c"]);
    expect(db.prepare("SELECT event_id FROM outbox ORDER BY sequence").pluck().all()).toEqual([
      "evt_same",
      "evt_c",
    ]);
  } finally {
    db.close();
  }
});

test("a lost compare-and-swap in a group changes nothing; the command retries and decides again", async () => {
  const filename = tmp.file();
  const links = createPaymentLinks({ store: open(filename) });
  const id = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap().id;
  // Eight cancels read version 1 together and swap in one group: one wins, the others lose, re-read
  // the canceled link and answer changed: false.
  const results = await Promise.all(Array.from({ length: 8 }, () => links.cancel(scope, id)));
  expect(results.filter((r) => r._unsafeUnwrap().changed)).toHaveLength(1);
  const db = rawDb(filename);
  try {
    expect(db.prepare("SELECT version FROM payments WHERE id = ?").pluck().get(id)).toBe(2);
    expect(db.prepare("SELECT count(*) FROM outbox WHERE payment_id = ?").pluck().get(id)).toBe(2);
  } finally {
    db.close();
  }
});

test("close() commits the writes still waiting for their group, then refuses new ones", async () => {
  const filename = tmp.file();
  const store = open(filename);
  const links = createPaymentLinks({ store });
  const id = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap().id;
  const record = (await store.get(scope, id))!;
  const next = { payment: { ...record.payment, status: "canceled" as const }, version: 2 };
  const pending = store.compareAndSwap(scope, next, 1, []);
  store.close();
  await expect(pending).resolves.toBe(true);
  await expect(store.compareAndSwap(scope, next, 2, [])).rejects.toMatchObject({ code: "closed" });
  const db = rawDb(filename);
  try {
    expect(db.prepare("SELECT status FROM payments WHERE id = ?").pluck().get(id)).toBe("canceled");
  } finally {
    db.close();
  }
});

// That concurrent reads (one statement here) each honour their scope and get their own object is a law
// of the conformance suite, which this store runs with group commit on.

test("a batch of reads on a closed store rejects each; reads queued before close() are answered", async () => {
  const store = open(tmp.file());
  const links = createPaymentLinks({ store });
  const a = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap();
  const queued = Promise.all([store.get(scope, a.id), store.get(scope, "pay_missing")]);
  store.close();
  expect(await queued).toEqual([{ payment: a, version: 1 }, undefined]);
  const late = await Promise.allSettled([store.get(scope, a.id), store.get(scope, a.id)]);
  expect(late.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  expect((late[0] as PromiseRejectedResult).reason).toMatchObject({ code: "closed" });
});

test("a write waiting for its group stores what was passed at the call, not what the caller changed after", async () => {
  const store = open(tmp.file());
  const links = createPaymentLinks({ store });
  const id = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap().id;
  const record = (await store.get(scope, id))!;
  const next = { payment: { ...record.payment, status: "canceled" as const }, version: 2 };
  const callScope = { ...scope };
  const pending = store.compareAndSwap(callScope, next, 1, []);
  // Before the group commits: the caller reuses its objects.
  next.payment.status = "paid" as never;
  next.payment.metadata.late = "change";
  callScope.accountId = "acct_elsewhere";
  expect(await pending).toBe(true);
  const stored = (await store.get(scope, id))!;
  expect(stored.payment.status).toBe("canceled");
  expect(stored.payment.metadata.late).toBeUndefined();

  const fresh = { ...record.payment, id: "pay_group_mutated", metadata: { order: "A-1" } };
  const inserting = store.insert(scope, { payment: fresh, version: 1 }, []);
  fresh.metadata.order = "changed";
  expect(await inserting).toBe(true);
  expect((await store.get(scope, "pay_group_mutated"))!.payment.metadata.order).toBe("A-1");
});

test("maxGroupSize must be a positive integer", () => {
  expect(() => createSqliteStore({ filename: tmp.file(), maxGroupSize: 0 })).toThrow(TypeError);
});

afterAll(() => tmp.cleanup());
