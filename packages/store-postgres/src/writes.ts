/**
 * `insert` and `compareAndSwap`: each one SQL statement (the payment's row and its events), so one round
 * trip and one transaction; see `appendEvents` in sql.ts for how its events are appended.
 */
import type { DomainEvent, Payment, Scope } from "@paylink/core";
import { type IdempotentWrite, KEY_LOST, type StoredPayment, type WriteResult } from "@paylink/core/store";
import { isSerializationFailure, wrap } from "./errors.js";
import { type PostgresPool, type PostgresQueryConfig, prepared, transaction } from "./pool.js";
import type { PreparedStatement, Statements } from "./sql.js";

/** The port's two writes, rejecting with a `PostgresStoreError`. */
export interface Writer {
  insert(
    scope: Scope,
    record: StoredPayment,
    events: readonly DomainEvent[],
    idempotency: IdempotentWrite | undefined,
  ): Promise<WriteResult>;
  compareAndSwap(
    scope: Scope,
    next: StoredPayment,
    expectedVersion: number,
    events: readonly DomainEvent[],
    idempotency: IdempotentWrite | undefined,
  ): Promise<WriteResult>;
}

/** The writes of a store on `pool`; `outboxLock` is the key pair of its schema's outbox lock. */
export function createWriter(
  pool: PostgresPool,
  sql: Statements,
  outboxLock: readonly [number, number],
): Writer {
  /**
   * Runs one write statement and answers whether it wrote the payment (one row back, or one row
   * affected). Alone on the pool it is its own transaction: one round trip. PostgreSQL runs it at the
   * session's default isolation, which the store does not own: under REPEATABLE READ or SERIALIZABLE a
   * lost race fails with a serialization failure (the statement wrote nothing) where READ COMMITTED
   * would re-check the row. Only then is it run again inside an explicit READ COMMITTED transaction
   * (three round trips), where it re-checks the row and answers `false` for a lost race.
   */
  async function write(
    statement: PreparedStatement,
    values: unknown[],
    scope: Scope,
    idempotency: IdempotentWrite | undefined,
  ): Promise<WriteResult> {
    const query = prepared(statement, values);
    if (idempotency !== undefined) return writeKeyed(query, scope, idempotency);
    try {
      return (await pool.query(query)).rowCount === 1;
    } catch (error) {
      if (!isSerializationFailure(error)) throw wrap(error);
    }
    return transaction(pool, async (client) => (await client.query(query)).rowCount === 1);
  }

  /**
   * A write that carries its idempotency key's response (see `IdempotentWrite` in core), in one READ
   * COMMITTED transaction: first the key's answer, conditional on the claim's token (its row lock holds
   * off a takeover until COMMIT), then the payment's statement. Should either match no row, the
   * transaction is rolled back and nothing of it was written.
   */
  async function writeKeyed(
    query: PostgresQueryConfig,
    scope: Scope,
    { key, token, response }: IdempotentWrite,
  ): Promise<WriteResult> {
    let lost = false;
    const written = await transaction(pool, async (client) => {
      const answered = await client.query(sql.completeKey, [
        scope.accountId,
        scope.livemode,
        key,
        response.status,
        response.body,
        token,
      ]);
      if (answered.rowCount !== 1) {
        lost = true;
        return false;
      }
      return (await client.query(query)).rowCount === 1;
    });
    return lost ? KEY_LOST : written;
  }

  /**
   * The statement that writes `values` (the payment's) and appends `events`: `withEvent` and the event's
   * JSON and columns for exactly one, `withEvents` and the events as one JSON array for more.
   */
  function writeWithEvents(
    [plain, withEvent, withEvents]: readonly [PreparedStatement, PreparedStatement, PreparedStatement],
    values: unknown[],
    events: readonly DomainEvent[],
    scope: Scope,
    idempotency: IdempotentWrite | undefined,
  ): Promise<WriteResult> {
    if (events.length === 0) return write(plain, values, scope, idempotency);
    if (events.length > 1)
      return write(withEvents, [...values, ...outboxLock, JSON.stringify(events)], scope, idempotency);
    const event = events[0]!;
    const columns = [event.id, event.paymentId, event.accountId, event.livemode, event.type];
    return write(
      withEvent,
      [...values, ...outboxLock, JSON.stringify(event), ...columns],
      scope,
      idempotency,
    );
  }

  const guarded = async (work: () => Promise<WriteResult>): Promise<WriteResult> => {
    try {
      return await work();
    } catch (error) {
      throw wrap(error);
    }
  };
  const json = (payment: Payment) => JSON.stringify(payment);

  return {
    // `false` when the id exists (in any scope): then nothing is written, events included.
    insert: (scope, { payment, version }, events, idempotency) =>
      guarded(() =>
        writeWithEvents(
          [sql.insert, sql.insertWithEvent, sql.insertWithEvents],
          [
            payment.id,
            scope.accountId,
            scope.livemode,
            payment.status,
            payment.expiresAt,
            payment.createdAt,
            version,
            json(payment),
          ],
          events,
          scope,
          idempotency,
        ),
      ),
    // `false` for a stale version, another scope or a missing payment: then nothing is written.
    compareAndSwap: (scope, { payment, version }, expectedVersion, events, idempotency) =>
      guarded(() =>
        writeWithEvents(
          [sql.compareAndSwap, sql.compareAndSwapWithEvent, sql.compareAndSwapWithEvents],
          [
            payment.id,
            scope.accountId,
            scope.livemode,
            expectedVersion,
            payment.status,
            version,
            json(payment),
          ],
          events,
          scope,
          idempotency,
        ),
      ),
  };
}
