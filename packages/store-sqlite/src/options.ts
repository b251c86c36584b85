import type { DeliveryStore, IdempotencyStore, PaymentStore } from "@paylink/core/store";
import type { Synchronous } from "./connection.js";

/** Options of `createSqliteStore`. */
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
   * What a commit survives (SQLite's `synchronous` pragma, in WAL mode). Default `"full"`.
   * - `"full"`: the WAL is fsynced at every commit, so a write that resolved survives a killed process
   *   *and* a power cut or an operating-system crash (given a disk that honours fsync).
   * - `"normal"`: no fsync at commit (only at checkpoints). A write that resolved survives a killed
   *   process, whose writes the operating system still holds, and the file is never corrupted; but a
   *   power cut or an OS crash may lose the last commits. Cheaper per commit.
   */
  readonly synchronous?: Synchronous;
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
 * A SQLite store: Paylink's {@link PaymentStore}, {@link IdempotencyStore} and {@link DeliveryStore}
 * over one file, plus its lifecycle. Every port method rejects with a `SqliteStoreError` on failure (core turns that into
 * `store_unavailable`); none throws synchronously.
 */
export interface SqliteStore extends PaymentStore, IdempotencyStore, DeliveryStore {
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
   * that returned before `close()` is already as durable as `synchronous` makes it: closing only
   * releases the file.
   */
  close(): void;
}

/** {@link SqliteStoreOptions}, checked and with their defaults. */
export interface Settings {
  readonly filename: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: Synchronous;
  readonly groupCommit: boolean;
  readonly maxGroupSize: number;
}

/**
 * Checks `options` and fills in the defaults.
 * @throws {TypeError} for an invalid option.
 */
export function settingsOf(options: SqliteStoreOptions): Settings {
  const {
    filename,
    busyTimeoutMs = 5000,
    synchronous = "full",
    groupCommit = true,
    maxGroupSize = 512,
  } = options;
  const fail = (message: string) => {
    throw new TypeError(`createSqliteStore: ${message}`);
  };
  if (typeof filename !== "string" || filename.length === 0) fail("`filename` must be a non-empty string");
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 2 ** 31 - 1)
    fail("`busyTimeoutMs` must be an integer number of milliseconds ≥ 0");
  if (synchronous !== "full" && synchronous !== "normal") fail('`synchronous` must be "full" or "normal"');
  if (!Number.isInteger(maxGroupSize) || maxGroupSize < 1) fail("`maxGroupSize` must be an integer ≥ 1");
  return { filename, busyTimeoutMs, synchronous, groupCommit, maxGroupSize };
}
