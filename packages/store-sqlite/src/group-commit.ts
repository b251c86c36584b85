/**
 * The group-commit write queue: writes that arrive together are handed to `runGroup` as one group (one
 * transaction, one fsync), and each caller is answered with its own outcome once the group is done.
 * The queue knows nothing of SQL; it owns the waiting: for company, and for another process's lock.
 */

/** What one write of a group came to. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** What `runGroup` answers for a group. */
export type GroupResult =
  /** Another connection holds the write lock: nothing ran. */
  | { readonly locked: true; readonly error: unknown }
  /** The group ran and committed; one outcome per write, in order. */
  | { readonly locked: false; readonly outcomes: readonly Outcome[] };

/** What the queue needs. */
export interface WriteQueueOptions<W> {
  /**
   * Runs a group as one transaction. `wait`: block the thread for the lock rather than answer `locked`
   * (the queue asks so only when draining). Throws when the group failed as a whole.
   */
  readonly runGroup: (writes: readonly W[], wait: boolean) => GroupResult;
  /** The most writes in one group. */
  readonly maxGroupSize: number;
  /** How long a write may wait for another connection's lock, from when it was queued. */
  readonly busyTimeoutMs: number;
  /** The error a caller is rejected with, from what `runGroup` threw or answered. */
  readonly toError: (error: unknown) => Error;
}

/** A queue of writes; see {@link createWriteQueue}. */
export interface WriteQueue<W> {
  /** Queues `write`; settles with its outcome once its group is committed (or has failed). */
  push(write: W): Promise<unknown>;
  /** Runs every queued write now, waiting on the thread for the lock: for closing. */
  drain(): void;
}

/** The longest pause between two attempts to take the write lock, while others run. */
const MAX_LOCK_BACKOFF_MS = 20;

interface Queued<W> {
  readonly write: W;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** When it was queued (ms). */
  readonly since: number;
}

/**
 * A write queue. Writes queued in one turn of the event loop run together on the next (`setImmediate`,
 * not a microtask: by then every request that arrived with them, every command awaiting a read, has
 * queued its write), `maxGroupSize` at a time. While another connection holds the lock, the group goes
 * back to the front of the queue and is tried again after a pause growing from 1 to 20 ms, the thread
 * free in between; a write that has waited `busyTimeoutMs` in all is rejected. Nobody is answered before
 * the group's outcome is known.
 */
export function createWriteQueue<W>(options: WriteQueueOptions<W>): WriteQueue<W> {
  const { runGroup, maxGroupSize, busyTimeoutMs, toError } = options;
  const queue: Queued<W>[] = [];
  let scheduled = false;
  // While another connection holds the lock: the timer of the next attempt, and the pause after it.
  let lockRetry: ReturnType<typeof setTimeout> | undefined;
  let backoffMs = 1;

  const schedule = () => {
    if (scheduled || lockRetry !== undefined || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush(false);
    });
  };

  const retryLater = (group: Queued<W>[], error: unknown) => {
    const now = Date.now();
    const waiting = group.filter((queued) => {
      if (now - queued.since < busyTimeoutMs) return true;
      queued.reject(toError(error));
      return false;
    });
    queue.unshift(...waiting);
    if (queue.length === 0) return;
    lockRetry = setTimeout(() => {
      lockRetry = undefined;
      flush(false);
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_LOCK_BACKOFF_MS);
  };

  const flush = (wait: boolean) => {
    const group = queue.splice(0, maxGroupSize);
    if (group.length === 0) return;
    let result: GroupResult;
    try {
      result = runGroup(
        group.map((queued) => queued.write),
        wait,
      );
    } catch (error) {
      for (const queued of group) queued.reject(toError(error));
      schedule();
      return;
    }
    if (result.locked) {
      if (wait) for (const queued of group) queued.reject(toError(result.error));
      else retryLater(group, result.error);
      return;
    }
    backoffMs = 1;
    schedule();
    group.forEach((queued, i) => {
      const outcome = result.outcomes[i]!;
      if (outcome.ok) queued.resolve(outcome.value);
      else queued.reject(toError(outcome.error));
    });
  };

  return {
    push: (write) =>
      new Promise((resolve, reject) => {
        queue.push({ write, resolve, reject, since: Date.now() });
        schedule();
      }),
    drain() {
      if (lockRetry !== undefined) clearTimeout(lockRetry);
      lockRetry = undefined;
      while (queue.length > 0) flush(true);
    },
  };
}
