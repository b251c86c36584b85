/** The store's tables, as versioned migrations, and `migrate()`. */
import type { Migration } from "@paylink/core/store";
import type { PostgresClient } from "./pool.js";
import { LOCK_NAMESPACE, type Statements } from "./sql.js";

/**
 * The migrations, oldest first, each given the quoted schema. Table names carry a `paylink_` prefix
 * because the default schema is `public`, which the application's own tables share.
 */
export const MIGRATIONS: readonly Migration<string>[] = [
  {
    version: 1,
    name: "payments, outbox, idempotency keys",
    statements: (s) => [
      // `id` uses the "C" collation so that `list` orders ids by code point, as the reference store does,
      // whatever the database's default collation.
      `CREATE TABLE ${s}.paylink_payments (
        id text COLLATE "C" PRIMARY KEY,
        account_id text NOT NULL,
        livemode boolean NOT NULL,
        status text NOT NULL,
        expires_at timestamptz,
        created_at timestamptz NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        payment jsonb NOT NULL
      )`,
      // findDue: `status = ANY(…) AND expires_at <= now ORDER BY expires_at`.
      `CREATE INDEX paylink_payments_due ON ${s}.paylink_payments (status, expires_at)`,
      // list: one scope, newest first, keyset-paged on (created_at, id).
      `CREATE INDEX paylink_payments_list ON ${s}.paylink_payments (account_id, livemode, created_at DESC, id DESC)`,
      // `sequence` is drawn only while holding the outbox lock (see `appendEvents` in sql.ts). Identity
      // rather than bigserial: nobody can insert a sequence by hand. Its CACHE must stay 1 (the
      // default): cached blocks per session would hand out values out of order.
      `CREATE TABLE ${s}.paylink_outbox (
        sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        payment_id text NOT NULL,
        account_id text NOT NULL,
        livemode boolean NOT NULL,
        type text NOT NULL,
        event jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX paylink_outbox_payment ON ${s}.paylink_outbox (payment_id, sequence)`,
      `CREATE TABLE ${s}.paylink_idempotency_keys (
        account_id text NOT NULL,
        livemode boolean NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        response_status integer,
        response_body text,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, livemode, key)
      )`,
    ],
  },
  {
    version: 2,
    name: "drop the outbox index by payment",
    // No query of the store reads the outbox by payment, and every event write paid for this index.
    statements: (s) => [`DROP INDEX IF EXISTS ${s}.paylink_outbox_payment`],
  },
  {
    version: 3,
    name: "idempotency key leases",
    // The token of the request holding a claim, and the end of its lease. A claim written before this
    // migration has neither: its lease counts as ended, so a retry can take it over.
    statements: (s) => [
      `ALTER TABLE ${s}.paylink_idempotency_keys ADD COLUMN token text NOT NULL DEFAULT ''`,
      `ALTER TABLE ${s}.paylink_idempotency_keys ADD COLUMN locked_until timestamptz NOT NULL DEFAULT '-infinity'`,
    ],
  },
  {
    version: 4,
    name: "sink cursors, webhook endpoints and deliveries",
    statements: (s) => [
      // One row per sink a relay has claimed: its cursor in the outbox and its lease.
      `CREATE TABLE ${s}.paylink_sink_cursors (
        sink text COLLATE "C" PRIMARY KEY,
        position bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
        owner text,
        lease_until timestamptz
      )`,
      `CREATE TABLE ${s}.paylink_webhook_endpoints (
        id text COLLATE "C" PRIMARY KEY,
        account_id text NOT NULL,
        livemode boolean NOT NULL,
        url text NOT NULL,
        secret text NOT NULL,
        events jsonb,
        status text NOT NULL,
        disabled_reason text,
        failing_since timestamptz,
        created_at timestamptz NOT NULL
      )`,
      // listEndpoints: one scope, oldest first.
      `CREATE INDEX paylink_webhook_endpoints_list ON ${s}.paylink_webhook_endpoints (account_id, livemode, created_at, id)`,
      // Deleting an endpoint deletes its deliveries (the unique index below serves the cascade). The
      // payload is text, not jsonb: every attempt posts (and signs) the very same bytes.
      `CREATE TABLE ${s}.paylink_webhook_deliveries (
        id text COLLATE "C" PRIMARY KEY,
        endpoint_id text COLLATE "C" NOT NULL
          REFERENCES ${s}.paylink_webhook_endpoints (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        livemode boolean NOT NULL,
        event_id text NOT NULL,
        event_type text NOT NULL,
        sequence bigint NOT NULL,
        payload text NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        lease_owner text,
        lease_until timestamptz,
        UNIQUE (endpoint_id, event_id)
      )`,
      // leaseDueDeliveries: each endpoint's oldest pending delivery. Partial, so the endpoint's
      // delivered and dead history is never scanned.
      `CREATE INDEX paylink_webhook_deliveries_pending ON ${s}.paylink_webhook_deliveries (endpoint_id, sequence, id)
        WHERE status = 'pending'`,
      // leaseDueDeliveries: whether an endpoint has a delivery leased right now. recordAttempt clears a
      // lease, so only leased deliveries and lapsed leases nobody took over are in it.
      `CREATE INDEX paylink_webhook_deliveries_leased ON ${s}.paylink_webhook_deliveries (endpoint_id, lease_until)
        WHERE lease_until IS NOT NULL`,
      // listDeliveries: one endpoint, newest first, keyset-paged on (sequence, id).
      `CREATE INDEX paylink_webhook_deliveries_list ON ${s}.paylink_webhook_deliveries (endpoint_id, sequence DESC, id DESC)`,
      // listEvents: one scope, oldest first, from a cursor's sequence. Without it a page of a small
      // account scans the whole outbox from its cursor. Its price, paid by every event write: measured
      // on the outbox insert alone, about 4 µs and 100 bytes of WAL (of 1.9 kB) more per event, a few
      // percent of a cancel. A page of one payment's events reads the scope's events from the cursor:
      // an index by payment would cost every write as much again (migration 2 dropped it).
      `CREATE INDEX paylink_outbox_scope ON ${s}.paylink_outbox (account_id, livemode, sequence)`,
    ],
  },
];

/**
 * Applies the migrations `client`'s transaction has not recorded yet, under the migration lock of the
 * schema (`schemaKey`), which serializes concurrent migrators until COMMIT: the later one then finds
 * every version recorded and does nothing. DDL is transactional, so a failed step leaves no trace.
 */
export async function migrate(client: PostgresClient, sql: Statements, schema: string, schemaKey: number) {
  await client.query(sql.migrateLock, [LOCK_NAMESPACE.migrate, schemaKey]);
  // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
  const exists = await client.query(sql.schemaExists, [schema]);
  if (exists.rows.length === 0) await client.query(sql.createSchema);
  await client.query(sql.createMigrations);
  const applied = new Set(
    ((await client.query(sql.appliedMigrations)).rows as { version: number }[]).map((row) => row.version),
  );
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements(sql.schema)) await client.query(statement);
    await client.query(sql.recordMigration, [migration.version, migration.name]);
  }
}
