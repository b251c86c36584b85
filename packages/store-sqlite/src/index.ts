/**
 * `@paylink/store-sqlite` — the embedded default store of Paylink: one SQLite file through better-sqlite3
 * 12, safe for several processes on one machine, with every committed transition surviving a crash.
 * Start with {@link createSqliteStore}.
 * @packageDocumentation
 */
import {
  type DomainEvent,
  type IdempotencyRecord,
  type IdempotencyStore,
  type IdempotentWrite,
  KEY_LOST,
  type Payment,
  type PaymentRef,
  type PaymentStore,
  type Scope,
  type StoredEvent,
  type StoredPayment,
  type WriteResult,
} from "@paylink/core";
import Database from "better-sqlite3";
import { SqliteStoreError, toStoreError } from "./errors.js";
import {
  appendEventsSql,
  DUE_STATUSES,
  EVENTS_PER_INSERT,
  LATEST_VERSION,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  SQL,
} from "./schema.js";

export { SqliteStoreError, type SqliteStoreErrorCode } from "./errors.js";

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Path of the database file; created (with its directory's `-wal` and `-shm` companions) when missing.
   * Give each Paylink its own file: a file holding other tables is refused as "not a Paylink database".
   */
  readonly filename: string;
  /**
   * How long a write waits for another connection (another process on the same file) to release the
   * write lock before it fails with `busy`, in milliseconds. Default: 5000. The wait does not block the
   * event loop: the lock is tried for at most 2 ms at a time, then again after a pause that grows to
   * 20 ms, while reads and other work go on. Writes hold the lock for well under a millisecond.
   */
  readonly busyTimeoutMs?: number;
  /**
   * Group commit (default `true`): writes that arrive together (in the same turn of the event loop, e.g.
   * concurrent commands or concurrent HTTP requests) are committed in one transaction, so they share one
   * fsync. Each write is still its own compare-and-swap in its own savepoint (a failed one is undone
   * alone), and each caller's promise resolves only after the shared commit, so a write that resolved is
   * durable exactly as without grouping. `false` commits every write on its own.
   */
  readonly groupCommit?: boolean;
  /** The most writes one group commit holds (default 512); more wait for the next transaction. */
  readonly maxGroupSize?: number;
}

/**
 * A SQLite store: Paylink's {@link PaymentStore} and {@link IdempotencyStore} over one file, plus its
 * lifecycle. Every port method rejects with a {@link SqliteStoreError} on failure (core turns that into
 * `store_unavailable`); none throws synchronously.
 */
export interface SqliteStore extends PaymentStore, IdempotencyStore {
  /** The database file this store uses. */
  readonly filename: string;
  /**
   * Applies the pending schema migrations (also done when the file is first opened) and returns once the
   * file is at the newest version. Idempotent, and safe when several processes migrate one file at once.
   * @throws {SqliteStoreError} when the file cannot be opened or migrated (for fail-fast startup checks).
   */
  migrate(): void;
  /**
   * Closes the connection. Idempotent. Afterwards every method rejects with code `closed`. Every write
   * that returned before `close()` is already durable: closing only releases the file.
   */
  close(): void;
}

type Db = Database.Database;

/** A scope as the columns hold it. */
interface ScopeRow {
  readonly accountId: string;
  readonly livemode: 0 | 1;
}

/**
 * A payment write (insert or compare-and-swap) as the rows it writes, serialized when the store is
 * called: a write waiting for its group commit stores what the caller passed at the call, whatever the
 * caller does with its objects afterwards.
 */
interface PaymentWrite {
  readonly scope: ScopeRow;
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  /** Only for an insert: a compare-and-swap never changes the expiry (see `compareAndSwap` in SQL). */
  readonly expiresMs: number | null;
  readonly createdAt: string;
  readonly version: number;
  readonly json: string;
  /** Outbox rows, flat, EVENT_COLUMNS values each: event id, payment id, account id, livemode, type, JSON. */
  readonly events: readonly unknown[];
  /** The idempotency key's response written with the payment (see `IdempotentWrite` in core). */
  readonly key: IdempotentWrite | undefined;
}

