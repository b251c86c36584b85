/**
 * The file layout: migrations, pragmas, the query plans of the hot queries, and text stored as text.
 */
import { createPaymentLinks, expirableStatuses, type Scope } from "@paylink/core";
import { DUE_STATUSES } from "@paylink/core/store";
import { fakeClock, samplePayment } from "@paylink/testing";
import { afterAll, expect, test } from "vitest";
import {
  DELIVERIES_AFTER_SQL,
  DELIVERIES_FIRST_SQL,
  EVENTS_SQL,
  LEASE_DUE_SQL,
} from "../src/delivery-sql.js";
import { createSqliteStore } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import { FIND_DUE_SQL, LIST_AFTER_SQL, LIST_FIRST_SQL, SQL } from "../src/sql.js";
import { rawDb, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const scope: Scope = { accountId: "acct_schema", livemode: true };

/** The `detail` column of EXPLAIN QUERY PLAN for `sql` on a freshly migrated file. */
function plan(sql: string, ...params: unknown[]): string {
  const file = tmp.file();
  createSqliteStore({ filename: file }).close();
  const db = rawDb(file, { readonly: true });
  try {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    return rows.map((row) => row.detail).join("\n");
  } finally {
    db.close();
  }
}

test("findDue searches the (status, expires_at) index, never scans the table", () => {
  const detail = plan(FIND_DUE_SQL, ...DUE_STATUSES, Date.now(), 100);
  expect(detail).toMatch(/SEARCH payments USING INDEX payments_due \(status=\? AND expires_at<\?\)/);
  expect(detail).not.toMatch(/SCAN payments/);
});

test("list pages search the (account, mode, created_at, id) index, first page and after a cursor", () => {
  for (const detail of [
    plan(LIST_FIRST_SQL, "acct", 0, 20),
    plan(LIST_AFTER_SQL, "acct", 0, "2030-01-01T00:00:00.000Z", "pay_x", 20),
  ]) {
    expect(detail).toMatch(/SEARCH payments USING INDEX payments_list/);
    // Rows come out of the index already in order: no sort step.
    expect(detail).not.toMatch(/TEMP B-TREE/);
  }
});

test("batched reads look every id up by the primary key, never scan the table", () => {
  const detail = plan(SQL.getMany, JSON.stringify(["pay_a", "pay_b"]));
  expect(detail).toMatch(/SEARCH payments USING INDEX sqlite_autoindex_payments_1 \(id=\?\)/);
  expect(detail).not.toMatch(/SCAN payments/);
});

test("leaseDueDeliveries seeks each endpoint's oldest pending and its leases in the partial indexes", () => {
  const detail = plan(LEASE_DUE_SQL, { now: "2030-01-01", limit: 10 });
  expect(detail).toMatch(/SEARCH p USING (COVERING )?INDEX webhook_deliveries_pending \(endpoint_id=\?\)/);
  expect(detail).toMatch(
    /SEARCH l USING (COVERING )?INDEX webhook_deliveries_leased \(endpoint_id=\? AND lease_until>\?\)/,
  );
  expect(detail).not.toMatch(/SCAN (d|p|l)\b/);
});

test("listDeliveries pages search the (endpoint, sequence, id) index, without a sort", () => {
  for (const detail of [
    plan(DELIVERIES_FIRST_SQL, "we_1", "acct", 0, 20),
    plan(DELIVERIES_AFTER_SQL, "we_1", "acct", 0, 5, "whd_x", 20),
  ]) {
    expect(detail).toMatch(/SEARCH webhook_deliveries USING INDEX webhook_deliveries_list/);
    expect(detail).not.toMatch(/TEMP B-TREE/);
  }
});

test("listEvents walks the outbox by sequence from the cursor, without a sort (no index by scope)", () => {
  const detail = plan(EVENTS_SQL, 0, "acct", 0, 20);
  expect(detail).toMatch(/SEARCH outbox USING INTEGER PRIMARY KEY \(rowid>\?\)/);
  expect(detail).not.toMatch(/TEMP B-TREE/);
});

test("the due statuses are the machine's, bound in the statement", () => {
  expect(DUE_STATUSES).toEqual(expirableStatuses("link"));
  expect(FIND_DUE_SQL.match(/\?/g)?.length).toBe(DUE_STATUSES.length + 2);
});

test("migrations: applied once however often the file is opened or migrated; WAL is on", () => {
  const file = tmp.file();
  for (let i = 0; i < 3; i++) {
    const store = createSqliteStore({ filename: file });
    store.migrate();
    store.migrate();
    store.close();
  }
  const db = rawDb(file, { readonly: true });
  try {
    expect(db.prepare("SELECT version, name FROM paylink_schema_migrations ORDER BY version").all()).toEqual(
      MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(
      db
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name",
        )
        .pluck()
        .all(),
    ).toEqual([
      "idempotency_keys",
      "outbox",
      "paylink_schema_migrations",
      "payments",
      "relay_sinks",
      "webhook_deliveries",
      "webhook_endpoints",
    ]);
    // Migration 4 added no index to the outbox: the cancel path writes the same pages as before.
    expect(
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'outbox'").pluck().all(),
    ).toEqual(["sqlite_autoindex_outbox_1"]);
  } finally {
    db.close();
  }
});

test("ids and metadata that look like SQL are bound, stored as text and read back unchanged", async () => {
  const file = tmp.file();
  const store = createSqliteStore({ filename: file });
  const id = "pay_x' OR '1'='1'; DROP TABLE payments; --";
  const metadata = { "a'); DELETE FROM outbox; --": "\"; UPDATE payments SET status='paid' --", q: "%_\\" };
  const payment = samplePayment({ id, metadata, livemode: scope.livemode });
  expect(await store.insert(scope, { payment, version: 1 }, [])).toBe(true);
  const other = samplePayment({ livemode: scope.livemode });
  expect(await store.insert(scope, { payment: other, version: 1 }, [])).toBe(true);
  // A LIKE-style or quote-breaking id matches nothing but itself.
  expect(await store.get(scope, "pay_x' OR '1'='1")).toBeUndefined();
  expect(await store.get(scope, "%")).toBeUndefined();
  const db = rawDb(file, { readonly: true });
  try {
    const row = db.prepare("SELECT id, typeof(id) AS type, payment FROM payments WHERE id = ?").get(id) as {
      id: string;
      type: string;
      payment: string;
    };
    expect(row.type).toBe("text");
    expect(row.id).toBe(id);
    expect(JSON.parse(row.payment).metadata).toEqual(metadata);
    expect(db.prepare("SELECT count(*) FROM payments").pluck().get()).toBe(2);
    expect(db.prepare("SELECT status FROM payments WHERE id = ?").pluck().get(other.id)).toBe("pending");
  } finally {
    db.close();
    store.close();
  }
});

test("expireDue through core sweeps due links via findDue, in every scope, and writes their events", async () => {
  const file = tmp.file();
  const store = createSqliteStore({ filename: file });
  const clock = fakeClock(new Date("2030-01-01T00:00:00.000Z"));
  const links = createPaymentLinks({ store, clock });
  const other: Scope = { accountId: "acct_other", livemode: false };
  const soon = new Date("2030-01-01T01:00:00.000Z");
  const later = new Date("2030-01-02T00:00:00.000Z");
  const base = { customerId: "cus_1", provider: "stripe", amountSubtotal: 100, currency: "GBP" };
  const a = (await links.create(scope, { ...base, expiresAt: soon }))._unsafeUnwrap();
  const b = (await links.create(other, { ...base, expiresAt: soon }))._unsafeUnwrap();
  const c = (await links.create(scope, { ...base, expiresAt: later }))._unsafeUnwrap();
  clock.set(new Date("2030-01-01T02:00:00.000Z"));
  expect((await links.expireDue())._unsafeUnwrap()).toBe(2);
  expect((await links.expireDue())._unsafeUnwrap()).toBe(0);
  const db = rawDb(file, { readonly: true });
  try {
    const status = db.prepare("SELECT status FROM payments WHERE id = ?").pluck();
    expect([a, b, c].map((p) => status.get(p.id))).toEqual(["expired", "expired", "pending"]);
    const types = db.prepare("SELECT type FROM outbox WHERE payment_id = ? ORDER BY sequence").pluck();
    expect(types.all(b.id)).toEqual(["payment_link.created", "payment_link.expired"]);
  } finally {
    db.close();
    store.close();
  }
});
