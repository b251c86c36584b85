/** Between the port's objects and the rows of the tables: what is written, and what is read back. */
import type { DomainEvent, Payment, Scope } from "@paylink/core";
import type { IdempotencyRecord, IdempotentWrite, ScopedRecord, StoredPayment } from "@paylink/core/store";

/** A scope as the columns hold it: better-sqlite3 cannot bind booleans, so livemode is 0 or 1. */
export interface ScopeRow {
  readonly accountId: string;
  readonly livemode: 0 | 1;
}

/** {@link ScopeRow} of `scope`. */
export const scopeRow = (scope: Scope): ScopeRow => ({
  accountId: scope.accountId,
  livemode: scope.livemode ? 1 : 0,
});

/**
 * A payment write (insert or compare-and-swap) as the rows it writes, serialized when the store is
 * called: a write waiting for its group commit stores what the caller passed at the call, whatever the
 * caller does with its objects afterwards.
 */
export interface PaymentWrite {
  readonly scope: ScopeRow;
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  /** Read only by an insert: the port lets a store copy the expiry into its column at insert only. */
  readonly expiresMs: number | null;
  readonly createdAt: string;
  readonly version: number;
  readonly json: string;
  /** Outbox rows, flat, {@link EVENT_COLUMNS} values each (see {@link serialize}). */
  readonly events: readonly unknown[];
  /** The idempotency key's response written with the payment (see `IdempotentWrite` in core). */
  readonly key: IdempotentWrite | undefined;
}

/** Values per outbox row in {@link PaymentWrite.events}: event id, payment id, account id, livemode, type, JSON. */
export const EVENT_COLUMNS = 6;

/** The rows of a payment write, from the port's arguments. */
export function serialize(
  scope: Scope,
  record: StoredPayment,
  events: readonly DomainEvent[],
  idempotency: IdempotentWrite | undefined,
): PaymentWrite {
  const p = record.payment;
  const json = JSON.stringify(p);
  const rows: unknown[] = [];
  for (const event of events) {
    rows.push(
      event.id,
      event.paymentId,
      event.accountId,
      event.livemode ? 1 : 0,
      event.type,
      // An event carrying the very payment being written reuses its JSON.
      event.payment === p ? eventJson(event, json) : JSON.stringify(event),
    );
  }
  return {
    scope: scopeRow(scope),
    id: p.id,
    kind: p.kind,
    status: p.status,
    expiresMs: expiryMs(p.expiresAt),
    createdAt: p.createdAt,
    version: record.version,
    json,
    events: rows,
    key: idempotency === undefined ? undefined : copyWrite(idempotency),
  };
}

/** A copy of an idempotency claim, for a write that runs after the caller may have changed its own. */
export function copyClaim(record: IdempotencyRecord): IdempotencyRecord {
  return {
    key: record.key,
    fingerprint: record.fingerprint,
    response: record.response === null ? null : { ...record.response },
    createdAt: record.createdAt,
    token: record.token,
    lockedUntil: record.lockedUntil,
  };
}

const copyWrite = ({ key, token, response }: IdempotentWrite): IdempotentWrite => ({
  key,
  token,
  response: { status: response.status, body: response.body },
});

/** Expiry as milliseconds since the epoch; an unparsable date is stored as never due, as in the memory store. */
function expiryMs(expiresAt: string | null): number | null {
  if (expiresAt === null) return null;
  const ms = Date.parse(expiresAt);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * `JSON.stringify(event)` with the payment's JSON already in hand: the event's other fields, then its
 * `payment` (last, where core puts it), as text.
 */
function eventJson(event: DomainEvent, paymentJson: string): string {
  const { payment: _payment, ...rest } = event;
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"payment":${paymentJson}}`;
}

/** A row of `SQL.get`. */
export interface PaymentRow {
  readonly payment: string;
  readonly version: number;
}

/** A row of `SQL.getMany`: a payment with its scope columns. */
export interface ScopedPaymentRow extends PaymentRow {
  readonly id: string;
  readonly account_id: string;
  readonly livemode: number;
}

/** The record of a row, parsed from its JSON: every call gives a fresh object. */
export const storedOf = (row: PaymentRow): StoredPayment => ({
  payment: JSON.parse(row.payment) as Payment,
  version: row.version,
});

/** A {@link ScopedPaymentRow} as `batchReads` takes it. */
export const scopedOf = (row: ScopedPaymentRow): ScopedRecord => ({
  scope: { accountId: row.account_id, livemode: row.livemode === 1 },
  record: storedOf(row),
});

/** A row of `idempotency_keys`. */
export interface KeyRow {
  readonly key: string;
  readonly fingerprint: string;
  readonly response_status: number | null;
  readonly response_body: string | null;
  readonly created_at: string;
  readonly token: string;
  readonly locked_until: string;
}

/** The record of a {@link KeyRow}. */
export function keyRecord(row: KeyRow): IdempotencyRecord {
  return {
    key: row.key,
    fingerprint: row.fingerprint,
    response:
      row.response_status === null ? null : { status: row.response_status, body: row.response_body ?? "" },
    createdAt: row.created_at,
    token: row.token,
    lockedUntil: row.locked_until,
  };
}
