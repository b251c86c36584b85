import type { DomainEvent } from "./events.js";
import type { Payment, Scope } from "./schemas.js";

/**
 * A payment as a store keeps it: the payment and its version. The version starts at 1 and grows by one
 * with every write; compare-and-swap on it is what serializes concurrent commands.
 * See `docs/writing-a-store.md`.
 */
export interface StoredPayment {
  readonly payment: Payment;
  readonly version: number;
}

/** A domain event as read back from a store's outbox, with its commit-order sequence number. */
export interface StoredEvent {
  /**
   * Strictly increasing across the whole store and never reused. Sequence order is commit order for the
   * events of one payment and for writes that did not overlap in time; a reader paging by
   * `sequence > after` never misses a committed event (a store must not let an event become readable
   * with a smaller sequence than one already read).
   */
  readonly sequence: number;
  readonly event: DomainEvent;
}

/** Where a payment lives: its scope and id. */
export interface PaymentRef {
  readonly scope: Scope;
  readonly id: string;
}

/**
 * The storage port. A store only reads, inserts and compare-and-swaps; core validates, decides, retries
 * and owns ids and clocks. Every method may throw or reject: core turns that into `store_unavailable`.
 * Every store must pass `storeConformance` from `@paylink/testing`. See `docs/writing-a-store.md`.
 */
export interface PaymentStore {
  /**
   * The payment `id` in `scope`, or `undefined`. A payment of another account or mode is `undefined`.
   * Must return a copy: callers may mutate it without changing the store.
   */
  get(scope: Scope, id: string): Promise<StoredPayment | undefined>;

  /**
   * Inserts a new payment (version 1) and its events atomically. Returns `false`, writing nothing, when
   * a payment with this id already exists (in any scope).
   */
  insert(scope: Scope, record: StoredPayment, events: readonly DomainEvent[]): Promise<boolean>;

  /**
   * Replaces the payment with `next` only if its stored version is `expectedVersion`, and appends
   * `events` in the same atomic write. Returns `false`, writing nothing, when the version differs or the
   * payment does not exist in `scope`. `next.version` is always `expectedVersion + 1`.
   * Core never changes a payment's `id`, `kind`, `expiresAt` or `createdAt` after `insert`, so a store
   * may copy them into indexed columns at insert only (the SQL stores do).
   */
  compareAndSwap(
    scope: Scope,
    next: StoredPayment,
    expectedVersion: number,
    events: readonly DomainEvent[],
  ): Promise<boolean>;

  /**
   * Up to `limit` payments whose status is `pending`, `viewed` or `attempted` and whose `expiresAt` is at
   * or before `now` (ISO-8601), oldest expiry first. Used by `expireDue` sweeps; SQL stores index it.
   */
  findDue(now: string, limit: number): Promise<PaymentRef[]>;

  /**
   * Outbox events with `sequence > after`, in sequence order, at most `limit`. Every committed event is
   * returned exactly once for a given `after`, and none of an uncommitted or failed write.
   */
  readEvents(after: number, limit: number): Promise<StoredEvent[]>;

  /**
   * Payments of `scope`, newest first (by `createdAt`, then `id`, both descending), at most `limit`.
   * With `startingAfter`, the page starts after that payment (a cursor: the last id of the previous
   * page); an unknown cursor gives an empty page.
   */
  list(
    scope: Scope,
    options: { readonly limit: number; readonly startingAfter?: string },
  ): Promise<Payment[]>;
}

/**
 * A stored answer to a request made with an `Idempotency-Key`. Transports replay `response` for a
 * repeated key and refuse the key with a different `fingerprint`.
 */
export interface IdempotencyRecord {
  /** The client's key, unique within a scope. */
  readonly key: string;
  /** A hash of what the request asked (method, path, body); the same key must come with the same one. */
  readonly fingerprint: string;
  /** The first response; `null` while the first request is still running. */
  readonly response: { readonly status: number; readonly body: string } | null;
  /** ISO-8601 time the key was first used; keys older than the transport's retention are forgotten. */
  readonly createdAt: string;
}

/**
 * Idempotency keys kept next to the payments, so a replay survives a restart and is shared by every
 * instance. Implemented by the stores that ship with Paylink; `@paylink/http` needs it.
 */
export interface IdempotencyStore {
  /**
   * Claims `record.key` in `scope` for a new request, atomically. Returns `undefined` when the claim was
   * written; otherwise the existing record (another request has the key). A record created before
   * `expiredBefore` (ISO-8601) no longer counts: it is replaced and the claim succeeds.
   */
  claimIdempotencyKey(
    scope: Scope,
    record: IdempotencyRecord,
    expiredBefore: string,
  ): Promise<IdempotencyRecord | undefined>;

  /** Stores the response of a claimed key. */
  completeIdempotencyKey(
    scope: Scope,
    key: string,
    response: { status: number; body: string },
  ): Promise<void>;

  /** Forgets a claimed key whose request failed before answering, so the client can retry it. */
  releaseIdempotencyKey(scope: Scope, key: string): Promise<void>;
}
