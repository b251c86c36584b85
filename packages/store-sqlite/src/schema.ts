/**
 * The schema of a Paylink SQLite file and the SQL the store runs. Internal: tests read it to check query
 * plans; users never need it.
 */
import { expirableStatuses } from "@paylink/core";

/** The table recording which migrations were applied. Its presence marks a file as a Paylink database. */
export const MIGRATIONS_TABLE = "paylink_schema_migrations";

/** One step of the schema. Applied at most once, in `version` order, inside one write transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Every migration, oldest first. Never edit a released migration: add a new one, since files in the field
 * already recorded the old version as applied.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "payments, outbox, idempotency keys",
    // STRICT tables: SQLite's type affinity would otherwise silently turn a mistyped bind into another
    // type; a Paylink file is only ever written by this code, so any mismatch is a bug to surface.
    sql: `
      CREATE TABLE payments (
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
      ) STRICT;
      CREATE INDEX payments_due ON payments (status, expires_at);
      CREATE INDEX payments_list ON payments (account_id, livemode, created_at DESC, id DESC);

      CREATE TABLE outbox (
        -- AUTOINCREMENT: a sequence is never reused, even after the newest events are deleted, so a
        -- publisher's "after" cursor can never skip or replay an event.
        sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id   TEXT    NOT NULL UNIQUE,
        payment_id TEXT    NOT NULL,
        account_id TEXT    NOT NULL,
        livemode   INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        type       TEXT    NOT NULL,
        event      TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX outbox_payment ON outbox (payment_id, sequence);

      CREATE TABLE idempotency_keys (
        account_id      TEXT    NOT NULL,
        livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
        key             TEXT    NOT NULL,
        fingerprint     TEXT    NOT NULL,
        response_status INTEGER,
        response_body   TEXT,
        created_at      TEXT    NOT NULL,
        PRIMARY KEY (account_id, livemode, key)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: "drop the outbox index by payment",
    // No query of the store reads the outbox by payment, and every event write paid for this index: one
    // more B-tree page per commit (measured: 5% of a lone cancel, see docs/benchmarks.md).
    sql: "DROP INDEX IF EXISTS outbox_payment;",
  },
  {
    version: 3,
    name: "idempotency key leases",
    // The token of the request holding a claim, and the end of its lease (ISO-8601). A claim written
    // before this migration has neither: its lease counts as ended, so a retry can take it over.
    sql: `
      ALTER TABLE idempotency_keys ADD COLUMN token TEXT NOT NULL DEFAULT '';
      ALTER TABLE idempotency_keys ADD COLUMN locked_until TEXT NOT NULL DEFAULT '';
    `,
  },
];

/** The newest schema version this package writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The statuses a due expiry moves to `expired`, read off the machine in core (never restated here). They
 * are bound as parameters of {@link FIND_DUE_SQL}, in this order.
 */
export const DUE_STATUSES: readonly string[] = expirableStatuses("link");

/**
 * Due payments, oldest expiry first. The `status IN (…) AND expires_at <= ?` shape lets SQLite search the
 * `payments_due` index once per status instead of scanning the table; a test checks the plan. `rowid`
 * breaks ties by insertion order, as the reference store does.
 */
export const FIND_DUE_SQL = `SELECT id, account_id, livemode FROM payments
  WHERE status IN (${DUE_STATUSES.map(() => "?").join(", ")}) AND expires_at <= ?
  ORDER BY expires_at, rowid LIMIT ?`;

/** The first page of a scope's payments, newest first; served by the `payments_list` index. */
export const LIST_FIRST_SQL = `SELECT payment FROM payments
  WHERE account_id = ? AND livemode = ?
  ORDER BY created_at DESC, id DESC LIMIT ?`;

/** A page after a cursor `(created_at, id)`, newest first; served by the `payments_list` index. */
export const LIST_AFTER_SQL = `SELECT payment FROM payments
  WHERE account_id = ? AND livemode = ? AND (created_at, id) < (?, ?)
  ORDER BY created_at DESC, id DESC LIMIT ?`;

/** How many outbox rows one multi-row INSERT of a group commit holds (6 parameters each). */
export const EVENTS_PER_INSERT = 64;

/** A multi-row outbox INSERT of `rows` events, inserted in the order given. */
export function appendEventsSql(rows: number): string {
  const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?)").join(", ");
  return `INSERT INTO outbox (event_id, payment_id, account_id, livemode, type, event) VALUES ${values}`;
}

/** Every statement the store prepares once at open (so a missing table is found at open, too). */
export const SQL = {
  get: "SELECT payment, version FROM payments WHERE id = ? AND account_id = ? AND livemode = ?",
  // The reads of one event-loop turn at once: the ids as one JSON array (see the store's `get`).
  getMany: `SELECT id, account_id, livemode, payment, version FROM payments
    WHERE id IN (SELECT value FROM json_each(?))`,
  // ON CONFLICT DO NOTHING on the primary key only: an id taken in any scope writes nothing and reports
  // 0 changes, and the insert of events is then skipped in the same transaction.
  insert: `INSERT INTO payments (id, account_id, livemode, kind, status, expires_at, created_at, version, payment)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  // Only the columns a transition can change: kind, expires_at and created_at are fixed at creation
  // (the machine never changes them), and leaving them out of SET spares SQLite rewriting the
  // `payments_list` index entry on every write.
  compareAndSwap: `UPDATE payments SET status = ?, version = ?, payment = ?
    WHERE id = ? AND account_id = ? AND livemode = ? AND version = ?`,
  appendEvent: `INSERT INTO outbox (event_id, payment_id, account_id, livemode, type, event)
    VALUES (?, ?, ?, ?, ?, ?)`,
  findDue: FIND_DUE_SQL,
  readEvents: "SELECT sequence, event FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT ?",
  cursor: "SELECT created_at, id FROM payments WHERE id = ? AND account_id = ? AND livemode = ?",
  listFirst: LIST_FIRST_SQL,
  listAfter: LIST_AFTER_SQL,
  getKey: `SELECT key, fingerprint, response_status, response_body, created_at, token, locked_until
    FROM idempotency_keys WHERE account_id = ? AND livemode = ? AND key = ?`,
  putKey: `INSERT INTO idempotency_keys
      (account_id, livemode, key, fingerprint, response_status, response_body, created_at, token, locked_until)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (account_id, livemode, key) DO UPDATE SET
      fingerprint = excluded.fingerprint, response_status = excluded.response_status,
      response_body = excluded.response_body, created_at = excluded.created_at,
      token = excluded.token, locked_until = excluded.locked_until`,
  // The claim held with a token and still unanswered: the condition of completing, releasing, and of a
  // write that carries the key's response.
  holdsKey: `SELECT 1 FROM idempotency_keys
    WHERE account_id = ? AND livemode = ? AND key = ? AND token = ? AND response_status IS NULL`,
  completeKey: `UPDATE idempotency_keys SET response_status = ?, response_body = ?
    WHERE account_id = ? AND livemode = ? AND key = ? AND token = ? AND response_status IS NULL`,
  releaseKey: `DELETE FROM idempotency_keys
    WHERE account_id = ? AND livemode = ? AND key = ? AND token = ? AND response_status IS NULL`,
  // A group commit's transaction (see `groupCommit` in the store's options).
  begin: "BEGIN IMMEDIATE",
  commit: "COMMIT",
} as const;