/** Values per outbox row in {@link PaymentWrite.events}. */
const EVENT_COLUMNS = 6;

/** The rows of a payment write, from the port's arguments. */
function serialize(
  scope: Scope,
  record: StoredPayment,
  events: readonly DomainEvent[],
  insert: boolean,
  idempotency: IdempotentWrite | undefined,
): PaymentWrite {
  const p = record.payment;
  const json = JSON.stringify(p);
  const rows: unknown[] = [];
  for (const event of events) {
    rows.push(
      event.id,
      event.paymentId,
      event.accountId,
      bit(event.livemode),
      event.type,
      // An event carrying the very payment being written reuses its JSON.
      event.payment === p ? eventJson(event, json) : JSON.stringify(event),
    );
  }
  return {
    scope: scopeRow(scope),
    id: p.id,
    kind: p.kind,
    status: p.status,
    expiresMs: insert ? expiryMs(p.expiresAt) : null,
    createdAt: p.createdAt,
    version: record.version,
    json,
    events: rows,
    key:
      idempotency === undefined
        ? undefined
        : {
            key: idempotency.key,
            token: idempotency.token,
            response: { status: idempotency.response.status, body: idempotency.response.body },
          },
  };
}

const scopeRow = (scope: Scope): ScopeRow => ({ accountId: scope.accountId, livemode: bit(scope.livemode) });
type Statements = { [K in keyof typeof SQL]: Database.Statement };

/** An open, migrated connection with its prepared statements and transactions. */
interface Connection {
  readonly db: Db;
  readonly s: Statements;
  readonly insert: (write: PaymentWrite) => WriteResult;
  readonly compareAndSwap: (write: PaymentWrite, expectedVersion: number) => WriteResult;
  readonly list: (scope: Scope, limit: number, startingAfter: string | undefined) => Payment[];
  readonly claim: (
    scope: ScopeRow,
    record: IdempotencyRecord,
    expiredBefore: string,
  ) => IdempotencyRecord | undefined;
  /**
   * Inside a group commit: run each write in a savepoint of its own (`true`, the default), or bare with
   * its outbox rows collected for {@link Connection.appendCollected}.
   */
  readonly isolateWrites: (on: boolean) => void;
  /** Inserts the outbox rows collected from bare writes, in the order they were written. */
  readonly appendCollected: () => void;
}

interface KeyRow {
  key: string;
  fingerprint: string;
  response_status: number | null;
  response_body: string | null;
  created_at: string;
  token: string;
  locked_until: string;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** The longest one attempt to take the write lock blocks the thread (SQLite's own busy timeout). */
const LOCK_WAIT_SLICE_MS = 2;
/** The longest pause between two attempts to take the write lock, while others run. */
const MAX_LOCK_BACKOFF_MS = 20;

// better-sqlite3 cannot bind booleans; the schema stores livemode as 0/1.
const bit = (livemode: boolean): 0 | 1 => (livemode ? 1 : 0);

/** Expiry as milliseconds since the epoch; an unparsable date is stored as never due, as in the memory store. */
const expiryMs = (expiresAt: string | null): number | null => {
  if (expiresAt === null) return null;
  const ms = Date.parse(expiresAt);
  return Number.isNaN(ms) ? null : ms;
};

/** A SQL LIMIT from a caller's limit: JavaScript `slice` semantics (≤ 0 is empty, fractions truncate). */
const sqlLimit = (limit: number): number =>
  Number.isNaN(limit) ? 0 : Math.max(0, Math.min(Math.trunc(limit), Number.MAX_SAFE_INTEGER));

/** Blocks the thread for `ms` (only while opening, between retries of a busy schema change). */
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const isBusy = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
};

/**
 * Runs a step of opening, retrying while another process holds a lock. SQLite's busy handler already waits
 * for most locks, but it deliberately returns SQLITE_BUSY at once where waiting could deadlock (two
 * connections racing to switch a new file to WAL); a short retry loop resolves that race.
 */
function retryBusy<T>(busyTimeoutMs: number, step: () => T): T {
  const deadline = Date.now() + busyTimeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return step();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      sleepSync(pause);
    }
  }
}

