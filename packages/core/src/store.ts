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
  /** Strictly increasing in commit order across the whole store; never reused. */
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
}
