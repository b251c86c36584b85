import type { DomainEvent } from "./events.js";
import type { Payment, Scope } from "./schemas.js";

/**
 * A payment as a store keeps it: the payment and its version. The version starts at 1 and grows by one
 * with every write; compare-and-swap on it is what serializes concurrent commands.
 * See `docs/writing-a-store.md`.
 */
export interface StoredPayment {
  /** The payment as last written. */
  readonly payment: Payment;
  /** 1 for a new payment, one more with every write: the compare-and-swap's expected value. */
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
  /** The event as the command wrote it, with the payment's snapshot after the change. */
  readonly event: DomainEvent;
}

/** Where a payment lives: its scope and id. */
export interface PaymentRef {
  /** The account and mode the payment belongs to. */
  readonly scope: Scope;
  /** The payment's id. */
  readonly id: string;
}

/**
 * The storage port. A store only reads, inserts and compare-and-swaps; core validates, decides, retries
 * and owns ids and clocks. Every method may throw or reject: core turns that into `store_unavailable`.
 * Every store must pass `storeConformance` from `@paylink/testing`. The pieces every store needs are in
 * `@paylink/core/store`; see `docs/writing-a-store.md`.
 */
export interface PaymentStore {
  /**
   * The payment `id` in `scope`, or `undefined`. A payment of another account or mode is `undefined`.
   * Must return a copy: callers may mutate it without changing the store.
   */
  get(scope: Scope, id: string): Promise<StoredPayment | undefined>;

  /**
   * Inserts a new payment (version 1) and its events atomically. Returns `false`, writing nothing, when
   * a payment with this id already exists (in any scope). With `idempotency`, see {@link IdempotentWrite}.
   */
  insert(
    scope: Scope,
    record: StoredPayment,
    events: readonly DomainEvent[],
    idempotency?: IdempotentWrite,
  ): Promise<WriteResult>;

  /**
   * Replaces the payment with `next` only if its stored version is `expectedVersion`, and appends
   * `events` in the same atomic write. Returns `false`, writing nothing, when the version differs or the
   * payment does not exist in `scope`. `next.version` is always `expectedVersion + 1`. With
   * `idempotency`, see {@link IdempotentWrite}.
   * Core never changes a payment's `id`, `kind`, `expiresAt` or `createdAt` after `insert`, so a store
   * may copy them into indexed columns at insert only: the SQL stores do, and their compare-and-swap
   * writes only the status, the version and the payment.
   */
  compareAndSwap(
    scope: Scope,
    next: StoredPayment,
    expectedVersion: number,
    events: readonly DomainEvent[],
    idempotency?: IdempotentWrite,
  ): Promise<WriteResult>;

  /**
   * Up to `limit` payments in one of the `DUE_STATUSES` (the machine's expirable statuses) whose
   * `expiresAt` is at or before `now` (ISO-8601), oldest expiry first. Used by `expireDue` sweeps; SQL
   * stores index it. Every `limit` of the port means what `rowLimit` says (both in `@paylink/core/store`).
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
 * What a write answers: `true` when it was written; `false` when nothing was written because the version
 * differs or the payment is missing (`compareAndSwap`) or the id is taken (`insert`); {@link KEY_LOST}
 * when nothing was written because the write carried an {@link IdempotentWrite} whose claim is no longer
 * held with its token.
 */
export type WriteResult = boolean | typeof KEY_LOST;

/** The {@link WriteResult} of a write whose idempotency key was taken over by another request. */
export const KEY_LOST = "key_lost";

/**
 * A response to store for an idempotency key in the same atomic write as a payment, so that a key's
 * claim can never outlive the outcome of its request: if the write commits, the response commits with
 * it; if the process dies before, neither does, and a retry finds the claim without a response (and
 * takes it over once its lease ended).
 *
 * The store first checks that `key` is still claimed in the write's scope with `token` and has no
 * response. If not (the lease ran out and a retry took the key over), it writes nothing at all, payment
 * and events included, and answers {@link KEY_LOST}. Otherwise it writes the payment; only if that
 * is written (`true`) does it store `response` for the key, in the same transaction.
 */
export interface IdempotentWrite {
  /** The client's key, claimed in the write's scope. */
  readonly key: string;
  /** The token of the claim (see {@link IdempotencyRecord.token}). */
  readonly token: string;
  /** The response to replay for the key. */
  readonly response: { readonly status: number; readonly body: string };
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
  /** ISO-8601 time the key was claimed; keys older than the transport's retention are forgotten. */
  readonly createdAt: string;
  /**
   * A random value of the request that holds the claim. Completing, releasing or writing with the key
   * needs it, so a request whose claim was taken over can no longer answer for the key.
   */
  readonly token: string;
  /**
   * ISO-8601 end of the claim's lease. Until then a key without a response belongs to a request presumed
   * running; after it, its holder is presumed gone (a crash), and a retry of the same request takes the
   * key over.
   */
  readonly lockedUntil: string;
}

/**
 * Idempotency keys kept next to the payments, so a replay survives a restart and is shared by every
 * instance. Implemented by the stores that ship with Paylink; `@paylink/http` needs it. A store that
 * implements it must also honour {@link IdempotentWrite} in `insert` and `compareAndSwap`.
 */
export interface IdempotencyStore {
  /**
   * Claims `record.key` in `scope` for a new request, atomically. Returns `undefined` when the claim was
   * written; otherwise the existing record (another request has the key). The claim replaces the
   * existing record, and succeeds, when that record was created before `expiredBefore` (ISO-8601), or
   * when it has no response, the same `fingerprint`, and a lease (`lockedUntil`) that ended at or before
   * `record.createdAt` (the claimer's now): its holder is presumed gone and the retry takes over.
   */
  claimIdempotencyKey(
    scope: Scope,
    record: IdempotencyRecord,
    expiredBefore: string,
  ): Promise<IdempotencyRecord | undefined>;

  /**
   * Stores the response of the key claimed with `token`. Does nothing when the key is not held with
   * `token` (taken over, released) or already has a response (stored with the request's write).
   */
  completeIdempotencyKey(
    scope: Scope,
    key: string,
    token: string,
    response: { status: number; body: string },
  ): Promise<void>;

  /**
   * Forgets the key claimed with `token` whose request failed before answering, so the client can retry
   * it. Does nothing when the key is not held with `token` or already has a response.
   */
  releaseIdempotencyKey(scope: Scope, key: string, token: string): Promise<void>;
}
