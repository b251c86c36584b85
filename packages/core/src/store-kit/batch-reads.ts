import type { Scope } from "../schemas.js";
import type { StoredPayment } from "../store.js";

/** A stored payment with the scope it lives in, as a batched read finds it. */
export interface ScopedRecord {
  readonly scope: Scope;
  readonly record: StoredPayment;
}

/** Where {@link batchReads} reads from: the store's own statements. */
export interface ReadSource {
  /**
   * The payments of `ids` (no id twice), whatever their scope: the batch checks each caller's scope
   * itself. Every record must be an object the store keeps no reference to. May answer synchronously;
   * a throw or a rejection fails every read of the batch.
   */
  readMany(ids: readonly string[]): Iterable<ScopedRecord> | Promise<Iterable<ScopedRecord>>;
  /**
   * A read alone, for a store with a cheaper single-row statement; it answers like the port's `get`
   * (scope checked, a fresh object). Without it a lone read is `readMany` of one id.
   */
  readOne?(scope: Scope, id: string): StoredPayment | undefined | Promise<StoredPayment | undefined>;
}

/** The port's `get`, batched; see {@link batchReads}. */
export interface BatchedReads {
  /** The port's `get`: joins the batch of the current event-loop turn. */
  get(scope: Scope, id: string): Promise<StoredPayment | undefined>;
  /**
   * Reads the waiting batch now rather than on the next turn, e.g. before the store closes its
   * connection. `source` is called before `flush` returns; the callers' promises settle afterwards.
   */
  flush(): void;
}

interface WaitingRead {
  readonly scope: Scope;
  readonly id: string;
  readonly resolve: (record: StoredPayment | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Batches a store's reads: the `get`s of one event-loop turn (concurrent commands, concurrent requests)
 * become one call of `source.readMany`, one statement instead of one each, run on the next turn
 * (`setImmediate`, once every callback of this turn has asked). Each caller still gets exactly what its
 * own read would have: its scope as it was at the call is checked against the record's, two callers of
 * one id get two objects, and a failed batch rejects each read with the error `source` threw.
 */
export function batchReads(source: ReadSource): BatchedReads {
  let waiting: WaitingRead[] = [];

  const flush = () => {
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    const { readOne } = source;
    if (batch.length === 1 && readOne !== undefined) {
      const only = batch[0]!;
      settle(() => readOne.call(source, only.scope, only.id), only.resolve, only.reject);
      return;
    }
    settle(
      () => source.readMany([...new Set(batch.map((read) => read.id))]),
      (found) => answer(batch, found),
      (error) => {
        for (const read of batch) read.reject(error);
      },
    );
  };

  return {
    get: (scope, id) =>
      new Promise((resolve, reject) => {
        if (waiting.length === 0) setImmediate(flush);
        waiting.push({
          scope: { accountId: scope.accountId, livemode: scope.livemode },
          id,
          resolve,
          reject,
        });
      }),
    flush,
  };
}

/** Hands each read of `batch` its record from `found`, or `undefined` when missing or in another scope. */
function answer(batch: readonly WaitingRead[], found: Iterable<ScopedRecord>): void {
  const byId = new Map<string, ScopedRecord>();
  for (const scoped of found) byId.set(scoped.record.payment.id, scoped);
  const handedOut = new Set<string>();
  for (const read of batch) {
    const scoped = byId.get(read.id);
    if (
      scoped === undefined ||
      scoped.scope.accountId !== read.scope.accountId ||
      scoped.scope.livemode !== read.scope.livemode
    ) {
      read.resolve(undefined);
      continue;
    }
    read.resolve(handedOut.has(read.id) ? structuredClone(scoped.record) : scoped.record);
    handedOut.add(read.id);
  }
}

/** Calls `read` now (synchronously: a store may be about to close), then settles with its answer. */
function settle<T>(
  read: () => T | Promise<T>,
  resolve: (value: T) => void,
  reject: (error: unknown) => void,
) {
  let answered: T | Promise<T>;
  try {
    answered = read();
  } catch (error) {
    reject(error);
    return;
  }
  Promise.resolve(answered).then(resolve, reject);
}
