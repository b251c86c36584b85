/**
 * The writes, as statements inside a transaction the caller has begun (see `transaction.ts`): each
 * checks, writes its rows and hands its outbox rows to an {@link Outbox}, and answers as the port does.
 */
import { type IdempotencyRecord, KEY_LOST, type WriteResult } from "@paylink/core/store";
import type { Connection } from "./connection.js";
import { EVENT_COLUMNS, type KeyRow, keyRecord, type PaymentWrite, type ScopeRow } from "./rows.js";
import { EVENTS_PER_INSERT } from "./sql.js";

/** Where the outbox rows of a transaction's writes go. */
export interface Outbox {
  /** Takes the flat rows of one write ({@link EVENT_COLUMNS} values each), in commit order. */
  append(rows: readonly unknown[]): void;
}

/** An {@link Outbox} inserting each write's rows at once, one statement per row. */
export function directOutbox(c: Connection): Outbox {
  return {
    append(rows) {
      for (let i = 0; i < rows.length; i += EVENT_COLUMNS)
        c.s.appendEvent.run(rows.slice(i, i + EVENT_COLUMNS));
    },
  };
}

/**
 * An {@link Outbox} that keeps the rows until `insert()`, which writes them all with multi-row INSERTs
 * (one statement per {@link EVENTS_PER_INSERT} events instead of one per event), in the order taken, so
 * their sequences follow the order the writes ran in.
 */
export function collectingOutbox(c: Connection): Outbox & { insert(): void } {
  const collected: unknown[] = [];
  return {
    append(rows) {
      for (const value of rows) collected.push(value);
    },
    insert() {
      const count = collected.length / EVENT_COLUMNS;
      for (let first = 0; first < count; first += EVENTS_PER_INSERT) {
        const rows = Math.min(EVENTS_PER_INSERT, count - first);
        c.appendEvents(rows).run(collected.slice(first * EVENT_COLUMNS, (first + rows) * EVENT_COLUMNS));
      }
      collected.length = 0;
    },
  };
}

/** The writes a queued call makes, in the transaction of the group it runs in. */
export interface WriteOps {
  /**
   * The transaction's connection, for the writes kept in files of their own (relay-store.ts,
   * webhook-store.ts): they run in the same `BEGIN IMMEDIATE` group as every other write.
   */
  readonly connection: Connection;
  insert(w: PaymentWrite): WriteResult;
  compareAndSwap(w: PaymentWrite, expectedVersion: number): WriteResult;
  claimKey(scope: ScopeRow, record: IdempotencyRecord, expiredBefore: string): IdempotencyRecord | undefined;
  completeKey(scope: ScopeRow, key: string, token: string, status: number, body: string): void;
  releaseKey(scope: ScopeRow, key: string, token: string): void;
}

/** A queued write: what it does with the operations of the transaction it runs in. */
export type Write = (ops: WriteOps) => unknown;

/**
 * The {@link WriteOps} of one transaction on `c`, with its events going to `outbox`. Every write runs
 * under the group's `BEGIN IMMEDIATE`: the write lock is taken before the first read, so no transaction
 * has to upgrade a read snapshot to a write, which in WAL mode fails at once with SQLITE_BUSY_SNAPSHOT
 * instead of waiting.
 */
export function writeOps(c: Connection, outbox: Outbox): WriteOps {
  const { s } = c;
  // A write carrying a key's response: the claim must still be held with its token (checked inside the
  // write's transaction, so no claim can change in between), and the response is stored only with the
  // payment (see `IdempotentWrite` in core).
  const keyLost = (w: PaymentWrite) =>
    w.key !== undefined &&
    s.holdsKey.get(w.scope.accountId, w.scope.livemode, w.key.key, w.key.token) === undefined;
  const written = (w: PaymentWrite): true => {
    outbox.append(w.events);
    if (w.key !== undefined) {
      const { key, token, response } = w.key;
      s.completeKey.run(response.status, response.body, w.scope.accountId, w.scope.livemode, key, token);
    }
    return true;
  };

  return {
    connection: c,
    insert(w) {
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
      return changes === 1 && written(w);
    },
    compareAndSwap(w, expectedVersion) {
      if (keyLost(w)) return KEY_LOST;
      // The version check and the write are one statement: a lost race changes no row and appends no
      // event.
      const { changes } = s.compareAndSwap.run(
        w.status,
        w.version,
        w.json,
        w.id,
        w.scope.accountId,
        w.scope.livemode,
        expectedVersion,
      );
      return changes === 1 && written(w);
    },
    claimKey(scope, record, expiredBefore) {
      const existing = s.getKey.get(scope.accountId, scope.livemode, record.key) as KeyRow | undefined;
      // Compared as strings in JavaScript, exactly as the memory store does: kept unless past retention,
      // or an unanswered claim of the same request whose lease ended (its holder is presumed gone).
      if (
        existing !== undefined &&
        existing.created_at >= expiredBefore &&
        !(
          existing.response_status === null &&
          existing.fingerprint === record.fingerprint &&
          existing.locked_until <= record.createdAt
        )
      )
        return keyRecord(existing);
      s.putKey.run(
        scope.accountId,
        scope.livemode,
        record.key,
        record.fingerprint,
        record.response?.status ?? null,
        record.response?.body ?? null,
        record.createdAt,
        record.token,
        record.lockedUntil,
      );
      return undefined;
    },
    completeKey(scope, key, token, status, body) {
      s.completeKey.run(status, body, scope.accountId, scope.livemode, key, token);
    },
    releaseKey(scope, key, token) {
      s.releaseKey.run(scope.accountId, scope.livemode, key, token);
    },
  };
}
