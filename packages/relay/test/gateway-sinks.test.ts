import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createPaymentLinks,
  type Payment,
  type PaymentGateway,
  type PaymentLinks,
  type PaymentStore,
  type Scope,
} from "@paylink/core";
import {
  createTestGateway,
  type TestGateway,
  type TestOutage,
  type TestWebhook,
} from "@paylink/gateway-test";
import {
  createGatewaySinks,
  createRelay,
  type GatewaySinkOutcome,
  type RelayableStore,
  RetryLaterError,
  refundIdempotencyKey,
  type Sink,
} from "@paylink/relay";
import { createMemoryStore } from "@paylink/store-memory";
import { createSqliteStore, type SqliteStore } from "@paylink/store-sqlite";
import { fakeClock, sampleLinkInput } from "@paylink/testing";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";

const scope: Scope = { accountId: "acct_sinks", livemode: false };
const START = new Date("2030-01-01T00:00:00.000Z");
const STOP = "gateway-stop:test";
const REFUND = "gateway-refund:test";

const dir = mkdtempSync(join(tmpdir(), "paylink-gateway-sinks-"));
let files = 0;
const opened: SqliteStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type StoreKind = "memory" | "sqlite";

function openStore(kind: StoreKind, filename = join(dir, `sinks-${++files}.db`)): RelayableStore {
  if (kind === "memory") return createMemoryStore();
  const store = createSqliteStore({ filename });
  opened.push(store);
  return store;
}

interface WorldOptions {
  readonly autoRefundLatePayments?: boolean;
  /** Wraps the gateway the sinks call (faults of one method); the links create through the real one. */
  readonly sinkGateway?: (gateway: TestGateway) => PaymentGateway;
  /** Wraps the store the sinks' own commands write through (a store that fails at a chosen moment). */
  readonly sinkStore?: (store: RelayableStore) => PaymentStore;
}

/** A store, the test provider, the commands, and a relay with the gateway sinks only. */
function world(kind: StoreKind, options: WorldOptions = {}) {
  const store = openStore(kind);
  const clock = fakeClock(START);
  // A hang gives up after 50 ms, not the default 10 s.
  const gateway = createTestGateway({ timeoutMs: 50 });
  const links = createPaymentLinks({ store, gateway, clock });
  const sinkLinks =
    options.sinkStore === undefined
      ? links
      : createPaymentLinks({ store: options.sinkStore(store), gateway, clock });
  const outcomes: GatewaySinkOutcome[] = [];
  const errors: { error: unknown; sink: string }[] = [];
  const sinks = createGatewaySinks({
    links: sinkLinks,
    gateway: options.sinkGateway?.(gateway) ?? gateway,
    onOutcome: (outcome) => outcomes.push(outcome),
    ...(options.autoRefundLatePayments === undefined
      ? {}
      : { autoRefundLatePayments: options.autoRefundLatePayments }),
  });
  const relay = createRelay({ store, sinks, clock, onError: (error, sink) => errors.push({ error, sink }) });

  /** A link made at the test provider: the payment and the provider's reference. */
  async function create(overrides: Record<string, unknown> = {}) {
    const payment = (
      await links.create(scope, sampleLinkInput(START, { provider: gateway.provider, ...overrides }))
    )._unsafeUnwrap();
    const reference = payment.providerState?.reference;
    if (reference == null) throw new Error("the link has no provider object");
    return { payment, reference };
  }

  /** The customer pays at the provider; answers the signed webhook that reports it. */
  async function pay(reference: string): Promise<TestWebhook> {
    const paid = await gateway.pay(reference);
    if (paid.outcome !== "paid") throw new Error(`not paid: ${paid.outcome}`);
    return paid.webhook;
  }

  /** Delivers a provider webhook to Paylink as the application's webhook route does. */
  async function deliver(webhook: TestWebhook): Promise<void> {
    const parsed = await gateway.parseWebhook(webhook.rawBody, webhook.headers);
    if (parsed.outcome !== "verified") throw new Error(`rejected: ${parsed.reason}`);
    for (const event of parsed.events) {
      if (event.type !== "PAYMENT_SUCCEEDED" || event.paymentReference === undefined) continue;
      const providerPayment = { reference: event.paymentReference };
      (await links.paymentSucceeded(scope, event.paylinkId, { providerPayment }))._unsafeUnwrap();
    }
  }

  const get = async (id: string): Promise<Payment> => (await links.get(scope, id))._unsafeUnwrap();
  /** The outbox's event types of payment `id`, oldest first. */
  const eventTypes = async (id: string) =>
    (await store.readEvents(0, 10_000)).filter((e) => e.event.paymentId === id).map((e) => e.event.type);
  const count = async (id: string, type: string) => (await eventTypes(id)).filter((t) => t === type).length;

  return { store, clock, gateway, links, sinks, relay, outcomes, errors, create, pay, deliver, get, count };
}

