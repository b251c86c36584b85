/**
 * A group's transaction: what the write queue asks of the connection for each group. Nothing here is
 * answered to a caller: the queue does that, once the outcomes are known and committed.
 */
import { isBusy, retryBusy } from "./busy.js";
import { type Connection, rollback } from "./connection.js";
import type { GroupResult, Outcome } from "./group-commit.js";
import { collectingOutbox, directOutbox, type Write, writeOps } from "./writes.js";

/**
 * Runs `writes` in one `BEGIN IMMEDIATE` transaction on `c` and commits it, answering each write's
 * outcome in order. Should one write fail, the group runs again with each write in a savepoint of its
 * own: the failing one is undone alone, the others keep their outcome. When the lock is another
 * connection's, nothing runs and the answer is `locked`, unless `wait` (then it waits on the thread, up
 * to `busyTimeoutMs`).
 * @throws when the transaction failed as a whole (its COMMIT, say): nothing of the group was written.
 */
export function runGroup(
  c: Connection,
  writes: readonly Write[],
  wait: boolean,
  busyTimeoutMs: number,
): GroupResult {
  try {
    if (wait) retryBusy(busyTimeoutMs, () => c.s.begin.run());
    else c.s.begin.run();
  } catch (error) {
    if (!wait && isBusy(error)) return { locked: true, error };
    throw error;
  }
  try {
    const outcomes = runBare(c, writes) ?? runIsolated(c, writes);
    if (c.db.inTransaction) c.s.commit.run();
    return { locked: false, outcomes };
  } catch (error) {
    rollback(c);
    throw error;
  }
}

/**
 * The fast path: every write bare in the group's transaction, their outbox rows inserted at the end by
 * multi-row INSERTs, still inside it. `undefined` when a write failed, perhaps half done: the
 * transaction is rolled back, for {@link runIsolated}.
 */
function runBare(c: Connection, writes: readonly Write[]): Outcome[] | undefined {
  const outbox = collectingOutbox(c);
  const ops = writeOps(c, outbox);
  const outcomes: Outcome[] = [];
  try {
    for (const write of writes) outcomes.push({ ok: true, value: write(ops) });
    outbox.insert();
    return outcomes;
  } catch (error) {
    rollback(c);
    // Alone, the failed write is the whole group: there is nothing to keep, so nothing to run again.
    return writes.length === 1 ? [{ ok: false, error }] : undefined;
  }
}

/**
 * The group again, each write in a savepoint (a better-sqlite3 transaction function called inside a
 * transaction). The writes depend on nothing but the database, so those before the failure decide as
 * they did. The new BEGIN only fails if another process took the lock in between: a ROLLBACK keeps no
 * lock, but nothing else of this connection ran.
 */
function runIsolated(c: Connection, writes: readonly Write[]): Outcome[] {
  c.s.begin.run();
  const ops = writeOps(c, directOutbox(c));
  const inSavepoint = c.db.transaction((write: Write) => write(ops));
  return writes.map((write): Outcome => {
    try {
      return { ok: true, value: inSavepoint(write) };
    } catch (error) {
      // SQLite ended the transaction itself (it does on some I/O and full-disk errors): the writes
      // before this one are gone too, so the group fails as a whole.
      if (!c.db.inTransaction) throw error;
      return { ok: false, error };
    }
  });
}
