/**
 * Waiting for another connection's lock. SQLite's own busy handler blocks the thread while it waits, so
 * the store keeps it to {@link LOCK_WAIT_SLICE_MS} and waits longer only where blocking is acceptable
 * (opening, migrating, closing) or asynchronously (the write queue).
 */

/** The longest one attempt to take a lock blocks the thread: SQLite's busy timeout on every connection. */
export const LOCK_WAIT_SLICE_MS = 2;

/** Whether `error` is SQLite's answer that another connection holds a lock the call needed. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/**
 * Runs `step`, blocking the thread between tries while another connection holds a lock, for at most
 * `busyTimeoutMs`. Beyond what SQLite's busy handler waits for, this also covers where it deliberately
 * returns SQLITE_BUSY at once because waiting could deadlock (two connections racing to switch a new
 * file to WAL).
 */
export function retryBusy<T>(busyTimeoutMs: number, step: () => T): T {
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

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