/** `store` with the cursor of sink `name` lost: every claim answers position 0 (a restored backup, say). */
function fromZero(store: RelayableStore, name: string): RelayableStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== "claimSink") return value;
      return async (...args: Parameters<RelayableStore["claimSink"]>) => {
        const position = await target.claimSink(...args);
        return args[0] === name && position !== undefined ? 0 : position;
      };
    },
  });
}

const caughtUp = (name: string, delivered?: number) => ({
  sink: name,
  outcome: "caught_up",
  ...(delivered === undefined ? {} : { delivered }),
});

describe.each<StoreKind>(["memory", "sqlite"])("the gateway sinks over the %s store", (kind) => {
  it("a cancel of a gateway link stops it at the provider and records the stop confirmed", async () => {
    const w = world(kind);
    const { payment, reference } = await w.create();
    await w.links.cancel(scope, payment.id);
    expect((await w.get(payment.id)).providerState?.stop).toBe("pending");
    expect(w.gateway.link(reference)?.status).toBe("open");

    // created, canceled, and the provider_stopped that the stop wrote (the sink reads on past it).
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP, 3), caughtUp(REFUND, 3)]);
    expect(w.gateway.link(reference)?.status).toBe("stopped");
    const after = await w.get(payment.id);
    expect(after.status).toBe("canceled");
    expect(after.providerState).toMatchObject({ stop: "confirmed", stopDetail: null, refund: "none" });
    expect(await w.count(payment.id, "payment_link.provider_stopped")).toBe(1);
    expect(w.outcomes).toEqual([{ sink: "stop", paymentId: payment.id, reference, outcome: "stopped" }]);

    // The provider_stopped event itself is no stop to carry out; nothing is handed twice.
    await w.relay.runOnce();
    expect(w.outcomes).toHaveLength(1);
    expect(await w.count(payment.id, "payment_link.provider_stopped")).toBe(1);
  });

  it("an expired gateway link is stopped the same way", async () => {
    const w = world(kind);
    const { payment, reference } = await w.create();
    w.clock.advance(3_600_000);
    expect((await w.get(payment.id)).status).toBe("expired"); // the lazy expiry writes the event
    await w.relay.runOnce();
    expect(w.gateway.link(reference)?.status).toBe("stopped");
    expect((await w.get(payment.id)).providerState?.stop).toBe("confirmed");
    expect(await w.count(payment.id, "payment_link.provider_stopped")).toBe(1);
  });

  it.each<TestOutage>(["refused", "500", "429", "hang"])(
    "a provider outage (%s) fails the run and keeps the local cancel; after restore() the next run stops it",
    async (fault) => {
      const w = world(kind);
      const { payment, reference } = await w.create();
      await w.links.cancel(scope, payment.id);
      w.gateway.outage(fault);

      const [stop] = await w.relay.runOnce();
      expect(stop).toMatchObject({ sink: STOP, outcome: "failed" });
      const held = await w.get(payment.id);
      expect(held.status).toBe("canceled");
      expect(held.providerState?.stop).toBe("pending");
      expect(w.gateway.link(reference)?.status).toBe("open");
      const failure = w.errors.find((e) => e.sink === STOP)?.error;
      expect(failure).toBeInstanceOf(RetryLaterError);
      expect((failure as RetryLaterError).retryAfterMs).toBe(fault === "429" ? 2_000 : undefined);

      w.gateway.restore();
      expect((await w.relay.runOnce())[0]).toMatchObject(caughtUp(STOP));
      expect(w.gateway.link(reference)?.status).toBe("stopped");
      expect((await w.get(payment.id)).providerState?.stop).toBe("confirmed");
      expect(await w.count(payment.id, "payment_link.provider_stopped")).toBe(1);
    },
  );

  it("the customer pays between the local cancel and the stop: one late payment, one refund, however often the webhook comes", async () => {
    const w = world(kind);
    const { payment, reference } = await w.create();
    await w.links.cancel(scope, payment.id);
    const webhook = await w.pay(reference);
    const paymentReference = w.gateway.link(reference)?.paymentReference;
    // The provider's webhook, three times, before the stop reaches the provider.
    for (let i = 0; i < 3; i++) await w.deliver(webhook);
    expect(await w.count(payment.id, "payment_link.late_payment")).toBe(1);

    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP), caughtUp(REFUND)]);
    // And three times after it.
    for (let i = 0; i < 3; i++) await w.deliver(webhook);
    await w.relay.runOnce();

    const after = await w.get(payment.id);
    expect(after.status).toBe("canceled");
    expect(after.providerState).toMatchObject({
      stop: "confirmed",
      paymentReference,
      refund: "succeeded",
    });
    const refunds = w.gateway.link(reference)?.refunds ?? [];
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({
      paymentReference,
      amount: payment.amountTotal,
      currency: payment.currency,
      idempotencyKey: refundIdempotencyKey("test", paymentReference!),
      metadata: { paylink_id: payment.id },
    });
    expect(after.providerState?.refundReference).toBe(refunds[0]!.reference);
    expect(await w.count(payment.id, "payment_link.late_payment")).toBe(1);
    expect(await w.count(payment.id, "payment_link.refunded")).toBe(1);
    expect(await w.count(payment.id, "payment_link.provider_stopped")).toBe(1);
  });

  it("two different provider payments on one canceled link (two sessions open at once): each is refunded once", async () => {
    const refunds: { paymentReference: string; idempotencyKey: string }[] = [];
    const w = world(kind, {
      // A provider that took two payments on one object: its refund answers any payment of it.
      sinkGateway: (gateway) => ({
        ...gateway,
        refund: async ({ paymentReference, idempotencyKey }) => {
          if (!refunds.some((r) => r.idempotencyKey === idempotencyKey))
            refunds.push({ paymentReference, idempotencyKey });
          return { outcome: "succeeded", reference: `re_${paymentReference}` };
        },
      }),
    });
    const { payment } = await w.create();
    await w.links.cancel(scope, payment.id);
    // The first reported again after the second (another webhook event for it): nothing more.
    for (const reference of ["pi_first", "pi_second", "pi_first"]) {
      await w.links.paymentSucceeded(scope, payment.id, { providerPayment: { reference } });
      await w.relay.runOnce();
      await w.relay.runOnce();
    }
    expect(refunds.map((r) => r.paymentReference)).toEqual(["pi_first", "pi_second"]);
    expect(await w.count(payment.id, "payment_link.late_payment")).toBe(2);
    expect(await w.count(payment.id, "payment_link.refunded")).toBe(2);
    expect((await w.get(payment.id)).providerState).toMatchObject({
      paymentReference: "pi_second",
      refund: "succeeded",
      refundReference: "re_pi_second",
    });
  });

  it("a stop that finds the link paid records the late payment itself; the webhook after it adds nothing", async () => {
    const w = world(kind);
    const { payment, reference } = await w.create();
    await w.links.cancel(scope, payment.id);
    const webhook = await w.pay(reference);
    // No webhook yet: the stop is the first to learn of the payment.
    await w.relay.runOnce();
    expect(w.outcomes.find((o) => o.sink === "stop")).toMatchObject({
      outcome: "already_paid",
      paymentReference: w.gateway.link(reference)?.paymentReference,
    });
    expect(await w.count(payment.id, "payment_link.late_payment")).toBe(1);
    // The stop sink runs first, so the refund sink refunds the late payment in the same run.
    expect(w.gateway.link(reference)?.refunds).toHaveLength(1);
    for (let i = 0; i < 3; i++) await w.deliver(webhook);
    await w.relay.runOnce();
    expect(await w.count(payment.id, "payment_link.late_payment")).toBe(1);
    expect(w.gateway.link(reference)?.refunds).toHaveLength(1);
    expect((await w.get(payment.id)).providerState).toMatchObject({ stop: "confirmed", refund: "succeeded" });
  });

  it("with autoRefundLatePayments false there is no refund sink: the late payment stays for the merchant", async () => {
    const w = world(kind, { autoRefundLatePayments: false });
    expect(w.sinks.map((s) => s.name)).toEqual([STOP]);
    const { payment, reference } = await w.create();
    await w.links.cancel(scope, payment.id);
    await w.deliver(await w.pay(reference));
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP)]);
    expect(w.gateway.link(reference)?.refunds).toEqual([]);
    const after = await w.get(payment.id);
    expect(after.providerState).toMatchObject({ stop: "confirmed", refund: "none" });
    expect(await w.count(payment.id, "payment_link.late_payment")).toBe(1);
  });

  it("a refused stop is recorded refused, and the cancels after it still reach the provider", async () => {
    const refusedReferences = new Set<string>();
    let stops = 0;
    const w = world(kind, {
      sinkGateway: (gateway) => ({
        ...gateway,
        stopLink: async (reference) => {
          stops++;
          return refusedReferences.has(reference)
            ? { outcome: "refused", reason: "resource_missing: not this account's link" }
            : gateway.stopLink(reference);
        },
      }),
    });
    const a = await w.create();
    const b = await w.create();
    refusedReferences.add(a.reference);
    await w.links.cancel(scope, a.payment.id);
    await w.links.cancel(scope, b.payment.id);
    expect((await w.relay.runOnce())[0]).toMatchObject(caughtUp(STOP));
    expect((await w.get(a.payment.id)).providerState).toMatchObject({
      stop: "refused",
      stopDetail: "resource_missing: not this account's link",
    });
    expect(await w.count(a.payment.id, "payment_link.provider_stop_refused")).toBe(1);
    expect((await w.get(b.payment.id)).providerState?.stop).toBe("confirmed");
    expect(w.gateway.link(b.reference)?.status).toBe("stopped");

    const c = await w.create();
    await w.links.cancel(scope, c.payment.id);
    await w.relay.runOnce();
    expect((await w.get(c.payment.id)).providerState?.stop).toBe("confirmed");
    expect(w.gateway.link(c.reference)?.status).toBe("stopped");
    // The refused one is not tried again.
    expect(stops).toBe(3);
    expect(await w.count(a.payment.id, "payment_link.provider_stop_refused")).toBe(1);

    // The stop sink's cursor lost: every cancel is handed again, and none goes to the provider again.
    w.clock.advance(60_000);
    const replay = createRelay({ store: fromZero(w.store, STOP), sinks: w.sinks, clock: w.clock });
    expect((await replay.runOnce())[0]).toMatchObject(caughtUp(STOP));
    expect(stops).toBe(3);
    expect(w.outcomes.slice(-3).map((o) => o.outcome)).toEqual([
      "already_recorded",
      "already_recorded",
      "already_recorded",
    ]);
  });

  it("a refused refund is recorded refused and the refund sink goes on", async () => {
    const w = world(kind, {
      sinkGateway: (gateway) => ({
        ...gateway,
        refund: async () => ({ outcome: "refused", reason: "charge_disputed: the payment is disputed" }),
      }),
    });
    const { payment, reference } = await w.create();
    await w.links.cancel(scope, payment.id);
    await w.deliver(await w.pay(reference));
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP), caughtUp(REFUND)]);
    expect((await w.get(payment.id)).providerState).toMatchObject({
      refund: "refused",
      refundDetail: "charge_disputed: the payment is disputed",
    });
    expect(await w.count(payment.id, "payment_link.refund_refused")).toBe(1);
  });

  it("a refund outage never holds up a stop: each sink has its own cursor and backoff", async () => {
    let refundsDown = true;
    const w = world(kind, {
      sinkGateway: (gateway) => ({
        ...gateway,
        refund: async (request) =>
          refundsDown ? { outcome: "retry_later", detail: "HTTP 503" } : gateway.refund(request),
      }),
    });
    const late = await w.create();
    await w.links.cancel(scope, late.payment.id);
    await w.deliver(await w.pay(late.reference));
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP), { sink: REFUND, outcome: "failed" }]);
    const next = await w.create();
    await w.links.cancel(scope, next.payment.id);
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP), { sink: REFUND, outcome: "failed" }]);
    expect(w.gateway.link(next.reference)?.status).toBe("stopped");
    expect(w.gateway.link(late.reference)?.refunds).toEqual([]);
    refundsDown = false;
    expect((await w.relay.runOnce())[1]).toMatchObject(caughtUp(REFUND));
    expect(w.gateway.link(late.reference)?.refunds).toHaveLength(1);
  });

  it("ignores links of other providers and payments made without a gateway", async () => {
    const w = world(kind);
    let stops = 0;
    const other: PaymentGateway = {
      ...w.gateway,
      provider: "other",
      stopLink: async (reference) => {
        stops++;
        return w.gateway.stopLink(reference);
      },
    };
    const theirs = createPaymentLinks({ store: w.store, gateway: other, clock: w.clock });
    const plain = createPaymentLinks({ store: w.store, clock: w.clock });
    const a = (await theirs.create(scope, sampleLinkInput(START, { provider: "other" })))._unsafeUnwrap();
    const b = (await plain.create(scope, sampleLinkInput(START, { provider: "test" })))._unsafeUnwrap();
    await w.links.cancel(scope, a.id);
    await w.links.cancel(scope, b.id);
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP, 4), caughtUp(REFUND, 4)]);
    expect(w.outcomes).toEqual([]);
    expect(stops).toBe(0);
    expect((await w.get(a.id)).providerState?.stop).toBe("pending");
    expect((await w.get(b.id)).providerState).toBeUndefined();
  });
});

