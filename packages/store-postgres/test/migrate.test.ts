/** Migrations, schema names and indexes: what `migrate()` leaves in the database. */
import { createPaymentLinks, expirableStatuses, type Scope } from "@paylink/core";
import { samplePayment } from "@paylink/testing";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { createPostgresStore } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import { statements } from "../src/sql.js";
import { freshStore, openBackend } from "./support.js";

const backend = await openBackend();
afterAll(() => backend.close());
const scope: Scope = { accountId: "acct_migrate", livemode: false };

test("migrate twice in a row: the second run changes nothing and each version is recorded once", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  const payment = samplePayment();
  await store.insert(scope, { payment, version: 1 }, []);
  await store.migrate();
  expect((await store.get(scope, payment.id))?.payment).toEqual(payment);
  const { rows } = await pool.query(
    `SELECT version, name FROM ${pg.escapeIdentifier(schema)}.paylink_migrations ORDER BY version`,
  );
  expect(rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
  await backend.dropSchema(schema);
});

test("schema names are quoted: quotes, spaces and SQL in the name touch nothing else", async () => {
  const pool = await backend.pool(2);
  const schema = `pay"link ${process.pid}; DROP SCHEMA public CASCADE; --`;
  const store = createPostgresStore({ pool, schema });
  await store.migrate();
  try {
    const links = createPaymentLinks({ store });
    const link = (
      await links.create(scope, {
        customerId: "cus_1",
        provider: "stripe",
        amountSubtotal: 1,
        currency: "GBP",
        expiresAt: new Date(Date.now() + 60_000),
      })
    )._unsafeUnwrap();
    expect((await links.cancel(scope, link.id))._unsafeUnwrap().changed).toBe(true);
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1",
      [schema],
    );
    expect(rows[0].n).toBe(7);
    expect((await pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'public'")).rowCount).toBe(1);
  } finally {
    await backend.dropSchema(schema);
  }
});

test("schema names PostgreSQL would mangle are refused at construction", async () => {
  const pool = await backend.pool(1);
  expect(() => createPostgresStore({ pool, schema: "" })).toThrow(TypeError);
  expect(() => createPostgresStore({ pool, schema: "a\u0000b" })).toThrow(TypeError);
  expect(() => createPostgresStore({ pool, schema: "x".repeat(64) })).toThrow(/63 bytes/);
  expect(() => createPostgresStore({ pool, schema: "x".repeat(63) })).not.toThrow();
});

test("findDue uses the (status, expires_at) index", async () => {
  const pool = await backend.pool(2);
  const { store, schema } = await freshStore(backend, pool);
  for (let i = 0; i < 50; i++) {
    const payment = samplePayment({ status: i % 3 === 0 ? "paid" : "pending" });
    await store.insert(scope, { payment, version: 1 }, []);
  }
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`ANALYZE ${pg.escapeIdentifier(schema)}.paylink_payments`);
    // A 50-row table fits in one page, where a sequential scan is rightly cheaper: forbid it for the plan.
    await client.query("SET LOCAL enable_seqscan = off");
    const { rows } = await client.query(`EXPLAIN ${statements(schema).findDue}`, [
      [...expirableStatuses("link")],
      "2030-01-01T00:00:00.000Z",
      100,
    ]);
    const plan = rows.map((row) => row["QUERY PLAN"]).join("\n");
    expect(plan).toContain("paylink_payments_due");
    await client.query("ROLLBACK");
  } finally {
    client.release();
  }
  await backend.dropSchema(schema);
});
