import assert from "node:assert/strict";
import {
  createPaymentLinks,
  type DomainEvent,
  type IdempotencyStore,
  KEY_LOST,
  type Payment,
  type PaymentStore,
  type Scope,
  type StoredPayment,
} from "@paylink/core";
import fc from "fast-check";
import {
  createInputArb,
  fakeClock,
  malformedTextInputArb,
  sampleLinkInput,
  send,
  stepsArb,
} from "./arbitraries.js";
import { type ModelPayment, modelStep } from "./model.js";

/** The test runner's `test` (vitest, jest, node:test …), injected so the suite has no runner dependency. */
export type TestFunction = (name: string, fn: () => Promise<void>, timeout?: number) => void;

/**
 * Independent reads of what a store persisted (raw SQL for SQL stores), so the suite checks the
 * database rather than what the adapter echoes.
 */
export interface StoreProbe {
  /** The stored payment and version, read without the adapter. */
  raw(scope: Scope, id: string): Promise<StoredPayment | undefined>;
  /** The outbox events of payment `id`, in commit order, read without the adapter. */
  events(scope: Scope, id: string): Promise<DomainEvent[]>;
}

/** Options of {@link storeConformance}. */
export interface ConformanceOptions<S extends PaymentStore> {
  /** Makes the independent probe for a store made by `makeStore`. Default: reads through the store. */
  readonly probe?: (store: S) => StoreProbe;
  /** Closes a store after each test. */
  readonly teardown?: (store: S) => Promise<void> | void;
  /** Prefix of every test name. Default: `store conformance`. */
  readonly name?: string;
  /** Number of concurrent writers in the race tests. Default: 16. */
  readonly concurrency?: number;
  /** Runs of each property test. Default: 25. */
  readonly numRuns?: number;
  /** Per-test timeout in ms. Default: 30 000. */
  readonly timeout?: number;
}

const SCOPE: Scope = { accountId: "acct_conformance", livemode: false };
const START = new Date("2030-01-01T00:00:00.000Z");