/** A store whose payment writes fail while `down.writes` > 0 (one fewer per write): it died after a call. */
function failingWrites(store: RelayableStore, down: { writes: number; when?: (next: Payment) => boolean }) {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== "compareAndSwap") return value;
      return (...args: Parameters<PaymentStore["compareAndSwap"]>) => {
        if (down.writes > 0 && (down.when?.(args[1].payment) ?? true)) {
          down.writes--;
          return Promise.reject(new Error("the store went away"));
        }
        return target.compareAndSwap(...args);
      };
    },
  });
}

describe("the refund is made once when Paylink dies between the provider's call and its record", () => {
  it("a store failure after the refund: the batch comes again and the provider answers the same refund", async () => {
    const down = { writes: 1, when: (next: Payment) => next.providerState?.refund !== "none" };
    const w = world("memory", { sinkStore: (store) => failingWrites(store, down) });
    const { payment, reference } = await w.create();
    await w.links.cancel(scope, payment.id);
    await w.deliver(await w.pay(reference));
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP), { sink: REFUND, outcome: "failed" }]);
    expect(w.gateway.link(reference)?.refunds).toHaveLength(1);
    expect((await w.get(payment.id)).providerState?.refund).toBe("none");
    expect(await w.relay.runOnce()).toMatchObject([caughtUp(STOP), caughtUp(REFUND)]);
    expect(w.gateway.link(reference)?.refunds).toHaveLength(1);
    expect((await w.get(payment.id)).providerState).toMatchObject({
      refund: "succeeded",
      refundReference: w.gateway.link(reference)?.refunds[0]?.reference,
    });
  });

  it("a kill -9 after the refund, then a new process on the SQLite file: one refund; a cursor lost to 0 too", async () => {
    const filename = join(dir, `restart-${++files}.db`);
    const clock = fakeClock(START);
    const gateway = createTestGateway();
    const first = openStore("sqlite", filename);
    const links = createPaymentLinks({ store: first, gateway, clock });
    const payment = (await links.create(scope, sampleLinkInput(START, { provider: "test" })))._unsafeUnwrap();
    const reference = payment.providerState!.reference!;
    await links.cancel(scope, payment.id);
    const paid = await gateway.pay(reference);
    if (paid.outcome !== "paid") throw new Error(paid.outcome);
    // The process dies right after the provider refunded: its record never reaches the database.
    const dying: PaymentLinks = {
      ...links,
      recordRefund: () => {
        throw new Error("kill -9");
      },
    };
    const before = createRelay({
      store: first,
      sinks: createGatewaySinks({ links: dying, gateway }),
      owner: "before",
      clock,
      onError: () => undefined,
    });
    expect((await before.runOnce())[1]).toMatchObject({ sink: REFUND, outcome: "failed" });
    expect(gateway.link(reference)?.refunds).toHaveLength(1);

    // A new process on the same file, once the dead one's lease has lapsed.
    clock.advance(60_000);
    const second = openStore("sqlite", filename);
    const relinked = createPaymentLinks({ store: second, gateway, clock });
    const outcomes: GatewaySinkOutcome[] = [];
    const sinks = createGatewaySinks({ links: relinked, gateway, onOutcome: (o) => outcomes.push(o) });
    const after = createRelay({ store: second, sinks, owner: "after", clock });
    expect((await after.runOnce())[1]).toMatchObject(caughtUp(REFUND));
    expect(gateway.link(reference)?.refunds).toHaveLength(1);
    const recorded = (await relinked.get(scope, payment.id))._unsafeUnwrap().providerState;
    expect(recorded).toMatchObject({ refund: "succeeded", paymentReference: paid.paymentReference });
    expect(outcomes.filter((o) => o.sink === "refund")).toEqual([
      expect.objectContaining({ outcome: "succeeded" }),
    ]);

    // The refund sink's cursor lost (a restored backup): the whole outbox is handed again.
    clock.advance(60_000);
    const replay = createRelay({ store: fromZero(second, REFUND), sinks, owner: "replay", clock });
    const runs = await replay.runOnce();
    expect(runs[1]).toMatchObject(caughtUp(REFUND));
    expect(runs[1]!.delivered).toBeGreaterThan(0);
    expect(gateway.link(reference)?.refunds).toHaveLength(1);
    expect(outcomes.filter((o) => o.sink === "refund").map((o) => o.outcome)).toEqual([
      "succeeded",
      "already_recorded",
    ]);
  });
});

