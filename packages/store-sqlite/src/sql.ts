/**
 * The SQL the store runs, prepared once per connection. Internal: tests read it to check query plans;
 * users never need it. Every value is a bound parameter.
 */
import { DUE_STATUSES } from "@paylink/core/store";
import { DELIVERY_SQL } from "./delivery-sql.js";

/**
 * Due payments, oldest expiry first; the parameters are the `DUE_STATUSES`, in their order, then now (ms)
 * and the limit. The `status IN (…) AND expires_at <= ?` shape lets SQLite search the `payments_due`
 * index once per status instead of scanning the table; a test checks the plan. `rowid` breaks ties by
 * insertion order, as the reference store does.
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
  // The reads of one event-loop turn at once (`batchReads`): the ids as one JSON array. better-sqlite3's
  // cost per statement is most of a read's, so one statement for all of them is the saving.
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
  // A group's transaction (see `runGroup`): the write lock taken before the first read.
  begin: "BEGIN IMMEDIATE",
  commit: "COMMIT",
  // Sink cursors, webhook endpoints and deliveries, the event feed.
  ...DELIVERY_SQL,
} as const;
