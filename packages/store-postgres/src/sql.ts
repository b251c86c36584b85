/**
 * The SQL of the PostgreSQL store: identifier quoting, the advisory locks and every statement the store
 * runs (the schema's DDL is in `migrations.ts`). Tests import it to `EXPLAIN` the exact statements the
 * store sends.
 * Every value is a bound parameter (`$1` …); only identifiers (the schema name, validated and quoted
 * here) are ever spliced into the text.
 */
import { createHash } from "node:crypto";

/** PostgreSQL silently truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes `name` as a PostgreSQL identifier. Throws for names PostgreSQL would mangle: empty, containing
 * U+0000, or longer than 63 bytes (it would truncate them silently, so two long names could collide).
 */
export function quoteIdentifier(name: string): string {
  if (typeof name !== "string" || name.length === 0) throw new TypeError("schema must be a non-empty string");
  if (name.includes("\u0000")) throw new TypeError("schema must not contain U+0000");
  if (Buffer.byteLength(name, "utf8") > MAX_IDENTIFIER_BYTES)
    throw new TypeError(`schema must be at most ${MAX_IDENTIFIER_BYTES} bytes long`);
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * 32-bit FNV-1a of `text`, as a signed int4: the second half of an advisory-lock key, so that stores on
 * different schemas do not serialize each other. A collision only makes two schemas share a lock.
 */
export function lockKey(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** First half of the advisory-lock keys: one namespace for migrations, one for the outbox, one for leases. */
export const LOCK_NAMESPACE = {
  /** Held by `migrate()` for its whole transaction. */
  migrate: 0x504c4d31, // "PLM1"
  /** The outbox lock: shared by the writes of events, exclusive for `readEvents` (see {@link appendEvents}). */
  outbox: 0x504c4f31, // "PLO1"
  /** Held by `leaseDueDeliveries` for its transaction: leasing dispatchers take turns (see webhook-store.ts). */
  deliveries: 0x504c4431, // "PLD1"
} as const;

/**
 * A statement the store runs as a named prepared statement: parsed and planned once per connection
 * rather than at every call (the one-statement writes take longer to plan than to run). The name ends
 * with a hash of the text, which holds the quoted schema: stores on different schemas sharing a pool
 * never send one name for two texts (which `pg` would refuse), and neither do two versions of the store.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/** {@link PreparedStatement} named `paylink_<key>_<first 16 hex digits of the text's SHA-256>`. */
export function preparedStatement(key: string, text: string): PreparedStatement {
  return { name: `paylink_${key}_${createHash("sha256").update(text).digest("hex").slice(0, 16)}`, text };
}

/** The statements of a store on one schema, built once per store. */
export interface Statements {
  readonly schema: string;
  readonly schemaExists: string;
  readonly createSchema: string;
  readonly createMigrations: string;
  readonly appliedMigrations: string;
  readonly recordMigration: string;
  readonly migrateLock: string;
  readonly get: PreparedStatement;
  /** The payments of several ids at once (parameter: a text array), with their scope columns. */
  readonly getMany: PreparedStatement;
  /**
   * The payment's row (parameters: id, account, livemode, status, expires at, created at, version,
   * payment JSON).
   */
  readonly insert: PreparedStatement;
  /** {@link Statements.insert} and its events in one statement (insert's 8, lock key pair, events). */
  readonly insertWithEvents: PreparedStatement;
  /** {@link Statements.insertWithEvents} for exactly one event (insert's 8, lock key pair, the event's 6). */
  readonly insertWithEvent: PreparedStatement;
  /**
   * The conditional UPDATE (parameters: id, account, livemode, expected version, status, version, payment
   * JSON). It leaves `expires_at` and `created_at` as inserted: the port never changes them.
   */
  readonly compareAndSwap: PreparedStatement;
  /** {@link Statements.compareAndSwap} and its events in one statement (its 7, lock key pair, events). */
  readonly compareAndSwapWithEvents: PreparedStatement;
  /** {@link Statements.compareAndSwapWithEvents} for exactly one event (its 7, lock key pair, the event's 6). */
  readonly compareAndSwapWithEvent: PreparedStatement;
  readonly findDue: string;
  /** The outbox lock, exclusive, taken by `readEvents` before {@link Statements.readEvents}. */
  readonly readEventsLock: PreparedStatement;
  readonly readEvents: PreparedStatement;
  readonly list: PreparedStatement;
  readonly listAfter: PreparedStatement;
  readonly claimKey: string;
  readonly existingKey: string;
  readonly completeKey: string;
  readonly releaseKey: string;
}

/**
 * The tail of a one-statement write: given a statement whose first CTE, `written`, is the payment's
 * INSERT or conditional UPDATE with `RETURNING 1`, appends the events (parameter number `events`: the
 * events as a JSON array, stored in array order) under the outbox lock in SHARED mode (parameters
 * `lock` and `lock + 1`: the key pair), and answers one row when the payment was written, none when it
 * was not. One statement, so one round trip and one (autocommit) transaction: it writes the payment and
 * all its events, or nothing.
 *
 * The outbox lock: why a reader paging by `sequence > after` never skips an event. Sequences are drawn
 * as rows are inserted and transactions commit in any order, so without it a reader could see 11 before
 * 10 commits, and skip 10 forever:
 * - **No write, no events, no lock.** `outbox_lock` reads `written`: when the payment row was not
 *   written it has no row, so the lock is never taken and the join in `appended` yields no event.
 * - **The lock before any sequence.** Sub-statements of a WITH run in no guaranteed order, so the lock
 *   is not left to a CTE of its own: `appended` draws its rows from a join with `outbox_lock`, which
 *   cannot yield a row before `pg_advisory_xact_lock_shared` has returned, and `sequence` (the
 *   identity default) is computed on the join's output. The payment's row lock is already held by then
 *   (the lock reads `written`), and a lock holder waits for nothing but its own COMMIT, so the order
 *   cannot deadlock.
 * - **Held until the rows are visible.** It is a transaction-level lock, and the statement is its own
 *   transaction (or, in the store's READ COMMITTED fallback, the only statement of one): PostgreSQL
 *   releases it after COMMIT has made the rows visible (or after ROLLBACK).
 * - **Writers share it, readers exclude it.** Shared mode lets any number of writers hold it at once,
 *   so their commits (and WAL flushes) overlap instead of queueing one after the other. `readEvents`
 *   takes it EXCLUSIVE first: granted only once no write holds it, that is, once every sequence drawn
 *   so far belongs to a write that has ended, and holding it no write can draw another. Its read, a
 *   later statement of its READ COMMITTED transaction with a fresh snapshot, therefore sees every
 *   committed event with a sequence up to the largest drawn so far, and every later event gets a
 *   larger sequence.
 * - **Events in order.** `WITH ORDINALITY` numbers the array's elements and `ORDER BY` feeds the insert
 *   in that order, so sequences follow the array.
 */
function appendEvents(outbox: string, lock: number, events: number): string {
  return `${outboxLock(lock)},
    appended AS (
      INSERT INTO ${outbox} (event_id, payment_id, account_id, livemode, type, event)
      SELECT e.event ->> 'id', e.event ->> 'paymentId', e.event ->> 'accountId',
        (e.event -> 'livemode')::boolean, e.event ->> 'type', e.event
      FROM outbox_lock
        CROSS JOIN jsonb_array_elements($${events}::jsonb) WITH ORDINALITY AS e(event, position)
      ORDER BY e.position
    )
    SELECT 1 FROM written`;
}

/** The `outbox_lock` CTE of {@link appendEvents} and {@link appendEvent}: one row once the lock is held. */
function outboxLock(lock: number): string {
  return `outbox_lock AS (
      SELECT pg_advisory_xact_lock_shared($${lock}::int4, $${lock + 1}::int4) AS locked FROM written
    )`;
}

/**
 * {@link appendEvents} for exactly one event, the common case (a command announces one event): the
 * event as JSON (parameter `event`) and its id, payment id, account id, livemode and type (the five
 * parameters after it, read off the same event object), so that the database neither unpacks an array
 * nor extracts fields from the JSON. The outbox INSERT is the statement's main query, with no CTE of
 * its own and no final SELECT: it inserts one row exactly when the payment was written, so the
 * statement's row count answers whether it was. Same lock, same join, same guarantees.
 */
function appendEvent(outbox: string, lock: number, event: number): string {
  return `${outboxLock(lock)}
    INSERT INTO ${outbox} (event_id, payment_id, account_id, livemode, type, event)
    SELECT $${event + 1}, $${event + 2}, $${event + 3}, $${event + 4}::boolean, $${event + 5}, $${event}::jsonb
    FROM outbox_lock`;
}

/** Builds the statements for `schema` (unquoted). */
export function statements(schema: string): Statements {
  const s = quoteIdentifier(schema);
  const payments = `${s}.paylink_payments`;
  const outbox = `${s}.paylink_outbox`;
  const keys = `${s}.paylink_idempotency_keys`;
  const insert = `INSERT INTO ${payments} (id, account_id, livemode, status, expires_at, created_at, version, payment)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
      ON CONFLICT (id) DO NOTHING`;
  // The whole compare-and-swap is this one conditional UPDATE: the row lock it takes is released at
  // COMMIT, and a concurrent writer blocked on it re-checks `version` against the committed row
  // (READ COMMITTED re-evaluation, which an UPDATE inside a WITH gets too), so exactly one matches.
  const compareAndSwap = `UPDATE ${payments}
      SET status = $5, version = $6, payment = $7::jsonb
      WHERE id = $1 AND account_id = $2 AND livemode = $3 AND version = $4`;
  return {
    schema: s,
    schemaExists: "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    createMigrations: `CREATE TABLE IF NOT EXISTS ${s}.paylink_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
    appliedMigrations: `SELECT version FROM ${s}.paylink_migrations`,
    recordMigration: `INSERT INTO ${s}.paylink_migrations (version, name) VALUES ($1, $2)`,
    migrateLock: "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
    get: preparedStatement(
      "get",
      `SELECT payment, version FROM ${payments} WHERE id = $1 AND account_id = $2 AND livemode = $3`,
    ),
    getMany: preparedStatement(
      "get_many",
      `SELECT id, account_id, livemode, payment, version FROM ${payments} WHERE id = ANY($1::text[])`,
    ),
    insert: preparedStatement("insert", insert),
    insertWithEvents: preparedStatement(
      "insert_events",
      `WITH written AS (${insert} RETURNING 1),
    ${appendEvents(outbox, 9, 11)}`,
    ),
    insertWithEvent: preparedStatement(
      "insert_event",
      `WITH written AS (${insert} RETURNING 1),
    ${appendEvent(outbox, 9, 11)}`,
    ),
    compareAndSwap: preparedStatement("cas", compareAndSwap),
    compareAndSwapWithEvents: preparedStatement(
      "cas_events",
      `WITH written AS (${compareAndSwap} RETURNING 1),
    ${appendEvents(outbox, 8, 10)}`,
    ),
    compareAndSwapWithEvent: preparedStatement(
      "cas_event",
      `WITH written AS (${compareAndSwap} RETURNING 1),
    ${appendEvent(outbox, 8, 10)}`,
    ),
    findDue: `SELECT id, account_id, livemode FROM ${payments}
      WHERE status = ANY($1::text[]) AND expires_at <= $2::timestamptz
      ORDER BY expires_at, id
      LIMIT $3`,
    readEventsLock: preparedStatement("read_events_lock", "SELECT pg_advisory_xact_lock($1::int4, $2::int4)"),
    readEvents: preparedStatement(
      "read_events",
      `SELECT sequence, event FROM ${outbox} WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
    ),
    list: preparedStatement(
      "list",
      `SELECT payment FROM ${payments}
      WHERE account_id = $1 AND livemode = $2
      ORDER BY created_at DESC, id DESC
      LIMIT $3`,
    ),
    // An unknown cursor makes the sub-select NULL, the row comparison NULL, and the page empty.
    listAfter: preparedStatement(
      "list_after",
      `SELECT payment FROM ${payments}
      WHERE account_id = $1 AND livemode = $2
        AND (created_at, id) < (
          SELECT created_at, id FROM ${payments} WHERE id = $4 AND account_id = $1 AND livemode = $2
        )
      ORDER BY created_at DESC, id DESC
      LIMIT $3`,
    ),
    // A claim inserts, or takes over a key whose record is older than the retention ($7), or an
    // unanswered claim of the same request whose lease ended before the claimer's now (its holder is
    // presumed gone). ON CONFLICT waits for a concurrent claim of the same key to commit, so exactly one
    // claim returns a row.
    claimKey: `INSERT INTO ${keys} AS k
        (account_id, livemode, key, fingerprint, response_status, response_body, created_at, token, locked_until)
      VALUES ($1, $2, $3, $4, $5, $6, $8::timestamptz, $9, $10::timestamptz)
      ON CONFLICT (account_id, livemode, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
            response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at,
            token = EXCLUDED.token, locked_until = EXCLUDED.locked_until
        WHERE k.created_at < $7::timestamptz
          OR (k.response_status IS NULL AND k.fingerprint = EXCLUDED.fingerprint
              AND k.locked_until <= EXCLUDED.created_at)
      RETURNING 1`,
    existingKey: `SELECT key, fingerprint, response_status, response_body, created_at, token, locked_until
      FROM ${keys} WHERE account_id = $1 AND livemode = $2 AND key = $3`,
    // Completing needs the claim's token and an unanswered claim: a taken-over request cannot answer, and
    // a response stored with the request's write is never replaced.
    completeKey: `UPDATE ${keys} SET response_status = $4, response_body = $5
      WHERE account_id = $1 AND livemode = $2 AND key = $3 AND token = $6 AND response_status IS NULL`,
    releaseKey: `DELETE FROM ${keys}
      WHERE account_id = $1 AND livemode = $2 AND key = $3 AND token = $4 AND response_status IS NULL`,
  };
}
