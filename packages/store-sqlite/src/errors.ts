import { StoreError, type StoreErrorMessages, type StoreErrorOptions } from "@paylink/core/store";

/**
 * Why a SQLite store call failed, as a stable code. Core wraps every rejection of a store into
 * `store_unavailable`; this code (and the message) are for the operator reading the logs.
 */
export type SqliteStoreErrorCode =
  /** `close()` was called; the store does not reopen by itself. */
  | "closed"
  /** The file is not a SQLite database, or is a SQLite database that Paylink did not create. */
  | "not_a_database"
  /** A Paylink table is missing or altered (dropped by hand, or a foreign file half looked like ours). */
  | "schema_mismatch"
  /** The file's schema was written by a newer version of this package. */
  | "schema_too_new"
  /** SQLite found corrupt pages. */
  | "corrupt"
  /** The file, its directory or its `-wal`/`-shm` companions cannot be written. */
  | "read_only"
  /** The disk (or quota) is full. */
  | "disk_full"
  /** Another connection held the write lock for longer than `busyTimeoutMs`. */
  | "busy"
  /** The file cannot be opened (missing directory, permissions). */
  | "cannot_open"
  /** The operating system reported an I/O error. */
  | "io"
  /** A constraint refused a write (e.g. an event id written twice); the transaction was rolled back. */
  | "constraint"
  /** Anything else; `cause` holds the driver's error. */
  | "unknown";

const MESSAGES: StoreErrorMessages<SqliteStoreErrorCode> = {
  closed: "the store is closed",
  not_a_database: "the file is not a Paylink database",
  schema_mismatch: "the file is not a Paylink database or its tables were altered",
  schema_too_new: "the database was written by a newer @paylink/store-sqlite; upgrade the package",
  corrupt: "the database is corrupt",
  read_only:
    "the database is read-only (check the permissions of the file, its directory and its -wal/-shm files); nothing was written",
  disk_full: "the disk is full; nothing was written",
  busy: "nothing was written: the database stayed locked by another connection for longer than busyTimeoutMs",
  cannot_open: "cannot open the database file",
  io: "disk I/O error; nothing was written",
  constraint: "a constraint refused the write; the transaction was rolled back",
  unknown: "unexpected failure",
};

/**
 * The error every method of a SQLite store rejects with: `message` is "SQLite store: " and the fixed
 * message of its `code`, and `cause` is the driver's error, for logs.
 */
export class SqliteStoreError extends StoreError<SqliteStoreErrorCode> {
  override readonly name = "SqliteStoreError";

  /** See {@link StoreErrorOptions} for `cause` and `detail`. */
  constructor(code: SqliteStoreErrorCode, options?: StoreErrorOptions) {
    super("SQLite store", MESSAGES, code, options);
  }
}

/**
 * Translates whatever the driver threw into a {@link SqliteStoreError}; one already translated passes
 * through unchanged. `busyTimeoutMs` only completes the `busy` message.
 */
export function toStoreError(error: unknown, busyTimeoutMs: number): SqliteStoreError {
  if (error instanceof SqliteStoreError) return error;
  const code = classify(error);
  const detail =
    code === "busy"
      ? `${busyTimeoutMs} ms`
      : code === "not_a_database"
        ? "it is not a SQLite database file at all"
        : undefined;
  return new SqliteStoreError(code, { cause: error, detail });
}

/** better-sqlite3 throws an `Error` with SQLite's extended result code as a string, or a TypeError. */
function classify(error: unknown): SqliteStoreErrorCode {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" && raw.startsWith("SQLITE_") ? raw : undefined;
  const text = error instanceof Error ? error.message : String(error);
  if (code === undefined) {
    // better-sqlite3's TypeErrors for a closed connection and for a missing directory.
    if (/database connection is not open/i.test(text)) return "closed";
    if (/directory does not exist|cannot open/i.test(text)) return "cannot_open";
    return "unknown";
  }
  if (code === "SQLITE_NOTADB") return "not_a_database";
  if (code.startsWith("SQLITE_CORRUPT")) return "corrupt";
  if (code.startsWith("SQLITE_READONLY")) return "read_only";
  if (code === "SQLITE_FULL") return "disk_full";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "busy";
  if (code.startsWith("SQLITE_CANTOPEN")) return "cannot_open";
  if (code.startsWith("SQLITE_IOERR")) return "io";
  if (code.startsWith("SQLITE_CONSTRAINT")) return "constraint";
  // "no such table" / "no such column": someone dropped or altered a table after migration.
  if (/no such (table|column)|has no column/i.test(text)) return "schema_mismatch";
  return "unknown";
}
