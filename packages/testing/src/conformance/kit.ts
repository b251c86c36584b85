import assert from "node:assert/strict";
import type {
  DomainEvent,
  IdempotencyRecord,
  IdempotencyStore,
  PaylinkError,
  Payment,
  PaymentStore,
  Scope,
  StoredPayment,
} from "@paylink/core";

/**
 * Independent reads of what a store persisted (raw SQL for SQL stores, a second connection for a
 * key-value store), so the suite checks the database rather than what the adapter echoes.
 */
export interface StoreProbe {
  /** The stored payment and version, read without the adapter. */
  raw(scope: Scope, id: string): Promise<StoredPayment | undefined>;
  /** The outbox events of payment `id`, in commit order, read without the adapter. */
  events(scope: Scope, id: string): Promise<DomainEvent[]>;
}

/** What the topic files register their tests with; built once per suite by `storeConformance`. */
export interface Suite {
  /** A test run on a fresh store from the factory, torn down afterwards. */
  it(name: string, body: (store: PaymentStore, probe: StoreProbe) => Promise<void>): void;
  /**
   * A test of {@link IdempotencyStore}: skipped, with the reason, for a store that implements none of
   * its methods, so that a store without them is never reported as having passed these tests.
   */
  itIdempotent(
    name: string,
    body: (store: PaymentStore & IdempotencyStore, probe: StoreProbe) => Promise<void>,
  ): void;
  /** Writers in each race. */
  readonly concurrency: number;
  /** Runs of each property. */
  readonly numRuns: number;
}

/** Where the suite's own writes go. */
export const SCOPE: Scope = { accountId: "acct_conformance", livemode: false };
/** The same mode in another account: the first half of every scoping check. */
export const OTHER_ACCOUNT: Scope = { accountId: "acct_conformance_other", livemode: false };
/** The same account in the other mode: a store keyed by account alone mixes test and live payments. */
export const OTHER_MODE: Scope = { accountId: SCOPE.accountId, livemode: true };
/** Both neighbours of {@link SCOPE}, so that every scoping law is checked against each. */
export const NEIGHBOURS: readonly Scope[] = [OTHER_ACCOUNT, OTHER_MODE];

/** The suite's "now": fixed, so that expiries and leases are exact. */
export const START = new Date("2030-01-01T00:00:00.000Z");
/** A retention cut-off that forgets no key. */
export const LONG_AGO = "2000-01-01T00:00:00.000Z";
/** `ms` after {@link START}. */
export const later = (ms: number) => new Date(START.getTime() + ms);

let counter = 0;
/** A number unique within the process, for ids and keys. */
export const unique = () => ++counter;

/** A valid payment for the suite's own inserts. */
export function samplePayment(overrides: Partial<Payment> = {}): Payment {
  const now = START.toISOString();
  return {
    id: `pay_conformance_${process.pid}_${unique()}_${Math.random().toString(36).slice(2, 8)}`,
    customerId: "cus_1",
    kind: "link",
    status: "pending",
    provider: "stripe",
    amountSubtotal: 1000,
    taxAmount: 200,
    amountTotal: 1200,
    currency: "GBP",
    description: "For cappuccino",
    metadata: { order: "A-1", nested: null },
    url: "https://pay.example/p",
    expiresAt: new Date(START.getTime() + 86_400_000).toISOString(),
    createdAt: now,
    updatedAt: now,
    object: "payment",
    livemode: SCOPE.livemode,
    viewedAt: null,
    attemptedAt: null,
    paidAt: null,
    canceledAt: null,
    expiredAt: null,
    ...overrides,
  };
}

/** An event of `payment`, announced in `scope`. */
export function sampleEvent(
  payment: Payment,
  type: DomainEvent["type"] = "payment_link.created",
  scope: Scope = SCOPE,
): DomainEvent {
  return {
    id: `evt_conformance_${process.pid}_${unique()}`,
    type,
    paymentId: payment.id,
    accountId: scope.accountId,
    livemode: scope.livemode,
    occurredAt: payment.updatedAt,
    previousStatus: null,
    payment,
  };
}

/** Inserts a sample payment (version 1) with its `created` event in `scope`, asserting it was written. */
export async function insertSample(store: PaymentStore, overrides: Partial<Payment> = {}, scope = SCOPE) {
  const payment = samplePayment({ livemode: scope.livemode, ...overrides });
  const event = sampleEvent(payment, "payment_link.created", scope);
  assert.equal(
    await store.insert(scope, { payment, version: 1 }, [event]),
    true,
    "law: insert of a new id answers true",
  );
  return { payment, event };
}

/** A claim of `key` at `at` with a lease of `leaseMs`, held with `token`. */
export function claim(key: string, fingerprint: string, at: Date, token = "t1", leaseMs = 10_000) {
  return {
    key,
    fingerprint,
    response: null,
    createdAt: at.toISOString(),
    token,
    lockedUntil: new Date(at.getTime() + leaseMs).toISOString(),
  } satisfies IdempotencyRecord;
}

/** The `_unsafeUnwrap` of a neverthrow result, failing with `law` and the error's code rather than a bare object. */
export function ok<T>(
  result: { isOk(): boolean; _unsafeUnwrap(): T; _unsafeUnwrapErr(): PaylinkError },
  law: string,
): T {
  if (!result.isOk()) {
    const error = result._unsafeUnwrapErr();
    assert.fail(`${law} (got the error ${error.code}: ${error.message})`);
  }
  return result._unsafeUnwrap();
}

/** The error of a neverthrow result, failing with `law` when the command succeeded. */
export function refused(
  result: { isOk(): boolean; _unsafeUnwrapErr(): PaylinkError },
  law: string,
): PaylinkError {
  if (result.isOk()) assert.fail(`${law} (but the command succeeded)`);
  return result._unsafeUnwrapErr();
}

/** Reads through the store itself, for stores given no independent probe. */
export function selfProbe(store: PaymentStore): StoreProbe {
  return {
    raw: (scope, id) => store.get(scope, id),
    events: async (scope, id) => {
      const all = await store.readEvents(0, Number.MAX_SAFE_INTEGER);
      return all
        .map((stored) => stored.event)
        .filter(
          (e) => e.paymentId === id && e.accountId === scope.accountId && e.livemode === scope.livemode,
        );
    },
  };
}

const IDEMPOTENCY_METHODS = [
  "claimIdempotencyKey",
  "completeIdempotencyKey",
  "releaseIdempotencyKey",
] as const;

/**
 * Why `store` cannot run the idempotency tests, or `null` when it can. A store that implements some of
 * the methods but not all is a broken store, not one without the capability: that fails.
 */
export function lacksIdempotency(store: PaymentStore): string | null {
  const present = IDEMPOTENCY_METHODS.filter(
    (method) => typeof (store as Partial<IdempotencyStore>)[method] === "function",
  );
  if (present.length === 0)
    return "the store does not implement IdempotencyStore (claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey), which @paylink/http requires";
  assert.deepEqual(
    present,
    [...IDEMPOTENCY_METHODS],
    "law: a store that implements IdempotencyStore implements all three of its methods",
  );
  return null;
}
