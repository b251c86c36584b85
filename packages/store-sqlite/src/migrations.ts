/**
 * The schema of a Paylink SQLite file, as versioned migrations, and the code that brings a file to the
 * newest version (or refuses it).
 */
import type { Migration } from "@paylink/core/store";
import type Database from "better-sqlite3";
import { retryBusy } from "./busy.js";
import { SqliteStoreError } from "./errors.js";

/** The table recording which migrations were applied. Its presence marks a file as a Paylink database. */
export const MIGRATIONS_TABLE = "paylink_schema_migrations";

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "payments, outbox, idempotency keys",
    // STRICT tables: SQLite's type affinity would otherwise silently turn a mistyped bind into another
    // type; a Paylink file is only ever written by this code, so any mismatch is a bug to surface.
    statements: () => [
      `CREATE TABLE payments (
        id         TEXT    NOT NULL PRIMARY KEY,
        account_id TEXT    NOT NULL,
        livemode   INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        kind       TEXT    NOT NULL,
        status     TEXT    NOT NULL,
        -- Milliseconds since the epoch, not the ISO text: findDue compares instants, and ISO strings with
        -- different offsets or precisions do not sort as instants. NULL: never expires.
        expires_at INTEGER,
        -- The ISO text itself: list orders by it exactly as the reference store does (string order).
        created_at TEXT    NOT NULL,
        version    INTEGER NOT NULL CHECK (version >= 1),
        -- The Payment as JSON, the source of truth; the columns above are copies for WHERE and ORDER BY.
        payment    TEXT    NOT NULL
      ) STRICT`,
      "CREATE INDEX payments_due ON payments (status, expires_at)",
      "CREATE INDEX payments_list ON payments (account_id, livemode, created_at DESC, id DESC)",
      `CREATE TABLE outbox (
        -- AUTOINCREMENT: a sequence is never reused, even after the newest events are deleted, so a
        -- publisher's "after" cursor can never skip or replay an event.
        sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id   TEXT    NOT NULL UNIQUE,
        payment_id TEXT    NOT NULL,
        account_id TEXT    NOT NULL,
        livemode   INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        type       TEXT    NOT NULL,
        event      TEXT    NOT NULL
      ) STRICT`,
      "CREATE INDEX outbox_payment ON outbox (payment_id, sequence)",
      `CREATE TABLE idempotency_keys (
        account_id      TEXT    NOT NULL,
        livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        key             TEXT    NOT NULL,
        fingerprint     TEXT    NOT NULL,
        response_status INTEGER,
        response_body   TEXT,
        created_at      TEXT    NOT NULL,
        PRIMARY KEY (account_id, livemode, key)
      ) STRICT, WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    name: "drop the outbox index by payment",
    // No query of the store reads the outbox by payment, and every event write paid for this index (one
    // more B-tree page per commit; see docs/benchmarks.md).
    statements: () => ["DROP INDEX IF EXISTS outbox_payment"],
  },
  {
    version: 3,
    name: "idempotency key leases",
    // The token of the request holding a claim, and the end of its lease (ISO-8601). A claim written
    // before this migration has neither: its lease counts as ended, so a retry can take it over.
    statements: () => [
      "ALTER TABLE idempotency_keys ADD COLUMN token TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE idempotency_keys ADD COLUMN locked_until TEXT NOT NULL DEFAULT ''",
    ],
  },
  {
    version: 4,
    name: "sink cursors, webhook endpoints and deliveries",
    // Times are ISO-8601 text, compared as strings exactly as the memory store compares them. No index
    // on the outbox for `listEvents`: it walks the outbox by sequence (its primary key) from the cursor,
    // so a scope's page costs the events written since the cursor, and every index on the outbox costs
    // each commit of the cancel path one more B-tree page (docs/benchmarks.md; see event-feed.ts).
    statements: () => [
      `CREATE TABLE relay_sinks (
        sink        TEXT    NOT NULL PRIMARY KEY,
        position    INTEGER NOT NULL CHECK (position >= 0),
        owner       TEXT,
        lease_until TEXT
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE webhook_endpoints (
        id              TEXT    NOT NULL PRIMARY KEY,
        account_id      TEXT    NOT NULL,
        livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        url             TEXT    NOT NULL,
        secret          TEXT    NOT NULL,
        -- A JSON array of event types, NULL for all.
        events          TEXT,
        status          TEXT    NOT NULL CHECK (status IN ('enabled', 'disabled')),
        disabled_reason TEXT    CHECK (disabled_reason IN ('gone', 'failing')),
        failing_since   TEXT,
        created_at      TEXT    NOT NULL
      ) STRICT`,
      "CREATE INDEX webhook_endpoints_list ON webhook_endpoints (account_id, livemode, created_at, id)",
      `CREATE TABLE webhook_deliveries (
        id               TEXT    NOT NULL PRIMARY KEY,
        endpoint_id      TEXT    NOT NULL,
        account_id       TEXT    NOT NULL,
        livemode         INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        event_id         TEXT    NOT NULL,
        event_type       TEXT    NOT NULL,
        sequence         INTEGER NOT NULL,
        payload          TEXT    NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'dead')),
        attempts         INTEGER NOT NULL CHECK (attempts >= 0),
        last_status_code INTEGER,
        last_error       TEXT,
        next_attempt_at  TEXT,
        created_at       TEXT    NOT NULL,
        updated_at       TEXT    NOT NULL,
        -- The dispatcher posting it now, and until when; both NULL once an attempt is recorded.
        lease_owner      TEXT,
        lease_until      TEXT,
        -- A relay that hands an event again must not get it posted twice.
        UNIQUE (endpoint_id, event_id)
      ) STRICT`,
      // listDeliveries, newest first, read backwards.
      "CREATE INDEX webhook_deliveries_list ON webhook_deliveries (endpoint_id, sequence, id)",
      // leaseDueDeliveries: an endpoint's oldest pending delivery, found without walking the delivered
      // ones. Partial, so it holds only the backlog.
      "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, sequence) WHERE status = 'pending'",
      // leaseDueDeliveries: whether an endpoint has a delivery leased right now. Only leased rows.
      "CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (endpoint_id, lease_until) WHERE lease_until IS NOT NULL",
    ],
  },
];

/** The newest schema version this package writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the file to {@link LATEST_VERSION}. The common case (already migrated) only reads, so opening
 * never takes the write lock. Otherwise the version is read again under `BEGIN IMMEDIATE`: of two
 * processes opening one new file at once, the second waits for the first's transaction, then finds
 * nothing left to do.
 * @throws {SqliteStoreError} for a foreign file or a newer schema; the driver's error for anything else.
 */
export function migrate(db: Database.Database, busyTimeoutMs: number): void {
  if (schemaVersion(db) === LATEST_VERSION) return;
  const run = db.transaction(() => {
    const current = schemaVersion(db);
    if (current === 0)
      db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        version    INTEGER NOT NULL PRIMARY KEY,
        name       TEXT    NOT NULL,
        applied_at TEXT    NOT NULL
      ) STRICT`);
    const record = db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements()) db.exec(statement);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
  });
  retryBusy(busyTimeoutMs, () => run.immediate());
}

/** The applied schema version, 0 for an empty file; refuses a foreign file and a newer schema. */
function schemaVersion(db: Database.Database): number {
  const tables = userTables(db);
  if (!tables.includes(MIGRATIONS_TABLE)) {
    if (tables.length > 0)
      throw new SqliteStoreError("not_a_database", {
        detail: `it holds other tables: ${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", …" : ""}; and no ${MIGRATIONS_TABLE}`,
      });
    return 0;
  }
  const version = db.prepare(`SELECT coalesce(max(version), 0) FROM ${MIGRATIONS_TABLE}`).pluck().get();
  if (typeof version !== "number" || version > LATEST_VERSION)
    throw new SqliteStoreError("schema_too_new", {
      detail: `schema version ${String(version)}; this package knows up to ${LATEST_VERSION}`,
    });
  return version;
}

/** Tables of the file other than SQLite's own. */
function userTables(db: Database.Database): string[] {
  return (
    db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      )
      .pluck()
      .all() as string[]
  ).sort();
}
