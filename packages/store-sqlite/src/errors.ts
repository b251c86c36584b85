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

/**
 * The error every method of a SQLite store rejects with. Its message says in plain words what is wrong
 * with the database; the driver's own error is kept in `cause` for logs.
 */
export class SqliteStoreError extends Error {
  override readonly name = "SqliteStoreError";
  /** A stable code for the failure. */
  readonly code: SqliteStoreErrorCode;

  /** `message` is prefixed with "SQLite store: "; `cause` is the driver's error, if any. */
  constructor(code: SqliteStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(`SQLite store: ${message}`, options);
    this.code = code;
  }
}

/** What better-sqlite3 throws: an `Error` with SQLite's extended result code as a string. */
function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Translates whatever the driver threw into a {@link SqliteStoreError} with a clear message. `busyTimeoutMs`
 * only makes the busy message precise. A {@link SqliteStoreError} passes through unchanged.
 */
export function toStoreError(error: unknown, busyTimeoutMs: number): SqliteStoreError {
  if (error instanceof SqliteStoreError) return error;
  const code = sqliteCode(error);
  const detail = messageOf(error);
  const cause = { cause: error };
  if (code === undefined) {
    // better-sqlite3 throws a TypeError for a closed connection and for a missing directory.
    if (/database connection is not open/i.test(detail))
      return new SqliteStoreError("closed", "the store is closed", cause);
    if (/directory does not exist|cannot open/i.test(detail))
      return new SqliteStoreError("cannot_open", `cannot open the database file (${detail})`, cause);
    return new SqliteStoreError("unknown", `unexpected failure (${detail})`, cause);
  }
  if (code === "SQLITE_NOTADB")
    return new SqliteStoreError(
      "not_a_database",
      "the file is not a Paylink database (it is not a SQLite database file at all)",
      cause,
    );
  if (code.startsWith("SQLITE_CORRUPT"))
    return new SqliteStoreError("corrupt", `the database is corrupt (${detail})`, cause);
  if (code.startsWith("SQLITE_READONLY"))
    return new SqliteStoreError(
      "read_only",
      "the database is read-only (check the permissions of the file, its directory and its -wal/-shm files); nothing was written",
      cause,
    );
  if (code === "SQLITE_FULL")
    return new SqliteStoreError("disk_full", "the disk is full; nothing was written", cause);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
    return new SqliteStoreError(
      "busy",
      `the database stayed locked by another connection for more than busyTimeoutMs (${busyTimeoutMs} ms); nothing was written`,
      cause,
    );
  if (code.startsWith("SQLITE_CANTOPEN"))
    return new SqliteStoreError("cannot_open", `cannot open the database file (${detail})`, cause);
  if (code.startsWith("SQLITE_IOERR"))
    return new SqliteStoreError("io", `disk I/O error (${detail}); nothing was written`, cause);
  if (code.startsWith("SQLITE_CONSTRAINT"))
    return new SqliteStoreError(
      "constraint",
      `a constraint refused the write (${detail}); the transaction was rolled back`,
      cause,
    );
  // "no such table" / "no such column": someone dropped or altered a table after migration.
  if (/no such (table|column)|has no column/i.test(detail))
    return new SqliteStoreError(
      "schema_mismatch",
      `the file is not a Paylink database or its tables were altered (${detail})`,
      cause,
    );
  return new SqliteStoreError("unknown", `${detail} (${code})`, cause);
}
