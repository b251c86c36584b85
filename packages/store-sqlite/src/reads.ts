/** The reads, each on an open connection; every record and payment is parsed afresh from its JSON. */
import type { DomainEvent, Payment, Scope } from "@paylink/core";
import {
  DUE_STATUSES,
  type PaymentRef,
  rowLimit,
  type ScopedRecord,
  type StoredEvent,
  type StoredPayment,
} from "@paylink/core/store";
import type { Connection } from "./connection.js";
import { type PaymentRow, type ScopedPaymentRow, scopedOf, scopeRow, storedOf } from "./rows.js";

/** One `get` on its own statement. */
export function readOne(c: Connection, scope: Scope, id: string): StoredPayment | undefined {
  const { accountId, livemode } = scopeRow(scope);
  const row = c.s.get.get(id, accountId, livemode) as PaymentRow | undefined;
  return row === undefined ? undefined : storedOf(row);
}

/** The payments of `ids` in any scope, for `batchReads`: one statement for all of them. */
export function readMany(c: Connection, ids: readonly string[]): ScopedRecord[] {
  return (c.s.getMany.all(JSON.stringify(ids)) as ScopedPaymentRow[]).map(scopedOf);
}

/** The port's `findDue`. */
export function findDue(c: Connection, now: string, limit: number): PaymentRef[] {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) return [];
  const rows = c.s.findDue.all(...DUE_STATUSES, nowMs, rowLimit(limit)) as {
    id: string;
    account_id: string;
    livemode: number;
  }[];
  return rows.map((row) => ({
    scope: { accountId: row.account_id, livemode: row.livemode === 1 },
    id: row.id,
  }));
}

/** The port's `readEvents`. */
export function readEvents(c: Connection, after: number, limit: number): StoredEvent[] {
  const rows = c.s.readEvents.all(after, rowLimit(limit)) as { sequence: number; event: string }[];
  return rows.map((row) => ({ sequence: row.sequence, event: JSON.parse(row.event) as DomainEvent }));
}

/**
 * The port's `list`, in a read transaction (a deferred BEGIN), so that the cursor and the page come from
 * one snapshot.
 */
export function list(
  c: Connection,
  scope: Scope,
  limit: number,
  startingAfter: string | undefined,
): Payment[] {
  const { accountId, livemode } = scopeRow(scope);
  const page = c.db.transaction((): unknown[] => {
    if (startingAfter === undefined) return c.s.listFirst.pluck().all(accountId, livemode, rowLimit(limit));
    const cursor = c.s.cursor.get(startingAfter, accountId, livemode) as
      | { created_at: string; id: string }
      | undefined;
    if (cursor === undefined) return [];
    return c.s.listAfter.pluck().all(accountId, livemode, cursor.created_at, cursor.id, rowLimit(limit));
  });
  return page.deferred().map((json) => JSON.parse(json as string) as Payment);
}