let counter = 0;
/** A valid payment for the suite's own inserts. */
export function samplePayment(overrides: Partial<Payment> = {}): Payment {
  counter++;
  const now = START.toISOString();
  return {
    id: `pay_conformance_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`,
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

function sampleEvent(payment: Payment, type: DomainEvent["type"] = "payment_link.created"): DomainEvent {
  counter++;
  return {
    id: `evt_conformance_${process.pid}_${counter}`,
    type,
    paymentId: payment.id,
    accountId: SCOPE.accountId,
    livemode: SCOPE.livemode,
    occurredAt: payment.updatedAt,
    previousStatus: null,
    payment,
  };
}

function isIdempotencyStore(store: PaymentStore): store is PaymentStore & IdempotencyStore {
  return typeof (store as Partial<IdempotencyStore>).claimIdempotencyKey === "function";
}

/** Reads through the store itself, for stores given no independent probe. */
function selfProbe(store: PaymentStore): StoreProbe {
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

/**
 * The conformance suite every Paylink store runs (in the style of `@keyv/test-suite`): round trips and
 * copies, scoping, compare-and-swap, atomic outbox, event order, races, due payments, and the lifecycle
 * laws run through the store. See `docs/writing-a-store.md`.
 *
 * @example
 * import { test } from "vitest";
 * storeConformance(test, () => createMemoryStore());
 */
export function storeConformance<S extends PaymentStore>(
  test: TestFunction,
  makeStore: () => S | Promise<S>,
  options: ConformanceOptions<S> = {},
): void {
  const prefix = options.name ?? "store conformance";
  const timeout = options.timeout ?? 30_000;
  const concurrency = options.concurrency ?? 16;
  const numRuns = options.numRuns ?? 25;

  const it = (name: string, body: (store: S, probe: StoreProbe) => Promise<void>) =>
    test(
      `${prefix}: ${name}`,
      async () => {
        const store = await makeStore();
        try {
          await body(store, options.probe ? options.probe(store) : selfProbe(store));
        } finally {
          await options.teardown?.(store);
        }
      },
      timeout,
    );

  const insertSample = async (store: PaymentStore, overrides: Partial<Payment> = {}, scope = SCOPE) => {
    const payment = samplePayment({ livemode: scope.livemode, ...overrides });
    const event = sampleEvent(payment);
    assert.equal(await store.insert(scope, { payment, version: 1 }, [event]), true, "insert returns true");
    return { payment, event };
  };

  it("round trip: insert then get returns an equal record, and the probe sees it persisted", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    assert.deepEqual(await store.get(SCOPE, payment.id), { payment, version: 1 });
    assert.deepEqual(await probe.raw(SCOPE, payment.id), { payment, version: 1 });
    assert.deepEqual(await probe.events(SCOPE, payment.id), [event]);
  });

  it("round trip: text that looks like SQL or markup is stored as text", async (store, probe) => {
    const id = `pay_'; DROP TABLE payments; --${counter}`;
    const metadata = { "key'--": "'); DELETE FROM payments; --", html: "<script>alert(1)</script>", n: 1.5 };
    const { payment } = await insertSample(store, { id, metadata, description: "Robert'); DROP TABLE x;--" });
    assert.deepEqual((await probe.raw(SCOPE, id))?.payment, payment);
    assert.deepEqual((await store.get(SCOPE, id))?.payment, payment);
  });

  // A lone UTF-16 surrogate has no UTF-8 encoding: PostgreSQL's jsonb refuses it (a 503 on every retry)
  // while other stores keep it. Core must refuse it up front, the same on every store; astral text is fine.
  it("text: create refuses text that is not well-formed Unicode, writes nothing, and keeps astral text exactly", async (store, probe) => {
    const scope: Scope = { accountId: "acct_conformance_text", livemode: false };
    await fc.assert(
      fc.asyncProperty(malformedTextInputArb({ now: START }), async ({ input, path }) => {
        const id = `pay_malformed_${process.pid}_${counter++}`;
        const links = createPaymentLinks({
          store,
          clock: fakeClock(START),
          ids: { paymentId: () => id, eventId: () => `evt_${id}` },
        });
        const error = (await links.create(scope, input))._unsafeUnwrapErr();
        assert.equal(error.code, "invalid_request", `expected invalid_request, got ${error.code}`);
        if (error.code === "invalid_request") assert.ok(error.issues.some((issue) => issue.path === path));
        assert.equal(await probe.raw(scope, id), undefined, "no payment is written");
        assert.deepEqual(await probe.events(scope, id), [], "no event is written");
      }),
      { numRuns },
    );
    assert.deepEqual(await store.list(scope, { limit: 10 }), [], "nothing was written in the scope");
    const links = createPaymentLinks({ store, clock: fakeClock(START) });
    const astral = (
      await links.create(scope, {
        ...sampleLinkInput(START),
        customerId: "cus_😀",
        description: "Flat white ☕ for 👩🏽‍💻 𝄞 𠀋 🇬🇧 é",
        metadata: { "🎫": "💳 paid by card", pair: "\ud83d\ude00" },
      })
    )._unsafeUnwrap();
    assert.deepEqual((await probe.raw(scope, astral.id))?.payment, astral);
    assert.deepEqual((await links.get(scope, astral.id))._unsafeUnwrap(), astral);
  });

  it("copies: mutating what get returned or what was inserted does not change the store", async (store) => {
    const payment = samplePayment();
    const record = { payment, version: 1 };
    await store.insert(SCOPE, record, []);
    (payment.metadata as Record<string, unknown>).order = "mutated";
    const read = await store.get(SCOPE, payment.id);
    assert.equal(read?.payment.metadata.order, "A-1");
    (read!.payment.metadata as Record<string, unknown>).order = "mutated again";
    (read!.payment as { status: string }).status = "paid";
    const again = await store.get(SCOPE, payment.id);
    assert.equal(again?.payment.metadata.order, "A-1");
    assert.equal(again?.payment.status, "pending");
  });

  it("insert: an existing id returns false and writes nothing", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const other = { ...payment, description: "other" };
    assert.equal(await store.insert(SCOPE, { payment: other, version: 1 }, [sampleEvent(other)]), false);
    const elsewhere = { accountId: "acct_elsewhere", livemode: true };
    assert.equal(await store.insert(elsewhere, { payment: other, version: 1 }, [sampleEvent(other)]), false);
    assert.deepEqual((await probe.raw(SCOPE, payment.id))?.payment, payment);
    assert.deepEqual(await probe.events(SCOPE, payment.id), [event]);
  });

  it("get: a missing id is undefined", async (store) => {
    assert.equal(await store.get(SCOPE, "pay_missing"), undefined);
    assert.equal(await store.get(SCOPE, ""), undefined);
  });

  it("scoping: another account or another mode does not see the payment", async (store) => {
    const { payment } = await insertSample(store);
    assert.equal(await store.get({ accountId: "acct_other", livemode: false }, payment.id), undefined);
    assert.equal(await store.get({ accountId: SCOPE.accountId, livemode: true }, payment.id), undefined);
  });

  // Stores may serve reads that arrive together with one query (the SQL stores do): each caller must
  // still get exactly what its own read would have.
  it("scoping: concurrent reads each honour their own scope and get an object of their own", async (store) => {
    const other: Scope = { accountId: "acct_other", livemode: false };
    const { payment: a } = await insertSample(store);
    const { payment: b } = await insertSample(store, {}, other);
    const [a1, a2, aOther, aOtherMode, b1, missing] = await Promise.all([
      store.get(SCOPE, a.id),
      store.get(SCOPE, a.id),
      store.get(other, a.id),
      store.get({ ...SCOPE, livemode: true }, a.id),
      store.get(other, b.id),
      store.get(SCOPE, "pay_missing"),
    ]);
    assert.deepEqual(a1, { payment: a, version: 1 });
    assert.deepEqual(a2, { payment: a, version: 1 });
    // Two reads of one id never share an object.
    assert.notEqual(a1!.payment, a2!.payment);
    (a1!.payment.metadata as Record<string, unknown>).changed = "yes";
    assert.equal(a2!.payment.metadata.changed, undefined);
    // Another account, or the other mode, does not see it.
    assert.equal(aOther, undefined);
    assert.equal(aOtherMode, undefined);
    assert.deepEqual(b1, { payment: b, version: 1 });
    assert.equal(missing, undefined);
  });

  it("scoping: compareAndSwap from another account or mode writes nothing", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const next = { payment: { ...payment, status: "canceled" as const }, version: 2 };
    for (const scope of [
      { accountId: "acct_other", livemode: false },
      { accountId: SCOPE.accountId, livemode: true },
    ]) {
      assert.equal(await store.compareAndSwap(scope, next, 1, [sampleEvent(next.payment)]), false);
    }
    assert.deepEqual(await probe.raw(SCOPE, payment.id), { payment, version: 1 });
    assert.deepEqual(await probe.events(SCOPE, payment.id), [event]);
  });

  it("compareAndSwap: the expected version writes the state and its events together", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const canceled = { ...payment, status: "canceled" as const, canceledAt: START.toISOString() };
    const canceledEvent = sampleEvent(canceled, "payment_link.canceled");
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: canceled, version: 2 }, 1, [canceledEvent]),
      true,
    );
    assert.deepEqual(await probe.raw(SCOPE, payment.id), { payment: canceled, version: 2 });
    assert.deepEqual(await store.get(SCOPE, payment.id), { payment: canceled, version: 2 });
    assert.deepEqual(await probe.events(SCOPE, payment.id), [event, canceledEvent]);
  });

  it("compareAndSwap: a stale version writes nothing, neither state nor event", async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const viewed = { ...payment, status: "viewed" as const };
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: viewed, version: 2 }, 1, [sampleEvent(viewed)]),
      true,
    );
    const stale = { ...payment, status: "canceled" as const };
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: stale, version: 2 }, 1, [sampleEvent(stale)]),
      false,
    );
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: stale, version: 4 }, 3, [sampleEvent(stale)]),
      false,
    );
    assert.deepEqual(await probe.raw(SCOPE, payment.id), { payment: viewed, version: 2 });
    const events = await probe.events(SCOPE, payment.id);
    assert.equal(events.length, 2);
    assert.deepEqual(events[0], event);
  });

  it("compareAndSwap: a missing payment returns false and writes no event", async (store, probe) => {
    const payment = samplePayment();
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment, version: 2 }, 1, [sampleEvent(payment)]),
      false,
    );
    assert.equal(await probe.raw(SCOPE, payment.id), undefined);
    assert.deepEqual(await probe.events(SCOPE, payment.id), []);
  });

  it("outbox: events are read back in commit order, each once, with increasing sequences", async (store) => {
    const written: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { payment, event } = await insertSample(store);
      written.push(event.id);
      const next = { ...payment, status: "viewed" as const };
      const e = sampleEvent(next, "payment_link.viewed");
      await store.compareAndSwap(SCOPE, { payment: next, version: 2 }, 1, [e]);
      written.push(e.id);
    }
    // Page through with a small limit, as a publisher would.
    const read: string[] = [];
    let after = 0;
    let lastSequence = 0;
    for (;;) {
      const page = await store.readEvents(after, 3);
      if (page.length === 0) break;
      assert.ok(page.length <= 3, "readEvents honours limit");
      for (const stored of page) {
        assert.ok(stored.sequence > lastSequence, "sequences increase");
        lastSequence = stored.sequence;
        read.push(stored.event.id);
      }
      after = page[page.length - 1]!.sequence;
    }
    assert.deepEqual(
      read.filter((id) => written.includes(id)),
      written,
    );
    assert.equal(new Set(read).size, read.length, "no event is read twice");
  });

  it(`races: ${concurrency} concurrent swaps on one version — exactly one wins`, async (store, probe) => {
    const { payment } = await insertSample(store);
    const attempts = Array.from({ length: concurrency }, (_, i) => {
      const next = { ...payment, description: `writer ${i}` };
      return store.compareAndSwap(SCOPE, { payment: next, version: 2 }, 1, [
        sampleEvent(next, "payment_link.viewed"),
      ]);
    });
    const results = await Promise.all(attempts);
    assert.equal(results.filter(Boolean).length, 1, "exactly one writer wins");
    const winner = results.indexOf(true);
    assert.deepEqual((await probe.raw(SCOPE, payment.id))?.payment.description, `writer ${winner}`);
    assert.equal((await probe.events(SCOPE, payment.id)).length, 2, "only the winner's event is written");
  });

  it("findDue: expirable payments past expiresAt, oldest first, at most limit", async (store) => {
    const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000).toISOString();
    const a = await insertSample(store, { expiresAt: at(-30) });
    const b = await insertSample(store, { expiresAt: at(-60), status: "viewed" });
    const c = await insertSample(
      store,
      { expiresAt: at(-10), status: "attempted" },
      { accountId: "acct_x", livemode: true },
    );
    await insertSample(store, { expiresAt: at(30) }); // not due yet
    await insertSample(store, { expiresAt: at(-90), status: "paid" }); // final
    await insertSample(store, { expiresAt: at(-90), status: "processing" }); // expires only after its outcome
    await insertSample(store, { kind: "charge", expiresAt: null }); // never expires
    const due = await store.findDue(START.toISOString(), 10);
    const ids = due.map((ref) => ref.id).filter((id) => [a, b, c].some((x) => x.payment.id === id));
    assert.deepEqual(ids, [b.payment.id, a.payment.id, c.payment.id]);
    const cRef = due.find((ref) => ref.id === c.payment.id);
    assert.deepEqual(cRef?.scope, { accountId: "acct_x", livemode: true });
    assert.equal((await store.findDue(START.toISOString(), 2)).length, 2);
  });

  it("list: newest first, paged by cursor, confined to the scope", async (store) => {
    const other = { accountId: "acct_other_list", livemode: false };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const createdAt = new Date(START.getTime() + i * 1000).toISOString();
      ids.push((await insertSample(store, { createdAt, updatedAt: createdAt })).payment.id);
    }
    await insertSample(store, {}, other);
    const newest = [...ids].reverse();
    const page1 = await store.list(SCOPE, { limit: 2 });
    const page2 = await store.list(SCOPE, { limit: 2, startingAfter: page1[1]!.id });
    const page3 = await store.list(SCOPE, { limit: 2, startingAfter: page2[1]!.id });
    const listed = [...page1, ...page2, ...page3].map((p) => p.id).filter((id) => ids.includes(id));
    assert.deepEqual(listed, newest);
    assert.deepEqual(await store.list(SCOPE, { limit: 2, startingAfter: "pay_unknown" }), []);
    const theirs = await store.list(other, { limit: 10 });
    assert.ok(
      theirs.every((p) => !ids.includes(p.id)),
      "another account's list does not show these payments",
    );
  });

  /** A claim of `key` at `at` with a lease of `leaseMs`, held with `token`. */
  const claim = (key: string, fingerprint: string, at: Date, token = "t1", leaseMs = 10_000) => ({
    key,
    fingerprint,
    response: null,
    createdAt: at.toISOString(),
    token,
    lockedUntil: new Date(at.getTime() + leaseMs).toISOString(),
  });
  const LONG_AGO = "2000-01-01T00:00:00.000Z";
  const later = (ms: number) => new Date(START.getTime() + ms);

  it("idempotency keys: claim once, replay the stored response, forget after retention, confined to scope", async (store) => {
    if (!isIdempotencyStore(store)) return;
    const key = `idem_${counter++}`;
    assert.equal(await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START), LONG_AGO), undefined);
    const second = await store.claimIdempotencyKey(SCOPE, claim(key, "f2", START, "t2"), LONG_AGO);
    assert.deepEqual(second, claim(key, "f1", START), "a second claim sees the first, still running");
    await store.completeIdempotencyKey(SCOPE, key, "t1", { status: 200, body: '{"ok":true}' });
    const third = await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t3"), LONG_AGO);
    assert.deepEqual(
      third?.response,
      { status: 200, body: '{"ok":true}' },
      "an answered key is never taken over",
    );
    // Another scope has its own keys.
    assert.equal(
      await store.claimIdempotencyKey(
        { accountId: "acct_other_idem", livemode: false },
        claim(key, "f9", START),
        LONG_AGO,
      ),
      undefined,
    );
    // After retention the key is free again.
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f3", later(1000), "t4"), later(1000).toISOString()),
      undefined,
    );
    // A released key can be claimed again; releasing needs the claim's token.
    await store.releaseIdempotencyKey(SCOPE, key, "not-the-token");
    assert.equal(
      (await store.claimIdempotencyKey(SCOPE, claim(key, "f3", later(1000), "t5"), LONG_AGO))?.token,
      "t4",
    );
    await store.releaseIdempotencyKey(SCOPE, key, "t4");
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f4", later(1000), "t6"), LONG_AGO),
      undefined,
    );
  });

  it("idempotency keys: an unanswered claim whose lease ended is taken over by the same request only", async (store) => {
    if (!isIdempotencyStore(store)) return;
    const key = `idem_lease_${counter++}`;
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START, "t1", 5000), LONG_AGO),
      undefined,
    );
    // Within the lease: the holder is presumed running.
    const during = await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(4999), "t2"), LONG_AGO);
    assert.equal(during?.token, "t1");
    // After the lease, another request (fingerprint) still sees the key as used.
    const other = await store.claimIdempotencyKey(SCOPE, claim(key, "f2", later(5000), "t3"), LONG_AGO);
    assert.equal(other?.token, "t1");
    // The same request takes it over, from the moment the lease ends.
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(5000), "t4"), LONG_AGO),
      undefined,
    );
    // The old holder can neither answer nor release it any more.
    await store.completeIdempotencyKey(SCOPE, key, "t1", { status: 200, body: "old" });
    await store.releaseIdempotencyKey(SCOPE, key, "t1");
    const held = await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(6000), "t5"), LONG_AGO);
    assert.deepEqual(held, claim(key, "f1", later(5000), "t4"));
    await store.completeIdempotencyKey(SCOPE, key, "t4", { status: 201, body: "new" });
    await store.completeIdempotencyKey(SCOPE, key, "t4", { status: 200, body: "again" });
    const done = await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t6"), LONG_AGO);
    assert.deepEqual(done?.response, { status: 201, body: "new" }, "the first answer stays");
  });

  it("idempotency keys: a write stores the key's response atomically, and writes nothing once the claim is lost", async (store, probe) => {
    if (!isIdempotencyStore(store)) return;
    const key = `idem_write_${counter++}`;
    const response = (body: string) => ({ status: 200, body });
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START, "t1", 1000), LONG_AGO),
      undefined,
    );
    // Taken over by a retry after the lease: the first holder's insert writes nothing at all.
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(1000), "t2"), LONG_AGO),
      undefined,
    );
    const lost = samplePayment();
    assert.equal(
      await store.insert(SCOPE, { payment: lost, version: 1 }, [sampleEvent(lost)], {
        key,
        token: "t1",
        response: response("lost"),
      }),
      KEY_LOST,
    );
    assert.equal(await probe.raw(SCOPE, lost.id), undefined, "no payment written for a lost claim");
    assert.deepEqual(await probe.events(SCOPE, lost.id), [], "no event written for a lost claim");
    // The holder's insert writes the payment, its event and the key's response together.
    const created = samplePayment();
    assert.equal(
      await store.insert(SCOPE, { payment: created, version: 1 }, [sampleEvent(created)], {
        key,
        token: "t2",
        response: response("created"),
      }),
      true,
    );
    assert.equal((await probe.raw(SCOPE, created.id))?.version, 1);
    const replay = await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t3"), LONG_AGO);
    assert.deepEqual(replay?.response, response("created"));

    // compare-and-swap: a lost version race stores no response; a won one does; an answered key is lost.
    const key2 = `idem_cas_${counter++}`;
    assert.equal(await store.claimIdempotencyKey(SCOPE, claim(key2, "f1", START, "c1"), LONG_AGO), undefined);
    const canceled = { ...created, status: "canceled" as const, canceledAt: START.toISOString() };
    const write = { key: key2, token: "c1", response: response("canceled") };
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: canceled, version: 3 }, 2, [sampleEvent(canceled)], write),
      false,
    );
    const pending = await store.claimIdempotencyKey(SCOPE, claim(key2, "f1", START, "c2"), LONG_AGO);
    assert.equal(pending?.response, null, "a lost version race stores no response");
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: canceled, version: 2 }, 1, [sampleEvent(canceled)], write),
      true,
    );
    assert.equal((await probe.raw(SCOPE, created.id))?.payment.status, "canceled");
    const answered = await store.claimIdempotencyKey(SCOPE, claim(key2, "f1", START, "c3"), LONG_AGO);
    assert.deepEqual(answered?.response, response("canceled"));
    const again = { ...canceled, updatedAt: later(1).toISOString() };
    assert.equal(
      await store.compareAndSwap(SCOPE, { payment: again, version: 3 }, 2, [sampleEvent(again)], write),
      KEY_LOST,
      "a key that already has its response cannot be answered again",
    );
    assert.equal((await probe.raw(SCOPE, created.id))?.version, 2);
  });

  it(`idempotency keys: ${concurrency} concurrent claims of one key — exactly one wins`, async (store) => {
    if (!isIdempotencyStore(store)) return;
    const key = `idem_race_${counter++}`;
    const claims = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        store.claimIdempotencyKey(SCOPE, claim(key, `f${i}`, START, `t${i}`), LONG_AGO),
      ),
    );
    assert.equal(claims.filter((c) => c === undefined).length, 1);
  });

  it(`idempotency keys: ${concurrency} concurrent takeovers of one expired claim — exactly one wins`, async (store) => {
    if (!isIdempotencyStore(store)) return;
    const key = `idem_takeover_${counter++}`;
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key, "f", START, "dead", 1000), LONG_AGO),
      undefined,
    );
    const claims = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        store.claimIdempotencyKey(SCOPE, claim(key, "f", later(2000), `t${i}`), LONG_AGO),
      ),
    );
    assert.equal(claims.filter((c) => c === undefined).length, 1);
  });

  it("idempotency keys: a command stores its response with its write; a retry after a crash finds it", async (store) => {
    if (!isIdempotencyStore(store)) return;
    const clock = fakeClock(START);
    const links = createPaymentLinks({ store, clock });
    const key = `idem_cmd_${counter++}`;
    assert.equal(await store.claimIdempotencyKey(SCOPE, claim(key, "f", START, "t1"), LONG_AGO), undefined);
    const respond = (payment: Payment) => ({ status: 200, body: JSON.stringify({ id: payment.id }) });
    // The process "dies" after the command: nobody completes the key.
    const created = (
      await links.create(SCOPE, sampleLinkInput(START), { idempotency: { key, token: "t1", respond } })
    )._unsafeUnwrap();
    const retry = await store.claimIdempotencyKey(SCOPE, claim(key, "f", later(60_000), "t2"), LONG_AGO);
    assert.deepEqual(retry?.response, respond(created), "the response was written with the payment");
    // A command whose claim was taken over writes nothing and says so.
    const key2 = `idem_cmd_${counter++}`;
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key2, "f", START, "old", 1), LONG_AGO),
      undefined,
    );
    assert.equal(
      await store.claimIdempotencyKey(SCOPE, claim(key2, "f", later(1), "new"), LONG_AGO),
      undefined,
    );
    const refused = await links.cancel(SCOPE, created.id, {
      idempotency: { key: key2, token: "old", respond },
    });
    assert.equal(refused._unsafeUnwrapErr().code, "conflict");
    assert.equal((await store.get(SCOPE, created.id))?.payment.status, "pending");
  });

  it("laws through the store: cancel twice changes once; charges refuse cancel and write nothing", async (store, probe) => {
    const clock = fakeClock(START);
    const links = createPaymentLinks({ store, clock });
    const link = (await links.create(SCOPE, sampleLinkInput(START)))._unsafeUnwrap();
    const first = (await links.cancel(SCOPE, link.id))._unsafeUnwrap();
    const eventsAfterFirst = await probe.events(SCOPE, link.id);
    const second = (await links.cancel(SCOPE, link.id))._unsafeUnwrap();
    assert.equal(first.changed, true);
    assert.equal(second.changed, false);
    assert.deepEqual(second.payment, first.payment);
    assert.deepEqual(await probe.events(SCOPE, link.id), eventsAfterFirst);
    assert.deepEqual(
      eventsAfterFirst.map((e) => e.type),
      ["payment_link.created", "payment_link.canceled"],
    );

    const charge = (
      await links.create(SCOPE, {
        kind: "charge",
        customerId: "cus_1",
        provider: "stripe",
        amountSubtotal: 5,
        currency: "JPY",
      })
    )._unsafeUnwrap();
    const before = await probe.raw(SCOPE, charge.id);
    const refused = await links.cancel(SCOPE, charge.id);
    assert.equal(refused._unsafeUnwrapErr().code, "charge_not_cancelable");
    assert.deepEqual(await probe.raw(SCOPE, charge.id), before);
    assert.equal((await probe.events(SCOPE, charge.id)).length, 1);
  });

  it(`laws through the store: ${concurrency} racing cancels and payment starts — one winner, at most one changed`, async (store) => {
    const links = createPaymentLinks({ store, clock: fakeClock(START), maxRetries: concurrency + 2 });
    const link = (await links.create(SCOPE, sampleLinkInput(START)))._unsafeUnwrap();
    const racers = Array.from({ length: concurrency }, (_, i) =>
      i % 2 === 0 ? send(links, SCOPE, link.id, "cancel") : send(links, SCOPE, link.id, "startPayment"),
    );
    const results = await Promise.all(racers);
    const cancelsChanged = results.filter((r) => r.ok && r.changed === true).length;
    const startsWon = results.filter((r, i) => i % 2 === 1 && r.ok).length;
    assert.equal(cancelsChanged + startsWon, 1, "exactly one of the racers moved the link");
    const final = (await links.get(SCOPE, link.id))._unsafeUnwrap();
    assert.equal(final.status, cancelsChanged === 1 ? "canceled" : "processing");
    for (const r of results)
      if (!r.ok) assert.ok(["payment_not_cancelable", "link_not_payable"].includes(r.error.code));
  });

  it("laws through the store: random command sequences agree with the model at every step", async (store, probe) => {
    await fc.assert(
      fc.asyncProperty(createInputArb({ now: START }), stepsArb(10), async (input, steps) => {
        const clock = fakeClock(START);
        const links = createPaymentLinks({ store, clock });
        const created = (await links.create(SCOPE, input))._unsafeUnwrap();
        const model: ModelPayment = {
          kind: created.kind,
          status: "pending",
          expiresAt: created.expiresAt === null ? null : Date.parse(created.expiresAt),
          lateEvents: 0,
        };
        for (const step of steps) {
          clock.advance(step.advanceMs);
          const expected = modelStep(model, step.command, clock.now().getTime());
          const actual = await send(links, SCOPE, created.id, step.command);
          if (expected.ok) {
            assert.ok(actual.ok, `${step.command} should succeed, got ${actual.ok ? "" : actual.error.code}`);
            if (actual.ok) assert.equal(actual.payment.status, model.status);
            if (actual.ok && expected.changed !== undefined) assert.equal(actual.changed, expected.changed);
          } else {
            assert.ok(
              !actual.ok && actual.error.code === expected.code,
              `${step.command} should fail ${expected.code}`,
            );
          }
          const persisted = await probe.raw(SCOPE, created.id);
          assert.equal(persisted?.payment.status, model.status);
        }
        const late = (await probe.events(SCOPE, created.id)).filter((e) => e.type.endsWith(".late_payment"));
        assert.equal(late.length, model.lateEvents);
      }),
      { numRuns },
    );
  });
}