describe("the relay honours a sink's retry hint", () => {
  /** Lets the relay's promises settle (setImmediate is left real by the fake timers). */
  const settle = async (until: () => boolean) => {
    for (let i = 0; i < 200 && !until(); i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it("a 429's retryAfterMs: the stop is tried again no sooner than the provider asked", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    try {
      const store = createMemoryStore();
      const gateway = createTestGateway();
      const links = createPaymentLinks({ store, gateway });
      const stops: number[] = [];
      const counted: PaymentGateway = {
        ...gateway,
        stopLink: (reference) => {
          stops.push(Date.now());
          return gateway.stopLink(reference);
        },
      };
      const failures: unknown[] = [];
      const relay = createRelay({
        store,
        sinks: createGatewaySinks({ links, gateway: counted }),
        // Without the hint the stop would be tried again after 10 ms.
        backoff: { firstMs: 10, maxMs: 60_000 },
        pollMs: 100,
        onError: (error) => failures.push(error),
      });
      const payment = (
        await links.create(scope, sampleLinkInput(new Date(), { provider: "test" }))
      )._unsafeUnwrap();
      await links.cancel(scope, payment.id);
      gateway.outage("429");
      relay.start();
      await settle(() => failures.length === 1);
      expect(stops).toHaveLength(1);
      gateway.restore();

      await vi.advanceTimersByTimeAsync(1_900);
      await settle(() => stops.length > 1);
      expect(stops).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(200);
      await settle(() => stops.length > 1);
      expect(stops).toHaveLength(2);
      expect(stops[1]! - stops[0]!).toBeGreaterThanOrEqual(2_000);
      await settle(() => false);
      await relay.stop();
      const stopped = (await links.get(scope, payment.id))._unsafeUnwrap();
      expect(stopped.providerState?.stop).toBe("confirmed");
    } finally {
      vi.useRealTimers();
    }
  });

  it("any sink may give one (duck-typed); it is capped at backoff.maxMs, and a non-finite one is ignored", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    try {
      const store = createMemoryStore();
      const links = createPaymentLinks({ store });
      await links.create(scope, sampleLinkInput(new Date()));
      const calls: Record<string, number> = { capped: 0, infinite: 0 };
      const hinting = (name: string, retryAfterMs: number): Sink => ({
        name,
        async deliver() {
          calls[name]!++;
          throw Object.assign(new Error(`${name} is busy`), { retryAfterMs });
        },
      });
      const relay = createRelay({
        store,
        sinks: [hinting("capped", 3_600_000), hinting("infinite", Number.POSITIVE_INFINITY)],
        backoff: { firstMs: 50, maxMs: 3_000 },
        pollMs: 100,
        onError: () => undefined,
      });
      relay.start();
      await settle(() => calls.capped === 1 && calls.infinite === 1);
      await vi.advanceTimersByTimeAsync(2_900);
      await settle(() => false);
      expect(calls.capped).toBe(1);
      // The infinite hint is ignored: the sink backs off as any other (50, 100, 200 … ms).
      expect(calls.infinite).toBeGreaterThan(3);
      await vi.advanceTimersByTimeAsync(200);
      await settle(() => calls.capped! > 1);
      expect(calls.capped).toBe(2);
      await relay.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

type Step =
  | { readonly kind: "cancel" }
  | { readonly kind: "expire" }
  | { readonly kind: "pay" }
  | { readonly kind: "webhook"; readonly times: number }
  | { readonly kind: "run" }
  | { readonly kind: "outage"; readonly fault: TestOutage }
  | { readonly kind: "restore" }
  /** The sinks' store fails its `nth` next payment write (Paylink dies between a call and its record). */
  | { readonly kind: "crash"; readonly nth: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: "cancel" } as const),
  fc.constant({ kind: "expire" } as const),
  fc.constant({ kind: "pay" } as const),
  fc.integer({ min: 1, max: 3 }).map((times) => ({ kind: "webhook", times }) as const),
  { arbitrary: fc.constant({ kind: "run" } as const), weight: 2 },
  fc
    .constantFrom<TestOutage>("refused", "500", "429", "hang")
    .map((fault) => ({ kind: "outage", fault }) as const),
  fc.constant({ kind: "restore" } as const),
  fc.integer({ min: 1, max: 3 }).map((nth) => ({ kind: "crash", nth }) as const),
);

describe("the gateway sinks, property", () => {
  it("any interleaving ends with the provider link unpayable once canceled, and one refund exactly when money came in on a canceled link", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 14 }), async (steps) => {
        const store = createMemoryStore();
        const clock = fakeClock(START);
        const gateway = createTestGateway({ timeoutMs: 2 });
        const links = createPaymentLinks({ store, gateway, clock });
        // The sinks write through a store that can die at a chosen write: a write counted down to 0 fails.
        const crash = { countdown: 0 };
        const sinkStore = new Proxy(store, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver);
            if (property !== "compareAndSwap") return value;
            return (...args: Parameters<PaymentStore["compareAndSwap"]>) => {
              if (crash.countdown > 0 && --crash.countdown === 0) return Promise.reject(new Error("killed"));
              return target.compareAndSwap(...args);
            };
          },
        });
        const sinkLinks = createPaymentLinks({ store: sinkStore, gateway, clock });
        const relay = createRelay({
          store,
          sinks: createGatewaySinks({ links: sinkLinks, gateway }),
          clock,
          onError: () => undefined,
        });
        const payment = (
          await links.create(scope, sampleLinkInput(START, { provider: "test" }))
        )._unsafeUnwrap();
        const reference = payment.providerState!.reference!;
        const webhooks: TestWebhook[] = [];

        for (const step of steps) {
          switch (step.kind) {
            case "cancel":
              await links.cancel(scope, payment.id);
              break;
            case "expire":
              clock.advance(3_600_000);
              await links.get(scope, payment.id);
              break;
            case "pay": {
              const paid = await gateway.pay(reference);
              if (paid.outcome === "paid") webhooks.push(paid.webhook);
              break;
            }
            case "webhook":
              for (const webhook of webhooks) {
                const parsed = await gateway.parseWebhook(webhook.rawBody, webhook.headers);
                if (parsed.outcome !== "verified") throw new Error(parsed.reason);
                for (let i = 0; i < step.times; i++) {
                  for (const event of parsed.events) {
                    if (event.type !== "PAYMENT_SUCCEEDED") continue;
                    const providerPayment = { reference: event.paymentReference! };
                    (
                      await links.paymentSucceeded(scope, event.paylinkId, { providerPayment })
                    )._unsafeUnwrap();
                  }
                }
              }
              break;
            case "run":
              await relay.runOnce();
              break;
            case "outage":
              gateway.outage(step.fault);
              break;
            case "restore":
              gateway.restore();
              break;
            case "crash":
              crash.countdown = step.nth;
              break;
          }
        }
        gateway.restore();
        crash.countdown = 0;
        await relay.runOnce();

        const local = (await links.get(scope, payment.id))._unsafeUnwrap();
        const remote = gateway.link(reference)!;
        const canceled = local.status === "canceled" || local.status === "expired";
        if (canceled) {
          expect(remote.status).not.toBe("open");
          expect(local.providerState?.stop).toBe("confirmed");
        }
        const perPayment = new Map<string, number>();
        for (const refund of remote.refunds)
          perPayment.set(refund.paymentReference, (perPayment.get(refund.paymentReference) ?? 0) + 1);
        for (const count of perPayment.values()) expect(count).toBe(1);
        const tookMoneyOnCanceledLink = canceled && remote.status === "paid";
        expect(remote.refunds).toHaveLength(tookMoneyOnCanceledLink ? 1 : 0);
        if (tookMoneyOnCanceledLink) {
          expect(local.providerState).toMatchObject({
            paymentReference: remote.paymentReference,
            refund: "succeeded",
            refundReference: remote.refunds[0]!.reference,
          });
        } else {
          expect(local.providerState?.refund).toBe("none");
        }
      }),
      {
        numRuns: 60,
        // The crash that only an idempotency key from the provider payment survives: the refund is made,
        // its record fails (the third write of the sinks), and the batch comes again.
        examples: [[[{ kind: "pay" }, { kind: "cancel" }, { kind: "crash", nth: 3 }, { kind: "run" }]]],
      },
    );
  }, 60_000);
});
