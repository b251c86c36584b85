/** The rows the store's statements return, and the port's objects read off them. */
import type { DomainEvent, Payment } from "@paylink/core";
import type {
  IdempotencyRecord,
  PaymentRef,
  ScopedRecord,
  StoredEvent,
  StoredPayment,
} from "@paylink/core/store";

/** A row of `get`: jsonb arrives parsed, a new object for every query. */
export interface PaymentRow {
  readonly payment: Payment;
  readonly version: number;
}

/** A row of `getMany`: a payment with its scope columns. */
export interface ScopedPaymentRow extends PaymentRow {
  readonly id: string;
  readonly account_id: string;
  readonly livemode: boolean;
}

/** The record of a {@link PaymentRow}. */
export const storedOf = (row: PaymentRow): StoredPayment => ({ payment: row.payment, version: row.version });

/** A {@link ScopedPaymentRow} as `batchReads` takes it. */
export const scopedOf = (row: ScopedPaymentRow): ScopedRecord => ({
  scope: { accountId: row.account_id, livemode: row.livemode },
  record: storedOf(row),
});

/** The ref of a row of `findDue`. */
export const refOf = (row: { id: string; account_id: string; livemode: boolean }): PaymentRef => ({
  scope: { accountId: row.account_id, livemode: row.livemode },
  id: row.id,
});

/** A row of `readEvents`: int8 arrives as a string. */
export interface EventRow {
  readonly sequence: string | number | bigint;
  readonly event: DomainEvent;
}

/** The stored event of an {@link EventRow}; sequences stay far below 2^53. */
export const eventOf = (row: EventRow): StoredEvent => ({ sequence: Number(row.sequence), event: row.event });

/** A row of `paylink_idempotency_keys`. */
export interface KeyRow {
  readonly key: string;
  readonly fingerprint: string;
  readonly response_status: number | null;
  readonly response_body: string | null;
  readonly created_at: Date | string;
  readonly token: string;
  readonly locked_until: Date | string;
}

/** The record of a {@link KeyRow}. */
export function keyRecord(row: KeyRow): IdempotencyRecord {
  return {
    key: row.key,
    fingerprint: row.fingerprint,
    response:
      row.response_status === null ? null : { status: row.response_status, body: row.response_body ?? "" },
    createdAt: new Date(row.created_at).toISOString(),
    token: row.token,
    lockedUntil: isoOf(row.locked_until),
  };
}

/** An instant as ISO-8601; `-infinity` (a claim from before leases) as the earliest ISO time. */
function isoOf(value: Date | string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? new Date(-8.64e15).toISOString() : date.toISOString();
}

/** A `timestamptz` as it arrives: a `Date` with pg's default type parsers, text with others. */
export type TimeValue = Date | string;

/** A `timestamptz` as the ports carry it: ISO-8601 in UTC with milliseconds (`toISOString`). */
export const iso = (value: TimeValue): string => new Date(value).toISOString();

/** {@link iso}, keeping `null`. */
export const isoOrNull = (value: TimeValue | null): string | null => (value === null ? null : iso(value));
