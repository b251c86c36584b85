/**
 * `@paylink/store-sqlite` — the embedded default store of Paylink: one SQLite file through better-sqlite3
 * 12, safe for several processes on one machine, with every committed transition surviving a crash.
 * Start with {@link createSqliteStore}.
 * @packageDocumentation
 */
import { batchReads } from "@paylink/core/store";
import type { Access } from "./access.js";
import { type Connection, openConnection } from "./connection.js";
import { SqliteStoreError, toStoreError } from "./errors.js";
import { sqliteEventFeed } from "./event-feed.js";
import { createWriteQueue } from "./group-commit.js";
import { migrate } from "./migrations.js";
import { type SqliteStore, type SqliteStoreOptions, settingsOf } from "./options.js";
import { findDue, list, readEvents, readMany, readOne } from "./reads.js";
import { sqliteRelayStore } from "./relay-store.js";
import { copyClaim, scopeRow, serialize } from "./rows.js";
import { runGroup } from "./transaction.js";
import { sqliteWebhookStore } from "./webhook-store.js";
import type { Write, WriteOps } from "./writes.js";

export type { Synchronous } from "./connection.js";
export { SqliteStoreError, type SqliteStoreErrorCode } from "./errors.js";
export type { SqliteStore, SqliteStoreOptions } from "./options.js";

/**
 * Creates a store on one SQLite file (better-sqlite3 12, a peer dependency).
 *
 * - WAL journal, `synchronous = FULL` unless `synchronous: "normal"`: a write that resolved is on disk
 *   through a killed process, and with `"full"` through a power cut too; readers never wait for writers.
 * - Several processes may share the file: every write runs in a `BEGIN IMMEDIATE` transaction, and a
 *   writer waits up to `busyTimeoutMs` for another's lock instead of failing. A transition and its outbox
 *   events commit together or not at all.
 * - Group commit (`groupCommit`, default on): writes arriving in the same event-loop turn share one
 *   transaction and one fsync; each is still its own compare-and-swap, answered after the commit. The
 *   reads of one turn are one statement.
 * - The schema is versioned in `paylink_schema_migrations` and migrated on open (see {@link SqliteStore.migrate}).
 * - It is also a `DeliveryStore` (sink cursors and leases, webhook endpoints and deliveries, the event
 *   feed): its writes take part in group commit like the others, and each lease is taken in the write
 *   transaction, so relays in several processes on one file never both win one.
 * - A bad file never throws here: the file is opened now if it can be, else on the next call, and until
 *   then every method rejects with a {@link SqliteStoreError} saying what is wrong (not a SQLite file, not
 *   a Paylink database, corrupt, read-only, disk full, locked, closed).
 *
 * @throws {TypeError} only for invalid options (a missing filename, a negative timeout, an unknown
 *   `synchronous`, a group size < 1).
 * @example
 * import { createPaymentLinks } from "@paylink/core";
 * import { createSqliteStore } from "@paylink/store-sqlite";
 * const store = createSqliteStore({ filename: "./paylink.db" });
 * const links = createPaymentLinks({ store });
 * // … on shutdown:
 * store.close();
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const settings = settingsOf(options);
  const { filename, busyTimeoutMs } = settings;
  const toError = (error: unknown) => toStoreError(error, busyTimeoutMs);
  const closedError = () => new SqliteStoreError("closed");

  let connection: Connection | undefined;
  let closed = false;

  // Opens on demand and stays open; a failed open is retried by the next call, so a store created while
  // the file was locked or missing its directory recovers without a restart.
  const connect = (): Connection => {
    if (closed) throw closedError();
    connection ??= openConnection(settings);
    return connection;
  };

  /** `work` on the connection now, any failure thrown as a {@link SqliteStoreError}. */
  const now = <T>(work: (c: Connection) => T): T => {
    try {
      return work(connect());
    } catch (error) {
      throw toError(error);
    }
  };

  // Every port method answers through a promise: a failure rejects, never throws synchronously (core
  // catches rejections, and a caller's `.then` chain stays intact).
  const read = <T>(work: (c: Connection) => T): Promise<T> => {
    try {
      return Promise.resolve(now(work));
    } catch (error) {
      return Promise.reject(error);
    }
  };

  // Without group commit every write is a group of its own, and every read its own statement.
  const writes = createWriteQueue<Write>({
    runGroup: (group, wait) => runGroup(connect(), group, wait, busyTimeoutMs),
    maxGroupSize: settings.groupCommit ? settings.maxGroupSize : 1,
    busyTimeoutMs,
    toError,
  });
  const reads = batchReads({
    readOne: (scope, id) => now((c) => readOne(c, scope, id)),
    readMany: (ids) => now((c) => readMany(c, ids)),
  });

  // A write's arguments are read at the call, never when its group runs: the caller may reuse them.
  const write = <T>(work: (ops: WriteOps) => T): Promise<T> =>
    closed ? Promise.reject(closedError()) : (writes.push(work) as Promise<T>);

  // The delivery ports (relay-store.ts, webhook-store.ts, event-feed.ts) read and write the same way.
  const access: Access = { read, write: (work) => write((ops) => work(ops.connection)) };

  try {
    connect();
  } catch {
    // Deliberately ignored: the next call reopens and rejects with the reason (see `connect`).
  }

  return {
    filename,
    get: (scope, id) => {
      if (closed) return Promise.reject(closedError());
      return settings.groupCommit ? reads.get(scope, id) : read((c) => readOne(c, scope, id));
    },
    insert: (scope, record, events, idempotency) => {
      const w = serialize(scope, record, events, idempotency);
      return write((ops) => ops.insert(w));
    },
    compareAndSwap: (scope, next, expectedVersion, events, idempotency) => {
      const w = serialize(scope, next, events, idempotency);
      return write((ops) => ops.compareAndSwap(w, expectedVersion));
    },
    findDue: (at, limit) => read((c) => findDue(c, at, limit)),
    readEvents: (after, limit) => read((c) => readEvents(c, after, limit)),
    list: (scope, { limit, startingAfter }) => read((c) => list(c, scope, limit, startingAfter)),
    claimIdempotencyKey: (scope, record, expiredBefore) => {
      const at = scopeRow(scope);
      const claim = copyClaim(record);
      return write((ops) => ops.claimKey(at, claim, expiredBefore));
    },
    completeIdempotencyKey: (scope, key, token, { status, body }) => {
      const at = scopeRow(scope);
      return write((ops) => ops.completeKey(at, key, token, status, body));
    },
    releaseIdempotencyKey: (scope, key, token) => {
      const at = scopeRow(scope);
      return write((ops) => ops.releaseKey(at, key, token));
    },
    migrate() {
      now((c) => migrate(c.db, busyTimeoutMs));
    },
    close() {
      if (closed) return;
      // Writes still waiting for their group are committed first, and reads still waiting are answered:
      // nothing accepted is dropped.
      writes.drain();
      reads.flush();
      closed = true;
      const open = connection;
      connection = undefined;
      open?.db.close();
    },
    ...sqliteRelayStore(access),
    ...sqliteWebhookStore(access),
    ...sqliteEventFeed(access),
  };
}
