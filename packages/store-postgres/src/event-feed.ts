/** The {@link EventFeed} on PostgreSQL: `GET /events` pages read off the outbox table. */
import type { Scope } from "@paylink/core";
import { type EventFeed, rowLimit } from "@paylink/core/store";
import { guarded, hasNul } from "./errors.js";
import { type PostgresPool, prepared, transaction } from "./pool.js";
import { type EventRow, eventOf } from "./rows.js";
import { type PreparedStatement, preparedStatement, type Statements } from "./sql.js";

/** The statements of the event feed on one schema (quoted); tests `EXPLAIN` them. */
export interface EventFeedStatements {
  /** The newest sequence, read under the outbox lock: the feed's horizon. */
  readonly horizon: PreparedStatement;
  /** Parameters: account, livemode, limit, horizon. */
  readonly list: PreparedStatement;
  /** {@link EventFeedStatements.list} after the event whose id is the fifth parameter. */
  readonly listAfter: PreparedStatement;
  /** {@link EventFeedStatements.list} of one payment (the fifth parameter). */
  readonly listOfPayment: PreparedStatement;
  /** {@link EventFeedStatements.listOfPayment} after the event whose id is the sixth parameter. */
  readonly listOfPaymentAfter: PreparedStatement;
}

/**
 * Builds the feed's statements for the quoted schema `s`: four texts rather than one with optional
 * parameters, so that each prepared statement keeps a plan made for its own conditions.
 */
export function eventFeedStatements(s: string): EventFeedStatements {
  const outbox = `${s}.paylink_outbox`;
  // An unknown cursor, or one of another scope, makes the sub-select NULL and the page empty. It need
  // not be an event of the payment: the page starts after its sequence.
  const after = (cursor: number) => `
        AND sequence > (SELECT sequence FROM ${outbox} WHERE event_id = $${cursor} AND account_id = $1 AND livemode = $2)`;
  const list = (conditions: string) => `SELECT sequence, event FROM ${outbox}
      WHERE account_id = $1 AND livemode = $2 AND sequence <= $4${conditions}
      ORDER BY sequence
      LIMIT $3`;
  return {
    horizon: preparedStatement(
      "events_horizon",
      `SELECT COALESCE(max(sequence), 0) AS sequence FROM ${outbox}`,
    ),
    list: preparedStatement("list_events", list("")),
    listAfter: preparedStatement("list_events_after", list(after(5))),
    listOfPayment: preparedStatement("list_payment_events", list(" AND payment_id = $5")),
    listOfPaymentAfter: preparedStatement(
      "list_payment_events_after",
      list(` AND payment_id = $5${after(6)}`),
    ),
  };
}

/**
 * The {@link EventFeed} of the store's schema on `pool`. A client paging with `startingAfter` never
 * skips an event that commits later with a smaller sequence than one it was shown: a page shows only
 * events up to a horizon, the newest sequence read under the outbox lock (`outboxLock`, the key pair),
 * exclusive, in a later statement of a READ COMMITTED transaction. While that lock is held no write is
 * in flight (the argument is at `appendEvents` in sql.ts), so every sequence up to the horizon belongs
 * to a write that ended, and every later write draws a larger one. The lock is held for that one index
 * probe only, never for the page's read, however long: writers wait for the feed no longer than that.
 */
export function createEventFeed(
  pool: PostgresPool,
  store: Statements,
  outboxLock: readonly [number, number],
): EventFeed {
  const sql = eventFeedStatements(store.schema);
  return {
    listEvents: (scope: Scope, { limit, startingAfter, paymentId }) =>
      guarded(async () => {
        if (hasNul(scope.accountId, startingAfter ?? "", paymentId ?? "")) return [];
        const rows = rowLimit(limit);
        if (rows === 0) return [];
        let horizon = 0;
        await transaction(pool, async (client) => {
          await client.query(prepared(store.readEventsLock, [...outboxLock]));
          horizon = Number((await client.query(prepared(sql.horizon, []))).rows[0].sequence);
          return true;
        });
        const base: unknown[] = [scope.accountId, scope.livemode, rows, horizon];
        const statement =
          paymentId === undefined
            ? startingAfter === undefined
              ? prepared(sql.list, base)
              : prepared(sql.listAfter, [...base, startingAfter])
            : startingAfter === undefined
              ? prepared(sql.listOfPayment, [...base, paymentId])
              : prepared(sql.listOfPaymentAfter, [...base, paymentId, startingAfter]);
        return ((await pool.query(statement)).rows as EventRow[]).map(eventOf);
      }),
  };
}
