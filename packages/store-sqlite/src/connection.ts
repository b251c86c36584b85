/** Opening the file: the connection, its pragmas, the schema and the prepared statements. */
import Database from "better-sqlite3";
import { LOCK_WAIT_SLICE_MS, retryBusy } from "./busy.js";
import { migrate } from "./migrations.js";
import { appendEventsSql, SQL } from "./sql.js";

/** How durably a commit is written; see `SqliteStoreOptions.synchronous`. */
export type Synchronous = "full" | "normal";

const SYNCHRONOUS_PRAGMA: { readonly [S in Synchronous]: string } = { full: "FULL", normal: "NORMAL" };

/** What opening a connection needs to know. */
export interface ConnectionSettings {
  readonly filename: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: Synchronous;
}

/** Every statement of {@link SQL}, prepared. */
export type Statements = { readonly [K in keyof typeof SQL]: Database.Statement };

/** An open, migrated connection and its prepared statements. */
export interface Connection {
  readonly db: Database.Database;
  readonly s: Statements;
  /** The multi-row outbox INSERT of `rows` events, prepared once per row count. */
  readonly appendEvents: (rows: number) => Database.Statement;
}

/**
 * Opens the file, sets the pragmas, migrates and prepares every statement; closes it again on failure.
 * @throws whatever the driver or the migration threw (the store translates it).
 */
export function openConnection({ filename, busyTimeoutMs, synchronous }: ConnectionSettings): Connection {
  // `timeout` is SQLite's busy timeout: one slice (see busy.ts).
  const db = new Database(filename, { timeout: Math.min(busyTimeoutMs, LOCK_WAIT_SLICE_MS) });
  try {
    // WAL: readers never block the writer nor each other, so processes sharing the file only queue
    // for the (sub-millisecond) write transactions.
    retryBusy(busyTimeoutMs, () => db.pragma("journal_mode = WAL"));
    // Per connection, and always set: better-sqlite3's own default under WAL is NORMAL.
    db.pragma(`synchronous = ${SYNCHRONOUS_PRAGMA[synchronous]}`);
    migrate(db, busyTimeoutMs);
    // Preparing everything now finds a missing or altered table at open, not at the first unlucky call.
    const s = Object.fromEntries(
      Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as unknown as Statements;
    const multiRow = new Map<number, Database.Statement>();
    const appendEvents = (rows: number) => {
      let statement = multiRow.get(rows);
      if (statement === undefined) {
        statement = db.prepare(appendEventsSql(rows));
        multiRow.set(rows, statement);
      }
      return statement;
    };
    return { db, s, appendEvents };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Ends a failed transaction. A ROLLBACK that fails in turn (an I/O error) is left to SQLite, which
 * rolls back a transaction it cannot commit; it must not escape a group commit, whose callers are still
 * to be answered.
 */
export function rollback(c: Connection): void {
  try {
    if (c.db.inTransaction) c.db.exec("ROLLBACK");
  } catch {
    // Deliberately ignored: see above.
  }
}