/** Tables of the file other than SQLite's own. */
function userTables(db: Db): string[] {
  return (
    db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      )
      .pluck()
      .all() as string[]
  ).sort();
}

/** The applied schema version, 0 for an empty file; refuses a foreign file and a newer schema. */
function schemaVersion(db: Db): number {
  const tables = userTables(db);
  if (!tables.includes(MIGRATIONS_TABLE)) {
    if (tables.length > 0)
      throw new SqliteStoreError(
        "not_a_database",
        `the file is not a Paylink database (it holds other tables: ${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", …" : ""}; and no ${MIGRATIONS_TABLE})`,
      );
    return 0;
  }
  const version = db.prepare(`SELECT coalesce(max(version), 0) FROM ${MIGRATIONS_TABLE}`).pluck().get();
  if (typeof version !== "number" || version > LATEST_VERSION)
    throw new SqliteStoreError(
      "schema_too_new",
      `the database has schema version ${String(version)}, newer than this @paylink/store-sqlite supports (${LATEST_VERSION}); upgrade the package`,
    );
  return version;
}

/**
 * Brings the file to {@link LATEST_VERSION}. The common case (already migrated) only reads, so opening
 * never takes the write lock. Otherwise the version is read again under `BEGIN IMMEDIATE`: of two
 * processes opening one new file at once, the second waits for the first's transaction, then finds
 * nothing left to do. A migration and its version row commit together, so a crash never leaves half a
 * schema.
 */
function migrateDb(db: Db, busyTimeoutMs: number): void {
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
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
  });
  retryBusy(busyTimeoutMs, () => run.immediate());
}

