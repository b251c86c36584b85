/** How the delivery ports reach the file: the two ways every method of the store does. */
import type { Connection } from "./connection.js";

/**
 * A read or a write on the store's connection, each answered by a promise that rejects with a
 * `SqliteStoreError` (never a synchronous throw).
 */
export interface Access {
  /** `work` now, on the open connection (outside any write transaction: it sees committed data). */
  read<T>(work: (c: Connection) => T): Promise<T>;
  /**
   * `work` queued for the next group commit: it runs inside that group's `BEGIN IMMEDIATE` transaction
   * (the write lock taken before its first read, waiting out another process's lock as every write
   * does), and is answered once the transaction committed. A write that throws is undone alone.
   */
  write<T>(work: (c: Connection) => T): Promise<T>;
}