/** Opens the file, sets the pragmas, migrates and prepares every statement; closes it again on failure. */
function open(filename: string, busyTimeoutMs: number): Connection {
  // `timeout` is SQLite's busy timeout, which blocks the thread while it waits. It is kept short: a write
  // that finds the lock taken is retried asynchronously (see `flush`), so the event loop goes on.
  const db = new Database(filename, { timeout: Math.min(busyTimeoutMs, LOCK_WAIT_SLICE_MS) });
  try {
    // WAL: readers never block the writer nor each other, so processes sharing the file only queue
    // for the (sub-millisecond) write transactions.
    retryBusy(busyTimeoutMs, () => db.pragma("journal_mode = WAL"));
    // FULL, not the NORMAL that better-sqlite3 defaults to under WAL: with NORMAL a commit is not
    // fsynced, so it survives a killed process (the OS still holds the write) but not a power cut or a
    // kernel crash. A cancel that returned Ok has been promised to a merchant; FULL fsyncs the WAL at
    // every commit so it survives both. The cost is one fsync per write (see bench/sqlite.ts).
    db.pragma("synchronous = FULL");
    migrateDb(db, busyTimeoutMs);
    // Preparing everything now finds a missing or altered table at open, not at the first unlucky call.
    const s = Object.fromEntries(
      Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as Statements;
    return { db, s, ...transactions(db, s) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The multi-statement operations, each one transaction. */
function transactions(db: Db, s: Statements): Omit<Connection, "db" | "s"> {
  // In a group's fast path the outbox rows are collected instead, and `appendCollected` inserts them at
  // the end of the group with multi-row INSERTs (one statement per EVENTS_PER_INSERT events instead of
  // one per event), in the order the writes ran, so their sequences follow that order.
  let collected: unknown[] | null = null;
  let collectedRows = 0;
  const append = (events: PaymentWrite["events"]) => {
    if (collected !== null) {
      for (const value of events) collected.push(value);
      collectedRows += events.length / EVENT_COLUMNS;
      return;
    }
    for (let i = 0; i < events.length; i += EVENT_COLUMNS)
      s.appendEvent.run(events.slice(i, i + EVENT_COLUMNS));
  };
  const multiInserts = new Map<number, Database.Statement>();
  const multiInsert = (rows: number) => {
    let statement = multiInserts.get(rows);
    if (statement === undefined) {
      statement = db.prepare(appendEventsSql(rows));
      multiInserts.set(rows, statement);
    }
    return statement;
  };
  const appendCollected = () => {
    if (collected !== null && collectedRows > 0) {
      for (let first = 0; first < collectedRows; first += EVENTS_PER_INSERT) {
        const rows = Math.min(EVENTS_PER_INSERT, collectedRows - first);
        multiInsert(rows).run(collected.slice(first * EVENT_COLUMNS, (first + rows) * EVENT_COLUMNS));
      }
    }
    collected = collected === null ? null : [];
    collectedRows = 0;
  };

  // A write carrying a key's response: the claim must still be held with its token (checked inside the
  // write's transaction, so no claim can change in between), and the response is stored only with the
  // payment (see `IdempotentWrite` in core).
  const keyLost = (w: PaymentWrite) =>
    w.key !== undefined &&
    s.holdsKey.get(w.scope.accountId, w.scope.livemode, w.key.key, w.key.token) === undefined;
  const answerKey = (w: PaymentWrite) => {
    if (w.key === undefined) return;
    const { key, token, response } = w.key;
    s.completeKey.run(response.status, response.body, w.scope.accountId, w.scope.livemode, key, token);
  };

  // Every write runs under BEGIN IMMEDIATE (`.immediate`): the write lock is taken before the first read,
  // so a transaction never has to upgrade a read snapshot to a write, which in WAL mode fails at once
  // with SQLITE_BUSY_SNAPSHOT instead of waiting. Any throw rolls the whole transaction back.
  const insert = (w: PaymentWrite): WriteResult => {
    if (keyLost(w)) return KEY_LOST;
    const { changes } = s.insert.run(
      w.id,
      w.scope.accountId,
      w.scope.livemode,
      w.kind,
      w.status,
      w.expiresMs,
      w.createdAt,
      w.version,
      w.json,
    );
    if (changes !== 1) return false;
    append(w.events);
    answerKey(w);
    return true;
  };

  const compareAndSwap = (w: PaymentWrite, expectedVersion: number): WriteResult => {
    if (keyLost(w)) return KEY_LOST;
    const { changes } = s.compareAndSwap.run(
      w.status,
      w.version,
      w.json,
      w.id,
      w.scope.accountId,
      w.scope.livemode,
      expectedVersion,
    );
    // The version check and the write are one statement: a lost race changes no row and appends
    // no event.
    if (changes !== 1) return false;
    append(w.events);
    answerKey(w);
    return true;
  };

  // Pages are lists of JSON texts: pluck the one column.
  const listFirst = s.listFirst.pluck();
  const listAfter = s.listAfter.pluck();
  // A read transaction (deferred BEGIN): the cursor and the page come from one snapshot.
  const list = db.transaction((scope: Scope, limit: number, startingAfter: string | undefined) => {
    const livemode = bit(scope.livemode);
    let rows: unknown[];
    if (startingAfter === undefined) {
      rows = listFirst.all(scope.accountId, livemode, limit);
    } else {
      const cursor = s.cursor.get(startingAfter, scope.accountId, livemode) as
        | { created_at: string; id: string }
        | undefined;
      if (cursor === undefined) return [];
      rows = listAfter.all(scope.accountId, livemode, cursor.created_at, cursor.id, limit);
    }
    return rows.map((json) => JSON.parse(json as string) as Payment);
  });

  const claim = (scope: ScopeRow, record: IdempotencyRecord, expiredBefore: string) => {
    const livemode = scope.livemode;
    const existing = s.getKey.get(scope.accountId, livemode, record.key) as KeyRow | undefined;
    // Compared as strings in JavaScript, exactly as the memory store does: kept unless past retention, or
    // an unanswered claim of the same request whose lease ended (its holder is presumed gone).
    if (
      existing !== undefined &&
      existing.created_at >= expiredBefore &&
      !(
        existing.response_status === null &&
        existing.fingerprint === record.fingerprint &&
        existing.locked_until <= record.createdAt
      )
    )
      return toRecord(existing);
    s.putKey.run(
      scope.accountId,
      livemode,
      record.key,
      record.fingerprint,
      record.response?.status ?? null,
      record.response?.body ?? null,
      record.createdAt,
      record.token,
      record.lockedUntil,
    );
    return undefined;
  };

  // Each write three ways: alone, its own BEGIN IMMEDIATE transaction; inside a group commit, either
  // bare (the fast path: the group's transaction is all the atomicity it needs) or, once a write of the
  // group has failed, in a SAVEPOINT of its own (a better-sqlite3 transaction function called inside a
  // transaction), so that a failing write is rolled back alone and the others are kept.
  const tx = {
    insert: db.transaction(insert),
    compareAndSwap: db.transaction(compareAndSwap),
    claim: db.transaction(claim),
  };
  let isolate = true;
  const mode =
    <A extends unknown[], R>(bare: (...args: A) => R, wrapped: Database.Transaction<(...args: A) => R>) =>
    (...args: A): R =>
      !db.inTransaction ? wrapped.immediate(...args) : isolate ? wrapped(...args) : bare(...args);
  return {
    insert: mode(insert, tx.insert),
    compareAndSwap: mode(compareAndSwap, tx.compareAndSwap),
    list: (...args) => list.deferred(...args),
    claim: mode(claim, tx.claim),
    isolateWrites: (on) => {
      isolate = on;
      collected = on ? null : [];
      collectedRows = 0;
    },
    appendCollected,
  };
}

/**
 * `JSON.stringify(event)` with the payment's JSON already in hand: the event's other fields, then its
 * `payment` (last, where core puts it), as text.
 */
function eventJson(event: DomainEvent, paymentJson: string): string {
  const { payment: _payment, ...rest } = event;
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"payment":${paymentJson}}`;
}

/**
 * Ends a failed transaction. A ROLLBACK that fails in turn (an I/O error) is left to SQLite, which
 * rolls back a transaction it cannot commit; it must not escape a group commit, whose callers are still
 * to be answered.
 */
function rollback(c: Connection): void {
  try {
    if (c.db.inTransaction) c.db.exec("ROLLBACK");
  } catch {
    // Deliberately ignored: see above.
  }
}

/** One `get` on its own statement. */
function readOne(c: Connection, scope: ScopeRow, id: string): StoredPayment | undefined {
  const row = c.s.get.get(id, scope.accountId, scope.livemode) as
    | { payment: string; version: number }
    | undefined;
  // Parsed from the stored JSON on every call: the caller always gets a fresh object.
  return row === undefined
    ? undefined
    : { payment: JSON.parse(row.payment) as Payment, version: row.version };
}

/** A row of {@link SQL.getMany}. */
interface ManyRow {
  id: string;
  account_id: string;
  livemode: number;
  payment: string;
  version: number;
}

/** A `get` waiting for the next batch of reads. */
interface PendingRead {
  readonly scope: ScopeRow;
  readonly id: string;
  readonly resolve: (record: StoredPayment | undefined) => void;
  readonly reject: (error: unknown) => void;
}

function toRecord(row: KeyRow): IdempotencyRecord {
  return {
    key: row.key,
    fingerprint: row.fingerprint,
    response:
      row.response_status === null ? null : { status: row.response_status, body: row.response_body ?? "" },
    createdAt: row.created_at,
    token: row.token,
    lockedUntil: row.locked_until,
  };
}

/**
 * Creates a store on one SQLite file (better-sqlite3 12, a peer dependency).
 *
 * - WAL journal with `synchronous = FULL`: a write that resolved is on disk, through a killed process or a
 *   power cut; readers never wait for writers.
 * - Several processes may share the file: every write runs in a `BEGIN IMMEDIATE` transaction, and a
 *   writer waits up to `busyTimeoutMs` for another's lock instead of failing. A transition and its outbox
 *   events commit together or not at all.
 * - Group commit (`groupCommit`, default on): writes arriving in the same event-loop turn share one
 *   transaction and one fsync; each is still its own compare-and-swap, answered after the commit.
 * - The schema is versioned in `paylink_schema_migrations` and migrated on open (see {@link SqliteStore.migrate}).
 * - A bad file never throws here: the file is opened now if it can be, else on the next call, and until
 *   then every method rejects with a {@link SqliteStoreError} saying what is wrong (not a SQLite file, not
 *   a Paylink database, corrupt, read-only, disk full, locked, closed).
 *
 * @throws {TypeError} only for invalid options (a missing filename, a negative timeout, a group size < 1).
 * @example
 * import { createPaymentLinks } from "@paylink/core";
 * import { createSqliteStore } from "@paylink/store-sqlite";
 * const store = createSqliteStore({ filename: "./paylink.db" });
 * const links = createPaymentLinks({ store });
 * // … on shutdown:
 * store.close();
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { filename } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof filename !== "string" || filename.length === 0)
    throw new TypeError("createSqliteStore: `filename` must be a non-empty string");
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 2 ** 31 - 1)
    throw new TypeError("createSqliteStore: `busyTimeoutMs` must be an integer number of milliseconds ≥ 0");

  const groupCommit = options.groupCommit ?? true;
  const maxGroupSize = options.maxGroupSize ?? 512;
  if (!Number.isInteger(maxGroupSize) || maxGroupSize < 1)
    throw new TypeError("createSqliteStore: `maxGroupSize` must be an integer ≥ 1");

  let connection: Connection | undefined;
  let closed = false;

  // Opens on demand and stays open; a failed open is retried by the next call, so a store created while
  // the file was locked or missing its directory recovers without a restart.
  const connect = (): Connection => {
    if (closed) throw new SqliteStoreError("closed", "the store is closed");
    connection ??= open(filename, busyTimeoutMs);
    return connection;
  };

  // Every port method goes through here: a driver error becomes a rejected SqliteStoreError, never a
  // synchronous throw (core catches rejections, and a caller's `.then` chain stays intact).
  const use = <T>(work: (c: Connection) => T): Promise<T> => {
    try {
      return Promise.resolve(work(connect()));
    } catch (error) {
      return Promise.reject(toStoreError(error, busyTimeoutMs));
    }
  };

  /** The connection for a batch of queued calls, or `undefined` once each was rejected with why not. */
  const connectFor = (batch: readonly { reject: (error: unknown) => void }[]): Connection | undefined => {
    try {
      return connect();
    } catch (error) {
      for (const call of batch) call.reject(toStoreError(error, busyTimeoutMs));
      return undefined;
    }
  };

  /** A write waiting for the next group commit. */
  interface Queued {
    readonly work: (c: Connection) => unknown;
    readonly resolve: (value: unknown) => void;
    readonly reject: (error: unknown) => void;
    /** When it was queued (ms): it waits at most `busyTimeoutMs` for another connection's lock. */
    readonly since: number;
  }
  const queue: Queued[] = [];
  let flushScheduled = false;
  // Without group commit every write is a group of its own.
  const groupLimit = groupCommit ? maxGroupSize : 1;
  // While another connection (another process) holds the write lock: the timer of the next attempt, and
  // the pause before the one after. The thread never sleeps for the lock: between attempts, reads and
  // everything else on the event loop run.
  let lockRetry: ReturnType<typeof setTimeout> | undefined;
  let backoffMs = 1;

  /**
   * Takes the write lock (BEGIN IMMEDIATE) for `group`. If another connection holds it, the group goes back
   * to the front of the queue and is tried again after a growing pause; a write that has waited
   * `busyTimeoutMs` in all rejects with `busy`. Answers whether the group may run now.
   */
  const begin = (c: Connection, group: Queued[], blocking: boolean): boolean => {
    try {
      // `close()` cannot wait for a timer: it waits on the thread, as opening does.
      if (blocking) retryBusy(busyTimeoutMs, () => c.s.begin.run());
      else c.s.begin.run();
      backoffMs = 1;
      return true;
    } catch (error) {
      if (blocking || !isBusy(error)) {
        for (const write of group) write.reject(toStoreError(error, busyTimeoutMs));
        return false;
      }
      const now = Date.now();
      const waiting = group.filter((write) => {
        if (now - write.since < busyTimeoutMs) return true;
        write.reject(toStoreError(error, busyTimeoutMs));
        return false;
      });
      queue.unshift(...waiting);
      if (queue.length > 0) {
        lockRetry = setTimeout(() => {
          lockRetry = undefined;
          flush();
        }, backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_LOCK_BACKOFF_MS);
      }
      return false;
    }
  };

  // One group commit: BEGIN IMMEDIATE, every queued write (bare, or each in its own savepoint once one
  // has failed), COMMIT; then each caller is answered. Nothing is answered before the COMMIT returned:
  // should the transaction fail as a whole (COMMIT's fsync failing, SQLite rolling back on a full disk),
  // every write of the group rejects and none of them was written.
  const flush = (blocking = false) => {
    flushScheduled = false;
    // Waiting for another connection's lock: the retry's timer flushes, in queue order.
    if (lockRetry !== undefined && !blocking) return;
    const group = queue.splice(0, groupLimit);
    if (group.length === 0) return;
    const c = connectFor(group);
    if (c === undefined || !begin(c, group, blocking)) {
      if (lockRetry === undefined && queue.length > 0) schedule();
      return;
    }
    if (queue.length > 0) schedule();
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      try {
        // The fast path: every write bare in the group's transaction, their outbox rows inserted at the
        // end with multi-row INSERTs, still inside the transaction.
        c.isolateWrites(false);
        for (const write of group) outcomes.push({ ok: true, value: write.work(c) });
        c.appendCollected();
      } catch {
        // A write failed, perhaps half done: undo the whole group and run it again, this time each
        // write in its own savepoint. The writes only depend on the database, so the ones before the
        // failure decide as they did. The lock is still this connection's: a ROLLBACK keeps no lock, but
        // nothing else ran in between, so the new BEGIN only fails if another process got in first.
        c.isolateWrites(true);
        outcomes.length = 0;
        rollback(c);
        c.s.begin.run();
        for (const write of group) {
          try {
            outcomes.push({ ok: true, value: write.work(c) });
          } catch (error) {
            // SQLite ended the transaction itself (it does on some I/O and full-disk errors): the
            // writes before this one are gone too, so the group fails as a whole.
            if (!c.db.inTransaction) throw error;
            outcomes.push({ ok: false, value: error });
          }
        }
      } finally {
        c.isolateWrites(true);
      }
      c.s.commit.run();
    } catch (error) {
      rollback(c);
      for (const write of group) write.reject(toStoreError(error, busyTimeoutMs));
      return;
    }
    group.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(toStoreError(outcome.value, busyTimeoutMs));
    });
  };
  // setImmediate, not a microtask: it runs once the current turn's callbacks (every request that arrived
  // with this one, every command awaiting a read) have queued their writes.
  const schedule = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  // Reads, grouped like writes: the `get`s of one event-loop turn are one statement,
  // `id IN (SELECT value FROM json_each(?))`, instead of one statement each (better-sqlite3's cost per
  // statement is most of a read's). Each caller still gets what its own read would have: the scope is
  // checked row by row, and every answer is parsed from the stored JSON, so no two share an object.
  let pendingReads: PendingRead[] = [];
  const flushReads = () => {
    const batch = pendingReads;
    pendingReads = [];
    const c = connectFor(batch);
    if (c === undefined) return;
    if (batch.length === 1) {
      const only = batch[0]!;
      try {
        only.resolve(readOne(c, only.scope, only.id));
      } catch (error) {
        only.reject(toStoreError(error, busyTimeoutMs));
      }
      return;
    }
    let byId: Map<string, ManyRow>;
    try {
      const rows = c.s.getMany.all(JSON.stringify(batch.map((read) => read.id))) as ManyRow[];
      byId = new Map(rows.map((row) => [row.id, row]));
    } catch (error) {
      for (const read of batch) read.reject(toStoreError(error, busyTimeoutMs));
      return;
    }
    for (const read of batch) {
      const row = byId.get(read.id);
      read.resolve(
        row === undefined || row.account_id !== read.scope.accountId || row.livemode !== read.scope.livemode
          ? undefined
          : { payment: JSON.parse(row.payment) as Payment, version: row.version },
      );
    }
  };

  /** A write: committed with the others of its group (or alone, without group commit). */
  const write = <T>(work: (c: Connection) => T): Promise<T> => {
    if (closed) return Promise.reject(new SqliteStoreError("closed", "the store is closed"));
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject, since: Date.now() });
      schedule();
    });
  };

  try {
    connect();
  } catch {
    // Deliberately ignored: the next call reopens and rejects with the reason (see `connect`).
  }

  return {
    filename,
    get: (scope, id) => {
      if (!groupCommit) return use((c) => readOne(c, scopeRow(scope), id));
      if (closed) return Promise.reject(new SqliteStoreError("closed", "the store is closed"));
      const at = scopeRow(scope);
      return new Promise<StoredPayment | undefined>((resolve, reject) => {
        if (pendingReads.length === 0) setImmediate(flushReads);
        pendingReads.push({ scope: at, id, resolve, reject });
      });
    },
    insert: (scope, record, events, idempotency) => {
      const w = serialize(scope, record, events, true, idempotency);
      return write((c) => c.insert(w));
    },
    compareAndSwap: (scope, next, expectedVersion, events, idempotency) => {
      const w = serialize(scope, next, events, false, idempotency);
      return write((c) => c.compareAndSwap(w, expectedVersion));
    },
    findDue: (now, limit) =>
      use(({ s }): PaymentRef[] => {
        const nowMs = Date.parse(now);
        if (Number.isNaN(nowMs)) return [];
        const rows = s.findDue.all(...DUE_STATUSES, nowMs, sqlLimit(limit)) as {
          id: string;
          account_id: string;
          livemode: number;
        }[];
        return rows.map((row) => ({
          scope: { accountId: row.account_id, livemode: row.livemode === 1 },
          id: row.id,
        }));
      }),
    readEvents: (after, limit) =>
      use(({ s }): StoredEvent[] => {
        const rows = s.readEvents.all(after, sqlLimit(limit)) as { sequence: number; event: string }[];
        return rows.map((row) => ({ sequence: row.sequence, event: JSON.parse(row.event) as DomainEvent }));
      }),
    list: (scope, { limit, startingAfter }) => use((c) => c.list(scope, sqlLimit(limit), startingAfter)),
    // As for payments, every argument is read at the call, not when the group commits.
    claimIdempotencyKey: (scope, record, expiredBefore) => {
      const at = scopeRow(scope);
      const claimed: IdempotencyRecord = {
        key: record.key,
        fingerprint: record.fingerprint,
        response:
          record.response === null ? null : { status: record.response.status, body: record.response.body },
        createdAt: record.createdAt,
        token: record.token,
        lockedUntil: record.lockedUntil,
      };
      return write((c) => c.claim(at, claimed, expiredBefore));
    },
    completeIdempotencyKey: (scope, key, token, response) => {
      const { accountId, livemode } = scopeRow(scope);
      const { status, body } = response;
      return write(({ s }) => {
        s.completeKey.run(status, body, accountId, livemode, key, token);
      });
    },
    releaseIdempotencyKey: (scope, key, token) => {
      const { accountId, livemode } = scopeRow(scope);
      return write(({ s }) => {
        s.releaseKey.run(accountId, livemode, key, token);
      });
    },
    migrate() {
      try {
        migrateDb(connect().db, busyTimeoutMs);
      } catch (error) {
        throw toStoreError(error, busyTimeoutMs);
      }
    },
    close() {
      // Writes still waiting for their group commit are committed first: nothing accepted is dropped;
      // reads still waiting are answered.
      if (lockRetry !== undefined) clearTimeout(lockRetry);
      lockRetry = undefined;
      while (queue.length > 0 && !closed) flush(true);
      if (pendingReads.length > 0 && !closed) flushReads();
      closed = true;
      const open = connection;
      connection = undefined;
      open?.db.close();
    },
  };
}
